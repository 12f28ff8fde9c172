# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The hardware path: policy_node against ros2_control's topics (a test double), no hardware.

config/ros2_control_*.yaml describe the controllers (joint_state_broadcaster and a
ForwardCommandController ``forward_position_controller``); test/doubles/ros2_control_double.py
reads them and behaves like those controllers' topics.
"""

import time

import numpy as np
import pytest
import rclpy
from doubles.reach_pd import export_reach_pd
from doubles.ros2_control_double import (
    CONFIG,
    EXTRA_JOINTS,
    Ros2ControlDouble,
    load_forward_controller,
)
from geometry_msgs.msg import PoseStamped
from rclpy.executors import SingleThreadedExecutor
from rclpy.parameter import Parameter
from sensor_msgs.msg import JointState
from std_msgs.msg import Float64MultiArray

from robotrl_ros.ros.conversions import JointIndex, goal_to_pose
from robotrl_ros.ros.qos import COMMAND_QOS, SENSOR_QOS
from robotrl_ros.tasks.reach import REACH_SPEC

COMMANDS = 'forward_position_controller/commands'


pytestmark = pytest.mark.usefixtures('ros_module')


class Graph:
    def __init__(self, *nodes):
        self.nodes = list(nodes)
        self.probe = rclpy.create_node('hw_probe')
        self.states: list[JointState] = []
        self.commands: list[list[float]] = []
        self.probe.create_subscription(JointState, 'joint_states', self.states.append,
                                       SENSOR_QOS)
        self.probe.create_subscription(Float64MultiArray, COMMANDS,
                                       lambda m: self.commands.append(list(m.data)), COMMAND_QOS)
        self.cmd_pub = self.probe.create_publisher(Float64MultiArray, COMMANDS, COMMAND_QOS)
        self.goal_pub = self.probe.create_publisher(PoseStamped, 'goal_pose', COMMAND_QOS)
        self.executor = SingleThreadedExecutor()
        for node in [*self.nodes, self.probe]:
            self.executor.add_node(node)

    def spin_until(self, condition, timeout=30.0):  # waits end at once; catches hangs
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not condition():
            self.executor.spin_once(timeout_sec=0.01)
        return condition()

    def close(self):
        self.executor.shutdown()
        for node in [*self.nodes, self.probe]:
            node.destroy_node()


def _double(**params):
    return Ros2ControlDouble(parameter_overrides=[Parameter(k, value=v)
                                                  for k, v in params.items()])


def test_reach_controller_config_matches_the_reach_task():
    joints, interface, rate = load_forward_controller(CONFIG / 'ros2_control_reach.yaml')
    assert tuple(joints) == REACH_SPEC.joint_names
    assert interface == REACH_SPEC.command_interface
    assert rate >= 1.0 / REACH_SPEC.control_period


def test_generic_arm_config_is_a_position_controller():
    joints, interface, rate = load_forward_controller(CONFIG / 'ros2_control_arm.yaml')
    assert joints == [f'joint_{i}' for i in range(1, 7)] and interface == 'position'
    assert rate == 200.0


def test_config_without_forward_controller_is_rejected(tmp_path):
    bad = tmp_path / 'bad.yaml'
    bad.write_text('controller_manager:\n  ros__parameters:\n    joint_state_broadcaster:\n'
                   '      type: joint_state_broadcaster/JointStateBroadcaster\n')
    with pytest.raises(ValueError, match='no ForwardCommandController'):
        load_forward_controller(bad)


def test_double_publishes_own_joint_order_and_follows_commands():
    double = _double(initial_positions=[0.1, 0.2, 0.3])
    g = Graph(double)
    try:
        assert g.spin_until(lambda: len(g.states) > 0 and g.cmd_pub.get_subscription_count())
        msg = g.states[-1]
        assert list(msg.name) == ['z', 'y', 'x', *EXTRA_JOINTS]  # not the controller's order
        position, velocity, _ = JointIndex(REACH_SPEC.joint_names).extract(msg)
        np.testing.assert_allclose(position, [0.1, 0.2, 0.3])
        g.cmd_pub.publish(Float64MultiArray(data=[1.0, 2.0]))  # wrong size: ignored
        assert g.spin_until(lambda: double.commands_ignored == 1)
        g.cmd_pub.publish(Float64MultiArray(data=[1.0, 0.0, -1.0]))  # accelerations x, y, z
        assert g.spin_until(lambda: double.commands_received == 1)
        assert g.spin_until(lambda: abs(JointIndex('xz').extract(g.states[-1])[1][0]) > 0.1)
        position, velocity, _ = JointIndex(REACH_SPEC.joint_names).extract(g.states[-1])
        assert velocity[0] > 0 and velocity[1] == 0 and velocity[2] < 0
        assert position[0] > 0.1 and position[1] == pytest.approx(0.2) and position[2] < 0.3
    finally:
        g.close()


def _reach_limits(tmp_path):
    """The double's limits (a joint_limits YAML): the policy node arms only with them."""
    path = tmp_path / 'joint_limits.yaml'
    path.write_text('joint_limits:\n' + ''.join(
        f'  {name}:\n    has_acceleration_limits: true\n    max_acceleration: 1.0\n'
        for name in REACH_SPEC.joint_names))
    return path


