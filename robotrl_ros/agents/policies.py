# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Exportable policy modules: ``forward(obs) -> action`` deterministic, ``explore(obs)`` sampled.

Every class here is ``torch.jit.script``-able and carries its observation normalizer, so a
TorchScript export of one needs nothing else (the policy layer above writes it).
Continuous policies return actions in [-1, 1] (``[B, act_dim]``); discrete ones return int64
indices ``[B]``. The agents also use these modules for ``act`` (with their own seeded
generator for sampling), so what is exported is exactly what was trained and evaluated.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from robotrl_ros.agents.networks import ObsNormalizer

LOG_STD_MIN = -5.0
LOG_STD_MAX = 2.0
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
#: An action within this distance of -1 or 1 was clamped onto the bound (see
#: :func:`clamped_log_prob`).
CLAMP_TOLERANCE = 1e-6


def clamped_log_prob(action: torch.Tensor, mean: torch.Tensor,
                     log_std: torch.Tensor) -> torch.Tensor:
    """Per-dimension log-probability of executing ``action`` = ``clamp(N(mean, std), -1, 1)``.

    Inside the bounds it is the Gaussian density. An action at a bound stands for every sample
    clamped onto it, so it is scored by that tail's probability mass, ``log Phi((mean - 1) /
    std)`` at 1 and ``log Phi((-1 - mean) / std)`` at -1 (the clipped-action policy gradient,
    Fujita & Maeda 2018). The density there would be wrong for a policy whose mean sits at a
    bound: most of its samples are clamped, and the density at the bound says little of how
    likely the executed action was. In-process training scores its own unclamped samples
    (never exactly at a bound); on the ROS graph only the executed, clamped action is known.
    """
    inv_std = torch.exp(-log_std)
    z = (action - mean) * inv_std
    density = -0.5 * z.pow(2) - log_std - _HALF_LOG_2PI
    upper = (action - 1.0).abs() <= CLAMP_TOLERANCE
    lower = (action + 1.0).abs() <= CLAMP_TOLERANCE
    clamped = upper | lower
    if not bool(clamped.any()):
        return density
    tail = torch.where(upper, torch.special.log_ndtr((mean - 1.0) * inv_std),
                       torch.special.log_ndtr((-1.0 - mean) * inv_std))
    return torch.where(clamped, tail, density)


