# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""QoS profiles of the topic contract (DESIGN.md section 3)."""

from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy

#: Sensor streams (joint_states, imu): newest sample only, never block the publisher.
SENSOR_QOS = QoSProfile(depth=1, history=HistoryPolicy.KEEP_LAST,
                        reliability=ReliabilityPolicy.BEST_EFFORT)

#: Commands and control topics (commands, goal_pose, cmd_vel, policy_updates): reliable.
COMMAND_QOS = QoSProfile(depth=10, history=HistoryPolicy.KEEP_LAST,
                         reliability=ReliabilityPolicy.RELIABLE)
