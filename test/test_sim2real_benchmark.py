# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""benchmarks/sim2real.py's A1 row: the worst-case search's corners, falls and the report."""

import json
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / 'benchmarks'))
import _sim2real_report as report  # noqa: E402
import _sim2real_setup as rows  # noqa: E402
import sim2real  # noqa: E402


def test_every_corner_of_the_a1_shift_is_one_fixed_robot():
    corners = sim2real.corner_robots(rows.A1_SHIFT)
    assert len(corners) == 16           # friction, mass, motor strength, latency: 2 ends each
    assert len({json.dumps(c, sort_keys=True) for c in corners}) == 16
    for corner in corners:
        for name in ('mass_scale', 'friction_scale', 'gain_scale', 'latency_steps'):
            lo, hi = corner[name]
            assert lo == hi and lo in rows.A1_SHIFT[name]
        assert corner['obs_noise_std'] == rows.A1_SHIFT['obs_noise_std']


def test_rows_by_task():
    assert rows.setup_for('locomotion', None).results == 'sim2real_a1'
    assert rows.setup_for('locomotion', None).env == {'robot': 'a1'}
    reach = rows.setup_for('reach_last_action', None)
    assert (reach.results, reach.algo, reach.robots) == ('sim2real', 'sac', rows.ROBOTS)


class _FallsAtStep(gym.Env):
    """Episodes of 5 steps; those whose number is odd end by termination at step 2."""

    observation_space = gym.spaces.Box(-1.0, 1.0, (1,))
    action_space = gym.spaces.Box(-1.0, 1.0, (1,))

    def __init__(self):
        self.episode, self.t = -1, 0

    def reset(self, *, seed=None, options=None):
        self.episode, self.t = self.episode + 1, 0
        return np.zeros(1, np.float32), {}

    def step(self, action):
        self.t += 1
        fell = self.episode % 2 == 1 and self.t == 2
        return np.zeros(1, np.float32), 0.0, fell, self.t == 5 and not fell, {}


def test_fall_counter_counts_terminations_not_time_limits():
    counter = sim2real._FallCounter(_FallsAtStep())
    sim2real.run_episodes(lambda obs: np.zeros(1), counter, 4, seed=0)
    assert counter.terminated == 2


@pytest.mark.timeout(300)
def test_a1_evaluation_of_a_standing_policy_reports_no_falls(tmp_path):
    from robotrl_ros.agents.ppo import PPO
    from robotrl_ros.policy.export import export_artifact
    from robotrl_ros.tasks.registry import make_env
    env = make_env('locomotion', robot='a1')
    spec = env.task_spec
    agent = PPO(spec.obs_dim, spec.action_dim, config={'hidden_sizes': [8]}, seed=0)
    with torch.no_grad():
        for param in agent.policy.parameters():     # action 0: hold the default pose
            param.fill_(0.0)
    artifact = export_artifact(agent.policy_module(), spec, tmp_path / 'policy', algorithm='ppo',
                               robot=env.robot)
    setup = rows.setup_for('locomotion', None)
    result = sim2real.evaluate(artifact, None, 1, setup)
    assert set(result) == {'success', 'return', 'falls'}
    assert result['falls'] == 0.0 and result['return'] > 0


def test_finetune_config_scores_with_the_runs_reward_and_agent_settings():
    run_config = {'task': 'locomotion', 'algo': 'ppo', 'seed': 0, 'steps': 1000, 'n_envs': 32,
                  'env': {'robot': 'a1', 'reward_weights': {'termination': -100.0},
                          'randomization': {'mass_scale': [0.8, 1.2]}},
                  'agent': {'n_steps': 32, 'learning_rate': 1e-3, 'desired_kl': 0.01}}
    config = rows.finetune_config(run_config, rows.A1_FINETUNE_HPARAMS)
    # The run's reward, without the simulator-only entries (the robot is a node parameter).
    assert config['env'] == {'reward_weights': {'termination': -100.0}}
    # The run's agent settings with the fine-tune's overrides on top.
    assert config['agent'] == {'n_steps': 2048, 'learning_rate': 1e-3, 'desired_kl': 0.01}
    # Run identity and loop keys are not the trainer node's business.
    assert set(config) == {'env', 'agent'}
    assert run_config['env']['robot'] == 'a1'       # the run's config is left as it was


def test_finetune_config_of_a_run_without_config_is_the_overrides():
    assert rows.finetune_config({}, {}) == {}
    assert rows.finetune_config({}, {'agent': {'n_steps': 64}}) == {
        'agent': {'n_steps': 64}}
    assert rows.finetune_config({'env': {'randomization': {}}}, {}) == {}


def test_finetune_config_loads_as_a_trainer_config(tmp_path):
    from robotrl_ros.training.config import load_config
    run_config = {'n_envs': 32, 'env': {'robot': 'a1', 'reward_weights': {'orientation': -5.0}},
                  'agent': {'desired_kl': 0.01}}
    path = tmp_path / 'finetune.yaml'
    path.write_text(yaml.safe_dump(rows.finetune_config(run_config, rows.A1_FINETUNE_HPARAMS)))
    config = load_config('locomotion', 'ppo', path)
    assert config.env['reward_weights'] == {'orientation': -5.0}
    assert config.agent['n_steps'] == 2048 and config.agent['desired_kl'] == 0.01


