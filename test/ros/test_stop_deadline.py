# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The bounded stop of a node process: each case is a child process (the deadline exits it).

Each child writes a marker once it is where the test wants it, so nothing depends on how fast a
loaded machine starts Python; the bounds are short and the test only waits for the exit.
"""

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HANG_S = 120   # only catches a child that the deadline failed to end

#: argv: marker path. ``{body}`` runs with ``d``, a StopDeadline (stopping 0.3 s, teardown 0.3 s).
_CHILD = '''
import ctypes, pathlib, sys, time
from robotrl_ros.ros.stop_deadline import StopDeadline
from robotrl_ros.ros.stop_request import install_stop_handlers
install_stop_handlers()
marker = pathlib.Path(sys.argv[1])
d = StopDeadline('toy', stopping_s=0.3, teardown_s=0.3)

def stuck_in_a_callback():
    marker.touch()
    time.sleep(60)     # Python handlers run here: the stop request is recorded

def stuck_in_c():
    # A mutex locked twice by its owner: blocked in C, where no Python signal handler runs
    # (as a hung executor or DDS call); only the wakeup pipe tells that a signal came.
    libc = ctypes.CDLL(None)
    mutex = ctypes.create_string_buffer(64)
    libc.pthread_mutex_lock(mutex)
    marker.touch()
    libc.pthread_mutex_lock(mutex)

def hung_teardown():
    time.sleep(60)
{body}
print('exited normally', flush=True)
'''


def run_child(tmp_path: Path, body: str, signal_when_ready: bool = False
              ) -> subprocess.CompletedProcess:
    marker = tmp_path / 'ready'
    proc = subprocess.Popen(
        [sys.executable, '-c', _CHILD.format(body=textwrap.dedent(body)),
         str(marker)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if signal_when_ready:
        deadline = time.monotonic() + HANG_S
        while not marker.exists() and proc.poll() is None:
            assert time.monotonic() < deadline, 'child never got ready'
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=HANG_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail(f'the deadline did not end the child: {proc.communicate()}')
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def test_a_hung_teardown_exits_with_the_node_code_and_its_stacks(tmp_path):
    for code in (0, 3):
        result = run_child(tmp_path, f'''
            d.enter('running'); d.enter('closing'); d.enter('teardown', {code})
            hung_teardown()
        ''')
        assert result.returncode == code, result
        assert 'toy: rclpy teardown (destroy_node, shutdown) did not return within 0.3 s' in \
            result.stderr
        assert 'hung_teardown' in result.stderr and 'exited normally' not in result.stdout


def test_a_callback_that_hangs_after_the_stop_exits_1_with_its_stacks(tmp_path):
    result = run_child(tmp_path, '''
        d.enter('running')
        stuck_in_a_callback()
    ''', signal_when_ready=True)
    assert result.returncode == 1, result
    assert 'toy: still spinning 0.3 s after the stop request' in result.stderr
    assert 'stuck_in_a_callback' in result.stderr


def test_a_stop_is_seen_while_the_main_thread_is_stuck_in_c(tmp_path):
    result = run_child(tmp_path, '''
        d.enter('running')
        stuck_in_c()
    ''', signal_when_ready=True)
    assert result.returncode == 1, result
    assert 'toy: still spinning' in result.stderr and 'stuck_in_c' in result.stderr


def test_building_and_closing_are_not_bounded(tmp_path):
    # A stop during the build, a slow build and a slow close: the node exits by itself.
    result = run_child(tmp_path, '''
        stuck = time.monotonic() + 1.0
        marker.touch()
        while time.monotonic() < stuck:     # being built, the stop already requested
            time.sleep(0.01)
        d.enter('running'); d.enter('closing')
        time.sleep(1.0)                     # the trainer saving its checkpoint
        d.enter('teardown', 0); d.enter('done')
        time.sleep(1.0)                     # after done: nothing bounds the process any more
    ''', signal_when_ready=True)
    assert result.returncode == 0 and 'exited normally' in result.stdout, result
    assert result.stderr == ''


def test_without_a_stop_nothing_is_bounded(tmp_path):
    result = run_child(tmp_path, '''
        d.enter('running')
        time.sleep(1.0)                     # spinning: no stop request, no deadline
        d.enter('closing'); d.enter('teardown', 0); d.enter('done')
    ''')
    assert result.returncode == 0 and result.stderr == '', result
