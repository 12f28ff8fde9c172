# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Soft Actor-Critic (Haarnoja et al. 2018), CleanRL-style, for continuous actions.

Twin Q-networks (run as one batched :class:`~.networks.EnsembleMLP`) with Polyak-averaged
targets (τ), a tanh-squashed Gaussian actor and automatic entropy tuning (α learned so the policy
entropy tracks ``target_entropy``). Before
``learning_starts`` transitions the agent acts uniformly at random. ``updates_per_step``
gradient updates are run per observed transition (fractions accumulate).

The networks are torch modules (checkpoints, TorchScript export); acting and the gradients of
the three losses run in NumPy on views of their weights, with the gradients written out in
:mod:`.sac_numpy` (tested equal to autograd on the torch statement of each loss), and torch's
Adam applies them.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from robotrl_ros.agents.buffers import ReplayBuffer
from robotrl_ros.agents.checks import check_algo, obs_batch, transition_batch
from robotrl_ros.agents.config import build_config, config_to_dict
from robotrl_ros.agents.fast.mlp import FlatGrads, NumpyMLP
from robotrl_ros.agents.fast.sac import SquashedSample, actor_gradients, critic_gradients
from robotrl_ros.agents.networks import EnsembleMLP, ObsNormalizer, mlp, soft_update
from robotrl_ros.agents.off_policy import OffPolicyAgent
from robotrl_ros.agents.optim import LeanAdam
from robotrl_ros.agents.policies import SquashedGaussianPolicy
from robotrl_ros.agents.schedules import UpdateCredit
from robotrl_ros.agents.seeding import AgentRng


@dataclass
class SACConfig:
    """SAC hyperparameters (defaults tuned for ``reach``).

    Attributes:
        buffer_size: Replay capacity (transitions).
        batch_size: Minibatch size per gradient update.
        learning_starts: Random-action transitions collected before learning.
        gamma: Discount factor.
        tau: Target network smoothing coefficient.
        actor_lr: Actor Adam step size.
        critic_lr: Q-networks Adam step size.
        alpha_lr: Entropy temperature Adam step size.
        autotune: Learn α; otherwise it stays at ``alpha``.
        alpha: Initial (or fixed) entropy temperature.
        target_entropy: Entropy target for autotuning (None: ``-action_dim``).
        updates_per_step: Gradient updates per observed transition.
        policy_frequency: Actor/α update every this many critic updates.
        reward_scale: Multiplies rewards before learning.
        hidden_sizes: Hidden layers of the actor and Q-networks.
    """

    buffer_size: int = 100_000
    batch_size: int = 128
    learning_starts: int = 1000
    gamma: float = 0.95
    tau: float = 0.01
    actor_lr: float = 1e-3
    critic_lr: float = 1e-3
    alpha_lr: float = 1e-3
    autotune: bool = True
    alpha: float = 0.2
    target_entropy: float | None = None
    updates_per_step: float = 1.0
    policy_frequency: int = 1
    reward_scale: float = 1.0
    hidden_sizes: tuple[int, ...] = (64, 64)