@pytest.mark.parametrize('run_config, culprit', [(['env'], 'run config'),
                                                 ({'env': ['reward_weights']}, "'env'"),
                                                 ({'agent': 3}, "'agent'")])
def test_finetune_config_rejects_a_malformed_run_config(run_config, culprit):
    with pytest.raises(ValueError, match=culprit):
        rows.finetune_config(run_config, {})


def _score(step, nominal, shifted, falls=0.0):
    return {'step': step, 'nominal': {'success': nominal},
            'shifted': {'success': shifted, 'falls': falls}}


def test_pick_snapshot_is_best_on_both_simulators():
    from _dr_selection import pick_snapshot
    good_nominal_only = _score(1, 1.0, 0.3)
    balanced = _score(2, 0.8, 0.7)
    assert pick_snapshot([good_nominal_only, balanced]) is balanced
    # Same minimum: the higher sum, then fewer falls, then the later step.
    assert pick_snapshot([_score(1, 0.7, 0.7), _score(2, 0.9, 0.7)])['step'] == 2
    assert pick_snapshot([_score(1, 0.7, 0.7, 0.1), _score(2, 0.7, 0.7, 0.3)])['step'] == 1
    assert pick_snapshot([_score(3, 0.7, 0.7), _score(2, 0.7, 0.7)])['step'] == 3
    with pytest.raises(ValueError, match='no validated snapshot'):
        pick_snapshot([])


def test_select_validates_every_snapshot_and_records_the_choice(tmp_path):
    from _dr_selection import select, selection_of
    for step in (100, 300, 200):
        (tmp_path / f'step_{step}' / 'policy').mkdir(parents=True)
    (tmp_path / 'step_400').mkdir()                  # no policy: not a snapshot
    (tmp_path / 'other' / 'policy').mkdir(parents=True)
    success = {100: (1.0, 0.2), 200: (0.9, 0.85), 300: (0.6, 0.6)}
    calls = []

    def fake_evaluate(artifact, robot):
        calls.append((artifact, robot))
        nominal, shifted = success[int(artifact.parent.name.split('_')[1])]
        return {'success': nominal if robot is None else shifted}
    shift = {'mass_scale': [0.8, 1.2]}
    selection = select(tmp_path, fake_evaluate, shift, seed=7, episodes=3)
    assert [s['step'] for s in selection['scores']] == [100, 200, 300]
    assert len(calls) == 6 and {robot is None or robot == shift for _, robot in calls} == {True}
    assert selection['chosen_step'] == 200
    assert (selection['validation_seed'], selection['episodes']) == (7, 3)
    assert selection_of(tmp_path / 'step_200') == selection
    assert selection_of(tmp_path / 'step_200' / 'policy') is None


def test_select_without_snapshots_names_the_folder(tmp_path):
    from _dr_selection import select
    with pytest.raises(ValueError, match=str(tmp_path)):
        select(tmp_path, lambda artifact, robot: {}, {}, 0, 1)


def test_report_shows_how_the_dr_policy_was_chosen():
    selection = {'chosen_step': 200, 'validation_seed': 30000, 'episodes': 20, 'rule': 'best',
                 'scores': [_score(100, 1.0, 0.2), _score(200, 0.9, 0.85)]}
    lines = report._selection_lines(selection)
    assert 'step 200' in lines[0] and 'seed 30000' in lines[0]
    assert any(line.startswith('| 200 (chosen) | 0.90 | 0.85, falls 0% |') for line in lines)
    assert report._selection_lines(None) == []


def _policy(nominal, shifted, worst):
    return {'nominal': {'success': nominal}, 'kept': {'shifted': shifted / nominal,
                                                      'worst': worst / nominal}}


@pytest.mark.parametrize('dr, kept, comparable, met', [
    (_policy(1.0, 0.95, 0.9), 'yes', 'yes', 'yes'),
    (_policy(0.45, 0.45, 0.6), 'yes', 'no', 'no'),     # robust only by being bad nominally
    (_policy(0.95, 0.5, 0.9), 'no', 'yes', 'no')])
def test_acceptance_needs_kept_success_and_a_comparable_nominal_one(dr, kept, comparable, met):
    text = report.acceptance_lines(_policy(1.0, 0.4, 0.15), dr)[0]
    assert f'shift (per-episode ranges and worst-case robot): **{kept}**' in text
    assert f'(>= 90 % of it): **{comparable}**' in text
    assert text.endswith(f'Target met: **{met}**.')


