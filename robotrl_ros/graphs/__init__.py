# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Node graphs: definitions, the process manager, `robotrl up`, the main job, launch support."""
