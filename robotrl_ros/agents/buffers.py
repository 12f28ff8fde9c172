# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Transition storage: NumPy replay and rollout buffers, and the rollout's minibatches."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

_REPLAY_FIELDS = ('obs', 'next_obs', 'actions', 'rewards', 'terminated')


class ReplayBuffer:
    """Fixed-capacity ring buffer of transitions, preallocated in NumPy.

    Once full, new transitions overwrite the oldest ones (wrap-around). Only ``terminated`` is
    kept as the "done" flag for bootstrapping: a time-limit truncation still bootstraps.

    Args:
        capacity: Maximum number of transitions.
        obs_dim: Observation length.
        action_shape: Shape of one action (``()`` for discrete indices).
        action_dtype: ``np.int64`` for discrete actions, ``np.float32`` for continuous ones.
    """

    def __init__(self, capacity: int, obs_dim: int, action_shape: tuple[int, ...] = (),
                 action_dtype: type = np.float32) -> None:
        if capacity <= 0:
            raise ValueError(f'replay buffer capacity must be > 0, got {capacity}')
        self.capacity = int(capacity)
        self.obs = np.zeros((capacity, obs_dim), dtype=np.float32)
        self.next_obs = np.zeros((capacity, obs_dim), dtype=np.float32)
        self.actions = np.zeros((capacity, *action_shape), dtype=action_dtype)
        self.rewards = np.zeros(capacity, dtype=np.float32)
        self.terminated = np.zeros(capacity, dtype=np.float32)
        self.pos = 0
        self.size = 0

    def __len__(self) -> int:
        return self.size

    def add(self, obs: np.ndarray, action: np.ndarray, reward: np.ndarray,
            next_obs: np.ndarray, terminated: np.ndarray) -> None:
        """Append a batch of transitions (first axis = batch)."""
        n = len(obs)
        idx = (self.pos + np.arange(n)) % self.capacity
        self.obs[idx] = obs
        self.actions[idx] = action
        self.rewards[idx] = reward
        self.next_obs[idx] = next_obs
        self.terminated[idx] = terminated
        self.pos = int((self.pos + n) % self.capacity)
        self.size = min(self.size + n, self.capacity)

    def sample(self, batch_size: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Uniformly sample ``batch_size`` stored transitions (with replacement)."""
        if self.size == 0:
            raise ValueError('cannot sample from an empty replay buffer')
        idx = rng.integers(0, self.size, size=batch_size)
        return {'obs': self.obs[idx], 'actions': self.actions[idx],
                'rewards': self.rewards[idx], 'next_obs': self.next_obs[idx],
                'terminated': self.terminated[idx]}

    def state_dict(self) -> dict[str, Any]:
        """All stored data (as tensors, for ``weights_only`` checkpoints) and the position."""
        arrays = {key: torch.from_numpy(getattr(self, key).copy()) for key in _REPLAY_FIELDS}
        return {**arrays, 'pos': self.pos, 'size': self.size}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore from :meth:`state_dict` (capacity and shapes must match)."""
        for key in _REPLAY_FIELDS:
            arr = np.asarray(state[key])
            current = getattr(self, key)
            if arr.shape != current.shape:
                raise ValueError(f'replay buffer {key}: checkpoint shape {arr.shape} does not '
                                 f'match {current.shape}')
            current[...] = arr
        self.pos = int(state['pos'])
        self.size = int(state['size'])


ROLLOUT_FIELDS = ('obs', 'actions', 'logprobs', 'values', 'next_values', 'rewards',
                  'terminated', 'truncated')


class RolloutBuffer:
    """On-policy storage of ``n_steps`` batched steps, ``[n_steps, n_envs, ...]``.

    Allocated on the first :meth:`add`, when the number of envs is known.
    """

    def __init__(self, n_steps: int, obs_dim: int, action_shape: tuple[int, ...],
                 action_dtype: type = np.float32) -> None:
        self.n_steps = int(n_steps)
        self.obs_dim = obs_dim
        self.action_shape = action_shape
        self.action_dtype = action_dtype
        self.data: dict[str, np.ndarray] = {}
        self.step = 0

    @property
    def full(self) -> bool:
        """Whether ``n_steps`` steps are stored."""
        return self.step >= self.n_steps

    def _allocate(self, n_envs: int) -> None:
        shape = (self.n_steps, n_envs)
        self.data = {name: np.zeros(shape, dtype=np.float32) for name in ROLLOUT_FIELDS}
        self.data['obs'] = np.zeros((*shape, self.obs_dim), dtype=np.float32)
        self.data['actions'] = np.zeros((*shape, *self.action_shape), dtype=self.action_dtype)

    def add(self, **fields: np.ndarray) -> None:
        """Store one batched step; every field of ``ROLLOUT_FIELDS`` must be given."""
        n_envs = len(fields['obs'])
        if not self.data:
            self._allocate(n_envs)
        if self.data['obs'].shape[1] != n_envs:
            raise ValueError(f'rollout buffer holds {self.data["obs"].shape[1]} envs, got a '
                             f'batch of {n_envs}: keep the number of envs fixed')
        if self.full:
            raise RuntimeError('rollout buffer is full: call update() first')
        for name in ROLLOUT_FIELDS:
            self.data[name][self.step] = fields[name]
        self.step += 1

    def reset(self) -> None:
        """Forget stored steps (keeps the allocation)."""
        self.step = 0

    def state_dict(self) -> dict[str, Any]:
        """Stored steps and the fill level."""
        return {'data': {k: torch.from_numpy(v.copy()) for k, v in self.data.items()},
                'step': self.step}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore from :meth:`state_dict`."""
        self.data = {k: np.asarray(v).copy() for k, v in state['data'].items()}
        self.step = int(state['step'])


@dataclass
class RolloutMinibatch:
    """One on-policy minibatch (PPO): float32 arrays, observations already normalized.

    Attributes:
        obs: ``[B, obs_dim]``.
        actions: ``[B, act_dim]`` (continuous) or ``[B]`` int64 indices (discrete).
        old_logprobs: ``[B]``, log-probabilities when the actions were taken.
        old_values: ``[B]``, value estimates when the actions were taken.
        advantages: ``[B]``, already standardized if the agent is configured to.
        returns: ``[B]``, value targets.
    """

    obs: np.ndarray
    actions: np.ndarray
    old_logprobs: np.ndarray
    old_values: np.ndarray
    advantages: np.ndarray
    returns: np.ndarray
