# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The environments a training run steps: a batch of envs with auto-reset and checks.

The loop needs, per step, both the observation to act on next (the reset observation when an
episode ended) and the true final observation (for bootstrapping on truncation), plus each
episode's success flag; and it needs a clear error, not a silent NaN, when an env misbehaves.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import gymnasium as gym
import numpy as np

from robotrl_ros.tasks.registry import make_env


class EnvBatch:
    """Synchronous batch of envs that resets each one as soon as its episode ends.

    Args:
        envs: The environments (same observation and action spaces).
        task: Task name used in error messages.
        index_offset: Index of the first env in error messages (a slice of a larger batch).
    """

    # Class defaults, so that batches pickled in checkpoints before these existed still work.
    index_offset = 0
    closed = False

    def __init__(self, envs: Sequence[gym.Env], task: str = 'env',
                 index_offset: int = 0) -> None:
        if not envs:
            raise ValueError('EnvBatch needs at least one env')
        self.envs = list(envs)
        self.task = task
        self.n_envs = len(self.envs)
        self.index_offset = index_offset
        self.observation_space = self.envs[0].observation_space
        self.action_space = self.envs[0].action_space
        self.steps = 0

    def reset(self, seed: int) -> np.ndarray:
        """Reset every env (env ``i`` seeded with ``seed + i``) and return the observations."""
        obs = []
        for i, env in enumerate(self.envs):
            env.action_space.seed(seed + i)
            first, _ = env.reset(seed=seed + i)
            obs.append(self._check(first, i, 'observation'))
        return np.stack(obs)

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                                                 np.ndarray, list[bool | None]]:
        """Step each env with its action.

        Returns:
            ``(next_obs, reward, terminated, truncated, final_obs, success)``: ``next_obs`` holds
            reset observations for envs whose episode ended, ``final_obs`` the true last
            observations; ``success`` is the episode's ``is_success`` (None if the env does not
            report one or the episode goes on).

        Raises:
            FloatingPointError: If an env returns a non-finite observation or reward.
        """
        self.steps += 1
        next_obs, final_obs, success = [], [], []
        rewards = np.zeros(self.n_envs)
        terminated = np.zeros(self.n_envs, dtype=bool)
        truncated = np.zeros(self.n_envs, dtype=bool)
        for i, env in enumerate(self.envs):
            obs, rewards[i], term, trunc, info = env.step(actions[i])
            terminated[i], truncated[i] = term, trunc
            final_obs.append(obs)
            flag = info.get('is_success')
            success.append(None if flag is None or not (term or trunc) else bool(flag))
            if term or trunc:
                obs, _ = env.reset()
            next_obs.append(obs)
        final, following = np.asarray(final_obs, np.float64), np.asarray(next_obs, np.float64)
        # One vectorized finiteness check per step; per-env checks only to name the culprit.
        if not (np.isfinite(final).all() and np.isfinite(rewards).all()
                and np.isfinite(following).all()):
            for i in range(self.n_envs):
                self._check(final[i], i, 'observation')
                self._check(rewards[i], i, 'reward')
                self._check(following[i], i, 'observation (after reset)')
        return following, rewards, terminated, truncated, final, success

    def _check(self, value: Any, index: int, what: str) -> np.ndarray:
        value = np.asarray(value, dtype=np.float64)
        if not np.all(np.isfinite(value)):
            raise FloatingPointError(f'task {self.task!r}: env {self.index_offset + index} '
                                     f'returned a non-finite '
                                     f'{what} (NaN/Inf) at step {self.steps}: {value}')
        return value

    def close(self) -> None:
        """Close every env (once: a second call does nothing)."""
        if self.closed:
            return
        self.closed = True
        for env in self.envs:
            env.close()


def make_env_batch(task: str, n_envs: int, env_kwargs: dict[str, Any] | None = None,
                   factory: Callable[..., gym.Env] = make_env) -> EnvBatch:
    """``n_envs`` copies of ``task`` from the task registry (``factory`` for tests).

    They are stepped in this process; :func:`robotrl_ros.training.subproc_env.in_workers`
    hands such a batch to worker processes.
    """
    return EnvBatch([factory(task, **(env_kwargs or {})) for _ in range(n_envs)], task)
