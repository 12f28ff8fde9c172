# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Fleet sources (no ROS): per-source pairing, joining and leaving, policy versions, segments."""

import numpy as np
import pytest

from robotrl_ros.agents.registry import make_agent
from robotrl_ros.policy.artifact import load_artifact
from robotrl_ros.tasks.registry import make_task
from robotrl_ros.training.config import load_config
from robotrl_ros.training.online import sources as sources_module
from robotrl_ros.training.online.base_signals import BaseSignalMatcher
from robotrl_ros.training.online.pairing import TransitionPairer
from robotrl_ros.training.online.session import OnlineSession, SessionConfig
from robotrl_ros.training.online.sources import PolicyVersions, SourceSet

DT = 0.1
GOALS = {'robot1': np.array([0.5, 0.0, 0.0]), 'robot2': np.array([-0.5, 0.2, 0.0])}


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _sources(names=('robot1', 'robot2'), timeout=5.0, segments=False, clock=None):
    task = make_task('reach')
    return SourceSet(names, lambda: TransitionPairer(task, use_resets=False), BaseSignalMatcher,
                     timeout, segments=segments, clock=clock or Clock())


def _step(sources, name, k, x, command=(0.1, 0.0, 0.0)):
    """Source ``name``: joint state number ``k`` (position (x, 0, 0)), then a command on it."""
    source = sources.heard(name)
    if k == 0:
        source.pairer.on_goal(GOALS[name])
    tr = source.pairer.on_joint_state(k * DT, [x, 0.0, 0.0], [0.0, 0.0, 0.0])
    source.pairer.on_command(np.array(command))
    return [] if tr is None else sources.accept(source, tr)


def test_interleaved_sources_pair_their_own_states_and_goals():
    sources = _sources()
    out = []
    for k in range(6):   # two robots with the same stamps, interleaved message by message
        out += _step(sources, 'robot1', k, 0.01 * k)
        out += _step(sources, 'robot2', k, -0.02 * k)
    assert sorted({tr.source for tr in out}) == ['robot1', 'robot2']
    for tr in out:
        sign = 1.0 if tr.source == 'robot1' else -1.0
        assert sign * (tr.next_obs[0] - tr.obs[0]) > 0   # its own robot's next state
        np.testing.assert_allclose(tr.obs[-3:] + tr.obs[:3], GOALS[tr.source], atol=1e-6)
    status = sources.status()
    assert status['robot1']['accepted'] == status['robot2']['accepted'] == 5
    assert all(not entry['drops'] for entry in status.values())


def test_a_silent_source_leaves_and_rejoins_with_fresh_pairing():
    clock = Clock()
    sources = _sources(clock=clock)
    for k in range(3):
        _step(sources, 'robot1', k, 0.01 * k)
        _step(sources, 'robot2', k, 0.01 * k)
    clock.now += 3.0
    _step(sources, 'robot1', 3, 0.03)
    assert sources.expire() == ([], [])
    clock.now += 3.0   # robot2 silent for 6 s > timeout, robot1 for 3 s
    assert sources.expire() == (['robot2'], [])
    assert not sources['robot2'].active and sources['robot1'].active
    # A restarted simulator stamps from 0 again: a fresh pairer, not "out of order" forever.
    out = []
    for k in range(3):
        out += _step(sources, 'robot2', k, 0.01 * k)
    assert len(out) == 2 and sources['robot2'].joins == 2 and sources['robot2'].active
    assert 'dropped_out_of_order_state' not in sources['robot2'].pairer.counters()


def test_a_source_the_trainer_paused_is_silent_but_stays():
    # Backpressure pauses a simulator (sim_bridge/enable): it publishes nothing meanwhile.
    clock = Clock()
    sources = _sources(clock=clock)
    _step(sources, 'robot1', 0, 0.0)
    sources.set_paused('robot1', True)
    clock.now += 60.0
    assert sources.expire() == ([], []) and sources['robot1'].active
    sources.set_paused('robot1', False)   # silence counts from the resume on
    clock.now += 3.0
    assert sources.expire() == ([], [])
    clock.now += 3.0                      # a bridge that died while paused still leaves
    assert sources.expire() == (['robot1'], []) and sources['robot1'].joins == 1


def test_no_timeout_never_drops_a_source():
    clock = Clock()
    sources = _sources(timeout=0.0, clock=clock)
    _step(sources, 'robot1', 0, 0.0)
    clock.now += 1e6
    assert sources.expire() == ([], []) and sources['robot1'].active


