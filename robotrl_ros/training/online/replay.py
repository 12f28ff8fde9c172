# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Train offline from an MCAP recording (the trainer node's ``replay_mcap`` mode).

The recording is paired with the same rules as the live stream and fed to the learner with the
same update-to-data ratio, so a session recorded on a robot can be re-trained (or used to
pre-train) without the robot. Command line::

    robotrl replay --mcap rec.mcap --task reach --out runs/off
    python -m robotrl_ros.training.online.replay --mcap rec.mcap --task reach --out runs/off
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from robotrl_ros.tasks.registry import make_task
from robotrl_ros.training.online.learner import OnlineLearner
from robotrl_ros.training.online.pairing import TransitionPairer
from robotrl_ros.training.online.recording import read_events, replay_transitions


def train_from_recording(learner: OnlineLearner, path: str | Path, task: str) -> dict[str, Any]:
    """Pair ``path`` and learn from every transition, running the updates that fall due.

    Args:
        learner: The learner (its log stores the replayed transitions too).
        path: MCAP recording (ours, or any ROS 2 MCAP with joint_states and commands).
        task: Task that scores the transitions.

    Returns:
        Counts: transitions, updates, and the pairing counters.

    Raises:
        ValueError: Unreadable file, or a recording without the task's joints.
    """
    uses_resets = any(e.kind == 'reset' for e in read_events(path))
    pairer = TransitionPairer(make_task(task), use_resets=uses_resets)
    before = dict(learner.counters)
    for tr in replay_transitions(path, pairer):
        learner.add(tr)
        learner.train(1_000_000)
    learner.sync()
    return {'transitions': learner.counters['transitions'] - before['transitions'],
            'updates': learner.counters['updates'] - before['updates'],
            'pairing': pairer.counters()}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The replay options (shared by ``robotrl replay`` and this module's ``main``)."""
    parser.add_argument('--mcap', required=True, type=Path, help='recording to train from')
    parser.add_argument('--task', required=True, help='task name (reward and observation)')
    parser.add_argument('--algo', default='sac', help='algorithm (default sac)')
    parser.add_argument('--out', required=True, type=Path, help='output directory')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--config', default='', help='hyperparameter YAML override')


def run_replay(args: argparse.Namespace) -> dict[str, Any]:
    """Train from ``args.mcap`` into ``args.out``; returns the artifact path and the counts.

    Raises:
        ValueError: Missing or unreadable recording, unknown task or algorithm.
    """
    from robotrl_ros.training.online.session import OnlineSession, SessionConfig
    if not Path(args.mcap).is_file():
        raise ValueError(f'no such file: {args.mcap}')
    session = OnlineSession(SessionConfig(task=args.task, algo=args.algo,
                                          output_dir=str(args.out), seed=args.seed,
                                          config=str(args.config or ''), use_resets=False,
                                          replay_mcap=str(args.mcap)))
    artifact = session.finish()
    session.close()
    return {'artifact': str(artifact), **session.replayed}


def main(argv: Sequence[str] | None = None) -> int:
    """Offline training from a recording; writes the policy artifact to ``<out>/policy``."""
    parser = argparse.ArgumentParser(prog='python -m robotrl_ros.training.online.replay',
                                     description=__doc__.splitlines()[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        result = run_replay(args)
    except ValueError as exc:
        print(f'replay: {exc}', file=sys.stderr)
        return 2
    print(json.dumps(result))
    return 0


if __name__ == '__main__':
    sys.exit(main())