def expected_clamped(mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """``E[clamp(mean + std * N(0, 1), -1, 1)]``: the mean of the action actually executed.

    With ``a = (-1 - mean) / std`` and ``b = (1 - mean) / std`` (normal CDF ``Phi``, density
    ``phi``), the clamped Gaussian's mean is
    ``1 - Phi(b) - Phi(a) + mean (Phi(b) - Phi(a)) + std (phi(a) - phi(b))``: ``mean`` where
    the bounds are many ``std`` away, and pulled inside them where the mean sits at a bound
    (a saturated ``tanh`` mean, whose samples are clamped on one side only).
    """
    a = (-1.0 - mean) / std
    b = (1.0 - mean) / std
    # Literals: TorchScript compiles this function and cannot read module-level floats.
    cdf_a = 0.5 + 0.5 * torch.erf(a * 0.7071067811865476)      # 1 / sqrt(2)
    cdf_b = 0.5 + 0.5 * torch.erf(b * 0.7071067811865476)
    pdf_a = torch.exp(-0.5 * (a * a)) * 0.3989422804014327      # 1 / sqrt(2 pi)
    pdf_b = torch.exp(-0.5 * (b * b)) * 0.3989422804014327
    return 1.0 - cdf_b - cdf_a + mean * (cdf_b - cdf_a) + std * (pdf_a - pdf_b)


class UnitClamp(nn.Module):
    """``clamp(x, -1, 1)``: the action bound of a linear-mean policy's deterministic output."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` clamped to [-1, 1]."""
        return torch.clamp(x, -1.0, 1.0)


class GaussianPolicy(nn.Module):
    """Diagonal Gaussian with state-independent log std around a bounded or a linear mean.

    The executed action is the sample clamped to [-1, 1]. In-process PPO scores the unclamped
    sample (exact log-probabilities, as SB3). With ``bounded_mean`` (the default) the mean is
    ``tanh`` of the network: on the ROS graph only the clamped action is known, and with the mean
    inside (-1, 1) it still has a sensible log-probability. (An unbounded mean learned
    Pendulum-v1 no better: see benchmarks/results/learning.md.) Without it the mean is the
    network's output, as in SB3, CleanRL and rsl_rl, and the deterministic action is that mean
    clamped to [-1, 1]: a ``tanh`` mean that saturates has a vanishing gradient and stays at the
    bound, where a linear mean can come back (the A1 locomotion row of issue 19).

    Args:
        normalizer: Observation normalizer (part of the exported module).
        mean_net: The mean network.
        action_dim: Action length.
        init_log_std: Initial log standard deviation.
        bounded_mean: ``tanh`` on the mean (True) or a linear mean (False).
        expected_action: The deterministic action is the mean of the executed (clamped)
            action, :func:`expected_clamped` of the mean and the std (True), instead of the
            Gaussian's mean bounded to [-1, 1] (False). They differ where the mean is near a
            bound: a saturated ``tanh`` mean acts bang-bang, while the policy that was trained
            and scored is the clamped sample's (docs/agents.md, the A1 rows).
    """

    def __init__(self, normalizer: ObsNormalizer, mean_net: nn.Module, action_dim: int,
                 init_log_std: float = 0.0, bounded_mean: bool = True,
                 expected_action: bool = False) -> None:
        super().__init__()
        self.normalizer = normalizer
        self.mean_net = mean_net
        self.log_std = nn.Parameter(torch.full((action_dim,), float(init_log_std)))
        self.bounded_mean = bounded_mean
        self.expected_action = expected_action
        # Plain attributes: TorchScript's forward cannot read the module-level floats.
        self.log_std_min, self.log_std_max = LOG_STD_MIN, LOG_STD_MAX
        # Parameter-free, so checkpoints of either kind have the same keys.
        self.mean_activation = nn.Tanh() if bounded_mean else nn.Identity()
        self.action_bound = nn.Tanh() if bounded_mean else UnitClamp()

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """Deterministic action in [-1, 1]: the mean bounded, or the executed action's mean."""
        out = self.mean_net(self.normalizer(obs))
        if self.expected_action:
            std = torch.exp(self.log_std.clamp(self.log_std_min, self.log_std_max))
            return expected_clamped(self.mean_activation(out), std)
        return self.action_bound(out)

    @torch.jit.export
    def explore(self, obs: torch.Tensor) -> torch.Tensor:
        """A Gaussian sample, not clamped: the executed action is it clamped to [-1, 1].

        A policy node clamps it and publishes the sample beside the command, so a trainer
        scores the sample (as in-process PPO does), not the clamped action.
        """
        mean = self.mean_activation(self.mean_net(self.normalizer(obs)))
        return mean + torch.exp(self.log_std) * torch.randn_like(mean)

    @torch.jit.ignore
    def _log_std(self) -> torch.Tensor:
        return self.log_std.clamp(LOG_STD_MIN, LOG_STD_MAX)

    @torch.jit.ignore
    def sample(self, obs_n: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Seeded sample for normalized observations, clamped to [-1, 1]."""
        return torch.clamp(self.sample_unclamped(obs_n, generator)[0], -1.0, 1.0)

    @torch.jit.ignore
    def sample_unclamped(self, obs_n: torch.Tensor,
                         generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """Seeded Gaussian sample before clamping (what PPO scores) and its log-probability."""
        mean, log_std = self.mean_activation(self.mean_net(obs_n)), self._log_std()
        noise = torch.randn(mean.shape, generator=generator)
        log_prob = (-0.5 * noise.pow(2) - log_std - _HALF_LOG_2PI).sum(-1)
        return mean + torch.exp(log_std) * noise, log_prob

    @torch.jit.ignore
    def log_prob_entropy(self, obs_n: torch.Tensor,
                         action: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Summed log-probability of executing ``action`` (:func:`clamped_log_prob`), entropy."""
        mean, log_std = self.mean_activation(self.mean_net(obs_n)), self._log_std()
        log_prob = clamped_log_prob(action, mean, log_std).sum(-1)
        entropy = (0.5 + _HALF_LOG_2PI + log_std).sum().expand(len(mean))
        return log_prob, entropy


def policy_act(policy: GaussianPolicy | CategoricalPolicy, obs: torch.Tensor,
               deterministic: bool, generator: torch.Generator) -> np.ndarray:
    """Deterministic ``policy(obs)`` or a sample drawn with the agent's seeded generator."""
    with torch.no_grad():
        if deterministic:
            return policy(obs).numpy()
        return policy.sample(policy.normalizer(obs), generator).numpy()


class CategoricalPolicy(nn.Module):
    """Softmax over ``n_actions`` logits; deterministic action = argmax."""

    def __init__(self, normalizer: ObsNormalizer, logits_net: nn.Module) -> None:
        super().__init__()
        self.normalizer = normalizer
        self.logits_net = logits_net

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """Most likely action index (int64 ``[B]``)."""
        return torch.argmax(self.logits_net(self.normalizer(obs)), dim=-1)

    @torch.jit.export
    def explore(self, obs: torch.Tensor) -> torch.Tensor:
        """A sampled action index (int64 ``[B]``)."""
        probs = torch.softmax(self.logits_net(self.normalizer(obs)), dim=-1)
        return torch.multinomial(probs, 1).squeeze(-1)

    @torch.jit.ignore
    def sample(self, obs_n: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Seeded sample for normalized observations."""
        probs = torch.softmax(self.logits_net(obs_n), dim=-1)
        return torch.multinomial(probs, 1, generator=generator).squeeze(-1)

    @torch.jit.ignore
    def log_prob_entropy(self, obs_n: torch.Tensor,
                         action: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Log-probability of the ``action`` indices and entropy, per row."""
        log_p = torch.log_softmax(self.logits_net(obs_n), dim=-1)
        entropy = -(log_p.exp() * log_p).sum(-1)
        return log_p.gather(-1, action.unsqueeze(-1)).squeeze(-1), entropy


class SquashedGaussianPolicy(nn.Module):
    """SAC actor: ``tanh`` of a Gaussian whose mean and log std come from one network."""

    def __init__(self, normalizer: ObsNormalizer, net: nn.Module, action_dim: int) -> None:
        super().__init__()
        self.normalizer = normalizer
        self.net = net
        self.action_dim = action_dim
        self.log_std_min = LOG_STD_MIN
        self.log_std_max = LOG_STD_MAX

    def _mean_log_std(self, obs_n: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.net(obs_n)
        mean = out[:, :self.action_dim]
        log_std = torch.clamp(out[:, self.action_dim:], self.log_std_min, self.log_std_max)
        return mean, log_std

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """``tanh(mean)``, in (-1, 1)."""
        mean, _ = self._mean_log_std(self.normalizer(obs))
        return torch.tanh(mean)

    @torch.jit.export
    def explore(self, obs: torch.Tensor) -> torch.Tensor:
        """``tanh`` of a Gaussian sample."""
        mean, log_std = self._mean_log_std(self.normalizer(obs))
        return torch.tanh(mean + torch.exp(log_std) * torch.randn_like(mean))

    @torch.jit.ignore
    def rsample(self, obs_n: torch.Tensor,
                generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Reparameterized squashed sample and its log-probability (tanh-corrected)."""
        mean, log_std = self._mean_log_std(obs_n)
        noise = torch.randn(mean.shape, generator=generator)
        action = torch.tanh(mean + torch.exp(log_std) * noise)
        # log N(pre_tanh; mean, std) with (pre_tanh - mean) / std = noise, minus log|d tanh|
        log_prob = -0.5 * noise.pow(2) - log_std - _HALF_LOG_2PI
        log_prob = log_prob - torch.log(1.0 - action.pow(2) + 1e-6)
        return action, log_prob.sum(-1)


class EpsilonGreedyQPolicy(nn.Module):
    """Greedy action of a Q-network; ``explore`` is ε-greedy with ε stored in the module."""

    def __init__(self, normalizer: ObsNormalizer, q_net: nn.Module, n_actions: int) -> None:
        super().__init__()
        self.normalizer = normalizer
        self.q_net = q_net
        self.n_actions = n_actions
        self.register_buffer('epsilon', torch.tensor(0.05))

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """``argmax_a Q(obs, a)`` (int64 ``[B]``)."""
        return torch.argmax(self.q_net(self.normalizer(obs)), dim=-1)

    @torch.jit.export
    def explore(self, obs: torch.Tensor) -> torch.Tensor:
        """ε-greedy action indices."""
        greedy = self.forward(obs)
        random = torch.randint(0, self.n_actions, greedy.shape, dtype=torch.int64)
        pick = torch.rand(greedy.shape) < self.epsilon
        return torch.where(pick, random, greedy)
