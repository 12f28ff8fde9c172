# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""SIGINT/SIGTERM to each node executable, during start-up or running: exit 0 (the node runner).

The signal is sent at random moments after the process installed its stop handlers (visible in
/proc/<pid>/status as a caught SIGTERM, which Python never catches by default): during the
node module's imports, the node's construction, or its first spins. A trainer that started
(built its session) also leaves a checkpoint; one stopped before that wrote nothing.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

NODES = ('policy_node', 'sim_bridge', 'trainer_node')
READY = {'policy_node': 'policy_node ready', 'sim_bridge': 'sim_bridge: task',
         'trainer_node': 'trainer_node: sac on reach'}
TIMEOUT = 120.0   # only catches hangs


def caught_signals(pid: int) -> int:
    """The mask of signals the process has handlers for (0 once it is gone)."""
    try:
        text = Path(f'/proc/{pid}/status').read_text()
    except OSError:
        return 0
    line = next(line for line in text.splitlines() if line.startswith('SigCgt:'))
    return int(line.split()[1], 16)


def wait_for_stop_handlers(proc: subprocess.Popen) -> None:
    bit = 1 << (signal.SIGTERM - 1)
    deadline = time.monotonic() + TIMEOUT
    while not caught_signals(proc.pid) & bit:
        assert proc.poll() is None, proc.communicate()[0][-3000:]
        assert time.monotonic() < deadline, 'the node never installed its stop handlers'
        time.sleep(0.005)


def start(node: str, tmp_path: Path) -> subprocess.Popen:
    params = {'trainer_node': [f'output_dir:={tmp_path / "run"}', "reset_service:=''"],
              'sim_bridge': [], 'policy_node': ['control_mode:=timer', 'armed:=true']}[node]
    args = [sys.executable, '-m', f'robotrl_ros.nodes.{node}', '--ros-args']
    for param in params:
        args += ['-p', param]
    return subprocess.Popen(args, env=dict(os.environ), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, cwd=tmp_path)


@pytest.mark.parametrize('node', NODES)
@pytest.mark.parametrize('sig', [signal.SIGINT, signal.SIGTERM], ids=['SIGINT', 'SIGTERM'])
@pytest.mark.parametrize('moment', ['at_once', 'random'])
def test_a_signal_during_start_up_exits_zero(tmp_path, node, sig, moment):
    proc = start(node, tmp_path)
    try:
        wait_for_stop_handlers(proc)
        if moment == 'random':
            seed = NODES.index(node) * 10 + int(sig)
            time.sleep(float(np.random.default_rng(seed).uniform(0.0, 2.5)))
        proc.send_signal(sig)
        out, _ = proc.communicate(timeout=TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, out[-3000:]
    if node == 'trainer_node' and 'trainer_node: sac on reach' in out:
        assert (tmp_path / 'run' / 'online_checkpoint.pt').is_file(), out[-3000:]
        assert (tmp_path / 'run' / 'policy' / 'policy.yaml').is_file()


def wait_ready(proc: subprocess.Popen, node: str) -> list[str]:
    lines = []
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if READY[node] in line:
            return lines
    pytest.fail(f'{node} did not start:\n' + ''.join(lines))


@pytest.mark.parametrize('node', NODES)
@pytest.mark.parametrize('sig', [signal.SIGINT, signal.SIGTERM], ids=['SIGINT', 'SIGTERM'])
def test_a_signal_while_running_exits_zero(tmp_path, node, sig):
    """At a random moment of its timers' callbacks (real-time sim, timer-mode policy node)."""
    proc = start(node, tmp_path)
    try:
        lines = wait_ready(proc, node)
        seed = 100 + NODES.index(node) * 10 + int(sig)
        time.sleep(float(np.random.default_rng(seed).uniform(0.0, 1.5)))
        proc.send_signal(sig)
        out, _ = proc.communicate(timeout=TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, (''.join(lines) + out)[-3000:]
    assert 'stopped on ' + signal.Signals(sig).name in out
    if node == 'trainer_node':
        assert (tmp_path / 'run' / 'online_checkpoint.pt').is_file(), out[-3000:]
