# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""policy_node as a process: safe command, exit 0 on SIGINT/SIGTERM; bad parameters."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import rclpy
import yaml
from rclpy.node import Node
from sensor_msgs.msg import JointState
from std_msgs.msg import Float64MultiArray, String

from robotrl_ros.policy.synthetic import make_synthetic_artifact
from robotrl_ros.ros.conversions import make_joint_state
from robotrl_ros.ros.qos import COMMAND_QOS, SENSOR_QOS

N = 4
NAMES = [f'joint_{i}' for i in range(N)]


def _start(*params):
    args = [sys.executable, '-m', 'robotrl_ros.nodes.policy_node', '--ros-args']
    for param in params:
        args += ['-p', param]
    return subprocess.Popen(args, env=dict(os.environ), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


@pytest.mark.parametrize('sig, interface', [(signal.SIGINT, 'position'),
                                            (signal.SIGTERM, 'position'),
                                            (signal.SIGTERM, 'velocity'),
                                            (signal.SIGTERM, 'effort')])
def test_signal_sends_the_safe_command_exits_zero_and_stops_commanding(tmp_path, sig, interface):
    """Issue 20: before exit 0 the interface's safe command goes out (hold / zeros)."""
    path = make_synthetic_artifact(tmp_path / 'p', n_joints=N, hidden=(16,),
                                   command_interface=interface)
    proc = _start(f'policy_path:={path}', 'armed:=true', 'control_mode:=timer',
                  'control_period:=0.02', 'state_timeout:=5.0', 'trust_artifact_limits:=true')
    rclpy.init()
    node = Node('signal_driver')
    received = []   # (publish time in ns on this machine's clock, command) of every command
    node.create_subscription(Float64MultiArray, 'forward_position_controller/commands',
                             lambda m, info: received.append((info['source_timestamp'],
                                                              list(m.data))),
                             COMMAND_QOS)
    pub = node.create_publisher(JointState, 'joint_states', SENSOR_QOS)
    try:
        end = time.monotonic() + 120.0  # catches hangs only
        while time.monotonic() < end and len(received) < 10:
            pub.publish(make_joint_state(NAMES, np.full(N, 0.3), np.zeros(N),
                                         stamp=time.time()))
            rclpy.spin_once(node, timeout_sec=0.02)
        assert len(received) >= 10, 'the node never commanded'
        if interface != 'position':
            assert any(c != [0.0] * N for _, c in received)   # it was moving
        signalled = time.time_ns()
        proc.send_signal(sig)
        code = proc.wait(timeout=60)
        assert code == 0, proc.stdout.read()[-3000:]
        exited = time.monotonic()
        while time.monotonic() < exited + 0.5:   # take what was still on its way
            rclpy.spin_once(node, timeout_sec=0.02)
        after = [(t, c) for t, c in received if t > signalled]
        assert after, 'no safe command on the way out'
        if interface == 'position':
            # Hold: the last command the controller computed. The policy sees its last action,
            # so its commands under a constant joint state converge and consecutive ones differ
            # by ~1e-8; on a busy machine the last one computed may be a step newer than the
            # last one delivered before the safe command (CI: 1.5e-8 apart). Any other safe
            # command (zeros, the measured 0.3) is far outside this tolerance.
            np.testing.assert_allclose(after[-1][1], received[-2][1], rtol=0, atol=1e-6)
        else:
            assert after[-1][1] == [0.0] * N
        # within one control period + input_timeout (0.5, the default) of the signal, with
        # slack for a busy machine
        assert (after[-1][0] - signalled) * 1e-9 <= 0.02 + 0.5 + 2.0
        # Published after the signal: at most the command of a control step already past its
        # stop check, then the safe command (publish times, however late they were delivered).
        assert len(after) <= 2, after
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        node.destroy_node()
        rclpy.try_shutdown()


def test_wrong_typed_parameter_exits_with_a_clear_message():
    proc = _start('state_timeout:=fast')
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert "parameter 'state_timeout' expects a float, got 'fast'" in out


def _first_status(proc, node, timeout=60.0):
    statuses = []
    node.create_subscription(String, 'policy_node/status',
                             lambda m: statuses.append(json.loads(m.data)), 10)
    end = time.monotonic() + timeout
    while time.monotonic() < end and not statuses and proc.poll() is None:
        rclpy.spin_once(node, timeout_sec=0.05)
    assert statuses, f'no status from the node: {proc.poll()}'
    return statuses[-1]


def _dqn_artifact(out_dir):
    """A discrete artifact as training exports it (Q-network, argmax, action table)."""
    from robotrl_ros.agents.registry import make_agent
    from robotrl_ros.policy.export import export_artifact
    from robotrl_ros.tasks.registry import make_env
    env = make_env('reach_discrete')
    return export_artifact(make_agent('dqn', env, {}, 0).policy_module(), env.task_spec, out_dir,
                           algorithm='dqn')


def test_a_data_artifact_runs_without_torch_or_the_training_stack(tmp_path):
    path = make_synthetic_artifact(tmp_path / 'p', n_joints=N, hidden=(16,))
    legacy = tmp_path / 'legacy'
    shutil.copytree(path, legacy)
    meta = yaml.safe_load((legacy / 'policy.yaml').read_text())
    del meta['network'], meta['files']
    (legacy / 'policy.yaml').write_text(yaml.safe_dump(meta))
    rclpy.init()
    node = Node('lean_probe')
    try:
        for artifact, extra, torch_expected in ((path, [], False),
                                                (_dqn_artifact(tmp_path / 'dqn'), [], False),
                                                (legacy, ['allow_torchscript:=true'], True)):
            proc = _start(f'policy_path:={artifact}', 'status_period:=0.2', *extra)
            try:
                status = _first_status(proc, node)
            finally:
                proc.send_signal(signal.SIGINT)
                proc.wait(timeout=15)
            assert status['policy_version'] is not None, status
            assert status['torch_imported'] is torch_expected, status
            assert status['training_imported'] is False, status
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
