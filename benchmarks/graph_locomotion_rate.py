# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""A1 ``locomotion`` PPO: transitions per second through the train_sim graph vs in process.

Issue 16 asks for the A1 trained through the graph to the in-process tracking target, with the
time ratio graph / in-process. This measures the ratio of the two training rates in one run, as
the estimate of what that would take:

- graph: ``sim_bridge robot:=a1`` (lockstep) + exploring ``policy_node`` + ``trainer_node`` (PPO,
  one robot, rollouts of ``--graph-rollout`` transitions), ``--transitions`` transitions;
- in process: ``robotrl train`` with ``benchmarks/configs/a1_locomotion_stage1.yaml`` (the
  stage-1 config of the walking run: 32 robots in the robot batch, 2 env workers),
  ``--steps`` env steps.

Usage::

    python benchmarks/graph_locomotion_rate.py --out benchmarks/results/graph_locomotion_rate_DATE
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _results import write_results

from robotrl_ros.graphs.train_run import GraphConfig, run_graph

ROOT = Path(__file__).resolve().parents[1]
STAGE1 = ROOT / 'benchmarks' / 'configs' / 'a1_locomotion_stage1.yaml'
#: Env steps of the walking A1 run (two stages, benchmarks/results/locomotion_ppo_2026-12-04b.md).
WALKING_STEPS = 6_291_456


def graph_rate(work: Path, transitions: int, rollout: int, domain_id: int) -> dict:
    """Transitions per second of a PPO trainer learning from one simulated A1 on the graph."""
    hparams = work / 'graph.yaml'
    hparams.write_text(f'agent:\n  n_steps: {rollout}\n')
    cfg = GraphConfig(task='locomotion', robot='a1', algo='ppo', output_dir=str(work / 'graph'),
                      total_steps=transitions, timeout_s=1800, config=str(hparams),
                      publish_period=3.0, domain_id=domain_id)
    result = run_graph(cfg)
    if result.timed_out:
        raise RuntimeError(f'graph run timed out; see {result.logs}')
    done = int(result.summary['transitions'])
    return {'transitions': done, 'updates': result.summary.get('updates'),
            'wall_s': round(result.wall_time_s, 1), 'per_s': round(done / result.wall_time_s, 1),
            'pairing': result.summary.get('pairing')}


def in_process_rate(work: Path, steps: int) -> dict:
    """Env steps per second of ``robotrl train`` with the stage-1 config."""
    started = time.perf_counter()
    subprocess.run([sys.executable, '-m', 'robotrl_ros.cli', 'train', '--task', 'locomotion',
                    '--robot', 'a1', '--algo', 'ppo', '--steps', str(steps), '--seed', '0',
                    '--out', str(work / 'in_process'), '--config', str(STAGE1)],
                   check=True, capture_output=True)
    wall = time.perf_counter() - started
    return {'steps': steps, 'wall_s': round(wall, 1), 'per_s': round(steps / wall, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--transitions', type=int, default=20_000)
    parser.add_argument('--graph-rollout', type=int, default=2048)
    parser.add_argument('--steps', type=int, default=300_000)
    parser.add_argument('--domain-id', type=int, default=93)
    parser.add_argument('--note', default='')
    parser.add_argument('--out', type=Path, required=True)
    args = parser.parse_args()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        graph = graph_rate(Path(tmp), args.transitions, args.graph_rollout, args.domain_id)
        in_process = in_process_rate(Path(tmp), args.steps)
    load_after = os.getloadavg()
    ratio = in_process['per_s'] / graph['per_s']
    record = {'graph': graph, 'in_process': in_process, 'ratio': round(ratio, 1),
              'load_before': load_before, 'load_after': load_after, 'note': args.note}
    hours = WALKING_STEPS / graph['per_s'] / 3600
    write_results(args.out, record, [
        '# A1 locomotion PPO: graph vs in-process training rate', '',
        f'{args.note}', '',
        '| path | amount | wall s | per second |', '|---|---|---|---|',
        f"| graph (1 simulated A1, lockstep, PPO rollouts of {args.graph_rollout}) | "
        f"{graph['transitions']} transitions | {graph['wall_s']} | {graph['per_s']} |",
        f"| in process (stage-1 config: 32 robots, 2 env workers) | {in_process['steps']} steps | "
        f"{in_process['wall_s']} | {in_process['per_s']} |", '',
        f'Time ratio graph / in-process: **{ratio:.1f}x**. The walking run\'s {WALKING_STEPS:,} '
        f'steps would take about {hours:.1f} h through this graph. Load average before '
        f'{[round(x, 2) for x in load_before]}, after {[round(x, 2) for x in load_after]}.'])


if __name__ == '__main__':
    main()
