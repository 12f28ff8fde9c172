# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Create agents by algorithm name: ``make_agent('ppo', spec, config, seed)``."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from robotrl_ros.agents.base import Agent

# algo name -> (module, class); imported lazily so `import registry` stays cheap.
AGENTS: dict[str, tuple[str, str]] = {
    'q_learning': ('robotrl_ros.agents.q_learning', 'QLearning'),
    'dqn': ('robotrl_ros.agents.dqn', 'DQN'),
    'reinforce': ('robotrl_ros.agents.reinforce', 'Reinforce'),
    'ppo': ('robotrl_ros.agents.ppo', 'PPO'),
    'sac': ('robotrl_ros.agents.sac', 'SAC'),
}


@dataclass(frozen=True)
class EnvInfo:
    """What an agent needs to know about its environment.

    Attributes:
        obs_dim: Observation length.
        action_dim: Continuous action length, or the number of discrete actions.
        discrete: Whether actions are indices.
    """

    obs_dim: int
    action_dim: int
    discrete: bool


def env_info(spec_or_env_info: Any) -> EnvInfo:
    """Derive :class:`EnvInfo` from a TaskSpec, a Gymnasium env, or an EnvInfo.

    A ``TaskSpec`` gives ``obs_dim`` and either the size of its discrete action table or its
    joint count; a Gymnasium env gives the same from its spaces.

    Raises:
        ValueError: For anything else.
    """
    if isinstance(spec_or_env_info, EnvInfo):
        return spec_or_env_info
    spec = getattr(spec_or_env_info, 'task_spec', spec_or_env_info)
    if hasattr(spec, 'obs_dim') and hasattr(spec, 'discrete_actions'):
        if spec.is_discrete:
            return EnvInfo(spec.obs_dim, len(spec.discrete_actions), True)
        return EnvInfo(spec.obs_dim, spec.action_dim, False)
    obs_space = getattr(spec_or_env_info, 'observation_space', None)
    act_space = getattr(spec_or_env_info, 'action_space', None)
    if obs_space is not None and act_space is not None:
        if hasattr(act_space, 'n'):
            return EnvInfo(int(obs_space.shape[0]), int(act_space.n), True)
        return EnvInfo(int(obs_space.shape[0]), int(act_space.shape[0]), False)
    raise ValueError(f'make_agent: expected a TaskSpec, a Gymnasium env or an EnvInfo, got '
                     f'{type(spec_or_env_info).__name__}')


def make_agent(algo: str, spec_or_env_info: Any, config: dict[str, Any] | None = None,
               seed: int = 0) -> Agent:
    """Build an agent.

    Args:
        algo: One of :data:`AGENTS` (``q_learning``, ``dqn``, ``reinforce``, ``ppo``, ``sac``).
        spec_or_env_info: A ``TaskSpec``, a Gymnasium env, or an :class:`EnvInfo`.
        config: Hyperparameter overrides; keys are the fields of the agent's ``Config``.
            For ``q_learning`` on a grid env (``n_rows``/``n_cols``), ``bins`` defaults to one
            cell per row and column.
        seed: Seed of everything random inside the agent.

    Raises:
        ValueError: Unknown ``algo`` (lists the valid ones), an algorithm that cannot handle
            the action type, or a bad config key or value (names the key).
    """
    if algo not in AGENTS:
        raise ValueError(f'unknown algo {algo!r}; available: {", ".join(sorted(AGENTS))}')
    if config is not None and not isinstance(config, dict):
        raise ValueError(f'{algo}: config must be a mapping of hyperparameters, got '
                         f'{type(config).__name__}')
    info = env_info(spec_or_env_info)
    if algo == 'q_learning' and 'bins' not in (config or {}):
        config = {**(config or {}), **_grid_bins(spec_or_env_info)}
    module, cls_name = AGENTS[algo]
    cls = getattr(importlib.import_module(module), cls_name)
    return cls(info.obs_dim, info.action_dim, info.discrete, config=config, seed=seed)


def _grid_bins(source: Any) -> dict[str, Any]:
    """``bins`` for tabular Q-learning on a grid env (one cell per row/column), else nothing."""
    rows, cols = getattr(source, 'n_rows', None), getattr(source, 'n_cols', None)
    if isinstance(rows, int) and isinstance(cols, int):
        return {'bins': [rows, cols]}
    return {}


def algo_names() -> list[str]:
    """Names accepted by :func:`make_agent`."""
    return sorted(AGENTS)