def test_policy_node_drives_ros2_control_double_to_the_goal(tmp_path):
    from robotrl_ros.nodes.policy_node import PolicyNode

    artifact = export_reach_pd(tmp_path / 'reach_pd')
    double = _double(initial_positions=[0.2, 0.0, -0.1])
    policy = PolicyNode(parameter_overrides=[
        Parameter('policy_path', value=str(artifact)), Parameter('armed', value=True),
        Parameter('control_mode', value='timer'), Parameter('control_period', value=0.02),
        Parameter('state_timeout', value=1.0), Parameter('max_command_delta', value=2.0),
        Parameter('joint_limits', value=str(_reach_limits(tmp_path)))])
    g = Graph(double, policy)
    goal = np.array([0.5, -0.3, 0.2])
    try:
        assert g.spin_until(lambda: g.goal_pub.get_subscription_count() > 0)
        g.goal_pub.publish(goal_to_pose(goal))
        index = JointIndex(REACH_SPEC.joint_names)

        def at_goal():
            if not g.states:
                return False
            position, velocity, _ = index.extract(g.states[-1])
            return np.linalg.norm(position - goal) < 0.05 and np.linalg.norm(velocity) < 0.1

        assert g.spin_until(at_goal, timeout=120.0), index.extract(g.states[-1])
        assert double.commands_received > 20 and double.commands_ignored == 0
        assert all(len(c) == 3 and np.all(np.abs(c) <= 1.0) for c in g.commands)
    finally:
        g.close()


def test_double_position_interface_is_a_first_order_lag():
    double = _double(controllers_file=str(CONFIG / 'ros2_control_arm.yaml'), tau=0.05)
    try:
        assert double.interface == 'position' and len(double.joints) == 6
        np.testing.assert_array_equal(double.command, 0.0)  # holds its start pose
        double.command = np.full(6, 1.0)
        double.integrate(0.05)  # one time constant: 1 - 1/e of the way
        np.testing.assert_allclose(double.position, 1.0 - np.exp(-1.0))
        for _ in range(20):
            double.integrate(0.05)
        np.testing.assert_allclose(double.position, 1.0, atol=1e-6)
    finally:
        double.destroy_node()


def test_deploy_graph_drives_the_double_through_a_generated_controller_config(tmp_path):
    """``robotrl ros2-control-config`` -> the double's controllers; deploy.yaml's policy node."""
    import yaml

    from robotrl_ros import cli
    from robotrl_ros.nodes.policy_node import PolicyNode

    artifact = export_reach_pd(tmp_path / 'reach_pd')
    controllers = tmp_path / 'controllers.yaml'
    assert cli.main(['ros2-control-config', '--policy', str(artifact),
                     '--output', str(controllers)]) == 0
    joints, interface, rate = load_forward_controller(controllers)
    assert tuple(joints) == REACH_SPEC.joint_names and interface == 'acceleration'
    assert rate == 1.0 / REACH_SPEC.control_period
    deploy = yaml.safe_load((CONFIG / 'deploy.yaml').read_text())['/**/policy_node']
    params = dict(deploy['ros__parameters'], policy_path=str(artifact), armed=True,
                  joint_limits=str(_reach_limits(tmp_path)),
                  state_timeout=1.0,        # joint_states at the generated 10 Hz, busy CPU
                  max_command_rate=0.0)     # deploy.yaml's rate suits position targets
    policy = PolicyNode(parameter_overrides=[Parameter(k, value=v) for k, v in params.items()])
    double = _double(controllers_file=str(controllers), initial_positions=[-0.2, 0.1, 0.0])
    g = Graph(double, policy)
    goal = np.array([0.3, -0.2, 0.25])
    try:
        assert g.spin_until(lambda: g.goal_pub.get_subscription_count() > 0)
        g.goal_pub.publish(goal_to_pose(goal))
        index = JointIndex(REACH_SPEC.joint_names)

        def at_goal():
            if not g.states:
                return False
            position, velocity, _ = index.extract(g.states[-1])
            return np.linalg.norm(position - goal) < 0.05 and np.linalg.norm(velocity) < 0.1

        assert g.spin_until(at_goal, timeout=120.0), index.extract(g.states[-1])
        assert double.commands_received > 5 and double.commands_ignored == 0
    finally:
        g.close()
