# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Command line for offline training from an MCAP recording (the ``replay_mcap`` mode).

An :class:`~robotrl_ros.training.online.session.OnlineSession` trains from the recording
(:func:`~robotrl_ros.training.online.offline.train_from_recording`) and exports the policy::

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

from robotrl_ros.training.online.session import OnlineSession, SessionConfig


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
