# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Each node's /diagnostics levels follow its state, on a real (DDS-isolated) in-process graph."""

import time

import numpy as np
import pytest
import rclpy
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from doubles.ros_graph import InProcessGraph, graph_factory
from geometry_msgs.msg import PoseStamped
from rclpy.parameter import Parameter
from sensor_msgs.msg import JointState
from std_msgs.msg import Float64MultiArray

from robotrl_ros.nodes.policy_node import PolicyNode
from robotrl_ros.nodes.sim_bridge import SimBridge
from robotrl_ros.nodes.trainer_node import TrainerNode
from robotrl_ros.policy.synthetic import make_synthetic_artifact
from robotrl_ros.ros.conversions import goal_to_pose, make_joint_state
from robotrl_ros.ros.qos import COMMAND_QOS, SENSOR_QOS
from robotrl_ros.tasks.registry import make_env

COMMANDS = 'forward_position_controller/commands'
N = 4
NAMES = [f'joint_{i}' for i in range(N)]
#: Only catches hangs: every wait ends as soon as the awaited report arrives.
TIMEOUT = 30.0


@pytest.fixture(scope='module')
def artifact(tmp_path_factory):
    return make_synthetic_artifact(tmp_path_factory.mktemp('artifact') / 'a', n_joints=N,
                                   hidden=(16,), seed=0)


class Graph(InProcessGraph):
    """One node under test and a driver node that listens to /diagnostics, one executor."""

    def __init__(self, node):
        self.node = node
        self.driver = rclpy.create_node('driver')
        super().__init__(node, self.driver)
        self.reports: list[DiagnosticArray] = []
        self.driver.create_subscription(DiagnosticArray, '/diagnostics', self.reports.append,
                                        10)

    def spin_acting(self, condition, action=None):
        """Spin (calling ``action`` between spins) until ``condition()``; fails on a hang."""
        deadline = time.monotonic() + TIMEOUT
        while not condition():
            assert time.monotonic() < deadline, f'timed out; last report: {self.last()}'
            if action is not None:
                action()
            self.executor.spin_once(timeout_sec=0.01)

    def last(self):
        """The newest report of the node under test: {aspect: DiagnosticStatus}."""
        prefix = self.node.get_fully_qualified_name() + ': '
        for report in reversed(self.reports):
            statuses = {s.name[len(prefix):]: s for s in report.status
                        if s.name.startswith(prefix)}
            if statuses:
                return statuses
        return {}

    def wait_for(self, condition, action=None):
        """The first new report for which ``condition({aspect: status})`` holds."""
        self.reports.clear()
        self.spin_acting(lambda: bool(self.last()) and condition(self.last()), action)
        return self.last()


def all_ok(statuses):
    return all(s.level == DiagnosticStatus.OK for s in statuses.values())


def level(aspect, wanted):
    return lambda statuses: statuses[aspect].level == wanted


# --- policy_node -----------------------------------------------------------------------------
class PolicyGraph(Graph):
    def __init__(self, artifact, **params):
        params = {'policy_path': str(artifact), 'armed': True, 'trust_artifact_limits': True,
                  'status_period': 0.1, 'state_timeout': 5.0, 'latency_warn_ms': 1000.0, **params}
        super().__init__(PolicyNode(parameter_overrides=[Parameter(k, value=v)
                                                         for k, v in params.items()]))
        self.states = self.driver.create_publisher(JointState, 'joint_states', SENSOR_QOS)
        self.stamp = 0.0
        self.spin_acting(lambda: self.states.get_subscription_count() > 0)

    def send(self, names=tuple(NAMES)):
        self.stamp += 0.02
        self.states.publish(make_joint_state(list(names), np.zeros(len(names)),
                                             np.zeros(len(names)), stamp=self.stamp))


@pytest.fixture
def policy_graph(ros_module, artifact):
    with graph_factory(lambda **params: PolicyGraph(artifact, **params)) as make:
        yield make


def test_a_healthy_armed_policy_node_reports_ok(policy_graph):
    g = policy_graph()
    statuses = g.wait_for(all_ok, g.send)
    assert set(statuses) == {'control', 'inputs', 'latency'}
    assert 'armed, running policy' in statuses['control'].message
    assert statuses['control'].hardware_id == g.node.controller.artifact.spec.name
    assert {kv.key: kv.value for kv in statuses['control'].values}['armed'] == 'True'


def test_a_missing_joint_is_an_error_naming_it(policy_graph):
    g = policy_graph()
    statuses = g.wait_for(level('control', DiagnosticStatus.ERROR),
                          lambda: g.send(NAMES[1:]))
    assert 'joint_0' in statuses['control'].message
    assert statuses['inputs'].level == DiagnosticStatus.WARN     # refused joint_states


def test_the_state_watchdog_is_a_warning(policy_graph):
    g = policy_graph(state_timeout=0.3)
    g.wait_for(level('control', DiagnosticStatus.OK), g.send)
    statuses = g.wait_for(level('control', DiagnosticStatus.WARN))  # states stop
    assert 'watchdog' in statuses['control'].message
    assert statuses['inputs'].level == DiagnosticStatus.STALE


