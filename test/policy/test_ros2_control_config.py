# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The controller_manager YAML of an artifact: its joint order, interface and update rate."""

from pathlib import Path

import pybullet_data
import pytest
import yaml

from robotrl_ros.policy.metadata import ArtifactError
from robotrl_ros.policy.ros2_control_config import (
    CONTROLLER,
    ControllerConfigError,
    update_rate,
    write_controller_config,
)
from robotrl_ros.policy.synthetic import make_synthetic_artifact

A1_URDF = Path(pybullet_data.getDataPath()) / 'a1' / 'a1.urdf'
PANDA_URDF = Path(pybullet_data.getDataPath()) / 'franka_panda' / 'panda.urdf'
A1_JOINTS = [f'{leg}_{part}_joint' for leg in ('FR', 'FL', 'RR', 'RL')
             for part in ('hip', 'upper', 'lower')]


def _artifact(tmp_path, joints, interface='position', period=0.02, robot=None):
    """A synthetic artifact whose joints are renamed to ``joints`` (policy.yaml edited)."""
    path = make_synthetic_artifact(tmp_path / 'policy', n_joints=len(joints), hidden=(8,),
                                   control_period=period, command_interface=interface)
    meta = yaml.safe_load((path / 'policy.yaml').read_text())
    meta['joint_names'] = list(joints)
    if robot is not None:
        meta['robot'] = robot
    (path / 'policy.yaml').write_text(yaml.safe_dump(meta))
    return path


def test_config_is_valid_yaml_with_the_artifacts_joint_order_and_interface(tmp_path):
    joints = list(reversed(A1_JOINTS))   # not the URDF's order: the artifact's wins
    text = write_controller_config(_artifact(tmp_path, joints), A1_URDF)
    data = yaml.safe_load(text)
    manager = data['controller_manager']['ros__parameters']
    assert manager['update_rate'] == 50
    assert manager['joint_state_broadcaster'] == {
        'type': 'joint_state_broadcaster/JointStateBroadcaster'}
    assert manager[CONTROLLER] == {'type': 'forward_command_controller/ForwardCommandController'}
    assert data[CONTROLLER]['ros__parameters'] == {'joints': joints, 'interface_name': 'position'}
    assert text.startswith('# ros2_control controllers for the policy')


def test_interface_follows_the_artifact(tmp_path):
    data = yaml.safe_load(write_controller_config(_artifact(tmp_path, ['a', 'b'], 'velocity')))
    assert data[CONTROLLER]['ros__parameters']['interface_name'] == 'velocity'


@pytest.mark.parametrize(('period', 'rate'), [(0.02, 50), (0.1, 10), (0.03, 34), (0.005, 200),
                                              (2.0, 1)])
def test_update_rate_gives_at_least_one_cycle_per_action(period, rate):
    assert update_rate(period) == rate


def test_recorded_gains_are_listed_in_the_header(tmp_path):
    robot = {'name': 'a1', 'kp': [20.0] * 12, 'kd': [0.5] * 12}
    text = write_controller_config(_artifact(tmp_path, A1_JOINTS, robot=robot))
    assert 'Trained on robot a1' in text and '#   kp: FR_hip_joint: 20, ' in text
    assert '#   kd: FR_hip_joint: 0.5, ' in text


def test_missing_joints_of_the_description_are_all_named(tmp_path):
    with pytest.raises(ControllerConfigError) as error:
        write_controller_config(_artifact(tmp_path, A1_JOINTS), PANDA_URDF)
    message = str(error.value)
    assert all(name in message for name in A1_JOINTS)
    assert 'panda_joint1' in message   # what it has instead


