# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""SIGKILL the trainer at random moments of a recording graph run; recover and resume each time.

Each run starts the train_sim graph (sim_bridge lockstep, policy_node exploring, trainer_node
with ``record_mcap`` and the default ``mcap_flush_period`` of 1 s) on one ``output_dir`` for
all runs, waits until the trainer has started, lets it run a seeded random 3-40 s (checkpoints
are written every 30 s, so some kills follow one), then SIGKILLs ``trainer_node`` and stops the
other nodes. A probe node in this process sees every command the policy node publishes
(reliable, like the trainer's subscription) with its source timestamp, which is the log time
the trainer records it with, and the trainer's ``~/status``. Per run, checked:

- ``robotrl mcap-recover``'s function turns the cut recording into a file that the ``mcap``
  library's reader opens, holding messages ``0..n-1`` (sequence numbers: a prefix, in order);
- no command published more than one flush period plus one second before the kill is missing
  after the recovered part's end (``missing_after_end_with_slack``: written, or due to be
  written, but not on disk). The probe knows when a command was published, not when the trainer
  wrote it: delivery, the trainer's reorder buffer and a loaded machine's scheduling come
  between, hence the second of slack; the count with no slack (``missing_after_end``) is
  reported too. Commands missing *inside* the recovered part (``lost_before_recording``) never
  reached the recorder (the trainer's subscription queue overflowed on a loaded machine): they
  are counted, not a durability failure;
- the next run's trainer resumes from the newest readable checkpoint plus the fsynced
  transition log: its first status counts at least the transitions it reported stored before
  the kill.

Usage::

    .venv/bin/python benchmarks/sigkill_recording.py [--runs 20] [--seed 0]

Writes benchmarks/results/sigkill_recording.{md,json}.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import signal
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / 'benchmarks'))
from _results import write_results  # noqa: E402

from robotrl_ros.graphs.process import ProcessGroup  # noqa: E402
from robotrl_ros.graphs.train_run import GraphConfig, graph_commands, random_domain  # noqa: E402

RESULTS = ROOT / 'benchmarks' / 'results' / 'sigkill_recording'
FLUSH_PERIOD_S = 1.0
SLACK_S = 1.0
HANG_S = 600.0
STARTED = re.compile(r'trainer_node: \w+ on \w+, output_dir .*resumed (\S+), replayed')
COMMANDS = '/forward_position_controller/commands'


