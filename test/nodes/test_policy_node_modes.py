# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""policy_node's modes, robot checks and joystick on a real (DDS-isolated) graph."""


import time

import numpy as np
import pytest
import torch
import yaml
from doubles.ros_graph import PolicyGraph, graph_factory, policy_graph
from rclpy.parameter import Parameter
from sensor_msgs.msg import Joy

from robotrl_ros.nodes.policy_node import PolicyNode
from robotrl_ros.policy.deploy_robot import load_deploy_robot
from robotrl_ros.policy.export import export_artifact
from robotrl_ros.policy.synthetic import MLPPolicy
from robotrl_ros.ros.qos import SENSOR_QOS
from robotrl_ros.tasks.robots.config import load_robot
from robotrl_ros.tasks.robots.description import description_path
from robotrl_ros.tasks.spec import ObsTerm, TaskSpec

DT = 0.02


@pytest.fixture(scope='module')
def a1():
    return load_deploy_robot('a1')


def a1_artifact(path, robot, cmd_vel=False, **recorded):
    """A random MLP on the A1's joints (joint_pos [+ cmd_vel]) recording ``robot``."""
    n = len(robot.joint_names)
    observation = (ObsTerm('joint_pos', n),) + ((ObsTerm('cmd_vel', 3),) if cmd_vel else ())
    spec = TaskSpec(name='a1_test', joint_names=robot.joint_names, observation=observation,
                    action_scale=(0.25,) * n, action_offset=tuple(robot.default_pose),
                    command_lower=tuple(robot.lower), command_upper=tuple(robot.upper),
                    velocity_limits=tuple(robot.velocity), control_period=DT,
                    command_input='cmd_vel' if cmd_vel else 'none')
    torch.manual_seed(0)
    out = export_artifact(MLPPolicy(spec.obs_dim, n, (16,)), spec, path, algorithm='ppo')
    meta = yaml.safe_load((out / 'policy.yaml').read_text())
    meta['robot'] = {'name': robot.name, 'description_sha256': robot.description_sha256,
                     'kp': robot.kp.tolist(), 'kd': robot.kd.tolist(),
                     'default_pose': robot.default_pose.tolist(), **recorded}
    (out / 'policy.yaml').write_text(yaml.safe_dump(meta, sort_keys=False))
    return out


class Graph(PolicyGraph):
    """A policy node and a driver that plays the robot (or the operator's gamepad)."""

    def __init__(self, **params):
        super().__init__(driver='modes_driver', **params)
        self.joy = self.driver.create_publisher(Joy, 'joy', SENSOR_QOS)
        self.stamp = 1.0

    def send(self, names, position, wait=True):
        """One state (the next stamp); waits for the command it is answered with."""
        self.stamp += DT
        answered = super().send(names, position, stamp=self.stamp, wait=wait)
        if wait:
            assert answered, 'no answer'
        else:
            self.spin_for(0.05)

    def press(self, buttons, axes=(0.0, 0.0, 0.0, 0.0)):
        self.joy.publish(Joy(buttons=list(buttons), axes=list(axes)))
        self.spin_for(0.05)

    def latest_status(self, condition=lambda status: True):
        count = len(self.status)
        assert self.spin_until(lambda: len(self.status) > count and condition(self.status[-1]))
        return self.status[-1]


@pytest.fixture
def graph(ros_module):
    with graph_factory(lambda **params: policy_graph(Graph, **params)) as make:
        yield make


def lying(robot):
    return np.array([0.0 if 'hip' in n else 1.2 if 'upper' in n else -2.5
                     for n in robot.joint_names])


def stand_up(g, robot, start):
    """Play a robot that follows its commands from ``start`` until the policy takes over.

    Without a policy, until the stand reached the default pose. The stand runs on the node's
    clock (unstamped states): on a fast machine it takes more states than on a slow one, so
    only a deadline that catches a hang bounds the loop.
    """
    position = start.copy()
    machine = g.node.modes.machine
    deadline = time.monotonic() + 60.0
    while time.monotonic() < deadline:
        if machine.mode != 'stand':
            break
        if g.node.controller.artifact is None and machine.line is not None and machine.line.done:
            break
        g.send(robot.joint_names, position)
        position = np.asarray(g.commands[-1][1])
    return position


def test_enable_stands_up_then_hands_over_and_disable_holds_then_goes_passive(graph, a1,
                                                                           tmp_path):
    g = graph(policy_path=str(a1_artifact(tmp_path / 'p', a1)), robot='a1',
              stand_on_enable=True, stand_duration=1.0, stand_tolerance=0.05)
    start = lying(a1)
    g.send(a1.joint_names, start, wait=False)
    assert g.commands == [] and g.latest_status()['mode'] == 'passive'
    response = g.call_enable(True)
    assert response.success and 'standing up to the default pose (policy' in response.message
    assert g.latest_status()['state'] == 'standing'
    stand_up(g, a1, start)
    stand = np.array([command for _, command in g.commands])
    # From the measured pose to the default pose, never faster than the velocity limits.
    np.testing.assert_allclose(stand[0], start, atol=np.abs(a1.default_pose - start).max() / 40)
    np.testing.assert_allclose(stand[-1], a1.default_pose, atol=1e-9)
    assert np.all(np.abs(np.diff(stand, axis=0)) <= a1.velocity * DT + 1e-9)
    assert len(stand) >= 1.0 / DT
    assert g.node.modes.machine.mode == 'policy' and g.node.controller.armed
    before = g.node.controller.counts['commands']
    g.send(a1.joint_names, a1.default_pose)
    assert g.node.controller.counts['commands'] == before + 1    # the policy answered
    status = g.latest_status(lambda s: s['mode'] == 'policy')
    assert status['state'] == 'armed' and status['robot_mismatches'] == []
    last = list(g.commands[-1][1])
    response = g.call_enable(False)
    assert response.success and g.node.modes.machine.mode == 'passive'
    assert g.settle()
    assert g.commands[-1][1] == last            # the safe command: hold the last position
    count, published = len(g.commands), g.published
    g.send(a1.joint_names, a1.default_pose, wait=False)
    g.spin_for(0.2)
    assert g.published == published and len(g.commands) == count   # passive: nothing
    assert g.latest_status()['mode'] == 'passive'


