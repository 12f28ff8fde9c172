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


class EnsembleMLP(nn.Module):
    """``n`` independent MLPs run as one batched network (SAC's twin Q-functions).

    Layer ``i`` holds weights ``[n, in, out]`` and biases ``[n, 1, out]`` and is one
    ``torch.baddbmm``, so both critics cost one forward and one backward instead of two. Each
    member starts exactly like :func:`mlp` with the same arguments would.

    Args:
        n: Number of members.
        in_dim: Input size.
        out_dim: Output size.
        hidden: Hidden layer sizes.
        activation: ``tanh``, ``relu`` or ``elu``.
        out_gain: Orthogonal gain of the last layer.
    """

    def __init__(self, n: int, in_dim: int, out_dim: int, hidden: Sequence[int],
                 activation: str = 'relu', out_gain: float = 1.0) -> None:
        super().__init__()
        members = [mlp(in_dim, out_dim, hidden, activation, out_gain) for _ in range(n)]
        linears = [[layer for layer in m if isinstance(layer, nn.Linear)] for m in members]
        self.weights = nn.ParameterList(
            nn.Parameter(torch.stack([m[i].weight.detach().T for m in linears]).contiguous())
            for i in range(len(linears[0])))
        self.biases = nn.ParameterList(
            nn.Parameter(torch.stack([m[i].bias.detach()[None] for m in linears]))
            for i in range(len(linears[0])))
        self.activation = ACTIVATIONS[activation]()
        self.n = n

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, in_dim]`` (shared by all members) -> ``[n, B, out_dim]``."""
        x = x.expand(self.n, *x.shape)
        last = len(self.weights) - 1
        for i, (weight, bias) in enumerate(zip(self.weights, self.biases, strict=True)):
            x = torch.baddbmm(bias, x, weight)
            if i < last:
                x = self.activation(x)
        return x


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
            self.set_stats(rms.mean, rms.var)

    def set_stats(self, mean: np.ndarray | torch.Tensor, var: np.ndarray | torch.Tensor) -> None:
        """Copy running statistics in (e.g. from :class:`~.normalization.RunningMeanStd`)."""
        # Written through NumPy views of the buffers: no torch dispatch on every observe().
        self.mean.numpy()[...] = np.asarray(mean, dtype=np.float32)
        self.var.numpy()[...] = np.asarray(var, dtype=np.float32)


def clip_grad_norm(params: Sequence[nn.Parameter], max_norm: float) -> None:
    """``nn.utils.clip_grad_norm_`` in three batched ops (its CPU path loops per tensor)."""
    grads = [p.grad for p in params if p.grad is not None]
    total = torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))
    torch._foreach_mul_(grads, torch.clamp(max_norm / (total + 1e-6), max=1.0))


def soft_update(target: nn.Module, source: nn.Module, tau: float) -> None:
    """Polyak averaging ``target <- tau * source + (1 - tau) * target`` (one fused op)."""
    with torch.no_grad():
        torch._foreach_lerp_(list(target.parameters()), list(source.parameters()), tau)