class Probe:
    """Commands (source timestamps) and trainer status seen on the graph's domain."""

    def __init__(self) -> None:
        import rclpy
        from rclpy.qos import HistoryPolicy, QoSProfile
        from std_msgs.msg import Float64MultiArray, String

        from robotrl_ros.ros.qos import COMMAND_QOS

        self.context = rclpy.Context()
        rclpy.init(context=self.context)
        self.node = rclpy.create_node('sigkill_probe', context=self.context)
        self.executor = rclpy.executors.SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self.commands: list[int] = []
        self.status: list[dict] = []
        # A deep queue: the probe must see every command even when it spins late.
        queue = QoSProfile(depth=10_000, history=HistoryPolicy.KEEP_LAST,
                           reliability=COMMAND_QOS.reliability)
        self.node.create_subscription(Float64MultiArray, COMMANDS, self._on_command, queue)
        self.node.create_subscription(String, '/trainer_node/status',
                                      lambda m: self.status.append(json.loads(m.data)), 10)

    def _on_command(self, _msg: object, info: dict[str, int]) -> None:
        self.commands.append(int(info['source_timestamp']))

    def spin_for(self, seconds: float) -> None:
        """Take messages for ``seconds``."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.executor.spin_once(timeout_sec=0.02)

    def close(self) -> None:
        """Destroy the probe node and its context."""
        self.executor.shutdown()
        self.node.destroy_node()
        import rclpy
        rclpy.shutdown(context=self.context)


def read_recording(path: Path) -> tuple[list[int], list[int], list[int]]:
    """Sequences and log times of every message, log times of the commands (mcap's reader)."""
    from mcap.reader import make_reader

    sequences, commands, log_times = [], [], []
    with open(path, 'rb') as handle:
        for _schema, channel, message in make_reader(handle).iter_messages(log_time_order=False):
            sequences.append(message.sequence)
            log_times.append(message.log_time)
            if channel.topic == COMMANDS:
                commands.append(message.log_time)
    return sequences, commands, log_times


def one_run(index: int, run_dir: Path, logs: Path, env: dict[str, str], probe: Probe,
            kill_after_s: float) -> dict:
    """Start the graph, SIGKILL the trainer after ``kill_after_s``, check the recording."""
    from robotrl_ros.training.online.mcap_recovery import recover_mcap
    from robotrl_ros.training.online.store import load_checkpoint

    cfg = GraphConfig(output_dir=str(run_dir), total_steps=10_000_000, record_mcap=True,
                      publish_period=2.0)
    logs.mkdir(parents=True, exist_ok=True)
    commands = graph_commands(cfg, logs)
    commands['trainer_node'] += ['-p', 'status_period:=0.2',
                                 '-p', f'mcap_flush_period:={FLUSH_PERIOD_S}']
    checkpoint = load_checkpoint(run_dir) if run_dir.is_dir() else None
    before = set(run_dir.glob('recording_*.mcap')) if run_dir.is_dir() else set()
    probe.commands.clear()
    probe.status.clear()
    run_logs = logs / f'run_{index}'
    group = ProcessGroup(commands, env=env, log_dir=run_logs, label='sigkill',
                         stop_timeouts=(30.0, 10.0, 5.0), await_stop_handlers=True)
    resumed = None
    with group:
        deadline = time.monotonic() + HANG_S
        while resumed is None:
            probe.spin_for(0.1)
            match = STARTED.search(group.log_path('trainer_node').read_text())
            if match:
                resumed = match
            if group.run_until(lambda: True) is not None or time.monotonic() > deadline:
                raise RuntimeError('the graph did not start: '
                                   + group.log_path('trainer_node').read_text()[-2000:])
        probe.spin_for(kill_after_s)
        stored_before = max((s['transitions_stored'] for s in probe.status), default=0)
        first_status = probe.status[0] if probe.status else {}
        kill_ns = time.time_ns()
        os.kill(group.procs['trainer_node'].pid, signal.SIGKILL)
        group.procs['trainer_node'].wait()
    probe.spin_for(0.5)
    new = sorted(set(run_dir.glob('recording_*.mcap')) - before)
    if len(new) != 1:
        raise RuntimeError(f'expected one new recording, found {new}')
    recovered = recover_mcap(new[0], logs / f'run_{index}.recovered.mcap')
    sequences, recorded, log_times = read_recording(recovered.path)
    first = min(recorded, default=None)
    end = max(log_times, default=None)
    published = [t for t in probe.commands if first is None or t >= first]
    kept = set(recorded)
    lost = [t for t in published if end is not None and t <= end and t not in kept]
    missing = [t for t in published if t < kill_ns - FLUSH_PERIOD_S * 1e9 and t not in kept
               and (end is None or t > end)]
    missing_slack = [t for t in missing if t < kill_ns - (FLUSH_PERIOD_S + SLACK_S) * 1e9]
    return {
        'run': index + 1, 'kill_after_s': round(kill_after_s, 2),
        'checkpoint_transitions_at_start': (None if checkpoint is None
                                            else int(checkpoint['counters']['transitions'])),
        'resumed_first_status_transitions': first_status.get('transitions'),
        'replayed_from_log_at_start': first_status.get('resumed_transitions'),
        'stored_before_kill': stored_before,
        'recording': new[0].name, 'recovered_messages': recovered.messages,
        'recovered_complete': recovered.complete,
        'sequences_are_prefix': sequences == list(range(len(sequences))),
        'commands_seen': len(published), 'commands_recorded': len(recorded),
        'lost_before_recording': len(lost), 'missing_after_end': len(missing),
        'missing_after_end_with_slack': len(missing_slack),
        'trainer_exit': group.procs['trainer_node'].returncode,
        'others_exit': {n: p.returncode for n, p in group.procs.items() if n != 'trainer_node'},
    }


def main(argv: list[str] | None = None) -> int:
    """Run the kills, write the results; exit 1 unless every check held."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--runs', type=int, default=20, help='kills (default 20)')
    parser.add_argument('--seed', type=int, default=0, help='seed of the kill moments')
    parser.add_argument('--out', default=str(RESULTS), help='results path without suffix')
    args = parser.parse_args(argv)
    domain = random_domain()
    os.environ.update(ROS_DOMAIN_ID=str(domain), ROS_AUTOMATIC_DISCOVERY_RANGE='LOCALHOST')
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONUNBUFFERED='1')
    rng = np.random.default_rng(args.seed)
    start = time.time()
    runs: list[dict] = []
    probe = Probe()
    try:
        with tempfile.TemporaryDirectory(prefix='sigkill_recording_') as tmp:
            run_dir, logs = Path(tmp) / 'run', Path(tmp) / 'logs'
            for i in range(args.runs):
                runs.append(one_run(i, run_dir, logs, env, probe,
                                    float(rng.uniform(3.0, 40.0))))
                print(json.dumps(runs[-1]), flush=True)
    finally:
        probe.close()
    # A run resumed everything stored before the previous kill.
    for prev, run in zip(runs, runs[1:], strict=False):
        run['resumed_all_stored'] = (run['resumed_first_status_transitions'] is not None
                                     and run['resumed_first_status_transitions']
                                     >= prev['stored_before_kill'])
    for run in runs:
        run['passed'] = (run['sequences_are_prefix'] and run['missing_after_end_with_slack'] == 0
                         and run.get('resumed_all_stored', True))
    passed = sum(r['passed'] for r in runs)
    load = os.getloadavg()
    record = {'date': time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(start)),
              'host': platform.node(), 'cpus': os.cpu_count(),
              'load_average_at_end': [round(x, 2) for x in load], 'seed': args.seed,
              'flush_period_s': FLUSH_PERIOD_S, 'runs': len(runs), 'passed': passed,
              'wall_s': round(time.time() - start, 1), 'results': runs}
    lines = [
        '# SIGKILL of a recording trainer_node at random moments',
        '',
        f'{record["date"]}, {record["cpus"]} CPUs, load average at the end '
        f'{", ".join(f"{x:.2f}" for x in load)} (a shared machine), seed {args.seed}, '
        f'`benchmarks/sigkill_recording.py --runs {args.runs}`, mcap_flush_period '
        f'{FLUSH_PERIOD_S:g} s.',
        '',
        f'**{passed} of {len(runs)} runs passed**: the recovered MCAP opens with the mcap '
        'reader and holds a prefix (sequences 0..n-1); no command published more than one '
        f'flush period + {SLACK_S:g} s before the kill is missing after its end (the probe '
        'sees publish times, not write times); the next run resumed at least every transition '
        'stored before the kill (newest readable checkpoint + transition log). Commands lost '
        'before the recorder (inside the recovered range) are counted apart.',
        '',
        '| run | kill after s | recovered msgs | commands seen / recorded | lost before the '
        'recorder | missing after the end (> 1 period) | (> period + 1 s) | checkpoint at start '
        '| resumed (first status) | stored before kill | passed |',
        '|---|---|---|---|---|---|---|---|---|---|---|',
    ]
    lines += [f'| {r["run"]} | {r["kill_after_s"]:.1f} | {r["recovered_messages"]} | '
              f'{r["commands_seen"]} / {r["commands_recorded"]} | {r["lost_before_recording"]} | '
              f'{r["missing_after_end"]} | {r["missing_after_end_with_slack"]} | '
              f'{r["checkpoint_transitions_at_start"]} | '
              f'{r["resumed_first_status_transitions"]} | {r["stored_before_kill"]} | '
              f'{r["passed"]} |' for r in runs]
    write_results(args.out, record, lines)
    return 0 if passed == len(runs) else 1


if __name__ == '__main__':
    sys.exit(main())
