# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Clean node teardown when SIGINT/SIGTERM races callbacks or the executor."""

from __future__ import annotations

import rclpy
from rclpy.node import Node


def shutting_down() -> bool:
    """Whether the default context was shut down (rclpy's SIGINT/SIGTERM handler ran)."""
    return not rclpy.ok()


def teardown(node: Node | None) -> None:
    """Destroy ``node`` and shut rclpy down.

    Errors raised while the context is already shut down by a signal (handles invalidated under
    a running callback) are a clean stop, not a failure; any other error propagates.
    """
    try:
        if node is not None:
            node.destroy_node()
    except Exception:
        if not shutting_down():
            raise
    finally:
        rclpy.try_shutdown()
