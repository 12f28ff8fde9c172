# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The sim_bridge node on a real (in-process) ROS graph: topics, lockstep, reset, status."""

import json
import time

import numpy as np
import pytest
import rclpy
from geometry_msgs.msg import PoseStamped
from rclpy.executors import SingleThreadedExecutor
from rclpy.parameter import Parameter
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import JointState
from std_msgs.msg import Float64MultiArray, String
from std_srvs.srv import SetBool, Trigger

from robotrl_ros.nodes.sim_bridge import SimBridge
from robotrl_ros.ros.conversions import stamp_to_sec
from robotrl_ros.ros.qos import COMMAND_QOS, SENSOR_QOS
from robotrl_ros.tasks.reach import ACCEL_GAIN, DT

COMMANDS = 'forward_position_controller/commands'


def distinct_stamps(states):
    return len({stamp_to_sec(m.header.stamp) for m in states})


class Graph:
    """A sim_bridge plus a probe node that records what the bridge publishes."""

    def __init__(self, **params):
        self.bridge = SimBridge(parameter_overrides=[Parameter(k, value=v)
                                                     for k, v in params.items()])
        self.probe = rclpy.create_node('probe')
        self.states: list[JointState] = []
        self.goals: list[PoseStamped] = []
        self.status: list[dict] = []
        self.clock: list[Clock] = []
        self.probe.create_subscription(JointState, 'joint_states', self.states.append,
                                       SENSOR_QOS)
        self.probe.create_subscription(PoseStamped, 'goal_pose', self.goals.append, COMMAND_QOS)
        self.probe.create_subscription(String, 'sim_bridge/status',
                                       lambda m: self.status.append(json.loads(m.data)), 10)
        self.probe.create_subscription(Clock, 'clock', self.clock.append, 10)
        self.cmd_pub = self.probe.create_publisher(Float64MultiArray, COMMANDS, COMMAND_QOS)
        self.reset_client = self.probe.create_client(Trigger, 'sim_bridge/reset')
        self.enable_client = self.probe.create_client(SetBool, 'sim_bridge/enable')
        self.executor = SingleThreadedExecutor()
        self.executor.add_node(self.bridge)
        self.executor.add_node(self.probe)

    def spin_until(self, condition, timeout=30.0):  # waits end at once; catches hangs
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return True
            self.executor.spin_once(timeout_sec=0.02)
        return condition()

    def wait_connected(self):
        assert self.spin_until(lambda: self.cmd_pub.get_subscription_count() > 0
                               and self.bridge.js_pub.get_subscription_count() > 0)
        assert self.spin_until(lambda: len(self.states) > 0)

    def command(self, values):
        self.cmd_pub.publish(Float64MultiArray(data=[float(v) for v in values]))

    def reset(self):
        assert self.reset_client.wait_for_service(timeout_sec=30.0)
        future = self.reset_client.call_async(Trigger.Request())
        assert self.spin_until(future.done)
        return future.result()

    def enable(self, on):
        assert self.enable_client.wait_for_service(timeout_sec=30.0)
        future = self.enable_client.call_async(SetBool.Request(data=on))
        assert self.spin_until(future.done)
        return future.result()

    def close(self):
        self.executor.shutdown()
        self.bridge.destroy_node()
        self.probe.destroy_node()


pytestmark = pytest.mark.usefixtures('ros_module')


@pytest.fixture
def graph_factory():
    graphs = []

    def make(**params):
        graphs.append(Graph(**params))
        return graphs[-1]

    yield make
    for g in graphs:
        g.close()


def test_joint_states_names_order_and_sim_stamps(graph_factory):
    g = graph_factory(lockstep=True, lockstep_republish_period=0.05, seed=1)
    g.wait_connected()
    assert g.spin_until(lambda: len(g.states) >= 3)  # republished while idle
    msg = g.states[-1]
    assert list(msg.name) == ['x', 'y', 'z']
    assert len(msg.position) == 3 and len(msg.velocity) == 3 and len(msg.effort) == 0
    np.testing.assert_array_equal(msg.velocity, 0.0)
    # Idle republishes carry the same sim stamp; the first state is one period after t=0.
    assert [stamp_to_sec(m.header.stamp) for m in g.states] == [pytest.approx(DT)] * len(g.states)


