# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The stopping rule of graph training runs: evaluate each policy the trainer publishes.

``make run`` and the benchmarks pass an :class:`ArtifactWatcher` as ``should_stop`` to
:func:`robotrl_ros.graphs.train_run.run_graph`.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any


class ArtifactWatcher:
    """``should_stop`` for :func:`run_graph`: evaluates each newly published artifact.

    At most every ``period`` seconds the newest ``policies/policy_*`` of the run is evaluated
    (deterministic policy, ``episodes`` episodes from ``seed``); True is returned once one reaches
    ``target`` success. ``curve`` holds every evaluation with its publish time, the transitions
    learned from and ``acted`` (what the robots acted for it, including what an on-policy learner
    dropped as acted by an older policy: robot time). With ``confirm_episodes``, a policy that
    reaches ``target`` on those fixed episodes must reach ``confirm_target`` (default
    ``target``) on that many held-out episodes (another seed): the first policy to pass a fixed
    set is partly selected by luck, and the check keeps that luck out of the stopping rule.

    Args:
        run_dir: The trainer's output directory.
        task: Task to evaluate on.
        target: Success rate that ends the run.
        period: Seconds between evaluations.
        episodes: Evaluation episodes.
        seed: Seed of the first evaluation episode.
        env_kwargs: ``make_env`` arguments (e.g. ``randomization='shifted'``).
        confirm_episodes: Held-out episodes that must also reach ``confirm_target`` (0 = none).
        confirm_target: Success rate required on the held-out episodes (None = ``target``).
    """

    def __init__(self, run_dir: str | Path, task: str, target: float, period: float = 10.0,
                 episodes: int = 50, seed: int = 10_000,
                 env_kwargs: dict[str, Any] | None = None, confirm_episodes: int = 0,
                 confirm_target: float | None = None) -> None:
        self.dir = Path(run_dir) / 'policies'
        self.task, self.target, self.period = task, target, period
        self.episodes, self.seed, self.env_kwargs = episodes, seed, env_kwargs or {}
        self.confirm_episodes = confirm_episodes
        self.confirm_target = target if confirm_target is None else confirm_target
        self.started = time.time()
        self.last = 0.0
        self.seen: set[str] = set()
        self.curve: list[dict[str, Any]] = []
        self.reached: dict[str, Any] | None = None

    def __call__(self) -> bool:
        """Evaluate a newly published artifact; True once one reached the target."""
        if self.reached is not None:
            return True
        if time.time() - self.last < self.period or not self.dir.is_dir():
            return False
        self.last = time.time()
        from robotrl_ros.policy.artifact import load_artifact
        from robotrl_ros.training.evaluate import evaluate_artifact
        try:
            newest = max((p for p in self.dir.iterdir() if p.name.startswith('policy_')),
                         key=lambda p: p.name, default=None)
            if newest is None or newest.name in self.seen:
                return False
            self.seen.add(newest.name)
            published = newest.stat().st_mtime - self.started
            artifact = load_artifact(newest, allow_torchscript=True)   # this run's trainer
        except (OSError, ValueError):
            return False  # pruned while we looked: the next one will do
        result = evaluate_artifact(artifact, self.task, self.episodes, self.seed,
                                   env_kwargs=self.env_kwargs)
        provenance = artifact.metadata.get('provenance', {})
        point = {'published_s': round(published, 1), 'transitions': provenance.get('transitions'),
                 'acted': provenance.get('accepted_transitions'),
                 'updates': provenance.get('updates'), 'success': result.success_rate,
                 'return': round(result.mean_return, 2), 'path': str(newest)}
        self.curve.append(point)
        if result.success_rate is not None and result.success_rate >= self.target \
                and (point['transitions'] or 0) > 0 and self._confirmed(artifact, point):
            self.reached = point
        return self.reached is not None

    def _confirmed(self, artifact: Any, point: dict[str, Any]) -> bool:
        if not self.confirm_episodes:
            return True
        from robotrl_ros.training.evaluate import evaluate_artifact
        check = evaluate_artifact(artifact, self.task, self.confirm_episodes,
                                  self.seed + 1_000_000, env_kwargs=self.env_kwargs)
        point['confirm_success'] = check.success_rate
        return check.success_rate is not None and check.success_rate >= self.confirm_target

    def best(self) -> dict[str, Any] | None:
        """The evaluation with the highest success so far."""
        return max(self.curve, key=lambda p: p['success'] or 0.0, default=None)
