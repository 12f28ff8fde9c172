# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Tabular Q-learning (Watkins 1989) with ε-greedy exploration and decaying schedules.

Observations are mapped to a table row by per-dimension bins: dimension ``d`` with ``bins[d]``
cells spans ``[low[d], high[d]]``. With ``low``/``high`` left empty the observation entries are
integers ``0 .. bins[d]-1`` (e.g. a gridworld's ``(row, col)``). The update is
``Q(s,a) += lr * (r + gamma * (1 - terminated) * max_a' Q(s',a') - Q(s,a))``; a time-limit
truncation still bootstraps. ε and the learning rate decay linearly from their start to their
end value over ``exploration_steps`` and ``lr_decay_steps`` transitions.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from robotrl_ros.agents.base import Agent
from robotrl_ros.agents.checks import check_algo, obs_batch, transition_batch
from robotrl_ros.agents.config import build_config, config_to_dict
from robotrl_ros.agents.schedules import linear_schedule
from robotrl_ros.agents.seeding import AgentRng

MAX_TABLE_ENTRIES = 10_000_000


@dataclass
class QLearningConfig:
    """Q-learning hyperparameters (defaults tuned for the gridworld).

    Attributes:
        bins: Cells per observation dimension (required: one entry per dimension).
        low: Lower edge per dimension for binning continuous values (empty: integer states).
        high: Upper edge per dimension (empty: integer states).
        gamma: Discount factor.
        learning_rate: Initial step size.
        lr_end: Final step size.
        lr_decay_steps: Transitions over which the step size decays linearly (0: constant).
        eps_start: Initial exploration ε.
        eps_end: Final exploration ε.
        exploration_steps: Transitions over which ε decays linearly.
        init_q: Initial table value (optimistic values speed up exploration).
    """

    bins: tuple[int, ...] = ()
    low: tuple[float, ...] = ()
    high: tuple[float, ...] = ()
    gamma: float = 0.99
    learning_rate: float = 0.5
    lr_end: float = 0.1
    lr_decay_steps: int = 10_000
    eps_start: float = 1.0
    eps_end: float = 0.05
    exploration_steps: int = 5_000
    init_q: float = 0.0


class TabularPolicy(nn.Module):
    """Greedy lookup in a Q-table after binning; ``explore`` is ε-greedy (TorchScript-able)."""

    def __init__(self, q_table: torch.Tensor, low: torch.Tensor, high: torch.Tensor,
                 bins: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer('q_table', q_table)
        self.register_buffer('low', low)
        self.register_buffer('high', high)
        self.register_buffer('bins', bins)
        strides = torch.ones_like(bins)
        for d in range(len(bins) - 2, -1, -1):
            strides[d] = strides[d + 1] * bins[d + 1]
        self.register_buffer('strides', strides)
        self.register_buffer('epsilon', torch.tensor(0.05))

    def state_index(self, obs: torch.Tensor) -> torch.Tensor:
        """Row of the table for each observation (int64 ``[B]``)."""
        cell = torch.floor((obs - self.low) / (self.high - self.low) * self.bins)
        cell = torch.minimum(torch.clamp(cell, min=0.0), (self.bins - 1).to(cell.dtype))
        return (cell.to(torch.int64) * self.strides).sum(-1)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """Greedy action indices (int64 ``[B]``)."""
        return torch.argmax(self.q_table[self.state_index(obs)], dim=-1)

    @torch.jit.export
    def explore(self, obs: torch.Tensor) -> torch.Tensor:
        """ε-greedy action indices."""
        greedy = self.forward(obs)
        random = torch.randint(0, self.q_table.shape[1], greedy.shape, dtype=torch.int64)
        return torch.where(torch.rand(greedy.shape) < self.epsilon, random, greedy)


class QLearning(Agent):
    """Tabular Q-learning over binned observations and discrete actions.

    Args:
        obs_dim: Observation length (= number of binned dimensions).
        action_dim: Number of discrete actions.
        discrete: Must be True.
        config: Hyperparameter overrides (keys of :class:`QLearningConfig`); ``bins`` required.
        seed: Seed of exploration.
    """

    name = 'q_learning'
    discrete = True

    def __init__(self, obs_dim: int, action_dim: int, discrete: bool = True,
                 config: dict[str, Any] | None = None, seed: int = 0) -> None:
        if not discrete:
            raise ValueError('q_learning: needs discrete actions (e.g. task gridworld or '
                             'reach_discrete)')
        self.config = cfg = build_config(QLearningConfig, config, self.name)
        if len(cfg.bins) != obs_dim or min(cfg.bins, default=0) < 1:
            raise ValueError(f'q_learning: config key \'bins\' must list a positive cell count '
                             f'for each of the {obs_dim} observation dimensions, got '
                             f'{list(cfg.bins)}')
        if (len(cfg.low), len(cfg.high)) == (0, 0):
            low = [-0.5] * obs_dim                        # integer states 0 .. bins-1
            high = [b - 0.5 for b in cfg.bins]
        elif len(cfg.low) == len(cfg.high) == obs_dim:
            low, high = list(cfg.low), list(cfg.high)
            if any(h <= lo for lo, h in zip(low, high, strict=True)):
                raise ValueError(f'q_learning: config needs high > low in every dimension, got '
                                 f'low={low} high={high}')
        else:
            raise ValueError(f'q_learning: config keys \'low\' and \'high\' must both be empty '
                             f'(integer states) or have {obs_dim} entries')
        n_states = int(np.prod(cfg.bins))
        if n_states * action_dim > MAX_TABLE_ENTRIES:
            raise ValueError(f'q_learning: table of {n_states} states x {action_dim} actions '
                             f'exceeds {MAX_TABLE_ENTRIES} entries; use fewer bins')
        self.obs_dim, self.n_actions, self.n_states = obs_dim, action_dim, n_states
        self.rng = AgentRng(seed)
        self.policy = TabularPolicy(
            torch.full((n_states, action_dim), cfg.init_q, dtype=torch.float64),
            torch.tensor(low, dtype=torch.float32), torch.tensor(high, dtype=torch.float32),
            torch.tensor(cfg.bins, dtype=torch.int64))
        self.q_table = self.policy.q_table.numpy()       # shares memory with the module
        self.pending: list[tuple[np.ndarray, ...]] = []
        self.env_steps = 0
        self.updates = 0

    @property
    def epsilon(self) -> float:
        """Current exploration rate."""
        cfg = self.config
        return linear_schedule(cfg.eps_start, cfg.eps_end, self.env_steps, cfg.exploration_steps)

    @property
    def learning_rate(self) -> float:
        """Current step size."""
        cfg = self.config
        return linear_schedule(cfg.learning_rate, cfg.lr_end, self.env_steps, cfg.lr_decay_steps)

    def state_index(self, obs: np.ndarray) -> np.ndarray:
        """Table rows of a batch of observations."""
        return self.policy.state_index(torch.from_numpy(obs)).numpy()

    def act(self, obs: np.ndarray, deterministic: bool = False) -> np.ndarray:
        """Greedy (ties broken at random) if ``deterministic``, else ε-greedy."""
        obs_arr = obs_batch(self.name, obs, self.obs_dim)
        q = self.q_table[self.state_index(obs_arr)]
        if deterministic:
            return self.policy(torch.from_numpy(obs_arr)).numpy()
        ties = q == q.max(axis=1, keepdims=True)
        greedy = np.array([self.rng.np.choice(np.flatnonzero(row)) for row in ties])
        explore = self.rng.np.random(len(q)) < self.epsilon
        random = self.rng.np.integers(0, self.n_actions, len(q))
        return np.where(explore, random, greedy).astype(np.int64)

    def observe(self, obs: np.ndarray, action: np.ndarray, reward: np.ndarray,
                next_obs: np.ndarray, terminated: np.ndarray, truncated: np.ndarray) -> None:
        """Queue transitions for the next :meth:`update`."""
        b = transition_batch(self.name, self.obs_dim, self.n_actions, True, obs, action, reward,
                             next_obs, terminated, truncated)
        self.pending.append((self.state_index(b.obs), b.action, b.reward.astype(np.float64),
                             self.state_index(b.next_obs), b.terminated))

    def ready(self) -> bool:
        """True when transitions are queued (tabular updates are cheap: do them every step)."""
        return bool(self.pending)

    def update(self) -> dict[str, float]:
        """Apply the TD update to every queued transition, in order."""
        cfg, errors = self.config, []
        for states, actions, rewards, next_states, terminated in self.pending:
            for s, a, r, s2, term in zip(states, actions, rewards, next_states, terminated,
                                         strict=True):
                target = r + (0.0 if term else cfg.gamma * self.q_table[s2].max())
                error = target - self.q_table[s, a]
                self.q_table[s, a] += self.learning_rate * error
                errors.append(abs(error))
                self.env_steps += 1
        self.pending = []
        self.updates += 1
        return {'td_error': float(np.mean(errors)), 'epsilon': self.epsilon,
                'learning_rate': self.learning_rate}

    def state_dict(self) -> dict[str, Any]:
        """Q-table, queued transitions, counters and RNG."""
        pending = [tuple(torch.from_numpy(np.asarray(x)) for x in item) for item in self.pending]
        return {'algo': self.name, 'config': config_to_dict(self.config),
                'q_table': torch.from_numpy(self.q_table.copy()), 'pending': pending,
                'rng': self.rng.state_dict(), 'env_steps': self.env_steps,
                'updates': self.updates}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore everything written by :meth:`state_dict`."""
        check_algo(self.name, state)
        table = np.asarray(state['q_table'])
        if table.shape != self.q_table.shape:
            raise ValueError(f'q_learning: checkpoint table shape {table.shape} does not match '
                             f'{self.q_table.shape} (different bins or actions)')
        self.q_table[...] = table
        self.pending = [tuple(x.numpy() for x in item) for item in state['pending']]
        self.rng.load_state_dict(state['rng'])
        self.env_steps = int(state['env_steps'])
        self.updates = int(state['updates'])

    def policy_module(self) -> nn.Module:
        """A snapshot of binning + table lookup; ``explore`` uses the current ε."""
        module = copy.deepcopy(self.policy)
        module.epsilon.fill_(self.epsilon)
        return module

