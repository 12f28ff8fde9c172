# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""SIGINT/SIGTERM as a stop request, installed only in node executables."""

import faulthandler
import os
import signal

import pytest

from robotrl_ros.ros import stop_request
from robotrl_ros.ros.stop_request import (
    clear_stop_request,
    install_stop_handlers,
    is_node_process,
    received_signals,
    stop_requested,
)


@pytest.mark.parametrize('argv, expected', [
    (['/venv/bin/python3', '/venv/bin/policy_node', '--ros-args', '-p', 'armed:=true'], True),
    (['/opt/ros/lib/robotrl_ros/trainer_node', '--ros-args'], True),
    (['python', '-m', 'robotrl_ros.nodes.sim_bridge', '--ros-args', '-p', 'seed:=1'], True),
    (['python', '-u', '-m', 'robotrl_ros.nodes.policy_node'], True),
    (['python', '-m', 'pytest', 'test/nodes'], False),
    (['python', '-m', 'robotrl_ros.nodes.episode_monitor'], False),
    (['/venv/bin/robotrl', 'up', 'train_sim'], False),
    (['python', '-m', 'pytest', '--ros-args', '-m', 'robotrl_ros.nodes.sim_bridge'], False),
])
def test_only_node_executables_are_node_processes(argv, expected):
    assert is_node_process(argv) is expected


def test_the_test_process_itself_keeps_its_handlers():
    assert signal.getsignal(signal.SIGINT) is not stop_request._request_stop


@pytest.mark.parametrize('sig', [signal.SIGINT, signal.SIGTERM])
def test_a_signal_becomes_a_stop_request(sig):
    previous = {s: signal.getsignal(s) for s in stop_request.STOP_SIGNALS}
    try:
        install_stop_handlers()
        assert not stop_requested()
        os.kill(os.getpid(), sig)       # handled between bytecodes: nothing is interrupted
        assert stop_requested() and received_signals() == [signal.Signals(sig).name]
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        faulthandler.unregister(stop_request.STACK_DUMP_SIGNAL)
        clear_stop_request()
    assert not stop_requested()
