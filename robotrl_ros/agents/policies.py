# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Exportable policy modules: ``forward(obs) -> action`` deterministic, ``explore(obs)`` sampled.

Every class here is ``torch.jit.script``-able and carries its observation normalizer, so the
TorchScript file written by ``robotrl_ros.policy.artifact.export_artifact`` needs nothing else.
Continuous policies return actions in [-1, 1] (``[B, act_dim]``); discrete ones return int64
indices ``[B]``. The agents also use these modules for ``act`` (with their own seeded
generator for sampling), so what is exported is exactly what was trained and evaluated.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from robotrl_ros.agents.networks import ObsNormalizer

LOG_STD_MIN = -5.0
LOG_STD_MAX = 2.0


class GaussianPolicy(nn.Module):
    """Diagonal Gaussian with state-independent log std around a ``tanh``-bounded mean.

    The mean stays in (-1, 1), so a sample clamped to [-1, 1] (what the robot executes, and what
    ``observe`` is given back) always keeps a sensible log-probability under the policy.
    """

    def __init__(self, normalizer: ObsNormalizer, mean_net: nn.Module, action_dim: int,
                 init_log_std: float = 0.0) -> None:
        super().__init__()
        self.normalizer = normalizer
        self.mean_net = mean_net
        self.log_std = nn.Parameter(torch.full((action_dim,), float(init_log_std)))

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """Mean action, in (-1, 1)."""
        return torch.tanh(self.mean_net(self.normalizer(obs)))

    @torch.jit.export
    def explore(self, obs: torch.Tensor) -> torch.Tensor:
        """A sampled action, clamped to [-1, 1]."""
        mean = torch.tanh(self.mean_net(self.normalizer(obs)))
        return torch.clamp(mean + torch.exp(self.log_std) * torch.randn_like(mean), -1.0, 1.0)

    @torch.jit.ignore
    def distribution(self, obs_n: torch.Tensor) -> torch.distributions.Normal:
        """Action distribution for already-normalized observations."""
        mean = torch.tanh(self.mean_net(obs_n))
        std = torch.exp(self.log_std.clamp(LOG_STD_MIN, LOG_STD_MAX)).expand_as(mean)
        return torch.distributions.Normal(mean, std)

    @torch.jit.ignore
    def sample(self, obs_n: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Seeded sample for normalized observations, clamped to [-1, 1]."""
        return torch.clamp(self.sample_unclamped(obs_n, generator), -1.0, 1.0)

    @torch.jit.ignore
    def sample_unclamped(self, obs_n: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Seeded Gaussian sample before clamping (what PPO scores in-process)."""
        dist = self.distribution(obs_n)
        return dist.mean + dist.stddev * torch.randn(dist.mean.shape, generator=generator)

    @torch.jit.ignore
    def log_prob_entropy(self, obs_n: torch.Tensor,
                         action: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Summed log-probability of ``action`` and entropy, per row."""
        dist = self.distribution(obs_n)
        return dist.log_prob(action).sum(-1), dist.entropy().sum(-1)


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
        dist = torch.distributions.Categorical(logits=self.logits_net(obs_n))
        return dist.log_prob(action), dist.entropy()


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
        std = torch.exp(log_std)
        noise = torch.randn(mean.shape, generator=generator)
        pre_tanh = mean + std * noise
        action = torch.tanh(pre_tanh)
        log_prob = torch.distributions.Normal(mean, std).log_prob(pre_tanh)
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
