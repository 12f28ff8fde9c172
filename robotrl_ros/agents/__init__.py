# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Learning algorithms: tabular Q-learning, DQN, REINFORCE, PPO, SAC."""
