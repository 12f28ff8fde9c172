# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Schedules: linear decay (ε, learning rate) and the update budget of off-policy agents."""

from __future__ import annotations

from typing import Any


def linear_schedule(start: float, end: float, step: int, duration: int) -> float:
    """``start`` moving linearly to ``end`` over ``duration`` steps, then ``end``.

    A ``duration`` of 0 or less means constant ``start``.
    """
    if duration <= 0:
        return start
    return start + min(1.0, step / duration) * (end - start)


class UpdateCredit:
    """Gradient updates owed to an off-policy agent: ``rate`` per transition after a warm-up.

    Fractions accumulate, so ``rate=0.25`` runs one update every four transitions and
    ``rate=2`` two updates per transition.

    Args:
        rate: Updates per observed transition.
        warmup: Transitions observed before any update is owed.
    """

    def __init__(self, rate: float, warmup: int) -> None:
        self.rate = float(rate)
        self.warmup = int(warmup)
        self.credit = 0.0

    def add(self, n_new: int, total: int) -> None:
        """Account for ``n_new`` transitions, ``total`` observed so far (including them)."""
        if total >= self.warmup:
            self.credit += n_new * self.rate

    def due(self) -> bool:
        """Whether at least one whole update is owed."""
        return self.credit >= 1.0

    def take(self) -> int:
        """Claim the whole updates owed (at least one)."""
        n = max(1, int(self.credit))
        self.credit = max(0.0, self.credit - n)
        return n

    def state_dict(self) -> dict[str, Any]:
        """The owed fraction (for exact resume)."""
        return {'credit': self.credit}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore from :meth:`state_dict`."""
        self.credit = float(state['credit'])
