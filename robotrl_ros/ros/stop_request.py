# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""SIGINT/SIGTERM as a stop request that a node process polls, from its first import on.

A node process never lets a signal interrupt it where it happens to be (inside an import, a
callback, a checkpoint write): the handler only records the request, and the node runner
(:mod:`robotrl_ros.ros.node_runner`) stops spinning, closes the node and exits 0. This module
imports nothing heavy, so ``robotrl_ros.nodes`` installs the handlers before the node's own
imports (rclpy, torch, MuJoCo) when the process was started as a node executable.
"""

from __future__ import annotations

import contextlib
import faulthandler
import os
import select
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

#: Executables (console scripts, ``ros2 run`` targets) whose processes stop on request.
NODE_EXECUTABLES = ('policy_node', 'sim_bridge', 'trainer_node')
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
#: Prints the stack of every thread to stderr, from C (no GIL needed): a supervisor asks for it
#: before it kills a node that did not stop (robotrl_ros.graphs.process.ProcessGroup.stop).
STACK_DUMP_SIGNAL = signal.SIGUSR1

_stop = threading.Event()
_received: list[int] = []
_wakeup: tuple[int, int] | None = None   # pipe (read, write) that signal.set_wakeup_fd writes


def _request_stop(signum: int, frame: Any) -> None:
    _received.append(signum)
    _stop.set()


def install_stop_handlers() -> None:
    """Make SIGINT and SIGTERM set the stop request instead of interrupting the process.

    Also makes :data:`STACK_DUMP_SIGNAL` print every thread's stack to stderr, so a node that
    hangs can tell where (``kill -USR1 <pid>``) even while its main thread is stuck in C code.
    """
    global _wakeup
    for sig in STOP_SIGNALS:
        signal.signal(sig, _request_stop)
    with contextlib.suppress(AttributeError, OSError, ValueError):  # no real stderr (a test)
        faulthandler.register(STACK_DUMP_SIGNAL, file=sys.__stderr__, all_threads=True)
    if _wakeup is None:
        _wakeup = os.pipe()
        for fd in _wakeup:
            os.set_blocking(fd, False)
    # Python's C-level handler writes each signal's number here at once, also while the main
    # thread is stuck in C code and the handler above cannot run yet (wait_for_stop reads it).
    signal.set_wakeup_fd(_wakeup[1], warn_on_full_buffer=False)


def stop_requested() -> bool:
    """Whether SIGINT or SIGTERM arrived since the handlers were installed."""
    return _stop.is_set()


def wait_for_stop(timeout: float) -> bool:
    """Block up to ``timeout`` seconds for a stop request; whether one arrived.

    Also sees a SIGINT/SIGTERM that arrived while the main thread is stuck in C code (its
    Python handler not run yet), through the wakeup pipe of :func:`install_stop_handlers`.
    """
    if _stop.is_set() or _wakeup is None:
        return _stop.wait(timeout)
    readable, _, _ = select.select([_wakeup[0]], [], [], timeout)
    if readable:
        try:
            if set(os.read(_wakeup[0], 512)) & set(STOP_SIGNALS):
                return True
        except BlockingIOError:
            pass
    return _stop.is_set()


def received_signals() -> list[str]:
    """Names of the stop signals received so far, in order (for the exit log line)."""
    return [signal.Signals(sig).name for sig in _received]


def clear_stop_request() -> None:
    """Forget a stop request (tests that run several nodes in one process)."""
    _stop.clear()
    _received.clear()


def is_node_process(argv: Sequence[str]) -> bool:
    """Whether ``argv`` (``sys.orig_argv``) starts a node executable of this package.

    True for a console script or ``ros2 run`` target named in :data:`NODE_EXECUTABLES` and for
    ``python -m robotrl_ros.nodes.<node>``; false for anything else that imports the nodes (a
    test process, ``robotrl``, a launch file), whose own signal handling stays untouched.
    """
    args = list(argv)
    head = args[:args.index('--ros-args')] if '--ros-args' in args else args
    if '-m' in head[:-1]:
        module = head[head.index('-m') + 1]
        return module in {f'robotrl_ros.nodes.{name}' for name in NODE_EXECUTABLES}
    return any(Path(a).name in NODE_EXECUTABLES for a in head if not a.startswith('-'))


def install_if_node_process(argv: Sequence[str]) -> bool:
    """:func:`install_stop_handlers` when ``argv`` starts a node executable; returns whether."""
    if is_node_process(argv) and threading.current_thread() is threading.main_thread():
        install_stop_handlers()
        return True
    return False
