# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""ee_reach acceptance run (issue 19): the issue's commands, then SB3 SAC on the same env.

Runs, one after the other, in child processes (so each is timed alone, wall-clock and CPU)::

    robotrl train --task ee_reach --robot panda --algo sac --steps 100000 --out DIR
    robotrl eval --policy DIR --task ee_reach --robot panda --episodes 100            # --seed 0
    robotrl eval --policy DIR --task ee_reach --robot panda --episodes 100 --seed 10000
    python benchmarks/learning.py --only sac:ee_reach --seeds 1 --libs sb3 --episodes 100

and writes ``OUT.json`` (every figure, the learning curve from ``DIR/metrics.csv``, 1-min load
averages before/after each run) and ``OUT.md`` (commands, table, curve, verdict against the
issue's target: >= 90 % success on 100 held-out goals, equal or better success than SB3 in at
most half of its time). CPU seconds are the fair speed figure on a shared machine.

Usage::

    nice -n 10 python benchmarks/ee_reach_acceptance.py --out benchmarks/results/ee_reach_sac_X
    nice -n 10 python benchmarks/ee_reach_acceptance.py --steps 40000 --no-sb3 --out /tmp/try

On a machine too loaded to run them one after the other, SB3 can run beside ours (same load
on both; CPU seconds stay comparable): start ``learning.py ... --out SB3`` yourself, then
``--sb3-from SB3`` records that run instead of starting one; ``--ours-from LOG --run-dir DIR``
records our run from the JSON line an earlier invocation printed to ``LOG`` (curve re-read
from ``DIR/metrics.csv``) instead of training again.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._results import read_curve, write_results  # noqa: E402

HELD_OUT_SEED = 10_000
SUCCESS_TARGET = 0.9


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command: list[str]) -> dict[str, Any]:
    """Run ``command``; its stdout, wall-clock, CPU seconds and load averages around it."""
    started = time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())
    load_before, cpu_before, wall_before = os.getloadavg()[0], _children_cpu(), time.monotonic()
    done = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE, text=True, check=True)
    return {'stdout': done.stdout, 'wall_s': round(time.monotonic() - wall_before, 1),
            'cpu_s': round(_children_cpu() - cpu_before, 1), 'started_utc': started,
            'loadavg_1min': [round(load_before, 2), round(os.getloadavg()[0], 2)]}


def last_json(text: str) -> dict[str, Any]:
    """The last line of ``text`` that is a JSON object."""
    for line in reversed(text.strip().splitlines()):
        if line.startswith('{'):
            return json.loads(line)
    raise ValueError(f'no JSON line in output: {text[-300:]!r}')


