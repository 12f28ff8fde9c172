# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The robot's limits from the ``robot_description`` topic, as robot_state_publisher sends it.

robot_state_publisher publishes the URDF once on ``robot_description`` (std_msgs/String,
reliable, transient local: a subscriber that starts later still receives it). When the policy
node's ``robot_description`` and ``robot`` parameters are both empty it listens there
(:class:`RobotDescriptionLimits`), and the rule is:

- until a usable description arrives the node has only the ``joint_limits`` YAML's limits, if
  any; with none it refuses to arm (``armed: true`` at start waits and arms once it arrives,
  ``~/enable`` is refused with the reason);
- a description's limits (intersected with the YAML's) are installed at once: the next command
  is clamped to them (:meth:`~robotrl_ros.policy.controller.PolicyController.set_node_limits`);
  the same text again changes nothing;
- a changed description replaces the limits the same way. If it cannot be used (not URDF,
  larger than :data:`MAX_DESCRIPTION_BYTES`, limits that do not overlap the policy's, or that
  leave a policy joint unbounded), the node publishes the safe command, disarms, and refuses to
  arm until a usable description arrives; the last usable limits stay in force meanwhile.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from std_msgs.msg import String

from robotrl_ros.policy.controller import PolicyController
from robotrl_ros.policy.joint_limits import JointLimits, limits_from_urdf
from robotrl_ros.ros.qos import quiet_subscription

#: The topic (relative: remappable) and its QoS, matching robot_state_publisher's publisher.
ROBOT_DESCRIPTION_TOPIC = 'robot_description'
ROBOT_DESCRIPTION_QOS = QoSProfile(depth=1, history=HistoryPolicy.KEEP_LAST,
                                   reliability=ReliabilityPolicy.RELIABLE,
                                   durability=DurabilityPolicy.TRANSIENT_LOCAL)
#: Largest description accepted (a URDF is text; meshes are files it names).
MAX_DESCRIPTION_BYTES = 16 * 1024 * 1024
#: ``JointLimits.sources`` entry of limits read from the topic.
TOPIC_SOURCE = 'robot_description (topic)'


class RobotDescriptionLimits:
    """Feeds the robot's limits from the ``robot_description`` topic to a controller.

    Args:
        node: The node that subscribes.
        controller: The controller whose limits follow the topic.
        yaml_limits: Limits from the ``joint_limits`` YAML (empty: none), intersected with each
            description's.
        disarm: Called with the reason when an unusable description stops an armed node; it
            publishes the safe command and disarms.
        on_limits: Called after each description's limits were installed (e.g. to arm a node
            started with ``armed: true``).
        on_description: Called with each usable description's text once its limits were
            installed, before the arming check (the node refreshes its robot from it).
    """

    def __init__(self, node: Node, controller: PolicyController, yaml_limits: JointLimits,
                 disarm: Callable[[str], None],
                 on_limits: Callable[[], None] | None = None,
                 on_description: Callable[[str], None] | None = None) -> None:
        self._node, self._controller, self._yaml = node, controller, yaml_limits
        self._disarm, self._on_limits = disarm, on_limits
        self._on_description = on_description
        self._digest: bytes | None = None
        self.received = 0
        controller.limits_awaited = (f'waiting for the robot\'s limits on the '
                                     f'{ROBOT_DESCRIPTION_TOPIC} topic (robot_state_publisher)')
        self.subscription = quiet_subscription(node, String, ROBOT_DESCRIPTION_TOPIC,
                                               self.on_description, ROBOT_DESCRIPTION_QOS)

    def on_description(self, msg: String) -> None:
        """Install the limits of a (new) description, or stop on an unusable one."""
        text = msg.data
        digest = hashlib.sha256(text.encode('utf-8', 'surrogatepass')).digest()
        if digest == self._digest:
            return   # republished unchanged (a late-joining publisher, a parameter reload)
        self._digest = digest
        self.received += 1
        controller, log = self._controller, self._node.get_logger()
        controller.limits_refusal = None
        try:
            if len(text) > MAX_DESCRIPTION_BYTES:
                raise ValueError(f'{len(text)} characters, more than {MAX_DESCRIPTION_BYTES}')
            limits = limits_from_urdf(text, TOPIC_SOURCE)
            if not limits:
                raise ValueError('no movable joint with limits')
            controller.set_node_limits(limits.combine(self._yaml))
        except ValueError as exc:   # JointLimitsError too
            reason = (f'{ROBOT_DESCRIPTION_TOPIC} topic: unusable description ({exc}): refusing '
                      'to arm until a usable one arrives')
            controller.limits_refusal = reason
            log.error(reason)
            if controller.armed:
                self._disarm(reason)
            return
        log.info(f"robot limits from the {ROBOT_DESCRIPTION_TOPIC} topic: "
                 f"{len(controller.node_limits.joints)} joints "
                 f"({', '.join(controller.node_limits.sources)})")
        if self._on_description is not None:
            self._on_description(text)
        refusal = controller.arm_refusal()
        if controller.armed and refusal:   # e.g. the new robot lacks a policy joint
            self._disarm(refusal)
        elif self._on_limits is not None:
            self._on_limits()

    def close(self) -> None:
        """Stop listening (a lifecycle cleanup): the subscription is destroyed."""
        self._node.destroy_subscription(self.subscription)
