# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Perturbations of a simulated floating base: random pushes and IMU noise (sim bridge DR).

Legged sim-to-real training (legged_gym, Isaac Lab) pushes the robot now and then and trains on
noisy IMU readings. :class:`BasePerturbations` does both for the sim bridge, from its own seeded
stream, on top of the per-episode randomization of :mod:`robotrl_ros.tasks.randomization`:

- a push every ``push_interval`` seconds of sim time adds a planar velocity, uniform in
  ``[-push_velocity, push_velocity]`` per axis, to the base (the free joint's ``qvel``);
- IMU noise adds Gaussian noise of std ``imu_noise_std`` to every published base signal
  (projected gravity, angular and linear velocity), drawn once per control period so every
  reader of one state sees the same values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

#: sim_bridge parameter -> BasePerturbations field.
PERTURBATION_PARAMETERS = {
    'dr_push_interval': 'push_interval',
    'dr_push_velocity': 'push_velocity',
    'dr_imu_noise_std': 'imu_noise_std',
}


@dataclass(frozen=True)
class BasePerturbations:
    """Push and IMU-noise settings (all 0: none).

    Attributes:
        push_interval: Seconds of sim time between pushes; 0 = no pushes.
        push_velocity: Largest planar velocity change of one push, per axis (m/s).
        imu_noise_std: Std of Gaussian noise on the published IMU and base twist.
    """

    push_interval: float = 0.0
    push_velocity: float = 0.0
    imu_noise_std: float = 0.0

    def __post_init__(self) -> None:
        for field, name in ((f, p) for p, f in PERTURBATION_PARAMETERS.items()):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or \
                    not math.isfinite(value) or value < 0:
                raise ValueError(f'{name} must be a number >= 0, got {value!r}')

    @property
    def pushes(self) -> bool:
        """Whether the base gets pushed."""
        return self.push_interval > 0 and self.push_velocity > 0

    @property
    def active(self) -> bool:
        """Whether anything is perturbed."""
        return self.pushes or self.imu_noise_std > 0

    @classmethod
    def from_parameters(cls, params: dict[str, Any]) -> BasePerturbations:
        """Settings from the ``dr_push_*`` / ``dr_imu_noise_std`` parameters in ``params``."""
        return cls(**{field: float(params[name]) for name, field in
                      PERTURBATION_PARAMETERS.items() if name in params})


class BaseDisturber:
    """Applies :class:`BasePerturbations` to one simulated floating base.

    Args:
        settings: What to perturb.
        qvel: The simulator's generalized velocity array (free joint first), written in place;
            None when the robot has no floating base.
        seed: Seeds the push and noise stream.

    Raises:
        ValueError: Perturbations asked of a robot without a floating base, naming the
            parameter.
    """

    def __init__(self, settings: BasePerturbations, qvel: np.ndarray | None, seed: int) -> None:
        if qvel is None:
            for name, field in PERTURBATION_PARAMETERS.items():
                if getattr(settings, field) > 0:
                    raise ValueError(f'parameter {name!r}: the simulated robot has no floating '
                                     'base (pushes and IMU noise apply to legged robots)')
        self.settings = settings
        self._qvel = qvel
        self._rng = np.random.default_rng([int(seed), 0xB0DE])
        self._next_push = settings.push_interval
        self._noise: dict[str, np.ndarray] = {}
        self.pushes = 0

    def on_reset(self, sim_time: float) -> None:
        """A new episode starts at ``sim_time``: the next push is one interval later."""
        self._next_push = sim_time + self.settings.push_interval
        self._draw_noise()

    def before_step(self, sim_time: float) -> None:
        """A control period starts at ``sim_time``: push the base if a push is due."""
        settings = self.settings
        if settings.pushes and sim_time + 1e-9 >= self._next_push:
            kick = self._rng.uniform(-settings.push_velocity, settings.push_velocity, 2)
            self._qvel[0:2] += kick
            self._next_push += settings.push_interval
            self.pushes += 1

    def after_step(self) -> None:
        """A control period ended: draw the IMU noise of the new state."""
        self._draw_noise()

    def _draw_noise(self) -> None:
        std = self.settings.imu_noise_std
        if std > 0:
            self._noise = {key: self._rng.normal(0.0, std, 3) for key in
                           ('projected_gravity', 'base_ang_vel', 'base_lin_vel')}

    def noisy(self, imu: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """``imu`` with this period's noise added (unchanged without IMU noise)."""
        if not self._noise:
            return imu
        return {key: value + self._noise.get(key, 0.0) for key, value in imu.items()}
