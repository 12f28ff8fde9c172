# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""An artifact checked against the robot it is about to drive: every mismatch named."""

import numpy as np
import pytest

from robotrl_ros.policy.deploy_check import check_artifact
from robotrl_ros.policy.deploy_robot import load_deploy_robot
from robotrl_ros.policy.joint_limits import JointLimits
from robotrl_ros.tasks.registry import make_task
from robotrl_ros.tasks.robots.config import load_robot
from robotrl_ros.tasks.robots.description import description_path


@pytest.fixture(scope='module')
def a1():
    return load_deploy_robot('a1')


@pytest.fixture(scope='module')
def a1_spec():
    return make_task('locomotion', robot='a1').spec


def trained_on(robot, **changes):
    """The ``robot`` section an exporter records for ``robot``."""
    section = {'name': robot.name, 'description_sha256': robot.description_sha256,
               'kp': robot.kp.tolist(), 'kd': robot.kd.tolist(),
               'default_pose': robot.default_pose.tolist()}
    section.update(changes)
    return {'robot': section}


def test_an_artifact_for_its_own_robot_has_no_mismatch(a1, a1_spec):
    check = check_artifact(a1_spec, trained_on(a1), a1, a1.limits())
    assert check.mismatches == [] and check.refusal is None


def test_an_a1_artifact_is_refused_on_the_panda_description_naming_the_missing_joints(a1,
                                                                                   a1_spec):
    text = description_path(load_robot('panda')).read_text()
    panda = load_deploy_robot('', text)
    check = check_artifact(a1_spec, trained_on(a1), panda, panda.limits())
    assert check.refusal is not None
    for name in a1_spec.joint_names:
        assert name in check.refusal
    assert 'panda_joint1' in check.refusal   # what the robot has instead
    assert check.refusal in check.mismatches
    assert any("robot name: trained on 'a1'" in line for line in check.mismatches)
    assert any('robot description differs' in line for line in check.mismatches)


def test_different_gains_and_description_are_each_named(a1, a1_spec):
    kp = a1.kp.copy()
    kp[1] = 25.0
    check = check_artifact(a1_spec, trained_on(a1, kp=kp.tolist(), description_sha256='0' * 64),
                           a1, a1.limits())
    assert check.refusal is None
    assert any('kp differs: FR_upper_joint kp 25 (trained) != 20 (robot a1)' in line
               for line in check.mismatches)
    assert not any(line.startswith('kd') for line in check.mismatches)
    assert any('sha256 000000000000 trained' in line for line in check.mismatches)


def test_an_artifact_without_a_robot_section_or_gains_is_reported(a1, a1_spec):
    check = check_artifact(a1_spec, {}, a1, a1.limits())
    assert check.refusal is None and 'records no robot' in check.mismatches[0]
    section = trained_on(a1)
    del section['robot']['kd']
    check = check_artifact(a1_spec, section, a1, a1.limits())
    assert any("no actuator gains ['kd']" in line for line in check.mismatches)


def test_without_a_robot_only_the_limits_are_checked(a1, a1_spec):
    assert check_artifact(a1_spec, {}, None, JointLimits()).mismatches == []
    partial = JointLimits({'FR_hip_joint': a1.limits().joints['FR_hip_joint']}, ('yaml',))
    check = check_artifact(a1_spec, {}, None, partial)
    assert len(check.mismatches) == 1 and 'FR_upper_joint' in check.mismatches[0]


def test_joints_without_robot_limits_are_named(a1, a1_spec):
    limits = JointLimits({name: limit for name, limit in a1.limits().joints.items()
                          if name != 'RL_lower_joint'}, ('partial',))
    check = check_artifact(a1_spec, trained_on(a1), a1, limits)
    assert any("no position limits from the robot for joint(s) ['RL_lower_joint']" in line
               for line in check.mismatches)


def test_a_urdf_alone_gives_no_gains_to_compare(a1, a1_spec):
    text = description_path(load_robot('a1')).read_text()
    bare = load_deploy_robot('', text)
    check = check_artifact(a1_spec, trained_on(a1), bare, bare.limits())
    assert check.refusal is None
    assert not any('differs' in line for line in check.mismatches), check.mismatches
    assert np.array_equal(bare.joint_names, a1.joint_names)
