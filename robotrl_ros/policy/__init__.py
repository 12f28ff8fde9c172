# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The deployable policy artifact: export, safe load, observation/action mapping."""
