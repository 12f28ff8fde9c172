# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Soft Actor-Critic (Haarnoja et al. 2018), CleanRL-style, for continuous actions.

Twin Q-networks (run as one batched :class:`~.networks.EnsembleMLP`) with Polyak-averaged
targets (τ), a tanh-squashed Gaussian actor and automatic entropy tuning (α learned so the policy
entropy tracks ``target_entropy``). Before
``learning_starts`` transitions the agent acts uniformly at random. ``updates_per_step``
gradient updates are run per observed transition (fractions accumulate).

The losses are defined here, in torch: :func:`sac_td_target`, :func:`sac_critic_loss`,
:func:`sac_actor_loss` and :func:`sac_alpha_loss`. With ``backend: torch`` the agent acts and
learns by autograd on them; with ``backend: fast`` (the default) acting and the gradients of
the three losses run in NumPy on views of the same weights, written out in
:mod:`robotrl_ros.agents.fast.sac` (tested equal to autograd on each loss here), and torch's
Adam applies them either way.
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
from robotrl_ros.agents.config import backend_field, build_config, config_to_dict
from robotrl_ros.agents.fast.mlp import FlatGrads, NumpyMLP
from robotrl_ros.agents.fast.sac import (
    SquashedSample,
    actor_gradients,
    alpha_gradient,
    critic_gradients,
    soft_td_target,
)
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
        backend: ``fast`` (NumPy acting and gradients) or ``torch`` (autograd on the losses
            below).
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
    backend: str = backend_field()


# The losses, as CleanRL states them. The actor's observation normalizer is disabled: the actor
# and the critics see raw observations.
def sac_td_target(actor: SquashedGaussianPolicy, q_target: nn.Module, rewards: torch.Tensor,
                  next_obs: torch.Tensor, terminated: torch.Tensor, gamma: float, alpha: float,
                  generator: torch.Generator) -> torch.Tensor:
    """Soft Bellman target ``r + γ (1 - done) (min_k Q'_k(s', a') - α log π(a'|s'))``.

    ``a'`` is sampled from the current actor with ``generator``; no gradient flows.
    """
    with torch.no_grad():
        next_action, next_logprob = actor.rsample(next_obs, generator)
        next_q = q_target(torch.cat([next_obs, next_action], -1)).amin(0).squeeze(-1)
        return rewards + gamma * (1.0 - terminated) * (next_q - alpha * next_logprob)


