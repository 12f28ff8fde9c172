# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""One training run, end to end: config, envs, agent, loop, checkpoints, metrics, artifact.

This is what ``robotrl train`` and ``make run`` call::

    result = train_run(task='reach', algo='sac', steps=20_000, seed=0, out='runs/reach_sac')
    result.artifact      # runs/reach_sac/policy, loadable by `robotrl eval` and policy_node

Run directory layout: ``config.yaml`` (resolved hyperparameters), ``checkpoints/last.pt``,
``metrics.csv``, ``tensorboard/``, ``learning_curve.png``, ``policy/`` (the artifact) and
``summary.json``.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import torch
import yaml

from robotrl_ros.agents.base import Agent
from robotrl_ros.policy.export import export_artifact
from robotrl_ros.tasks.robots.given import task_robot
from robotrl_ros.training.checkpoints import CheckpointCallback, checkpoint_path, load_checkpoint
from robotrl_ros.training.config import TrainConfig, load_config
from robotrl_ros.training.loop import Callback, LoopState, run, start_state
from robotrl_ros.training.metrics import MetricsCallback
from robotrl_ros.training.online.store import init_agent_state
from robotrl_ros.training.progress import ProgressCallback
from robotrl_ros.training.subproc_env import in_workers
from robotrl_ros.training.vec_env import EnvBatch, make_env_batch

ARTIFACT_DIR = 'policy'


@dataclass
class TrainResult:
    """Outcome of :func:`train_run`.

    Attributes:
        run_dir: The run directory.
        state: Final loop state.
        agent: The trained agent.
        artifact: Exported policy artifact directory (None when the task has no TaskSpec).
        stopped_early: True when ``should_stop`` ended the run before ``steps``.
    """

    run_dir: Path
    state: LoopState
    agent: Agent
    artifact: Path | None
    stopped_early: bool


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and torch's global RNGs."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def build_agent(algo: str, envs: EnvBatch, config: dict[str, Any], seed: int,
                sources: Sequence[str] = ()) -> Agent:
    """Agent ``algo`` sized for ``envs``' observation and action spaces.

    Raises:
        ValueError: Unknown ``algo``, or a hyperparameter the agent rejects (the message names
            the key and the YAML files the hyperparameters came from).
    """
    from robotrl_ros.agents.registry import algo_names, make_agent

    if algo not in algo_names():
        raise ValueError(f'unknown algorithm {algo!r}; available: {", ".join(algo_names())}')
    try:
        return make_agent(algo, envs.envs[0], config, seed)
    except ValueError as exc:
        where = f' (hyperparameters from {", ".join(sources)})' if sources else ''
        raise ValueError(f'{exc}{where}') from None


def export_policy(agent: Agent, envs: EnvBatch, run_dir: Path, algo: str,
                  provenance: dict[str, Any]) -> Path | None:
    """Export ``agent``'s policy to ``run_dir/policy``; None if the env has no TaskSpec.

    A task on a robot file also records that robot (``robot`` in ``policy.yaml``).
    """
    spec = getattr(envs.envs[0], 'task_spec', None)
    if spec is None:
        return None
    return export_artifact(agent.policy_module(), spec, run_dir / ARTIFACT_DIR, algorithm=algo,
                           provenance=provenance, robot=task_robot(envs.envs[0]))


def train_run(task: str, algo: str, steps: int, seed: int, out: str | Path, *,
              config_file: str | Path | None = None, resume: bool = False,
              config: TrainConfig | None = None, progress: TextIO | None = None,
              should_stop: Callable[[], bool] | None = None, tensorboard: bool = True,
              extra_callbacks: tuple[Callback, ...] = (),
              init_policy: str | Path | None = None) -> TrainResult:
    """Train ``algo`` on ``task`` for ``steps`` env steps, writing everything to ``out``.

    Args:
        task: Task name for ``make_env`` (``reach``, ``gym:Pendulum-v1``, ...).
        algo: Algorithm name for ``make_agent``.
        steps: Total env steps (a resumed run continues up to this total).
        seed: Seeds the global RNGs, the agent and env ``i`` (``seed + i``).
        out: Run directory (created).
        config_file: YAML overriding the task x algo defaults.
        resume: Continue from ``out/checkpoints/last.pt``.
        config: Use this config instead of reading YAML (tests, benchmarks).
        progress: Stream for the progress bar/log lines (None = silent).
        should_stop: Polled every iteration; True stops cleanly (checkpoint + export).
        tensorboard: Write TensorBoard events.
        extra_callbacks: More loop callbacks.
        init_policy: Warm start: a run directory (or checkpoint file) whose agent state
            (weights, optimizer, observation normalizer) starts this new run, e.g. a nominal
            policy continued with domain randomization. Counters start at zero.

    Raises:
        ValueError: Unknown task/algo, bad config key, a checkpoint of another run, both
            ``resume`` and ``init_policy``, or an ``init_policy`` without a checkpoint.
        FloatingPointError: An env returned NaN/Inf.
    """
    if steps < 1:
        raise ValueError(f'--steps must be >= 1, got {steps}')
    if resume and init_policy:
        raise ValueError('--init-policy starts a new run from another run\'s agent; it cannot '
                         'be combined with --resume')
    run_dir = Path(out)
    if config is None:
        config = load_config(task, algo, config_file)
    seed_everything(seed)
    with ExitStack() as open_envs:
        envs = in_workers(make_env_batch(task, config.n_envs, config.env), config.env_workers)
        open_envs.callback(envs.close)  # also on errors and Ctrl-C: stops env worker processes
        agent = build_agent(algo, envs, config.agent, seed, config.sources)
        run_info: dict[str, Any] = {'task': task, 'algo': algo, 'seed': seed}
        if init_policy:
            run_info['init_policy'] = str(init_policy)
        if resume:
            envs.close()
            envs, state = load_checkpoint(run_dir, agent, run_info)
            open_envs.callback(envs.close)
        else:
            if checkpoint_path(run_dir).exists():
                raise ValueError(f'{run_dir} already holds a run; use --resume to continue it or '
                                 'choose another --out')
            state = start_state(envs, seed, config.return_window)
            if init_policy:
                init_agent_state(agent, init_policy)
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / 'config.yaml').write_text(yaml.safe_dump(
            {'task': task, 'algo': algo, 'seed': seed, 'steps': steps, **config.to_dict()},
            sort_keys=False))
        callbacks: list[Callback] = [
            MetricsCallback(run_dir, config.log_every, f'{algo} on {task}', tensorboard),
            CheckpointCallback(run_dir, agent, envs, run_info, config.checkpoint_every),
            *extra_callbacks]
        if progress is not None:
            callbacks.append(ProgressCallback(steps, config.log_every, progress))
        state = run(agent, envs, steps, state, callbacks, should_stop)
        provenance = {'task': task, 'steps': state.step, 'seed': seed,
                      'recent_return': state.mean_recent_return()}
        artifact = export_policy(agent, envs, run_dir, algo, provenance)
        summary = {'task': task, 'algo': algo, 'seed': seed, 'steps': state.step,
                   'episodes': state.episodes, 'wall_time_s': round(state.wall_time, 3),
                   'steps_per_s': round(state.step / max(state.wall_time, 1e-9), 1),
                   'recent_return': state.mean_recent_return(),
                   'artifact': str(artifact) if artifact else None}
        if 'init_policy' in run_info:   # a resumed warm start keeps its origin
            summary['init_policy'] = run_info['init_policy']
        (run_dir / 'summary.json').write_text(json.dumps(summary, indent=2) + '\n')
        return TrainResult(run_dir, state, agent, artifact, state.step < steps)