def test_lockstep_advances_exactly_one_step_per_command(graph_factory):
    g = graph_factory(lockstep=True, lockstep_republish_period=0.2, seed=2,
                      joints=['z', 'x', 'y'], publish_clock=True)
    g.wait_connected()
    start = g.states[-1]
    p0 = np.array(start.position)
    accel_xyz = np.array([1.0, -0.5, 0.25])
    for k in range(1, 6):
        g.command([accel_xyz[2], accel_xyz[0], accel_xyz[1]])  # z, x, y order
        assert g.spin_until(lambda k=k: distinct_stamps(g.states) == k + 1)
    g.spin_until(lambda: False, timeout=0.5)  # idle: only republishes of the last state
    assert distinct_stamps(g.states) == 6 and g.bridge.session.steps == 5
    steps = [m for i, m in enumerate(g.states)
             if i > 0 and m.header.stamp != g.states[i - 1].header.stamp]
    assert len(steps) == 5
    stamps = [stamp_to_sec(m.header.stamp) for m in [start, *steps]]
    np.testing.assert_allclose(np.diff(stamps), DT, rtol=1e-6)
    velocity = np.zeros(3)
    position = p0.copy()
    for m in steps:  # the reach dynamics, applied once per command
        velocity = np.clip(velocity + ACCEL_GAIN * accel_xyz, -0.5, 0.5)
        position = position + DT * velocity
        np.testing.assert_allclose(m.velocity, velocity)
        np.testing.assert_allclose(m.position, position)
    assert g.spin_until(lambda: len(g.clock) > 0)
    assert max(stamp_to_sec(c.clock) for c in g.clock) == pytest.approx(stamps[-1])


def test_paused_lockstep_holds_the_answer_and_steps_once_on_resume(graph_factory):
    # A trainer's backpressure pause: no step and no republish while paused; the answer to the
    # last state is applied on resume, and a later command for the same state never steps.
    g = graph_factory(lockstep=True, lockstep_republish_period=0.05, seed=2)
    g.wait_connected()
    assert g.enable(False).message == 'paused'
    g.spin_until(lambda: False, timeout=0.3)     # republishes in flight before the pause end
    seen = len(g.states)
    g.command([1.0, 0.0, 0.0])                   # the policy's answer
    g.command([-1.0, 0.0, 0.0])                  # a second command for the same state
    assert g.spin_until(lambda: g.bridge.session.dropped_paused == 1)
    g.spin_until(lambda: False, timeout=0.5)
    assert len(g.states) == seen and g.bridge.session.steps == 0   # nothing while paused
    assert g.enable(True).message == 'running'
    assert g.spin_until(lambda: distinct_stamps(g.states) == 2)
    g.spin_until(lambda: False, timeout=0.3)
    assert g.bridge.session.steps == 1 and distinct_stamps(g.states) == 2
    stepped = [m for m in g.states if stamp_to_sec(m.header.stamp) > DT + 1e-9][0]
    np.testing.assert_allclose(stepped.velocity, [ACCEL_GAIN, 0.0, 0.0])   # the held command
    assert stamp_to_sec(stepped.header.stamp) == pytest.approx(2 * DT)


def test_paused_real_time_bridge_stops_its_clock(graph_factory):
    g = graph_factory(lockstep=False, control_period=0.02, seed=3)
    g.wait_connected()
    g.enable(False)
    steps = g.bridge.session.steps
    g.spin_until(lambda: False, timeout=0.3)
    assert g.bridge.session.steps == steps
    g.enable(True)
    assert g.spin_until(lambda: g.bridge.session.steps >= steps + 3)


def test_bad_commands_rejected_counted_and_reported(graph_factory):
    g = graph_factory(lockstep=True, lockstep_republish_period=0.2, status_period=0.1,
                      dr_gain_scale=[0.5, 0.9], dr_latency_steps=[1, 2])
    g.wait_connected()
    position = list(g.states[-1].position)
    g.command([1.0, 1.0])
    g.command([float('nan'), 0.0, 0.0])
    assert g.spin_until(lambda: g.status and g.status[-1]['rejected_commands'] == 2)
    assert g.bridge.session.steps == 0
    assert list(g.states[-1].position) == position
    g.command([0.0, 0.0, 1.0])
    assert g.spin_until(lambda: g.bridge.session.steps == 1)
    status = g.status[-1]
    assert status['mode'] == 'lockstep' and status['task'] == 'reach'
    assert status['episode'] == 1 and 'NaN' in status['last_rejection']
    assert 0.5 <= status['randomization']['gain_scale'] <= 0.9  # this episode's values
    assert status['randomization']['latency_steps'] in (1, 2)