def test_select_evaluates_only_snapshots_new_since_the_last_selection(tmp_path):
    from _dr_selection import select
    (tmp_path / 'step_100' / 'policy').mkdir(parents=True)
    calls = []

    def fake_evaluate(artifact, robot):
        calls.append(artifact.parent.name)
        return {'success': 0.5}
    select(tmp_path, fake_evaluate, {}, seed=7, episodes=3)
    (tmp_path / 'step_200' / 'policy').mkdir(parents=True)
    selection = select(tmp_path, fake_evaluate, {}, seed=7, episodes=3)
    assert calls == ['step_100'] * 2 + ['step_200'] * 2
    assert [s['step'] for s in selection['scores']] == [100, 200]
    select(tmp_path, fake_evaluate, {}, seed=8, episodes=3)     # another seed: all again
    assert calls[4:] == ['step_100'] * 2 + ['step_200'] * 2


def test_select_with_the_worst_case_robot_judges_it_too_and_reuses_what_it_can(tmp_path):
    from _dr_selection import pick_snapshot, select
    for step in (100, 200):
        (tmp_path / f'step_{step}' / 'policy').mkdir(parents=True)
    shift, worst = {'mass_scale': [0.8, 1.2]}, {'mass_scale': [0.8, 0.8]}
    success = {100: {None: 1.0, 'shifted': 0.9, 'worst': 0.2},
               200: {None: 0.9, 'shifted': 0.8, 'worst': 0.8}}
    calls = []

    def fake_evaluate(artifact, robot):
        step = int(artifact.parent.name.split('_')[1])
        key = None if robot is None else ('shifted' if robot == shift else 'worst')
        calls.append((step, key))
        return {'success': success[step][key]}
    assert select(tmp_path, fake_evaluate, shift, 7, 3)['chosen_step'] == 100
    selection = select(tmp_path, fake_evaluate, shift, 7, 3, worst)
    assert selection['chosen_step'] == 200           # 100 fails on the worst-case robot
    assert calls[4:] == [(100, 'worst'), (200, 'worst')]   # nominal, shifted reused
    assert selection['worst'] == worst and 'worst' in selection['rule']
    assert pick_snapshot(selection['scores'])['step'] == 200
    lines = report._selection_lines(selection)
    assert any(line.startswith('| 200 (chosen) | 0.90 | 0.80') and line.endswith('| 0.80 |')
               for line in lines), lines


def test_a_widened_ppo_checkpoint_acts_as_before_whatever_the_new_inputs_hold():
    import dataclasses

    import torch
    from _widen_history import source_index, widen_state

    from robotrl_ros.agents.ppo import PPO
    from robotrl_ros.tasks.spec import ObsTerm, TaskSpec

    def spec(history):
        return TaskSpec(name='t', joint_names=('a', 'b'),
                        observation=(ObsTerm('joint_pos', 2), ObsTerm('last_action', 2, 1.0,
                                                                      history),
                                     ObsTerm('cmd_vel', 3)),
                        action_scale=(1.0, 1.0), action_offset=(0.0, 0.0),
                        command_lower=(-1.0, -1.0), command_upper=(1.0, 1.0),
                        velocity_limits=(1.0, 1.0), control_period=0.1)
    old, new = spec(1), spec(3)
    agent = PPO(old.obs_dim, 2, config={'hidden_sizes': (16,)}, seed=0)
    with torch.no_grad():
        agent.policy.normalizer.mean.uniform_(-1, 1)
        agent.policy.normalizer.var.uniform_(0.5, 2)
    source, fresh = source_index(old, new)
    assert source.tolist() == [0, 1, 2, 3, 2, 3, 2, 3, 4, 5, 6]
    assert fresh.tolist() == [False] * 4 + [True] * 4 + [False] * 3
    widened = PPO(new.obs_dim, 2, config={'hidden_sizes': (16,)}, seed=1)
    widened.load_state_dict(widen_state(agent.state_dict(), source, fresh))
    rng = np.random.default_rng(0)
    obs = rng.normal(size=(5, old.obs_dim)).astype(np.float32)
    wide = rng.normal(size=(5, new.obs_dim)).astype(np.float32) * 5   # new inputs: anything
    wide[:, ~fresh] = obs[:, source[~fresh]]
    np.testing.assert_allclose(widened.act(wide, deterministic=True),
                               agent.act(obs, deterministic=True), atol=1e-6)
    with pytest.raises(ValueError, match='only widens'):
        source_index(new, old)
    with pytest.raises(ValueError, match='differ in more than history'):
        source_index(old, dataclasses.replace(old, observation=old.observation[:2]))


def test_report_counts_robot_time_by_the_acted_transitions():
    r = json.loads((ROOT / 'benchmarks/results/sim2real_a1_2026-12-06b.json').read_text())
    reached = {'published_s': 300.0, 'transitions': 1000, 'acted': 1100, 'success': 0.9}
    r['finetune'].update(reached=reached, transitions=1000, acted_transitions=1100,
                         real_minutes=0.37, final_on_shifted={'success': 0.8, 'return': 20.0})
    text = report.markdown(r)
    assert ('after 1100 acted transitions x 0.02 s (1000 learned from; the rest acted by an '
            'older policy, dropped) = **0.37 minutes') in text
    assert f'the final policy on {r["episodes"]} evaluation episodes: success 0.8' in text
