# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Sim-to-real wrappers: domain randomization, action latency and observation noise.

:class:`RandomizedEnv` wraps any :class:`~robotrl_ros.tasks.base.TaskEnv` and is itself one, so
both paths see the same perturbed robot: Gymnasium ``step()`` (in-process training) and the sim
bridge's ``step_command()`` / ``joint_state()`` / ``robot_state()``. Each episode draws, from
its own seeded stream:

- ``mass_scale``, ``friction_scale``, ``gain_scale``: passed to the simulator's
  :meth:`~robotrl_ros.tasks.base.TaskEnv.set_dynamics` hook;
- ``latency_steps``: commands take effect that many control periods late (the simulator holds
  the task's neutral command, ``action_to_command(0)``, until the first one arrives);
- observation noise: Gaussian noise of std ``obs_noise_std`` on joint positions and velocities,
  drawn once per control period so every reader of one state sees the same values.

The values used this episode are in :attr:`RandomizedEnv.episode_params`.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np

from robotrl_ros.tasks.base import TaskEnv

_SCALES = ('mass_scale', 'friction_scale', 'gain_scale')


@dataclass(frozen=True)
class RandomizationConfig:
    """Ranges ``(lo, hi)`` sampled uniformly at each episode start.

    Attributes:
        mass_scale: Multiplier of every body mass (and inertia).
        friction_scale: Multiplier of contact friction and joint damping.
        gain_scale: Multiplier of actuator gains.
        latency_steps: Integer command delay in control periods, inclusive range.
        obs_noise_std: Std of Gaussian noise added to joint positions and velocities.
    """

    mass_scale: tuple[float, float] = (1.0, 1.0)
    friction_scale: tuple[float, float] = (1.0, 1.0)
    gain_scale: tuple[float, float] = (1.0, 1.0)
    latency_steps: tuple[int, int] = (0, 0)
    obs_noise_std: float = 0.0

    def __post_init__(self) -> None:
        for name in (*_SCALES, 'latency_steps'):
            value = getattr(self, name)
            try:
                lo, hi = (float(v) for v in value)
            except (TypeError, ValueError):
                raise ValueError(f'randomization {name} must be a [lo, hi] pair of numbers, '
                                 f'got {value!r}') from None
            if not (math.isfinite(lo) and math.isfinite(hi)):
                raise ValueError(f'randomization {name} must be finite, got {value!r}')
            if lo > hi:
                raise ValueError(f'randomization {name}: lo > hi in {value!r}')
            if name == 'latency_steps':
                if lo < 0 or lo != int(lo) or hi != int(hi):
                    raise ValueError(f'randomization latency_steps must be integers >= 0, '
                                     f'got {value!r}')
                object.__setattr__(self, name, (int(lo), int(hi)))
            else:
                if lo <= 0:
                    raise ValueError(f'randomization {name} must be > 0, got {value!r}')
                object.__setattr__(self, name, (lo, hi))
        std = self.obs_noise_std
        if not isinstance(std, (int, float)) or not math.isfinite(std) or std < 0:
            raise ValueError(f'randomization obs_noise_std must be a number >= 0, got {std!r}')

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RandomizationConfig:
        """Build from a plain dict (YAML); unknown keys raise ValueError."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f'randomization: unknown key(s) {unknown}; known: {sorted(known)}')
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (lists and numbers)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @property
    def randomizes_dynamics(self) -> bool:
        """Whether any of mass, friction or gain differs from nominal."""
        return any(getattr(self, name) != (1.0, 1.0) for name in _SCALES)

    def sample(self, rng: np.random.Generator) -> dict[str, Any]:
        """Draw one episode's values."""
        params: dict[str, Any] = {name: float(rng.uniform(*getattr(self, name)))
                                  for name in _SCALES}
        params['latency_steps'] = int(rng.integers(self.latency_steps[0],
                                                   self.latency_steps[1] + 1))
        params['obs_noise_std'] = float(self.obs_noise_std)
        return params


NOMINAL = RandomizationConfig()
# The "real robot" of the sim-to-real tests and benchmarks (issue 6): masses +-30%,
# friction +-50%, 1-3 steps of action latency, observation noise.
SHIFTED = RandomizationConfig(mass_scale=(0.7, 1.3), friction_scale=(0.5, 1.5),
                              latency_steps=(1, 3), obs_noise_std=0.01)


def as_randomization(value: RandomizationConfig | dict[str, Any] | str) -> RandomizationConfig:
    """Accept a config, a dict of its fields, or a preset name (``nominal``, ``shifted``)."""
    if isinstance(value, RandomizationConfig):
        return value
    if isinstance(value, dict):
        return RandomizationConfig.from_dict(value)
    presets = {'nominal': NOMINAL, 'shifted': SHIFTED}
    if isinstance(value, str) and value in presets:
        return presets[value]
    raise ValueError(f'randomization must be a RandomizationConfig, a dict or one of '
                     f'{sorted(presets)}, got {value!r}')


def dr_stream(seed: int) -> np.random.Generator:
    """The randomization stream of an env reset with ``seed`` (apart from its task's stream)."""
    return np.random.default_rng([seed, 0x5EED])


def joint_noise(rng: np.random.Generator, std: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    """One control period's joint-state noise: ``(position, velocity)``, drawn in that order."""
    return rng.normal(0.0, std, n), rng.normal(0.0, std, n)


def apply_dynamics(simulator: Any, params: dict[str, Any]) -> None:
    """Give ``simulator`` (anything with ``set_dynamics``) an episode's sampled dynamics."""
    simulator.set_dynamics(params['mass_scale'], params['friction_scale'], params['gain_scale'])


class RandomizedEnv(TaskEnv):
    """A task environment with randomized dynamics, delayed commands and noisy joint states.

    Args:
        env: The nominal simulator (not reset yet, or reset again by this wrapper).
        config: Ranges to sample each episode.
        seed: Seeds the randomization stream; ``reset(seed=s)`` re-seeds it from ``s``.

    Raises:
        NotImplementedError: If the config randomizes dynamics the simulator cannot change.
    """

    def __init__(self, env: TaskEnv, config: RandomizationConfig,
                 seed: int | None = None) -> None:
        if not isinstance(env, TaskEnv):
            raise ValueError(f'RandomizedEnv wraps a TaskEnv, got {type(env).__name__}')
        super().__init__(env.task, env._fixed_goal)
        self.env = env
        self.config = config
        self._dr_rng = np.random.default_rng(seed)
        self._pending: deque[np.ndarray] = deque()
        n = self.task_spec.action_dim
        self._noise_pos, self._noise_vel = np.zeros(n), np.zeros(n)
        self.episode_params: dict[str, Any] = {}
        if config.randomizes_dynamics:
            env.set_dynamics()      # fails early if the simulator has no dynamics hook

    def __getattr__(self, name: str) -> Any:
        # Task-specific helpers of the wrapped env (e.g. gridworld's state_index).
        if name.startswith('_') or 'env' not in self.__dict__:
            raise AttributeError(name)
        return getattr(self.env, name)

    def reset(self, *, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        """Start an episode with freshly sampled randomization (``info['randomization']``)."""
        if seed is not None:
            self._dr_rng = dr_stream(seed)
        obs, info = super().reset(seed=seed, options=options)
        return obs, {**info, 'randomization': dict(self.episode_params)}

    def set_dynamics(self, mass_scale: float = 1.0, friction_scale: float = 1.0,
                     gain_scale: float = 1.0) -> None:
        """Forward to the wrapped simulator."""
        self.env.set_dynamics(mass_scale, friction_scale, gain_scale)

    def _sim_reset(self, rng: np.random.Generator, options: dict[str, Any]) -> None:
        params = self.config.sample(self._dr_rng)
        if self.config.randomizes_dynamics:
            apply_dynamics(self.env, params)
        self.episode_params = params
        self.env.goal = self.goal
        self.env._sim_reset(rng, options)
        neutral = self.task_spec.action_to_command(np.zeros(self.task_spec.action_dim))
        self._pending = deque([neutral] * params['latency_steps'])
        self._draw_noise()

    def _sim_apply(self, command: np.ndarray) -> None:
        self._pending.append(np.asarray(command, dtype=np.float64).copy())
        self.env._sim_apply(self._pending.popleft())
        self._draw_noise()

    def _sim_joint_state(self) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        position, velocity, effort = self.env._sim_joint_state()
        return position + self._noise_pos, velocity + self._noise_vel, effort

    def _sim_imu(self) -> dict[str, np.ndarray] | None:
        return self.env._sim_imu()

    def _draw_noise(self) -> None:
        std, n = self.config.obs_noise_std, self.task_spec.action_dim
        if std > 0:
            self._noise_pos, self._noise_vel = joint_noise(self._dr_rng, std, n)