def test_reset_publishes_goal_then_state_and_returns_its_stamp(graph_factory):
    g = graph_factory(lockstep=True, lockstep_republish_period=0.2, seed=3)
    g.wait_connected()
    g.command([1.0, 1.0, 1.0])
    assert g.spin_until(lambda: g.bridge.session.steps == 1)
    assert g.spin_until(lambda: len(g.goals) >= 1)
    published = []
    for name, pub in (('goal', g.bridge.goal_pub), ('state', g.bridge.js_pub)):
        pub.publish = lambda msg, name=name, inner=pub.publish: (published.append(name),
                                                                 inner(msg))
    old_goal = np.array([g.goals[-1].pose.position.x, g.goals[-1].pose.position.y])
    response = g.reset()
    assert response.success
    body = json.loads(response.message)
    assert body['episode'] == 2
    assert published == ['goal', 'state']  # goal first, then the new episode's state
    assert g.spin_until(lambda: stamp_to_sec(g.states[-1].header.stamp) == body['stamp'])
    state = g.states[-1]
    assert stamp_to_sec(state.header.stamp) == pytest.approx(body['stamp'])
    assert body['stamp'] == pytest.approx(3 * DT)  # reset, step, reset: never goes back
    np.testing.assert_array_equal(state.velocity, 0.0)
    new_goal = np.array([g.goals[-1].pose.position.x, g.goals[-1].pose.position.y])
    assert not np.allclose(old_goal, new_goal)  # re-sampled
    assert g.spin_until(lambda: stamp_to_sec(g.goals[-1].header.stamp) == body['stamp'])
    p = g.goals[-1].pose.position
    np.testing.assert_allclose(body['goal'], [p.x, p.y, p.z])  # the reply names the goal too


def test_real_time_mode_steps_on_timer_with_latest_command(graph_factory):
    g = graph_factory(lockstep=False, control_period=0.02, goal=[0.0, 0.0, 0.0],
                      status_period=0.1)
    g.wait_connected()
    g.command([0.0, 0.0, 1.0])
    assert g.spin_until(lambda: g.states[-1].velocity[2] >= 0.2)
    steps = g.bridge.session.steps
    assert steps >= 3  # timer keeps stepping: the held command accelerates z only
    np.testing.assert_array_equal(g.states[-1].velocity[:2], 0.0)
    assert g.spin_until(lambda: len(g.goals) > 0)
    assert g.goals[-1].pose.position.z == 0.0


def test_quadruped_publishes_imu_base_twist_and_cmd_vel(graph_factory):
    from geometry_msgs.msg import Twist, TwistStamped
    from sensor_msgs.msg import Imu

    from robotrl_ros.tasks.observation import projected_gravity

    g = graph_factory(task='quadruped', lockstep=True, lockstep_republish_period=0.1, seed=0)
    imus, twists, cmds = [], [], []
    g.probe.create_subscription(Imu, 'imu', imus.append, SENSOR_QOS)
    g.probe.create_subscription(TwistStamped, 'base_twist', twists.append, SENSOR_QOS)
    g.probe.create_subscription(Twist, 'cmd_vel', cmds.append, COMMAND_QOS)
    g.wait_connected()
    spec = g.bridge.session.spec
    command = np.array(spec.action_offset)[::-1]  # any valid pose, in the bridge's order
    g.command(command)
    stepped = g.bridge.session.sim_time + g.bridge.session.dt
    assert g.spin_until(lambda: stamp_to_sec(g.states[-1].header.stamp) == stepped)
    assert g.spin_until(lambda: imus and twists and cmds)
    state = g.states[-1]
    assert tuple(state.name) == spec.joint_names and len(state.effort) == len(spec.joint_names)
    truth = g.bridge.session.imu()
    assert g.spin_until(lambda: imus[-1].header.stamp == state.header.stamp
                        and twists[-1].header.stamp == state.header.stamp)
    q = imus[-1].orientation
    np.testing.assert_allclose(projected_gravity(np.array([q.x, q.y, q.z, q.w])),
                               truth['projected_gravity'], atol=1e-9)
    w = imus[-1].angular_velocity
    np.testing.assert_allclose([w.x, w.y, w.z], truth['base_ang_vel'])
    v = twists[-1].twist.linear
    np.testing.assert_allclose([v.x, v.y, v.z], truth['base_lin_vel'])
    goal = g.bridge.session.env.goal
    assert cmds[-1].linear.x == pytest.approx(goal[0]) and cmds[-1].angular.z == goal[2]
    # A user's cmd_vel becomes the episode's command.
    user = Twist()
    user.linear.x = 0.3
    pub = g.probe.create_publisher(Twist, 'cmd_vel', COMMAND_QOS)
    assert g.spin_until(lambda: pub.get_subscription_count() > 0)
    pub.publish(user)
    assert g.spin_until(lambda: g.bridge.session.env.goal[0] == pytest.approx(0.3))


