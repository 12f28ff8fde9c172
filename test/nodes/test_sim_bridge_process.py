# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The ``sim_bridge`` executable as a process: clean exit on signals, clear config errors."""

import os
import signal
import subprocess
import sys
import time

import pytest

BRIDGE = [sys.executable, '-m', 'robotrl_ros.nodes.sim_bridge']


def _start(*params):
    args = [*BRIDGE, '--ros-args', *[a for p in params for a in ('-p', p)]]
    return subprocess.Popen(args, env=dict(os.environ), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def _wait_ready(proc, timeout=120.0):
    deadline = time.monotonic() + timeout
    lines = []
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if 'sim_bridge: task' in line:
            return
    proc.kill()
    pytest.fail('sim_bridge did not start:\n' + ''.join(lines))


@pytest.mark.parametrize('sig', [signal.SIGINT, signal.SIGTERM])
def test_exits_zero_on_signal(sig):
    proc = _start('lockstep:=true')
    try:
        _wait_ready(proc)
        proc.send_signal(sig)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize('param, message', [
    ('joints:=[z,x]', "missing ['y']"),
    ('task:=teleport', "unknown task 'teleport'"),
    ('dr_gain_scale:=[2.0,1.0]', 'dr_gain_scale: lo > hi'),
])
def test_bad_parameters_exit_2_with_a_message(param, message):
    proc = _start(param)
    try:
        out, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 2
    assert message in out


@pytest.mark.parametrize('params, message', [
    (('task:=locomotion', 'robot:=robodog'), "parameter 'robot': unknown robot 'robodog'"),
    (('task:=locomotion', 'robot_description:=hello'),
     "parameter 'robot_description': "),
    (('task:=locomotion', 'robot:=panda'),
     "parameter 'robot': locomotion: robot 'panda' has a fixed base"),
    (('task:=ee_reach', 'robot:=a1'), "parameter 'robot': ee_reach: robot 'a1' has a floating"),
    (('task:=reach', 'robot:=a1'), "parameter 'robot': task 'reach' has its own robot"),
    (('task:=ee_reach', 'robot:=panda', 'dr_push_velocity:=0.5', 'dr_push_interval:=1.0'),
     "parameter 'dr_push_interval': the simulated robot has no floating base"),
])
def test_bad_robot_exits_2_naming_the_parameter(params, message):
    proc = _start(*params)
    try:
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 2, out
    assert message in out, out
