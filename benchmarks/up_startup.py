# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""How long ``robotrl up`` takes to bring each graph to life, and to stop it on Ctrl-C.

For each graph: start ``robotrl up <graph>`` (under a namespace), measure the seconds until the
first ``joint_states`` and the first command on ``forward_position_controller/commands`` (for
train_sim that includes the trainer publishing its first artifact; deploy gets a fake robot
publishing joint_states and a goal at 50 Hz), then send SIGINT and measure the seconds until
``robotrl up`` exits, and its exit code. Results go to benchmarks/results/up_startup.{json,md}.

Usage::

    .venv/bin/python benchmarks/up_startup.py [--repeats 3] [--graphs sim_eval,deploy,train_sim]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / 'benchmarks' / 'results'
TIMEOUT = 120.0


def measure(graph: str, sets: list[str], node, executor, fake_robot) -> dict:
    """One start/stop cycle of ``robotrl up``."""
    from sensor_msgs.msg import JointState
    from std_msgs.msg import Float64MultiArray

    from robotrl_ros.ros.qos import COMMAND_QOS, SENSOR_QOS

    ns = f'bench_{graph}_{time.monotonic_ns() % 100000}'
    first: dict[str, float] = {}
    start = time.monotonic()
    subs = [node.create_subscription(JointState, f'/{ns}/joint_states',
                                     lambda _m: first.setdefault('joint_states',
                                                                 time.monotonic() - start),
                                     SENSOR_QOS),
            node.create_subscription(Float64MultiArray,
                                     f'/{ns}/forward_position_controller/commands',
                                     lambda _m: first.setdefault('command',
                                                                 time.monotonic() - start),
                                     COMMAND_QOS)]
    robot = fake_robot(ns) if graph == 'deploy' else None
    args = [a for s in [f'namespace:={ns}', *sets] for a in ('--set', s)]
    proc = subprocess.Popen([sys.executable, '-m', 'robotrl_ros.graphs.up', graph, *args],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while 'command' not in first and time.monotonic() - start < TIMEOUT and proc.poll() is None:
        executor.spin_once(timeout_sec=0.02)
    stop_start = time.monotonic()
    proc.send_signal(signal.SIGINT)
    code = proc.wait(timeout=60)
    stopped = time.monotonic() - stop_start
    for sub in subs:
        node.destroy_subscription(sub)
    if robot is not None:
        node.destroy_timer(robot)
    return {'first_joint_states_s': first.get('joint_states'),
            'first_command_s': first.get('command'), 'stop_s': stopped, 'exit_code': code}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--graphs', default='sim_eval,deploy,train_sim')
    args = parser.parse_args()
    os.environ.setdefault('ROS_DOMAIN_ID', '57')
    os.environ.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')

    import rclpy
    import torch
    from geometry_msgs.msg import PoseStamped
    from sensor_msgs.msg import JointState

    from robotrl_ros.policy.export import export_artifact
    from robotrl_ros.ros.conversions import goal_to_pose, make_joint_state
    from robotrl_ros.ros.qos import COMMAND_QOS, SENSOR_QOS
    from robotrl_ros.tasks.reach import REACH_SPEC

    torch.manual_seed(0)
    tmp = Path(tempfile.mkdtemp(prefix='up_startup_'))
    artifact = export_artifact(torch.nn.Sequential(torch.nn.Linear(12, 3), torch.nn.Tanh()),
                               REACH_SPEC, tmp / 'policy', algorithm='ppo')
    sets = {'sim_eval': [f'policy_path:={artifact}'],
            'deploy': [f'policy_path:={artifact}', 'armed:=true'],
            'train_sim': [f'output_dir:={tmp / "train"}']}

    rclpy.init()
    node = rclpy.create_node('up_startup_bench')
    executor = rclpy.executors.SingleThreadedExecutor()
    executor.add_node(node)

    def fake_robot(ns: str):
        states = node.create_publisher(JointState, f'/{ns}/joint_states', SENSOR_QOS)
        goal = node.create_publisher(PoseStamped, f'/{ns}/goal_pose', COMMAND_QOS)
        pose = goal_to_pose(np.array([0.3, -0.2, 0.1]))

        def tick() -> None:
            states.publish(make_joint_state(REACH_SPEC.joint_names, np.zeros(3), np.zeros(3),
                                            stamp=time.time()))
            goal.publish(pose)
        return node.create_timer(0.02, tick)

    results = {}
    for graph in args.graphs.split(','):
        runs = [measure(graph, sets[graph], node, executor, fake_robot)
                for _ in range(args.repeats)]
        ok = [r for r in runs if r['first_command_s'] is not None]
        results[graph] = {
            'runs': runs,
            'median_first_command_s': statistics.median(r['first_command_s'] for r in ok)
            if ok else None,
            'median_stop_s': statistics.median(r['stop_s'] for r in runs),
            'exit_codes': [r['exit_code'] for r in runs]}
        print(graph, json.dumps({k: v for k, v in results[graph].items() if k != 'runs'}))
    executor.shutdown()
    node.destroy_node()
    rclpy.shutdown()

    meta = {'machine': platform.platform(), 'cpus': os.cpu_count(), 'repeats': args.repeats,
            'python': platform.python_version()}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / 'up_startup.json').write_text(json.dumps({'meta': meta, 'graphs': results},
                                                        indent=2))
    lines = ['# robotrl up: start-up and Ctrl-C times', '',
             f'{meta["machine"]}, {meta["cpus"]} CPUs, {args.repeats} runs each (medians).', '',
             '| graph | first command after start (s) | stop after SIGINT (s) | exit codes |',
             '|---|---|---|---|']
    for graph, r in results.items():
        first = r['median_first_command_s']
        lines.append(f'| {graph} | {"-" if first is None else f"{first:.1f}"} | '
                     f'{r["median_stop_s"]:.1f} | {r["exit_codes"]} |')
    (RESULTS / 'up_startup.md').write_text('\n'.join(lines) + '\n')


if __name__ == '__main__':
    main()
