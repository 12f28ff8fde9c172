# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Spinning until a stop, and node teardown that treats a signal-shut context as a clean stop."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import rclpy
from rclpy.node import Node

#: spin_once failures in a row that :func:`spin_until_shutdown` tolerates before raising.
MAX_CONSECUTIVE_SPIN_ERRORS = 10


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


def spin_until_shutdown(executor: Any, logger: Any = None,
                        max_errors: int = MAX_CONSECUTIVE_SPIN_ERRORS,
                        stop: Callable[[], bool] = lambda: False) -> None:
    """``executor.spin_once`` until ``stop()`` or a context shutdown; rides out one-off errors.

    rclpy 9.1's EventsExecutor, where rclpy's own signal handlers are installed, shuts the
    context down only after the ``spin_once`` that saw the signal returns. Seen once in a full
    test run: that ``spin_once`` raised instead (``RuntimeError: Unable to convert call argument
    '0' to Python object``), skipping the shutdown. The next ``spin_once`` completes it. An error
    is logged and the loop goes on; ``max_errors`` failures in a row (an error on every event: a
    real bug) are raised.
    """
    failures = 0
    while rclpy.ok() and not stop():
        try:
            executor.spin_once(timeout_sec=0.1)
            failures = 0
        except RuntimeError as exc:
            failures += 1
            if failures >= max_errors:
                raise
            (logger or logging.getLogger(__name__)).error(
                f'executor error ({failures} in a row, {max_errors} stop the node): {exc}')
