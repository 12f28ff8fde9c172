# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""``robotrl up`` with the real nodes, each graph under its own namespace.

Each graph starts and topics flow, every YAML parameter is declared by its node and arrives with
the YAML (or argument) value, Ctrl-C exits 0, and a node that fails makes ``robotrl up`` exit
non-zero.
"""

import importlib.util
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import rclpy
import torch
import yaml
from lifecycle_msgs.srv import GetState
from rcl_interfaces.srv import GetParameters, ListParameters
from rclpy.parameter import parameter_value_to_python
from sensor_msgs.msg import JointState
from std_msgs.msg import Float64MultiArray, String

from robotrl_ros.policy.export import export_artifact
from robotrl_ros.ros.conversions import goal_to_pose, make_joint_state
from robotrl_ros.ros.qos import COMMAND_QOS, SENSOR_QOS
from robotrl_ros.tasks.reach import REACH_SPEC

pytestmark = pytest.mark.ros

ROOT = Path(__file__).resolve().parents[2]
COMMANDS = 'forward_position_controller/commands'
START_TIMEOUT = 240.0  # nodes import torch on a busy 2-core machine; catches hangs only


class TanhPolicy(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.net = torch.nn.Linear(12, 3)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.net(obs))


@pytest.fixture(scope='module')
def artifact(tmp_path_factory):
    out = tmp_path_factory.mktemp('artifact') / 'policy'
    return export_artifact(TanhPolicy(), REACH_SPEC, out, algorithm='ppo')


@pytest.fixture
def probe():
    context = rclpy.Context()
    rclpy.init(context=context)
    node = rclpy.create_node('up_probe', context=context)
    executor = rclpy.executors.SingleThreadedExecutor(context=context)
    executor.add_node(node)
    yield node, executor
    executor.shutdown()
    node.destroy_node()
    rclpy.shutdown(context=context)


def start_up(graph: str, *sets: str) -> subprocess.Popen:
    args = [a for s in sets for a in ('--set', s)]
    return subprocess.Popen([sys.executable, '-m', 'robotrl_ros.graphs.up', graph, *args],
                            cwd=ROOT, env=dict(os.environ), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def stop(proc: subprocess.Popen) -> tuple[int, str]:
    """SIGINT, like Ctrl-C; returns the exit code and the output."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    try:
        out, _ = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        pytest.fail(f'robotrl up did not stop within 120 s after SIGINT:\n{out[-3000:]}')
    return proc.returncode, out


