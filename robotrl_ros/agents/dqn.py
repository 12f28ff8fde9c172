# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Deep Q-Network (Mnih et al. 2015) with double-DQN targets (van Hasselt et al. 2016).

CleanRL-style: a NumPy replay buffer, a target network synced every
``target_update_interval`` gradient steps (or Polyak-averaged with ``tau < 1``), a Huber TD
loss, and an ε-greedy behaviour policy whose ε decays linearly over ``exploration_steps``.

The loss is :func:`dqn_td_target` and :func:`dqn_td_loss`. With ``backend: torch`` the agent
acts and learns by autograd on them; with ``backend: fast`` (the default) acting and the TD
gradient run in NumPy on views of the same weights (:mod:`robotrl_ros.agents.fast.dqn`, tested
equal to autograd on :func:`dqn_td_loss`).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from robotrl_ros.agents.buffers import ReplayBuffer
from robotrl_ros.agents.checks import check_algo, obs_batch, transition_batch
from robotrl_ros.agents.config import backend_field, build_config, config_to_dict
from robotrl_ros.agents.fast.dqn import td_gradients, td_target
from robotrl_ros.agents.fast.mlp import FlatGrads, NumpyMLP
from robotrl_ros.agents.networks import ObsNormalizer, clip_grad_norm, mlp, soft_update
from robotrl_ros.agents.off_policy import OffPolicyAgent
from robotrl_ros.agents.optim import LeanAdam
from robotrl_ros.agents.policies import EpsilonGreedyQPolicy
from robotrl_ros.agents.schedules import UpdateCredit, linear_schedule
from robotrl_ros.agents.seeding import AgentRng


@dataclass
class DQNConfig:
    """DQN hyperparameters (defaults tuned for ``reach_discrete``).

    Attributes:
        buffer_size: Replay capacity (transitions).
        batch_size: Minibatch size per gradient update.
        learning_starts: Transitions collected before learning.
        learning_rate: Adam step size.
        gamma: Discount factor.
        updates_per_step: Gradient updates per observed transition (fractions accumulate).
        target_update_interval: Gradient steps between target-network updates.
        tau: Target update coefficient (1.0: hard copy).
        double_dqn: Pick next actions with the online network, score with the target.
        huber_delta: Huber loss threshold (0: plain squared error).
        eps_start: Initial exploration ε.
        eps_end: Final exploration ε.
        exploration_steps: Transitions over which ε decays linearly.
        max_grad_norm: Global gradient norm clip.
        reward_scale: Multiplies rewards before learning.
        hidden_sizes: Hidden layers of the Q-network.
        backend: ``fast`` (NumPy acting and TD gradient) or ``torch`` (autograd on
            :func:`dqn_td_loss`).
    """

    buffer_size: int = 50_000
    batch_size: int = 128
    learning_starts: int = 1000
    learning_rate: float = 1e-3
    gamma: float = 0.95
    updates_per_step: float = 0.5
    target_update_interval: int = 250
    tau: float = 1.0
    double_dqn: bool = True
    huber_delta: float = 1.0
    eps_start: float = 1.0
    eps_end: float = 0.05
    exploration_steps: int = 10_000
    max_grad_norm: float = 10.0
    reward_scale: float = 1.0
    hidden_sizes: tuple[int, ...] = (64, 64)
    backend: str = backend_field()


def dqn_td_target(q_net: nn.Module, target_net: nn.Module, rewards: torch.Tensor,
                  next_obs: torch.Tensor, terminated: torch.Tensor, gamma: float,
                  double_dqn: bool) -> torch.Tensor:
    """``r + γ (1 - done) Q'(s', a*)``; ``a*`` is the online net's argmax with double DQN."""
    with torch.no_grad():
        next_q_target = target_net(next_obs)
        if double_dqn:
            best = q_net(next_obs).argmax(-1, keepdim=True)
            next_q = next_q_target.gather(-1, best).squeeze(-1)
        else:
            next_q = next_q_target.max(-1).values
        return rewards + gamma * (1.0 - terminated) * next_q


