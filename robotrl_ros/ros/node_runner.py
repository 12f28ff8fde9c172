# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The one ``main()`` of every node: init, executor, spin until a stop, close, exit code.

Every node's entry point is ``return run_node(MyNode, 'my_node', args)``. The runner

- makes SIGINT and SIGTERM a stop request (:mod:`robotrl_ros.ros.stop_request`) instead of
  rclpy's handlers, which shut the context down under a spinning executor and a running callback
  (the source of one-off errors such as ``Unable to convert call argument '0' to Python
  object``): a signal at any moment, during start-up included, ends with exit code 0;
- initializes rclpy, builds the node, spins it with the executor it asks for, and rides out a
  one-off executor error (:func:`robotrl_ros.ros.shutdown.spin_until_shutdown`);
- on every way out calls the node's :meth:`RunnableNode.close` (the trainer saves its checkpoint
  and closes its recording there), then destroys the node and shuts rclpy down;
- turns a configuration error (``ValueError``, e.g. a bad parameter) into exit code 2 with the
  message on stderr.

An executable ends with :func:`exit_process`: once the node is closed and rclpy is shut down,
the process exits without the interpreter's finalization, in which C++ objects of rclpy
(executor threads) were destroyed in an arbitrary order and once aborted the process
(``terminate called without an active exception``, exit code -6) after a clean stop.
"""

from __future__ import annotations

import gc
import logging
import os
import sys
from collections.abc import Callable
from typing import Any, NoReturn

import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.signals import SignalHandlerOptions

from robotrl_ros.ros.params import ParameterSpec
from robotrl_ros.ros.shutdown import shutting_down, spin_until_shutdown, teardown
from robotrl_ros.ros.stop_deadline import StopDeadline
from robotrl_ros.ros.stop_request import install_stop_handlers, received_signals, stop_requested

EXECUTORS = ('events', 'single_threaded')
EXIT_OK, EXIT_FAILURE, EXIT_BAD_CONFIGURATION = 0, 1, 2
#: The ``executor`` parameter of every node (sets its ``executor_kind``).
EXECUTOR_PARAMETER = ParameterSpec(
    'executor', 'events', "`events`: rclpy's EventsExecutor (`rclpy.experimental`, C++ "
    "dispatch, less CPU per message); `single_threaded`: rclpy's SingleThreadedExecutor (the "
    'fallback where rclpy has no EventsExecutor).', choices=EXECUTORS, read_only=True)


def make_executor(kind: str) -> Any:
    """The rclpy executor named by an ``executor`` parameter (``events`` or ``single_threaded``).

    rclpy's EventsExecutor (``rclpy.experimental``) dispatches from C++ instead of rebuilding
    and scanning a wait set in Python on every message (benchmarks/results/policy_latency.md).
    Falls back to the SingleThreadedExecutor where this rclpy has no EventsExecutor. Spin it
    with ``spin_once(timeout_sec=...)`` in a loop: its ``spin()`` did not dispatch callbacks of
    this node (rclpy 9.1).

    Raises:
        ValueError: An unknown kind.
    """
    if kind not in EXECUTORS:
        raise ValueError(f'executor must be one of {list(EXECUTORS)}, got {kind!r}')
    from rclpy.executors import SingleThreadedExecutor

    if kind == 'events':
        try:
            from rclpy.experimental import EventsExecutor
        except ImportError:
            pass
        else:
            return EventsExecutor()
    return SingleThreadedExecutor()


class RunnableNode(Node):
    """A node as :func:`run_node` runs it; override what differs from these defaults."""

    #: The executor to spin this node with (:func:`make_executor`).
    executor_kind = 'single_threaded'

    def done(self) -> bool:
        """Whether the node finished its work by itself (stop spinning, exit)."""
        return False

    def exit_code(self) -> int:
        """The process exit code once spinning stopped without a signal or error."""
        return EXIT_OK

    def close(self) -> None:
        """Release what the node owns (threads, files); called once on every way out."""


def run_node(create: Callable[[], RunnableNode], name: str, args: list[str] | None = None, *,
             freeze_gc: bool = False, bounded_stop: bool = False) -> int:
    """Run the node that ``create()`` builds until a stop; returns the process exit code.

    Args:
        create: Builds the node (after ``rclpy.init``); usually the node class.
        name: The executable's name, prefixed to configuration errors on stderr.
        args: Command-line arguments for ``rclpy.init`` (``None``: ``sys.argv``).
        freeze_gc: Move every object alive after start-up out of the cyclic collector's
            reach (a full collection would stall a control loop).
        bounded_stop: A node executable's own process: a stop that hangs in the executor or
            in rclpy's teardown ends the process (:mod:`robotrl_ros.ros.stop_deadline`).

    Returns:
        The node's :meth:`exit_code` once spinning stopped (SIGINT/SIGTERM, or the node is
        done): 0 unless it failed; 2 on a configuration error (``ValueError``).
    """
    install_stop_handlers()
    if stop_requested():
        return EXIT_OK
    deadline = StopDeadline(name) if bounded_stop else None
    rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO)
    node: RunnableNode | None = None
    executor: Any = None
    code = EXIT_OK
    try:
        node = create()
        if deadline is not None:
            deadline.enter('running')
        if not stop_requested():
            executor = make_executor(node.executor_kind)
            executor.add_node(node)
            if freeze_gc:
                gc.collect()
                gc.freeze()
            running = node
            spin_until_shutdown(executor, node.get_logger(),
                                stop=lambda: stop_requested() or running.done())
        code = node.exit_code()
    except ExternalShutdownException:
        pass
    except ValueError as exc:
        print(f'{name}: {exc}', file=sys.stderr)
        code = EXIT_BAD_CONFIGURATION
    except Exception:
        if not shutting_down():
            raise
    finally:
        try:
            _shutdown_executor(executor)
            if deadline is not None:
                deadline.enter('closing')
            if node is not None:
                node.close()
                if code == EXIT_OK:     # closing can fail too (e.g. the trainer's disk is full)
                    code = node.exit_code()
        finally:
            if deadline is not None:
                deadline.enter('teardown', code)
            if node is not None and stop_requested():
                node.get_logger().info(f'stopped on {", ".join(received_signals())}')
            teardown(node)
            if deadline is not None:
                deadline.enter('done')
    return code


def _shutdown_executor(executor: Any) -> None:
    """Stop the executor's own threads now, while the node and the context still exist."""
    if executor is None:
        return
    try:
        executor.shutdown(timeout_sec=1.0)
    except Exception:  # noqa: BLE001 - a context already shut down by a signal: nothing runs
        if not shutting_down():
            raise


def exit_process(code: int) -> NoReturn:
    """End an executable with ``code`` once :func:`run_node` returned: flush, skip finalization.

    Everything the node owns is closed by then (:meth:`RunnableNode.close`, node destroyed,
    rclpy shut down); what remains is the interpreter's teardown of C++ objects, which is
    not needed and not safe (see the module docstring).
    """
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)
