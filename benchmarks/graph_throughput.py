# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Lockstep steps/s through the ROS graph (sim_bridge + a policy process) vs. in-process.

Two processes talk over DDS: ``sim_bridge`` in lockstep mode and a responder that answers every
``joint_states`` sample with one command: ``policy_node`` (a 64-unit MLP artifact, acting on
every message) or, with ``--responder stand_in``, a minimal rclpy process that only turns the
state into a proportional command (the floor of what any policy process costs). A third, idle
process reads the bridge's ``~/status`` once a second for the step count and the bridge's CPU
time. For scale, a simulator-free rclpy "null bridge" (same topics, types and QoS, answers each
command with a JointState) is run against the stand-in: the most two rclpy processes manage
here. The same task is also stepped in-process (``TaskEnv.step_command`` and Gymnasium
``step``) for the ratio. All paths run interleaved ``--repeats`` times (median and best).
Results: benchmarks/results/graph_throughput.{json,md}.

Usage::

    .venv/bin/python benchmarks/graph_throughput.py [--steps 5000] [--responder both]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from robotrl_ros.graphs.process import (  # noqa: E402
    last_json_line,
    node_command,
    run_to_completion,
)

RESULTS = ROOT / 'benchmarks' / 'results'
GOAL = [0.5, -0.5, 0.25]
TARGET = 2000.0


def in_process_rates(task: str, steps: int) -> dict[str, float]:
    """Steps/s of the task stepped in-process: raw ``step_command`` and Gymnasium ``step``."""
    from robotrl_ros.tasks.registry import make_env

    env = make_env(task, seed=0)
    command = np.zeros(env.task_spec.action_dim)
    start = time.perf_counter()
    for _ in range(steps):
        env.step_command(command)
    raw = steps / (time.perf_counter() - start)
    env.reset(seed=0)
    start = time.perf_counter()
    for _ in range(steps):
        _, _, terminated, truncated, _ = env.step(command)
        if terminated or truncated:
            env.reset()
    return {'step_command': raw, 'gym_step': steps / (time.perf_counter() - start)}


def run_stand_in() -> None:
    """Responder process: answer each joint_states sample with one command, until killed."""
    import rclpy
    from rclpy.executors import ExternalShutdownException
    from sensor_msgs.msg import JointState
    from std_msgs.msg import Float64MultiArray

    from robotrl_ros.ros.qos import COMMAND_QOS, SENSOR_QOS

    rclpy.init()
    node = rclpy.create_node('stand_in_policy')
    pub = node.create_publisher(Float64MultiArray, 'forward_position_controller/commands',
                                COMMAND_QOS)
    goal = np.array(GOAL)
    msg = Float64MultiArray()

    def on_state(state: JointState) -> None:
        position = np.frombuffer(state.position, dtype=np.float64)
        msg.data = np.clip(2.0 * (goal - position), -1.0, 1.0).tolist()
        pub.publish(msg)

    node.create_subscription(JointState, 'joint_states', on_state, SENSOR_QOS)
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass


def run_status_probe(steps: int) -> None:
    """Watch sim_bridge/status until ``steps`` steps happened; print rate and bridge CPU/step."""
    import rclpy
    from std_msgs.msg import String

    rclpy.init()
    node = rclpy.create_node('throughput_probe')
    samples: list[tuple[float, dict]] = []
    node.create_subscription(String, 'sim_bridge/status', lambda m: samples.append(
        (time.perf_counter(), json.loads(m.data))), 10)

    def running() -> list[tuple[float, dict]]:
        return [s for s in samples if s[1]['steps'] > 0]

    # The first running sample is partial (startup); measure from the second one on.
    deadline = time.monotonic() + 300.0
    while len(running()) < 2 or running()[-1][1]['steps'] - running()[1][1]['steps'] < steps:
        if time.monotonic() > deadline:
            raise SystemExit(f'no {steps} lockstep steps within 300 s; last status: '
                             f'{samples[-1][1] if samples else None}')
        rclpy.spin_once(node, timeout_sec=1.0)
    (t0, a), (t1, b) = running()[1], running()[-1]
    n = b['steps'] - a['steps']
    print(json.dumps({'steps_per_s': n / (t1 - t0), 'steps': n,
                      'bridge_cpu_us_per_step': 1e6 * (b['cpu_s'] - a['cpu_s']) / n}),
          flush=True)


