# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Build the sim bridge's environment from its parameters (task name + ``dr_*`` ranges)."""

from __future__ import annotations

from typing import Any

from robotrl_ros.tasks.base import TaskEnv
from robotrl_ros.tasks.gym_env import GYM_PREFIX
from robotrl_ros.tasks.randomization import NOMINAL, RandomizationConfig
from robotrl_ros.tasks.registry import make_env

#: sim_bridge parameter -> RandomizationConfig field.
DR_PARAMETERS = {
    'dr_mass_scale': 'mass_scale',
    'dr_friction_scale': 'friction_scale',
    'dr_gain_scale': 'gain_scale',
    'dr_latency_steps': 'latency_steps',
    'dr_obs_noise_std': 'obs_noise_std',
}


def randomization_from_parameters(params: dict[str, Any]) -> RandomizationConfig:
    """The :class:`RandomizationConfig` that the ``dr_*`` parameters in ``params`` describe.

    Raises:
        ValueError: Naming the ``dr_*`` parameter that is malformed.
    """
    values = {field: tuple(params[name]) if isinstance(params[name], (list, tuple))
              else params[name] for name, field in DR_PARAMETERS.items() if name in params}
    try:
        return RandomizationConfig(**values)
    except ValueError as exc:
        raise ValueError(str(exc).replace('randomization ', 'dr_', 1)) from None


def make_sim_env(task: str, randomization: RandomizationConfig = NOMINAL,
                 seed: int = 0) -> TaskEnv:
    """The task environment, wrapped in domain randomization unless it is nominal.

    Raises:
        ValueError: Unknown task (or one without a simulator for the sim bridge).
    """
    if task.startswith(GYM_PREFIX):
        raise ValueError(f'task {task!r} is a benchmark env without joints; the sim bridge '
                         'runs robot tasks only')
    env = make_env(task, randomization=None if randomization == NOMINAL else randomization,
                   seed=seed)
    assert isinstance(env, TaskEnv)
    return env