def test_auto_reset_with_policy_node_evaluates_episodes(graph_factory, tmp_path):
    from doubles.reach_pd import export_reach_pd

    from robotrl_ros.nodes.policy_node import PolicyNode

    policy = PolicyNode(parameter_overrides=[
        Parameter('policy_path', value=str(export_reach_pd(tmp_path / 'pd'))),
        Parameter('armed', value=True), Parameter('control_mode', value='on_message'),
        Parameter('state_timeout', value=5.0), Parameter('max_command_delta', value=2.0),
        Parameter('trust_artifact_limits', value=True)])   # a simulator (issue 20)
    g = graph_factory(lockstep=True, auto_reset=True, lockstep_republish_period=0.2,
                      status_period=0.2, seed=5)
    g.executor.add_node(policy)
    try:
        assert g.spin_until(lambda: g.status and g.status[-1]['finished_episodes'] >= 3,
                            timeout=60.0)
        status = g.status[-1]
        assert status['recent_success_rate'] == 1.0  # the controller reaches every goal
        # Between an episode's end and the command that starts the next one (auto_reset), the
        # status may show the ended episode as the current one.
        pending = status['reset_pending']
        assert status['episode'] == status['finished_episodes'] + (0 if pending else 1)
        stamps = [stamp_to_sec(m.header.stamp) for m in g.states]
        assert all(b >= a for a, b in zip(stamps, stamps[1:], strict=False))  # never back
    finally:
        g.executor.remove_node(policy)
        policy.destroy_node()


def test_reset_in_lockstep_keeps_one_state_in_flight(graph_factory):
    # A policy answers every fresh state at once; the reset comes while its answer to the ended
    # episode's last state is on its way. That answer must not start a second chain of steps.
    g = graph_factory(lockstep=True, lockstep_republish_period=5.0, seed=4)
    g.wait_connected()
    answered = []  # stamps of the states the "policy" answered
    plan = {'left': 8, 'reset_at': 4, 'reset': None}

    def answer(msg):
        stamp = stamp_to_sec(msg.header.stamp)
        if plan['left'] > 0 and (not answered or stamp > answered[-1]):
            plan['left'] -= 1
            answered.append(stamp)
            g.command([0.5, 0.0, 0.0])
            if len(answered) == plan['reset_at']:  # ~/reset while this answer is in flight
                plan['reset'] = g.bridge._on_reset(Trigger.Request(), Trigger.Response())
    g.probe.create_subscription(JointState, 'joint_states', answer, SENSOR_QOS)
    g.command([0.5, 0.0, 0.0])  # starts the chain
    assert g.spin_until(lambda: plan['left'] == 0)
    g.spin_until(lambda: False, timeout=0.5)
    stamp = json.loads(plan['reset'].message)['stamp']
    after = sorted({stamp_to_sec(m.header.stamp) for m in g.states} - {0.0})
    after = [s for s in after if s >= stamp - 1e-9]
    # One chain: the new episode's states are consecutive control periods, each answered once,
    # and only the last one waits for an answer (two chains: more states than answers + 1).
    np.testing.assert_allclose(np.diff(after), DT, rtol=1e-6)
    assert len(after) == len([s for s in answered if s >= stamp - 1e-9]) + 1 == 5
    assert g.bridge.session.steps == 1 + 3 + 4  # the answer in flight at the reset: dropped
    assert g.bridge.session.status()['dropped_stale_commands'] == 1


def test_reset_without_a_running_policy_drops_no_command(graph_factory):
    g = graph_factory(lockstep=True, lockstep_republish_period=5.0, seed=5)
    g.wait_connected()
    g.reset()
    g.command([1.0, 0.0, 0.0])
    assert g.spin_until(lambda: g.bridge.session.steps == 1)
    assert g.bridge.session.dropped_stale == 0
