# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The simulation session behind sim_bridge (no ROS)."""
