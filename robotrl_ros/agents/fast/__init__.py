# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""NumPy backend of the agents: exact hand-written gradients, tested equal to the torch losses."""
