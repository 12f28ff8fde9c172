# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""sim_bridge: a simulated robot on the ROS graph, standing in for ros2_control.

Publishes ``joint_states`` (and ``goal_pose`` / ``cmd_vel``, ``imu``, ``base_twist`` when the
task has them, ``clock`` when asked), applies ``Float64MultiArray`` commands from
``command_topic`` in the ``joints`` order, and runs either in real time (a timer every control
period applies the latest command) or in lockstep (one control period per received command;
protocol in docs/interfaces.md). ``~/reset`` starts a new episode; ``~/status`` reports JSON.

Example::

    sim_bridge --ros-args -p task:=reach -p lockstep:=true -p seed:=3
"""

from __future__ import annotations

import array
import json
import sys
import time
from typing import Any

import numpy as np
import rclpy
from geometry_msgs.msg import PoseStamped, Twist, TwistStamped
from rcl_interfaces.msg import ParameterDescriptor
from rclpy.event_handler import PublisherEventCallbacks
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import Imu, JointState
from std_msgs.msg import Float64MultiArray, String
from std_srvs.srv import Trigger

from robotrl_ros.nodes.sim_params import SIM_BRIDGE_PARAMETERS, coerce_parameter
from robotrl_ros.ros.conversions import (
    goal_to_pose,
    make_imu,
    make_twist_stamped,
    sec_to_stamp,
    twist_to_cmd,
)
from robotrl_ros.ros.qos import COMMAND_QOS, SENSOR_QOS
from robotrl_ros.ros.shutdown import shutting_down, teardown
from robotrl_ros.ros.status import status_message
from robotrl_ros.sim.env import make_sim_env, randomization_from_parameters
from robotrl_ros.sim.session import SimSession


class SimBridge(Node):
    """ROS front end of a :class:`SimSession` (parameters: docs/interfaces.md, sim_bridge)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__('sim_bridge', **kwargs)
        p = self._declare_parameters()
        env = make_sim_env(p['task'], randomization_from_parameters(p), seed=p['seed'])
        self.session = SimSession(env, command_joints=p['joints'],
                                  seed=p['seed'], goal=p['goal'], auto_reset=p['auto_reset'])
        spec = self.session.spec
        self.lockstep = p['lockstep']
        self.republish_period = p['lockstep_republish_period']
        period = p['control_period'] or spec.control_period
        if period <= 0 or self.republish_period <= 0 or p['status_period'] <= 0:
            raise ValueError('control_period, lockstep_republish_period and status_period '
                             'must be > 0')

        self.js_pub = self._publisher(JointState, 'joint_states', SENSOR_QOS)
        self.goal_pub = (self._publisher(PoseStamped, 'goal_pose', COMMAND_QOS)
                         if spec.command_input == 'goal_pose' else None)
        self.cmd_vel_pub = None
        if spec.command_input == 'cmd_vel':
            self.cmd_vel_pub = self._publisher(Twist, 'cmd_vel', COMMAND_QOS)
            self.create_subscription(Twist, 'cmd_vel', self._on_cmd_vel, COMMAND_QOS)
        self.imu_pub = self.twist_pub = None
        if self.session.imu() is not None:  # floating-base robot: IMU and base velocity
            self.imu_pub = self._publisher(Imu, 'imu', SENSOR_QOS)
            self.twist_pub = self._publisher(TwistStamped, 'base_twist', SENSOR_QOS)
        self.clock_pub = self._publisher(Clock, 'clock', 10) if p['publish_clock'] else None
        self.status_pub = self._publisher(String, '~/status', 10)
        self.create_subscription(Float64MultiArray, p['command_topic'], self._on_command,
                                 COMMAND_QOS)
        self.create_service(Trigger, '~/reset', self._on_reset)

        self._js = JointState()
        self._js.name = list(self.session.joint_names)
        self._clock_msg = Clock()
        self._latest = self.session.hold_command.copy()
        self._last_publish = 0.0
        self._begin_episode()
        if self.lockstep:
            self.create_timer(self.republish_period, self._on_republish_timer)
        else:
            self.create_timer(period, self._on_control_timer)
        self.create_timer(p['status_period'], self._publish_status)
        self.get_logger().info(
            f'sim_bridge: task {spec.name}, joints {list(self.session.joint_names)}, '
            f'{"lockstep" if self.lockstep else f"real time every {period} s"}, '
            f'commands on {self.resolve_topic_name(p["command_topic"])}')

    def _publisher(self, msg_type: type, topic: str, qos: Any) -> Any:
        # Without rclpy's default QoS-event handlers (incompatible QoS/type warnings): each is a
        # waitable the executor adds to its wait set on every lockstep step (~10% of a step's
        # CPU here). A mismatched subscriber still logs the incompatibility on its own side.
        return self.create_publisher(
            msg_type, topic, qos,
            event_callbacks=PublisherEventCallbacks(use_default_callbacks=False))

    def _declare_parameters(self) -> dict[str, Any]:
        values = {}
        for name, (default, _, description) in SIM_BRIDGE_PARAMETERS.items():
            descriptor = ParameterDescriptor(description=description, dynamic_typing=True)
            value = self.declare_parameter(name, default, descriptor).value
            values[name] = coerce_parameter(name, default if value is None else value)
        return values

    # --- publishing ------------------------------------------------------------------------
    def _publish_state(self) -> None:
        session = self.session
        _, position, velocity, effort = session.joint_state()
        stamp = session.sim_time
        if self.imu_pub is not None:  # before joint_states: a policy acts on joint_states
            imu = session.imu()
            self.imu_pub.publish(make_imu(imu['projected_gravity'], imu['base_ang_vel'], stamp))
            self.twist_pub.publish(make_twist_stamped(imu['base_lin_vel'], imu['base_ang_vel'],
                                                      stamp))
        js = self._js
        js.header.stamp = sec_to_stamp(stamp)
        js.position = array.array('d', position.tobytes())
        js.velocity = array.array('d', velocity.tobytes())
        if effort is not None:
            js.effort = array.array('d', np.asarray(effort, np.float64).tobytes())
        self.js_pub.publish(js)
        if self.clock_pub is not None:
            self._clock_msg.clock = js.header.stamp
            self.clock_pub.publish(self._clock_msg)
        self._last_publish = time.monotonic()

    def _publish_goal(self) -> None:
        goal = self.session.env.goal
        if goal is None:
            return
        if self.goal_pub is not None:
            self.goal_pub.publish(goal_to_pose(goal, stamp=self.session.sim_time))
        if self.cmd_vel_pub is not None:
            msg = Twist()
            msg.linear.x, msg.linear.y, msg.angular.z = (float(v) for v in goal[:3])
            self.cmd_vel_pub.publish(msg)

    def _begin_episode(self, drop_answer_in_flight: bool = False) -> float:
        stamp = self.session.reset(drop_answer_in_flight)
        self._publish_goal()
        self._publish_state()
        return stamp

    def _publish_status(self) -> None:
        if not self.lockstep:
            self._publish_goal()  # for late subscribers; lockstep republishes it when idle
        fields = self.session.status()
        fields['mode'] = 'lockstep' if self.lockstep else 'real_time'
        fields['cpu_s'] = time.process_time()  # CPU seconds of this process so far
        self.status_pub.publish(status_message(fields))

    # --- callbacks -------------------------------------------------------------------------
    def _on_command(self, msg: Float64MultiArray) -> None:
        command = self.session.parse_command(msg.data)
        if command is None:
            self._log_rejection()
            return
        if self.lockstep:
            if not self.session.take_stale_command():  # answers a state from before ~/reset
                self._advance(command)
        else:
            self._latest = command

    def _advance(self, command: np.ndarray) -> None:
        if self.session.apply(command):
            self._publish_goal()  # auto-reset: the new episode's goal, then its first state
        self._publish_state()

    def _log_rejection(self) -> None:
        # The first 10, then every 100th: a flood of bad commands must not flood the log.
        count = self.session.rejected
        if count <= 10 or count % 100 == 0:
            self.get_logger().warning(f'rejected command #{count}: {self.session.last_rejection}')

    def _on_control_timer(self) -> None:
        self._advance(self._latest)

    def _on_republish_timer(self) -> None:
        if time.monotonic() - self._last_publish >= self.republish_period:
            self._publish_goal()
            self._publish_state()

    def _on_cmd_vel(self, msg: Twist) -> None:
        try:
            self.session.env.goal = twist_to_cmd(msg)
        except ValueError as exc:
            self.get_logger().warn(str(exc))

    def _on_reset(self, request: Trigger.Request, response: Trigger.Response
                  ) -> Trigger.Response:
        stamp = self._begin_episode(drop_answer_in_flight=self.lockstep)
        response.success = True
        goal = self.session.env.goal  # goal_pose / cmd_vel may arrive after the first state
        response.message = json.dumps({
            'episode': self.session.episode, 'stamp': stamp,
            'goal': None if goal is None else np.asarray(goal, np.float64).reshape(-1).tolist()})
        return response


def main(args: list[str] | None = None) -> None:
    """Run the sim bridge until SIGINT/SIGTERM (exit 0) or a configuration error (exit 2)."""
    rclpy.init(args=args)
    node = None
    try:
        node = SimBridge()
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except ValueError as exc:
        print(f'sim_bridge: {exc}', file=sys.stderr)
        sys.exit(2)
    except Exception:
        # A SIGTERM can invalidate the context between the executor's own checks.
        if not shutting_down():
            raise
    finally:
        teardown(node)


if __name__ == '__main__':
    main()
