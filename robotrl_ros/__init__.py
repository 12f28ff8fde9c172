# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""robotrl_ros: reinforcement learning for ROS 2 robots (train in sim, deploy, fine-tune)."""