def run_null_bridge(steps: int) -> None:
    """A bridge without a simulator: answer each command with a JointState (rclpy floor).

    Same topics, message types and QoS as sim_bridge's lockstep loop; prints its rate and CPU.
    """
    import rclpy
    from sensor_msgs.msg import JointState
    from std_msgs.msg import Float64MultiArray

    from robotrl_ros.ros.qos import COMMAND_QOS, SENSOR_QOS

    rclpy.init()
    node = rclpy.create_node('null_bridge')
    pub = node.create_publisher(JointState, 'joint_states', SENSOR_QOS)
    state = JointState(name=['x', 'y', 'z'], position=[0.0] * 3, velocity=[0.0] * 3)
    seen = {'n': 0, 't0': 0.0, 'cpu0': 0.0, 'last': time.monotonic()}

    def publish() -> None:
        state.header.stamp.nanosec = seen['n'] % 1_000_000_000
        pub.publish(state)
        seen['last'] = time.monotonic()

    def on_command(msg: Float64MultiArray) -> None:
        seen['n'] += 1
        if seen['n'] == 100:
            seen['t0'], seen['cpu0'] = time.perf_counter(), time.process_time()
        publish()

    node.create_subscription(Float64MultiArray, 'forward_position_controller/commands',
                             on_command, COMMAND_QOS)
    node.create_timer(0.05, lambda: publish() if time.monotonic() - seen['last'] > 0.05
                      else None)
    while seen['n'] < steps + 100:
        rclpy.spin_once(node, timeout_sec=1.0)
    wall, cpu = time.perf_counter() - seen['t0'], time.process_time() - seen['cpu0']
    print(json.dumps({'steps_per_s': steps / wall, 'bridge_cpu_us_per_step': 1e6 * cpu / steps}),
          flush=True)


def _graph_env(domain_id: int) -> dict[str, str]:
    return dict(os.environ, ROS_AUTOMATIC_DISCOVERY_RANGE='LOCALHOST', OMP_NUM_THREADS='1',
                ROS_DOMAIN_ID=str(domain_id))


def _measure(commands: dict[str, list[str]], client: list[str], domain_id: int,
             label: str) -> dict[str, float]:
    """Run ``commands`` plus the measuring ``client`` until it exits; its JSON line."""
    output = run_to_completion({**commands, 'client': client}, 'client', 900.0,
                               env=_graph_env(domain_id), label=label)
    return last_json_line(output)


def rclpy_floor(steps: int, domain_id: int) -> dict[str, float]:
    """Round trips/s of the null bridge + stand-in: what two rclpy processes manage here."""
    return _measure({'stand_in': _responder('stand_in', 'reach', Path('.'))},
                    [sys.executable, __file__, '--as-null-bridge', '--steps', str(steps)],
                    domain_id, 'rclpy floor')


def _responder(kind: str, task: str, workdir: Path) -> list[str]:
    """Command line of the process answering joint_states: the stand-in or policy_node."""
    if kind == 'stand_in':
        return [sys.executable, __file__, '--as-stand-in']
    import torch

    from robotrl_ros.policy.export import export_artifact
    from robotrl_ros.tasks.registry import make_task

    spec = make_task(task).spec
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(spec.obs_dim, 64), torch.nn.Tanh(),
                              torch.nn.Linear(64, spec.action_dim), torch.nn.Tanh())
    artifact = export_artifact(net, spec, workdir / 'policy', algorithm='benchmark',
                               provenance={'note': 'graph_throughput'})
    return node_command('policy_node', parameters={
        'policy_path': str(artifact), 'control_mode': 'on_message', 'armed': True,
        'trust_artifact_limits': True,
        'state_timeout': 5.0, 'executor': os.environ.get('ROBOTRL_POLICY_EXECUTOR', 'events')},
        log_level='warn')


def graph_rate(task: str, steps: int, responder: str, domain_id: int) -> dict[str, float]:
    """sim_bridge (lockstep) + responder as two processes; rate and CPU from ``~/status``."""
    bridge = node_command('sim_bridge', parameters={
        'task': task, 'lockstep': True, 'lockstep_republish_period': 0.05, 'goal': GOAL,
        'status_period': 1.0}, log_level='warn')
    with tempfile.TemporaryDirectory() as tmp:
        return _measure({'sim_bridge': bridge, responder: _responder(responder, task, Path(tmp))},
                        [sys.executable, __file__, '--as-status-probe', '--steps', str(steps)],
                        domain_id, f'graph rate ({responder})')


