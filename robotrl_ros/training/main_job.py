# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""``make run``: train ``reach`` in-process, export the policy, evaluate the artifact.

The end-to-end path a user takes with ``robotrl train`` + ``robotrl eval``, in one process:
train SAC (the fastest learner on ``reach``) with the shipped hyperparameters, export the
deployable artifact, load it back as the policy node would, and report its measured success
rate on fresh episodes.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

import torch

from robotrl_ros.policy.artifact import load_artifact
from robotrl_ros.training.evaluate import EvalResult, evaluate_artifact
from robotrl_ros.training.experiment import train_run

TASK = 'reach'
ALGO = 'sac'
STEPS = 20_000
EVAL_EPISODES = 100


def train_and_evaluate(out: Path, algo: str = ALGO, steps: int = STEPS, seed: int = 0,
                       episodes: int = EVAL_EPISODES) -> tuple[EvalResult, dict[str, float]]:
    """Train ``algo`` on ``reach`` into ``out`` (replacing it), then evaluate the artifact.

    Returns:
        The evaluation and timing facts (``train_s``, ``steps_per_s``).
    """
    if out.exists():
        shutil.rmtree(out)
    started = time.perf_counter()
    result = train_run(TASK, algo, steps, seed, out, progress=sys.stderr)
    train_s = time.perf_counter() - started
    artifact = load_artifact(result.artifact)
    evaluation = evaluate_artifact(artifact, TASK, episodes, seed=seed + 10_000)
    return evaluation, {'train_s': round(train_s, 1),
                        'steps_per_s': round(result.state.step / train_s, 1)}


def main(argv: list[str] | None = None) -> int:
    """Run the main job; prints the artifact's measured success rate."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--algo', default=ALGO)
    parser.add_argument('--steps', type=int, default=STEPS)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', type=Path, default=Path('runs/main_job'))
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    print(f'robotrl_ros main job: {args.algo} on {TASK} for {args.steps} steps -> {args.out}',
          file=sys.stderr)
    evaluation, timing = train_and_evaluate(args.out, args.algo, args.steps, args.seed)
    print(json.dumps({**evaluation.to_dict(), 'algo': args.algo, 'steps': args.steps,
                      **timing, 'policy': str(args.out / 'policy')}))
    print(f'{args.algo} on {TASK}: success rate {evaluation.success_rate:.0%} over '
          f'{evaluation.episodes} episodes of the exported artifact (mean return '
          f'{evaluation.mean_return:.1f}); trained {args.steps} steps in {timing["train_s"]}s')
    return 0


if __name__ == '__main__':
    sys.exit(main())
