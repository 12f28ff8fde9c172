# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Proximal Policy Optimization (Schulman et al. 2017), CleanRL-style, batched over envs.

One rollout is ``n_steps`` batched steps from ``n_envs`` envs. Then ``n_epochs`` passes of
``n_minibatches`` minibatches optimize the clipped surrogate, a (clipped) value loss and an
entropy bonus, with GAE(λ) advantages that bootstrap on truncation but not on termination.

``observe`` scores the given action under the current policy (log-prob and value). In-process
it scores the unclamped Gaussian sample this agent just drew (exact, as in SB3); on the ROS graph
the executed (clamped) action came from the policy node running recently published weights,
which is close enough for the clipped objective.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from robotrl_ros.agents.base import Agent
from robotrl_ros.agents.buffers import RolloutBuffer
from robotrl_ros.agents.checks import check_algo, obs_batch, transition_batch
from robotrl_ros.agents.config import build_config, config_to_dict
from robotrl_ros.agents.networks import ObsNormalizer, clip_grad_norm, mlp
from robotrl_ros.agents.normalization import RunningMeanStd
from robotrl_ros.agents.optim import LeanAdam
from robotrl_ros.agents.policies import CategoricalPolicy, GaussianPolicy, policy_act
from robotrl_ros.agents.returns import gae
from robotrl_ros.agents.seeding import AgentRng


@dataclass
class PPOConfig:
    """PPO hyperparameters (defaults tuned for ``reach`` with 8 envs).

    Attributes:
        n_steps: Batched steps per rollout (the batch is ``n_steps * n_envs`` transitions).
        n_epochs: Optimization passes over each rollout.
        n_minibatches: Minibatches per epoch.
        learning_rate: Adam step size.
        gamma: Discount factor.
        gae_lambda: GAE λ.
        clip_coef: Surrogate ratio clip ε.
        clip_value_loss: Clip the value update around the old value by ``clip_coef``.
        ent_coef: Entropy bonus weight.
        vf_coef: Value loss weight. The value loss is ``0.5 * MSE`` (CleanRL's convention), so
            SB3's ``vf_coef=c`` (plain MSE) is ``vf_coef=2c`` here.
        max_grad_norm: Global gradient norm clip.
        normalize_obs: Running observation normalization (baked into the exported policy).
        normalize_advantages: Standardize advantages per minibatch.
        reward_scale: Multiplies rewards before learning (keeps value targets O(1)).
        hidden_sizes: Hidden layers of the actor and the critic.
        activation: ``tanh``, ``relu`` or ``elu``.
        init_log_std: Initial log standard deviation of continuous actions.
        target_kl: Stop the epochs early when the approximate KL exceeds this (None: never).
    """

    n_steps: int = 64
    n_epochs: int = 10
    n_minibatches: int = 4
    learning_rate: float = 1e-3
    gamma: float = 0.98
    gae_lambda: float = 0.95
    clip_coef: float = 0.2
    clip_value_loss: bool = True
    ent_coef: float = 0.0
    vf_coef: float = 0.5
    max_grad_norm: float = 0.5
    normalize_obs: bool = True
    normalize_advantages: bool = True
    reward_scale: float = 0.1
    hidden_sizes: tuple[int, ...] = (64, 64)
    activation: str = 'tanh'
    init_log_std: float = -0.5
    target_kl: float | None = None


