# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The sim bridge's simulation of a given robot, without ROS.

``robot`` / ``robot_description``, pushes and IMU noise.
"""

from pathlib import Path

import numpy as np
import pybullet_data
import pytest

from robotrl_ros.sim.env import floating_base_velocity, imu_frame, make_sim_env
from robotrl_ros.sim.perturbations import BaseDisturber, BasePerturbations
from robotrl_ros.sim.session import SimSession
from robotrl_ros.tasks.robots import import_robot
from robotrl_ros.tasks.robots.given import description_config

A1_URDF = (Path(pybullet_data.getDataPath()) / 'a1' / 'a1.urdf').read_text()
FIXED_URDF = """<robot name="arm">
  <link name="world"/>
  <link name="base"><inertial><mass value="1"/><inertia ixx="0.01" iyy="0.01" izz="0.01"
    ixy="0" ixz="0" iyz="0"/></inertial></link>
  <link name="tip"><inertial><mass value="1"/><inertia ixx="0.01" iyy="0.01" izz="0.01"
    ixy="0" ixz="0" iyz="0"/></inertial></link>
  <joint name="weld" type="fixed"><parent link="world"/><child link="base"/></joint>
  <joint name="j1" type="revolute"><parent link="base"/><child link="tip"/>
    <axis xyz="0 0 1"/><limit lower="-1" upper="1" effort="10" velocity="1"/></joint>
</robot>"""


def session(**kwargs):
    perturbations = kwargs.pop('perturbations', BasePerturbations())
    env = make_sim_env(**kwargs)
    disturber = BaseDisturber(perturbations, floating_base_velocity(env), seed=0)
    sim = SimSession(env, seed=0, disturber=disturber)
    sim.reset()
    return sim


def test_a_named_robot_publishes_its_urdf_joint_names_and_imu_frame():
    sim = session(task='locomotion', robot='a1')
    assert sim.joint_names == import_robot('a1').joint_names
    assert imu_frame(sim.env) == 'imu_link'
    assert set(sim.imu()) == {'projected_gravity', 'base_ang_vel', 'base_lin_vel'}
    panda = session(task='ee_reach', robot='panda')
    assert panda.imu() is None and floating_base_velocity(panda.env) is None


def test_a_description_alone_gets_default_settings():
    config = description_config(A1_URDF)
    assert config.name == 'a1_description' and config.floating
    assert config.imu_link == 'imu_link'
    fixed = description_config(FIXED_URDF)
    assert not fixed.floating and fixed.imu_link == ''
    sim = session(task='locomotion', robot_description=A1_URDF)
    assert sim.joint_names == import_robot('a1').joint_names
    assert sim.env.robot.kp.tolist() == [100.0] * 12


def test_robot_yaml_settings_apply_to_a_given_description():
    sim = session(task='locomotion', robot='a1', robot_description=A1_URDF)
    assert sim.env.robot.kp.tolist() == import_robot('a1').kp.tolist()


@pytest.mark.parametrize('kwargs, message', [
    ({'task': 'locomotion', 'robot': 'robodog'}, "parameter 'robot': unknown robot"),
    ({'task': 'locomotion', 'robot': 'missing/robot.yaml'}, "parameter 'robot': "),
    ({'task': 'locomotion', 'robot_description': 'not xml'},
     "parameter 'robot_description': "),
    ({'task': 'locomotion', 'robot_description': '<html/>'},
     "parameter 'robot_description': .*expected <robot> or <mujoco>"),
    ({'task': 'locomotion', 'robot': 'panda'}, "parameter 'robot': locomotion: .*fixed base"),
    ({'task': 'locomotion', 'robot_description': FIXED_URDF},
     "parameter 'robot_description': locomotion: .*fixed base"),
    ({'task': 'ee_reach', 'robot': 'a1'}, "parameter 'robot': ee_reach: .*floating base"),
    ({'task': 'reach', 'robot': 'a1'}, "parameter 'robot': task 'reach' has its own robot"),
])
def test_bad_robots_name_the_parameter(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_sim_env(**kwargs)


def test_pushes_kick_the_base_at_their_interval():
    calm = session(task='locomotion', robot='a1')
    pushed = session(task='locomotion', robot='a1',
                     perturbations=BasePerturbations(push_interval=0.1, push_velocity=1.0))
    command = calm.hold_command
    speeds = []
    for _ in range(30):         # 0.6 s of sim time after the first state: 5 pushes
        calm.apply(command)
        pushed.apply(command)
        speeds.append(np.linalg.norm(pushed.env.data.qvel[:2]) -
                      np.linalg.norm(calm.env.data.qvel[:2]))
    assert pushed.disturber.pushes == 5 and pushed.status()['pushes'] == 5
    assert max(speeds) > 0.1


def test_imu_noise_is_drawn_once_per_state():
    sim = session(task='locomotion', robot='a1',
                  perturbations=BasePerturbations(imu_noise_std=0.05))
    clean = sim.env.robot_state().imu
    first, again = sim.imu(), sim.imu()
    for key in clean:
        assert np.array_equal(first[key], again[key])
        assert not np.allclose(first[key], clean[key])
    sim.apply(sim.hold_command)
    assert not np.array_equal(sim.imu()['base_ang_vel'], first['base_ang_vel'])


def test_base_perturbations_are_checked():
    with pytest.raises(ValueError, match='dr_push_velocity must be a number >= 0'):
        BasePerturbations(push_velocity=-1.0)
    with pytest.raises(ValueError, match="parameter 'dr_imu_noise_std': .*no floating base"):
        BaseDisturber(BasePerturbations(imu_noise_std=0.1), None, 0)
    assert not BasePerturbations(push_interval=1.0).pushes     # no velocity: no push
    params = {'dr_push_interval': 2, 'dr_push_velocity': 0.5, 'task': 'x'}
    assert BasePerturbations.from_parameters(params) == BasePerturbations(2.0, 0.5, 0.0)
