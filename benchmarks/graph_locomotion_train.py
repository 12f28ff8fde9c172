# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""A1 ``locomotion`` PPO trained through the train_sim graph to the acceptance target (issue 16).

One training stage (``--config``, optionally warm-started with ``--init-policy``) is run twice in
one invocation, each until its policy meets the target of
``benchmarks/locomotion_acceptance.py`` (mean planar velocity error <= 0.25 m/s, <= 5 % falls) on
``--val-episodes`` validation episodes:

- **graph**: ``sim_bridge robot:=a1`` (lockstep) + exploring ``policy_node`` + ``trainer_node``
  (PPO on one robot, rollouts of ``--rollout`` transitions, the stage's reward and agent settings).
  Every policy the trainer publishes is copied; the newest is evaluated every ``--eval-period``
  seconds (in this process, beside the graph);
- **in process**: ``robotrl train`` with the same config and init policy, in segments of
  ``--segment`` steps (``--resume``), the policy exported after each evaluated the same way.

The first policy of each path to meet the target on validation is then evaluated on
``--episodes`` held-out episodes (another seed). Reported: transitions / steps and wall-clock
seconds of training to the target on each path, and their ratio graph / in-process.

Usage::

    python benchmarks/graph_locomotion_train.py --init-policy STAGE1_RUN --work /tmp/g
        --config benchmarks/configs/a1_locomotion_stage2.yaml --out OUT
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._results import write_results  # noqa: E402
from benchmarks._sim2real_setup import finetune_config  # noqa: E402
from benchmarks.locomotion_acceptance import ERROR_TARGET, FALL_TARGET, run_episodes  # noqa: E402
from robotrl_ros.graphs.train_run import GraphConfig, run_graph  # noqa: E402
from robotrl_ros.policy.artifact import PolicyArtifact, load_artifact  # noqa: E402

VAL_SEED = 10_000
HELD_OUT_SEED = 20_000


def load(artifact_dir: Path) -> PolicyArtifact:
    """A policy this benchmark's own runs wrote (TorchScript allowed)."""
    return load_artifact(artifact_dir, allow_torchscript=True)


def evaluate(artifact: PolicyArtifact, episodes: int, seed: int) -> dict[str, Any]:
    """Velocity error, falls and return of an artifact's deterministic policy."""
    result = run_episodes(artifact.act, episodes, seed)
    result.pop('per_episode')
    result['meets_target'] = bool(result['mean_planar_velocity_error'] <= ERROR_TARGET
                                  and result['fall_rate'] <= FALL_TARGET)
    return result


class PublishedPolicyWatcher:
    """``should_stop`` of the graph run: keeps every published policy, evaluates the newest.

    Args:
        run_dir: The trainer's output directory (``policies/policy_*`` appear there).
        keep_dir: Where each published policy is copied (the trainer prunes old ones).
        period: Seconds between evaluations.
        episodes: Validation episodes per evaluation.
    """

    def __init__(self, run_dir: Path, keep_dir: Path, period: float, episodes: int) -> None:
        self.published, self.keep = run_dir / 'policies', keep_dir
        self.period, self.episodes = period, episodes
        self.started = time.monotonic()
        self.last_eval = self.started
        self.curve: list[dict[str, Any]] = []
        self.reached: dict[str, Any] | None = None

    def _copy_new(self) -> None:
        for path in sorted(self.published.glob('policy_*')) if self.published.is_dir() else []:
            target = self.keep / path.name
            if target.exists():
                continue
            try:
                shutil.copytree(path, target)
            except (OSError, shutil.Error):
                shutil.rmtree(target, ignore_errors=True)  # pruned while copied

    def __call__(self) -> bool:
        """Copy new policies; evaluate the newest every ``period`` s; True at the target."""
        self._copy_new()
        if self.reached is not None:
            return True
        now = time.monotonic()
        if now - self.last_eval < self.period:
            return False
        newest = max(self.keep.glob('policy_*'), key=lambda p: p.name, default=None)
        if newest is None or any(p['path'] == str(newest) for p in self.curve):
            return False
        self.last_eval = now
        artifact = load(newest)
        point = {'wall_s': round(now - self.started, 1),
                 'transitions': artifact.metadata.get('provenance', {}).get('transitions'),
                 'path': str(newest), **evaluate(artifact, self.episodes, VAL_SEED)}
        self.curve.append(point)
        print(f'  graph eval {point}', flush=True)
        if point['meets_target'] and (point['transitions'] or 0) > 0:
            self.reached = point
        return self.reached is not None


def graph_stage(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Train through the graph until a published policy meets the target on validation."""
    stage = yaml.safe_load(args.config.read_text()) or {}
    trainer_config = finetune_config(stage, {'agent': {'n_steps': args.rollout}})
    hparams = work / 'graph_hparams.yaml'
    hparams.write_text(yaml.safe_dump(trainer_config, sort_keys=False))
    out, keep = work / 'graph', work / 'graph_policies'
    keep.mkdir(parents=True, exist_ok=True)
    watcher = PublishedPolicyWatcher(out, keep, args.eval_period, args.val_episodes)
    cfg = GraphConfig(task='locomotion', robot='a1', algo='ppo', output_dir=str(out),
                      total_steps=args.transitions, seed=args.seed, timeout_s=args.budget_s,
                      config=str(hparams), init_policy=str(args.init_policy or ''),
                      publish_period=args.publish_period, domain_id=args.domain_id)
    result = run_graph(cfg, progress=sys.stdout, should_stop=watcher)
    return {'trainer_config': trainer_config, 'reached': watcher.reached,
            'curve': watcher.curve, 'wall_s': round(result.wall_time_s, 1),
            'transitions': result.summary.get('transitions'),
            'per_s': round((result.summary.get('transitions') or 0) / result.wall_time_s, 1),
            'timed_out': result.timed_out, 'pairing': result.summary.get('pairing')}


def in_process_stage(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """``robotrl train`` in segments until an exported policy meets the target on validation."""
    out = work / 'in_process'
    curve: list[dict[str, Any]] = []
    train_s, steps, reached = 0.0, 0, None
    while steps < args.transitions and reached is None:
        steps += args.segment
        start = (['--init-policy', str(args.init_policy)] if args.init_policy and not curve
                 else ['--resume'] if curve else [])
        began = time.perf_counter()
        subprocess.run([sys.executable, '-m', 'robotrl_ros.cli', 'train', '--task', 'locomotion',
                        '--robot', 'a1', '--algo', 'ppo', '--steps', str(steps), '--seed',
                        str(args.seed), '--out', str(out), '--config', str(args.config),
                        *start], check=True, capture_output=True)
        train_s += time.perf_counter() - began
        kept = work / 'in_process_policies' / f'step_{steps}'
        shutil.copytree(out / 'policy', kept)
        point = {'steps': steps, 'train_s': round(train_s, 1), 'path': str(kept),
                 **evaluate(load(kept), args.val_episodes, VAL_SEED)}
        curve.append(point)
        print(f'  in-process eval {point}', flush=True)
        if point['meets_target']:
            reached = point
    return {'reached': reached, 'curve': curve, 'train_s': round(train_s, 1), 'steps': steps,
            'per_s': round(steps / train_s, 1) if train_s else None}


def report(record: dict[str, Any]) -> list[str]:
    """Markdown of the record."""
    graph, local = (record.get(key, {'curve': []}) for key in ('graph', 'in_process'))
    lines = ['# A1 locomotion PPO through the graph to the acceptance target', '',
             record['note'], '',
             '| path | reached on validation at | training wall s | held-out error | '
             'held-out falls |', '|---|---|---|---|---|']
    for name, info, amount, seconds in (
            ('graph', graph, 'transitions', 'wall_s'), ('in process', local, 'steps', 'train_s')):
        hit, final = info.get('reached'), info.get('held_out')
        where = f'{hit[amount]:,} {amount}' if hit else 'not reached'
        error = final['mean_planar_velocity_error'] if final else '-'
        falls = f"{100 * final['fall_rate']:.0f} %" if final else '-'
        lines.append(f"| {name} | {where} | {hit[seconds] if hit else info.get(seconds)} | "
                     f'{error} | {falls} |')
    if record.get('ratio'):
        lines += ['', f"Time ratio graph / in-process to the target: **{record['ratio']}x**."]
    lines += ['', 'Validation curve (graph; published policies, '
              f"{record['val_episodes']} episodes, seed {VAL_SEED}):", '',
              '| wall s | transitions | error | falls |', '|---|---|---|---|']
    lines += [f"| {p['wall_s']} | {p['transitions']} | {p['mean_planar_velocity_error']} | "
              f"{100 * p['fall_rate']:.0f} % |" for p in graph['curve']]
    lines += ['', 'Validation curve (in process):', '', '| steps | train s | error | falls |',
              '|---|---|---|---|']
    lines += [f"| {p['steps']:,} | {p['train_s']} | {p['mean_planar_velocity_error']} | "
              f"{100 * p['fall_rate']:.0f} % |" for p in local['curve']]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--config', type=Path, required=True, help='stage config (YAML)')
    parser.add_argument('--init-policy', type=Path, help='run directory to start from')
    parser.add_argument('--transitions', type=int, default=3_000_000,
                        help='most transitions (graph) / steps (in process)')
    parser.add_argument('--rollout', type=int, default=2048, help='PPO rollout on the graph')
    parser.add_argument('--segment', type=int, default=262_144, help='in-process segment')
    parser.add_argument('--budget-s', type=float, default=7200.0, help='graph wall-clock limit')
    parser.add_argument('--eval-period', type=float, default=60.0)
    parser.add_argument('--publish-period', type=float, default=20.0)
    parser.add_argument('--val-episodes', type=int, default=20)
    parser.add_argument('--episodes', type=int, default=50, help='held-out episodes')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--domain-id', type=int, default=94)
    parser.add_argument('--skip', choices=('graph', 'in_process'), help='run one path only')
    parser.add_argument('--work', type=Path, required=True, help='run directories')
    parser.add_argument('--note', default='')
    parser.add_argument('--out', type=Path, required=True, help='results path, no extension')
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    record: dict[str, Any] = {'benchmark': 'graph_locomotion_train', 'date': time.strftime(
        '%Y-%m-%d'), 'config': str(args.config), 'init_policy': str(args.init_policy or ''),
        'val_episodes': args.val_episodes, 'note': args.note, 'cpus': os.cpu_count(),
        'load_before': os.getloadavg()}
    paths = {'in_process': in_process_stage, 'graph': graph_stage}
    for name, run in paths.items():
        if args.skip == name:
            record[name] = {'curve': []}
            continue
        info = run(args, args.work)
        if info.get('reached'):
            info['held_out'] = evaluate(load(Path(info['reached']['path'])), args.episodes,
                                        HELD_OUT_SEED)
            print(f'  {name} held-out {info["held_out"]}', flush=True)
        record[name] = info
        write_results(args.out, record, report(record))  # after each path: nothing is lost
    graph, local = (record[key].get('reached') for key in ('graph', 'in_process'))
    if graph and local:
        record['ratio'] = round(graph['wall_s'] / local['train_s'], 1)
    record['load_after'] = os.getloadavg()
    write_results(args.out, record, report(record))
    return 0


if __name__ == '__main__':
    sys.exit(main())
