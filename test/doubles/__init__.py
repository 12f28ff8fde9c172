# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Test doubles: nodes that stand in for hardware on the ROS graph."""
