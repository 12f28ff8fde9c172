# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Policy networks built from the ops exported policies use, for the inference translators.

:class:`NormalizedMLP` is an actor as SAC exports it (its own input normalization, a clamp, a
sliced output); :class:`EveryOpMLP` adds every other op of the data network (concatenation,
``clamp_min`` / ``clamp_max``, a cast, a negation). Both are seeded: the same weights each time.
"""

import torch

#: The activations the translators support (``repr`` names the test case).
ACTIVATIONS = [torch.nn.ReLU(), torch.nn.ELU(), torch.nn.ELU(alpha=0.5), torch.nn.SELU(),
               torch.nn.Tanh(), torch.nn.Sigmoid(), torch.nn.SiLU(), torch.nn.LeakyReLU(0.2)]


class NormalizedMLP(torch.nn.Module):
    """MLP with its own input normalization, clipping and a sliced output (as SAC's actor)."""

    def __init__(self, activation: torch.nn.Module, obs_dim: int = 12, act_dim: int = 3) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.register_buffer('mean', torch.randn(obs_dim))
        self.register_buffer('std', torch.rand(obs_dim) + 0.5)
        self.net = torch.nn.Sequential(torch.nn.Linear(obs_dim, 32), activation,
                                       torch.nn.Linear(32, 32), activation,
                                       torch.nn.Linear(32, 2 * act_dim))
        self.act_dim = act_dim

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        x = torch.clamp((obs - self.mean) / self.std, -5.0, 5.0)
        return torch.tanh(self.net(x)[:, : self.act_dim] * 0.5 + 0.1)


class EveryOpMLP(NormalizedMLP):
    """Every op the data network has: scales, clamp, slices, concatenation, an activation."""

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        x = torch.clamp((obs - self.mean) / self.std, -5.0, 5.0)
        x = torch.cat([x[:, 6:], x[:, :6]], dim=1).contiguous()
        x = torch.clamp_max(torch.clamp_min(x, -4.0), 4.0).to(torch.float32)
        y = self.net(x)[:, : self.act_dim] * 0.5 + 0.1
        return torch.tanh(-y - 0.2)
