# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""rclpy nodes: sim bridge, policy node, trainer node. The only modules that import rclpy."""