def _summary(runs: list[dict[str, float]]) -> dict[str, float | list[float]]:
    rates = sorted(r['steps_per_s'] for r in runs)
    return {'steps_per_s': float(np.median(rates)), 'best_steps_per_s': rates[-1],
            'runs_steps_per_s': [round(r, 1) for r in rates],
            'bridge_cpu_us_per_step': float(np.median([r['bridge_cpu_us_per_step']
                                                       for r in runs]))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--task', default='reach')
    parser.add_argument('--steps', type=int, default=5000)
    parser.add_argument('--responder', choices=('both', 'stand_in', 'policy_node'),
                        default='both')
    parser.add_argument('--repeats', type=int, default=3,
                        help='runs per responder; the median and best are reported')
    parser.add_argument('--domain-id', type=int, default=200 + os.getpid() % 30,
                        help='ROS_DOMAIN_ID of the measured graph (keep it apart from tests)')
    parser.add_argument('--policy-executor', choices=('events', 'single_threaded'),
                        default='events', help="policy_node's executor parameter")
    parser.add_argument('--out', default=str(RESULTS / 'graph_throughput'),
                        help='results path without suffix (.json and .md are written)')
    parser.add_argument('--as-stand-in', action='store_true', help=argparse.SUPPRESS)
    parser.add_argument('--as-status-probe', action='store_true', help=argparse.SUPPRESS)
    parser.add_argument('--as-null-bridge', action='store_true', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.as_stand_in:
        run_stand_in()
        return
    if args.as_status_probe:
        run_status_probe(args.steps)
        return
    if args.as_null_bridge:
        run_null_bridge(args.steps)
        return
    # SIGTERM (e.g. from `timeout`) unwinds like Ctrl-C, so the node processes are stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    os.environ['ROBOTRL_POLICY_EXECUTOR'] = args.policy_executor
    kinds = ('policy_node', 'stand_in') if args.responder == 'both' else (args.responder,)
    load_before = os.getloadavg()[0]
    local = in_process_rates(args.task, 20_000)
    runs: dict[str, list[dict[str, float]]] = {kind: [] for kind in kinds}
    for _ in range(args.repeats):  # interleaved, so both see the same machine load
        for kind in kinds:
            runs[kind].append(graph_rate(args.task, args.steps, kind, args.domain_id))
        runs.setdefault('rclpy_floor', []).append(rclpy_floor(args.steps, args.domain_id))
    graphs = {kind: _summary(r) for kind, r in runs.items()}
    result = {
        'task': args.task,
        'steps_measured': args.steps,
        'repeats': args.repeats,
        'policy_executor': args.policy_executor,
        'in_process_step_command_per_s': local['step_command'],
        'in_process_gym_step_per_s': local['gym_step'],
        'graph': {kind: {**g, 'ratio_vs_gym_step': g['steps_per_s'] / local['gym_step'],
                         'meets_target_median': g['steps_per_s'] >= TARGET}
                  for kind, g in graphs.items()},
        'target_steps_per_s': TARGET,
        'machine': f'{platform.machine()}, {os.cpu_count()} cores shared with other jobs, '
                   f'load average {load_before:.1f} before / {os.getloadavg()[0]:.1f} after',
        'date': time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime()),
    }
    write_results(result, Path(args.out))


def write_results(result: dict, out: Path) -> None:
    """Print and save ``<out>.json`` and ``<out>.md``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix('.json').write_text(json.dumps(result, indent=2) + '\n')
    md = ['# Graph throughput (lockstep)', '',
          f'Task `{result["task"]}`; policy_node executor '
          f'`{result.get("policy_executor", "single_threaded")}`; {result["machine"]}; '
          f'{result["date"]}.', '',
          '| path | steps/s (median) | best | ratio vs in-process `env.step` '
          '| sim_bridge CPU µs/step |',
          '|---|---|---|---|---|']
    for kind, g in result['graph'].items():
        label = (f'sim_bridge + {kind} (2 processes, DDS)' if kind != 'rclpy_floor' else
                 'floor: simulator-free rclpy echo + stand_in (2 processes, same topics/QoS)')
        md.append(f'| {label} | {g["steps_per_s"]:.0f} | '
                  f'{g["best_steps_per_s"]:.0f} | {g["ratio_vs_gym_step"]:.3f} | '
                  f'{g["bridge_cpu_us_per_step"]:.0f} |')
    md += [f'| in-process `env.step` (Gymnasium) | {result["in_process_gym_step_per_s"]:.0f} '
           '| | 1 | |',
           f'| in-process `env.step_command` | {result["in_process_step_command_per_s"]:.0f} '
           '| | | |', '',
           f'{result["repeats"]} interleaved runs of {result["steps_measured"]} steps per '
           'path; all runs (steps/s): ' + '; '.join(
               f'{k}: {g["runs_steps_per_s"]}' for k, g in result['graph'].items()) + '.', '',
           f'Target: >= {result["target_steps_per_s"]:.0f} steps/s through the graph. '
           + ' '.join(f'{k}: median {"meets" if g["meets_target_median"] else "misses"} it, '
                      f'best {"meets" if g["best_steps_per_s"] >= TARGET else "misses"} it.'
                      for k, g in result['graph'].items() if k != 'rclpy_floor'), '']
    out.with_suffix('.md').write_text('\n'.join(md))
    print('\n'.join(md))


if __name__ == '__main__':
    main()
