# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Imu/TwistStamped building used by the sim bridge for floating-base tasks."""

import numpy as np
import pytest

from robotrl_ros.ros.conversions import (
    gravity_to_quaternion,
    make_imu,
    make_twist_stamped,
    stamp_to_sec,
)
from robotrl_ros.tasks.observation import projected_gravity


@pytest.mark.parametrize('gravity', [
    [0.0, 0.0, -1.0], [0.0, 0.0, 1.0], [0.3, -0.2, -0.93], [1.0, 0.0, 0.0], [0.1, 0.7, 0.7],
])
def test_gravity_quaternion_round_trips_through_the_policy_reader(gravity):
    g = np.asarray(gravity) / np.linalg.norm(gravity)
    quat = gravity_to_quaternion(g)
    assert np.linalg.norm(quat) == pytest.approx(1.0)
    np.testing.assert_allclose(projected_gravity(quat), g, atol=1e-12)


def test_random_gravity_directions_round_trip():
    rng = np.random.default_rng(0)
    for g in rng.normal(size=(200, 3)):
        g /= np.linalg.norm(g)
        np.testing.assert_allclose(projected_gravity(gravity_to_quaternion(g)), g, atol=1e-9)


def test_make_imu_and_twist_fields():
    imu = make_imu(np.array([0.0, 0.0, -1.0]), np.array([0.1, 0.2, 0.3]), stamp=1.5)
    assert stamp_to_sec(imu.header.stamp) == 1.5 and imu.header.frame_id == 'base'
    assert (imu.orientation.x, imu.orientation.y, imu.orientation.z, imu.orientation.w) == \
        (0.0, 0.0, 0.0, 1.0)
    assert (imu.angular_velocity.x, imu.angular_velocity.z) == (0.1, 0.3)
    assert imu.linear_acceleration_covariance[0] == -1.0  # not measured
    twist = make_twist_stamped(np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0]), stamp=2.0)
    assert (twist.twist.linear.y, twist.twist.angular.z) == (2.0, 6.0)
    assert stamp_to_sec(twist.header.stamp) == 2.0
