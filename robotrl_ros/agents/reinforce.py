# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""REINFORCE (Williams 1992): Monte-Carlo policy gradient with reward-to-go and a baseline.

Each env's episode is collected whole; when ``batch_episodes`` episodes have ended, one
gradient step follows ``-mean(log pi(a|s) * (G_t - b(s_t)))`` where ``G_t`` is the discounted
reward-to-go and ``b`` a learned value baseline (or the batch mean, or nothing). A time-limit
truncation bootstraps ``G`` from the value baseline; a termination does not.

The losses are :func:`reinforce_loss` and :func:`baseline_loss` (torch only: no fast backend).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from robotrl_ros.agents.base import Agent
from robotrl_ros.agents.checks import check_algo, obs_batch, transition_batch
from robotrl_ros.agents.config import build_config, config_to_dict
from robotrl_ros.agents.networks import ObsNormalizer, mlp
from robotrl_ros.agents.normalization import RunningMeanStd
from robotrl_ros.agents.policies import CategoricalPolicy, GaussianPolicy, policy_act
from robotrl_ros.agents.returns import discounted_returns
from robotrl_ros.agents.seeding import AgentRng

BASELINES = ('value', 'mean', 'none')


@dataclass
class ReinforceConfig:
    """REINFORCE hyperparameters (defaults tuned for ``reach``).

    Attributes:
        batch_episodes: Finished episodes per gradient step.
        learning_rate: Policy Adam step size.
        value_learning_rate: Baseline Adam step size.
        value_iterations: Baseline gradient steps per update.
        gamma: Discount factor of the reward-to-go.
        baseline: ``value`` (learned V(s)), ``mean`` (batch mean return) or ``none``.
        normalize_advantages: Standardize ``G - b`` over the batch.
        normalize_obs: Running observation normalization (baked into the exported policy).
        ent_coef: Entropy bonus weight.
        max_grad_norm: Global gradient norm clip.
        reward_scale: Multiplies rewards before learning.
        hidden_sizes: Hidden layers of the policy and the baseline.
        init_log_std: Initial log standard deviation of continuous actions.
    """

    batch_episodes: int = 16
    learning_rate: float = 3e-3
    value_learning_rate: float = 3e-3
    value_iterations: int = 5
    gamma: float = 0.98
    baseline: str = 'value'
    normalize_advantages: bool = True
    normalize_obs: bool = True
    ent_coef: float = 0.0
    max_grad_norm: float = 1.0
    reward_scale: float = 0.1
    hidden_sizes: tuple[int, ...] = (64, 64)
    init_log_std: float = -0.5


