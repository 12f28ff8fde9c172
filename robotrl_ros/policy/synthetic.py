# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""A synthetic legged-robot-like artifact (random MLP) for tests, benchmarks and dry runs.

Shaped like a locomotion policy exported from Isaac Lab / rsl_rl: ``n_joints`` position-
controlled joints, observation = joint positions relative to the default pose, joint
velocities and the last action, an ELU MLP with tanh output. The weights are random (seeded),
so it only exercises the deployment path; it does not walk.
"""

from __future__ import annotations

from pathlib import Path

import torch

from robotrl_ros.policy.export import export_artifact
from robotrl_ros.tasks.spec import ObsTerm, TaskSpec


class MLPPolicy(torch.nn.Module):
    """``obs -> tanh(MLP(obs))`` with ELU hidden layers."""

    def __init__(self, obs_dim: int, act_dim: int, hidden: tuple[int, ...] = (256, 256)) -> None:
        super().__init__()
        layers: list[torch.nn.Module] = []
        size = obs_dim
        for width in hidden:
            layers += [torch.nn.Linear(size, width), torch.nn.ELU()]
            size = width
        layers.append(torch.nn.Linear(size, act_dim))
        self.net = torch.nn.Sequential(*layers)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """Deterministic action in [-1, 1]."""
        return torch.tanh(self.net(obs))


def synthetic_spec(n_joints: int = 12, control_period: float = 0.02,
                   command_interface: str = 'position', limit: float = 1.5) -> TaskSpec:
    """Spec of ``n_joints`` joints named ``joint_0`` ... with symmetric limits ``±limit``."""
    names = tuple(f'joint_{i}' for i in range(n_joints))
    return TaskSpec(
        name='synthetic', joint_names=names,
        observation=(ObsTerm('joint_pos_rel', n_joints), ObsTerm('joint_vel', n_joints, 0.1),
                     ObsTerm('last_action', n_joints)),
        action_scale=(0.5,) * n_joints,
        action_offset=tuple(0.1 * ((i % 3) - 1) for i in range(n_joints)),
        command_lower=(-limit,) * n_joints, command_upper=(limit,) * n_joints,
        velocity_limits=(10.0,) * n_joints, control_period=control_period,
        command_interface=command_interface, command_input='none')


def make_synthetic_artifact(out_dir: str | Path, n_joints: int = 12,
                            hidden: tuple[int, ...] = (256, 256), seed: int = 0,
                            **spec_kwargs: float | str) -> Path:
    """Export a random-MLP artifact for :func:`synthetic_spec` to ``out_dir``."""
    spec = synthetic_spec(n_joints, **spec_kwargs)
    torch.manual_seed(seed)
    module = MLPPolicy(spec.obs_dim, spec.action_dim, hidden)
    return export_artifact(module, spec, out_dir, algorithm='synthetic',
                           provenance={'seed': seed, 'hidden': list(hidden)})