def test_latency_over_the_threshold_is_a_warning(policy_graph):
    g = policy_graph(latency_warn_ms=1e-6)
    statuses = g.wait_for(level('latency', DiagnosticStatus.WARN), g.send)
    assert 'p99 end-to-end latency' in statuses['latency'].message
    assert statuses['control'].level == DiagnosticStatus.OK


# --- sim_bridge ------------------------------------------------------------------------------
@pytest.fixture
def sim_graph(ros_module):
    bridge = SimBridge(namespace='robot1', parameter_overrides=[
        Parameter('lockstep', value=True), Parameter('status_period', value=0.1)])
    g = Graph(bridge)
    g.commands = g.driver.create_publisher(Float64MultiArray, f'/robot1/{COMMANDS}',
                                           COMMAND_QOS)
    g.spin_acting(lambda: g.commands.get_subscription_count() > 0)
    yield g
    g.close()


def test_a_namespaced_sim_bridge_reports_ok_on_the_absolute_topic(sim_graph):
    g = sim_graph
    statuses = g.wait_for(lambda s: all_ok(s) and 'steps/s' in s['simulation'].message,
                          lambda: g.commands.publish(Float64MultiArray(data=[0.0] * 3)))
    assert g.reports[-1].status[0].name.startswith('/robot1/sim_bridge: ')
    assert statuses['simulation'].hardware_id == 'sim:reach'


def test_rejected_commands_are_an_error(sim_graph):
    g = sim_graph
    statuses = g.wait_for(level('commands', DiagnosticStatus.ERROR),
                          lambda: g.commands.publish(Float64MultiArray(data=[0.0] * 2)))
    assert 'expected 3' in statuses['commands'].message
    # good commands again: the error clears with the next period
    g.wait_for(level('commands', DiagnosticStatus.OK),
               lambda: g.commands.publish(Float64MultiArray(data=[0.0] * 3)))


# --- trainer_node ----------------------------------------------------------------------------
class FakeRobot:
    """Publishes reach states, a goal and random commands, as a robot and explorer would."""

    def __init__(self, node, drop_joint=False):
        self.env = make_env('reach')
        self.env.reset(seed=0)
        self.rng = np.random.default_rng(0)
        self.drop_joint = drop_joint
        self.js = node.create_publisher(JointState, 'joint_states', SENSOR_QOS)
        self.goal = node.create_publisher(PoseStamped, 'goal_pose', COMMAND_QOS)
        self.cmd = node.create_publisher(Float64MultiArray, COMMANDS, COMMAND_QOS)
        self.stamp, self.started = 0.0, False

    def step(self):
        if not self.started:
            self.goal.publish(goal_to_pose(self.env.goal))
            self.started = True
        else:
            command = self.rng.uniform(-1, 1, 3)
            self.cmd.publish(Float64MultiArray(data=command.tolist()))
            self.env.step_command(command)
        self.stamp += 0.1
        names, position, velocity, _ = self.env.joint_state()
        keep = slice(1, None) if self.drop_joint else slice(None)
        self.js.publish(make_joint_state(list(names)[keep], position[keep], velocity[keep],
                                         stamp=self.stamp))


@pytest.fixture
def trainer_graph(ros_module, tmp_path):
    config = tmp_path / 'sac.yaml'
    config.write_text('agent:\n  learning_starts: 50\n  batch_size: 16\n  hidden_sizes: [16]\n')
    trainer = TrainerNode(parameter_overrides=[
        Parameter('output_dir', value=str(tmp_path / 'run')),
        Parameter('config', value=str(config)),
        Parameter('reset_service', value=''), Parameter('status_period', value=0.2)])
    g = Graph(trainer)
    yield g
    g.executor.shutdown()
    trainer.close()
    g.close()


def _robot(g, drop_joint=False):
    robot = FakeRobot(g.driver, drop_joint)
    g.spin_acting(lambda: robot.js.get_subscription_count() > 0
                 and robot.cmd.get_subscription_count() > 0)
    return robot


def _paced(step, spins_per_step=4):
    """``step`` every few spins, so the robot never outruns the trainer.

    The executor (one thread for robot and trainer) takes one callback a spin: the robot's two
    messages a step never pile up, however busy the machine is (a backlog would overflow the
    queue and be reported as lost transitions).
    """
    calls = [0]

    def action():
        if calls[0] % spins_per_step == 0:
            step()
        calls[0] += 1
    return action


def test_a_trainer_paired_with_a_healthy_stream_reports_ok(trainer_graph):
    g = trainer_graph
    robot = _robot(g)
    statuses = g.wait_for(all_ok, _paced(robot.step))
    assert set(statuses) == {'learning', 'stream'}
    assert statuses['stream'].hardware_id == 'reach'
    assert 'transitions paired' in statuses['stream'].message


def test_a_trainer_whose_joint_states_lack_a_joint_reports_an_error(trainer_graph):
    g = trainer_graph
    robot = _robot(g, drop_joint=True)
    statuses = g.wait_for(level('stream', DiagnosticStatus.ERROR), _paced(robot.step))
    assert 'bad_joint_state' in statuses['stream'].message
    assert statuses['learning'].level == DiagnosticStatus.OK
