# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The small API every agent shares, so one training loop and the trainer node drive them all.

Batched everywhere: observations are ``(n_envs, obs_dim)``; actions ``(n_envs, act_dim)`` for
continuous agents or ``(n_envs,)`` integer indices for discrete ones.

The loop is the same in-process and on the ROS graph::

    action = agent.act(obs)                               # explore
    next_obs, reward, terminated, truncated, _ = env.step(action)
    agent.observe(obs, action, reward, next_obs, terminated, truncated)
    if agent.ready():
        metrics = agent.update()
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

import numpy as np
import torch

from robotrl_ros.util.durable import atomic_write


class Agent(ABC):
    """Base class of all learning algorithms.

    Attributes:
        name: Algorithm name as used by the CLI (``q_learning``, ``dqn``, ``reinforce``, ``ppo``,
            ``sac``).
        discrete: Whether actions are indices into a discrete action table.
        rollout_state_key: Key of :meth:`state_dict` holding an on-policy agent's partial
            rollout (None: off-policy, nothing to drop). A warm start keeps the weights and
            optimizer but not that rollout: the old policy collected it, with the old run's
            number of envs.
    """

    name: str = ''
    discrete: bool = False
    rollout_state_key: str | None = None

    @abstractmethod
    def act(self, obs: np.ndarray, deterministic: bool = False) -> np.ndarray:
        """Choose actions for a batch of observations (sampled unless ``deterministic``)."""

    @abstractmethod
    def observe(self, obs: np.ndarray, action: np.ndarray, reward: np.ndarray,
                next_obs: np.ndarray, terminated: np.ndarray, truncated: np.ndarray) -> None:
        """Record a batch of transitions (one per env).

        ``next_obs`` is the true next state, not the reset observation, when an episode ended.
        """

    @abstractmethod
    def ready(self) -> bool:
        """Whether :meth:`update` has enough data to run now."""

    @abstractmethod
    def update(self) -> dict[str, float]:
        """Run one learning update and return scalar metrics (losses, entropy, ...)."""

    @abstractmethod
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume: networks, optimizers, buffers, counters, RNG."""

    @abstractmethod
    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore from :meth:`state_dict`."""

    @abstractmethod
    def policy_module(self) -> torch.nn.Module:
        """A deterministic ``obs -> action`` module for export.

        Continuous agents return actions in [-1, 1]; discrete agents return indices, which the
        exporter maps through the task's action table.

        It may define ``explore(obs)`` (stochastic action) for the policy node's explore mode.
        """

    def save(self, path: str | Path) -> None:
        """Write :meth:`state_dict` to ``path`` atomically and durably (fsync, then rename)."""
        state = self.state_dict()
        atomic_write(path, lambda handle: torch.save(state, handle))

    def load(self, path: str | Path) -> None:
        """Load a checkpoint written by :meth:`save` (``weights_only``: no arbitrary pickle)."""
        try:
            state = torch.load(Path(path), map_location='cpu', weights_only=True)
        except FileNotFoundError:
            raise
        except Exception as exc:  # noqa: BLE001 - any decode failure means a corrupt file
            raise ValueError(f'checkpoint {path} is corrupt or not a robotrl checkpoint: '
                             f'{exc}') from exc
        self.load_state_dict(state)