def reinforce_loss(policy: GaussianPolicy | CategoricalPolicy, obs: torch.Tensor,
                   actions: torch.Tensor, advantages: torch.Tensor,
                   ent_coef: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Policy-gradient loss ``-mean(log π(a|s) A) - ent_coef * mean(entropy)``; also the entropy.

    ``obs`` are normalized observations; ``advantages`` carry no gradient.
    """
    logprob, entropy = policy.log_prob_entropy(obs, actions)
    entropy = entropy.mean()
    return -(logprob * advantages).mean() - ent_coef * entropy, entropy


def baseline_loss(value: nn.Module, obs: torch.Tensor, returns: torch.Tensor) -> torch.Tensor:
    """Value baseline regression ``mean((V(s) - G)^2)``."""
    return (value(obs).squeeze(-1) - returns).pow(2).mean()


class Reinforce(Agent):
    """REINFORCE agent for continuous (Gaussian) or discrete (categorical) actions.

    Args:
        obs_dim: Observation length.
        action_dim: Continuous action length, or number of discrete actions.
        discrete: Whether actions are indices.
        config: Hyperparameter overrides (keys of :class:`ReinforceConfig`).
        seed: Seed of network init and sampling.
    """

    name = 'reinforce'
    rollout_state_key = 'episodes'

    def __init__(self, obs_dim: int, action_dim: int, discrete: bool = False,
                 config: dict[str, Any] | None = None, seed: int = 0) -> None:
        self.config = cfg = build_config(ReinforceConfig, config, self.name)
        if cfg.baseline not in BASELINES:
            raise ValueError(f'reinforce: config key \'baseline\' must be one of {BASELINES}, '
                             f'got {cfg.baseline!r}')
        self.obs_dim, self.action_dim, self.discrete = obs_dim, action_dim, discrete
        self.rng = AgentRng(seed)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            normalizer = ObsNormalizer(obs_dim, enabled=cfg.normalize_obs)
            actor = mlp(obs_dim, action_dim, cfg.hidden_sizes, 'tanh', out_gain=0.01)
            self.policy: GaussianPolicy | CategoricalPolicy = (
                CategoricalPolicy(normalizer, actor) if discrete
                else GaussianPolicy(normalizer, actor, action_dim, cfg.init_log_std))
            self.value = mlp(obs_dim, 1, cfg.hidden_sizes, 'tanh')
        self.optimizer = torch.optim.Adam(self.policy.parameters(), lr=cfg.learning_rate)
        self.value_optimizer = torch.optim.Adam(self.value.parameters(),
                                                lr=cfg.value_learning_rate)
        self.obs_rms = RunningMeanStd((obs_dim,))
        self.episodes: list[dict[str, list[np.ndarray]]] = []   # one open episode per env
        self.finished: list[dict[str, np.ndarray]] = []          # closed, with returns
        self.env_steps = 0
        self.updates = 0

    def act(self, obs: np.ndarray, deterministic: bool = False) -> np.ndarray:
        """Mean/argmax action if ``deterministic``, else a seeded sample."""
        obs_t = torch.from_numpy(obs_batch(self.name, obs, self.obs_dim))
        return policy_act(self.policy, obs_t, deterministic, self.rng.torch)

    def observe(self, obs: np.ndarray, action: np.ndarray, reward: np.ndarray,
                next_obs: np.ndarray, terminated: np.ndarray, truncated: np.ndarray) -> None:
        """Append to each env's open episode; close the ones that ended."""
        b = transition_batch(self.name, self.obs_dim, self.action_dim, self.discrete, obs,
                             action, reward, next_obs, terminated, truncated)
        if not self.episodes:
            self.episodes = [_empty_episode() for _ in range(len(b.obs))]
        if len(self.episodes) != len(b.obs):
            raise ValueError(f'reinforce: got a batch of {len(b.obs)} envs, expected '
                             f'{len(self.episodes)}: keep the number of envs fixed')
        normalize = self.policy.normalizer
        with torch.no_grad():
            obs_n = normalize(torch.from_numpy(b.obs)).numpy()
            next_n = normalize(torch.from_numpy(b.next_obs))
            next_value = self.value(next_n).squeeze(-1).numpy()
        for i, episode in enumerate(self.episodes):
            episode['obs'].append(obs_n[i])
            episode['actions'].append(b.action[i])
            episode['rewards'].append(b.reward[i] * self.config.reward_scale)
            if b.terminated[i] or b.truncated[i]:
                bootstrap = (next_value[i] if b.truncated[i] and not b.terminated[i]
                             and self.config.baseline == 'value' else 0.0)
                self._close(i, float(bootstrap))
        normalize.track(self.obs_rms, b.obs)
        self.env_steps += len(b.obs)

    def _close(self, env: int, bootstrap: float) -> None:
        episode = self.episodes[env]
        rewards = np.asarray(episode['rewards'], dtype=np.float64)
        dones = np.zeros(len(rewards), dtype=bool)
        returns = discounted_returns(rewards, dones, self.config.gamma, last_value=bootstrap)
        self.finished.append({'obs': np.stack(episode['obs']),
                              'actions': np.stack(episode['actions']),
                              'returns': returns.astype(np.float32)})
        self.episodes[env] = _empty_episode()

    def ready(self) -> bool:
        """True once ``batch_episodes`` episodes have finished."""
        return len(self.finished) >= self.config.batch_episodes

    def update(self) -> dict[str, float]:
        """One policy-gradient step on the finished episodes (and baseline fitting)."""
        if not self.finished:
            raise RuntimeError('reinforce: update() needs at least one finished episode')
        cfg = self.config
        obs = torch.from_numpy(np.concatenate([e['obs'] for e in self.finished]))
        actions = torch.from_numpy(np.concatenate([e['actions'] for e in self.finished]))
        returns = torch.from_numpy(np.concatenate([e['returns'] for e in self.finished]))
        n_episodes = len(self.finished)
        self.finished = []
        if cfg.baseline == 'value':
            with torch.no_grad():
                advantages = returns - self.value(obs).squeeze(-1)
        elif cfg.baseline == 'mean':
            advantages = returns - returns.mean()
        else:
            advantages = returns.clone()
        if cfg.normalize_advantages and len(advantages) > 1:
            advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
        loss, entropy = reinforce_loss(self.policy, obs, actions, advantages, cfg.ent_coef)
        self.optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(self.policy.parameters(), cfg.max_grad_norm)
        self.optimizer.step()
        value_loss = torch.zeros(())
        if cfg.baseline == 'value':
            for _ in range(cfg.value_iterations):
                value_loss = baseline_loss(self.value, obs, returns)
                self.value_optimizer.zero_grad()
                value_loss.backward()
                nn.utils.clip_grad_norm_(self.value.parameters(), cfg.max_grad_norm)
                self.value_optimizer.step()
        self.updates += 1
        return {'policy_loss': float(loss.detach()), 'value_loss': float(value_loss.detach()),
                'entropy': float(entropy.detach()), 'episodes': float(n_episodes),
                'mean_return_to_go': float(returns.mean())}

    def state_dict(self) -> dict[str, Any]:
        """Networks, optimizers, normalizer, open and finished episodes, counters and RNG."""
        return {'algo': self.name, 'config': config_to_dict(self.config),
                'policy': self.policy.state_dict(), 'value': self.value.state_dict(),
                'optimizer': self.optimizer.state_dict(),
                'value_optimizer': self.value_optimizer.state_dict(),
                'obs_rms': self.obs_rms.state_dict(), 'rng': self.rng.state_dict(),
                'episodes': [{k: torch.from_numpy(np.asarray(v, dtype=_dtype(k, v)))
                              for k, v in e.items()} for e in self.episodes],
                'finished': [{k: torch.from_numpy(v) for k, v in e.items()}
                             for e in self.finished],
                'env_steps': self.env_steps, 'updates': self.updates}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore everything written by :meth:`state_dict`."""
        check_algo(self.name, state)
        self.policy.load_state_dict(state['policy'])
        self.value.load_state_dict(state['value'])
        self.optimizer.load_state_dict(state['optimizer'])
        self.value_optimizer.load_state_dict(state['value_optimizer'])
        self.obs_rms.load_state_dict(state['obs_rms'])
        self.rng.load_state_dict(state['rng'])
        self.episodes = [{k: list(v.numpy()) for k, v in e.items()} for e in state['episodes']]
        self.finished = [{k: v.numpy().copy() for k, v in e.items()} for e in state['finished']]
        self.env_steps = int(state['env_steps'])
        self.updates = int(state['updates'])

    def policy_module(self) -> nn.Module:
        """The policy with its observation normalizer (TorchScript-able)."""
        return self.policy


def _empty_episode() -> dict[str, list[np.ndarray]]:
    return {'obs': [], 'actions': [], 'rewards': []}


def _dtype(key: str, values: list[np.ndarray]) -> type:
    if values:
        return np.asarray(values[0]).dtype.type
    return np.int64 if key == 'actions' else np.float32
