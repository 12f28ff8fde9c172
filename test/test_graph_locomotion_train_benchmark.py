# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""benchmarks/graph_locomotion_train.py: the stopping rule of the graph run."""

import shutil
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / 'benchmarks'))
import graph_locomotion_train as bench  # noqa: E402


def standing_artifact(out: Path, transitions: int) -> Path:
    """An A1 policy that holds the default pose (action 0), published after ``transitions``."""
    from robotrl_ros.agents.ppo import PPO
    from robotrl_ros.policy.export import export_artifact
    from robotrl_ros.tasks.registry import make_env
    env = make_env('locomotion', robot='a1')
    spec = env.task_spec
    agent = PPO(spec.obs_dim, spec.action_dim, config={'hidden_sizes': [8]}, seed=0)
    with torch.no_grad():
        for param in agent.policy.parameters():
            param.fill_(0.0)
    return export_artifact(agent.policy_module(), spec, out, algorithm='ppo', robot=env.robot,
                           provenance={'transitions': transitions})


@pytest.mark.timeout(300)
def test_watcher_keeps_every_published_policy_and_stops_at_the_first_trained_one_on_target(
        tmp_path, monkeypatch):
    run, keep = tmp_path / 'run', tmp_path / 'keep'
    keep.mkdir()
    watcher = bench.PublishedPolicyWatcher(run, keep, period=0.0, episodes=1)
    assert watcher() is False                       # nothing published yet
    standing_artifact(run / 'policies' / 'policy_00000000', transitions=0)
    assert watcher() is False
    # Standing still misses the real target (its velocity error is the command itself).
    assert watcher.curve[-1]['meets_target'] is False
    assert watcher.curve[-1]['mean_planar_velocity_error'] > bench.ERROR_TARGET
    monkeypatch.setattr(bench, 'ERROR_TARGET', 10.0)  # now standing still "tracks"
    shutil.rmtree(run / 'policies' / 'policy_00000000')  # the trainer prunes old policies
    standing_artifact(run / 'policies' / 'policy_00000001', transitions=0)
    assert watcher() is False                       # on target, but nothing learned yet
    assert watcher.curve[-1]['meets_target'] is True
    standing_artifact(run / 'policies' / 'policy_00000002', transitions=2048)
    assert watcher() is True and watcher() is True
    assert watcher.reached['path'] == str(keep / 'policy_00000002')
    assert watcher.reached['transitions'] == 2048
    assert sorted(p.name for p in keep.iterdir()) == [
        'policy_00000000', 'policy_00000001', 'policy_00000002']


def test_watcher_evaluates_a_policy_once_and_waits_for_its_period(tmp_path):
    run, keep = tmp_path / 'run', tmp_path / 'keep'
    keep.mkdir()
    watcher = bench.PublishedPolicyWatcher(run, keep, period=3600.0, episodes=1)
    standing_artifact(run / 'policies' / 'policy_00000000', transitions=0)
    assert watcher() is False
    assert watcher.curve == [] and (keep / 'policy_00000000' / 'policy.yaml').is_file()