class PPO(Agent):
    """PPO agent for continuous (Gaussian) or discrete (categorical) actions.

    Args:
        obs_dim: Observation length.
        action_dim: Continuous action length, or number of discrete actions.
        discrete: Whether actions are indices.
        config: Hyperparameter overrides (keys of :class:`PPOConfig`).
        seed: Seed of network init, sampling and minibatch order.
    """

    name = 'ppo'

    def __init__(self, obs_dim: int, action_dim: int, discrete: bool = False,
                 config: dict[str, Any] | None = None, seed: int = 0) -> None:
        self.config = cfg = build_config(PPOConfig, config, self.name)
        self.obs_dim, self.action_dim, self.discrete = obs_dim, action_dim, discrete
        self.rng = AgentRng(seed)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            normalizer = ObsNormalizer(obs_dim, enabled=cfg.normalize_obs)
            actor = mlp(obs_dim, action_dim, cfg.hidden_sizes, cfg.activation, out_gain=0.01)
            self.policy: GaussianPolicy | CategoricalPolicy = (
                CategoricalPolicy(normalizer, actor) if discrete
                else GaussianPolicy(normalizer, actor, action_dim, cfg.init_log_std))
            self.critic = mlp(obs_dim, 1, cfg.hidden_sizes, cfg.activation, out_gain=1.0)
        self._params = list(self.policy.parameters()) + list(self.critic.parameters())
        self.optimizer = LeanAdam(self._params, lr=cfg.learning_rate, eps=1e-5)
        self.obs_rms = RunningMeanStd((obs_dim,))
        self.buffer = RolloutBuffer(cfg.n_steps, obs_dim, () if discrete else (action_dim,),
                                    np.int64 if discrete else np.float32)
        self._last_sample: tuple[np.ndarray, ...] | None = None
        self.env_steps = 0
        self.updates = 0

    # --- acting ---------------------------------------------------------------------------
    def act(self, obs: np.ndarray, deterministic: bool = False) -> np.ndarray:
        """Mean/argmax action if ``deterministic``, else a seeded sample."""
        obs_t = torch.from_numpy(obs_batch(self.name, obs, self.obs_dim))
        if deterministic or self.discrete:
            return policy_act(self.policy, obs_t, deterministic, self.rng.torch)
        with torch.no_grad():
            raw, logprob = self.policy.sample_unclamped(self.policy.normalizer(obs_t),
                                                        self.rng.torch)
        action = torch.clamp(raw, -1.0, 1.0).numpy()
        self._last_sample = (obs_t.numpy().copy(), action.copy(), raw.numpy(), logprob.numpy())
        return action

    def _own_sample(self, obs: np.ndarray,
                    action: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """The unclamped sample behind ``action`` and its log-prob, if this agent just drew it.

        Scoring the unclamped Gaussian sample keeps the log-probabilities exact in-process
        (as SB3 does); on the ROS graph only the executed, clamped action is known (None).
        """
        last, self._last_sample = self._last_sample, None
        if last is None or self.discrete:
            return None
        last_obs, last_action, raw, logprob = last
        if np.array_equal(last_obs, obs) and np.array_equal(last_action, action):
            return raw, logprob
        return None

    def observe(self, obs: np.ndarray, action: np.ndarray, reward: np.ndarray,
                next_obs: np.ndarray, terminated: np.ndarray, truncated: np.ndarray) -> None:
        """Store one batched step with its log-prob and values under the current networks."""
        b = transition_batch(self.name, self.obs_dim, self.action_dim, self.discrete, obs,
                             action, reward, next_obs, terminated, truncated)
        normalize = self.policy.normalizer
        n = len(b.obs)
        with torch.no_grad():
            both_n = normalize(torch.from_numpy(np.concatenate([b.obs, b.next_obs])))
            values = self.critic(both_n).squeeze(-1).numpy()      # obs rows, then next_obs
            obs_n = both_n[:n]
            own = self._own_sample(b.obs, b.action)
            if own is None:
                action = b.action
                logprob = self.policy.log_prob_entropy(obs_n, torch.from_numpy(action))[0]
            else:
                action, logprob = own
        self.buffer.add(obs=obs_n.numpy(), actions=action, logprobs=np.asarray(logprob),
                        values=values[:n], next_values=values[n:],
                        rewards=b.reward * self.config.reward_scale,
                        terminated=b.terminated, truncated=b.truncated)
        normalize.track(self.obs_rms, b.obs)
        self.env_steps += len(b.obs)

    def ready(self) -> bool:
        """True once a full rollout of ``n_steps`` batched steps is stored."""
        return self.buffer.full

    # --- learning -------------------------------------------------------------------------
    def update(self) -> dict[str, float]:
        """Run the PPO epochs on the stored rollout, then clear it."""
        if not self.ready():
            raise RuntimeError(f'ppo: update() needs {self.config.n_steps} stored steps, has '
                               f'{self.buffer.step}')
        cfg, data = self.config, self.buffer.data
        advantages, returns = gae(data['rewards'], data['values'], data['next_values'],
                                  data['terminated'], data['truncated'], cfg.gamma,
                                  cfg.gae_lambda)
        obs = torch.from_numpy(data['obs'].reshape(-1, self.obs_dim))
        actions = torch.from_numpy(data['actions'].reshape(-1, *data['actions'].shape[2:]))
        old_logprobs = torch.from_numpy(data['logprobs'].reshape(-1))
        old_values = torch.from_numpy(data['values'].reshape(-1))
        adv = torch.as_tensor(advantages.reshape(-1), dtype=torch.float32)
        ret = torch.as_tensor(returns.reshape(-1), dtype=torch.float32)
        batch = len(obs)
        mb_size = max(1, batch // cfg.n_minibatches)
        stats: list[torch.Tensor] = []       # per minibatch, in the order of _UPDATE_METRICS
        for _ in range(cfg.n_epochs):
            order = self.rng.np.permutation(batch)
            for start in range(0, batch, mb_size):
                mb = torch.from_numpy(order[start:start + mb_size])
                logprob, entropy = self.policy.log_prob_entropy(obs[mb], actions[mb])
                log_ratio = logprob - old_logprobs[mb]
                ratio = log_ratio.exp()
                mb_adv = adv[mb]
                if cfg.normalize_advantages and len(mb) > 1:
                    mb_adv = (mb_adv - mb_adv.mean()) / (mb_adv.std() + 1e-8)
                pg_loss = torch.max(-mb_adv * ratio,
                                    -mb_adv * ratio.clamp(1 - cfg.clip_coef, 1 + cfg.clip_coef))
                pg_loss = pg_loss.mean()
                value = self.critic(obs[mb]).squeeze(-1)
                v_loss = (value - ret[mb]).pow(2)
                if cfg.clip_value_loss:
                    v_clipped = old_values[mb] + (value - old_values[mb]).clamp(
                        -cfg.clip_coef, cfg.clip_coef)
                    v_loss = torch.max(v_loss, (v_clipped - ret[mb]).pow(2))
                v_loss = 0.5 * v_loss.mean()
                loss = pg_loss - cfg.ent_coef * entropy.mean() + cfg.vf_coef * v_loss
                self.optimizer.zero_grad()
                loss.backward()
                clip_grad_norm(self._params, cfg.max_grad_norm)
                self.optimizer.step()
                with torch.no_grad():
                    stats.append(torch.stack([
                        pg_loss, v_loss, entropy.mean(), ((ratio - 1) - log_ratio).mean(),
                        ((ratio - 1).abs() > cfg.clip_coef).float().mean()]))
            if cfg.target_kl is not None and float(stats[-1][3]) > cfg.target_kl:
                break
        self.buffer.reset()
        self.updates += 1
        var_ret = float(ret.var())
        explained = 1.0 - float((ret - old_values).var()) / var_ret if var_ret > 0 else 0.0
        metrics = dict(zip(_UPDATE_METRICS, torch.stack(stats).mean(0).tolist(), strict=True))
        metrics.update(explained_variance=explained, learning_rate=cfg.learning_rate)
        if not self.discrete:
            metrics['action_std'] = float(self.policy.log_std.detach().exp().mean())
        return metrics

    # --- persistence and export -----------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Networks, optimizer, normalizer statistics, partial rollout, counters and RNG."""
        return {'algo': self.name, 'config': config_to_dict(self.config),
                'policy': self.policy.state_dict(), 'critic': self.critic.state_dict(),
                'optimizer': self.optimizer.state_dict(), 'obs_rms': self.obs_rms.state_dict(),
                'buffer': self.buffer.state_dict(), 'rng': self.rng.state_dict(),
                'env_steps': self.env_steps, 'updates': self.updates}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore everything written by :meth:`state_dict`."""
        check_algo(self.name, state)
        self.policy.load_state_dict(state['policy'])
        self.critic.load_state_dict(state['critic'])
        self.optimizer.load_state_dict(state['optimizer'])
        self.obs_rms.load_state_dict(state['obs_rms'])
        self.buffer.load_state_dict(state['buffer'])
        self.rng.load_state_dict(state['rng'])
        self.env_steps = int(state['env_steps'])
        self.updates = int(state['updates'])

    def policy_module(self) -> nn.Module:
        """The policy with its observation normalizer (TorchScript-able)."""
        return self.policy


_UPDATE_METRICS = ('policy_loss', 'value_loss', 'entropy', 'approx_kl', 'clip_fraction')
