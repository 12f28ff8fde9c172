# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Ctrl-C (SIGINT) or SIGTERM to ``robotrl up train_sim`` at random moments: exit 0 every time.

Each trial starts ``robotrl up train_sim`` with its own ``output_dir``, waits until ``up``
handles stop signals (before that, the interpreter itself is still starting), then sends the
signal at a seeded random moment: during start-up (``startup``: 0-3 s after that, while the
nodes import and build) or while training (``running``: 0-3 s after the trainer logged that it
started). A trial passes when ``robotrl up`` exits 0 and, if the trainer got past its start-up
(its ``trainer_node: <algo> on <task>`` line), its checkpoint ``online_checkpoint.pt`` is in
``output_dir``. :func:`trial` is also run by test/graphs/test_up_graphs.py with a few moments.

Usage::

    .venv/bin/python benchmarks/ctrl_c_stress.py [--runs 20] [--seed 0]

Writes benchmarks/results/ctrl_c_stress.{md,json}.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / 'benchmarks'))
from _results import write_results  # noqa: E402

from robotrl_ros.graphs.process import handles_stop_signals  # noqa: E402
from robotrl_ros.graphs.train_run import random_domain  # noqa: E402

RESULTS = ROOT / 'benchmarks' / 'results' / 'ctrl_c_stress'
PHASES = ('startup', 'running')
SIGNALS = (signal.SIGINT, signal.SIGTERM)
#: The trainer's last start-up log line (its node is built: a stop now saves a checkpoint).
TRAINER_STARTED = re.compile(r'trainer_node: \w+ on \w+, output_dir ')
HANG_S = 300.0                        # any wait longer than this is a hang


@dataclass
class Trial:
    """What one signal to ``robotrl up train_sim`` did."""

    signal: str
    phase: str
    delay_s: float
    exit_code: int | None
    trainer_started: bool
    checkpoint: bool
    signal_at_s: float
    exit_after_signal_s: float
    output_tail: str

    @property
    def passed(self) -> bool:
        """Exit 0, and a checkpoint if the trainer got past its start-up."""
        return self.exit_code == 0 and (self.checkpoint or not self.trainer_started)


def robotrl_command() -> list[str]:
    """``robotrl``: the console script next to this interpreter, else ``python -m``."""
    script = Path(sys.executable).parent / 'robotrl'
    return [str(script)] if script.is_file() else [sys.executable, '-m', 'robotrl_ros.cli']


