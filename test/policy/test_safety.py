# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""CommandFilter: the robot's limits intersected with the artifact's, rates per second."""

import numpy as np
import pytest

from robotrl_ros.policy.joint_limits import JointLimits, Limit
from robotrl_ros.policy.safety import CommandFilter
from robotrl_ros.policy.synthetic import synthetic_spec


def _robot(**per_joint):
    return JointLimits({name: Limit(**kw) for name, kw in per_joint.items()}, ('test',))


def test_clamp_is_the_intersection_of_robot_and_artifact_limits():
    spec = synthetic_spec(3, limit=1.0)                 # artifact: ±1 on every joint
    robot = _robot(joint_0=dict(lower=-0.2, upper=3.0), joint_1=dict(lower=-5.0, upper=0.5))
    filt = CommandFilter(spec, node_limits=robot)
    np.testing.assert_array_equal(filt.lower, [-0.2, -1.0, -1.0])
    np.testing.assert_array_equal(filt.upper, [1.0, 0.5, 1.0])
    np.testing.assert_array_equal(filt.apply(np.array([-9.0, 9.0, 0.3])), [-0.2, 0.5, 0.3])


def test_velocity_interface_is_clamped_to_the_joint_velocity_limit():
    spec = synthetic_spec(2, command_interface='velocity', limit=100.0)
    filt = CommandFilter(spec, node_limits=_robot(joint_0=dict(velocity=2.0),
                                                  joint_1=dict(velocity=0.5, lower=0, upper=1)))
    np.testing.assert_array_equal(filt.apply(np.array([-30.6, 30.0])), [-2.0, 0.5])


def test_max_command_rate_is_per_second_whatever_the_message_rate():
    filt = CommandFilter(synthetic_spec(1), max_command_rate=1.0, control_period=0.1)
    filt.reset(np.zeros(1))
    assert filt.apply(np.array([1.0]))[0] == pytest.approx(0.1)          # one period
    assert filt.apply(np.array([1.0]), dt=0.01)[0] == pytest.approx(0.11)  # 10x the rate
    for _ in range(10):
        command = filt.apply(np.array([1.0]), dt=0.01)
    assert command[0] == pytest.approx(0.21)     # 0.1 s more: 0.1 more, not 10 periods' worth


def test_position_targets_never_move_faster_than_the_joint_velocity_limit():
    robot = _robot(joint_0=dict(lower=-1, upper=1, velocity=0.5),
                   joint_1=dict(lower=-1, upper=1))   # no velocity limit: free
    filt = CommandFilter(synthetic_spec(2), node_limits=robot, control_period=0.02)
    filt.reset(np.zeros(2))
    rng = np.random.default_rng(0)
    previous = filt.last.copy()
    for _ in range(200):
        dt = rng.uniform(0.001, 0.02)
        command = filt.apply(rng.uniform(-1.5, 1.5, 2), dt=dt)
        assert abs(command[0] - previous[0]) <= 0.5 * dt + 1e-12
        previous = command
    assert filt.rate_limited > 0


def test_deprecated_max_command_delta_still_limits_each_message():
    filt = CommandFilter(synthetic_spec(2), max_command_delta=0.1, max_command_rate=100.0,
                         control_period=0.02)
    filt.reset(np.array([0.5, -0.5]))
    np.testing.assert_allclose(filt.apply(np.array([1.0, -0.52])), [0.6, -0.52])


def test_safe_command_per_interface():
    position = CommandFilter(synthetic_spec(2))
    assert position.safe_command(None) is None                # nothing known yet
    np.testing.assert_array_equal(position.safe_command(np.array([0.2, 9.0])), [0.2, 1.5])
    position.apply(np.array([0.4, 0.4]))
    np.testing.assert_array_equal(position.safe_command(np.array([0.0, 0.0])), [0.4, 0.4])
    for interface in ('velocity', 'effort', 'acceleration'):
        filt = CommandFilter(synthetic_spec(2, command_interface=interface))
        filt.apply(np.array([0.7, -0.7]))
        np.testing.assert_array_equal(filt.safe_command(np.ones(2)), [0.0, 0.0])


@pytest.mark.parametrize('shape', [(1,), (1, 3), (3, 1)])
def test_wrong_shaped_commands_are_refused_not_broadcast(shape):
    assert CommandFilter(synthetic_spec(3)).apply(np.zeros(shape)) is None


def test_disjoint_limits_are_named():
    robot = _robot(joint_1=dict(lower=2.0, upper=3.0))
    with pytest.raises(ValueError, match=r"do not overlap for joint\(s\) \['joint_1'\]"):
        CommandFilter(synthetic_spec(2, limit=1.0), node_limits=robot)


@pytest.mark.parametrize('kwargs, message', [
    ({'max_command_rate': -1.0}, 'max_command_rate must be >= 0'),
    ({'control_period': float('inf')}, 'control_period must be >= 0'),
])
def test_bad_rate_settings_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        CommandFilter(synthetic_spec(2), **kwargs)
