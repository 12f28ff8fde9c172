# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Choosing the DR policy of ``sim2real.py`` among the snapshots of one DR training run.

A DR run keeps its exported policy every few hundred thousand steps (``step_<N>/policy``, e.g.
segments of ``robotrl train --resume``); each is evaluated on the nominal and the shifted
simulator with a *validation* seed (not the report's evaluation seed), and the one that is best
on both is deployed: the highest of the two successes' minimum, then their sum, then the fewer
falls on the shifted simulator, then the later snapshot. Given the worst-case robot (the corner
of the shift where the nominal policy does worst, which the report also judges), each snapshot
is validated on it too and the minimum and sum run over all three.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

SNAPSHOT = re.compile(r'step_(\d+)')
SELECTION_FILE = 'selection.json'
#: The simulators a snapshot is validated on (``worst`` only when it is given).
ROBOTS = ('nominal', 'shifted', 'worst')


def snapshot_dirs(root: Path) -> list[tuple[int, Path]]:
    """``(step, directory)`` of every ``step_<N>`` folder of ``root`` holding ``policy/``.

    Raises:
        ValueError: ``root`` has no such snapshot.
    """
    found = sorted((int(m.group(1)), path) for path in Path(root).iterdir()
                   if (m := SNAPSHOT.fullmatch(path.name)) and (path / 'policy').is_dir())
    if not found:
        raise ValueError(f'{root}: no step_<N>/policy snapshot to choose from')
    return found


def pick_snapshot(scores: list[dict[str, Any]]) -> dict[str, Any]:
    """The best of validated snapshots (see the module docstring for the order).

    Args:
        scores: One dict per snapshot: ``step``, ``nominal``, ``shifted`` and optionally
            ``worst`` (each with ``success`` and optionally ``falls``).

    Raises:
        ValueError: ``scores`` is empty.
    """
    if not scores:
        raise ValueError('no validated snapshot to pick from')

    def rank(score: dict[str, Any]) -> tuple[float, float, float, int]:
        successes = [score[key]['success'] for key in ROBOTS if key in score]
        return (min(successes), sum(successes), -score['shifted'].get('falls', 0.0),
                score['step'])
    return max(scores, key=rank)


def select(root: Path, evaluate: Callable[[Path, dict | None], dict],
           shifted: dict[str, Any], seed: int, episodes: int,
           worst: dict[str, Any] | None = None) -> dict[str, Any]:
    """Validate every snapshot of ``root``, write ``root/selection.json`` and return it.

    Args:
        root: Folder of ``step_<N>/policy`` snapshots.
        evaluate: ``evaluate(artifact_dir, randomization)`` -> success, return (and falls), on
            the validation seed and episode count. Evaluations an earlier selection in
            ``root`` made with the same seed, episodes and robot are not made again.
        shifted: The randomization of the shifted simulator.
        seed: The validation seed (recorded).
        episodes: Episodes per evaluation (recorded).
        worst: The worst-case robot's randomization, validated on too when given.
    """
    robots = {'nominal': None, 'shifted': shifted, **({'worst': worst} if worst else {})}
    known = _previous_scores(Path(root), robots, seed, episodes)
    scores = []
    for step, path in snapshot_dirs(root):
        score = {'step': step, 'dir': str(path)}
        for key, robot in robots.items():
            score[key] = known.get((step, key)) or evaluate(path / 'policy', robot)
        print(f'  snapshot {step}: ' + ', '.join(f'{key} {score[key]}' for key in robots),
              flush=True)
        scores.append(score)
    chosen = pick_snapshot(scores)
    over = ', '.join(robots)
    selection = {'validation_seed': seed, 'episodes': episodes, 'shifted': shifted,
                 **({'worst': worst} if worst else {}),
                 'rule': f'max min(success {over}), then their sum, then fewer falls shifted, '
                         'then the later step',
                 'chosen_step': chosen['step'], 'chosen_dir': chosen['dir'], 'scores': scores}
    (Path(root) / SELECTION_FILE).write_text(json.dumps(selection, indent=2))
    return selection


def _previous_scores(root: Path, robots: dict[str, dict | None], seed: int,
                     episodes: int) -> dict[tuple[int, str], dict[str, Any]]:
    """``{(step, robot key): result}`` of an earlier selection in ``root`` on the same robots.

    Evaluations are deterministic given the seed, episodes and robot, so a run that gained
    snapshots (or a selection that gained the worst-case robot) is only evaluated on what is new.
    """
    path = root / SELECTION_FILE
    if not path.is_file():
        return {}
    previous = json.loads(path.read_text())
    if (previous.get('validation_seed'), previous.get('episodes')) != (seed, episodes):
        return {}
    same = [key for key, robot in robots.items()
            if key == 'nominal' or previous.get(key) == robot]
    return {(score['step'], key): score[key] for score in previous.get('scores', [])
            for key in same if key in score}


def selection_of(run_dir: Path) -> dict[str, Any] | None:
    """The selection that chose ``run_dir`` (``selection.json`` beside it), if any."""
    path = Path(run_dir).parent / SELECTION_FILE
    if not path.is_file():
        return None
    return json.loads(path.read_text())
