# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The stand-up of issue 16 on an in-process graph: sim_bridge + policy_node, no policy.

A test double first drives the simulated robot to another pose (the A1 lies down) while the
policy node is ``passive`` (it must send nothing); then ``~/enable`` stands it up to the robot's
default pose, which it holds for 10 s of sim time: the A1's base stays up and every joint within
the tolerance. The same for the Panda, and for a robot given only as a ``robot_description``
string to both nodes. Lockstep: the sim advances one step per command, so the test waits for sim
time, never for speed; wall-clock limits only catch hangs.
"""

import json
import time

import numpy as np
import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.parameter import Parameter
from sensor_msgs.msg import JointState
from std_msgs.msg import Float64MultiArray, String
from std_srvs.srv import SetBool

from robotrl_ros.nodes.policy_node import PolicyNode
from robotrl_ros.nodes.sim_bridge import SimBridge
from robotrl_ros.ros.qos import COMMAND_QOS, SENSOR_QOS

COMMANDS = 'forward_position_controller/commands'
HANG_TIMEOUT_S = 120.0
STAND_DURATION = 2.0
STAND_TOLERANCE = 0.05
#: The A1's soft servos (kp 20) sag under its weight: it stands about 0.25 rad off its default
#: pose, a little more while it settles (how it lay down differs with the lockstep timing).
A1_STAND_TOLERANCE = 0.4
HOLD_SECONDS = 10.0
MIN_BASE_HEIGHT = 0.18   # the A1's trunk stands near 0.29 m, lies below 0.15 m
#: A fixed-base two-joint arm (``world`` link): j2's range excludes 0, so the default pose of
#: a description alone (0 clamped into the limits) is not the zero pose.
ARM_URDF = """<robot name="arm">
  <link name="world"/>
  <link name="base"><inertial><mass value="1"/><inertia ixx="0.01" iyy="0.01" izz="0.01"
    ixy="0" ixz="0" iyz="0"/></inertial></link>
  <joint name="fix" type="fixed"><parent link="world"/><child link="base"/></joint>
  <link name="upper"><inertial><origin xyz="0 0 0.15"/><mass value="0.5"/><inertia ixx="0.004"
    iyy="0.004" izz="0.001" ixy="0" ixz="0" iyz="0"/></inertial>
    <collision><origin xyz="0 0 0.15"/><geometry><box size="0.04 0.04 0.3"/></geometry>
    </collision></link>
  <joint name="j1" type="revolute"><parent link="base"/><child link="upper"/>
    <origin xyz="0 0 0.1"/><axis xyz="0 0 1"/>
    <limit lower="-1.0" upper="1.0" velocity="2.0" effort="50"/></joint>
  <link name="lower"><inertial><origin xyz="0 0 0.15"/><mass value="0.5"/><inertia ixx="0.004"
    iyy="0.004" izz="0.001" ixy="0" ixz="0" iyz="0"/></inertial>
    <collision><origin xyz="0 0 0.15"/><geometry><box size="0.04 0.04 0.3"/></geometry>
    </collision></link>
  <joint name="j2" type="revolute"><parent link="upper"/><child link="lower"/>
    <origin xyz="0 0 0.3"/><axis xyz="0 1 0"/>
    <limit lower="0.3" upper="1.5" velocity="1.0" effort="50"/></joint>
