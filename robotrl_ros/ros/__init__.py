# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""ROS message <-> NumPy conversions, QoS profiles and parameter helpers."""