def trial(run_dir: Path, sig: int, phase: str, delay_s: float,
          env: dict[str, str] | None = None) -> Trial:
    """Start ``robotrl up train_sim``, send ``sig`` in ``phase`` after ``delay_s``, wait.

    Raises:
        ValueError: An unknown phase.
    """
    if phase not in PHASES:
        raise ValueError(f'phase must be one of {PHASES}, got {phase!r}')
    lines: list[str] = []
    started = threading.Event()
    proc = subprocess.Popen([*robotrl_command(), 'up', 'train_sim', '--set',
                             f'output_dir:={run_dir}'], cwd=ROOT,
                            env=dict(os.environ if env is None else env, PYTHONUNBUFFERED='1'),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    begin = time.monotonic()

    def read() -> None:
        for line in proc.stdout:
            lines.append(line)
            if TRAINER_STARTED.search(line):
                started.set()
    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        deadline = begin + HANG_S
        while not handles_stop_signals(proc.pid) and proc.poll() is None:
            if time.monotonic() > deadline:
                raise RuntimeError('robotrl up never installed its stop handlers')
            time.sleep(0.005)
        if phase == 'running' and not started.wait(HANG_S):
            raise RuntimeError('the trainer did not start:\n' + ''.join(lines)[-3000:])
        time.sleep(delay_s)
        signal_at = time.monotonic()
        proc.send_signal(sig)
        proc.wait(timeout=HANG_S)
        exited = time.monotonic()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    reader.join(timeout=30)
    output = ''.join(lines)
    return Trial(signal=signal.Signals(sig).name, phase=phase, delay_s=round(delay_s, 3),
                 exit_code=proc.returncode,
                 trainer_started=bool(TRAINER_STARTED.search(output)),
                 checkpoint=(run_dir / 'online_checkpoint.pt').is_file(),
                 signal_at_s=round(signal_at - begin, 2),
                 exit_after_signal_s=round(exited - signal_at, 2),
                 output_tail=output[-3000:])


def moments(runs: int, seed: int) -> list[tuple[int, str, float]]:
    """``runs`` seeded (signal, phase, delay) triples, phases and signals alternating."""
    rng = np.random.default_rng(seed)
    return [(SIGNALS[(i // 2) % 2], PHASES[i % 2], float(rng.uniform(0.0, 3.0)))
            for i in range(runs)]


def main(argv: list[str] | None = None) -> int:
    """Run the trials, write the results; exit 1 unless every trial passed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--runs', type=int, default=20, help='trials (default 20)')
    parser.add_argument('--seed', type=int, default=0, help='seed of the moments')
    parser.add_argument('--out', default=str(RESULTS), help='results path without suffix')
    args = parser.parse_args(argv)
    env = dict(os.environ, ROS_DOMAIN_ID=str(random_domain()),
               ROS_AUTOMATIC_DISCOVERY_RANGE='LOCALHOST')
    trials: list[Trial] = []
    start = time.time()
    with tempfile.TemporaryDirectory(prefix='ctrl_c_stress_') as tmp:
        for i, (sig, phase, delay) in enumerate(moments(args.runs, args.seed)):
            result = trial(Path(tmp) / f'run_{i}', sig, phase, delay, env)
            trials.append(result)
            print(f'{i + 1}/{args.runs}: {result.signal} {result.phase} +{result.delay_s:.2f} s'
                  f' -> exit {result.exit_code}, trainer started {result.trainer_started}, '
                  f'checkpoint {result.checkpoint}', flush=True)
    passed = sum(t.passed for t in trials)
    exit_zero = sum(t.exit_code == 0 for t in trials)
    load = os.getloadavg()
    record = {'date': time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(start)),
              'host': platform.node(), 'cpus': os.cpu_count(),
              'load_average_at_end': [round(x, 2) for x in load], 'seed': args.seed,
              'runs': len(trials), 'exit_0': exit_zero, 'passed': passed,
              'wall_s': round(time.time() - start, 1),
              'trials': [{**asdict(t), 'output_tail': t.output_tail if not t.passed else ''}
                         for t in trials]}
    lines = [
        '# Ctrl-C / SIGTERM to `robotrl up train_sim` at random moments',
        '',
        f'{record["date"]}, {record["cpus"]} CPUs, load average at the end '
        f'{", ".join(f"{x:.2f}" for x in load)} (a shared machine), seed {args.seed}, '
        f'`benchmarks/ctrl_c_stress.py --runs {args.runs}`.',
        '',
        f'**exit 0 in {exit_zero} of {len(trials)} runs; {passed} of {len(trials)} passed** '
        '(exit 0, and the trainer checkpoint saved when the trainer got past start-up).',
        '',
        '| # | signal | phase | delay s | sent at s | exit | exit after s | trainer started '
        '| checkpoint |',
        '|---|---|---|---|---|---|---|---|---|',
    ]
    lines += [f'| {i + 1} | {t.signal} | {t.phase} | {t.delay_s:.2f} | {t.signal_at_s:.1f} | '
              f'{t.exit_code} | {t.exit_after_signal_s:.1f} | {t.trainer_started} | '
              f'{t.checkpoint} |' for i, t in enumerate(trials)]
    write_results(args.out, record, lines)
    return 0 if passed == len(trials) else 1


if __name__ == '__main__':
    sys.exit(main())
