# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""ArtifactWatcher: the stopping rule of graph runs (and of `make run`)."""

from __future__ import annotations

import torch

import robotrl_ros.training.evaluate as evaluate
from robotrl_ros.graphs.artifact_watcher import ArtifactWatcher
from robotrl_ros.policy.export import export_artifact
from robotrl_ros.tasks.registry import make_task
from robotrl_ros.training.evaluate import EvalResult


class _GoToGoal(torch.nn.Module):
    """Accelerate along goal_delta, brake on velocity: solves reach."""

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        velocity, delta = obs[:, 3:6] / 2.0, obs[:, 9:12]
        return torch.clamp(4.0 * delta - 6.0 * velocity, -1.0, 1.0)


def _publish(run_dir, name='policy_00000100'):
    spec = make_task('reach').spec
    export_artifact(_GoToGoal(), spec, run_dir / 'policies' / name, algorithm='sac',
                    provenance={'transitions': 100, 'updates': 50})


def test_a_policy_that_reaches_the_target_on_fixed_and_held_out_episodes_stops_the_run(tmp_path):
    _publish(tmp_path)
    watcher = ArtifactWatcher(tmp_path, 'reach', 0.9, period=0.0, episodes=20,
                              confirm_episodes=20)
    assert watcher()
    assert watcher.reached['success'] >= 0.9 and watcher.reached['confirm_success'] >= 0.9


def test_a_policy_that_fails_the_held_out_check_does_not_stop_the_run(tmp_path, monkeypatch):
    _publish(tmp_path)
    seeds = []

    def lucky_on_the_fixed_set(artifact, task, episodes, seed, env_kwargs=None):
        seeds.append(seed)
        return EvalResult(task, episodes, -5.0, 1.0, 1.0 if seed == 10_000 else 0.8)

    monkeypatch.setattr(evaluate, 'evaluate_artifact', lucky_on_the_fixed_set)
    watcher = ArtifactWatcher(tmp_path, 'reach', 0.95, period=0.0, confirm_episodes=100)
    assert not watcher()
    assert watcher.reached is None and watcher.curve[0]['confirm_success'] == 0.8
    assert seeds == [10_000, 1_010_000]
    # Without the check (benchmarks that measure time to the target) the same policy stops it.
    assert ArtifactWatcher(tmp_path, 'reach', 0.95, period=0.0)()
    # A held-out bar above the fixed one (make run: 0.95, then 0.98 held out).
    assert not ArtifactWatcher(tmp_path, 'reach', 0.75, period=0.0, confirm_episodes=100,
                               confirm_target=0.9)()
    assert ArtifactWatcher(tmp_path, 'reach', 0.75, period=0.0, confirm_episodes=100,
                           confirm_target=0.8)()
