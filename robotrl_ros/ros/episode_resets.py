# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The trainer's episode resets through a simulator's ``~/reset`` (std_srvs/Trigger) service.

:class:`EpisodeResets` asks the bridge once whether it resets episodes itself (its
``auto_reset`` parameter, over the standard GetParameters service; then ``~/reset`` is never
called, which would put a second state in flight for every episode), requests a reset whenever
the session needs one, retries a failed or unanswered request, and hands the reply (new
episode, first stamp, goal) to the session.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from rcl_interfaces.msg import ParameterType
from rcl_interfaces.srv import GetParameters
from rclpy.node import Node
from std_srvs.srv import Trigger

from robotrl_ros.ros.pending_request import PendingRequest

RESET_RETRY = 1.0          # s before a failed or unanswered reset request is retried
BRIDGE_CHECK_TIMEOUT = 5.0  # s to learn whether the bridge auto-resets before using ~/reset


class EpisodeResets:
    """Drives a session's resets through ``reset_service``.

    Args:
        node: The node that owns the service clients.
        session: The trainer's session (``needs_reset``, ``awaiting_reset``, ``begin_reset``,
            ``end_reset``, ``stop_using_resets``).
        reset_service: The Trigger service name; '' = none (a real robot).
        clock_ns: Wall-clock nanoseconds (the session's time base).
    """

    def __init__(self, node: Node, session: Any, reset_service: str,
                 clock_ns: Callable[[], int] = time.time_ns) -> None:
        self.node, self.session, self._ns = node, session, clock_ns
        self.client = node.create_client(Trigger, reset_service) if reset_service else None
        self._reset_request = PendingRequest(RESET_RETRY)
        self._bridge_checked = self.client is None
        self._check_started = time.monotonic()
        self._bridge_query: Any = None
        self.params_client = None
        if self.client is not None:
            bridge = reset_service.rsplit('/', 1)[0] or reset_service
            self.params_client = node.create_client(GetParameters, f'{bridge}/get_parameters')

    def request(self) -> None:
        """Ask for a new episode now, unless resets are off or the service is not there yet."""
        if self.client is None:
            return
        if not self._bridge_checked:
            self._check_bridge()
            return
        if not self.client.service_is_ready():
            self.node.get_logger().warn(f'waiting for {self.client.srv_name}',
                                        throttle_duration_sec=5.0)
            return
        self.session.begin_reset(self._ns())
        self._reset_request.send(self.client, Trigger.Request(), self._on_done)

    def tick(self) -> None:
        """Periodic: request a needed reset; retry one that failed or stays unanswered.

        A request unanswered for :data:`RESET_RETRY` seconds is abandoned (the next tick asks
        again; a late answer to it is ignored).
        """
        if self._reset_request.overdue():
            self._reset_request.abandon()
            return
        if self._reset_request.in_flight:
            return
        if self.session.needs_reset() or self.session.awaiting_reset():
            self.request()

    def _check_bridge(self) -> None:
        """Find out once whether the bridge auto-resets (then never call ~/reset)."""
        if time.monotonic() - self._check_started > BRIDGE_CHECK_TIMEOUT:
            self._bridge_checked = True  # no answer: assume a plain reset service
            return
        if self._bridge_query is not None or not self.params_client.service_is_ready():
            return
        self._bridge_query = self.params_client.call_async(
            GetParameters.Request(names=['auto_reset']))
        self._bridge_query.add_done_callback(self._on_bridge_answer)

    def _on_bridge_answer(self, future: Any) -> None:
        try:
            value = future.result().values[0]
            auto = value.type == ParameterType.PARAMETER_BOOL and value.bool_value
        except Exception:  # noqa: BLE001 - not a bridge we know: use the reset service
            auto = False
        if auto:
            self.session.stop_using_resets()
            self.client = None
            self.node.get_logger().info('the bridge auto-resets episodes: not calling '
                                        f'{self.params_client.srv_name.rsplit("/", 1)[0]}/reset')
        self._bridge_checked = True

    def _on_done(self, future: Any) -> None:
        try:
            response = future.result()
            info = json.loads(response.message)
            stamp = float(info['stamp'])
        except Exception as exc:  # noqa: BLE001 - a bad reply is retried, never fatal
            self.node.get_logger().warn(f'reset failed ({exc}); retrying')
            return
        if not response.success:
            self.node.get_logger().warn(f'reset refused: {response.message}; retrying')
            return
        # The new episode's goal (validated by the pairer; a bad one is counted and ignored).
        self.session.end_reset(int(info.get('episode', 0)), stamp, self._ns(), info.get('goal'))
