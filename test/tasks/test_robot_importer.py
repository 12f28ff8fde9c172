# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""URDF/xacro/MJCF -> MuJoCo: package:// meshes from a workspace tree, servos, IMU, errors."""

import re
import struct

import mujoco
import numpy as np
import pytest
import yaml

from robotrl_ros.tasks.robots import DescriptionError, import_robot, load_robot
from robotrl_ros.tasks.robots.importer import IMU_SENSORS

PKG = 'my_robot_description'


def box_triangles(half):
    """12 triangles of an axis-aligned box centred on the origin."""
    corners = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)]) * half
    faces = [(0, 1, 3), (0, 3, 2), (4, 6, 7), (4, 7, 5), (0, 4, 5), (0, 5, 1),
             (2, 3, 7), (2, 7, 6), (0, 2, 6), (0, 6, 4), (1, 5, 7), (1, 7, 3)]
    return corners, faces


def write_stl(path, half):
    corners, faces = box_triangles(half)
    data = bytearray(b'\0' * 80) + struct.pack('<I', len(faces))
    for face in faces:
        data += struct.pack('<3f', 0, 0, 0)
        for index in face:
            data += struct.pack('<3f', *corners[index])
        data += b'\0\0'
    path.write_bytes(bytes(data))


def write_obj(path, half):
    corners, faces = box_triangles(half)
    lines = [f'v {x} {y} {z}' for x, y, z in corners]
    lines += [f'f {a + 1} {b + 1} {c + 1}' for a, b, c in faces]
    path.write_text('\n'.join(lines) + '\n')


URDF = '''<?xml version="1.0"?>
<robot name="tiny">
  <link name="base_link">
    <inertial><mass value="2.0"/>
      <inertia ixx="0.01" ixy="0" ixz="0" iyy="0.01" iyz="0" izz="0.01"/></inertial>
    <visual><geometry><mesh filename="{base_visual}"/></geometry></visual>
    <collision><geometry><mesh filename="package://{pkg}/meshes/base.stl"/></geometry></collision>
  </link>
  <joint name="shoulder" type="revolute">
    <parent link="base_link"/><child link="arm"/>
    <origin xyz="0 0 0.1"/><axis xyz="0 1 0"/>
    <limit lower="-1.5" upper="1.5" effort="{effort}" velocity="3"/>
  </joint>
  <link name="arm">
    <inertial><origin xyz="0 0 0.15"/><mass value="0.5"/>
      <inertia ixx="0.004" ixy="0" ixz="0" iyy="0.004" iyz="0" izz="0.0005"/></inertial>
    <visual><geometry><mesh filename="package://{pkg}/meshes/arm.dae"/></geometry></visual>
    <collision><origin xyz="0 0 0.15"/>
      <geometry><mesh filename="{arm_collision}"/></geometry></collision>
  </link>
  <joint name="tool_joint" type="fixed">
    <parent link="arm"/><child link="tool"/><origin xyz="0 0 0.3"/>
  </joint>
  <link name="tool"/>
</robot>
'''


def make_workspace(root, base_visual=f'package://{PKG}/meshes/base.stl',
                   arm_collision=f'package://{PKG}/meshes/arm.obj', effort='20'):
    """A colcon-like tree: <root>/ws/src/<PKG>/{package.xml, urdf/, meshes/}."""
    pkg = root / 'ws' / 'src' / PKG
    (pkg / 'urdf').mkdir(parents=True)
    (pkg / 'meshes').mkdir()
    (pkg / 'package.xml').write_text(f'<package><name>{PKG}</name></package>')
    write_stl(pkg / 'meshes' / 'base.stl', 0.05)
    write_obj(pkg / 'meshes' / 'arm.obj', np.array([0.02, 0.02, 0.12]))
    urdf = pkg / 'urdf' / 'tiny.urdf'
    urdf.write_text(URDF.format(pkg=PKG, base_visual=base_visual, arm_collision=arm_collision,
                                effort=effort))
    return urdf


def robot_file(tmp_path, description, **extra):
    data = {'description': str(description), 'base': 'fixed', 'kp': 50.0, 'kd': 2.0,
            'ee_link': 'tool', **extra}
    path = tmp_path / 'tiny.yaml'
    path.write_text(yaml.safe_dump(data))
    return path


def test_package_meshes_load_from_a_workspace_tree(tmp_path):
    urdf = make_workspace(tmp_path)
    robot = import_robot(robot_file(tmp_path, urdf.relative_to(tmp_path)))
    model = robot.model
    assert robot.joint_names == ('shoulder',)
    files = sorted(model.mesh(i).name for i in range(model.nmesh))
    assert files == ['arm', 'base']          # both collision meshes, one visual reused
    collision_meshes = [g for g in range(model.ngeom)
                        if model.geom_type[g] == mujoco.mjtGeom.mjGEOM_MESH
                        and model.geom_contype[g]]
    assert len(collision_meshes) == 2
    assert any('arm.dae' in note and 'skipped' in note for note in robot.notes)
    assert model.body('tool').id == robot.ee_body      # fixed links stay bodies
    assert model.geom('floor').type == mujoco.mjtGeom.mjGEOM_PLANE


