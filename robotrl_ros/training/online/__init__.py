# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Learning from transitions observed on the ROS graph (pure Python: no rclpy)."""
