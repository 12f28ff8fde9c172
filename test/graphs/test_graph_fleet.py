# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""End to end: the fleet_sim graph, 3 namespaced sim bridges + policy nodes and one SAC trainer.

robot1 and robot2 start with the trainer; robot3 starts once the trainer has learned from some
transitions (it joins the running training); robot2's bridge is then killed (SIGKILL) and the
others go on. The run ends when a published policy reaches 95 % success on fixed episodes and
on held-out ones (as ``make run`` decides, :class:`ArtifactWatcher`), once robot2 has had time
to be dropped (``source_timeout``). Every step waits for data; nothing is timed.
"""

import json
import os
import time

import pytest
import yaml

from robotrl_ros.graphs.artifact_watcher import ArtifactWatcher
from robotrl_ros.graphs.fleet_run import FleetRun
from robotrl_ros.graphs.train_run import GraphConfig

SOURCE_TIMEOUT = 3.0
JOIN_AFTER = 1500    # transitions learned from (of the newest published policy) before robot3
KILL_AFTER = 3000    # ... before robot2's bridge is killed


def _published_transitions(run_dir):
    """Transitions the newest published policy was trained on (0 before the first)."""
    policies = sorted((run_dir / 'policies').glob('policy_*'))
    for path in reversed(policies):
        try:
            meta = yaml.safe_load((path / 'policy.yaml').read_text())
        except (OSError, yaml.YAMLError):
            continue   # pruned or being renamed: an older one
        return int(meta.get('provenance', {}).get('transitions', 0))
    return 0


@pytest.mark.timeout(1800)
def test_three_robots_train_one_policy_while_one_joins_and_one_dies(tmp_path):
    out = tmp_path / 'run'
    cfg = GraphConfig(task='reach', algo='sac', output_dir=str(out), total_steps=200_000,
                      timeout_s=1500, publish_period=3.0,
                      domain_id=int(os.environ['ROS_DOMAIN_ID']))
    fleet = FleetRun(cfg, n_robots=3, late=('robot3',), source_timeout=SOURCE_TIMEOUT)
    watcher = ArtifactWatcher(out, 'reach', 0.95, period=5.0, episodes=50,
                              confirm_episodes=100, confirm_target=0.95)
    seen = {}

    def events(run):
        learned = _published_transitions(out)
        if 'robot3' not in run.robots and learned >= JOIN_AFTER:
            run.start_robot('robot3')
        elif 'robot3' in run.robots and not run.killed and learned >= KILL_AFTER:
            run.kill_bridge('robot2')
            seen['killed'] = (time.monotonic(), learned)

    def should_stop():
        # Only once robot2 has been silent for longer than source_timeout.
        if 'killed' not in seen or time.monotonic() - seen['killed'][0] < SOURCE_TIMEOUT + 2:
            return False
        return watcher()

    result = fleet.run(events, should_stop)
    log = (result.logs / 'trainer_node.log').read_text()
    assert not result.timed_out, (watcher.curve, log[-3000:])
    assert [e['event'] + ' ' + e['robot'] for e in result.events] == [
        'start robot1', 'start robot2', 'start robot3', 'kill sim_bridge robot2']
    sources = result.summary['sources']
    print(json.dumps({'wall_s': result.wall_time_s, 'events': result.events,
                      'reached': watcher.reached, 'sources': sources}))
    # All three contributed transitions; robot3 joined the running training.
    assert all(sources[f'robot{i}']['accepted'] > 0 for i in (1, 2, 3)), sources
    assert sources['robot3']['joins'] == 1 and sources['robot3']['active']
    # robot2 died: dropped from the rollout, and learning went on from the others.
    assert not sources['robot2']['active'] and sources['robot1']['active']
    assert 'source robot2 silent for source_timeout' in log
    assert result.summary['transitions'] > seen['killed'][1] + 1000
    # The policy trained by the fleet reaches 95 % (50 fixed and 100 held-out episodes).
    assert watcher.reached is not None, watcher.curve
    assert watcher.reached['success'] >= 0.95 and watcher.reached['confirm_success'] >= 0.95
    # Each robot's transitions were tagged with the policy it ran.
    assert all(sources[f'robot{i}']['policy_version'] >= 0 for i in (1, 3)), sources
