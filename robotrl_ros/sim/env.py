# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Build the sim bridge's environment from its parameters (task, robot, ``dr_*`` ranges).

``robot`` / ``robot_description`` choose the robot of a task that runs on any robot
(:mod:`robotrl_ros.tasks.robots.given`); the ``dr_*`` ranges wrap the env in domain
randomization.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from robotrl_ros.tasks.base import TaskEnv
from robotrl_ros.tasks.gym_env import GYM_PREFIX
from robotrl_ros.tasks.randomization import NOMINAL, RandomizationConfig
from robotrl_ros.tasks.registry import make_env
from robotrl_ros.tasks.robots.given import on_given_robot

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


def make_sim_env(task: str, randomization: RandomizationConfig = NOMINAL, seed: int = 0,
                 robot: str = '', robot_description: str = '') -> TaskEnv:
    """The task environment, wrapped in domain randomization unless it is nominal.

    Args:
        task: Task name.
        randomization: Per-episode randomization ranges.
        seed: Seeds the env and its randomization.
        robot: Built-in robot name or robot YAML path ('' = the task's default robot).
        robot_description: The robot's URDF (or MJCF) XML ('' = the robot file's description).

    Raises:
        ValueError: Unknown task (or one without a simulator for the sim bridge); a bad robot,
            description, or a robot the task cannot run on, naming the parameter.
    """
    if task.startswith(GYM_PREFIX):
        raise ValueError(f'task {task!r} is a benchmark env without joints; the sim bridge '
                         'runs robot tasks only')
    env = on_given_robot(make_env, task, robot, robot_description,
                         randomization=None if randomization == NOMINAL else randomization,
                         seed=seed)
    assert isinstance(env, TaskEnv)
    return env


def floating_base_velocity(env: TaskEnv) -> np.ndarray | None:
    """The simulator's ``qvel`` (free joint first) of a floating-base robot, else None."""
    robot = getattr(env, 'robot', None)
    config = getattr(robot, 'config', None)
    if config is None or not config.floating:
        return None
    return env.data.qvel


def imu_frame(env: TaskEnv) -> str:
    """Frame of the published IMU and base twist: the robot's ``imu_link`` (else ``base``)."""
    robot = getattr(env, 'robot', None)
    if getattr(robot, 'imu_body', -1) >= 0:
        return str(robot.model.body(robot.imu_body).name)
    return 'base'
