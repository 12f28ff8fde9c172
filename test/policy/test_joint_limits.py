# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The robot's joint limits from a URDF and a ros2_control-style joint_limits YAML."""

import math

import numpy as np
import pytest

from robotrl_ros.policy.joint_limits import (
    JointLimits,
    JointLimitsError,
    Limit,
    limits_from_urdf,
    limits_from_yaml,
    load_node_limits,
)

URDF = """<robot name="arm">
  <link name="base"/><link name="l1"/><link name="l2"/><link name="l3"/><link name="tool"/>
  <joint name="shoulder" type="revolute"><parent link="base"/><child link="l1"/>
    <limit lower="-1.0" upper="2.0" velocity="1.5" effort="30"/></joint>
  <joint name="wheel" type="continuous"><parent link="l1"/><child link="l2"/>
    <limit velocity="4.0" effort="0"/></joint>
  <joint name="slider" type="prismatic"><parent link="l2"/><child link="l3"/>
    <limit lower="0" upper="0.3" velocity="0.2" effort="100"/></joint>
  <joint name="flange" type="fixed"><parent link="l3"/><child link="tool"/></joint>
</robot>"""

YAML = """joint_limits:
  shoulder:
    has_position_limits: true
    min_position: -0.5
    max_position: 2.5
    has_velocity_limits: true
    max_velocity: 1.0
    has_acceleration_limits: true
    max_acceleration: 5.0
    has_effort_limits: false
    max_effort: 1.0
"""


def test_urdf_limits_per_movable_joint():
    limits = limits_from_urdf(URDF)
    assert set(limits.joints) == {'shoulder', 'wheel', 'slider'}
    assert limits.joints['shoulder'] == Limit(-1.0, 2.0, 1.5, 30.0)
    wheel = limits.joints['wheel']   # continuous: no position limits; effort 0 = not given
    assert wheel.lower == -math.inf and wheel.upper == math.inf and wheel.velocity == 4.0
    assert wheel.effort == math.inf
    assert limits.sources == ('robot_description',)


def test_yaml_limits_and_the_tighter_of_both(tmp_path):
    path = tmp_path / 'limits.yaml'
    path.write_text(YAML)
    yaml_limits = limits_from_yaml(path)
    assert yaml_limits.joints['shoulder'] == Limit(-0.5, 2.5, 1.0, math.inf, 5.0)
    both = load_node_limits(URDF, str(path))
    assert both.joints['shoulder'] == Limit(-0.5, 2.0, 1.0, 30.0, 5.0)
    assert both.sources == ('robot_description', str(path))


def test_yaml_nested_under_ros_parameters(tmp_path):
    path = tmp_path / 'limits.yaml'
    path.write_text('controller_manager:\n  ros__parameters:\n' +
                    ''.join('    ' + line + '\n' for line in YAML.splitlines()))
    assert limits_from_yaml(path).joints['shoulder'].upper == 2.5


def test_command_bounds_per_interface_and_uncovered_joints():
    limits = limits_from_urdf(URDF)
    names = ('slider', 'shoulder', 'wheel', 'elbow')
    low, high = limits.command_bounds(names, 'position')
    np.testing.assert_array_equal(low, [0.0, -1.0, -np.inf, -np.inf])
    np.testing.assert_array_equal(high, [0.3, 2.0, np.inf, np.inf])
    low, high = limits.command_bounds(names, 'velocity')
    np.testing.assert_array_equal(high, [0.2, 1.5, 4.0, np.inf])
    np.testing.assert_array_equal(low, -high)
    # the continuous wheel is bounded by its velocity limit; elbow is not in the URDF at all
    assert limits.uncovered(names, 'position') == ['elbow']
    assert limits.uncovered(names, 'effort') == ['wheel', 'elbow']
    assert not JointLimits() and limits


@pytest.mark.parametrize('text, message', [
    ('<robot', 'robot_description: not URDF XML'),
    ('<mujoco/>', 'root element <mujoco>, expected a URDF <robot>'),
    ('<robot><joint name="j" type="revolute"><limit lower="a"/></joint></robot>',
     "joint 'j': limit lower='a' is not a number"),
    ('<robot><joint name="j" type="revolute"><limit lower="1" upper="0"/></joint></robot>',
     "joint 'j': lower limit 1.0 > upper 0.0"),
])
def test_bad_urdf_is_named(text, message):
    with pytest.raises(JointLimitsError, match=message):
        limits_from_urdf(text)


@pytest.mark.parametrize('text, message', [
    ('other: 1\n', 'no `joint_limits:` mapping'),
    ('joint_limits:\n  j: 3\n', "joint 'j': expected a mapping"),
    ('joint_limits:\n  j:\n    has_velocity_limits: true\n', "joint 'j': max_velocity must be"),
    ('joint_limits: [\n', 'cannot read'),
])
def test_bad_yaml_is_named(tmp_path, text, message):
    path = tmp_path / 'bad.yaml'
    path.write_text(text)
    with pytest.raises(JointLimitsError, match=message):
        limits_from_yaml(path)


def test_robot_description_as_a_file_path(tmp_path):
    path = tmp_path / 'arm.urdf'
    path.write_text(URDF)
    assert load_node_limits(str(path)).joints['slider'].upper == 0.3
    with pytest.raises(JointLimitsError, match='neither URDF XML nor a readable file'):
        load_node_limits(str(tmp_path / 'missing.urdf'))
