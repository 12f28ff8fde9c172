# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Put messages of several topics back into publish order before pairing them.

Each topic is delivered in order, but an executor serves topics in its own order: a trainer that
is a little behind may handle two ``joint_states`` before the command that was published between
them, and would then pair the command with the wrong state. Every ROS message carries the time
its publisher sent it (``MessageInfo['source_timestamp']``, one clock on one host), so the
trainer buffers messages and releases them in that order: an event is released once every
*watermark* stream has delivered something published at or after it (nothing older can still
come on that stream), or after ``max_delay_ns`` at the latest (a stream went quiet).
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Sequence
from typing import Any


class ReorderBuffer:
    """Release events of several in-order streams in global source-time order.

    Args:
        watermark_streams: Streams that flow continuously (``joint_states`` and commands);
            rare streams (goals) are ordered too but never waited for.
        max_delay_ns: Longest an event is held waiting for a quiet stream.
    """

    def __init__(self, watermark_streams: Sequence[str], max_delay_ns: int = 200_000_000) -> None:
        if not watermark_streams:
            raise ValueError('ReorderBuffer needs at least one watermark stream')
        self.max_delay_ns = int(max_delay_ns)
        self._latest = dict.fromkeys(watermark_streams, -1)
        self._heap: list[tuple[int, int, int, str, Any]] = []
        self._seq = itertools.count()
        self.released_by_timeout = 0

    def __len__(self) -> int:
        return len(self._heap)

    def push(self, stream: str, source_ns: int, item: Any, now_ns: int) -> None:
        """Add an event published at ``source_ns`` (received at ``now_ns``)."""
        if stream in self._latest:
            self._latest[stream] = max(self._latest[stream], int(source_ns))
        heapq.heappush(self._heap, (int(source_ns), next(self._seq), int(now_ns), stream, item))

    def pop_ready(self, now_ns: int) -> list[tuple[str, Any]]:
        """Events that can no longer be preceded by an undelivered one, oldest first."""
        out = []
        watermark = min(self._latest.values())
        while self._heap:
            source, _, received, stream, item = self._heap[0]
            if source > watermark and now_ns - received < self.max_delay_ns:
                break
            if source > watermark:
                self.released_by_timeout += 1
            heapq.heappop(self._heap)
            out.append((stream, item))
        return out

    def drain(self) -> list[tuple[str, Any]]:
        """Every buffered event, oldest first (at shutdown)."""
        out = [(stream, item) for _, _, _, stream, item in sorted(self._heap)]
        self._heap.clear()
        return out
