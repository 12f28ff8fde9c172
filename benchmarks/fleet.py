# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Fleet learning on this machine: 1, 2 and 4 simulated robots feeding one SAC trainer.

1. Scaling: the ``fleet_sim`` graph (:class:`~robotrl_ros.graphs.fleet_run.FleetRun`) with n
   robots on ``reach`` until a published policy reaches the target success on 50 fixed episodes
   (:class:`ArtifactWatcher`, as ``make run``) or the budget is spent: wall-clock to the target
   (publish time of that policy), transitions/s the trainer accepted from all robots, and the
   trainer's CPU seconds per transition (``/proc/<pid>/stat``).
2. Saturation: one trainer (SAC, ``robot_namespaces`` of ``--synthetic-robots`` entries) fed by a
   synthetic publisher process that sends well-formed states and commands, round-robin over the
   namespaces, at a fixed offered rate (transitions/s), for several rates: transitions/s the
   trainer absorbs (paired and accepted) with learning off (``learning_starts`` beyond the run:
   the stream side only) and on (SAC: one gradient step per transition, in the same process),
   the learner's updates/s, and the trainer's CPU per transition.

    .venv/bin/python benchmarks/fleet.py [--robots 1 2 4] [--budget-s 300] [--saturation-s 20]

Writes benchmarks/results/fleet.json and .md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._results import write_results  # noqa: E402
from robotrl_ros.graphs.artifact_watcher import ArtifactWatcher  # noqa: E402
from robotrl_ros.graphs.fleet_run import FleetRun  # noqa: E402
from robotrl_ros.graphs.process import ProcessGroup, node_command  # noqa: E402
from robotrl_ros.graphs.train_run import GraphConfig, random_domain  # noqa: E402

