# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""sim_bridge: a simulated robot on the ROS graph, standing in for ros2_control.

Publishes ``joint_states`` (and ``goal_pose`` / ``cmd_vel``, ``imu``, ``base_twist`` when the
task has them, ``clock`` when asked), applies ``Float64MultiArray`` commands from
``command_topic`` in the ``joints`` order, and runs either in real time (a timer every control
period applies the latest command) or in lockstep (one control period per received command;
protocol in docs/interfaces.md). ``~/reset`` starts a new episode; ``~/enable`` ``false`` pauses
the simulation (a trainer's backpressure: in lockstep the answer to the last state waits and is
applied on ``true``); ``~/status`` reports JSON.

Example::

    sim_bridge --ros-args -p task:=reach -p lockstep:=true -p seed:=3
    sim_bridge --ros-args -p task:=locomotion -p robot:=a1
    sim_bridge --ros-args -p task:=locomotion -p robot_description:="$(xacro robot.urdf.xacro)"
"""

from __future__ import annotations

import array
import json
import time
from typing import Any, NoReturn

import numpy as np
from geometry_msgs.msg import PoseStamped, Twist, TwistStamped
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import Imu, JointState
from std_msgs.msg import Float64MultiArray, String
from std_srvs.srv import SetBool, Trigger

from robotrl_ros.nodes.sim_bridge_params import SIM_BRIDGE_PARAMETERS
from robotrl_ros.ros.conversions import (
    goal_to_pose,
    make_imu,
    make_twist_stamped,
    sec_to_stamp,
    twist_to_cmd,
)
from robotrl_ros.ros.diagnostics import DiagnosticsPublisher, sim_bridge_checks
from robotrl_ros.ros.node_runner import RunnableNode, exit_process, run_node
from robotrl_ros.ros.params import declare_parameters
from robotrl_ros.ros.qos import COMMAND_QOS, SENSOR_QOS, quiet_publisher
from robotrl_ros.ros.status import status_message
from robotrl_ros.sim.env import (
    floating_base_velocity,
    imu_frame,
    make_sim_env,
    randomization_from_parameters,
)
from robotrl_ros.sim.perturbations import BaseDisturber, BasePerturbations
from robotrl_ros.sim.session import SimSession


class SimBridge(RunnableNode):
    """ROS front end of a :class:`SimSession` (parameters: :mod:`.sim_bridge_params`)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__('sim_bridge', **kwargs)
        self.params = p = declare_parameters(self, SIM_BRIDGE_PARAMETERS, self._apply_changes)
        self.executor_kind = p['executor']
        env = make_sim_env(p.task, randomization_from_parameters(p.as_dict()), seed=p.seed,
                           robot=p['robot'], robot_description=p['robot_description'])
        perturbations = BasePerturbations.from_parameters(p.as_dict())
        disturber = (BaseDisturber(perturbations, floating_base_velocity(env), p['seed'])
                     if perturbations.active else None)
        self.session = SimSession(env, command_joints=p['joints'], seed=p['seed'],
                                  goal=p['goal'], auto_reset=p['auto_reset'],
                                  disturber=disturber)
        self.imu_frame = imu_frame(env)
        spec = self.session.spec
        self.lockstep = p['lockstep']
        self.republish_period = p['lockstep_republish_period']
        period = p['control_period'] or spec.control_period

        self.js_pub = quiet_publisher(self, JointState, 'joint_states', SENSOR_QOS)
        self.goal_pub = (quiet_publisher(self, PoseStamped, 'goal_pose', COMMAND_QOS)
                         if spec.command_input == 'goal_pose' else None)
        self.cmd_vel_pub = None
        if spec.command_input == 'cmd_vel':
            self.cmd_vel_pub = quiet_publisher(self, Twist, 'cmd_vel', COMMAND_QOS)
            self.create_subscription(Twist, 'cmd_vel', self._on_cmd_vel, COMMAND_QOS)
        self.imu_pub = self.twist_pub = None
        if self.session.imu() is not None:  # floating-base robot: IMU and base velocity
            self.imu_pub = quiet_publisher(self, Imu, 'imu', SENSOR_QOS)
            self.twist_pub = quiet_publisher(self, TwistStamped, 'base_twist', SENSOR_QOS)
        self.clock_pub = quiet_publisher(self, Clock, 'clock', 10) if p['publish_clock'] else None
        self.status_pub = quiet_publisher(self, String, '~/status', 10)
        control_rate = None if self.lockstep else 1.0 / period
        self.diagnostics = DiagnosticsPublisher(
            self, lambda status, deltas: sim_bridge_checks(status, deltas, control_rate),
            f'sim:{spec.name}')
        self.create_subscription(Float64MultiArray, p['command_topic'], self._on_command,
                                 COMMAND_QOS)
        self.create_service(Trigger, '~/reset', self._on_reset)
        self.create_service(SetBool, '~/enable', self._on_enable)

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
            f'sim_bridge: task {spec.name}, robot {self._robot_name(env)}, '
            f'joints {list(self.session.joint_names)}, '
            f'{"lockstep" if self.lockstep else f"real time every {period} s"}, '
            f'commands on {self.resolve_topic_name(p["command_topic"])}')

    @staticmethod
    def _robot_name(env: Any) -> str:
        robot = getattr(env, 'robot', None)
        return robot.config.name if hasattr(robot, 'config') else '(built in)'

    def _apply_changes(self, changes: dict[str, Any]) -> None:
        """Dynamic parameters: a new fixed ``goal`` applies from the next episode."""
        if 'goal' in changes:
            goal, current = changes['goal'], self.session.env.goal
            if goal and current is not None and len(goal) != np.size(current):
                raise ValueError(f"parameter 'goal' must be empty or {np.size(current)} numbers "
                                 f'for task {self.session.spec.name!r}, got {goal}')
            self.session.goal = np.asarray(goal, np.float64) if goal else None

    # --- publishing ------------------------------------------------------------------------
    def _publish_state(self) -> None:
        session = self.session
        _, position, velocity, effort = session.joint_state()
        stamp = session.sim_time
        if self.imu_pub is not None:  # before joint_states: a policy acts on joint_states
            imu = session.imu()
            self.imu_pub.publish(make_imu(imu['projected_gravity'], imu['base_ang_vel'], stamp,
                                          self.imu_frame))
            self.twist_pub.publish(make_twist_stamped(imu['base_lin_vel'], imu['base_ang_vel'],
                                                      stamp, self.imu_frame))
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
        self.diagnostics.publish(fields)

    # --- callbacks -------------------------------------------------------------------------
    def _on_command(self, msg: Float64MultiArray) -> None:
        command = self.session.parse_command(msg.data)
        if command is None:
            self._log_rejection()
            return
        if self.lockstep:
            if self.session.take_stale_command():  # answers a state from before ~/reset
                return
            if self.session.paused:
                self.session.hold(command)
            else:
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
        if not self.session.paused:
            self._advance(self._latest)

    def _on_republish_timer(self) -> None:
        # Not while paused: a republished state would be answered by a second command.
        if not self.session.paused and \
                time.monotonic() - self._last_publish >= self.republish_period:
            self._publish_goal()
            self._publish_state()

    def _on_cmd_vel(self, msg: Twist) -> None:
        try:
            self.session.env.goal = twist_to_cmd(msg)
        except ValueError as exc:
            self.get_logger().warn(str(exc))

    def _on_enable(self, request: SetBool.Request, response: SetBool.Response
                   ) -> SetBool.Response:
        """``false`` pauses the simulation, ``true`` resumes it with the held command."""
        held = self.session.pause(not request.data)
        if held is not None:
            self._advance(held)
        response.success = True
        response.message = 'paused' if self.session.paused else 'running'
        return response

    def _on_reset(self, request: Trigger.Request, response: Trigger.Response
                  ) -> Trigger.Response:
        stamp = self._begin_episode(drop_answer_in_flight=self.lockstep)
        response.success = True
        goal = self.session.env.goal  # goal_pose / cmd_vel may arrive after the first state
        response.message = json.dumps({
            'episode': self.session.episode, 'stamp': stamp,
            'goal': None if goal is None else np.asarray(goal, np.float64).reshape(-1).tolist()})
        return response


def main(args: list[str] | None = None) -> NoReturn:
    """Run the sim bridge until SIGINT/SIGTERM (exit 0) or a configuration error (exit 2)."""
    exit_process(run_node(SimBridge, 'sim_bridge', args, bounded_stop=True))


if __name__ == '__main__':
    main()
