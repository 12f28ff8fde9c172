# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""policy_node as a managed (lifecycle) node, driven through the real lifecycle services."""

import numpy as np
import pytest
from doubles.ros_graph import graph_factory, policy_graph
from rclpy.parameter import Parameter
from std_msgs.msg import String
from test_policy_node_modes import a1_artifact, lying, stand_up

from robotrl_ros.nodes.policy_node import PolicyNode
from robotrl_ros.policy.deploy_robot import load_deploy_robot
from robotrl_ros.policy.synthetic import make_synthetic_artifact
from robotrl_ros.ros.params import ParameterError
from robotrl_ros.ros.robot_description import ROBOT_DESCRIPTION_QOS
from robotrl_ros.tasks.robots.config import load_robot
from robotrl_ros.tasks.robots.description import description_path

N = 4
NAMES = [f'joint_{i}' for i in range(N)]


@pytest.fixture(scope='module')
def artifact(tmp_path_factory):
    return make_synthetic_artifact(tmp_path_factory.mktemp('artifact') / 'a', n_joints=N,
                                   hidden=(16,), seed=0)


@pytest.fixture(scope='module')
def a1():
    return load_deploy_robot('a1')


@pytest.fixture
def graph(ros_module):
    with graph_factory(policy_graph) as make:
        yield make


def urdf(names, upper=0.7):
    joints = ''.join(f'<joint name="{name}" type="revolute"><parent link="l{i}"/>'
                     f'<child link="l{i + 1}"/><limit lower="-0.4" upper="{upper}" '
                     f'velocity="1.5" effort="2.0"/></joint>' for i, name in enumerate(names))
    return f'<robot name="topic_robot">{joints}</robot>'


def test_the_transitions_load_command_stop_and_release(graph, artifact):
    g = graph(policy_path=str(artifact), autostart='unconfigured', trust_artifact_limits=True)
    assert g.lifecycle_state() == 'unconfigured'
    g.send(NAMES, np.zeros(N), stamp=1.0, wait=False)
    g.spin_for(0.2)
    status = g.latest_status()
    assert g.commands == [] and status['lifecycle'] == 'unconfigured'
    assert status['policy_version'] is None

    assert g.transition('configure') and g.lifecycle_state() == 'inactive'
    status = g.latest_status()
    assert status['lifecycle'] == 'inactive' and status['policy_version'] is not None
    assert not g.send(NAMES, np.zeros(N), stamp=2.0, wait=False) and g.commands == []

    assert g.transition('activate') and g.lifecycle_state() == 'active'
    for k in range(3):
        assert g.send(NAMES, np.full(N, 0.01 * k), stamp=3.0 + k), 'a state was not answered'
    assert g.latest_status()['state'] == 'armed'
    last = g.commands[-1][1]

    count = len(g.commands)
    assert g.transition('deactivate') and g.lifecycle_state() == 'inactive'
    assert g.spin_until(lambda: len(g.commands) > count)
    assert g.commands[-1][1] == last              # the safe command: hold the last position
    g.spin_for(0.2)
    assert len(g.commands) == count + 1           # once
    for k in range(3):                             # and no more commands
        g.send(NAMES, np.zeros(N), stamp=10.0 + k, wait=False)
    g.spin_for(0.2)
    assert len(g.commands) == count + 1
    assert not g.node.controller.armed

    assert g.transition('cleanup') and g.lifecycle_state() == 'unconfigured'
    assert g.node.controller.artifact is None and g.node.control_timers.timer is None
    status = g.latest_status(lambda s: s['lifecycle'] == 'unconfigured')
    assert status['policy_version'] is None
    assert g.transition('configure') and g.transition('activate')   # again, from scratch
    assert g.send(NAMES, np.zeros(N), stamp=20.0)
    assert g.transition('shutdown') and g.lifecycle_state() == 'finalized'


@pytest.mark.parametrize('problem', ['missing', 'corrupt'])
def test_configure_fails_cleanly_on_a_bad_artifact(graph, artifact, tmp_path, problem):
    path = tmp_path / 'bad'
    if problem == 'corrupt':
        path.mkdir()
        (path / 'policy.yaml').write_text('format_version: 1\ntask: [\n')
    g = graph(policy_path=str(path), autostart='unconfigured', trust_artifact_limits=True)
    assert not g.transition('configure')
    assert g.lifecycle_state() == 'unconfigured'
    status = g.latest_status(lambda s: s['lifecycle_error'] is not None)
    reason = 'not a directory' if problem == 'missing' else 'policy.yaml: not valid YAML'
    assert reason in status['lifecycle_error'] and 'configure failed' in status['lifecycle_error']
    assert status['state'] == 'faulted' and status['policy_version'] is None
    assert not g.transition('activate')           # not from unconfigured
    answer = g.call_enable(True)                  # the shortcut names the same reason
    assert not answer.success and reason in answer.message
    g.send(NAMES, np.zeros(N), stamp=1.0, wait=False)
    g.spin_for(0.2)
    assert g.commands == []


