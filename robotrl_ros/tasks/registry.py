# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Look up tasks and simulated environments by name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from robotrl_ros.tasks.base import Task, TaskEnv
from robotrl_ros.tasks.gridworld import GridworldEnv, GridworldTask
from robotrl_ros.tasks.reach import ReachEnv, ReachTask

TASKS: dict[str, Callable[[], Task]] = {
    'reach': lambda: ReachTask(discrete=False),
    'reach_discrete': lambda: ReachTask(discrete=True),
    'gridworld': GridworldTask,
}

ENVS: dict[str, Callable[..., TaskEnv]] = {
    'reach': lambda **kw: ReachEnv(discrete=False, **kw),
    'reach_discrete': lambda **kw: ReachEnv(discrete=True, **kw),
    'gridworld': GridworldEnv,
}


def _lookup(table: dict[str, Callable[..., Any]], name: str, what: str) -> Callable[..., Any]:
    try:
        return table[name]
    except KeyError:
        raise ValueError(f'unknown {what} {name!r}; available: {", ".join(sorted(table))}') \
            from None


def make_task(name: str) -> Task:
    """Task (observation/reward/termination only, no simulator) by name."""
    return _lookup(TASKS, name, 'task')()


def make_env(name: str, **kwargs: Any) -> TaskEnv:
    """Simulated Gymnasium environment by task name; ``kwargs`` go to its constructor."""
    return _lookup(ENVS, name, 'task')(**kwargs)


def task_names() -> list[str]:
    """Names accepted by :func:`make_env`."""
    return sorted(ENVS)
