# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""PPO's fast backend: NumPy acting and scoring, and the Gaussian minibatch gradient written out.

:func:`robotrl_ros.agents.ppo.ppo_loss` states the loss in torch: it is the definition (and,
with autograd, the ``backend: torch`` path and the path of categorical policies). For the
Gaussian policy this module computes the same loss and its gradient in closed form: on 64x64
networks and minibatches of 64 that is several times cheaper than autograd, whose per-op
bookkeeping dominates at this size. The two are tested equal
(``test/agents/fast/test_fast_gradients.py``).

Loss, per minibatch of ``B`` rows (as in CleanRL; ``a`` = action, ``A`` = advantage)::

    mean = tanh(actor(obs)) (bounded) or actor(obs) (linear),  s = clamp(log_std, ...)
    z = (a - mean) * exp(-s),  logp = sum_j(-z_j^2 / 2 - s_j - log(2 pi) / 2)
    r = exp(logp - old_logp)
    policy_loss = mean(max(-A r, -A clamp(r, 1 - eps, 1 + eps)))
    value_loss = 0.5 * mean(max((v - R)^2, (old_v + clamp(v - old_v, -eps, eps) - R)^2))
    entropy = sum_j(1/2 + log(2 pi) / 2 + s_j)
    loss = policy_loss + vf_coef * value_loss - ent_coef * entropy

Derivatives used: dlogp/dmean_j = z_j exp(-s_j), dlogp/ds_j = z_j^2 - 1, dr/dlogp = r,
dmean/dactor = 1 - mean^2 (bounded) or 1 (linear). Where torch's ``max`` ties (inside the clip
range) it splits the gradient in halves that add up to the unclipped term's gradient, which is
what is used here.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from robotrl_ros.agents.buffers import RolloutMinibatch
from robotrl_ros.agents.fast.mlp import FlatGrads, NumpyMLP, numpy_normalize
from robotrl_ros.agents.networks import ObsNormalizer
from robotrl_ros.agents.policies import (
    CLAMP_TOLERANCE,
    LOG_STD_MAX,
    LOG_STD_MIN,
    GaussianPolicy,
)

_HALF_LOG_2PI = np.float32(0.5 * math.log(2.0 * math.pi))


