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
core), both beside Ant-v5 stepped one env at a time. Results go to
benchmarks/results/task_speed.{json,md}.

Usage::

    .venv/bin/python benchmarks/task_speed.py [--seconds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

os.environ.setdefault('OMP_NUM_THREADS', '1')

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / 'benchmarks' / 'results'
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


def batch_steps_per_second(n_envs: int, seconds: float) -> float:
    """Random-action robot steps/s of a :class:`LocomotionBatch` of ``n_envs`` A1 robots."""
    import numpy as np

    from robotrl_ros.tasks.locomotion_batch import LocomotionBatch

    batch = LocomotionBatch(n_envs, 'a1')
    batch.reset(0)
    rng = np.random.default_rng(0)
    actions = [rng.uniform(-1, 1, (n_envs, batch.spec.action_dim)) for _ in range(64)]
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for action in actions:
            batch.step(action)
        steps += len(actions) * n_envs
    return steps / (time.perf_counter() - start)


def steps_per_second(name: str, seconds: float, **kwargs) -> float:
    """Random-action steps/s of ``make_env(name, **kwargs)`` over ``seconds``."""
    from robotrl_ros.tasks.registry import make_env

    env = make_env(name, seed=0, **kwargs)
    actions = [env.action_space.sample() for _ in range(256)]
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for action in actions:
            _, _, terminated, truncated, _ = env.step(action)
            if terminated or truncated:
                env.reset()
        steps += len(actions)
    return steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--seconds', type=float, default=3.0, help='time per measurement')
    args = parser.parse_args()
    rows = []
    for task, reference, kwargs in CASES:
        label = task + ('+shifted' if kwargs else '')
        ours = steps_per_second(task, args.seconds, **kwargs)
        ref = steps_per_second(reference, args.seconds) if reference else None
        rows.append({'task': label, 'steps_per_s': round(ours, 1), 'reference': reference,
                     'reference_steps_per_s': None if ref is None else round(ref, 1)})
        print(f'{label:20s} {ours:9.0f} steps/s'
              + (f'   {reference}: {ref:9.0f} steps/s' if ref else ''), flush=True)
    for task, n_envs, reference in BATCH_CASES:
        label = f'{task} x{n_envs} batched'
        ours = batch_steps_per_second(n_envs, args.seconds)
        ref = steps_per_second(reference, args.seconds)
        rows.append({'task': label, 'steps_per_s': round(ours, 1), 'reference': reference,
                     'reference_steps_per_s': round(ref, 1)})
        print(f'{label:20s} {ours:9.0f} steps/s   {reference}: {ref:9.0f} steps/s', flush=True)
    load = ', '.join(f'{v:.2f}' for v in os.getloadavg())
    result = {'benchmark': 'task_speed', 'load_average_1_5_15': load,
              'seconds_per_case': args.seconds,
              'machine': f'{platform.processor() or platform.machine()}, '
                         f'{os.cpu_count()} cpus (shared)',
              'rows': rows}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / 'task_speed.json').write_text(json.dumps(result, indent=2) + '\n')
    lines = ['| task | steps/s | reference | reference steps/s |', '|---|---|---|---|']
    lines += [f"| {r['task']} | {r['steps_per_s']:.0f} | {r['reference'] or '-'} | "
              f"{'-' if r['reference_steps_per_s'] is None else round(r['reference_steps_per_s'])}"
              ' |' for r in rows]
    (RESULTS / 'task_speed.md').write_text('\n'.join(lines) + '\n')


if __name__ == '__main__':
    main()
