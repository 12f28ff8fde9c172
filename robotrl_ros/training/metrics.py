# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Training metrics: ``metrics.csv``, TensorBoard events and ``learning_curve.png``.

One row every ``log_every`` env steps with the recent episode statistics; the agent's update
metrics (losses, entropy, ...) go to TensorBoard under ``train/``. On resume, rows and events
after the checkpoint's step are dropped, so the files read as one uninterrupted run.
"""

from __future__ import annotations

import csv
import math
import time
from pathlib import Path
from typing import Any

import numpy as np

from robotrl_ros.training.loop import Callback, LoopState

METRICS_CSV = 'metrics.csv'
CURVE_PNG = 'learning_curve.png'
TENSORBOARD_DIR = 'tensorboard'
COLUMNS = ('step', 'episodes', 'updates', 'time_s', 'steps_per_s', 'return_mean', 'return_std',
           'length_mean', 'success_rate')


def read_metrics(path: str | Path) -> list[dict[str, float]]:
    """Rows of a ``metrics.csv`` as floats (NaN for empty cells)."""
    with open(path, newline='') as handle:
        return [{k: float(v) if v != '' else math.nan for k, v in row.items()}
                for row in csv.DictReader(handle)]


def metrics_row(state: LoopState, steps_per_s: float) -> dict[str, Any]:
    """The ``metrics.csv`` row describing ``state`` now."""
    returns = np.asarray(state.recent_returns, dtype=np.float64)
    return {
        'step': state.step, 'episodes': state.episodes, 'updates': state.updates,
        'time_s': round(state.wall_time, 3), 'steps_per_s': round(steps_per_s, 1),
        'return_mean': float(returns.mean()) if returns.size else '',
        'return_std': float(returns.std()) if returns.size else '',
        'length_mean': float(np.mean(state.recent_lengths)) if state.recent_lengths else '',
        'success_rate': float(np.mean(state.recent_success)) if state.recent_success else '',
    }


def plot_learning_curve(csv_path: str | Path, png_path: str | Path, title: str = '') -> None:
    """Plot recent mean return (± std) against env steps from a ``metrics.csv``."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    rows = [r for r in read_metrics(csv_path) if not math.isnan(r['return_mean'])]
    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    if rows:
        steps = np.array([r['step'] for r in rows])
        mean = np.array([r['return_mean'] for r in rows])
        std = np.array([r['return_std'] for r in rows])
        ax.plot(steps, mean, color='tab:blue', label='mean return (recent episodes)')
        ax.fill_between(steps, mean - std, mean + std, color='tab:blue', alpha=0.2)
        ax.legend(loc='lower right')
    else:
        ax.text(0.5, 0.5, 'no finished episode yet', ha='center', transform=ax.transAxes)
    ax.set_xlabel('environment steps')
    ax.set_ylabel('episode return')
    ax.set_title(title)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(png_path)
    plt.close(fig)


class MetricsCallback(Callback):
    """Write metrics every ``log_every`` env steps and the learning curve at the end.

    Args:
        run_dir: Run directory (files are created there).
        log_every: Env steps between rows.
        title: Title of the learning-curve plot.
        tensorboard: Also write TensorBoard events to ``run_dir/tensorboard``.
    """

    def __init__(self, run_dir: str | Path, log_every: int, title: str = '',
                 tensorboard: bool = True) -> None:
        self.run_dir = Path(run_dir)
        self.csv_path = self.run_dir / METRICS_CSV
        self.log_every, self.title, self.tensorboard = log_every, title, tensorboard
        self._writer = None
        self._next = 0
        self._last_time = 0.0
        self._last_step = 0

    def on_start(self, state: LoopState) -> None:  # noqa: D102
        self.run_dir.mkdir(parents=True, exist_ok=True)
        kept = []
        if state.step > 0 and self.csv_path.is_file():
            with open(self.csv_path, newline='') as handle:
                # Keep the regular rows up to the checkpoint; an end-of-run row written when
                # the run stopped off the log grid is dropped, as an uninterrupted run lacks it.
                kept = [r for r in csv.DictReader(handle)
                        if int(float(r['step'])) <= state.step
                        and int(float(r['step'])) % self.log_every == 0]
        with open(self.csv_path, 'w', newline='') as handle:
            writer = csv.DictWriter(handle, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(kept)
        if self.tensorboard:
            from torch.utils.tensorboard import SummaryWriter
            self._writer = SummaryWriter(str(self.run_dir / TENSORBOARD_DIR),
                                         purge_step=state.step + 1 if state.step else None)
        self._next = (state.step // self.log_every + 1) * self.log_every
        self._last_time, self._last_step = time.perf_counter(), state.step

    def on_step(self, state: LoopState) -> None:  # noqa: D102
        if state.step >= self._next:
            self.write(state)
            self._next = (state.step // self.log_every + 1) * self.log_every

    def on_end(self, state: LoopState) -> None:  # noqa: D102
        if state.step > self._last_step:
            self.write(state)
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        plot_learning_curve(self.csv_path, self.run_dir / CURVE_PNG, self.title)

    def write(self, state: LoopState) -> dict[str, Any]:
        """Append one row for ``state`` (and its TensorBoard scalars); returns the row."""
        now = time.perf_counter()
        rate = (state.step - self._last_step) / max(now - self._last_time, 1e-9)
        self._last_time, self._last_step = now, state.step
        row = metrics_row(state, rate)
        with open(self.csv_path, 'a', newline='') as handle:
            csv.DictWriter(handle, fieldnames=COLUMNS).writerow(row)
        if self._writer is not None:
            for key in COLUMNS[1:]:
                if row[key] != '':
                    self._writer.add_scalar(f'rollout/{key}', row[key], state.step)
            for key, value in state.last_update.items():
                self._writer.add_scalar(f'train/{key}', value, state.step)
            self._writer.flush()
        return row