def test_package_description_through_ros_package_path(tmp_path, monkeypatch):
    make_workspace(tmp_path)
    elsewhere = tmp_path / 'configs'
    elsewhere.mkdir()
    path = robot_file(elsewhere, f'package://{PKG}/urdf/tiny.urdf')
    with pytest.raises(DescriptionError, match=f"package '{PKG}'"):
        import_robot(path)
    monkeypatch.setenv('ROS_PACKAGE_PATH', str(tmp_path / 'ws'))
    assert import_robot(path).joint_names == ('shoulder',)


def test_servos_have_the_robot_gains_and_the_urdf_limits(tmp_path):
    urdf = make_workspace(tmp_path)
    robot = import_robot(robot_file(tmp_path, urdf, default_pose={'shoulder': 0.4},
                                    velocity_limit=2.0))
    model = robot.model
    assert model.nu == 1 and model.actuator_trnid[0, 0] == model.joint('shoulder').id
    np.testing.assert_allclose(model.actuator_gainprm[0, :3], [50.0, 0, 0])
    np.testing.assert_allclose(model.actuator_biasprm[0, :3], [0, -50.0, -2.0])
    np.testing.assert_allclose(model.actuator_forcerange[0], [-20.0, 20.0])
    np.testing.assert_allclose(model.actuator_ctrlrange[0], [-1.5, 1.5])
    assert robot.velocity_limit[0] == 2.0 and robot.effort_limit[0] == 20.0
    data = robot.make_data()
    assert robot.joint_position(data)[0] == pytest.approx(0.4)
    for _ in range(1500):
        mujoco.mj_step(model, data)
    # The servo holds the arm against gravity near its target (a PD law: a small sag).
    assert robot.joint_position(data)[0] == pytest.approx(0.4, abs=0.05)
    assert abs(data.actuator_force[0]) <= 20.0 + 1e-9


def test_floating_base_gets_a_free_joint_imu_and_starts_on_the_floor(tmp_path):
    urdf = make_workspace(tmp_path)
    robot = import_robot(robot_file(tmp_path, urdf, base='floating', imu_link='base_link'))
    model = robot.model
    assert model.jnt_type[0] == mujoco.mjtJoint.mjJNT_FREE
    assert sorted(model.sensor(i).name for i in range(model.nsensor)) == sorted(IMU_SENSORS)
    data = robot.make_data()
    assert 0.05 <= data.qpos[2] <= 0.06          # the 10 cm box rests on the floor
    for _ in range(200):
        mujoco.mj_step(model, data)
    accel = robot.sensor(data, 'imu_accel')      # at rest: the accelerometer reads +g upwards
    np.testing.assert_allclose(accel, [0, 0, 9.81], atol=0.2)
    np.testing.assert_allclose(robot.sensor(data, 'imu_gyro'), 0, atol=0.05)
    assert robot.sensor(data, 'imu_quat')[0] == pytest.approx(1.0, abs=1e-3)


def test_xacro_description_is_expanded(tmp_path):
    urdf = make_workspace(tmp_path, effort='${effort}')
    text = urdf.read_text().replace('<robot name="tiny">', '<robot name="tiny" '
                                    'xmlns:xacro="http://www.ros.org/wiki/xacro">'
                                    '<xacro:arg name="effort" default="7"/>'
                                    '<xacro:property name="effort" value="$(arg effort)"/>')
    xacro_file = urdf.with_name('tiny.urdf.xacro')
    xacro_file.write_text(text)
    assert import_robot(robot_file(tmp_path, xacro_file)).effort_limit[0] == 7.0
    robot = import_robot(robot_file(tmp_path, xacro_file, xacro_args={'effort': 9}))
    assert robot.effort_limit[0] == 9.0


def test_mjcf_description_is_accepted(tmp_path):
    mjcf = tmp_path / 'pendulum.xml'
    mjcf.write_text('''<mujoco><compiler angle="radian"/><worldbody><body name="pole" pos="0 0 1">
        <joint name="hinge" type="hinge" axis="0 1 0" range="-2 2"/>
        <geom type="capsule" fromto="0 0 0 0 0 0.5" size="0.02"/></body></worldbody>
        <actuator><motor joint="hinge"/></actuator></mujoco>''')
    robot = import_robot(robot_file(tmp_path, mjcf, ee_link='pole'))
    assert robot.joint_names == ('hinge',) and robot.model.nu == 1    # its motor is replaced
    np.testing.assert_allclose([robot.lower[0], robot.upper[0]], [-2, 2])


def test_builtin_robot_name_as_description(tmp_path):
    path = tmp_path / 'my_a1.yaml'
    path.write_text(yaml.safe_dump({'description': 'a1', 'base': 'floating', 'kp': 30.0,
                                    'joints': ['FR_hip_joint', 'FR_upper_joint']}))
    robot = import_robot(path)
    assert robot.joint_names == ('FR_hip_joint', 'FR_upper_joint')
    assert robot.model.nu == 2 and robot.kp.tolist() == [30.0, 30.0]


# ------------------------------------------------------------------ errors: one clear message


