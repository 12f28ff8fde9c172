# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""``make test-stress``'s CPU burner (tools/cpu_burner.py): busy during the command, gone after."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / 'tools' / 'cpu_burner.py'
TIMEOUT = 60.0   # only catches hangs

# The command under the burner: its parent's children are the burners (and itself).
LIST_SIBLINGS = ('import os, pathlib; ppid = os.getppid(); '
                 'kids = pathlib.Path(f"/proc/{ppid}/task/{ppid}/children").read_text().split(); '
                 'print(" ".join(k for k in kids if int(k) != os.getpid()))')


def _alive(pid: int) -> bool:
    try:
        state = Path(f'/proc/{pid}/stat').read_text().split(') ')[1].split()[0]
    except OSError:
        return False
    return state != 'Z'


def _wait_gone(pids, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    while any(_alive(p) for p in pids):
        assert time.monotonic() < deadline, [p for p in pids if _alive(p)]
        time.sleep(0.05)


@pytest.mark.parametrize('code', [0, 3])
def test_burners_run_during_the_command_and_stop_after_it_whatever_its_status(code):
    command = LIST_SIBLINGS + f'; raise SystemExit({code})'
    proc = subprocess.run([sys.executable, str(SCRIPT), '--procs', '2', '--', sys.executable,
                           '-c', command], capture_output=True, text=True, timeout=TIMEOUT)
    assert proc.returncode == code, proc.stderr
    burners = [int(p) for p in proc.stdout.split()]
    assert len(burners) == 2, proc.stdout
    assert f'pids {burners[0]}, {burners[1]}' in proc.stderr
    _wait_gone(burners)


def test_burners_exit_when_the_wrapper_is_killed(tmp_path):
    marker = tmp_path / 'burners'
    command = LIST_SIBLINGS.replace('print(', f'open({str(marker)!r}, "w").write(') + \
        '; import time; time.sleep(600)'
    wrapper = subprocess.Popen([sys.executable, str(SCRIPT), '--procs', '2', '--',
                                sys.executable, '-c', command], stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + TIMEOUT
        while not (marker.is_file() and len(marker.read_text().split()) == 2):
            assert time.monotonic() < deadline and wrapper.poll() is None
            time.sleep(0.05)
        burners = [int(p) for p in marker.read_text().split()]
        assert all(_alive(p) for p in burners)
        os.kill(wrapper.pid, signal.SIGKILL)   # no clean-up code runs in the wrapper
        wrapper.wait(timeout=TIMEOUT)
        _wait_gone(burners)
    finally:
        if wrapper.poll() is None:
            wrapper.kill()
            wrapper.wait()


def test_sigterm_stops_the_command_and_the_burners():
    wrapper = subprocess.Popen([sys.executable, str(SCRIPT), '--procs', '1', '--',
                                sys.executable, '-c', 'import time; time.sleep(600)'],
                               stderr=subprocess.PIPE, text=True)
    line = wrapper.stderr.readline()
    assert line.startswith('cpu_burner: 1 busy processes'), line
    wrapper.send_signal(signal.SIGTERM)
    _, err = wrapper.communicate(timeout=TIMEOUT)
    assert wrapper.returncode == 128 + signal.SIGTERM, err
    assert 'cpu_burner: stopped after' in err
    burner = int(line.split('pids ')[1].rstrip(')\n'))
    _wait_gone([burner])


@pytest.mark.parametrize('delay_s', [0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5])
def test_sigterm_at_any_moment_of_start_up_leaves_no_burner(delay_s):
    """Before its handler exists the wrapper dies of the signal; after, it cleans up, says so."""
    wrapper = subprocess.Popen([sys.executable, str(SCRIPT), '--procs', '1', '--',
                                sys.executable, '-c', 'import time; time.sleep(600)'],
                               stderr=subprocess.PIPE, text=True)
    time.sleep(delay_s)
    wrapper.send_signal(signal.SIGTERM)
    _, err = wrapper.communicate(timeout=TIMEOUT)
    if wrapper.returncode == -signal.SIGTERM:   # killed before the handler was installed
        assert 'busy processes' not in err, err
        return
    assert wrapper.returncode == 128 + signal.SIGTERM, err
    assert 'cpu_burner: stopped after' in err, err
    started = [line for line in err.splitlines() if 'busy processes' in line]
    if started:
        _wait_gone([int(started[0].split('pids ')[1].rstrip(')'))])


def test_a_bad_process_count_is_refused():
    proc = subprocess.run([sys.executable, str(SCRIPT), '--procs', '0', '--', 'true'],
                          capture_output=True, text=True, timeout=TIMEOUT)
    assert proc.returncode == 2 and '--procs must be at least 1, got 0' in proc.stderr