def test_without_a_policy_the_robot_stands_and_keeps_standing(graph, a1):
    g = graph(robot='a1', stand_on_enable=True, stand_duration=0.2)
    assert g.call_enable(True).success
    position = stand_up(g, a1, lying(a1))
    for _ in range(5):
        g.send(a1.joint_names, position)
    np.testing.assert_allclose(g.commands[-1][1], a1.default_pose)
    status = g.latest_status()
    assert status['mode'] == 'stand' and status['stand_progress'] == 1.0
    assert status['policy_version'] is None


def test_an_a1_artifact_is_refused_on_the_panda_description_with_the_joints_named(graph, a1,
                                                                               tmp_path):
    panda = description_path(load_robot('panda')).read_text()
    g = graph(policy_path=str(a1_artifact(tmp_path / 'p', a1)), robot_description=panda)
    status = g.latest_status()
    assert status['policy_version'] is None
    for name in a1.joint_names:
        assert name in status['last_reload_error']
    assert any('are not movable joints of the robot' in line
               for line in status['robot_mismatches'])
    assert g.node.controller.artifact is None and g.node.index.joint_names == tuple(
        f'panda_joint{i}' for i in range(1, 8)) + ('panda_finger_joint1', 'panda_finger_joint2')


def test_mismatched_gains_and_description_are_named_in_status(graph, a1, tmp_path):
    kd = a1.kd.copy()
    kd[0] = 0.8
    artifact = a1_artifact(tmp_path / 'p', a1, kd=kd.tolist(), description_sha256='f' * 64)
    g = graph(policy_path=str(artifact), robot='a1')
    status = g.latest_status()
    assert status['policy_version'] is not None        # reported, not refused
    mismatches = status['robot_mismatches']
    assert any('kd differs: FR_hip_joint kd 0.8 (trained) != 0.5 (robot a1)' in line
               for line in mismatches), mismatches
    assert any('robot description differs' in line for line in mismatches), mismatches


def test_the_joystick_enables_drives_cmd_vel_stops_when_stale_and_disarms(graph, a1, tmp_path):
    g = graph(policy_path=str(a1_artifact(tmp_path / 'p', a1, cmd_vel=True)), robot='a1',
              stand_on_enable=True, stand_duration=0.2, joy_topic='joy', joy_timeout=0.3,
              input_timeout=0.0)
    g.press([1, 0])          # held at the first message: no press
    assert g.node.modes.machine.mode == 'passive'
    g.press([0, 0])
    g.press([1, 0], axes=(0.0, 0.6, 0.0, 0.0))
    assert g.node.modes.machine.mode == 'stand'
    stand_up(g, a1, a1.default_pose)
    assert g.node.modes.machine.mode == 'policy'
    g.press([0, 0], axes=(0.2, 0.6, 0.0, -0.5))       # default mapping: x <- 1, y <- 0, yaw <- 3
    np.testing.assert_allclose(g.node.controller.inputs.cmd_vel, [0.3, 0.1, -0.5])
    assert g.latest_status()['joystick'] == 'fresh'
    g.spin_for(0.4)                                     # the joystick goes quiet
    g.send(a1.joint_names, a1.default_pose)
    np.testing.assert_allclose(g.node.controller.inputs.cmd_vel, [0.0, 0.0, 0.0])
    assert g.latest_status()['joystick'] == 'stale'
    g.press([0, 1])
    assert g.node.modes.machine.mode == 'passive' and not g.node.controller.armed


@pytest.mark.parametrize('name, value, message', [
    ('robot', 'no_such_robot', "parameter 'robot': unknown robot 'no_such_robot'"),
    ('stand_tolerance', 0.0, "'stand_tolerance' must be > 0"),
])
def test_wrong_mode_parameters_are_named(ros_module, name, value, message):
    with pytest.raises(ValueError, match=message):
        PolicyNode(parameter_overrides=[Parameter(name, value=value)])


def test_a_bad_joystick_mapping_is_named(ros_module, tmp_path):
    path = tmp_path / 'joy.yaml'
    path.write_text('enable_button: x\n')
    with pytest.raises(ValueError, match="parameter 'joy_config'.*enable_button"):
        PolicyNode(parameter_overrides=[Parameter('joy_topic', value='joy'),
                                        Parameter('joy_config', value=str(path))])
