# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The robot a policy node is given: from a robot file, or a robot_description alone."""

import hashlib

import numpy as np
import pytest

from robotrl_ros.policy.deploy_robot import load_deploy_robot
from robotrl_ros.tasks.robots.config import load_robot
from robotrl_ros.tasks.robots.description import description_path

TWO_JOINTS = """<robot name="two">
  <link name="base"/><link name="l1"/><link name="l2"/>
  <joint name="j1" type="revolute"><parent link="base"/><child link="l1"/>
    <limit lower="0.5" upper="1.5" velocity="2.0" effort="10"/></joint>
  <joint name="j2" type="continuous"><parent link="l1"/><child link="l2"/>
    <limit velocity="3.0" effort="5"/></joint>
</robot>"""


def test_nothing_given_is_no_robot():
    assert load_deploy_robot('', '') is None


def test_a_built_in_robot_has_its_files_joints_pose_gains_and_limits():
    robot = load_deploy_robot('a1')
    assert robot.name == 'a1' and robot.source == 'robot a1'
    assert robot.joint_names[:3] == ('FR_hip_joint', 'FR_upper_joint', 'FR_lower_joint')
    np.testing.assert_allclose(robot.default_pose[:3], [-0.1, 0.8, -1.5])
    np.testing.assert_allclose(robot.kp, 20.0) and np.testing.assert_allclose(robot.kd, 0.5)
    assert np.all(np.isfinite(robot.velocity)) and np.all(robot.lower < robot.upper)
    text = description_path(load_robot('a1')).read_text()
    assert robot.description_sha256 == hashlib.sha256(text.encode()).hexdigest()
    limits = robot.limits()
    assert limits.sources == ('robot a1',) and set(limits.joints) == set(robot.joint_names)


def test_the_panda_commands_its_arm_and_describes_its_fingers_too():
    robot = load_deploy_robot('panda')
    assert len(robot.joint_names) == 7
    assert 'panda_finger_joint1' in robot.described_joints
    np.testing.assert_allclose(robot.default_pose[3], -2.356)


def test_a_robot_description_alone_gives_joints_limits_and_a_pose_inside_them(tmp_path):
    robot = load_deploy_robot('', TWO_JOINTS)
    assert robot.name == 'two' and robot.source == 'robot_description'
    assert robot.joint_names == ('j1', 'j2') and robot.kp is None and robot.kd is None
    np.testing.assert_allclose(robot.default_pose, [0.5, 0.0])   # 0 clamped into [0.5, 1.5]
    np.testing.assert_allclose(robot.velocity, [2.0, 3.0])
    assert robot.description_sha256 == hashlib.sha256(TWO_JOINTS.encode()).hexdigest()
    path = tmp_path / 'two.urdf'
    path.write_text(TWO_JOINTS)
    assert load_deploy_robot('', str(path)).description_sha256 == robot.description_sha256
    np.testing.assert_allclose(robot.values_for(robot.velocity, ['j2', 'j1']), [3.0, 2.0])
    assert robot.values_for(robot.velocity, ['j3']) is None


@pytest.mark.parametrize('robot, description, message', [
    ('no_such_robot', '', "parameter 'robot': unknown robot 'no_such_robot'"),
    ('', '<robot name="x"><link name="a"/></robot>', 'no movable joint'),
    ('', '<mujoco/>', "parameter 'robot_description'"),
    ('', '/no/such/file.urdf', "parameter 'robot_description': neither URDF XML"),
])
def test_bad_robots_name_the_parameter(robot, description, message):
    with pytest.raises(ValueError, match=message):
        load_deploy_robot(robot, description)
