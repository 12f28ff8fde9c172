# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Look up tasks and simulated environments by name.

Built-in task names (:func:`task_names`) build robot tasks with a :class:`TaskSpec`; names with
the ``gym:`` prefix (``gym:Pendulum-v1``, ``gym:CartPole-v1``, ``gym:Reacher-v5``) build
Gymnasium benchmark envs with actions rescaled to [-1, 1] and ``task_spec`` None. The robot
tasks (:data:`ROBOT_TASKS`) take ``robot=`` (a built-in name or a robot YAML path);
:func:`robot_env_kwargs` checks a ``--robot`` choice against the task.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import gymnasium as gym

from robotrl_ros.tasks.base import Task, TaskEnv
from robotrl_ros.tasks.ee_reach import EEReachEnv, EEReachTask
from robotrl_ros.tasks.gridworld import GridworldEnv, GridworldTask
from robotrl_ros.tasks.gym_env import GYM_PREFIX, make_gym_env
from robotrl_ros.tasks.locomotion import LocomotionEnv, LocomotionTask
from robotrl_ros.tasks.quadruped import QuadrupedEnv, quadruped_task
from robotrl_ros.tasks.randomization import RandomizationConfig, RandomizedEnv, as_randomization
from robotrl_ros.tasks.reach import ReachEnv, ReachTask
from robotrl_ros.tasks.reacher import ReacherEnv, ReacherTask
from robotrl_ros.tasks.robots import load_robot

TASKS: dict[str, Callable[[], Task]] = {
    'reach': lambda: ReachTask(discrete=False),
    'reach_discrete': lambda: ReachTask(discrete=True),
    'reach_last_action': lambda: ReachTask(last_action=True),
    'gridworld': GridworldTask,
    'reacher': ReacherTask,
    'quadruped': quadruped_task,
    'ee_reach': EEReachTask,
    'locomotion': LocomotionTask,
}

ENVS: dict[str, Callable[..., TaskEnv]] = {
    'reach': lambda **kw: ReachEnv(discrete=False, **kw),
    'reach_discrete': lambda **kw: ReachEnv(discrete=True, **kw),
    'reach_last_action': lambda **kw: ReachEnv(last_action=True, **kw),
    'gridworld': GridworldEnv,
    'reacher': ReacherEnv,
    'quadruped': QuadrupedEnv,
    'ee_reach': EEReachEnv,
    'locomotion': LocomotionEnv,
}


#: Robot tasks and the base type their robot must have.
ROBOT_TASKS: dict[str, str] = {'ee_reach': 'fixed', 'locomotion': 'floating'}


def _lookup(table: dict[str, Callable[..., Any]], name: str, what: str) -> Callable[..., Any]:
    try:
        return table[name]
    except KeyError:
        raise ValueError(f'unknown {what} {name!r}; available: {", ".join(sorted(table))} '
                         f'(or {GYM_PREFIX}<Gymnasium id> for benchmark envs)') from None


def make_task(name: str, **kwargs: Any) -> Task:
    """Task (observation/reward/termination only, no simulator) by name.

    ``kwargs`` go to the task's constructor (e.g. ``robot=`` of ``locomotion``).
    """
    return _lookup(TASKS, name, 'task')(**kwargs)


def task_options(name: str, env_options: dict[str, Any]) -> dict[str, Any]:
    """The entries of a training config's ``env:`` section that ``name``'s task also takes.

    A task scores transitions on the graph with the reward the simulator trained with, so its
    reward options (``reward_weights``, ``cmd_ranges`` of ``locomotion``) must follow the same
    file; simulator-only entries (``goal``, ``randomization``) are left out.
    """
    factory = TASKS.get(name)
    if factory is None:
        return {}
    accepted = set(inspect.signature(factory).parameters) - {'robot'}
    return {key: value for key, value in env_options.items() if key in accepted}


def make_env(name: str, randomization: RandomizationConfig | dict[str, Any] | str | None = None,
             seed: int | None = None, **kwargs: Any) -> gym.Env:
    """Simulated Gymnasium environment by task name.

    Args:
        name: A name of :func:`task_names`, or ``gym:<id>`` for a Gymnasium benchmark env.
        randomization: Sim-to-real perturbations (a :class:`RandomizationConfig`, its dict, or
            ``'shifted'``); wraps the env in :class:`RandomizedEnv`. Robot tasks only.
        seed: Seeds the env (and its randomization stream) by resetting it once; later
            ``reset()`` calls without a seed continue that stream.
        **kwargs: Passed to the task env's constructor (or ``gymnasium.make``).

    Raises:
        ValueError: Unknown name, bad constructor arguments or bad randomization ranges.
    """
    if name.startswith(GYM_PREFIX):
        if randomization is not None:
            raise ValueError(f'{name}: randomization applies to robot tasks only, not to '
                             'Gymnasium benchmark envs')
        env: gym.Env = make_gym_env(name, **kwargs)
    else:
        factory = _lookup(ENVS, name, 'task')
        try:
            env = factory(**kwargs)
        except TypeError as exc:
            raise ValueError(f'task {name!r}: bad arguments {sorted(kwargs)}: {exc}') from exc
        if randomization is not None:
            env = RandomizedEnv(env, as_randomization(randomization), seed=seed)
    if seed is not None:
        env.action_space.seed(seed)
        env.reset(seed=seed)
    return env


def robot_task_names() -> list[str]:
    """Tasks that run on any robot file (``robot=`` / ``robotrl --robot``)."""
    return sorted(ROBOT_TASKS)


def robot_env_kwargs(task: str, robot: str | None) -> dict[str, Any]:
    """Env keyword arguments selecting ``robot`` for ``task`` (``{}`` when ``robot`` is None).

    Loads the robot file and checks its base type against the task, so that a bad ``--robot``
    fails before anything is built.

    Raises:
        ValueError: ``task`` does not take a robot, the robot is unknown or its file is bad
            (:class:`~robotrl_ros.tasks.robots.RobotConfigError`), or its base type does not
            fit the task.
    """
    if robot is None:
        return {}
    if task not in ROBOT_TASKS:
        raise ValueError(f'--robot {robot}: task {task!r} has its own fixed model; robots '
                         f'apply to {", ".join(robot_task_names())}')
    config = load_robot(robot)
    base = ROBOT_TASKS[task]
    if config.base != base:
        raise ValueError(f'--robot {robot}: task {task!r} needs a {base}-base robot, but '
                         f'{config.name!r} ({config.where}) has base: {config.base}')
    return {'robot': robot}


def task_names() -> list[str]:
    """Robot task names accepted by :func:`make_env` (besides ``gym:<id>``)."""
    return sorted(ENVS)
