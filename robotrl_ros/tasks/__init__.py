# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Tasks (dynamics, observation, reward, termination), wrappers and vectorized envs."""
