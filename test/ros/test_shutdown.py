# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Node teardown and spinning: an error while a signal shuts the context down is a clean stop."""

import pytest
import rclpy

from robotrl_ros.ros.shutdown import shutting_down, spin_until_shutdown, teardown


class _BrokenNode:
    def destroy_node(self):
        raise RuntimeError('handle invalidated')


def test_teardown_raises_while_the_context_is_alive():
    rclpy.init()
    assert not shutting_down()
    with pytest.raises(RuntimeError, match='handle invalidated'):
        teardown(_BrokenNode())
    assert shutting_down()  # rclpy is shut down even so


def test_teardown_swallows_errors_after_a_signal_shut_rclpy_down():
    rclpy.init()
    rclpy.shutdown()  # what rclpy's SIGINT/SIGTERM handler does
    teardown(_BrokenNode())
    teardown(None)
    assert shutting_down()


class _FlakyExecutor:
    """spin_once raises ``failures`` times, then does what a pending SIGINT does."""

    def __init__(self, failures):
        self.failures, self.calls = failures, 0

    def spin_once(self, timeout_sec=None):
        self.calls += 1
        if self.calls <= self.failures:
            raise RuntimeError("Unable to convert call argument '0' to Python object")
        rclpy.shutdown()


class _Logger:
    def __init__(self):
        self.errors = []

    def error(self, text):
        self.errors.append(text)


def test_spin_rides_out_an_executor_error_and_stops_on_shutdown():
    rclpy.init()
    executor, logger = _FlakyExecutor(failures=2), _Logger()
    spin_until_shutdown(executor, logger, max_errors=3)
    assert executor.calls == 3 and shutting_down()
    assert len(logger.errors) == 2 and "(1 in a row, 3 stop the node)" in logger.errors[0]


def test_spin_raises_an_error_that_repeats():
    rclpy.init()
    executor = _FlakyExecutor(failures=100)
    with pytest.raises(RuntimeError, match='Unable to convert'):
        spin_until_shutdown(executor, _Logger(), max_errors=3)
    assert executor.calls == 3
    rclpy.shutdown()


def test_spin_stops_when_asked_without_shutting_rclpy_down():
    rclpy.init()
    calls = []

    class _Executor:
        def spin_once(self, timeout_sec=None):
            calls.append(timeout_sec)

    spin_until_shutdown(_Executor(), _Logger(), stop=lambda: len(calls) >= 3)
    assert len(calls) == 3 and not shutting_down()
    rclpy.shutdown()