def test_missing_collision_mesh_names_the_file(tmp_path):
    urdf = make_workspace(tmp_path, arm_collision=f'package://{PKG}/meshes/gone.stl')
    with pytest.raises(DescriptionError) as err:
        import_robot(robot_file(tmp_path, urdf))
    message = str(err.value)
    assert 'gone.stl' in message and "link 'arm'" in message and 'collision' in message


def test_unreadable_collision_mesh_format_is_an_error(tmp_path):
    urdf = make_workspace(tmp_path, arm_collision=f'package://{PKG}/meshes/base.stl')
    (urdf.parent.parent / 'meshes' / 'arm.dae').write_text('<COLLADA/>')
    text = urdf.read_text().replace('meshes/base.stl"/></geometry></collision>\n  </link>\n'
                                    '  <joint', 'meshes/arm.dae"/></geometry></collision>\n'
                                    '  </link>\n  <joint')
    urdf.write_text(text)
    with pytest.raises(DescriptionError, match=r"arm.dae.*not \.dae"):
        import_robot(robot_file(tmp_path, urdf))


def test_missing_visual_mesh_is_skipped_with_a_note(tmp_path):
    urdf = make_workspace(tmp_path, base_visual='meshes/nowhere.stl')
    robot = import_robot(robot_file(tmp_path, urdf))
    assert any('nowhere.stl' in note and 'skipped' in note for note in robot.notes)


def test_joint_the_urdf_lacks_is_named(tmp_path):
    urdf = make_workspace(tmp_path)
    with pytest.raises(DescriptionError) as err:
        import_robot(robot_file(tmp_path, urdf, joints=['shoulder', 'elbow']))
    message = str(err.value)
    assert "joints: 'elbow' is not a movable joint" in message and 'shoulder' in message
    assert 'tiny.yaml' in message


@pytest.mark.parametrize('key, value, culprit', [
    ('kp', {'elbow*': 10.0}, "kp: 'elbow*' matches no movable joint"),
    ('feet', ['paw'], "feet: 'paw' is not a link"),
    ('ee_link', 'gripper', "ee_link: 'gripper' is not a link"),
    ('imu_link', 'head', "imu_link: 'head' is not a link"),
])
def test_names_the_description_lacks_are_errors(tmp_path, key, value, culprit):
    urdf = make_workspace(tmp_path)
    with pytest.raises(DescriptionError, match=re.escape(culprit)):
        import_robot(robot_file(tmp_path, urdf, **{key: value}))


def test_non_urdf_files_are_refused(tmp_path):
    not_xml = tmp_path / 'robot.urdf'
    not_xml.write_text('just some text')
    with pytest.raises(DescriptionError, match='not a URDF, xacro or MJCF file'):
        import_robot(robot_file(tmp_path, not_xml))
    sdf = tmp_path / 'robot.sdf'
    sdf.write_text('<sdf version="1.6"><model name="m"/></sdf>')
    with pytest.raises(DescriptionError, match=r'root element <sdf>'):
        import_robot(robot_file(tmp_path, sdf))
    with pytest.raises(DescriptionError, match='missing.urdf: file not found'):
        import_robot(robot_file(tmp_path, tmp_path / 'missing.urdf'))


def test_builtins_resolve_their_package_uris():
    assert load_robot('panda').description.startswith('package://pybullet_data/')
    robot = import_robot('panda')
    assert robot.model.nmesh > 0 and robot.ee_body >= 0


def test_package_description_through_the_ament_index(tmp_path, monkeypatch):
    """An installed package (``<prefix>/share/<pkg>``, registered in the ament index)."""
    pytest.importorskip('ament_index_python')
    urdf = make_workspace(tmp_path / 'build')
    prefix = tmp_path / 'install'
    (prefix / 'share').mkdir(parents=True)
    urdf.parent.parent.rename(prefix / 'share' / PKG)
    marker = prefix / 'share' / 'ament_index' / 'resource_index' / 'packages'
    marker.mkdir(parents=True)
    (marker / PKG).write_text('')
    monkeypatch.setenv('AMENT_PREFIX_PATH', str(prefix))
    monkeypatch.delenv('ROS_PACKAGE_PATH', raising=False)
    elsewhere = tmp_path / 'configs'
    elsewhere.mkdir()
    robot = import_robot(robot_file(elsewhere, f'package://{PKG}/urdf/tiny.urdf'))
    assert robot.joint_names == ('shoulder',) and robot.model.nmesh == 2


def test_a_robot_description_string_is_imported(tmp_path, monkeypatch):
    """As robot_state_publisher takes it: the URDF's XML, package:// meshes resolved."""
    urdf = make_workspace(tmp_path)
    monkeypatch.setenv('ROS_PACKAGE_PATH', str(tmp_path / 'ws'))
    config = load_robot(robot_file(tmp_path, 'unused.urdf'))
    robot = import_robot(config, robot_description=urdf.read_text())
    assert robot.joint_names == ('shoulder',) and robot.model.nmesh == 2
    with pytest.raises(DescriptionError, match="robot_description: not a URDF"):
        import_robot(config, robot_description='<launch/>')