def dqn_td_loss(q_net: nn.Module, obs: torch.Tensor, actions: torch.Tensor,
                target: torch.Tensor, huber_delta: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Huber (``huber_delta > 0``) or squared TD error of ``Q(s, a)``; also ``Q(s, a)``."""
    q = q_net(obs).gather(-1, actions[:, None]).squeeze(-1)
    if huber_delta > 0:
        return F.huber_loss(q, target, delta=huber_delta), q
    return F.mse_loss(q, target), q


class DQN(OffPolicyAgent):
    """DQN agent for discrete actions.

    Args:
        obs_dim: Observation length.
        action_dim: Number of discrete actions.
        discrete: Must be True.
        config: Hyperparameter overrides (keys of :class:`DQNConfig`).
        seed: Seed of network init, exploration and minibatch sampling.
    """

    name = 'dqn'
    discrete = True

    def __init__(self, obs_dim: int, action_dim: int, discrete: bool = True,
                 config: dict[str, Any] | None = None, seed: int = 0) -> None:
        if not discrete:
            raise ValueError('dqn: needs discrete actions (e.g. task reach_discrete); use sac '
                             'or ppo for continuous tasks')
        self.config = cfg = build_config(DQNConfig, config, self.name)
        self.obs_dim, self.n_actions = obs_dim, action_dim
        self.rng = AgentRng(seed)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.q_net = mlp(obs_dim, action_dim, cfg.hidden_sizes, 'relu')
        self.target_net = copy.deepcopy(self.q_net)
        self._params = list(self.q_net.parameters())
        self._fast = cfg.backend == 'fast'
        if self._fast:
            # Acting and the TD gradient run in NumPy on views of the weights (fast/dqn.py).
            self._q_np, self._target_np = NumpyMLP(self.q_net), NumpyMLP(self.target_net)
            self._grads = FlatGrads(self._params)
        self.optimizer = LeanAdam(self._params, lr=cfg.learning_rate)
        self.buffer = ReplayBuffer(cfg.buffer_size, obs_dim, (), np.int64)
        self.policy = EpsilonGreedyQPolicy(ObsNormalizer(obs_dim, enabled=False), self.q_net,
                                           action_dim)
        self.credit = UpdateCredit(cfg.updates_per_step, cfg.learning_starts)
        self.env_steps = 0
        self.updates = 0

    @property
    def epsilon(self) -> float:
        """Current exploration rate (linear decay over ``exploration_steps``)."""
        cfg = self.config
        return linear_schedule(cfg.eps_start, cfg.eps_end, self.env_steps, cfg.exploration_steps)

    def act(self, obs: np.ndarray, deterministic: bool = False) -> np.ndarray:
        """Greedy indices if ``deterministic``, else ε-greedy (seeded)."""
        obs_arr = obs_batch(self.name, obs, self.obs_dim)
        if self._fast:
            greedy = self._q_np(obs_arr).argmax(-1)
        else:
            with torch.no_grad():
                greedy = self.q_net(torch.from_numpy(obs_arr)).argmax(-1).numpy()
        if deterministic:
            return greedy
        explore = self.rng.np.random(len(greedy)) < self.epsilon
        random = self.rng.np.integers(0, self.n_actions, len(greedy))
        return np.where(explore, random, greedy).astype(np.int64)

    def observe(self, obs: np.ndarray, action: np.ndarray, reward: np.ndarray,
                next_obs: np.ndarray, terminated: np.ndarray, truncated: np.ndarray) -> None:
        """Store transitions; a truncated one still bootstraps from ``next_obs``."""
        b = transition_batch(self.name, self.obs_dim, self.n_actions, True, obs, action, reward,
                             next_obs, terminated, truncated)
        self._store(b, b.action)

    def _gradient_step(self) -> dict[str, float]:
        """One TD update (autograd on :func:`dqn_td_loss`, or its NumPy gradient), then targets."""
        cfg = self.config
        batch = self.buffer.sample(cfg.batch_size, self.rng.np)
        if self._fast:
            target = td_target(self._q_np, self._target_np, batch, cfg.gamma, cfg.double_dqn)
            loss, q = td_gradients(self._q_np, batch, target, cfg.huber_delta, self._grads.views)
            self._grads.clip_norm(cfg.max_grad_norm)
            self._grads.install()
            q_mean = float(q.mean())
        else:
            obs, actions, rewards, next_obs, terminated = (
                torch.from_numpy(batch[key])
                for key in ('obs', 'actions', 'rewards', 'next_obs', 'terminated'))
            target_t = dqn_td_target(self.q_net, self.target_net, rewards, next_obs,
                                     terminated, cfg.gamma, cfg.double_dqn)
            loss_t, q_t = dqn_td_loss(self.q_net, obs, actions, target_t, cfg.huber_delta)
            self.optimizer.zero_grad()
            loss_t.backward()
            clip_grad_norm(self._params, cfg.max_grad_norm)
            loss, q_mean = float(loss_t.detach()), float(q_t.detach().mean())
        self.optimizer.step()
        self.updates += 1
        if self.updates % cfg.target_update_interval == 0:
            soft_update(self.target_net, self.q_net, cfg.tau)
        return {'td_loss': loss, 'q_mean': q_mean, 'epsilon': self.epsilon}

    def state_dict(self) -> dict[str, Any]:
        """Networks, optimizer, replay buffer, counters and RNG."""
        return {'algo': self.name, 'config': config_to_dict(self.config),
                'q_net': self.q_net.state_dict(), 'target_net': self.target_net.state_dict(),
                'optimizer': self.optimizer.state_dict(), 'buffer': self.buffer.state_dict(),
                'rng': self.rng.state_dict(), 'env_steps': self.env_steps,
                'updates': self.updates, 'credit': self.credit.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore everything written by :meth:`state_dict`."""
        check_algo(self.name, state)
        self.q_net.load_state_dict(state['q_net'])
        self.target_net.load_state_dict(state['target_net'])
        self.optimizer.load_state_dict(state['optimizer'])
        self.buffer.load_state_dict(state['buffer'])
        self.rng.load_state_dict(state['rng'])
        self.env_steps = int(state['env_steps'])
        self.updates = int(state['updates'])
        self.credit.load_state_dict(state['credit'])

    def policy_module(self) -> nn.Module:
        """Greedy Q policy; its ``explore`` uses the current ε."""
        self.policy.epsilon.fill_(self.epsilon)
        return self.policy
