# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Shared by benchmark scripts: print a results table and write it next to its JSON record."""

from __future__ import annotations

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
