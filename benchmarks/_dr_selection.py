# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Choosing the DR policy of ``sim2real.py`` among the snapshots of one DR training run.

A DR run keeps its exported policy every few hundred thousand steps (``step_<N>/policy``, e.g.
segments of ``robotrl train --resume``); each is evaluated on the nominal and the shifted
simulator with a *validation* seed (not the report's evaluation seed), and the one that is best
on both is deployed: the highest of the two successes' minimum, then their sum, then the fewer
falls on the shifted simulator, then the later snapshot.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

SNAPSHOT = re.compile(r'step_(\d+)')
SELECTION_FILE = 'selection.json'


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
        scores: One dict per snapshot: ``step``, ``nominal`` and ``shifted`` (each with
            ``success`` and optionally ``falls``).

    Raises:
        ValueError: ``scores`` is empty.
    """
    if not scores:
        raise ValueError('no validated snapshot to pick from')

    def rank(score: dict[str, Any]) -> tuple[float, float, float, int]:
        nominal, shifted = score['nominal']['success'], score['shifted']['success']
        return (min(nominal, shifted), nominal + shifted, -score['shifted'].get('falls', 0.0),
                score['step'])
    return max(scores, key=rank)


def select(root: Path, evaluate: Callable[[Path, dict | None], dict],
           shifted: dict[str, Any], seed: int, episodes: int) -> dict[str, Any]:
    """Validate every snapshot of ``root``, write ``root/selection.json`` and return it.

    Args:
        root: Folder of ``step_<N>/policy`` snapshots.
        evaluate: ``evaluate(artifact_dir, randomization)`` -> success, return (and falls), on
            the validation seed and episode count. Snapshots already scored by an earlier
            selection in ``root`` with the same seed, episodes and shift are not evaluated
            again.
        shifted: The randomization of the shifted simulator.
        seed: The validation seed (recorded).
        episodes: Episodes per evaluation (recorded).
    """
    known = _previous_scores(Path(root), shifted, seed, episodes)
    scores = []
    for step, path in snapshot_dirs(root):
        if step in known:
            scores.append(known[step])
            continue
        score = {'step': step, 'dir': str(path),
                 'nominal': evaluate(path / 'policy', None),
                 'shifted': evaluate(path / 'policy', shifted)}
        print(f'  snapshot {step}: nominal {score["nominal"]}, shifted {score["shifted"]}',
              flush=True)
        scores.append(score)
    chosen = pick_snapshot(scores)
    selection = {'validation_seed': seed, 'episodes': episodes, 'shifted': shifted,
                 'rule': 'max min(success nominal, success shifted), then their sum, then '
                         'fewer falls shifted, then the later step',
                 'chosen_step': chosen['step'], 'chosen_dir': chosen['dir'], 'scores': scores}
    (Path(root) / SELECTION_FILE).write_text(json.dumps(selection, indent=2))
    return selection


def _previous_scores(root: Path, shifted: dict[str, Any], seed: int,
                     episodes: int) -> dict[int, dict[str, Any]]:
    """Scores of an earlier selection in ``root`` made with the same seed, episodes and shift.

    Evaluations are deterministic given those, so a run that gained snapshots since is only
    evaluated on the new ones.
    """
    path = root / SELECTION_FILE
    if not path.is_file():
        return {}
    previous = json.loads(path.read_text())
    if (previous.get('validation_seed'), previous.get('episodes'),
            previous.get('shifted')) != (seed, episodes, shifted):
        return {}
    return {score['step']: score for score in previous.get('scores', [])}


def selection_of(run_dir: Path) -> dict[str, Any] | None:
    """The selection that chose ``run_dir`` (``selection.json`` beside it), if any."""
    path = Path(run_dir).parent / SELECTION_FILE
    if not path.is_file():
        return None
    return json.loads(path.read_text())
