# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Running mean and variance (parallel Welford update), as used for observation normalization."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch


class RunningMeanStd:
    """Mean and variance of a stream of batches ``[B, *shape]``.

    Uses Chan et al.'s parallel combination, so a batch of 8 counts as 8 samples.

    Args:
        shape: Shape of one sample.
        epsilon: Initial pseudo-count (keeps the first update from dividing by zero).
    """

    def __init__(self, shape: tuple[int, ...], epsilon: float = 1e-4) -> None:
        self.mean = np.zeros(shape, dtype=np.float64)
        self.var = np.ones(shape, dtype=np.float64)
        self.count = float(epsilon)

    def update(self, batch: np.ndarray) -> None:
        """Fold a batch of samples (first axis = batch) into the statistics."""
        batch = np.asarray(batch, dtype=np.float64)
        batch_count = batch.shape[0]
        # What batch.mean(0) and batch.var(0) compute, without their Python-level wrappers.
        batch_mean = np.add.reduce(batch, axis=0) / batch_count
        centered = batch - batch_mean
        batch_var = np.add.reduce(centered * centered, axis=0) / batch_count
        delta = batch_mean - self.mean
        total = self.count + batch_count
        self.mean = self.mean + delta * batch_count / total
        m2 = self.var * self.count + batch_var * batch_count \
            + delta ** 2 * self.count * batch_count / total
        self.var = m2 / total
        self.count = total

    @property
    def std(self) -> np.ndarray:
        """Standard deviation (with a 1e-8 floor inside the root)."""
        return np.sqrt(self.var + 1e-8)

    def normalize(self, x: np.ndarray, clip: float = 10.0) -> np.ndarray:
        """``clip((x - mean) / std, ±clip)``."""
        return np.clip((np.asarray(x) - self.mean) / self.std, -clip, clip)

    def state_dict(self) -> dict[str, Any]:
        """Tensors and numbers (``weights_only``-loadable) for checkpoints."""
        return {'mean': torch.from_numpy(self.mean.copy()),
                'var': torch.from_numpy(self.var.copy()), 'count': self.count}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore from :meth:`state_dict`."""
        self.mean = np.asarray(state['mean'], dtype=np.float64).copy()
        self.var = np.asarray(state['var'], dtype=np.float64).copy()
        self.count = float(state['count'])