def test_a_fixed_joint_is_not_a_commandable_joint(tmp_path):
    urdf = tmp_path / 'r.urdf'
    urdf.write_text('<robot name="r"><link name="a"/><link name="b"/><link name="c"/>'
                    '<joint name="j1" type="revolute"><parent link="a"/><child link="b"/>'
                    '<limit lower="-1" upper="1" effort="1" velocity="1"/></joint>'
                    '<joint name="j2" type="fixed"><parent link="b"/><child link="c"/></joint>'
                    '</robot>')
    with pytest.raises(ControllerConfigError, match=r"\['j2'\]"):
        write_controller_config(_artifact(tmp_path, ['j1', 'j2']), urdf)


def _with_ros2_control(tmp_path, interfaces):
    """A two-joint URDF whose <ros2_control> section offers ``interfaces`` per joint."""
    joints = ''.join(f'<joint name="j{i}" type="revolute"><parent link="l{i - 1}"/>'
                     f'<child link="l{i}"/><limit lower="-1" upper="1" effort="1" '
                     f'velocity="1"/></joint>' for i in (1, 2))
    section = ''.join(f'<joint name="{name}">' + ''.join(
        f'<command_interface name="{kind}"/>' for kind in kinds) + '</joint>'
        for name, kinds in interfaces.items())
    urdf = tmp_path / 'with_control.urdf'
    urdf.write_text(f'<robot name="r"><link name="l0"/><link name="l1"/><link name="l2"/>'
                    f'{joints}<ros2_control name="hw" type="system">{section}</ros2_control>'
                    '</robot>')
    return urdf


def test_ros2_control_sections_must_offer_the_artifacts_interface(tmp_path):
    policy = _artifact(tmp_path, ['j1', 'j2'], 'position')
    good = _with_ros2_control(tmp_path, {'j1': ['position'], 'j2': ['position', 'velocity']})
    assert yaml.safe_load(write_controller_config(policy, good))
    lacking = _with_ros2_control(tmp_path, {'j1': ['position'], 'j2': ['velocity']})
    with pytest.raises(ControllerConfigError, match=r"\['j2'\] have no <command_interface "
                                                    r'name="position"/>'):
        write_controller_config(policy, lacking)
    unlisted = _with_ros2_control(tmp_path, {'j1': ['position']})
    with pytest.raises(ControllerConfigError, match=r"\['j2'\] are not in its <ros2_control>"):
        write_controller_config(policy, unlisted)


def test_bad_inputs_name_the_culprit(tmp_path):
    policy = _artifact(tmp_path, ['j1', 'j2'])
    with pytest.raises(ControllerConfigError, match='cannot read'):
        write_controller_config(policy, tmp_path / 'missing.urdf')
    mjcf = tmp_path / 'r.xml'
    mjcf.write_text('<mujoco/>')
    with pytest.raises(ControllerConfigError, match='expected a URDF'):
        write_controller_config(policy, mjcf)
    with pytest.raises(ArtifactError, match='policy.yaml: cannot read'):
        write_controller_config(tmp_path / 'nothing')
    meta = yaml.safe_load((policy / 'policy.yaml').read_text())
    meta['command_interface'] = 'torque'
    (policy / 'policy.yaml').write_text(yaml.safe_dump(meta))
    with pytest.raises(ArtifactError, match='command_interface'):
        write_controller_config(policy)


def test_a_xacro_description_is_expanded(tmp_path):
    xacro = tmp_path / 'r.urdf.xacro'
    xacro.write_text('<robot name="r" xmlns:xacro="http://www.ros.org/wiki/xacro">'
                     '<xacro:property name="lim" value="1.0"/>'
                     '<link name="a"/><link name="b"/>'
                     '<joint name="j1" type="revolute"><parent link="a"/><child link="b"/>'
                     '<limit lower="-${lim}" upper="${lim}" effort="1" velocity="1"/></joint>'
                     '</robot>')
    assert yaml.safe_load(write_controller_config(_artifact(tmp_path, ['j1']), xacro))
    with pytest.raises(ControllerConfigError, match=r"\['j2'\]"):
        write_controller_config(_artifact(tmp_path / 'two', ['j1', 'j2']), xacro)
