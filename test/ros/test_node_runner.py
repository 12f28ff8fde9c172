# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The node runner in-process: exit codes, the close hook on every way out, executors.

The signal side as real processes, for every node: test/nodes/test_node_signals.py.
"""

import signal

import pytest
import rclpy
from rclpy.executors import SingleThreadedExecutor

from robotrl_ros.ros import stop_request
from robotrl_ros.ros.node_runner import RunnableNode, make_executor, run_node
from robotrl_ros.ros.params import ParameterSpec, declare_parameters


@pytest.fixture(autouse=True)
def _restore_signal_handlers():
    previous = {sig: signal.getsignal(sig) for sig in stop_request.STOP_SIGNALS}
    yield
    for sig, handler in previous.items():
        signal.signal(sig, handler)
    stop_request.clear_stop_request()
    rclpy.try_shutdown()


class Toy(RunnableNode):
    """Counts timer ticks; finishes, fails or asks for a stop as told."""

    closed = 0

    def __init__(self, finish_after=None, fail=False, signal_after=None, fail_on_close=False):
        super().__init__('toy')
        self.ticks, self.finish_after, self.fail = 0, finish_after, fail
        self.fail_on_close = fail_on_close
        self.signal_after = signal_after
        self.create_timer(0.01, self._tick)

    def _tick(self):
        self.ticks += 1
        if self.signal_after is not None and self.ticks == self.signal_after:
            signal.raise_signal(signal.SIGTERM)   # what `kill <pid>` does

    def done(self):
        return self.finish_after is not None and self.ticks >= self.finish_after

    def exit_code(self):
        return 1 if self.fail else 0

    def close(self):
        Toy.closed += 1
        if self.fail_on_close:       # what the trainer does when its last sync hits a full disk
            self.fail = True


def run(**kwargs):
    Toy.closed = 0
    nodes = []

    def create():
        nodes.append(Toy(**kwargs))
        return nodes[-1]
    code = run_node(create, 'toy', [])
    return code, nodes[0] if nodes else None


def test_a_node_that_is_done_exits_with_its_code_and_is_closed():
    code, node = run(finish_after=3)
    assert code == 0 and node.ticks >= 3 and Toy.closed == 1
    assert not rclpy.ok()          # rclpy shut down
    code, node = run(finish_after=2, fail=True)
    assert code == 1 and Toy.closed == 1


def test_a_failure_while_closing_makes_the_exit_code_one():
    code, node = run(finish_after=2, fail_on_close=True)
    assert code == 1 and Toy.closed == 1
    code, node = run(signal_after=3, fail_on_close=True)
    assert code == 1 and Toy.closed == 1


def test_sigterm_while_spinning_stops_cleanly_with_exit_zero():
    code, node = run(signal_after=5)
    assert code == 0 and node.ticks >= 5 and Toy.closed == 1
    assert stop_request.received_signals() == ['SIGTERM']


def test_a_stop_requested_before_start_builds_no_node():
    stop_request.install_stop_handlers()
    signal.raise_signal(signal.SIGINT)
    code, node = run(finish_after=1)
    assert code == 0 and node is None and Toy.closed == 0


def test_a_bad_parameter_exits_2_naming_it(capsys):
    specs = (ParameterSpec('gain', 1.0, 'A gain.', minimum=0.0),)

    class Configured(RunnableNode):
        def __init__(self):
            super().__init__('configured', parameter_overrides=[
                rclpy.parameter.Parameter('gain', value='high')])
            declare_parameters(self, specs)

    assert run_node(Configured, 'configured', []) == 2
    message = "configured: parameter 'gain' expects a float, got 'high' (str)"
    assert message in capsys.readouterr().err


def test_executor_choice():
    rclpy.init()
    assert isinstance(make_executor('single_threaded'), SingleThreadedExecutor)
    assert type(make_executor('events')).__name__ in ('EventsExecutor', 'SingleThreadedExecutor')
    with pytest.raises(ValueError, match="executor must be one of"):
        make_executor('multi')
