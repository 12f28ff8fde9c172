# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The replay-driven update schedule shared by DQN and SAC."""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

import numpy as np

from robotrl_ros.agents.base import Agent
from robotrl_ros.agents.buffers import ReplayBuffer
from robotrl_ros.agents.schedules import UpdateCredit


class OffPolicyAgent(Agent):
    """Stores transitions in a replay buffer and runs the gradient steps they are owed.

    Subclasses set ``config`` (with ``batch_size`` and ``reward_scale``), ``buffer``,
    ``credit`` and ``env_steps`` and implement :meth:`_gradient_step`.
    """

    config: Any
    buffer: ReplayBuffer
    credit: UpdateCredit
    env_steps: int

    def _store(self, batch: Any, action: np.ndarray) -> None:
        """Add a checked transition batch (with ``action`` as stored) and earn update credit."""
        self.buffer.add(batch.obs, action, batch.reward * self.config.reward_scale,
                        batch.next_obs, batch.terminated)
        self.env_steps += len(batch.obs)
        self.credit.add(len(batch.obs), self.env_steps)

    def ready(self) -> bool:
        """True after ``learning_starts`` transitions, once an update is due."""
        return len(self.buffer) >= self.config.batch_size and self.credit.due()

    def update(self) -> dict[str, float]:
        """Run the due gradient updates (``updates_per_step`` per new transition)."""
        metrics: dict[str, float] = {}
        for _ in range(self.credit.take()):
            metrics = self._gradient_step()
        return metrics

    @abstractmethod
    def _gradient_step(self) -> dict[str, float]:
        """One minibatch update; returns its metrics."""
