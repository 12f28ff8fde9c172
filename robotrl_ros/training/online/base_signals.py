# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Pair a floating base's ``imu`` and ``base_twist`` samples with ``joint_states`` by stamp.

A legged robot's state is three streams: ``joint_states`` (ros2_control's joint_state_broadcaster
or the sim bridge), ``imu`` (sensor_msgs/Imu: orientation -> projected gravity, angular velocity)
and ``base_twist`` (geometry_msgs/TwistStamped from a state estimator: base linear velocity).
They are stamped by different sources, at different rates. A joint state is given, of each of
the two base streams, the received sample whose stamp is nearest to its own, if that sample is at
most ``tolerance`` seconds away (the sim bridge stamps all three alike; on a robot an IMU at a
higher rate always has a sample that close). A joint state without a close enough sample of a
stream that has been received is counted (``imu_unmatched`` / ``base_twist_unmatched``); the
task then drops the transition as missing an input. A task on a fixed base receives neither
stream and nothing is counted.
"""

from __future__ import annotations

from collections import Counter, deque

import numpy as np

from robotrl_ros.tasks.observation import projected_gravity
from robotrl_ros.tasks.spec import TaskSpec

#: Observation terms that come from the base streams (``RobotState.imu`` keys).
BASE_TERMS = ('projected_gravity', 'base_ang_vel', 'base_lin_vel')
#: Default largest stamp offset (s) between a joint state and the base samples paired with it.
DEFAULT_TOLERANCE = 0.01
#: Base samples kept per stream to find the nearest stamp.
HISTORY = 64


def observes_base(spec: TaskSpec) -> bool:
    """Whether the task's observation needs ``imu`` / ``base_twist`` (a floating base)."""
    return any(term.name in BASE_TERMS for term in spec.observation)


class BaseSignalMatcher:
    """Keep the latest ``imu`` and ``base_twist`` samples; give each joint state its own.

    Args:
        tolerance: Largest ``|stamp offset|`` in seconds of a paired sample (>= 0).

    Raises:
        ValueError: A negative or non-finite tolerance.
    """

    def __init__(self, tolerance: float = DEFAULT_TOLERANCE) -> None:
        if not np.isfinite(tolerance) or tolerance < 0:
            raise ValueError(f'imu_tolerance must be a number of seconds >= 0, got {tolerance}')
        self.tolerance = float(tolerance)
        self._streams: dict[str, deque[tuple[float, dict[str, np.ndarray]]]] = {
            'imu': deque(maxlen=HISTORY), 'base_twist': deque(maxlen=HISTORY)}
        self.counts: Counter[str] = Counter()

    def on_imu(self, stamp: float, orientation_xyzw: np.ndarray,
               angular_velocity: np.ndarray) -> dict[str, np.ndarray] | None:
        """An ``imu`` sample; returns its base signals, or None (counted as ``bad_imu``).

        A sample without a valid (finite, nonzero) quaternion or a finite rate is dropped.
        """
        quat = np.asarray(orientation_xyzw, dtype=np.float64)
        rate = np.asarray(angular_velocity, dtype=np.float64)
        if quat.shape != (4,) or rate.shape != (3,) or not np.all(np.isfinite(quat)) or \
                not np.all(np.isfinite(rate)) or float(quat @ quat) < 1e-12:
            self.counts['bad_imu'] += 1
            return None
        values = {'projected_gravity': projected_gravity(orientation_xyzw),
                  'base_ang_vel': np.asarray(angular_velocity, dtype=np.float64).copy()}
        self._streams['imu'].append((float(stamp), values))
        return values

    def on_base_twist(self, stamp: float, linear: np.ndarray) -> dict[str, np.ndarray] | None:
        """A ``base_twist`` sample; its signal, or None if malformed (``bad_base_twist``)."""
        velocity = np.asarray(linear, dtype=np.float64)
        if velocity.shape != (3,) or not np.all(np.isfinite(velocity)):
            self.counts['bad_base_twist'] += 1
            return None
        values = {'base_lin_vel': np.asarray(linear, dtype=np.float64).copy()}
        self._streams['base_twist'].append((float(stamp), values))
        return values

    def match(self, stamp: float) -> dict[str, np.ndarray] | None:
        """Base signals for the joint state stamped ``stamp``; None when there are none."""
        merged: dict[str, np.ndarray] = {}
        for name, samples in self._streams.items():
            if not samples:
                continue
            offset, values = min(((abs(s - stamp), v) for s, v in samples),
                                 key=lambda item: item[0])
            if offset <= self.tolerance + 1e-9:
                merged.update(values)
                self.counts[f'{name}_paired'] += 1
            else:
                self.counts[f'{name}_unmatched'] += 1
        return merged or None

    def counters(self) -> dict[str, int]:
        """``imu_paired``, ``imu_unmatched``, ``base_twist_paired``, ... (those that occurred)."""
        return dict(self.counts)
