# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Console progress: a live bar on an interactive terminal, plain log lines otherwise."""

from __future__ import annotations

import math
import sys
import time
from typing import TextIO

from robotrl_ros.training.loop import Callback, LoopState

BAR_WIDTH = 24


def format_progress(state: LoopState, total_steps: int, steps_per_s: float,
                    bar: bool) -> str:
    """One progress line: steps, percentage, steps/s, recent return (and success), ETA."""
    fraction = min(state.step / max(total_steps, 1), 1.0)
    ret = state.mean_recent_return()
    parts = [f'{state.step}/{total_steps} steps ({100 * fraction:3.0f}%)',
             f'{steps_per_s:7.0f} steps/s',
             'return ' + ('   n/a' if math.isnan(ret) else f'{ret:8.2f}')]
    if state.recent_success:
        parts.append(f'success {sum(state.recent_success) / len(state.recent_success):4.0%}')
    if steps_per_s > 0 and state.step < total_steps:
        parts.append(f'eta {(total_steps - state.step) / steps_per_s:5.0f}s')
    line = ' | '.join(parts)
    if bar:
        filled = int(round(BAR_WIDTH * fraction))
        line = '[' + '#' * filled + '.' * (BAR_WIDTH - filled) + '] ' + line
    return line


class ProgressCallback(Callback):
    """Report progress on ``stream``.

    On a TTY the bar is redrawn in place at most ``refresh_s`` apart; otherwise one plain line
    is printed every ``log_every`` env steps.
    """

    def __init__(self, total_steps: int, log_every: int, stream: TextIO | None = None,
                 refresh_s: float = 0.2) -> None:
        self.total_steps, self.log_every, self.refresh_s = total_steps, log_every, refresh_s
        self.stream = stream or sys.stderr
        self.interactive = bool(getattr(self.stream, 'isatty', lambda: False)())
        self._next = 0
        self._last_draw = 0.0
        self._rate_time = 0.0
        self._rate_step = 0
        self._rate = 0.0
        self._printed = -1

    def on_start(self, state: LoopState) -> None:  # noqa: D102
        self._next = (state.step // self.log_every + 1) * self.log_every
        self._rate_time, self._rate_step = time.perf_counter(), state.step

    def _update_rate(self, state: LoopState, now: float, min_interval: float = 1.0) -> None:
        if now - self._rate_time >= min_interval or self._rate == 0.0:
            elapsed = max(now - self._rate_time, 1e-9)
            if state.step > self._rate_step:
                self._rate = (state.step - self._rate_step) / elapsed
            self._rate_time, self._rate_step = now, state.step

    def on_step(self, state: LoopState) -> None:  # noqa: D102
        now = time.perf_counter()
        if self.interactive:
            if now - self._last_draw >= self.refresh_s:
                self._update_rate(state, now)
                self._last_draw = now
                self.stream.write('\r' + format_progress(state, self.total_steps, self._rate,
                                                         bar=True))
                self.stream.flush()
        elif state.step >= self._next:
            self._update_rate(state, now, min_interval=0.0)
            self._printed = state.step
            self._next = (state.step // self.log_every + 1) * self.log_every
            print(format_progress(state, self.total_steps, self._rate, bar=False),
                  file=self.stream, flush=True)

    def on_end(self, state: LoopState) -> None:  # noqa: D102
        if not self.interactive and self._printed == state.step:
            return
        self._update_rate(state, time.perf_counter(), min_interval=0.0)
        line = format_progress(state, self.total_steps, self._rate, bar=self.interactive)
        self.stream.write(('\r' + line + '\n') if self.interactive else line + '\n')
        self.stream.flush()
