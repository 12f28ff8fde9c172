# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Training loop, evaluation, checkpoints, metrics and the ``robotrl`` CLI."""