def sac_critic_loss(q: nn.Module, obs: torch.Tensor, actions: torch.Tensor,
                    target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Twin-critic loss ``sum_k mean((Q_k(s, a) - target)^2)``; also the Q-values ``[2, B]``."""
    q_values = q(torch.cat([obs, actions], -1)).squeeze(-1)
    return (q_values - target).pow(2).mean(-1).sum(), q_values


def sac_actor_loss(actor: SquashedGaussianPolicy, q: nn.Module, obs: torch.Tensor, alpha: float,
                   generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Actor loss ``mean(α log π(a|s) - min_k Q_k(s, a))``, ``a`` reparameterized; also log π.

    Only the actor is meant to be updated from it (backpropagate into the actor's parameters).
    """
    action, logprob = actor.rsample(obs, generator)
    q_pi = q(torch.cat([obs, action], -1)).amin(0).squeeze(-1)
    return (alpha * logprob - q_pi).mean(), logprob


def sac_alpha_loss(log_alpha: torch.Tensor, logprob: torch.Tensor,
                   target_entropy: float) -> torch.Tensor:
    """Temperature loss ``-mean(log α (log π + target_entropy))``: α rises when entropy is low."""
    return -(log_alpha * (logprob.detach() + target_entropy)).mean()


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
        self._fast = cfg.backend == 'fast'
        if self._fast:
            # Acting and every gradient run in NumPy on views of the weights (fast/sac.py).
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
        if deterministic and self._fast:
            return np.tanh(self._actor_np(obs_arr)[:, :self.action_dim])
        if deterministic:
            with torch.no_grad():
                return self.actor(torch.from_numpy(obs_arr)).numpy()
        if self.env_steps < self.config.learning_starts:
            return self.rng.np.uniform(-1, 1, (len(obs_arr), self.action_dim)).astype(
                np.float32)
        if self._fast:
            return SquashedSample(self._actor_np, obs_arr, self.rng.torch).action
        with torch.no_grad():
            return self.actor.rsample(torch.from_numpy(obs_arr), self.rng.torch)[0].numpy()

    def observe(self, obs: np.ndarray, action: np.ndarray, reward: np.ndarray,
                next_obs: np.ndarray, terminated: np.ndarray, truncated: np.ndarray) -> None:
        """Store transitions; a truncated one still bootstraps from ``next_obs``."""
        b = transition_batch(self.name, self.obs_dim, self.action_dim, False, obs, action,
                             reward, next_obs, terminated, truncated)
        self._store(b, np.clip(b.action, -1.0, 1.0))

    def _gradient_step(self) -> dict[str, float]:
        """Critics, then actor and temperature (every ``policy_frequency``), then targets."""
        batch = self.buffer.sample(self.config.batch_size, self.rng.np)
        logged = (self._fast_step if self._fast else self._torch_step)(batch)
        self.updates += 1
        soft_update(self.q_target, self.q, self.config.tau)
        return dict(zip(_METRICS, logged, strict=False))

    def _torch_step(self, batch: dict[str, np.ndarray]) -> list[float]:
        """One gradient step by autograd on the losses above."""
        cfg, alpha, generator = self.config, self.alpha, self.rng.torch
        obs, actions, rewards, next_obs, terminated = (
            torch.from_numpy(batch[key])
            for key in ('obs', 'actions', 'rewards', 'next_obs', 'terminated'))
        target = sac_td_target(self.actor, self.q_target, rewards, next_obs, terminated,
                               cfg.gamma, alpha, generator)
        q_loss, q_values = sac_critic_loss(self.q, obs, actions, target)
        self.q_optimizer.zero_grad()
        q_loss.backward()
        self.q_optimizer.step()
        logged = [float(q_loss.detach()), float(q_values[0].detach().mean()), alpha]
        if (self.updates + 1) % cfg.policy_frequency == 0:
            actor_loss, logprob = sac_actor_loss(self.actor, self.q, obs, alpha, generator)
            self.actor_optimizer.zero_grad()
            actor_loss.backward(inputs=list(self.actor.parameters()))   # the critics stay
            self.actor_optimizer.step()
            logged += [float(actor_loss.detach()), -float(logprob.detach().mean())]
            if cfg.autotune:
                alpha_loss = sac_alpha_loss(self.log_alpha, logprob, self.target_entropy)
                self.alpha_optimizer.zero_grad()
                alpha_loss.backward()
                self.alpha_optimizer.step()
        return logged

    def _fast_step(self, batch: dict[str, np.ndarray]) -> list[float]:
        """The same gradient step, with the gradients written out in NumPy (fast/sac.py)."""
        cfg, alpha, generator = self.config, self.alpha, self.rng.torch
        target = soft_td_target(self._actor_np, self._q_target_np, batch['rewards'],
                                batch['next_obs'], batch['terminated'], cfg.gamma, alpha,
                                generator)
        q_loss, q_mean = critic_gradients(
            self._q_np, np.concatenate([batch['obs'], batch['actions']], 1), target,
            self._q_grads.views)
        self._q_grads.install()
        self.q_optimizer.step()
        logged = [q_loss, q_mean, alpha]
        if (self.updates + 1) % cfg.policy_frequency == 0:
            actor_loss, logprob = actor_gradients(self._actor_np, self._q_np, batch['obs'],
                                                  alpha, generator, self._actor_grads.views)
            self._actor_grads.install()
            self.actor_optimizer.step()
            logged += [actor_loss, -float(logprob.mean())]
            if cfg.autotune:
                self.log_alpha.grad = alpha_gradient(logprob, self.target_entropy)
                self.alpha_optimizer.step()
        return logged

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

