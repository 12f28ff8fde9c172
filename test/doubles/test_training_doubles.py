# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""A tiny, deterministic agent for testing the training machinery without a real algorithm."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from robotrl_ros.agents.base import Agent


class TinyAgent(Agent):
    """Linear Gaussian policy nudged toward actions that beat the batch's mean reward."""

    name = 'tiny'

    def __init__(self, obs_dim: int, action_dim: int, discrete: bool = False,
                 config: dict[str, Any] | None = None, seed: int = 0) -> None:
        config = dict(config or {})
        self.batch = int(config.pop('batch', 16))
        if config:
            raise ValueError(f'tiny: unknown config key {sorted(config)[0]!r}')
        self.discrete = discrete
        self.action_dim = action_dim
        self.gen = torch.Generator().manual_seed(seed)
        self.net = torch.nn.Linear(obs_dim, action_dim)
        with torch.no_grad():
            self.net.weight.copy_(torch.randn(self.net.weight.shape, generator=self.gen) * 0.1)
            self.net.bias.zero_()
        self.opt = torch.optim.Adam(self.net.parameters(), lr=1e-2)
        self.data: list[tuple[np.ndarray, np.ndarray, float]] = []

    def act(self, obs: np.ndarray, deterministic: bool = False) -> np.ndarray:
        with torch.no_grad():
            mean = self.net(torch.as_tensor(obs, dtype=torch.float32))
            if not deterministic:
                mean = mean + 0.3 * torch.randn(mean.shape, generator=self.gen)
        if self.discrete:
            return mean.argmax(-1).numpy()
        return mean.clamp(-1, 1).numpy()

    def observe(self, obs, action, reward, next_obs, terminated, truncated) -> None:
        for i in range(len(obs)):
            self.data.append((np.asarray(obs[i]), np.asarray(action[i]), float(reward[i])))

    def ready(self) -> bool:
        return len(self.data) >= self.batch

    def update(self) -> dict[str, float]:
        obs = torch.as_tensor(np.stack([d[0] for d in self.data]), dtype=torch.float32)
        act = torch.as_tensor(np.stack([d[1] for d in self.data]), dtype=torch.float32)
        rew = torch.as_tensor([d[2] for d in self.data])
        weight = (rew > rew.mean()).float()
        if self.discrete:
            act = torch.nn.functional.one_hot(act.long(), self.action_dim).float()
        loss = (weight[:, None] * (self.net(obs) - act) ** 2).mean()
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        self.data.clear()
        return {'loss': float(loss.detach())}

    def state_dict(self) -> dict[str, Any]:
        return {'net': self.net.state_dict(), 'opt': self.opt.state_dict(),
                'gen': self.gen.get_state(),
                'data': [(torch.as_tensor(o), torch.as_tensor(a), r) for o, a, r in self.data]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.net.load_state_dict(state['net'])
        self.opt.load_state_dict(state['opt'])
        self.gen.set_state(state['gen'])
        self.data = [(o.numpy(), a.numpy(), r) for o, a, r in state['data']]

    def policy_module(self) -> torch.nn.Module:
        return _Deterministic(self.net)


class _Deterministic(torch.nn.Module):
    def __init__(self, net: torch.nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return torch.clamp(self.net(obs), -1.0, 1.0)


def build_tiny(algo, envs, config, seed, sources=()):
    """Stand-in for ``experiment.build_agent`` that knows only ``tiny``."""
    if algo != 'tiny':
        raise ValueError(f'unknown algorithm {algo!r}; available: tiny')  # as build_agent says
    space = envs.action_space
    discrete = hasattr(space, 'n')
    actions = int(space.n) if discrete else int(np.prod(space.shape))
    return TinyAgent(int(np.prod(envs.observation_space.shape)), actions, discrete, config, seed)
