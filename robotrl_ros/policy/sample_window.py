# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""A fixed-size window of the newest samples (latencies, event times) for status reports."""

from __future__ import annotations

import numpy as np


class SampleWindow:
    """The newest ``size`` float samples, kept in a preallocated ring buffer.

    Appending is one array store, made on every control step; reading (once per status
    report) copies the window without building Python lists.

    Args:
        size: How many of the newest samples are kept.

    Raises:
        ValueError: If ``size`` < 1.
    """

    def __init__(self, size: int = 2000) -> None:
        if size < 1:
            raise ValueError(f'SampleWindow size must be >= 1, got {size}')
        self._ring = np.zeros(size)
        self._size = size
        self.total = 0   # samples ever appended

    def append(self, value: float) -> None:
        """Add a sample, replacing the oldest one once the window is full."""
        self._ring[self.total % self._size] = value
        self.total += 1

    def __len__(self) -> int:
        return min(self.total, self._size)

    def values(self) -> np.ndarray:
        """A copy of the samples in the window, oldest first."""
        if self.total <= self._size:
            return self._ring[:self.total].copy()
        start = self.total % self._size
        return np.concatenate((self._ring[start:], self._ring[:start]))
