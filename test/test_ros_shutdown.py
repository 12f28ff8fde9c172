# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Node teardown: an error while a signal shuts the context down is a clean stop."""

import pytest
import rclpy

from robotrl_ros.ros.shutdown import shutting_down, teardown


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
