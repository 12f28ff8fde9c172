# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Gymnasium benchmark environments (``gym:<id>``) with actions in [-1, 1] like our tasks.

These are benchmark envs, not robots: ``task_spec`` is None, so they run with the in-process
trainer and benchmarks but not on the ROS graph.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

GYM_PREFIX = 'gym:'


class GymBenchmarkEnv(gym.Wrapper):
    """A Gymnasium env whose Box actions are rescaled to [-1, 1] and checked for NaN/Inf.

    Args:
        env: The environment, e.g. ``gym.make('Pendulum-v1')``.
        name: Name used in error messages.

    Attributes:
        task_spec: Always None (no robot interface).
        goal: Always None.
    """

    task_spec = None
    goal = None

    def __init__(self, env: gym.Env, name: str) -> None:
        super().__init__(env)
        self.name = name
        space = env.action_space
        self._low = self._half_range = None
        if isinstance(space, gym.spaces.Box):
            low, high = space.low.astype(np.float64), space.high.astype(np.float64)
            if not (np.all(np.isfinite(low)) and np.all(np.isfinite(high))):
                raise ValueError(f'{name}: action space {space} is unbounded; cannot rescale it '
                                 'to [-1, 1]')
            # Own rescaling (not gymnasium's RescaleAction, whose closures cannot be pickled
            # into training checkpoints).
            self._low, self._half_range = low, (high - low) / 2.0
            ones = np.ones(space.shape, dtype=space.dtype)
            self.action_space = gym.spaces.Box(-ones, ones, dtype=space.dtype)

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        """Step with an action in [-1, 1] (Box, clipped) or an index (Discrete)."""
        if self._low is not None:
            action = np.asarray(action, dtype=np.float64).reshape(self.action_space.shape)
            if not np.all(np.isfinite(action)):
                raise ValueError(f'{self.name}: action contains NaN/Inf: {action}')
            action = self._low + (np.clip(action, -1.0, 1.0) + 1.0) * self._half_range
            action = action.astype(self.env.action_space.dtype)
        return self.env.step(action)


def make_gym_env(name: str, **kwargs: Any) -> GymBenchmarkEnv:
    """``make_gym_env('gym:Pendulum-v1')``: the Gymnasium env behind the ``gym:`` prefix.

    Raises:
        ValueError: If the id is empty or not registered with Gymnasium.
    """
    env_id = name[len(GYM_PREFIX):] if name.startswith(GYM_PREFIX) else name
    if not env_id:
        raise ValueError(f'task {name!r}: give a Gymnasium id after {GYM_PREFIX!r}, '
                         'e.g. gym:Pendulum-v1')
    try:
        env = gym.make(env_id, **kwargs)
    except gym.error.Error as exc:
        raise ValueError(f'unknown Gymnasium environment {name!r}: {exc}') from exc
    return GymBenchmarkEnv(env, name)