class PPOFastPath:
    """A PPO agent's networks run in NumPy, on views of their torch weights.

    Args:
        policy: The agent's :class:`~robotrl_ros.agents.policies.GaussianPolicy` or
            ``CategoricalPolicy`` (categorical: acting and gradients stay in torch).
        critic: The value network.

    Attributes:
        grads: The gradient buffer of the Gaussian policy's parameters and the critic's (in
            the order of :func:`gaussian_ppo_gradients`), None for a categorical policy.
    """

    def __init__(self, policy: nn.Module, critic: nn.Module) -> None:
        self.normalizer: ObsNormalizer = policy.normalizer
        self.critic = NumpyMLP(critic)
        self.gaussian = isinstance(policy, GaussianPolicy)
        self.grads: FlatGrads | None = None
        if isinstance(policy, GaussianPolicy):
            self.actor = NumpyMLP(policy.mean_net)
            self.bounded_mean = policy.bounded_mean
            self.log_std = policy.log_std.detach().numpy()      # a view: follows every update
            self.grads = FlatGrads([*policy.mean_net.parameters(), policy.log_std,
                                    *critic.parameters()])

    def normalize(self, obs: np.ndarray) -> np.ndarray:
        """The policy's observation normalization."""
        return numpy_normalize(self.normalizer, obs)

    def values(self, obs_n: np.ndarray) -> np.ndarray:
        """``critic(obs_n)`` for normalized observations, ``[B]``."""
        return self.critic(obs_n)[:, 0]

    def sample(self, obs: np.ndarray, generator: torch.Generator,
               ) -> tuple[np.ndarray, np.ndarray]:
        """``GaussianPolicy.sample_unclamped`` on raw observations: the sample and its log-prob.

        The noise comes from the same seeded torch ``generator`` (one draw of the mean's shape),
        so the random stream is the one the torch backend uses.
        """
        mean = self.actor(self.normalize(obs))
        if self.bounded_mean:
            mean = np.tanh(mean)
        log_std = np.clip(self.log_std, LOG_STD_MIN, LOG_STD_MAX)
        noise = torch.randn(mean.shape, generator=generator).numpy()
        log_prob = (-0.5 * noise * noise - log_std - _HALF_LOG_2PI).sum(-1)
        return mean + np.exp(log_std) * noise, log_prob

    def gradients(self, batch: RolloutMinibatch, clip_coef: float, clip_value_loss: bool,
                  vf_coef: float, ent_coef: float, max_grad_norm: float,
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Set the parameters' ``.grad`` to the clipped gradient of the Gaussian PPO loss.

        Returns:
            As :func:`gaussian_ppo_gradients`.
        """
        assert self.grads is not None, 'PPOFastPath: gradients need a Gaussian policy'
        result = gaussian_ppo_gradients(self.actor, self.critic, self.log_std, batch,
                                        self.grads.views, clip_coef, clip_value_loss, vf_coef,
                                        ent_coef, self.bounded_mean)
        self.grads.clip_norm(max_grad_norm)
        self.grads.install()
        return result


def clamped_log_prob_grads(actions: np.ndarray, mean: np.ndarray, log_std: np.ndarray,
                           inv_std: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`~robotrl_ros.agents.policies.clamped_log_prob` summed per row, and its gradients.

    Returns:
        ``(log_prob [B], d log_prob / d mean [B, A], d log_prob / d log_std [B, A])``.
    """
    z = (actions - mean) * inv_std
    per_dim = -0.5 * z * z - log_std - _HALF_LOG_2PI
    d_mean, d_log_std = z * inv_std, z * z - 1.0
    upper = np.abs(actions - 1.0) <= CLAMP_TOLERANCE
    lower = np.abs(actions + 1.0) <= CLAMP_TOLERANCE
    clamped = upper | lower
    if clamped.any():
        # At a bound: log Phi(u), u = (mean - 1) / std at 1 and (-1 - mean) / std at -1;
        # d/du log Phi(u) = phi(u) / Phi(u) (float64: the tail of a far bound is tiny).
        sign = np.where(upper, 1.0, -1.0)
        u = sign * (mean.astype(np.float64) - sign) * inv_std
        log_tail = torch.special.log_ndtr(torch.from_numpy(u)).numpy()
        ratio = np.exp(-0.5 * u * u - _HALF_LOG_2PI - log_tail)
        per_dim = np.where(clamped, log_tail, per_dim)
        d_mean = np.where(clamped, sign * ratio * inv_std, d_mean)
        d_log_std = np.where(clamped, -u * ratio, d_log_std)
    return (per_dim.sum(-1).astype(np.float32), d_mean.astype(np.float32),
            d_log_std.astype(np.float32))


def gaussian_ppo_gradients(actor: NumpyMLP, critic: NumpyMLP, log_std: np.ndarray,
                           batch: RolloutMinibatch, grads: list[np.ndarray], clip_coef: float,
                           clip_value_loss: bool, vf_coef: float, ent_coef: float,
                           bounded_mean: bool = True,
                           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Write d(loss)/d(parameters) into ``grads``; return the losses and the ratios.

    Args:
        actor: The mean network (before its ``tanh``).
        critic: The value network.
        log_std: The policy's ``log_std`` parameter, ``[act_dim]``.
        batch: The minibatch.
        grads: Output arrays in parameter order: the actor's (weight, bias) per layer, then
            ``log_std``'s, then the critic's (weight, bias) per layer.
        clip_coef: Surrogate (and value) clip ε.
        clip_value_loss: Whether the value loss is clipped around the old values.
        vf_coef: Value loss weight.
        ent_coef: Entropy bonus weight.
        bounded_mean: The mean is ``tanh`` of the actor's output (else the output itself).

    Returns:
        ``(losses, ratio, log_ratio)``: ``[policy_loss, value_loss, entropy]`` and the
        per-row probability ratio and its log (for the approximate KL and clip fraction).
    """
    n = len(batch.obs)
    n_actor = 2 * len(actor.weights)
    adv = batch.advantages
    # Policy: forward.
    out, actor_cache = actor.forward(batch.obs)
    mean = np.tanh(out) if bounded_mean else out
    in_range = (log_std >= LOG_STD_MIN) & (log_std <= LOG_STD_MAX)
    s = np.clip(log_std, LOG_STD_MIN, LOG_STD_MAX)
    inv_std = np.exp(-s)
    logp, d_mean, d_log_std = clamped_log_prob_grads(batch.actions, mean, s, inv_std)
    log_ratio = logp - batch.old_logprobs
    ratio = np.exp(log_ratio)
    clipped = np.clip(ratio, 1.0 - clip_coef, 1.0 + clip_coef)
    unclipped_loss, clipped_loss = -adv * ratio, -adv * clipped
    policy_loss = np.maximum(unclipped_loss, clipped_loss).mean()
    entropy = (0.5 + _HALF_LOG_2PI + s).sum()
    # Policy: backward. The unclipped term carries the gradient where it is the larger one
    # or where the clamp is inactive (there both terms are equal).
    active = (unclipped_loss > clipped_loss) | ((ratio >= 1.0 - clip_coef)
                                               & (ratio <= 1.0 + clip_coef))
    g_logp = np.where(active, -adv * ratio, 0.0).astype(np.float32) / n
    g_mean = g_logp[:, None] * d_mean
    grads[n_actor][...] = ((g_logp[:, None] * d_log_std).sum(0) - ent_coef) * in_range
    actor.backward(actor_cache, g_mean * (1.0 - mean * mean) if bounded_mean else g_mean,
                   grads[:n_actor])
    # Value function.
    value_out, critic_cache = critic.forward(batch.obs)
    value = value_out[:, 0]
    error = value - batch.returns
    if clip_value_loss:
        delta = value - batch.old_values
        clipped_error = batch.old_values + np.clip(delta, -clip_coef, clip_coef) - batch.returns
        square, clipped_square = error * error, clipped_error * clipped_error
        value_loss = 0.5 * np.maximum(square, clipped_square).mean()
        inside = (delta >= -clip_coef) & (delta <= clip_coef)
        g_value = np.where((square > clipped_square) | inside, error,
                           0.0).astype(np.float32)
    else:
        value_loss = 0.5 * (error * error).mean()
        g_value = error
    critic.backward(critic_cache, (g_value * np.float32(vf_coef / n))[:, None],
                    grads[n_actor + 1:])
    losses = np.array([policy_loss, value_loss, entropy], dtype=np.float64)
    return losses, ratio, log_ratio