def run_ours(robotrl: str, steps: int, episodes: int, run_dir: Path) -> dict[str, Any]:
    """Train with the issue's command, evaluate with its command and on held-out goals."""
    common = ['--task', 'ee_reach', '--robot', 'panda']
    train = timed([robotrl, 'train', *common, '--algo', 'sac', '--steps', str(steps),
                   '--out', str(run_dir)])
    issue_eval = last_json(timed([robotrl, 'eval', '--policy', str(run_dir), *common,
                                  '--episodes', str(episodes)])['stdout'])
    held_out = last_json(timed([robotrl, 'eval', '--policy', str(run_dir), *common,
                                '--episodes', str(episodes), '--seed',
                                str(HELD_OUT_SEED)])['stdout'])
    curve = read_curve(run_dir / 'metrics.csv', max(1000, steps // 10))
    return {'lib': 'ours', 'algo': 'sac', 'task': 'ee_reach', 'robot': 'panda', 'seed': 0,
            'steps': steps, 'train_s': train['wall_s'],
            'train_loop_s': curve[-1]['time_s'] if curve else None,
            'steps_per_s': round(steps / train['wall_s'], 1), 'cpu_s': train['cpu_s'],
            'eval_episodes': episodes, 'eval_seed': HELD_OUT_SEED,
            'eval_mean_return': held_out['mean_return'],
            'eval_std_return': held_out['std_return'], 'success_rate': held_out['success_rate'],
            'issue_command_eval': issue_eval, 'loadavg_1min': train['loadavg_1min'],
            'started_utc': train['started_utc'],
            'command': f'robotrl train {" ".join(common)} --algo sac --steps {steps} --out DIR',
            'curve': curve}


def run_sb3(steps: int, episodes: int, tmp: Path) -> dict[str, Any]:
    """``benchmarks/learning.py`` for SB3 SAC on ee_reach (its own timing of ``learn()``)."""
    out = tmp / 'sb3'
    command = [sys.executable, str(ROOT / 'benchmarks' / 'learning.py'), '--only', 'sac:ee_reach',
               '--seeds', '1', '--libs', 'sb3', '--episodes', str(episodes), '--out', str(out)]
    if steps != 100_000:
        command += ['--steps', str(steps)]
    run = timed(command)
    record = json.loads(out.with_suffix('.json').read_text())['runs'][0]
    import stable_baselines3
    return {**record, 'started_utc': run['started_utc'],
            'finished_utc': time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime()),
            'process_wall_s': run['wall_s'], 'process_cpu_s': run['cpu_s'],
            'sb3_version': stable_baselines3.__version__}


def ours_from(log: Path, run_dir: Path) -> dict[str, Any]:
    """Our run from the JSON line an earlier invocation printed, its curve from ``run_dir``."""
    lines = [json.loads(line) for line in log.read_text().splitlines()
             if line.startswith('{') and '"lib": "ours"' in line]
    if not lines:
        raise SystemExit(f'{log}: no record of our run in it')
    record = lines[-1]
    return {**record, 'curve': read_curve(run_dir / 'metrics.csv',
                                          max(1000, record['steps'] // 10))}


def sb3_from(out: Path, started: dict[str, str]) -> dict[str, Any]:
    """The SB3 run recorded by ``learning.py --out out`` (run beside ours)."""
    record = json.loads(out.with_suffix('.json').read_text())['runs'][0]
    import stable_baselines3
    return {**record, **started, 'sb3_version': stable_baselines3.__version__,
            'ran_beside_ours': True}


def verdict(ours: dict[str, Any], sb3: dict[str, Any] | None) -> dict[str, Any]:
    """The issue's two conditions."""
    out: dict[str, Any] = {'success_ge_90': ours['success_rate'] >= SUCCESS_TARGET}
    if sb3 is not None:
        wall, cpu = sb3['train_s'] / ours['train_s'], sb3['cpu_s'] / ours['cpu_s']
        out.update(equal_or_better_success_at_half_sb3_time=(
            ours['success_rate'] >= sb3['success_rate'] and wall >= 2 and cpu >= 2),
            wall_ratio_sb3_over_ours=round(wall, 2), cpu_ratio_sb3_over_ours=round(cpu, 2))
    return out


def report(record: dict[str, Any]) -> list[str]:
    """Markdown: table, curve, verdict (the analysis is added by hand below it)."""
    ours, sb3 = record['runs'][0], (record['runs'][1] if len(record['runs']) > 1 else None)
    lines = [f'# ee_reach on panda, SAC, {ours["steps"]:,} steps: robotrl_ros vs SB3 SAC '
             f'({record["date"]})', '',
             f'Commit {record["commit"]}; `python benchmarks/ee_reach_acceptance.py` ran, in '
             'child processes, ' + ('ours (started ' + ours['started_utc'] + ' UTC) with SB3 '
                                    'beside it (started ' + sb3['started_utc'] + ' UTC, same '
                                    'machine load for both)'
                                    if sb3 is not None and sb3.get('ran_beside_ours') else
                                    f'one after the other, started {ours["started_utc"]} UTC')
             + ':', '',
             '```bash', ours['command'],
             f'robotrl eval --policy DIR --task ee_reach --robot panda --episodes '
             f'{ours["eval_episodes"]}            # --seed 0',
             f'robotrl eval --policy DIR --task ee_reach --robot panda --episodes '
             f'{ours["eval_episodes"]} --seed {HELD_OUT_SEED}',
             'python benchmarks/learning.py --only sac:ee_reach --seeds 1 --libs sb3 '
             f'--episodes {ours["eval_episodes"]}', '```', '',
             f'Machine: {record["machine"]}.', '',
             '| library | eval success (held-out goals, 5 cm) | eval return | wall-clock s | '
             'CPU s | steps/s (wall) | load avg 1 min (before, after) |',
             '|---|---|---|---|---|---|---|']
    for run in record['runs']:
        name = 'robotrl_ros' if run['lib'] == 'ours' else 'SB3, our hyperparameters'
        lines.append(f'| {name} | {run["success_rate"]:.0%} | {run["eval_mean_return"]:.2f} | '
                     f'{run["train_s"]} | {run["cpu_s"]} | {run["steps_per_s"]} | '
                     f'{", ".join(map(str, run["loadavg_1min"]))} |')
    issue = ours['issue_command_eval']
    lines += ['', f'`robotrl eval` as the issue writes it (`--seed 0`): '
              f'{issue["success_rate"]:.0%} success, return {issue["mean_return"]:.2f}.', '',
              'Learning curve of ours (training episodes, stochastic actions; success = last '
              '20 episodes):', '', '| steps | wall s | return | episode length | success |',
              '|---|---|---|---|---|']
    lines += [f'| {p["step"] // 1000}k | {p["time_s"]:.0f} | {p["return_mean"]} | '
              f'{p["length_mean"]} | {p["success_rate"]:.0%} |' for p in ours['curve']]
    v = record['verdict']
    lines += ['', '**Verdict** (measured): >= 90 % success: '
              f'{"met" if v["success_ge_90"] else "NOT met"} ({ours["success_rate"]:.0%}).']
    if sb3 is not None:
        lines.append('Equal or better success in at most half of SB3\'s time: '
                     f'{"met" if v["equal_or_better_success_at_half_sb3_time"] else "NOT met"} '
                     f'({ours["success_rate"]:.0%} vs {sb3["success_rate"]:.0%}; SB3 / ours: '
                     f'{v["wall_ratio_sb3_over_ours"]}x wall-clock, '
                     f'{v["cpu_ratio_sb3_over_ours"]}x CPU).')
    return lines


def main(argv: list[str] | None = None) -> int:
    """Run the acceptance benchmark and write ``--out``.json/.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out', type=Path, required=True, help='results path without suffix')
    parser.add_argument('--steps', type=int, default=100_000)
    parser.add_argument('--episodes', type=int, default=100)
    parser.add_argument('--no-sb3', action='store_true', help='only our run (trials)')
    parser.add_argument('--run-dir', type=Path, default=None,
                        help='training output directory (default: a temporary one)')
    parser.add_argument('--ours-from', type=Path, default=None,
                        help="record our run from this earlier invocation's output (with "
                             '--run-dir) instead of training again')
    parser.add_argument('--sb3-from', type=Path, default=None,
                        help='record the SB3 run that learning.py --out SB3_FROM made beside '
                             'ours instead of starting one')
    parser.add_argument('--sb3-started', default='', help='UTC start of that SB3 run')
    args = parser.parse_args(argv)
    if args.ours_from is not None and args.run_dir is None:
        parser.error('--ours-from needs --run-dir (the curve is read from its metrics.csv)')
    robotrl = str(Path(sys.executable).with_name('robotrl'))
    commit = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, check=True).stdout.strip()
    dirty = subprocess.run(['git', 'status', '--porcelain', '--untracked-files=no'], cwd=ROOT,
                           text=True, stdout=subprocess.PIPE, check=True).stdout.strip()
    with tempfile.TemporaryDirectory(prefix='ee_reach_') as tmp:
        run_dir = args.run_dir or Path(tmp) / 'run'
        if args.ours_from is not None:
            runs = [ours_from(args.ours_from, run_dir)]
            commit = runs[0]['commit']
            dirty = ''
        else:
            runs = [run_ours(robotrl, args.steps, args.episodes, run_dir)]
            runs[0]['commit'] = commit
        print(json.dumps({k: v for k, v in runs[0].items() if k != 'curve'}), flush=True)
        if args.sb3_from is not None:
            runs.append(sb3_from(args.sb3_from, {'started_utc': args.sb3_started}))
        elif not args.no_sb3:
            runs.append(run_sb3(args.steps, args.episodes, Path(tmp)))
            print(json.dumps(runs[1]), flush=True)
    record = {'benchmark': 'ee_reach_sac', 'date': time.strftime('%Y-%m-%d', time.gmtime()),
              'machine': f'{platform.machine()} {os.cpu_count()} CPUs (shared)',
              'commit': commit + (' (uncommitted changes)' if dirty else ''), 'runs': runs}
    record['verdict'] = verdict(runs[0], runs[1] if len(runs) > 1 else None)
    write_results(args.out, record, report(record))
    return 0


if __name__ == '__main__':
    sys.exit(main())
