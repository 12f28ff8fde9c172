# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""QoS profiles of the topic contract (DESIGN.md section 3), and quiet endpoints."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rclpy.node import Node
from rclpy.publisher import Publisher
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
from rclpy.subscription import Subscription

try:
    from rclpy.event_handler import PublisherEventCallbacks, SubscriptionEventCallbacks
except ImportError:  # Humble: the same classes before their move (Iron)
    from rclpy.qos_event import PublisherEventCallbacks, SubscriptionEventCallbacks

#: Sensor streams (joint_states, imu): newest sample only, never block the publisher.
SENSOR_QOS = QoSProfile(depth=1, history=HistoryPolicy.KEEP_LAST,
                        reliability=ReliabilityPolicy.BEST_EFFORT)

#: Commands and control topics (commands, goal_pose, cmd_vel, policy_updates): reliable.
COMMAND_QOS = QoSProfile(depth=10, history=HistoryPolicy.KEEP_LAST,
                         reliability=ReliabilityPolicy.RELIABLE)


# Without rclpy's default QoS-event handlers (incompatible QoS/type warnings): each is a waitable
# that an executor scans on every wake-up, i.e. on every message. A mismatch is still logged by
# the peer that has its handlers.
def quiet_publisher(node: Node, msg_type: type, topic: str, qos: QoSProfile | int) -> Publisher:
    """``node.create_publisher`` without the default QoS-event handlers."""
    return node.create_publisher(
        msg_type, topic, qos,
        event_callbacks=PublisherEventCallbacks(use_default_callbacks=False))


def quiet_subscription(node: Node, msg_type: type, topic: str, callback: Callable[[Any], None],
                       qos: QoSProfile | int, raw: bool = False) -> Subscription:
    """``node.create_subscription`` without the default QoS-event handlers."""
    return node.create_subscription(
        msg_type, topic, callback, qos, raw=raw,
        event_callbacks=SubscriptionEventCallbacks(use_default_callbacks=False))
