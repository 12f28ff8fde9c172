# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Small network builders shared by the agents (rsl_rl-sized: MLPs and an obs normalizer)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from robotrl_ros.agents.normalization import RunningMeanStd

ACTIVATIONS: dict[str, type[nn.Module]] = {'tanh': nn.Tanh, 'relu': nn.ReLU, 'elu': nn.ELU}


def layer_init(layer: nn.Linear, gain: float = math.sqrt(2.0), bias: float = 0.0) -> nn.Linear:
    """Orthogonal weight init with ``gain`` and constant bias (the CleanRL/PPO convention)."""
    nn.init.orthogonal_(layer.weight, gain)
    nn.init.constant_(layer.bias, bias)
    return layer


def mlp(in_dim: int, out_dim: int, hidden: Sequence[int], activation: str = 'tanh',
        out_gain: float = 1.0) -> nn.Sequential:
    """Multi-layer perceptron ``in_dim -> hidden... -> out_dim`` with orthogonal init.

    Args:
        in_dim: Input size.
        out_dim: Output size.
        hidden: Hidden layer sizes (may be empty for a linear map).
        activation: ``tanh``, ``relu`` or ``elu``.
        out_gain: Orthogonal gain of the last layer (small, e.g. 0.01, for policy heads).
    """
    if activation not in ACTIVATIONS:
        raise ValueError(f'unknown activation {activation!r}; valid: {sorted(ACTIVATIONS)}')
    layers: list[nn.Module] = []
    size = in_dim
    for width in hidden:
        layers += [layer_init(nn.Linear(size, int(width))), ACTIVATIONS[activation]()]
        size = int(width)
    layers.append(layer_init(nn.Linear(size, out_dim), gain=out_gain))
    return nn.Sequential(*layers)


class ObsNormalizer(nn.Module):
    """``clamp((obs - mean) / sqrt(var + eps), ±clip)`` with statistics held as buffers.

    The buffers travel with the module into TorchScript, so an exported policy normalizes its
    input exactly as in training. With ``enabled=False`` it is the identity.
    """

    def __init__(self, obs_dim: int, clip: float = 10.0, enabled: bool = True) -> None:
        super().__init__()
        self.register_buffer('mean', torch.zeros(obs_dim))
        self.register_buffer('var', torch.ones(obs_dim))
        self.clip = float(clip)
        self.enabled = bool(enabled)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """Normalize a batch of observations ``[B, obs_dim]``."""
        if not self.enabled:
            return obs
        return torch.clamp((obs - self.mean) / torch.sqrt(self.var + 1e-8), -self.clip, self.clip)

    def track(self, rms: RunningMeanStd, batch: np.ndarray) -> None:
        """Fold a raw observation batch into ``rms`` and copy its statistics in.

        Does nothing when the normalizer is disabled.
        """
        if self.enabled:
            rms.update(batch)
            self.set_stats(torch.from_numpy(rms.mean), torch.from_numpy(rms.var))

    def set_stats(self, mean: torch.Tensor, var: torch.Tensor) -> None:
        """Copy running statistics in (e.g. from :class:`~.normalization.RunningMeanStd`)."""
        self.mean.copy_(torch.as_tensor(mean, dtype=torch.float32))
        self.var.copy_(torch.as_tensor(var, dtype=torch.float32))


def soft_update(target: nn.Module, source: nn.Module, tau: float) -> None:
    """Polyak averaging ``target <- tau * source + (1 - tau) * target``."""
    with torch.no_grad():
        for t, s in zip(target.parameters(), source.parameters(), strict=True):
            t.mul_(1.0 - tau).add_(s, alpha=tau)
