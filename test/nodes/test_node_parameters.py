# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""``ros2 param set`` on every node, through its set_parameters service from a client node.

For each node: an invalid value is refused with a reason naming the parameter, a read-only
parameter and one that takes effect only at start are refused, and a valid change to a
dynamic parameter is applied: the node's next messages show it.
"""

import json
import time

import numpy as np
import pytest
import rclpy
from rcl_interfaces.srv import SetParameters
from rclpy.executors import SingleThreadedExecutor
from rclpy.parameter import Parameter
from sensor_msgs.msg import JointState
from std_msgs.msg import Float64MultiArray, String
from std_srvs.srv import Trigger

from robotrl_ros.nodes.policy_node import PolicyNode
from robotrl_ros.nodes.sim_bridge import SimBridge
from robotrl_ros.nodes.trainer_node import TrainerNode
from robotrl_ros.policy.synthetic import make_synthetic_artifact
from robotrl_ros.ros.conversions import make_joint_state
from robotrl_ros.ros.qos import COMMAND_QOS, SENSOR_QOS

N = 4
NAMES = [f'joint_{i}' for i in range(N)]
COMMANDS = 'forward_position_controller/commands'
TIMEOUT = 20.0   # only catches hangs


class Client:
    """A client node that sets parameters of ``node`` the way ``ros2 param set`` does."""

    def __init__(self, node):
        self.node = node
        self.driver = rclpy.create_node('param_client')
        self.set_client = self.driver.create_client(
            SetParameters, f'{node.get_name()}/set_parameters')
        self.executor = SingleThreadedExecutor()
        self.executor.add_node(node)
        self.executor.add_node(self.driver)

    def spin_until(self, condition, timeout=TIMEOUT):
        deadline = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < deadline, 'timed out'
            self.executor.spin_once(timeout_sec=0.02)

    def set(self, name, value):
        self.spin_until(self.set_client.service_is_ready)
        request = SetParameters.Request(
            parameters=[Parameter(name, value=value).to_parameter_msg()])
        future = self.set_client.call_async(request)
        self.spin_until(future.done)
        return future.result().results[0]

    def close(self):
        self.executor.shutdown()
        self.driver.destroy_node()
        self.node.destroy_node()


def assert_refused(result, *words):
    assert not result.successful
    for word in words:
        assert word in result.reason, result.reason


# --- policy_node ------------------------------------------------------------------------------
@pytest.fixture
def policy(ros, tmp_path):
    path = make_synthetic_artifact(tmp_path / 'p', n_joints=N, hidden=(16,))
    node = PolicyNode(parameter_overrides=[
        Parameter('policy_path', value=str(path)), Parameter('armed', value=True),
        Parameter('state_timeout', value=5.0), Parameter('executor', value='single_threaded'),
        Parameter('trust_artifact_limits', value=True)])   # no URDF for this synthetic robot
    client = Client(node)
    client.commands = []
    client.driver.create_subscription(Float64MultiArray, COMMANDS,
                                      lambda m: client.commands.append(np.array(m.data)),
                                      COMMAND_QOS)
    client.states = client.driver.create_publisher(JointState, 'joint_states', SENSOR_QOS)
    client.stamp = 0.0
    client.spin_until(lambda: client.states.get_subscription_count() > 0
                      and client.driver.count_publishers(COMMANDS) > 0)
    yield client
    client.close()


def command_for(client, position):
    """The command that answers a fresh joint state at ``position``."""
    count = len(client.commands)
    client.stamp += 0.1
    client.states.publish(make_joint_state(NAMES, np.asarray(position), np.zeros(N),
                                           stamp=client.stamp))
    client.spin_until(lambda: len(client.commands) > count)
    return client.commands[-1]


def test_policy_node_max_command_delta_refuses_negative_and_applies_a_valid_change(policy):
    rng = np.random.default_rng(0)
    a, b = rng.uniform(-1, 1, N), rng.uniform(-1, 1, N)
    free_a = command_for(policy, a)
    free_b = command_for(policy, b)
    assert np.max(np.abs(free_b - free_a)) > 0.01     # unlimited: the commands differ
    result = policy.set('max_command_delta', -5.0)
    assert_refused(result, 'max_command_delta')
    assert policy.node.params.max_command_delta == 0.0
    assert policy.set('max_command_delta', 0.001).successful
    limited = command_for(policy, a)                  # the next message: rate-limited
    assert np.max(np.abs(limited - free_b)) <= 0.001 + 1e-9
    assert policy.node.get_parameter('max_command_delta').value == 0.001


def test_policy_node_joint_limit_margin_applies_and_refuses_too_wide(policy):
    spec = policy.node.controller.artifact.spec
    lower, upper = np.asarray(spec.command_lower), np.asarray(spec.command_upper)
    margin = float(np.min(upper - lower)) / 2 - 0.01   # leaves a narrow band per joint
    free = command_for(policy, np.full(N, 0.7))
    assert_refused(policy.set('joint_limit_margin', 100.0), 'joint_limit_margin')
    assert policy.set('joint_limit_margin', margin).successful
    narrowed = command_for(policy, np.full(N, 0.7))
    assert np.all(narrowed <= upper - margin + 1e-9) and np.all(narrowed >= lower + margin - 1e-9)
    assert not np.allclose(narrowed, free)


def test_policy_node_refuses_read_only_and_start_only_parameters(policy):
    assert_refused(policy.set('command_topic', 'other/commands'), 'read-only', 'command_topic')
    assert_refused(policy.set('control_mode', 'timer'), 'control_mode', 'restart the node')
    assert_refused(policy.set('control_mode', 'sometimes'), 'control_mode')
    assert policy.node.params.control_mode == 'on_message'
    command_for(policy, np.zeros(N))                  # still commanding on messages


# --- sim_bridge -------------------------------------------------------------------------------
@pytest.fixture
def bridge(ros):
    node = SimBridge(parameter_overrides=[Parameter('lockstep', value=True)])
    client = Client(node)
    client.reset = client.driver.create_client(Trigger, 'sim_bridge/reset')
    yield client
    client.close()


def reset_goal(client):
    client.spin_until(client.reset.service_is_ready)
    future = client.reset.call_async(Trigger.Request())
    client.spin_until(future.done)
    return json.loads(future.result().message)['goal']


def test_sim_bridge_goal_applies_from_the_next_episode(bridge):
    assert bridge.set('goal', [0.3, -0.2, 0.4]).successful
    assert reset_goal(bridge) == pytest.approx([0.3, -0.2, 0.4])
    assert bridge.set('goal', []).successful            # back to sampled goals
    assert reset_goal(bridge) != pytest.approx([0.3, -0.2, 0.4])


def test_sim_bridge_refuses_invalid_read_only_and_start_only_changes(bridge):
    assert_refused(bridge.set('goal', [1.0]), 'goal', '3 numbers')
    assert_refused(bridge.set('goal', 'far'), 'goal')
    assert_refused(bridge.set('control_period', -1.0), 'control_period')
    assert_refused(bridge.set('task', 'quadruped'), 'read-only', 'task')
    assert_refused(bridge.set('seed', 7), 'seed', 'restart the node')
    assert bridge.node.params.seed == 0 and bridge.node.session.goal is None


# --- trainer_node -----------------------------------------------------------------------------
@pytest.fixture
def trainer(ros, tmp_path):
    node = TrainerNode(parameter_overrides=[
        Parameter('output_dir', value=str(tmp_path / 'run')), Parameter('reset_service', value=''),
        Parameter('status_period', value=1000.0)])
    client = Client(node)
    client.status = []
    client.driver.create_subscription(String, 'trainer_node/status',
                                      lambda m: client.status.append(json.loads(m.data)), 10)
    yield client
    client.executor.shutdown()
    node.close()
    client.driver.destroy_node()
    node.destroy_node()


def test_trainer_node_status_period_applies_at_once(trainer):
    trainer.spin_until(lambda: trainer.driver.count_publishers('trainer_node/status') > 0)
    assert trainer.status == []                       # first report due in 1000 s
    assert trainer.set('status_period', 0.1).successful
    trainer.spin_until(lambda: len(trainer.status) >= 2)
    assert trainer.set('publish_period', 0.5).successful
    assert trainer.node.params.publish_period == 0.5


def test_trainer_node_refuses_invalid_read_only_and_start_only_changes(trainer):
    assert_refused(trainer.set('publish_period', 0.0), 'publish_period', '> 0')
    assert_refused(trainer.set('status_period', 'often'), 'status_period')
    assert_refused(trainer.set('algo', 'ppo'), 'read-only', 'algo')
    assert_refused(trainer.set('total_steps', 10), 'total_steps', 'restart the node')
    assert trainer.node.params.publish_period == 5.0 and trainer.node.params.total_steps == 0