</robot>"""


class StandGraph:
    """sim_bridge (lockstep) + policy_node (stand on enable) + a probe that can drive the robot."""

    def __init__(self, bridge_params: dict, policy_params: dict,
                 tolerance: float = STAND_TOLERANCE):
        self.bridge = SimBridge(parameter_overrides=[
            Parameter(k, value=v) for k, v in {'lockstep': True, **bridge_params}.items()])
        self.policy = PolicyNode(parameter_overrides=[Parameter(k, value=v) for k, v in {
            'stand_on_enable': True, 'stand_duration': STAND_DURATION,
            'stand_tolerance': tolerance, 'state_timeout': 5.0, 'status_period': 0.2,
            **policy_params}.items()])
        self.probe = rclpy.create_node('stand_probe')
        self.drive_pose: dict[str, float] | None = None   # the probe answers states with it
        self.states: list[JointState] = []
        self.policy_commands = 0
        self.status: list[dict] = []
        self.pub = self.probe.create_publisher(Float64MultiArray, COMMANDS, COMMAND_QOS)
        self.probe.create_subscription(JointState, 'joint_states', self._on_state, SENSOR_QOS)
        self.probe.create_subscription(String, 'policy_node/status',
                                       lambda m: self.status.append(json.loads(m.data)), 10)
        self.enable_client = self.probe.create_client(SetBool, 'policy_node/enable')
        self.executor = SingleThreadedExecutor()
        for node in (self.bridge, self.policy, self.probe):
            self.executor.add_node(node)
        self.heights: list[tuple[float, float]] = []   # (sim time, base height)
        self.tolerance = tolerance

    def _on_state(self, msg: JointState) -> None:
        self.states.append(msg)
        if self.drive_pose is not None:
            self.pub.publish(Float64MultiArray(data=[self.drive_pose[n] for n in msg.name]))

    @property
    def sim_time(self) -> float:
        return self.bridge.session.sim_time

    def spin_until(self, condition, what: str) -> None:
        deadline = time.monotonic() + HANG_TIMEOUT_S
        env = self.bridge.session.env
        while not condition():
            assert time.monotonic() < deadline, f'hung waiting for {what}'
            self.executor.spin_once(timeout_sec=0.05)
            if hasattr(env, 'base_height'):
                self.heights.append((self.sim_time, env.base_height()))

    def run_for(self, sim_seconds: float) -> None:
        end = self.sim_time + sim_seconds
        self.spin_until(lambda: self.sim_time >= end, f'{sim_seconds} s of sim time')

    def enable(self, on: bool) -> SetBool.Response:
        future = self.enable_client.call_async(SetBool.Request(data=on))
        self.spin_until(future.done, '~/enable')
        return future.result()

    def position(self, names) -> np.ndarray:
        msg = self.states[-1]
        return np.array([msg.position[list(msg.name).index(n)] for n in names])

    def close(self):
        self.executor.shutdown()
        for node in (self.bridge, self.policy, self.probe):
            node.destroy_node()


def stand_up_and_hold(graph: StandGraph, away: dict[str, float]) -> np.ndarray:
    """Drive to ``away`` while passive, enable, stand, hold 10 s; the default pose."""
    robot = graph.policy.robot
    graph.drive_pose = away
    graph.run_for(2.0)
    commands_before = graph.policy.controller.counts['states']
    assert graph.policy.modes.machine.mode == 'passive'
    assert graph.policy.command_times.values().size == 0, 'a passive node commanded'
    assert commands_before > 0   # it saw the states all along
    start = graph.position(robot.joint_names)
    pose = robot.default_pose
    assert np.abs(start - pose).max() > 2 * graph.tolerance, 'the drive did not move it away'
    graph.drive_pose = None      # the probe stops; the policy node's stand drives the sim
    response = graph.enable(True)
    assert response.success and 'standing up' in response.message, response.message
    stand_start = graph.sim_time

    def stood():   # the node's own status now: ~/status is on a wall-clock timer, and a
        return graph.policy.status()['stand_progress'] == 1.0   # light arm's sim outruns it

    graph.spin_until(lambda: stood() or graph.sim_time - stand_start > 5 * STAND_DURATION,
                     'the stand to finish')
    assert stood() and graph.policy.status()['mode'] == 'stand', graph.policy.status()
    assert graph.sim_time - stand_start >= STAND_DURATION - 0.05
    hold_start = graph.sim_time
    settled = []
    while graph.sim_time - hold_start < HOLD_SECONDS:
        graph.run_for(0.5)
        settled.append(np.abs(graph.position(robot.joint_names) - pose).max())
    assert max(settled) <= graph.tolerance, f'joint error {max(settled):.3f} from the pose'
    status = graph.policy.status()
    assert status['mode'] == 'stand' and status['state'] == 'standing'   # no policy: stays
    assert status['robot']['joints'] == list(robot.joint_names)
    return np.array([h for t, h in graph.heights if t >= hold_start])


def test_a1_lying_down_stands_up_and_stays_up(ros):
    graph = StandGraph({'task': 'locomotion', 'robot': 'a1'}, {'robot': 'a1'},
                       tolerance=A1_STAND_TOLERANCE)
    try:
        names = graph.policy.robot.joint_names
        lying = {n: 0.0 if 'hip' in n else 1.2 if 'upper' in n else -2.5 for n in names}
        before = len(graph.heights)
        held = stand_up_and_hold(graph, lying)
        lowest = min(h for _, h in graph.heights[before:])
        assert lowest < 0.15, f'the A1 did not lie down ({lowest:.3f} m)'
        assert held.size > 0 and held.min() > MIN_BASE_HEIGHT, \
            f'base fell to {held.min():.3f} m'
        assert graph.bridge.session.rejected == 0, graph.bridge.session.last_rejection
    finally:
        graph.close()


def test_panda_moved_away_returns_to_and_holds_its_default_pose(ros):
    graph = StandGraph({'task': 'ee_reach', 'robot': 'panda'}, {'robot': 'panda'})
    try:
        robot = graph.policy.robot
        away = dict(zip(robot.joint_names, (robot.default_pose + np.array(
            [0.5, 0.4, -0.5, 0.5, 0.5, -0.5, 0.5])).tolist(), strict=True))
        stand_up_and_hold(graph, away)
        assert graph.bridge.session.rejected == 0, graph.bridge.session.last_rejection
    finally:
        graph.close()


def test_a_robot_given_only_as_a_robot_description_string_stands(ros, tmp_path):
    # The policy node knows the arm only from the string. ee_reach needs the arm's ee_link, which
    # a URDF does not name: the simulator takes a robot file too, over the same string.
    sim_robot = tmp_path / 'arm.yaml'
    sim_robot.write_text('description: arm.urdf\nbase: fixed\nee_link: lower\n')
    graph = StandGraph({'task': 'ee_reach', 'robot': str(sim_robot),
                        'robot_description': ARM_URDF}, {'robot_description': ARM_URDF})
    try:
        robot = graph.policy.robot
        assert robot.joint_names == ('j1', 'j2') and robot.source == 'robot_description'
        np.testing.assert_allclose(robot.default_pose, [0.0, 0.3])
        stand_up_and_hold(graph, {'j1': 0.8, 'j2': 1.2})
        assert graph.status[-1]['limits_source'] == ['robot_description']
        assert graph.bridge.session.rejected == 0, graph.bridge.session.last_rejection
    finally:
        graph.close()
