# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Progress output: a redrawn bar on a terminal, plain log lines otherwise."""

import io
from collections import deque

import numpy as np

from robotrl_ros.training.loop import LoopState
from robotrl_ros.training.progress import ProgressCallback, format_progress


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def _state(step, returns=(), success=()):
    return LoopState(step=step, obs=np.zeros((1, 2)), recent_returns=deque(returns, maxlen=5),
                     recent_success=deque(success, maxlen=5))


def test_format_progress_shows_steps_rate_return_success_and_eta():
    line = format_progress(_state(250, [-10.0, -20.0], [1.0, 0.0]), 1000, 50.0, bar=True)
    assert line.startswith('[######' + '.' * 18 + '] 250/1000 steps ( 25%)')
    assert '50 steps/s' in line and 'return   -15.00' in line and 'success  50%' in line
    assert 'eta    15s' in line
    assert 'return    n/a' in format_progress(_state(0), 1000, 0.0, bar=False)


def test_plain_lines_every_log_interval_when_not_a_terminal():
    stream = io.StringIO()
    progress = ProgressCallback(total_steps=300, log_every=100, stream=stream)
    state = _state(0, [-1.0])
    progress.on_start(state)
    for step in range(10, 310, 10):
        state.step = step
        progress.on_step(state)
    progress.on_end(state)
    lines = stream.getvalue().splitlines()
    assert [line.split(' ')[0] for line in lines] == ['100/300', '200/300', '300/300']
    assert '\r' not in stream.getvalue() and '[' not in stream.getvalue()


def test_bar_is_redrawn_in_place_on_a_terminal():
    stream = _Terminal()
    progress = ProgressCallback(total_steps=300, log_every=100, stream=stream, refresh_s=0.0)
    state = _state(0)
    progress.on_start(state)
    for step in (100, 200, 300):
        state.step = step
        progress.on_step(state)
    progress.on_end(state)
    text = stream.getvalue()
    assert text.count('\r[') == 4 and text.endswith('\n') and text.count('\n') == 1
    assert '[' + '#' * 24 + '] 300/300' in text