def wait_for(executor, condition, timeout: float, proc: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if proc.poll() is not None:
            pytest.fail(f'robotrl up exited ({proc.returncode}) before {what}:\n'
                        f'{proc.stdout.read()[-3000:]}')
        if time.monotonic() > deadline:
            code, out = stop(proc)
            pytest.fail(f'no {what} within {timeout} s:\n{out[-3000:]}')
        executor.spin_once(timeout_sec=0.05)


def counters(node, ns: str) -> dict[str, list]:
    seen = {'joint_states': [], 'commands': [], 'policy_status': []}
    node.create_subscription(JointState, f'/{ns}/joint_states',
                             lambda m: seen['joint_states'].append(m), SENSOR_QOS)
    node.create_subscription(String, f'/{ns}/policy_node/status',
                             lambda m: seen['policy_status'].append(m), 10)
    node.create_subscription(Float64MultiArray, f'/{ns}/{COMMANDS}',
                             lambda m: seen['commands'].append(m), COMMAND_QOS)
    return seen


def call(node, executor, srv_type, name: str, request, proc):
    client = node.create_client(srv_type, name)
    wait_for(executor, client.service_is_ready, START_TIMEOUT, proc, f'service {name}')
    future = client.call_async(request)
    wait_for(executor, future.done, 60.0, proc, f'answer from {name}')
    return future.result()


def wait_for_state(node, executor, proc, name: str, state: str) -> None:
    """``robotrl up`` brings ``name`` to ``state`` after starting it (from unconfigured)."""
    client = node.create_client(GetState, f'{name}/get_state')
    wait_for(executor, client.service_is_ready, START_TIMEOUT, proc, f'service {name}/get_state')
    seen = []

    def reached():
        future = client.call_async(GetState.Request())
        end = time.monotonic() + 5.0
        while not future.done() and time.monotonic() < end:
            executor.spin_once(timeout_sec=0.05)
        if not future.done():   # lost while discovery matches client and server: ask again
            client.remove_pending_request(future)
            return False
        seen.append(future.result().current_state.label)
        return seen[-1] == state
    wait_for(executor, reached, START_TIMEOUT, proc, f'{name} {state}')
    node.destroy_client(client)


def check_parameters(node, executor, proc, ns: str, graph: str, expected_overrides: dict):
    """Every YAML parameter is declared by the running node and has the YAML/override value."""
    config = yaml.safe_load((ROOT / 'config' / f'{graph}.yaml').read_text())
    for key, section in config.items():
        name = key.removeprefix('/**/')
        wanted = {**section['ros__parameters'], **expected_overrides.get(name, {})}
        listed = call(node, executor, ListParameters, f'/{ns}/{name}/list_parameters',
                      ListParameters.Request(), proc)
        undeclared = set(wanted) - set(listed.result.names)
        assert not undeclared, f'{name} does not declare {sorted(undeclared)} ({graph}.yaml)'
        names = sorted(wanted)
        got = call(node, executor, GetParameters, f'/{ns}/{name}/get_parameters',
                   GetParameters.Request(names=names), proc)
        values = dict(zip(names, (parameter_value_to_python(v) for v in got.values),
                          strict=True))
        for param, value in wanted.items():
            actual = list(values[param]) if isinstance(value, list) else values[param]
            assert actual == value, f'{name}.{param} = {actual!r}, expected {value!r}'


def run_simulated_graph(probe, graph: str, ns: str, sets: list[str], overrides: dict) -> None:
    """Start a graph with a sim bridge, see it close the loop, check its parameters, Ctrl-C."""
    node, executor = probe
    seen = counters(node, ns)
    proc = start_up(graph, f'namespace:={ns}', *sets)
    wait_for(executor, lambda: len(seen['commands']) >= 5 and len(seen['joint_states']) >= 5,
             START_TIMEOUT, proc, 'joint_states and commands')
    # The policy node's status timer runs on its clock: with use_sim_time that is the sim
    # bridge's <ns>/clock, which only reaches it through the /clock -> clock remapping.
    wait_for(executor, lambda: len(seen['policy_status']) >= 2, 120.0, proc, 'policy status')
    assert list(seen['joint_states'][-1].name) == list(REACH_SPEC.joint_names)
    assert all(len(m.data) == 3 and np.all(np.isfinite(m.data)) for m in seen['commands'])
    check_parameters(node, executor, proc, ns, graph, overrides)
    # Active: robotrl up brought it there (the state may lag behind the first commands).
    wait_for_state(node, executor, proc, f'/{ns}/policy_node', 'active')
    code, out = stop(proc)
    assert code == 0, out[-3000:]


def test_sim_eval_graph_flows_and_stops_on_ctrl_c(probe, artifact):
    run_simulated_graph(probe, 'sim_eval', 'up_eval', [
        f'policy_path:={artifact}', 'seed:=4', 'dr_mass_scale:=[1.2, 1.2]', 'use_sim_time:=true'
    ], {'sim_bridge': {'seed': 4, 'dr_mass_scale': [1.2, 1.2], 'publish_clock': True},
        'policy_node': {'policy_path': str(artifact), 'use_sim_time': True}})


def test_two_robots_side_by_side_in_namespaces(probe, artifact):
    node, executor = probe
    seen = {ns: counters(node, ns) for ns in ('up_r1', 'up_r2')}
    procs = [start_up('sim_eval', f'policy_path:={artifact}', f'namespace:={ns}', f'seed:={i}')
             for i, ns in enumerate(seen)]
    try:
        for ns, proc in zip(seen, procs, strict=True):
            wait_for(executor, lambda ns=ns: len(seen[ns]['commands']) >= 5, START_TIMEOUT,
                     proc, f'commands in /{ns}')
            # Every topic the graph's nodes publish lives in their namespace (from the ROS
            # graph, so traffic of other processes on this host cannot make this flaky).
            for name in ('sim_bridge', 'policy_node'):
                # Discovery of node names can lag behind the first data on their topics.
                wait_for(executor, lambda name=name, ns=ns: (name, f'/{ns}') in
                         node.get_node_names_and_namespaces(), START_TIMEOUT, proc,
                         f'node /{ns}/{name} in the ROS graph')
                topics = {t for t, _ in node.get_publisher_names_and_types_by_node(name, f'/{ns}')}
                assert f'/{ns}/{COMMANDS}' in topics or f'/{ns}/joint_states' in topics
                outside = {t for t in topics if not t.startswith(f'/{ns}/')}
                # /diagnostics is absolute by contract (as diagnostic_updater publishes it).
                assert outside <= {'/rosout', '/parameter_events', '/clock', '/diagnostics'}, \
                    outside
    finally:
        results = [stop(proc) for proc in procs]
    for (code, out), ns in zip(results, seen, strict=True):
        if code != 0:   # pytest.fail: an assert message would be cut to a few lines
            pytest.fail(f'robotrl up in /{ns} exited {code}; its output:\n{out[-8000:]}')


def test_deploy_graph_commands_a_fake_robot_only_when_armed(probe, artifact, tmp_path):
    node, executor = probe
    ns = 'up_deploy'
    seen = counters(node, ns)
    state_pub = node.create_publisher(JointState, f'/{ns}/joint_states', SENSOR_QOS)
    goal_pub = node.create_publisher(type(goal_to_pose(np.zeros(3))), f'/{ns}/goal_pose',
                                     COMMAND_QOS)

    def robot_tick():  # a ros2_control robot: joint_state_broadcaster at 50 Hz
        state_pub.publish(make_joint_state(REACH_SPEC.joint_names, np.zeros(3), np.zeros(3),
                                           stamp=time.time()))
        goal_pub.publish(goal_to_pose(np.array([0.3, -0.2, 0.1])))

    node.create_timer(0.02, robot_tick)
    proc = start_up('deploy', f'policy_path:={artifact}', f'namespace:={ns}',
                    'state_timeout:=1')
    check_parameters(node, executor, proc, ns, 'deploy', {
        'policy_node': {'policy_path': str(artifact), 'armed': False, 'state_timeout': 1.0}})
    wait_for_state(node, executor, proc, f'/{ns}/policy_node', 'inactive')
    end = time.monotonic() + 2.0
    while time.monotonic() < end:
        executor.spin_once(timeout_sec=0.05)
    assert not seen['commands'], 'a disarmed deploy graph must not command the robot'
    code, out = stop(proc)
    assert code == 0, out[-3000:]

    limits = tmp_path / 'joint_limits.yaml'   # without the robot's limits it refuses to arm
    limits.write_text('joint_limits:\n' + ''.join(
        f'  {name}:\n    has_acceleration_limits: true\n    max_acceleration: 1.0\n'
        for name in REACH_SPEC.joint_names))
    proc = start_up('deploy', f'policy_path:={artifact}', f'namespace:={ns}', 'armed:=true',
                    f'joint_limits:={limits}')
    wait_for(executor, lambda: len(seen['commands']) >= 5, START_TIMEOUT, proc, 'commands')
    assert all(len(m.data) == 3 and np.all(np.isfinite(m.data)) for m in seen['commands'])
    # Active: robotrl up brought it there (the state may lag behind the first commands).
    wait_for_state(node, executor, proc, f'/{ns}/policy_node', 'active')
    code, out = stop(proc)
    assert code == 0, out[-3000:]


def test_train_sim_graph_flows_and_stops_on_ctrl_c(probe, tmp_path):
    # Commands only flow once the trainer's first artifact reached the policy node.
    run = tmp_path / 'run'
    run_simulated_graph(probe, 'train_sim', 'up_train', [
        f'output_dir:={run}', 'seed:=3', 'algo:=ppo', 'use_sim_time:=true'
    ], {'sim_bridge': {'seed': 3, 'publish_clock': True},
        'policy_node': {'use_sim_time': True, 'trusted_artifact_dirs': [str(run)]},
        'trainer_node': {'seed': 3, 'output_dir': str(run), 'algo': 'ppo'}})
    assert any(run.iterdir()), 'the trainer wrote nothing to output_dir'


def test_a_failing_node_makes_up_exit_non_zero(artifact):
    # The sim bridge rejects an unknown task and exits 2; the policy node must be stopped.
    proc = start_up('sim_eval', f'policy_path:={artifact}', 'namespace:=up_fail',
                    'task:=no_such_task')
    try:
        out, _ = proc.communicate(timeout=START_TIMEOUT)
    except subprocess.TimeoutExpired:
        code, out = stop(proc)
        pytest.fail(f'robotrl up kept running with a failed node:\n{out[-3000:]}')
    assert proc.returncode == 1, out[-3000:]
    assert 'sim_bridge exited with code 2' in out
    assert 'stopping the other nodes' in out


def test_a_failed_configure_ends_up_with_exit_1_naming_the_node(tmp_path):
    proc = start_up('deploy', f'policy_path:={tmp_path / "missing"}', 'namespace:=up_bad')
    try:
        out, _ = proc.communicate(timeout=START_TIMEOUT)
    except subprocess.TimeoutExpired:
        code, out = stop(proc)
        pytest.fail(f'robotrl up kept running after a failed configure:\n{out[-3000:]}')
    assert proc.returncode == 1, out[-3000:]
    assert ('robotrl up: error: /up_bad/policy_node: the configure transition failed '
            '(now unconfigured)') in out
    assert 'not a directory' in out            # the node's own log names the reason


def _ctrl_c_stress():
    spec = importlib.util.spec_from_file_location('ctrl_c_stress',
                                                  ROOT / 'benchmarks' / 'ctrl_c_stress.py')
    module = importlib.util.module_from_spec(spec)
    sys.modules['ctrl_c_stress'] = module   # its dataclass looks itself up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.timeout(900)
@pytest.mark.parametrize('index', range(4))
def test_train_sim_exits_0_on_a_signal_at_a_random_moment(tmp_path, index):
    """SIGINT/SIGTERM during start-up or training (benchmarks/ctrl_c_stress.py runs 20)."""
    stress = _ctrl_c_stress()
    sig, phase, delay = stress.moments(4, seed=18)[index]
    result = stress.trial(tmp_path / 'run', sig, phase, delay)
    assert result.exit_code == 0, result.output_tail
    if phase == 'running':
        assert result.trainer_started, result.output_tail
    if result.trainer_started:
        assert result.checkpoint, result.output_tail
