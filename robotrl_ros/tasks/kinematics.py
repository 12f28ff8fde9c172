# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Pure forward kinematics shared by simulated tasks and observation terms.

The graph (policy and trainer nodes) thus computes exactly what the simulator's task computes.
"""

from __future__ import annotations

import math

import numpy as np

# Reacher-v5 (gymnasium/envs/mujoco/assets/reacher.xml): body1 at 0.1 along link0, fingertip
# at 0.11 along link1.
REACHER_LINK_LENGTHS = (0.1, 0.11)


def planar_two_link_tip(q: np.ndarray, lengths: tuple[float, float] = REACHER_LINK_LENGTHS
                        ) -> np.ndarray:
    """(x, y) of the tip of a planar 2-link arm with joint angles ``q[..., :2]`` (rad)."""
    q = np.asarray(q, dtype=np.float64)
    if q.ndim == 1:     # one configuration: scalar math, no array overhead
        a0, a01 = float(q[0]), float(q[0] + q[1])
        return np.array([lengths[0] * math.cos(a0) + lengths[1] * math.cos(a01),
                         lengths[0] * math.sin(a0) + lengths[1] * math.sin(a01)])
    angles = np.empty(q.shape[:-1] + (2,))
    angles[..., 0] = q[..., 0]
    angles[..., 1] = q[..., 0] + q[..., 1]
    links = np.asarray(lengths, dtype=np.float64)
    tip = np.empty(q.shape[:-1] + (2,))
    tip[..., 0] = (links * np.cos(angles)).sum(axis=-1)
    tip[..., 1] = (links * np.sin(angles)).sum(axis=-1)
    return tip