RESULTS = ROOT / 'benchmarks' / 'results'
TASK = 'reach'
TICK_S = os.sysconf('SC_CLK_TCK')


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of process ``pid`` (None once it is gone)."""
    try:
        fields = Path(f'/proc/{pid}/stat').read_text().rsplit(')', 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICK_S


def load() -> list[float]:
    """1/5/15-minute load averages (the machine is shared: report the contention)."""
    return [round(v, 2) for v in os.getloadavg()]


# --- 1. scaling with simulated robots ------------------------------------------------------
def scaling_run(n_robots: int, budget_s: float, target: float, work: Path) -> dict[str, Any]:
    """One fleet_sim run with ``n_robots`` robots until ``target`` success or ``budget_s``."""
    out = work / f'fleet_{n_robots}'
    shutil.rmtree(out, ignore_errors=True)
    cfg = GraphConfig(task=TASK, algo='sac', output_dir=str(out), total_steps=1_000_000,
                      timeout_s=budget_s, publish_period=3.0, domain_id=random_domain())
    watcher = ArtifactWatcher(out, TASK, target, period=5.0, episodes=50)
    fleet = FleetRun(cfg, n_robots)
    cpu = {'s': 0.0}

    def sample(run: FleetRun) -> None:
        used = cpu_seconds(run.trainer.procs['trainer_node'].pid)
        if used is not None:
            cpu['s'] = used

    before = load()
    result = fleet.run(events=sample, should_stop=watcher)
    summary = result.summary
    accepted = summary.get('accepted', 0)
    reached = watcher.reached
    return {
        'robots': n_robots, 'reached': reached is not None,
        'time_to_target_s': reached['published_s'] if reached else None,
        'transitions_at_target': reached['transitions'] if reached else None,
        'wall_s': round(result.wall_time_s, 1), 'accepted': accepted,
        'transitions_per_s': round(accepted / result.wall_time_s, 1),
        'updates': summary.get('updates'),
        'trainer_cpu_ms_per_transition': round(1e3 * cpu['s'] / accepted, 3) if accepted else None,
        'per_robot_accepted': {ns: s['accepted'] for ns, s in summary.get('sources', {}).items()},
        'best_success': (watcher.best() or {}).get('success'), 'load_before': before,
        'load_after': load()}


# --- 2. saturation with a synthetic publisher -----------------------------------------------
def run_publisher(namespaces: list[str], seconds: float, rate: float) -> None:
    """Publish well-formed reach states and commands for every namespace at ``rate`` per s.

    Waits until the trainer subscribes, then runs ``seconds``; prints what it sent as JSON.
    """
    import rclpy
    from geometry_msgs.msg import PoseStamped
    from sensor_msgs.msg import JointState
    from std_msgs.msg import Float64MultiArray

    from robotrl_ros.ros.qos import COMMAND_QOS, SENSOR_QOS
    from robotrl_ros.tasks.registry import make_task

    spec = make_task(TASK).spec
    rclpy.init()
    node = rclpy.create_node('synthetic_fleet')
    pubs = [(node.create_publisher(JointState, f'{ns}/joint_states', SENSOR_QOS),
             node.create_publisher(Float64MultiArray,
                                   f'{ns}/forward_position_controller/commands', COMMAND_QOS),
             node.create_publisher(PoseStamped, f'{ns}/goal_pose', COMMAND_QOS))
            for ns in namespaces]
    deadline = time.monotonic() + 120.0
    while any(p[0].get_subscription_count() == 0 or p[1].get_subscription_count() == 0
              for p in pubs):
        if time.monotonic() > deadline:
            raise SystemExit('the trainer did not subscribe within 120 s')
        rclpy.spin_once(node, timeout_sec=0.1)
    goal = PoseStamped()
    goal.pose.position.x, goal.pose.position.y = 0.3, -0.2
    for _, _, goal_pub in pubs:
        goal_pub.publish(goal)
    time.sleep(1.0)   # the goal arrives before the first state
    rng = np.random.default_rng(0)
    state = JointState(name=list(spec.joint_names), position=[0.0] * 3, velocity=[0.0] * 3)
    command = Float64MultiArray()
    sent, step, started = 0, 0, time.monotonic()
    while time.monotonic() - started < seconds:
        ahead = sent / rate - (time.monotonic() - started)
        if ahead > 0:
            time.sleep(ahead)
        step += 1
        stamp = step * spec.control_period
        state.header.stamp.sec = int(stamp)
        state.header.stamp.nanosec = int(round((stamp - int(stamp)) * 1e9))
        command.data = spec.action_to_command(rng.uniform(-1, 1, 3)).tolist()
        for states, commands, _ in pubs:
            state.position = rng.uniform(-0.5, 0.5, 3).tolist()
            states.publish(state)
            commands.publish(command)
            sent += 1
    print(json.dumps({'states_sent': sent, 'seconds': time.monotonic() - started}), flush=True)
    node.destroy_node()
    rclpy.shutdown()


def saturation_run(robots: int, seconds: float, rate: float, learning: bool,
                   work: Path) -> dict[str, Any]:
    """Trainer + synthetic publisher offering ``rate`` transitions/s for ``seconds``."""
    out = work / f'saturation_{robots}_{rate:g}_{"learn" if learning else "ingest"}'
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    hparams = out / 'hparams.yaml'
    hparams.write_text('agent:\n  learning_starts: ' + ('1000' if learning else '100000000')
                       + '\n')
    namespaces = [f'robot{i}' for i in range(1, robots + 1)]
    trainer = node_command('trainer_node', parameters={
        'task': TASK, 'algo': 'sac', 'output_dir': str(out), 'config': str(hparams),
        'reset_service': '', 'publish_period': 1e6, 'robot_namespaces': namespaces,
        'source_timeout': 0.0})
    publisher = [sys.executable, str(Path(__file__).resolve()), '--publisher', *namespaces,
                 '--saturation-s', str(seconds), '--rate', str(rate)]
    env = dict(os.environ, ROS_DOMAIN_ID=str(random_domain()), OMP_NUM_THREADS='1',
               ROS_AUTOMATIC_DISCOVERY_RANGE='LOCALHOST', PYTHONUNBUFFERED='1')
    group = ProcessGroup({'trainer_node': trainer, 'publisher': publisher}, env=env,
                         log_dir=out / 'logs', label='saturation', await_stop_handlers=True)
    cpu_start = None
    with group:
        pid = group.procs['trainer_node'].pid
        while group.procs['publisher'].poll() is None:
            log = group.log_path('publisher')
            if cpu_start is None and log.exists() and 'sent' not in log.read_text():
                cpu_start = cpu_seconds(pid)   # the trainer's start-up is not counted
            time.sleep(0.5)
        cpu_used = (cpu_seconds(pid) or 0.0) - (cpu_start or 0.0)
    sent = json.loads(group.log_path('publisher').read_text().strip().splitlines()[-1])
    summary = json.loads((out / 'summary.json').read_text())
    accepted = summary['accepted']
    return {'robots': robots, 'learning': learning, 'seconds': round(sent['seconds'], 1),
            'offered_per_s': round(sent['states_sent'] / sent['seconds'], 1),
            'accepted_per_s': round(accepted / sent['seconds'], 1),
            'updates_per_s': round(summary['updates'] / sent['seconds'], 1),
            'updates': summary['updates'],
            'trainer_cpu_ms_per_transition': round(1e3 * cpu_used / accepted, 3)
            if accepted else None,
            'drops': {k: v for k, v in summary['pairing'].items() if k != 'paired'}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--robots', type=int, nargs='+', default=[1, 2, 4])
    parser.add_argument('--budget-s', type=float, default=300.0)
    parser.add_argument('--target', type=float, default=0.95)
    parser.add_argument('--saturation-s', type=float, default=8.0)
    parser.add_argument('--rates', type=float, nargs='+', default=[500, 1000, 2000, 4000],
                        help='offered transitions/s of the synthetic publisher')
    parser.add_argument('--rate', type=float, default=1000.0, help=argparse.SUPPRESS)
    parser.add_argument('--synthetic-robots', type=int, default=4)
    parser.add_argument('--skip-scaling', action='store_true')
    parser.add_argument('--report-only', action='store_true',
                        help='rewrite fleet.md from fleet.json (no runs)')
    parser.add_argument('--publisher', nargs='+', metavar='NS', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.publisher:
        run_publisher(args.publisher, args.saturation_s, args.rate)
        return
    if args.report_only:
        record = json.loads((RESULTS / 'fleet.json').read_text())
        write_results(RESULTS / 'fleet', record, report(record))
        return
    work = Path(tempfile.mkdtemp(prefix='fleet_bench_'))
    record: dict[str, Any] = {'machine': f'{platform.machine()}, {os.cpu_count()} CPUs',
                              'task': TASK, 'algo': 'sac', 'target': args.target,
                              'date': time.strftime('%Y-%m-%d'), 'scaling': [],
                              'saturation': []}
    if not args.skip_scaling:
        for n in args.robots:
            record['scaling'].append(scaling_run(n, args.budget_s, args.target, work))
            print(json.dumps(record['scaling'][-1]), flush=True)
    for learning in (False, True):
        for rate in args.rates:
            record['saturation'].append(saturation_run(args.synthetic_robots, args.saturation_s,
                                                       rate, learning, work))
            print(json.dumps(record['saturation'][-1]), flush=True)
    shutil.rmtree(work, ignore_errors=True)
    write_results(RESULTS / 'fleet', record, report(record))


def report(record: dict[str, Any]) -> list[str]:
    """The markdown table of a run."""
    loads = [r['load_before'][0] for r in record['scaling']]
    lines = [f'# Fleet learning: SAC on {record["task"]}, n simulated robots, one trainer',
             '', f'{record["machine"]}, {record["date"]}; every process shares the 2 cores; '
             f'1-min load average {min(loads, default=0)}..{max(loads, default=0)} during the '
             'scaling runs (other work on the machine; per run in fleet.json).', '',
             f'| robots | time to {record["target"]:.0%} (s) | transitions at target | '
             'transitions/s | trainer CPU ms / transition | per robot |',
             '|---|---|---|---|---|---|']
    for r in record['scaling']:
        lines.append(f'| {r["robots"]} | {r["time_to_target_s"] or "not reached"} | '
                     f'{r["transitions_at_target"]} | {r["transitions_per_s"]} | '
                     f'{r["trainer_cpu_ms_per_transition"]} | {r["per_robot_accepted"]} |')
    lines += ['', '## One trainer at saturation (synthetic publisher)', '',
              '| robots | learning | offered/s | accepted/s | learner updates/s | trainer CPU ms '
              '/ transition |', '|---|---|---|---|---|---|']
    for r in record['saturation']:
        lines.append(f'| {r["robots"]} | {"on" if r["learning"] else "off"} | '
                     f'{r["offered_per_s"]} | {r["accepted_per_s"]} | {r["updates_per_s"]} | '
                     f'{r["trainer_cpu_ms_per_transition"]} |')
    lines += ['', '## Reading', '', *(f'{note}\n' for note in record.get('notes', []))]
    return lines


if __name__ == '__main__':
    main()
