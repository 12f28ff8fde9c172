# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""How long each foot of a legged robot was in the air when it touched down (simulation only).

legged_gym's ``feet_air_time`` reward pays ``air_time - 0.5 s`` for every foot that lands: a gait
that lifts its feet for longer steps instead of shuffling them along the ground, which stalls on
high-friction ground. Foot contacts are read from the simulator (MuJoCo contacts between a foot
body and the world), so the term exists in simulation only: on a robot the topics carry no
contact, and a trainer scoring graph transitions cannot compute it.
"""

from __future__ import annotations

from typing import Any

import mujoco
import numpy as np


def feet_in_contact(model: mujoco.MjModel, data: mujoco.MjData,
                    feet_bodies: tuple[int, ...]) -> np.ndarray:
    """Whether each of ``feet_bodies`` touches the world (the floor), ``(n_feet,)`` bool."""
    n = int(data.ncon)
    if n == 0:
        return np.zeros(len(feet_bodies), dtype=bool)
    bodies = model.geom_bodyid[data.contact.geom[:n]]           # (n, 2)
    on_floor = bodies[(bodies == 0).any(axis=1)]
    return np.isin(np.asarray(feet_bodies), on_floor)


class FeetAirTime:
    """Per-foot air time of a batch of robots, legged_gym's bookkeeping.

    A foot counts as in contact if it touched the floor at this control step or the previous one
    (contacts flicker on landing). Each :meth:`update` adds one control period to every foot's
    air time and returns, for the feet that just landed, the air time of that flight.

    Args:
        n_envs: Robots.
        n_feet: Feet per robot.
        period: Control period (s).
    """

    def __init__(self, n_envs: int, n_feet: int, period: float) -> None:
        if n_feet < 1:
            raise ValueError('feet_air_time needs the robot\'s feet (`feet` in its robot YAML)')
        self.period = float(period)
        self.air = np.zeros((n_envs, n_feet))
        self.last_contact = np.zeros((n_envs, n_feet), dtype=bool)

    def update(self, contact: np.ndarray) -> np.ndarray:
        """Fold in this step's contacts ``(n_envs, n_feet)``; air time of each landing, else 0."""
        contact = np.asarray(contact, dtype=bool)
        touching = contact | self.last_contact
        self.last_contact = contact
        landed = (self.air > 0) & touching
        self.air += self.period
        flight = np.where(landed, self.air, 0.0)
        self.air[touching] = 0.0
        return flight

    def reset(self, rows: np.ndarray | None = None) -> None:
        """Start over for ``rows`` (a mask or indices; all robots when None)."""
        rows = slice(None) if rows is None else np.asarray(rows)
        self.air[rows] = 0.0
        self.last_contact[rows] = False

    def state(self) -> dict[str, Any]:
        """Copies of the arrays (for pickling a batch)."""
        return {'air': self.air.copy(), 'last_contact': self.last_contact.copy()}

    def restore(self, state: dict[str, Any]) -> None:
        """Arrays from :meth:`state`."""
        self.air = np.array(state['air'], dtype=np.float64)
        self.last_contact = np.array(state['last_contact'], dtype=bool)
