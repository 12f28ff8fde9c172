# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""policy_node: run a policy artifact on a robot (or a simulator) safely.

The node itself is :class:`robotrl_ros.nodes.policy_ros_node.PolicyNode`. This module is the
``policy_node`` entry point and imports nothing heavy at the top, so that SIGINT/SIGTERM give
exit code 0 even while torch is still being imported (nothing has been commanded then)::

    ros2 run robotrl_ros policy_node --ros-args -p policy_path:=runs/reach/policy
    ros2 service call /policy_node/enable std_srvs/srv/SetBool "{data: true}"
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any


def _exit_cleanly(signum: int, frame: Any) -> None:
    # Immediately: raising inside a C extension's import can turn into another error.
    # Nothing has been created or commanded yet.
    os._exit(0)


def make_executor(kind: str) -> Any:
    """The rclpy executor named by the ``executor`` parameter (``events`` or ``single_threaded``).

    rclpy's EventsExecutor (``rclpy.experimental``) dispatches from C++ instead of rebuilding
    and scanning a wait set in Python on every message: about half the CPU per joint_states
    message (benchmarks/results/policy_latency.md). Falls back to the SingleThreadedExecutor
    where this rclpy has no EventsExecutor. Spin it with ``spin_once(timeout_sec=...)`` in a
    loop: its ``spin()`` did not dispatch callbacks of this node (rclpy 9.1).
    """
    from rclpy.executors import SingleThreadedExecutor

    if kind == 'events':
        try:
            from rclpy.experimental import EventsExecutor
        except ImportError:
            pass
        else:
            return EventsExecutor()
    return SingleThreadedExecutor()


def main(args: list[str] | None = None) -> int:
    """Entry point of the ``policy_node`` console script; returns the exit code."""
    # Until rclpy.init() installs its own handlers (which stop the node the same way).
    previous = {sig: signal.signal(sig, _exit_cleanly) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        from robotrl_ros.nodes.policy_ros_node import run
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return run(args)


def __getattr__(name: str) -> Any:
    """``PolicyNode`` and friends, imported on first use."""
    from robotrl_ros.nodes import policy_ros_node
    return getattr(policy_ros_node, name)


if __name__ == '__main__':
    sys.exit(main())