def test_configure_refuses_an_artifact_of_another_robot_naming_the_joints(graph, a1, tmp_path):
    panda = description_path(load_robot('panda')).read_text()
    g = graph(policy_path=str(a1_artifact(tmp_path / 'p', a1)), robot_description=panda,
              autostart='unconfigured')
    assert not g.transition('configure') and g.lifecycle_state() == 'unconfigured'
    error = g.latest_status(lambda s: s['lifecycle_error'] is not None)['lifecycle_error']
    for name in a1.joint_names:
        assert name in error


def test_configure_names_a_bad_robot_parameter_without_ending_the_node(graph):
    g = graph(robot='no_such_robot', autostart='unconfigured')
    assert not g.transition('configure') and g.lifecycle_state() == 'unconfigured'
    status = g.latest_status(lambda s: s['lifecycle_error'] is not None)
    assert "parameter 'robot': unknown robot 'no_such_robot'" in status['lifecycle_error']


def test_a_start_with_a_bad_robot_parameter_is_a_configuration_error(ros_module):
    with pytest.raises(ValueError, match="parameter 'robot': unknown robot"):
        PolicyNode(parameter_overrides=[Parameter('robot', value='no_such_robot')])
    with pytest.raises(ParameterError, match="'autostart' must be"):
        PolicyNode(parameter_overrides=[Parameter('autostart', value='running')])


def test_activate_from_inactive_stands_up_then_runs_the_policy(graph, a1, tmp_path):
    g = graph(policy_path=str(a1_artifact(tmp_path / 'p', a1)), robot='a1',
              stand_on_enable=True, stand_duration=0.2)
    assert g.lifecycle_state() == 'inactive'      # the default autostart
    start = lying(a1)
    g.send(a1.joint_names, start, wait=False)
    assert g.commands == []                       # inactive: passive, nothing sent
    assert g.transition('activate') and g.node.modes.machine.mode == 'stand'
    assert g.latest_status()['state'] == 'standing'
    stand_up(g, a1, start)
    np.testing.assert_allclose(g.commands[-1][1], a1.default_pose, atol=1e-9)
    assert g.node.modes.machine.mode == 'policy' and g.node.controller.armed
    before = g.node.controller.counts['commands']
    g.send(a1.joint_names, a1.default_pose)
    assert g.node.controller.counts['commands'] == before + 1    # the policy answered
    status = g.latest_status(lambda s: s['mode'] == 'policy')
    assert status['lifecycle'] == 'active' and status['state'] == 'armed'


def test_enable_is_the_one_call_shortcut(graph, artifact):
    g = graph(policy_path=str(artifact), autostart='unconfigured', trust_artifact_limits=True)
    answer = g.call_enable(True)                  # unconfigured -> configure -> activate
    assert answer.success and g.lifecycle_state() == 'active', answer.message
    assert g.send(NAMES, np.zeros(N), stamp=1.0)
    assert g.call_enable(False).success and g.lifecycle_state() == 'inactive'
    assert g.call_enable(True).success and g.lifecycle_state() == 'active'
    assert g.call_enable(True).success and g.lifecycle_state() == 'active'   # stays
    assert g.send(NAMES, np.zeros(N), stamp=2.0)


def test_armed_true_starts_active_and_autostart_unconfigured_waits(graph, artifact):
    armed = graph(policy_path=str(artifact), armed=True, trust_artifact_limits=True)
    assert armed.lifecycle_state() == 'active'
    assert armed.send(NAMES, np.zeros(N), stamp=1.0)
    waiting = graph(driver='driver2', policy_path=str(artifact), armed=True,
                    autostart='unconfigured', trust_artifact_limits=True)
    assert waiting.node.lifecycle_state == 'unconfigured'


def test_the_robot_follows_the_robot_description_topic(graph):
    g = graph(stand_on_enable=True, stand_duration=0.2, autostart='unconfigured')
    assert g.transition('configure') and g.node.robot is None
    rsp = g.driver.create_publisher(String, 'robot_description', ROBOT_DESCRIPTION_QOS)
    names = ['hip', 'knee', 'ankle']
    rsp.publish(String(data=urdf(names)))
    assert g.spin_until(lambda: g.node.robot is not None)
    robot = g.node.robot
    assert robot.joint_names == tuple(names) and robot.source == 'robot_description (topic)'
    np.testing.assert_allclose(robot.upper, [0.7] * 3)
    status = g.latest_status(lambda s: s['robot'] is not None)
    assert status['robot'] == {'name': 'topic_robot', 'source': 'robot_description (topic)',
                               'joints': names}
    # The stand goes to the described robot's default pose (0, inside its limits).
    assert g.call_enable(True).success and g.node.modes.machine.mode == 'stand'
    position = np.array([0.6, -0.3, 0.5])
    for k in range(200):
        if np.allclose(position, 0.0):
            break
        assert g.send(names, position, stamp=1.0 + 0.02 * k), 'no stand command'
        position = np.asarray(g.commands[-1][1])
    np.testing.assert_allclose(position, 0.0, atol=1e-9)
    # A changed description: another robot, other joints and limits.
    rsp.publish(String(data=urdf(['shoulder', 'elbow'], upper=-0.1)))
    assert g.spin_until(lambda: g.node.robot.joint_names == ('shoulder', 'elbow'))
    np.testing.assert_allclose(g.node.robot.default_pose, [-0.1, -0.1])   # 0 clamped
    assert g.node.index.joint_names == ('shoulder', 'elbow')
