# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Helpers every layer uses: finite checks, threads, durable (atomic) writes."""
