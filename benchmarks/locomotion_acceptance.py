# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""locomotion acceptance evaluation (issue 19): velocity tracking and falls of a trained A1 policy.

The issue's target: mean planar velocity error <= 0.25 m/s over commands vx in [0, 0.8] m/s
with <= 5 % falls. This script evaluates a trained run directory (``robotrl train --task
locomotion --robot a1 --algo ppo ... --out DIR``) with deterministic actions on ``--episodes``
held-out episodes (commands drawn by the env from ``--seed``), beside a zero-action policy
(the robot holds its default pose) on the same episodes, and records the learning curve of the
run from ``DIR/metrics.csv``.

The velocity error of a step is ``|v_xy - cmd_xy|`` with ``v`` the simulated base velocity in
the IMU frame (what ``base_twist`` carries on the graph); an episode's error is the mean over
all its steps, the start-up from rest included; the reported error is the mean over episodes.
A fall is an episode that terminated (base tilted past the task's fall angle).

Usage::

    python benchmarks/locomotion_acceptance.py --run-dir DIR --train-log LOG --out OUT
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._results import read_curve, write_results  # noqa: E402
from robotrl_ros.policy.artifact import load_artifact  # noqa: E402
from robotrl_ros.tasks.locomotion import LocomotionEnv  # noqa: E402

HELD_OUT_SEED = 10_000
ERROR_TARGET = 0.25
FALL_TARGET = 0.05


def run_episodes(policy: Any, episodes: int, seed: int, robot: str = 'a1') -> dict[str, Any]:
    """Run ``episodes`` deterministic episodes; per-episode command, error, fall and return."""
    env = LocomotionEnv(robot)
    rows = []
    obs, _ = env.reset(seed=seed)
    for _ in range(episodes):
        command = np.asarray(env.robot_state().cmd_vel, dtype=np.float64)
        errors, total, done, terminated = [], 0.0, False, False
        while not done:
            obs, reward, terminated, truncated, _ = env.step(policy(obs))
            velocity = env.robot_state().imu['base_lin_vel']
            errors.append(float(np.linalg.norm(velocity[:2] - command[:2])))
            total += float(reward)
            done = terminated or truncated
        rows.append({'cmd_vx': round(float(command[0]), 3), 'steps': len(errors),
                     'mean_error': round(float(np.mean(errors)), 4),
                     'error_after_1s': round(float(np.mean(errors[50:] or errors)), 4),
                     'fell': bool(terminated), 'return': round(total, 2)})
        obs, _ = env.reset()
    env.close()
    def mean(key: str) -> float:
        return round(float(np.mean([r[key] for r in rows])), 4)

    return {'episodes': episodes, 'seed': seed,
            'mean_planar_velocity_error': mean('mean_error'),
            'error_after_first_second': mean('error_after_1s'),
            'fall_rate': float(np.mean([r['fell'] for r in rows])),
            'mean_return': round(float(np.mean([r['return'] for r in rows])), 2),
            'per_episode': rows}


def report(record: dict[str, Any]) -> list[str]:
    """Markdown lines of the record."""
    trained, still = record['trained'], record['zero_action']
    lines = [f"# A1 locomotion with PPO: acceptance evaluation ({record['date']})", '',
             f"Run: `{record['command']}`. Machine: {record['machine']}.", '',
             '| policy | mean planar velocity error | after the first second | falls | return |',
             '|---|---|---|---|---|']
    for name, row in (('PPO, deterministic', trained), ('zero action (stands still)', still)):
        lines.append(f"| {name} | {row['mean_planar_velocity_error']:.3f} m/s | "
                     f"{row['error_after_first_second']:.3f} m/s | {100 * row['fall_rate']:.0f} % "
                     f"| {row['mean_return']:.1f} |")
    lines += ['', f"Held-out episodes: {trained['episodes']} (seed {trained['seed']}), commands "
              'vx uniform in [0, 0.8] m/s, 1000 steps (20 s) each.',
              f"Target: error <= {ERROR_TARGET} m/s with <= {100 * FALL_TARGET:.0f} % falls: "
              f"**{'met' if record['target_met'] else 'NOT met'}**.", '']
    if record.get('notes'):
        lines += [record['notes'], '']
    if record.get('curve'):
        lines += ['Learning curve (training episodes, stochastic actions):', '',
                  '| steps | wall s | return | episode length | success (last step) |',
                  '|---|---|---|---|---|']
        lines += [f"| {c['step']:,} | {c['time_s']:.0f} | {c['return_mean']:.1f} | "
                  f"{c['length_mean']:.0f} | {c['success_rate']:.2f} |" for c in record['curve']]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--run-dir', type=Path, required=True, help='robotrl train --out DIR')
    parser.add_argument('--train-log', type=Path, help='stdout of the training (its JSON line)')
    parser.add_argument('--episodes', type=int, default=20)
    parser.add_argument('--seed', type=int, default=HELD_OUT_SEED)
    parser.add_argument('--command', default='robotrl train --task locomotion --robot a1 '
                        '--algo ppo --steps STEPS --out DIR --config CONFIG')
    parser.add_argument('--notes', default='', help='findings paragraph for the report')
    parser.add_argument('--out', required=True, help='results path without extension')
    args = parser.parse_args(argv)

    artifact = load_artifact(args.run_dir / 'policy')
    trained = run_episodes(artifact.act, args.episodes, args.seed)
    zero = np.zeros(artifact.spec.action_dim, dtype=np.float32)
    still = run_episodes(lambda _obs: zero, args.episodes, args.seed)
    summary = {}
    if args.train_log is not None:
        lines = [ln for ln in args.train_log.read_text().splitlines() if ln.startswith('{')]
        summary = json.loads(lines[-1]) if lines else {}
    curve = []
    metrics = args.run_dir / 'metrics.csv'
    if metrics.exists():
        steps = int(summary.get('steps', 0)) or 1_000_000
        curve = read_curve(metrics, max(1, steps // 12 // 131072) * 131072, keep_last=True)
    record = {'benchmark': 'locomotion_acceptance', 'date': time.strftime('%Y-%m-%d'),
              'command': args.command, 'machine': f'{platform.machine()}, 2 vCPUs',
              'training': summary, 'notes': args.notes, 'trained': trained,
              'zero_action': still, 'curve': curve,
              'target': f'mean planar velocity error <= {ERROR_TARGET} m/s, <= '
                        f'{100 * FALL_TARGET:.0f} % falls',
              'target_met': bool(trained['mean_planar_velocity_error'] <= ERROR_TARGET
                                 and trained['fall_rate'] <= FALL_TARGET)}
    write_results(args.out, record, report(record))
    return 0


if __name__ == '__main__':
    sys.exit(main())
