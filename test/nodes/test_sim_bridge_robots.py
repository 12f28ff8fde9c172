# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""sim_bridge with a robot (``robot`` / ``robot_description``) on an in-process ROS graph.

A test double commands the robot's default pose on every ``joint_states`` (lockstep): the A1
stands (base height above a threshold, upright on its ``imu``) and the Panda holds its pose for
10 s of sim time, and so does the A1 given only as its URDF text. Gains, joint mapping by name,
the IMU and base twist streams are all on the path. Wall-clock limits only catch hangs.
"""

import time
from pathlib import Path

import numpy as np
import pybullet_data
import rclpy
from geometry_msgs.msg import TwistStamped
from rclpy.executors import SingleThreadedExecutor
from rclpy.parameter import Parameter
from sensor_msgs.msg import Imu, JointState
from std_msgs.msg import Float64MultiArray

from robotrl_ros.nodes.sim_bridge import SimBridge
from robotrl_ros.ros.conversions import imu_to_inputs, stamp_to_sec
from robotrl_ros.ros.qos import COMMAND_QOS, SENSOR_QOS
from robotrl_ros.tasks.robots import import_robot

COMMANDS = 'forward_position_controller/commands'
SIM_SECONDS = 10.0
HANG_TIMEOUT_S = 600.0
#: The A1's trunk stands near 0.29 m on its default pose and lies below 0.1 m when fallen.
MIN_BASE_HEIGHT = 0.18
MIN_UPRIGHT = 0.9       # -projected_gravity z: cos of the base tilt
MAX_HOLD_ERROR = 0.1    # rad, fixed base, after the first second
A1_URDF = Path(pybullet_data.getDataPath()) / 'a1' / 'a1.urdf'


class StandDouble:
    """Answers each joint state with the pose ``pose`` (by joint name), recording what it saw."""

    def __init__(self, node, pose: dict[str, float]):
        self.node, self.pose = node, pose
        self.states: list[JointState] = []
        self.imu: list[Imu] = []
        self.twists: list[TwistStamped] = []
        self.pub = node.create_publisher(Float64MultiArray, COMMANDS, COMMAND_QOS)
        node.create_subscription(JointState, 'joint_states', self._on_state, SENSOR_QOS)
        node.create_subscription(Imu, 'imu', self.imu.append, SENSOR_QOS)
        node.create_subscription(TwistStamped, 'base_twist', self.twists.append, SENSOR_QOS)

    def _on_state(self, msg: JointState) -> None:
        self.states.append(msg)
        self.pub.publish(Float64MultiArray(data=[self.pose[name] for name in msg.name]))


def stand_for_ten_seconds(pose: dict[str, float], **params):
    """Run bridge + double until 10 s of sim time; returns (bridge, double, base heights)."""
    bridge = SimBridge(parameter_overrides=[
        Parameter(k, value=v) for k, v in {'lockstep': True, **params}.items()])
    probe = rclpy.create_node('stand_double')
    double = StandDouble(probe, pose)
    executor = SingleThreadedExecutor()
    executor.add_node(bridge)
    executor.add_node(probe)
    env = bridge.session.env
    heights = []
    start = bridge.session.sim_time
    try:
        deadline = time.monotonic() + HANG_TIMEOUT_S
        while bridge.session.sim_time - start < SIM_SECONDS:
            assert time.monotonic() < deadline, 'the lockstep loop hung'
            executor.spin_once(timeout_sec=0.05)
            if hasattr(env, 'base_height'):
                heights.append(env.base_height())
        assert bridge.session.rejected == 0, bridge.session.last_rejection
    finally:
        executor.shutdown()
        bridge.destroy_node()
        probe.destroy_node()
    return bridge, double, np.array(heights)


def check_standing(bridge, double, heights, joint_names):
    assert double.states and list(double.states[-1].name) == list(joint_names)
    assert heights.min() > MIN_BASE_HEIGHT, f'base fell to {heights.min():.3f} m'
    assert len(double.imu) > 100 and len(double.twists) > 100
    assert double.imu[-1].header.frame_id == 'imu_link'
    for msg in double.imu:
        values, problems = imu_to_inputs(msg)
        assert not problems
        assert -values['projected_gravity'][2] > MIN_UPRIGHT, 'the base tilted over'
    assert stamp_to_sec(double.imu[-1].header.stamp) == stamp_to_sec(
        double.states[-1].header.stamp)


def test_a1_stands_on_its_default_pose(ros):
    a1 = import_robot('a1')
    pose = dict(zip(a1.joint_names, a1.default_pose.tolist(), strict=True))
    bridge, double, heights = stand_for_ten_seconds(pose, task='locomotion', robot='a1')
    check_standing(bridge, double, heights, a1.joint_names)


def test_a1_given_only_as_its_urdf_text_stands_up(ros):
    # Default settings (floating base inferred, kp 100, kd 10, pose 0 clamped into the limits:
    # a pose it would tip over from); the double stands it up on the A1's default pose.
    a1 = import_robot('a1')
    pose = dict(zip(a1.joint_names, a1.default_pose.tolist(), strict=True))
    bridge, double, heights = stand_for_ten_seconds(
        pose, task='locomotion', robot_description=A1_URDF.read_text())
    check_standing(bridge, double, heights, a1.joint_names)
    assert bridge.session.env.robot.config.floating


def test_panda_holds_its_default_pose(ros):
    panda = import_robot('panda')
    pose = dict(zip(panda.joint_names, panda.default_pose.tolist(), strict=True))
    bridge, double, _ = stand_for_ten_seconds(pose, task='ee_reach', robot='panda')
    assert not double.imu, 'a fixed base publishes no imu'
    settled = [m for m in double.states if stamp_to_sec(m.header.stamp) >= 1.0]
    assert len(settled) > 100 and list(settled[-1].name) == list(panda.joint_names)
    error = max(np.abs(np.array(m.position) - panda.default_pose).max() for m in settled)
    assert error < MAX_HOLD_ERROR, f'joint error {error:.3f} rad from the default pose'
