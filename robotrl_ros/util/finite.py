# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Finiteness checks used on every layer: agents' batches, the policy's commands, ROS messages."""

from __future__ import annotations

import math

import numpy as np


def all_finite(vector: np.ndarray) -> bool:
    """Whether every entry of a 1-D float array is finite (no NaN/Inf).

    ``vector @ vector`` (one BLAS call: the cheapest NumPy op on a short vector, which the
    policy node runs on every message) is finite iff every entry is, unless it overflows
    (entries beyond about 1e154 in float64, 1e19 in float32): only then are the entries
    checked one by one.
    """
    return math.isfinite(vector.dot(vector)) or bool(np.isfinite(vector).all())