@pytest.mark.parametrize(('names', 'message'), [
    (['robot1', 'robot1'], 'must be distinct'),
    (['robot1', '1robot'], "'1robot' is not a ROS namespace"),
    (['robot 2'], "'robot 2' is not a ROS namespace"),
    ([], 'must be distinct'),
])
def test_bad_namespaces_are_named(names, message):
    with pytest.raises(ValueError, match=message):
        _sources(names=names)


def test_negative_timeout_is_refused():
    with pytest.raises(ValueError, match='source_timeout must be >= 0'):
        _sources(timeout=-1.0)


def test_on_policy_segments_are_contiguous_and_cut_where_no_episode_ended(monkeypatch):
    monkeypatch.setattr(sources_module, 'SEGMENT', 50)
    clock = Clock()
    sources = _sources(segments=True, clock=clock)
    out = []
    for k in range(60):   # 59 transitions each, no episode end (reach: 200 steps)
        out += _step(sources, 'robot1', k, 0.0)
        out += _step(sources, 'robot2', k, 0.0)
    # Each source's first 50 came out together, the last one cut (the agent bootstraps there).
    assert [tr.source for tr in out] == ['robot1'] * 50 + ['robot2'] * 50
    assert [i for i, tr in enumerate(out) if tr.cut] == [49, 99]
    assert [tr.stamp for tr in out[:50]] == sorted(tr.stamp for tr in out[:50])
    clock.now += 10.0   # both leave: what they hold is released, cut at its end
    left, released = sources.expire()
    assert left == ['robot1', 'robot2'] and len(released) == 2 * 9
    assert [i for i, tr in enumerate(released) if tr.cut] == [8, 17]


def test_an_episode_end_releases_the_segment_uncut():
    sources = _sources(segments=True)
    out = []
    for k in range(make_task('reach').spec.max_episode_steps + 1):
        out += _step(sources, 'robot1', k, 0.0)
    assert len(out) == make_task('reach').spec.max_episode_steps
    assert out[-1].truncated and not any(tr.cut for tr in out)


def test_policy_versions_by_hash_or_path_and_on_policy_age(tmp_path):
    versions = PolicyVersions()
    assert versions.lookup('abc', None) == -1 and not versions.too_old_for_on_policy(-1)
    versions.register(10, tmp_path / 'policy_10')     # not loadable: known by its path only
    versions.register(20, tmp_path / 'policy_20')
    assert versions.lookup(None, str(tmp_path / 'policy_10')) == 10
    assert versions.lookup('unknown', str(tmp_path / 'nothing')) == -1
    assert versions.too_old_for_on_policy(10)          # acted before the newest update
    assert not versions.too_old_for_on_policy(20)
    versions.register(30, tmp_path / 'policy_30')
    assert versions.too_old_for_on_policy(20) and not versions.too_old_for_on_policy(30)
    assert not versions.too_old_for_on_policy(-1)      # unknown: never dropped


def test_session_tags_transitions_and_reports_every_source(tmp_path):
    cfg = SessionConfig(task='reach', algo='sac', output_dir=str(tmp_path), use_resets=False,
                        sources=('robot1', 'robot2'), source_timeout=5.0)
    spec = make_task('reach').spec
    agent = make_agent('sac', spec, load_config('reach', 'sac').agent, 0)
    session = OnlineSession(cfg, agent)
    for name, goal in GOALS.items():
        session.goal(goal, 0.0, 0, name)
    for k in range(5):
        for name in GOALS:
            session.joint_state(k * DT, spec.joint_names, np.array([0.01 * k, 0, 0]),
                                np.zeros(3), 0, name)
            session.command(np.array([0.1, 0.0, 0.0]), 0, name)
    session.source_policy('robot2', None, str(tmp_path / 'nowhere'))
    assert {tr.source for tr in session.inbox} == {'robot1', 'robot2'}
    while session.backlog():
        session.learn()
    status = session.status()
    assert status['accepted'] == 8 and status['transitions'] == 8
    assert status['sources']['robot1']['accepted'] == 4
    assert status['sources']['robot2']['policy_version'] == -1
    assert status['pairing']['paired'] == 8   # summed over the sources
    with pytest.raises(ValueError, match=r"record_mcap: no topic names for source\(s\) \['a', "
                                         r"'b'\]"):   # each robot records under its own names
        OnlineSession(SessionConfig(output_dir=str(tmp_path / 'rec'), record_mcap=True,
                                    sources=('a', 'b')), agent)
    session.close()


