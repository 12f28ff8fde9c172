# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""``~/status`` publishing: a JSON document on std_msgs/String, one per period."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from std_msgs.msg import String


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def status_message(fields: dict[str, Any]) -> String:
    """Serialize status fields (NumPy values and NaN allowed) to a JSON String message."""
    return String(data=json.dumps(_plain(fields), sort_keys=True))


def percentiles(samples: list[float] | np.ndarray, qs: tuple[int, ...] = (50, 90, 99)
                ) -> dict[str, float | None]:
    """``{'p50': ..., 'p90': ..., 'p99': ...}`` of ``samples`` (None when empty).

    NumPy's default (linear) percentile from one sort: ``np.percentile`` costs several times
    more, and this runs in the control loop's thread once per status report.
    """
    values = np.sort(np.asarray(samples, dtype=np.float64))
    last = len(values) - 1
    result: dict[str, float | None] = {}
    for q in qs:
        if last < 0:
            result[f'p{q}'] = None
            continue
        position = last * q / 100.0
        low = int(position)
        high = min(low + 1, last)
        result[f'p{q}'] = float(values[low] + (position - low) * (values[high] - values[low]))
    return result
