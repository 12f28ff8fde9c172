# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""One service request in flight, abandoned when it stays unanswered too long.

A ROS 2 service can apply a request and lose its response (a service that has not yet
discovered a new client drops the reply), so a client that waits for every answer can wait
forever. :class:`PendingRequest` keeps the request in flight with the time it was sent; its
owner abandons it once :meth:`PendingRequest.overdue` and sends again (the trainer's requests
are idempotent: ``SetBool`` to a policy node's ``~/enable``, ``Trigger`` to a bridge's
``~/reset``). An answer to an abandoned request arrives late and is ignored: the newer request
decides.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


class PendingRequest:
    """At most one request of a client in flight, with a deadline for its answer.

    Args:
        timeout: Seconds the request may stay unanswered before :meth:`overdue` is true.
    """

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._sent = 0.0                # monotonic time the request in flight was sent
        self._client: Any = None
        self._future: Any = None        # the request in flight; None: none

    @property
    def in_flight(self) -> bool:
        """A request was sent and neither answered nor abandoned."""
        return self._future is not None

    def overdue(self) -> bool:
        """The request in flight has stayed unanswered longer than ``timeout``."""
        return self.in_flight and time.monotonic() - self._sent > self.timeout

    def send(self, client: Any, request: Any, on_answer: Callable[[Any], None]) -> None:
        """Call ``client`` with ``request``; ``on_answer(future)`` runs when it is answered.

        Not called for an answer that arrives after :meth:`abandon` (or after a newer send).
        """
        self._sent = time.monotonic()
        self._client = client
        future = self._future = client.call_async(request)

        def done(fut: Any) -> None:
            if fut is not self._future:
                return      # abandoned, answered late: a newer request decides
            self._client, self._future = None, None
            on_answer(fut)
        future.add_done_callback(done)

    def abandon(self) -> None:
        """Stop waiting for the request in flight (its client forgets it too)."""
        if self._future is not None:
            self._client.remove_pending_request(self._future)
        self._client, self._future = None, None