def test_on_policy_session_drops_transitions_of_an_older_policy(tmp_path):
    cfg = SessionConfig(task='reach', algo='ppo', output_dir=str(tmp_path), use_resets=False,
                        sources=('robot1', 'robot2'))
    spec = make_task('reach').spec
    session = OnlineSession(cfg, make_agent('ppo', spec, load_config('reach', 'ppo').agent, 0))
    for updates in (10, 20, 30):
        session.versions.register(updates, tmp_path / f'policy_{updates}')
    session.source_policy('robot1', None, str(tmp_path / 'policy_20'))   # one update behind
    session.source_policy('robot2', None, str(tmp_path / 'policy_30'))   # the newest: kept
    # The trainer waits (pauses robot1's simulator) until robot1 reports policy 30.
    assert session.stale_policy('robot1') == 30 and session.stale_policy('robot2') == -1
    for name, goal in GOALS.items():
        session.goal(goal, 0.0, 0, name)
    for k in range(spec.max_episode_steps + 1):   # one whole episode each: released at its end
        for name in GOALS:
            session.joint_state(k * DT, spec.joint_names, np.zeros(3), np.zeros(3), 0, name)
            session.command(np.array([0.1, 0.0, 0.0]), 0, name)
    while session.backlog():
        session.learn(chunk=50)
    status = session.status()
    assert status['sources']['robot1']['drops']['old_policy'] == spec.max_episode_steps
    assert 'old_policy' not in status['sources']['robot2']['drops']
    assert status['transitions'] == spec.max_episode_steps   # robot2's only
    facts = load_artifact(session.publish()).metadata['provenance']
    assert facts['transitions'] == spec.max_episode_steps     # learned from
    assert facts['accepted_transitions'] == 2 * spec.max_episode_steps   # acted: robot time
    session.close()


def test_on_policy_session_holds_the_rollout_from_full_until_the_update_is_published(tmp_path):
    cfg = SessionConfig(task='reach', algo='ppo', output_dir=str(tmp_path), use_resets=False)
    spec = make_task('reach').spec
    hparams = dict(load_config('reach', 'ppo').agent, n_steps=8)
    session = OnlineSession(cfg, make_agent('ppo', spec, hparams, 0))
    session.publish()                            # the initial policy
    session.goal(GOALS['robot1'], 0.0, 0)
    holding = []
    for k in range(12):
        session.joint_state(k * DT, spec.joint_names, np.full(3, 0.01 * k), np.zeros(3), 0)
        session.command(np.array([0.1, 0.0, 0.0]), 0)
        while session.backlog() and not session.learner.agent.ready():
            session.learner.add(session.inbox.popleft())
        holding.append(session.holding_rollout())
    assert holding.index(True) == 8              # the 8th transition fills the rollout
    session.learner.train(1)                     # the update: held until it is published
    assert session.learner.counters['updates'] == 1 and session.holding_rollout()
    session.publish()
    assert not session.holding_rollout()
    off = OnlineSession(SessionConfig(task='reach', algo='sac', output_dir=str(tmp_path / 'sac'),
                                      use_resets=False),
                        make_agent('sac', spec, load_config('reach', 'sac').agent, 0))
    assert not off.holding_rollout()             # off-policy: never
    session.close()
    off.close()


def test_a_cut_segment_end_is_a_truncation_for_the_agent_but_not_an_episode_end(tmp_path):
    from robotrl_ros.training.online.learner import OnlineLearner
    spec = make_task('reach').spec
    agent = make_agent('ppo', spec, load_config('reach', 'ppo').agent, 0)
    seen = []
    observe = agent.observe
    agent.observe = lambda *args: seen.append(bool(args[5][0])) or observe(*args)
    learner = OnlineLearner(agent, spec, tmp_path, algo='ppo')
    sources = _sources(segments=True)
    out = []
    for k in range(4):
        out += _step(sources, 'robot1', k, 0.0)
    sources['robot1'].last_seen -= 10.0
    out += sources.expire()[1]
    for tr in out:
        learner.add(tr)
    assert seen == [False, False, True] and learner.counters['episodes'] == 0
    learner.close()


def test_a_published_artifact_is_known_by_the_hash_its_policy_node_reports(tmp_path):
    from doubles.reach_pd import export_reach_pd

    from robotrl_ros.policy.artifact import load_artifact
    path = export_reach_pd(tmp_path / 'policy_00000042')
    versions = PolicyVersions()
    versions.register(42, path)
    assert versions.lookup(load_artifact(path).version, '/elsewhere/installed') == 42
