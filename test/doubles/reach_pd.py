# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""A hand-written reach policy artifact: a damped controller toward the goal, no training."""

from pathlib import Path

import torch

from robotrl_ros.policy.export import export_artifact
from robotrl_ros.tasks.reach import REACH_SPEC


class ReachPD(torch.nn.Module):
    """Accelerate toward the goal, damped (reach observation layout: pos, 2*vel, goal, delta)."""

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        goal_delta, scaled_velocity = obs[..., 9:12], obs[..., 3:6]
        return torch.clamp(4.0 * goal_delta - 2.0 * scaled_velocity, -1.0, 1.0)


def export_reach_pd(out_dir: str | Path) -> Path:
    """Export :class:`ReachPD` as a policy artifact directory for the ``reach`` task."""
    return export_artifact(ReachPD(), REACH_SPEC, out_dir, algorithm='pd',
                           provenance={'note': 'hand-written controller for tests'})
