# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""SAC's fast backend: its losses' exact gradients written out in NumPy (see :mod:`.mlp`).

The losses are defined in torch in :mod:`robotrl_ros.agents.sac` (``sac_td_target``,
``sac_critic_loss``, ``sac_actor_loss``, ``sac_alpha_loss``). One gradient step runs as CleanRL
does: the twin critics on the soft Bellman target, then the actor through the (just updated)
critics, then the temperature. At 64x64 networks and minibatches of 128, torch's per-op cost
dominates each of them; here they are a few dozen NumPy operations each.
``test/agents/fast/test_fast_gradients.py`` checks every gradient against autograd on those
torch losses.

Actor (``squashed Gaussian``; ``ε`` standard normal, ``s = clamp(log_std, MIN, MAX)``)::

    u = mean + exp(s) ε,  a = tanh(u)
    logp = sum_j(-ε_j^2 / 2 - s_j - log(2 pi) / 2) - sum_j log(1 - a_j^2 + 1e-6)
    actor_loss = mean(α logp - min_k Q_k(obs, a))

with dlogp/da = 2a / (1 - a^2 + 1e-6) (the squashing correction), da/du = 1 - a^2,
du/dmean = 1, du/ds = exp(s) ε and dlogp/ds = -1 (the clamp passes the gradient inside its
range only); min_k routes the critic's input gradient through the smaller critic.

Critics: ``q_loss = sum_k mean((Q_k(obs, action) - target)^2)``, so dq_loss/dQ_k = 2 (Q_k -
target) / B.

Temperature: ``alpha_loss = -mean(log_alpha (logp + target_entropy))``, so
dalpha_loss/dlog_alpha = -mean(logp + target_entropy).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from robotrl_ros.agents.fast.mlp import NumpyMLP
from robotrl_ros.agents.policies import LOG_STD_MAX, LOG_STD_MIN

_F32 = np.float32
_HALF_LOG_2PI = _F32(0.5 * math.log(2.0 * math.pi))


class SquashedSample:
    """A reparameterized sample of the SAC actor, with what its backward pass needs.

    Args:
        actor: The actor network (outputs mean and raw log std, ``[B, 2 * act_dim]``).
        obs: Observations ``[B, obs_dim]`` (float32).
        generator: Seeded torch generator for the noise (the torch path's random stream).
        keep_cache: Keep the actor's activations for :meth:`backward`.
    """

    def __init__(self, actor: NumpyMLP, obs: np.ndarray, generator: torch.Generator,
                 keep_cache: bool = False) -> None:
        if keep_cache:
            out, self._cache = actor.forward(obs)
        else:
            out, self._cache = actor(obs), None
        self._actor = actor
        dim = out.shape[1] // 2
        mean, raw_log_std = out[:, :dim], out[:, dim:]
        self._in_range = (raw_log_std >= LOG_STD_MIN) & (raw_log_std <= LOG_STD_MAX)
        log_std = np.clip(raw_log_std, LOG_STD_MIN, LOG_STD_MAX)
        self._noise = torch.randn(mean.shape, generator=generator).numpy()
        self._std = np.exp(log_std)
        self.action = np.tanh(mean + self._std * self._noise)
        self._squash = 1.0 - self.action * self.action + _F32(1e-6)
        self.logprob = ((-0.5 * self._noise * self._noise - log_std - _HALF_LOG_2PI).sum(-1)
                        - np.log(self._squash).sum(-1))

    def backward(self, grad_action: np.ndarray, grad_logprob: np.ndarray | float,
                 grads: list[np.ndarray]) -> None:
        """Write the actor's parameter gradients, given dLoss/dAction and dLoss/dLogprob."""
        assert self._cache is not None, 'SquashedSample: created without keep_cache'
        a = self.action
        grad_pre_tanh = (grad_action + grad_logprob * 2.0 * a / self._squash) * (1.0 - a * a)
        grad_log_std = (grad_pre_tanh * self._std * self._noise - grad_logprob) * self._in_range
        self._actor.backward(self._cache, np.concatenate([grad_pre_tanh, grad_log_std], 1),
                             grads)


def critic_gradients(critic: NumpyMLP, obs_action: np.ndarray, target: np.ndarray,
                     grads: list[np.ndarray]) -> tuple[float, float]:
    """Write d(q_loss)/d(critic parameters) into ``grads``; return ``(q_loss, mean Q_0)``."""
    q, cache = critic.forward(obs_action)           # [n_critics, B, 1]
    error = q[..., 0] - target
    critic.backward(cache, (error * _F32(2.0 / len(target)))[..., None], grads)
    return float((error * error).mean(-1).sum()), float(q[0].mean())


def actor_gradients(actor: NumpyMLP, critic: NumpyMLP, obs: np.ndarray, alpha: float,
                    generator: torch.Generator, grads: list[np.ndarray],
                    ) -> tuple[float, np.ndarray]:
    """Write d(actor_loss)/d(actor parameters) into ``grads``; return the loss and log-probs.

    The critic is frozen here: only its input gradient is computed.
    """
    sample = SquashedSample(actor, obs, generator, keep_cache=True)
    n = len(obs)
    q, cache = critic.forward(np.concatenate([obs, sample.action], 1))   # [n_critics, B, 1]
    smaller = q[..., 0].argmin(0)
    rows = np.arange(n)
    q_min = q[smaller, rows, 0]
    grad_q = np.zeros_like(q)
    grad_q[smaller, rows, 0] = _F32(-1.0 / n)
    grad_input = critic.backward(cache, grad_q, input_grad=True)
    grad_action = grad_input.sum(0)[:, obs.shape[1]:]
    sample.backward(grad_action, _F32(alpha / n), grads)
    loss = float((alpha * sample.logprob - q_min).mean())
    return loss, sample.logprob


def soft_td_target(actor: NumpyMLP, q_target: NumpyMLP, rewards: np.ndarray,
                   next_obs: np.ndarray, terminated: np.ndarray, gamma: float, alpha: float,
                   generator: torch.Generator) -> np.ndarray:
    """The soft Bellman target ``r + γ (1 - done) (min_k Q'_k(s', a') - α log π(a'|s'))``."""
    nxt = SquashedSample(actor, next_obs, generator)
    next_q = q_target(np.concatenate([next_obs, nxt.action], 1)).min(0)[:, 0]
    target = rewards + gamma * (1.0 - terminated) * (next_q - alpha * nxt.logprob)
    return target.astype(np.float32)


def alpha_gradient(logprob: np.ndarray, target_entropy: float) -> torch.Tensor:
    """d(alpha_loss)/d(log_alpha), as a scalar tensor to set as ``log_alpha.grad``.

    Setting it directly saves backpropagating a one-parameter graph.
    """
    return torch.tensor(-float((logprob + target_entropy).mean()))
