# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""policy_node's inputs besides joint_states: ``goal_pose``, ``cmd_vel``, ``imu``, ``base_twist``.

:class:`ControllerInputs` subscribes them and hands each converted message to the policy
controller. Goals and velocity commands are sent once (e.g. at an episode reset) before a policy
may have arrived: they are always subscribed. The sensor streams ``imu`` and ``base_twist`` are
subscribed only once a policy's observation reads them (:meth:`ControllerInputs.follow`): fewer
entities, less executor work per message.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from geometry_msgs.msg import PoseStamped, Twist, TwistStamped
from sensor_msgs.msg import Imu

from robotrl_ros.policy.artifact import PolicyArtifact
from robotrl_ros.policy.controller import PolicyController
from robotrl_ros.policy.metadata import TERM_SOURCES
from robotrl_ros.ros.conversions import (
    base_twist_to_inputs,
    imu_to_inputs,
    pose_to_goal,
    twist_to_cmd,
)
from robotrl_ros.ros.node_runner import RunnableNode
from robotrl_ros.ros.qos import COMMAND_QOS, SENSOR_QOS, quiet_subscription


class ControllerInputs:
    """The subscriptions of the controller's timed inputs (module docstring).

    Create it before the joint_states subscription: when a new goal and the new episode's
    first state are ready together, the executor takes them in creation order (goal first).

    Args:
        node: The policy node.
        controller: Its controller.
        bad_input: Reports a message that cannot be used (the node counts and logs it).
    """

    def __init__(self, node: RunnableNode, controller: PolicyController,
                 bad_input: Callable[[str], None]) -> None:
        self.node, self.controller, self.bad_input = node, controller, bad_input
        quiet_subscription(node, PoseStamped, 'goal_pose', self._on_goal, COMMAND_QOS)
        quiet_subscription(node, Twist, 'cmd_vel', self._on_cmd_vel, COMMAND_QOS)
        self._sensors = {'imu': (Imu, self._on_imu), 'base_twist': (TwistStamped,
                                                                    self._on_base_twist)}
        self._subscribed: set[str] = set()

    def follow(self, artifact: PolicyArtifact) -> None:
        """Subscribe the sensor streams ``artifact``'s observation reads (once each)."""
        needed = {TERM_SOURCES.get(term.name) for term in artifact.spec.observation}
        for topic in sorted(needed & set(self._sensors) - self._subscribed):
            msg_type, callback = self._sensors[topic]
            quiet_subscription(self.node, msg_type, topic, callback, SENSOR_QOS)
            self._subscribed.add(topic)

    def _on_goal(self, msg: PoseStamped) -> None:
        try:
            self.controller.set_goal(pose_to_goal(msg), time.monotonic())
        except ValueError as exc:
            self.bad_input(str(exc))

    def _on_cmd_vel(self, msg: Twist) -> None:
        try:
            self.controller.set_cmd_vel(twist_to_cmd(msg), time.monotonic())
        except ValueError as exc:
            self.bad_input(str(exc))

    def _on_imu(self, msg: Imu) -> None:
        self._set_base_inputs('imu', *imu_to_inputs(msg))

    def _on_base_twist(self, msg: TwistStamped) -> None:
        self._set_base_inputs('base_twist', *base_twist_to_inputs(msg))

    def _set_base_inputs(self, source: str, values: dict[str, np.ndarray],
                         problems: list[str]) -> None:
        for problem in problems:
            self.bad_input(problem)
        self.controller.set_base_inputs(source, values, time.monotonic())
