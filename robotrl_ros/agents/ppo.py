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

:func:`ppo_loss` is the definition of the minibatch loss. With ``backend: torch`` the agent acts,
scores and learns in torch, by autograd on it; with ``backend: fast`` (the default) it acts and
scores in NumPy and computes the Gaussian policy's gradient in closed form
(:mod:`robotrl_ros.agents.fast.ppo`, tested equal to autograd on :func:`ppo_loss`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import torch
from torch import nn

from robotrl_ros.agents.base import Agent
from robotrl_ros.agents.buffers import RolloutBuffer, RolloutMinibatch
from robotrl_ros.agents.checks import check_algo, obs_batch, transition_batch
from robotrl_ros.agents.config import backend_field, build_config, config_to_dict
from robotrl_ros.agents.fast.ppo import PPOFastPath
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
        bounded_mean: Gaussian mean ``tanh`` of the network (True) or linear, clamped only
            when acting (False, as SB3, CleanRL and rsl_rl): see
            :class:`~robotrl_ros.agents.policies.GaussianPolicy`.
        expected_action: The deterministic (exported, evaluated) action is the mean of the
            executed action, the clamped Gaussian's, instead of the Gaussian's mean bounded
            (:func:`~robotrl_ros.agents.policies.expected_clamped`); training is the same.
        desired_kl: Adapt the learning rate after every minibatch, as rsl_rl's ``adaptive``
            schedule: approximate KL above twice this divides it by 1.5, below half of it
            multiplies it by 1.5, within [1e-5, 1e-2] (None: constant ``learning_rate``).
        backend: ``fast`` (NumPy acting, scoring and Gaussian gradients) or ``torch``
            (everything in torch, autograd on :func:`ppo_loss`).
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
    desired_kl: float | None = None
    bounded_mean: bool = True
    expected_action: bool = False
    backend: str = backend_field()


class PPOLoss(NamedTuple):
    """The terms of :func:`ppo_loss` (scalars, except the per-row ratios)."""

    loss: torch.Tensor
    policy_loss: torch.Tensor
    value_loss: torch.Tensor
    entropy: torch.Tensor
    ratio: torch.Tensor
    log_ratio: torch.Tensor


def ppo_loss(policy: GaussianPolicy | CategoricalPolicy, critic: nn.Module,
             batch: RolloutMinibatch, clip_coef: float, clip_value_loss: bool, vf_coef: float,
             ent_coef: float) -> PPOLoss:
    """PPO's minibatch loss: clipped surrogate, (clipped) ``0.5 * MSE`` value loss, entropy.

    Args:
        policy: The policy (scores ``batch.actions`` on the normalized ``batch.obs``).
        critic: The value network.
        batch: The minibatch (advantages already standardized if configured).
        clip_coef: Surrogate ratio clip ε (also the value clip range).
        clip_value_loss: Clip the value update around the old values.
        vf_coef: Value loss weight.
        ent_coef: Entropy bonus weight.
    """
    obs, adv = torch.as_tensor(batch.obs), torch.as_tensor(batch.advantages)
    old_values, returns = torch.as_tensor(batch.old_values), torch.as_tensor(batch.returns)
    logprob, entropy = policy.log_prob_entropy(obs, torch.as_tensor(batch.actions))
    log_ratio = logprob - torch.as_tensor(batch.old_logprobs)
    ratio = log_ratio.exp()
    policy_loss = torch.max(-adv * ratio, -adv * ratio.clamp(1 - clip_coef, 1 + clip_coef)).mean()
    value = critic(obs).squeeze(-1)
    value_loss = (value - returns).pow(2)
    if clip_value_loss:
        value_clipped = old_values + (value - old_values).clamp(-clip_coef, clip_coef)
        value_loss = torch.max(value_loss, (value_clipped - returns).pow(2))
    value_loss = 0.5 * value_loss.mean()
    entropy = entropy.mean()
    loss = policy_loss - ent_coef * entropy + vf_coef * value_loss
    return PPOLoss(loss, policy_loss, value_loss, entropy, ratio, log_ratio)


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
    rollout_state_key = 'buffer'

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
                else GaussianPolicy(normalizer, actor, action_dim, cfg.init_log_std,
                                    cfg.bounded_mean, cfg.expected_action))
            self.critic = mlp(obs_dim, 1, cfg.hidden_sizes, cfg.activation, out_gain=1.0)
        self._params = list(self.policy.parameters()) + list(self.critic.parameters())
        # backend fast: rollouts act and score in NumPy on views of these weights, and Gaussian
        # minibatch gradients are computed in closed form (agents/fast/ppo.py).
        self._fast = PPOFastPath(self.policy, self.critic) if cfg.backend == 'fast' else None
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
        obs_arr = obs_batch(self.name, obs, self.obs_dim)
        if deterministic or self.discrete:
            return policy_act(self.policy, torch.from_numpy(obs_arr), deterministic,
                              self.rng.torch)
        if self._fast is not None:
            raw, logprob = self._fast.sample(obs_arr, self.rng.torch)
        else:
            policy = self.policy
            assert isinstance(policy, GaussianPolicy)
            with torch.no_grad():
                sample = policy.sample_unclamped(policy.normalizer(torch.from_numpy(obs_arr)),
                                                 self.rng.torch)
            raw, logprob = (x.numpy() for x in sample)
        action = np.clip(raw, -1.0, 1.0)
        self._last_sample = (obs_arr.copy(), action.copy(), raw, logprob)
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
        """Store one batched step with its values under the current networks.

        The log-probability of an action this agent sampled is stored with it; an executed
        action it did not sample (the graph's, a discrete action) is stored with NaN and scored
        for the whole rollout at :meth:`update`.
        """
        b = transition_batch(self.name, self.obs_dim, self.action_dim, self.discrete, obs,
                             action, reward, next_obs, terminated, truncated)
        normalize = self.policy.normalizer
        n = len(b.obs)
        both = np.concatenate([b.obs, b.next_obs])
        if self._fast is not None:
            both_n = self._fast.normalize(both)
            values = self._fast.values(both_n)      # obs rows, then next_obs
        else:
            with torch.no_grad():
                both_n = normalize(torch.from_numpy(both)).numpy()
                values = self.critic(torch.from_numpy(both_n))[:, 0].numpy()
        obs_n = both_n[:n]
        own = self._own_sample(b.obs, b.action)
        if own is None:  # an executed action (the graph): scored for the rollout in update()
            action, logprob = b.action, np.full(n, np.nan, dtype=np.float32)
        else:
            action, logprob = own
        self.buffer.add(obs=obs_n, actions=action, logprobs=np.asarray(logprob),
                        values=values[:n], next_values=values[n:],
                        rewards=b.reward * self.config.reward_scale,
                        terminated=b.terminated, truncated=b.truncated)
        normalize.track(self.obs_rms, b.obs)
        self.env_steps += len(b.obs)

    def _score_executed_actions(self, data: dict[str, np.ndarray]) -> None:
        """Log-probabilities of the stored actions that came without one, in one batch.

        Actions observed on the graph are not this agent's own samples, so ``observe`` leaves
        their log-probability NaN. The networks do not change between ``observe`` and
        ``update``, and the stored observations are already normalized, so one forward pass
        here gives exactly what a pass per transition would have.
        """
        missing = np.isnan(data['logprobs'])
        if not missing.any():
            return
        with torch.no_grad():
            logprob = self.policy.log_prob_entropy(torch.from_numpy(data['obs'][missing]),
                                                   torch.from_numpy(data['actions'][missing]))[0]
        data['logprobs'][missing] = logprob.numpy()

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
        self._score_executed_actions(data)
        advantages, returns = gae(data['rewards'], data['values'], data['next_values'],
                                  data['terminated'], data['truncated'], cfg.gamma,
                                  cfg.gae_lambda)
        flat = {'obs': data['obs'].reshape(-1, self.obs_dim),
                'actions': data['actions'].reshape(-1, *data['actions'].shape[2:]),
                'old_logprobs': data['logprobs'].reshape(-1),
                'old_values': data['values'].reshape(-1),
                'advantages': advantages.reshape(-1).astype(np.float32),
                'returns': returns.reshape(-1).astype(np.float32)}
        batch = len(flat['obs'])
        mb_size = max(1, batch // cfg.n_minibatches)
        losses: list[np.ndarray] = []    # policy loss, value loss, entropy per minibatch
        checks: list[list[float]] = []   # approx KL, clip fraction of each epoch's last one
        for _ in range(cfg.n_epochs):
            # One gather per epoch: the minibatches are then contiguous slices (views).
            order = self.rng.np.permutation(batch)
            epoch = {key: value[order] for key, value in flat.items()}
            if cfg.normalize_advantages:
                epoch['advantages'] = _minibatch_normalized(epoch['advantages'], mb_size)
            for start in range(0, batch, mb_size):
                mb = RolloutMinibatch(**{key: value[start:start + mb_size]
                                         for key, value in epoch.items()})
                if self._fast is not None and self._fast.gaussian:
                    mb_losses, ratio, log_ratio = self._fast.gradients(
                        mb, cfg.clip_coef, cfg.clip_value_loss, cfg.vf_coef, cfg.ent_coef,
                        cfg.max_grad_norm)
                else:
                    mb_losses, ratio, log_ratio = self._torch_gradients(mb)
                self.optimizer.step()
                losses.append(mb_losses)
                approx_kl = float(((ratio - 1) - log_ratio).mean())   # as CleanRL
                if cfg.desired_kl is not None:
                    self._adapt_learning_rate(approx_kl)
            checks.append([approx_kl,   # of the epoch's last minibatch, for target_kl
                           float((np.abs(ratio - 1) > cfg.clip_coef).mean())])
            if cfg.target_kl is not None and checks[-1][0] > cfg.target_kl:
                break
        ret, old_values = flat['returns'], flat['old_values']
        self.buffer.reset()
        self.updates += 1
        var_ret = float(ret.var())
        explained = 1.0 - float((ret - old_values).var()) / var_ret if var_ret > 0 else 0.0
        metrics = dict(zip(_UPDATE_METRICS, [*np.mean(losses, axis=0), *np.mean(checks, axis=0)],
                           strict=True))
        metrics = {key: float(value) for key, value in metrics.items()}
        metrics.update(explained_variance=explained,
                       learning_rate=float(self.optimizer.param_groups[0]['lr']))
        if not self.discrete:
            metrics['action_std'] = float(self.policy.log_std.detach().exp().mean())
        return metrics

    def _adapt_learning_rate(self, approx_kl: float) -> None:
        """rsl_rl's adaptive schedule: keep the policy's step near ``desired_kl``."""
        desired, group = self.config.desired_kl, self.optimizer.param_groups[0]
        if approx_kl > 2.0 * desired:
            group['lr'] = max(LR_BOUNDS[0], group['lr'] / 1.5)
        elif approx_kl < 0.5 * desired:
            group['lr'] = min(LR_BOUNDS[1], group['lr'] * 1.5)

    def _torch_gradients(self, mb: RolloutMinibatch,
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Set the parameters' ``.grad`` to the clipped gradient of :func:`ppo_loss` (autograd).

        Returns:
            ``[policy_loss, value_loss, entropy]``, the per-row ratios and their logs.
        """
        cfg = self.config
        terms = ppo_loss(self.policy, self.critic, mb, cfg.clip_coef, cfg.clip_value_loss,
                         cfg.vf_coef, cfg.ent_coef)
        self.optimizer.zero_grad()
        terms.loss.backward()
        clip_grad_norm(self._params, cfg.max_grad_norm)
        losses = torch.stack([terms.policy_loss, terms.value_loss, terms.entropy])
        return (losses.detach().numpy(), terms.ratio.detach().numpy(),
                terms.log_ratio.detach().numpy())

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
#: Learning-rate range of the adaptive schedule (``desired_kl``), as rsl_rl.
LR_BOUNDS = (1e-5, 1e-2)


def _minibatch_normalized(adv: np.ndarray, mb_size: int) -> np.ndarray:
    """``adv`` standardized within each consecutive minibatch of ``mb_size`` (vectorized).

    Equal to standardizing each minibatch on its own (unbiased std, as torch); a last, shorter
    minibatch is standardized separately, and a minibatch of one sample is left as is.
    """
    full = len(adv) // mb_size * mb_size
    parts = []
    for chunk in (adv[:full].reshape(-1, mb_size), adv[full:].reshape(1, -1)):
        if chunk.shape[1] > 1:
            chunk = (chunk - chunk.mean(1, keepdims=True)) / (
                chunk.std(1, ddof=1, keepdims=True) + np.float32(1e-8))
        parts.append(chunk.reshape(-1))
    return np.concatenate(parts)
