# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Atomic, resumable checkpoints of a training run.

A checkpoint holds the agent's full state, the loop state, the global RNG states and the
environments themselves (their simulator state and RNGs), so ``robotrl train --resume``
continues exactly as if the run had never stopped. It is written atomically
(:mod:`robotrl_ros.util.durable`) to ``checkpoints/last.pt``, and the one it replaces is kept as
``checkpoints/previous.pt``: a crash mid-write never leaves a torn checkpoint, and when the
newest cannot be read, ``--resume`` continues from the previous one.

The agent and loop parts load with ``torch.load(weights_only=True)``; the environments are
pickled (a gymnasium env has no other generic serialization), so only resume runs you trust:
your own run directories.
"""

from __future__ import annotations

import logging
import pickle
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from robotrl_ros.agents.base import Agent
from robotrl_ros.training.loop import Callback, LoopState
from robotrl_ros.training.vec_env import EnvBatch
from robotrl_ros.util.durable import atomic_write_keeping_previous

FORMAT = 1
CHECKPOINT_DIR = 'checkpoints'
LAST = 'last.pt'
PREVIOUS = 'previous.pt'


_log = logging.getLogger(__name__)


class CheckpointError(ValueError):
    """A checkpoint is missing, corrupt or belongs to a different run."""


def checkpoint_path(run_dir: str | Path) -> Path:
    """Path of the latest checkpoint of a run directory."""
    return Path(run_dir) / CHECKPOINT_DIR / LAST


def save_checkpoint(run_dir: str | Path, agent: Agent, envs: EnvBatch, state: LoopState,
                    run_info: dict[str, Any]) -> Path:
    """Write the run's state to ``run_dir/checkpoints/last.pt`` atomically.

    Args:
        run_dir: Run directory.
        agent: The agent (its ``state_dict`` is saved).
        envs: The environments (pickled with their RNGs and simulator state).
        state: Loop counters and statistics.
        run_info: Identity of the run (task, algo, seed, ...) checked on resume.
    """
    blob = pickle.dumps({'envs': envs, 'numpy_random': np.random.get_state(),
                         'python_random': random.getstate()})
    payload = {
        'format': FORMAT,
        'run': dict(run_info),
        'agent': agent.state_dict(),
        'loop': state.to_dict(),
        'torch_rng': torch.get_rng_state(),
        'pickled': torch.frombuffer(bytearray(blob), dtype=torch.uint8),
    }
    path = checkpoint_path(run_dir)
    atomic_write_keeping_previous(path, path.with_name(PREVIOUS),
                                  lambda handle: torch.save(payload, handle))
    return path


def load_checkpoint(run_dir: str | Path, agent: Agent,
                    run_info: dict[str, Any]) -> tuple[EnvBatch, LoopState]:
    """Restore agent, RNGs and envs from a run directory's latest checkpoint.

    Args:
        run_dir: Run directory written by an earlier ``robotrl train``.
        agent: A freshly built agent of the same algorithm; its state is replaced.
        run_info: Identity of this run; ``task`` and ``algo`` must match the checkpoint's.
            The checkpoint's other identity entries that it lacks (``init_policy``: the run
            a warm-started run began from) are copied into it, so they outlive the resume.

    Returns:
        ``(envs, loop_state)`` to continue the loop with.

    Raises:
        CheckpointError: If there is no checkpoint, it is corrupt, or it is another run's.
    """
    path = checkpoint_path(run_dir)
    previous = path.with_name(PREVIOUS)
    if not path.is_file() and not previous.is_file():
        raise CheckpointError(f'--resume: no checkpoint at {path}')
    try:
        payload = _read(path)
    except CheckpointError as newest:
        if not previous.is_file():
            raise
        try:
            payload = _read(previous)
        except CheckpointError as older:
            raise CheckpointError(f'{newest}; {older}') from None
        _log.warning('%s; resuming from the previous checkpoint %s', newest, previous)
        path = previous
    saved = payload['run']
    for key in ('task', 'algo'):
        if saved.get(key) != run_info.get(key):
            raise CheckpointError(f'--resume: checkpoint {path} is for {key} '
                                  f'{saved.get(key)!r}, not {run_info.get(key)!r}')
    for key, value in saved.items():
        run_info.setdefault(key, value)
    agent.load_state_dict(payload['agent'])
    torch.set_rng_state(payload['torch_rng'])
    extra = pickle.loads(payload['pickled'].numpy().tobytes())  # noqa: S301 - own run dir
    np.random.set_state(extra['numpy_random'])
    random.setstate(extra['python_random'])
    return extra['envs'], LoopState.from_dict(payload['loop'])


def _read(path: Path) -> dict[str, Any]:
    """A checkpoint's payload.

    Raises:
        CheckpointError: If it is missing, corrupt or not a robotrl checkpoint.
    """
    if not path.is_file():
        raise CheckpointError(f'checkpoint {path} is missing')
    try:
        payload = torch.load(path, map_location='cpu', weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any decode failure means a corrupt file
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise CheckpointError(f'checkpoint {path} is corrupt: {first_line}') from None
    if not isinstance(payload, dict) or payload.get('format') != FORMAT:
        raise CheckpointError(f'{path} is not a robotrl checkpoint (format {FORMAT})')
    return payload


class CheckpointCallback(Callback):
    """Save a checkpoint every ``every`` env steps (0 = never) and always at the end."""

    def __init__(self, run_dir: str | Path, agent: Agent, envs: EnvBatch,
                 run_info: dict[str, Any], every: int = 0) -> None:
        self.run_dir, self.agent, self.envs = Path(run_dir), agent, envs
        self.run_info, self.every = run_info, every
        self._next = 0

    def on_start(self, state: LoopState) -> None:  # noqa: D102
        self._next = (state.step // self.every + 1) * self.every if self.every else 0

    def on_step(self, state: LoopState) -> None:  # noqa: D102
        if self.every and state.step >= self._next:
            save_checkpoint(self.run_dir, self.agent, self.envs, state, self.run_info)
            self._next = (state.step // self.every + 1) * self.every

    def on_end(self, state: LoopState) -> None:  # noqa: D102
        save_checkpoint(self.run_dir, self.agent, self.envs, state, self.run_info)