class SAC(OffPolicyAgent):
    """SAC agent (continuous actions in [-1, 1]).

    Args:
        obs_dim: Observation length.
        action_dim: Action length.
        discrete: Must be False.
        config: Hyperparameter overrides (keys of :class:`SACConfig`).
        seed: Seed of network init, exploration and minibatch sampling.
    """

    name = 'sac'

    def __init__(self, obs_dim: int, action_dim: int, discrete: bool = False,
                 config: dict[str, Any] | None = None, seed: int = 0) -> None:
        if discrete:
            raise ValueError('sac: needs continuous actions; use dqn or ppo for discrete tasks')
        self.config = cfg = build_config(SACConfig, config, self.name)
        self.obs_dim, self.action_dim = obs_dim, action_dim
        self.rng = AgentRng(seed)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            hidden = cfg.hidden_sizes
            self.actor = SquashedGaussianPolicy(
                ObsNormalizer(obs_dim, enabled=False),
                mlp(obs_dim, 2 * action_dim, hidden, 'relu', out_gain=0.01), action_dim)
            self.q = EnsembleMLP(2, obs_dim + action_dim, 1, hidden, 'relu')  # twin critics
        self.q_target = copy.deepcopy(self.q)
        self.q_target.requires_grad_(False)
        # Acting and every gradient run in NumPy on views of the weights (sac_numpy), on raw
        # observations: the actor's normalizer above is disabled.
        self._actor_np, self._q_np, self._q_target_np = (
            NumpyMLP(net) for net in (self.actor.net, self.q, self.q_target))
        self._actor_grads = FlatGrads(list(self.actor.parameters()))
        self._q_grads = FlatGrads(list(self.q.parameters()))
        self.q_optimizer = LeanAdam(self.q.parameters(), lr=cfg.critic_lr)
        self.actor_optimizer = LeanAdam(self.actor.parameters(), lr=cfg.actor_lr)
        self.target_entropy = (-float(action_dim) if cfg.target_entropy is None
                               else cfg.target_entropy)
        self.log_alpha = torch.tensor(float(np.log(cfg.alpha)), requires_grad=True)
        self.alpha_optimizer = LeanAdam([self.log_alpha], lr=cfg.alpha_lr)
        self.buffer = ReplayBuffer(cfg.buffer_size, obs_dim, (action_dim,), np.float32)
        self.credit = UpdateCredit(cfg.updates_per_step, cfg.learning_starts)
        self.env_steps = 0
        self.updates = 0

    @property
    def alpha(self) -> float:
        """Current entropy temperature."""
        return float(self.log_alpha.detach().exp())

    def act(self, obs: np.ndarray, deterministic: bool = False) -> np.ndarray:
        """``tanh(mean)`` if deterministic; uniform before ``learning_starts``; else a sample."""
        obs_arr = obs_batch(self.name, obs, self.obs_dim)
        if deterministic:
            return np.tanh(self._actor_np(obs_arr)[:, :self.action_dim])
        if self.env_steps < self.config.learning_starts:
            return self.rng.np.uniform(-1, 1, (len(obs_arr), self.action_dim)).astype(
                np.float32)
        return SquashedSample(self._actor_np, obs_arr, self.rng.torch).action

    def observe(self, obs: np.ndarray, action: np.ndarray, reward: np.ndarray,
                next_obs: np.ndarray, terminated: np.ndarray, truncated: np.ndarray) -> None:
        """Store transitions; a truncated one still bootstraps from ``next_obs``."""
        b = transition_batch(self.name, self.obs_dim, self.action_dim, False, obs, action,
                             reward, next_obs, terminated, truncated)
        self._store(b, np.clip(b.action, -1.0, 1.0))

    def _gradient_step(self) -> dict[str, float]:
        """Critics, then actor and temperature (every ``policy_frequency``), then targets."""
        cfg = self.config
        batch = self.buffer.sample(cfg.batch_size, self.rng.np)
        alpha = self.alpha
        next_obs = batch['next_obs']
        nxt = SquashedSample(self._actor_np, next_obs, self.rng.torch)
        next_q = self._q_target_np(np.concatenate([next_obs, nxt.action], 1)).min(0)[:, 0]
        target = batch['rewards'] + cfg.gamma * (1.0 - batch['terminated']) * (
            next_q - alpha * nxt.logprob)
        q_loss, q_mean = critic_gradients(
            self._q_np, np.concatenate([batch['obs'], batch['actions']], 1),
            target.astype(np.float32), self._q_grads.views)
        self._q_grads.install()
        self.q_optimizer.step()
        logged = [q_loss, q_mean, alpha]
        self.updates += 1
        if self.updates % cfg.policy_frequency == 0:
            actor_loss, logprob = actor_gradients(self._actor_np, self._q_np, batch['obs'],
                                                  alpha, self.rng.torch,
                                                  self._actor_grads.views)
            self._actor_grads.install()
            self.actor_optimizer.step()
            logged += [actor_loss, -float(logprob.mean())]
            if cfg.autotune:
                # alpha_loss = -(log_alpha * (logprob + target_entropy)).mean(): its gradient.
                self.log_alpha.grad = torch.tensor(-float((logprob + self.target_entropy).mean()))
                self.alpha_optimizer.step()
        soft_update(self.q_target, self.q, cfg.tau)
        return dict(zip(_METRICS, logged, strict=False))

    def state_dict(self) -> dict[str, Any]:
        """Networks, targets, optimizers, α, replay buffer, counters and RNG."""
        nets = {name: getattr(self, name).state_dict() for name in _MODULES}
        return {'algo': self.name, 'config': config_to_dict(self.config), **nets,
                'log_alpha': self.log_alpha.detach().clone(), 'buffer': self.buffer.state_dict(),
                'rng': self.rng.state_dict(), 'env_steps': self.env_steps,
                'updates': self.updates, 'credit': self.credit.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore everything written by :meth:`state_dict`."""
        check_algo(self.name, state)
        for name in _MODULES:
            getattr(self, name).load_state_dict(state[name])
        with torch.no_grad():
            self.log_alpha.copy_(state['log_alpha'])
        self.buffer.load_state_dict(state['buffer'])
        self.rng.load_state_dict(state['rng'])
        self.env_steps = int(state['env_steps'])
        self.updates = int(state['updates'])
        self.credit.load_state_dict(state['credit'])

    def policy_module(self) -> nn.Module:
        """The squashed Gaussian actor (``forward``: ``tanh(mean)``; ``explore``: sample)."""
        return self.actor


_MODULES = ('actor', 'q', 'q_target', 'q_optimizer', 'actor_optimizer', 'alpha_optimizer')
_METRICS = ('q_loss', 'q_mean', 'alpha', 'actor_loss', 'entropy')

