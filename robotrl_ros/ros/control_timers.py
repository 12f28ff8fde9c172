# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""When the policy node acts without a new message: its control timer and state watchdog.

In ``timer`` mode the node acts every control period on the latest state. In ``on_message``
mode it acts on each joint_states message, and a timer ticking at the control rate while states
arrive would cost a wake-up each and delay the states it collides with: instead a watchdog,
re-armed by every fresh state, fires ``state_timeout`` after the last one and only then starts
the ticks (hold commands) until states come back.
"""

from __future__ import annotations

from collections.abc import Callable

from rclpy.node import Node
from rclpy.timer import Timer


class ControlTimers:
    """The control timer and, in ``on_message`` mode, the watchdog that starts it.

    Args:
        node: The node that owns the timers.
        mode: ``timer`` or ``on_message``.
        state_timeout: Seconds without a fresh state before the watchdog fires.
        on_tick: Called on every tick and when the watchdog fires.
    """

    def __init__(self, node: Node, mode: str, state_timeout: float,
                 on_tick: Callable[[], None]) -> None:
        self.node, self.mode, self.state_timeout, self.on_tick = node, mode, state_timeout, on_tick
        self._timer: Timer | None = None
        self._watchdog: Timer | None = None
        self._ticking = True      # whether the control timer runs

    @property
    def timer(self) -> Timer | None:
        """The control timer (None until :meth:`set_period`); canceled while states flow."""
        return self._timer

    @property
    def on_message(self) -> bool:
        """Whether states drive the control steps (``on_message`` mode, once running)."""
        return self._watchdog is not None

    def set_period(self, period: float) -> None:
        """Tick every ``period`` seconds (a newly installed artifact's control period)."""
        if self._timer is not None:
            if abs(self._timer.timer_period_ns * 1e-9 - period) < 1e-9:
                return
            self.node.destroy_timer(self._timer)
        self._timer = self.node.create_timer(period, self.on_tick)
        if self.mode == 'on_message':
            self._timer.cancel()
            self._ticking = False
            if self._watchdog is None:
                self._watchdog = self.node.create_timer(self.state_timeout, self._on_watchdog)

    def release(self) -> None:
        """Destroy both timers (a lifecycle cleanup); :meth:`set_period` creates them again."""
        for timer in (self._timer, self._watchdog):
            if timer is not None:
                self.node.destroy_timer(timer)
        self._timer = self._watchdog = None
        self._ticking = True

    def fresh_state(self) -> None:
        """A fresh state arrived (``on_message`` mode): stop ticking, re-arm the watchdog."""
        if self._watchdog is None:
            return
        self._watchdog.reset()
        if self._ticking:
            self._timer.cancel()
            self._ticking = False

    def _on_watchdog(self) -> None:
        """No fresh state for ``state_timeout``: act now, then every period."""
        self.on_tick()
        if not self._ticking:
            self._timer.reset()
            self._ticking = True
