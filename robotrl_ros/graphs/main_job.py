# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""``make run``: train ``reach`` through the ROS graph, evaluate the artifact, deploy it briefly.

The product's main job, end to end as a user runs it:

1. **Train in simulation through the ``train_sim`` graph**, the one ``ros2 launch robotrl_ros
   train_sim.launch.py`` and ``robotrl up train_sim`` start: ``config/train_sim.yaml`` with the
   job's overrides on top (printed at the start), until a published policy reaches 95 % success
   (and 98 % on 100 held-out episodes) or the 10-minute budget is spent
   (:mod:`robotrl_ros.graphs.product_run`).
2. **Evaluate** the final artifact with ``robotrl eval`` (100 fresh episodes).
3. **Deploy** it briefly: the ``sim_eval`` graph (``sim_bridge`` + ``policy_node``,
   ``explore: false``) and the ``episode_monitor`` node measuring the success rate on the graph.

If the graph cannot run (a node fails to start), it says so and falls back to training the same
agent in-process (``--in-process`` forces that path): train, export, evaluate the artifact.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

from robotrl_ros.policy.artifact import load_artifact
from robotrl_ros.training.evaluate import EvalResult, evaluate_artifact
from robotrl_ros.training.experiment import train_run
from robotrl_ros.util.threads import limit_threads

TASK = 'reach'
ALGO = 'sac'
STEPS = 20_000
EVAL_EPISODES = 100
BUDGET_S = 600.0


def train_and_evaluate(out: Path, algo: str = ALGO, steps: int = STEPS, seed: int = 0,
                       episodes: int = EVAL_EPISODES) -> tuple[EvalResult, dict[str, float]]:
    """Train ``algo`` on ``reach`` in-process into ``out`` (replacing it), evaluate the artifact.

    Returns:
        The evaluation and timing facts (``train_s``, ``steps_per_s``).
    """
    if out.exists():
        shutil.rmtree(out)
    started = time.perf_counter()
    result = train_run(TASK, algo, steps, seed, out, progress=sys.stderr)
    train_s = time.perf_counter() - started
    artifact = load_artifact(result.artifact, allow_torchscript=True)   # this run's own output
    evaluation = evaluate_artifact(artifact, TASK, episodes, seed=seed + 10_000)
    return evaluation, {'train_s': round(train_s, 1),
                        'steps_per_s': round(result.state.step / train_s, 1)}


def run_in_process(args: argparse.Namespace, out: Path) -> int:
    """The in-process path (``--in-process``, or the fallback) into ``out``."""
    evaluation, timing = train_and_evaluate(out, args.algo, args.steps, args.seed)
    print(json.dumps({**evaluation.to_dict(), 'algo': args.algo, 'steps': args.steps,
                      **timing, 'policy': str(out / 'policy'), 'path': 'in-process'}))
    print(f'{args.algo} on {TASK}: success rate {evaluation.success_rate:.0%} over '
          f'{evaluation.episodes} episodes of the exported artifact (mean return '
          f'{evaluation.mean_return:.1f}); trained {args.steps} steps in {timing["train_s"]}s')
    return 0


def run_graph_job(args: argparse.Namespace) -> int:
    """Train through the graph, ``robotrl eval``, deploy; prints the measured success rates."""
    from robotrl_ros.graphs.product_run import run_product

    report = run_product(args.out / 'graph', args.algo, args.budget_s, args.seed,
                         progress=sys.stderr)
    train, evaluation, deploy = report['train'], report['eval'], report['deploy']
    print(json.dumps({'path': 'graph', 'algo': args.algo, 'task': TASK,
                      'train_wall_s': train['wall_s'], 'transitions': train['transitions'],
                      'reached_target': train['reached'] is not None,
                      'policy': train['artifact'], 'eval': evaluation, 'deploy': deploy}))
    reached = train['reached']
    held_out = (reached or {}).get('confirm_success')
    held_out = f' ({held_out:.0%} on 100 held-out episodes)' if held_out is not None else ''
    when = (f'reached 95 %{held_out} after {reached["published_s"]} s / '
            f'{reached["transitions"]} transitions'
            if reached else f'did not reach 95 % within {args.budget_s:.0f} s')
    print(f'{args.algo} on {TASK} through the train_sim graph (sim_bridge + policy_node + '
          f'trainer_node): {when}.\n'
          f'robotrl eval of the artifact: success rate {evaluation["success_rate"]:.0%} over '
          f'{evaluation["episodes"]} episodes (mean return {evaluation["mean_return"]:.1f}).\n'
          f'Deploy run (sim_eval graph: sim_bridge + policy_node, explore off): success rate '
          f'{deploy["success_rate"]:.0%} over {deploy["episodes"]} episodes.')
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the main job."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--algo', default=ALGO)
    parser.add_argument('--budget-s', type=float, default=BUDGET_S,
                        help='wall-clock budget of the graph training (s)')
    parser.add_argument('--steps', type=int, default=STEPS, help='in-process path: env steps')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', type=Path, default=Path('runs/main_job'))
    parser.add_argument('--in-process', action='store_true',
                        help='skip the ROS graph: train, export and evaluate in one process')
    args = parser.parse_args(argv)
    limit_threads(1)
    if args.in_process:
        return run_in_process(args, args.out)
    print(f'robotrl_ros main job: {args.algo} on {TASK} through the ROS graph (budget '
          f'{args.budget_s:.0f} s) -> {args.out / "graph"}', file=sys.stderr)
    try:
        return run_graph_job(args)
    except (RuntimeError, OSError, ImportError, ValueError) as exc:
        print(f'robotrl_ros main job: the ROS graph run failed ({exc}); falling back to '
              'in-process training of the same agent', file=sys.stderr)
        return run_in_process(args, args.out / 'in_process')


if __name__ == '__main__':
    sys.exit(main())
