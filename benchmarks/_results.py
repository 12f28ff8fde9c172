# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Shared by benchmark scripts: results files, and a training run's learning curve."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any


def write_results(out: str | Path, record: dict[str, Any], lines: list[str]) -> None:
    """Print ``lines`` and write them to ``out``.md, ``record`` to ``out``.json."""
    text = '\n'.join(lines) + '\n'
    print(text)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix('.json').write_text(json.dumps(record, indent=2) + '\n')
    out.with_suffix('.md').write_text(text)


def read_curve(metrics: Path, every: int, keep_last: bool = False) -> list[dict[str, Any]]:
    """Rows of a training's ``metrics.csv`` at multiples of ``every`` steps.

    With ``keep_last`` the final row is kept too (a run stopped between multiples).
    """
    with metrics.open() as f:
        rows = list(csv.DictReader(f))
    picked = [row for row in rows if int(row['step']) % every == 0]
    if keep_last and rows and rows[-1] not in picked:
        picked.append(rows[-1])
    return [{'step': int(r['step']), 'time_s': float(r['time_s']),
             'return_mean': round(float(r['return_mean']), 2),
             'length_mean': round(float(r['length_mean']), 1),
             'success_rate': float(r['success_rate'])} for r in picked]
