# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Env steps/s of every built-in task, next to the Gymnasium env it is modelled on.

Random actions, single thread, episodes reset as they end. ``reacher`` is compared with
Gymnasium's Reacher-v5 and ``quadruped`` with Ant-v5 (same MuJoCo models; our tasks also compute
the observation and reward from joint states + IMU; the quadruped's joints are PD position
servos and its integrator is ``implicitfast`` instead of Ant-v5's RK4). ``+shifted`` rows use
the SHIFTED sim-to-real randomization wrapper. ``locomotion`` (Unitree A1) is measured one env at
a time and as a batch of 16 robots in one process (:class:`LocomotionBatch`: physics per robot,
observation/reward/termination in one NumPy call per batch; steps/s counts robot steps, on one
core), both beside Ant-v5 stepped one env at a time. Every case reports steps per wall-clock second
and steps per CPU second of the process (its single core's throughput, less sensitive to other
load on a shared machine). Results go to benchmarks/results/task_speed.{json,md} (``--out``).

Usage::

    .venv/bin/python benchmarks/task_speed.py [--seconds 3]
    .venv/bin/python benchmarks/task_speed.py --only locomotion --out \
        benchmarks/results/task_speed_locomotion_<date>
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path
from typing import NamedTuple

os.environ.setdefault('OMP_NUM_THREADS', '1')

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / 'benchmarks' / 'results'
sys.path.insert(0, str(ROOT / 'benchmarks'))
from _results import write_results  # noqa: E402

CASES = [
    ('reach', None, {}),
    ('gridworld', None, {}),
    ('reacher', 'gym:Reacher-v5', {}),
    ('quadruped', 'gym:Ant-v5', {}),
    ('reach', None, {'randomization': 'shifted'}),
    ('reacher', None, {'randomization': 'shifted'}),
    ('quadruped', None, {'randomization': 'shifted'}),
    ('locomotion', 'gym:Ant-v5', {}),
]
#: (task, robots in one batch, reference stepped one env at a time)
BATCH_CASES = [('locomotion', 16, 'gym:Ant-v5')]


class Rate(NamedTuple):
    """Steps counted over a measurement, per wall-clock second and per CPU second."""

    per_s: float
    per_cpu_s: float


def _measure(step_block, seconds: float) -> Rate:
    """Call ``step_block()`` (returns the steps it made) until ``seconds`` have passed."""
    steps, start, cpu = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - start < seconds:
        steps += step_block()
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    return Rate(steps / wall, steps / max(cpu, 1e-9))


def batch_steps_per_second(n_envs: int, seconds: float) -> Rate:
    """Random-action robot steps/s of a :class:`LocomotionBatch` of ``n_envs`` A1 robots."""
    import numpy as np

    from robotrl_ros.tasks.locomotion_batch import LocomotionBatch

    batch = LocomotionBatch(n_envs, 'a1')
    batch.reset(0)
    rng = np.random.default_rng(0)
    actions = [rng.uniform(-1, 1, (n_envs, batch.spec.action_dim)) for _ in range(64)]

    def block() -> int:
        for action in actions:
            batch.step(action)
        return len(actions) * n_envs
    return _measure(block, seconds)


def steps_per_second(name: str, seconds: float, **kwargs) -> Rate:
    """Random-action steps/s of ``make_env(name, **kwargs)`` over ``seconds``."""
    from robotrl_ros.tasks.registry import make_env

    env = make_env(name, seed=0, **kwargs)
    actions = [env.action_space.sample() for _ in range(256)]

    def block() -> int:
        for action in actions:
            _, _, terminated, truncated, _ = env.step(action)
            if terminated or truncated:
                env.reset()
        return len(actions)
    return _measure(block, seconds)


def _row(label: str, ours: Rate, reference: str | None, ref: Rate | None) -> dict:
    print(f'{label:24s} {ours.per_s:9.0f} steps/s ({ours.per_cpu_s:9.0f} per CPU s)'
          + (f'   {reference}: {ref.per_s:9.0f} ({ref.per_cpu_s:9.0f})' if ref else ''),
          flush=True)
    return {'task': label, 'steps_per_s': round(ours.per_s, 1),
            'steps_per_cpu_s': round(ours.per_cpu_s, 1), 'reference': reference,
            'reference_steps_per_s': None if ref is None else round(ref.per_s, 1),
            'reference_steps_per_cpu_s': None if ref is None else round(ref.per_cpu_s, 1)}


def _cell(value: float | None) -> str:
    return '-' if value is None else f'{value:.0f}'


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--seconds', type=float, default=3.0, help='time per measurement')
    parser.add_argument('--only', default='',
                        help='comma-separated task names to measure (default: every case)')
    parser.add_argument('--out', type=Path, default=RESULTS / 'task_speed',
                        help='results path without suffix (.json and .md are written)')
    args = parser.parse_args()
    only = {name.strip() for name in args.only.split(',') if name.strip()}
    known = {case[0] for case in CASES + BATCH_CASES}
    if only - known:
        parser.error(f'--only: unknown task(s) {sorted(only - known)}; choose from '
                     f'{", ".join(sorted(known))}')
    load_before = os.getloadavg()
    rows = []
    for task, reference, kwargs in CASES:
        if only and task not in only:
            continue
        ours = steps_per_second(task, args.seconds, **kwargs)
        ref = steps_per_second(reference, args.seconds) if reference else None
        rows.append(_row(task + ('+shifted' if kwargs else ''), ours, reference, ref))
    for task, n_envs, reference in BATCH_CASES:
        if only and task not in only:
            continue
        ours = batch_steps_per_second(n_envs, args.seconds)
        rows.append(_row(f'{task} x{n_envs} batched', ours, reference,
                         steps_per_second(reference, args.seconds)))
    loads = [', '.join(f'{v:.2f}' for v in load) for load in (load_before, os.getloadavg())]
    date = time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())
    result = {'benchmark': 'task_speed', 'date': date, 'load_average_1_5_15': loads[1],
              'load_average_before': loads[0], 'seconds_per_case': args.seconds,
              'machine': f'{platform.processor() or platform.machine()}, '
                         f'{os.cpu_count()} cpus (shared)',
              'rows': rows}
    lines = ['| task | steps/s | steps/CPU s | reference | reference steps/s | '
             'reference steps/CPU s |', '|---|---|---|---|---|---|']
    lines += [f"| {r['task']} | {_cell(r['steps_per_s'])} | {_cell(r['steps_per_cpu_s'])} | "
              f"{r['reference'] or '-'} | {_cell(r['reference_steps_per_s'])} | "
              f"{_cell(r['reference_steps_per_cpu_s'])} |" for r in rows]
    lines += ['', f'Measured {date}, {args.seconds:g} s per case, one process, one thread; '
              f'load average (1/5/15 min) {loads[0]} before, {loads[1]} after, on '
              f'{os.cpu_count()} CPUs. steps/CPU s = steps per second of the process\'s own '
              'CPU time (one core\'s throughput).']
    write_results(args.out, result, lines)


if __name__ == '__main__':
    main()
