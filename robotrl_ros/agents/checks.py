# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Input validation shared by the agents: shapes, dtypes and NaN/Inf, with messages that say what.

A NaN from an env or a dropped sensor sample must stop training with a clear error instead of
silently poisoning the networks.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from robotrl_ros.util.finite import all_finite  # noqa: F401 - re-used by the checks below


class Batch(NamedTuple):
    """One validated batch of transitions (first axis = env)."""

    obs: np.ndarray
    action: np.ndarray
    reward: np.ndarray
    next_obs: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray


def _finite(algo: str, what: str, arr: np.ndarray) -> None:
    # One pass: any NaN/Inf makes the sum non-finite; a float64 sum of float32 values cannot
    # overflow (nor warn). Only then the per-element check that names the env.
    if np.isfinite(np.add.reduce(arr, axis=None, dtype=np.float64)):
        return
    bad = ~np.isfinite(arr)
    if bad.any():
        rows = sorted({int(i) for i in np.argwhere(bad)[:, 0]})
        raise ValueError(f'{algo}: {what} contains NaN/Inf (env index {rows}); check the '
                         f'environment or sensor stream')


def obs_batch(algo: str, obs: np.ndarray, obs_dim: int, what: str = 'obs') -> np.ndarray:
    """Return ``obs`` as float32 ``[B, obs_dim]`` (a single ``[obs_dim]`` vector becomes B=1).

    Raises:
        ValueError: Wrong size, or NaN/Inf entries (the message names ``what`` and the env).
    """
    arr = np.asarray(obs, dtype=np.float32)
    if arr.ndim == 1:
        arr = arr[None]
    if arr.ndim != 2 or arr.shape[1] != obs_dim:
        raise ValueError(f'{algo}: {what} must have shape [n_envs, {obs_dim}], got '
                         f'{np.shape(obs)}')
    _finite(algo, what, arr)
    return arr


def transition_batch(algo: str, obs_dim: int, n_actions_or_dim: int, discrete: bool,
                     obs: np.ndarray, action: np.ndarray, reward: np.ndarray,
                     next_obs: np.ndarray, terminated: np.ndarray,
                     truncated: np.ndarray) -> Batch:
    """Validate and convert the arguments of :meth:`Agent.observe`.

    Args:
        algo: Algorithm name for messages.
        obs_dim: Observation length.
        n_actions_or_dim: Number of discrete actions, or continuous action length.
        discrete: Whether actions are indices.
        obs: Observations ``[B, obs_dim]``.
        action: Actions ``[B, action_dim]`` or indices ``[B]``.
        reward: Rewards ``[B]``.
        next_obs: True next observations ``[B, obs_dim]``.
        terminated: MDP-ended flags ``[B]``.
        truncated: Time-limit flags ``[B]``.

    Raises:
        ValueError: A shape mismatch, an action out of range or a NaN/Inf anywhere; the message
            names the argument.
    """
    obs_arr = obs_batch(algo, obs, obs_dim, 'obs')
    n = len(obs_arr)
    next_arr = obs_batch(algo, next_obs, obs_dim, 'next_obs')
    if len(next_arr) != n:
        raise ValueError(f'{algo}: next_obs has {len(next_arr)} rows, obs has {n}')
    if discrete:
        act = np.asarray(action).reshape(-1)
        if act.shape != (n,) or not np.issubdtype(act.dtype, np.integer) and not np.all(
                np.mod(act, 1) == 0):
            raise ValueError(f'{algo}: action must be {n} integer indices, got {action!r}')
        act = act.astype(np.int64)
        if act.min() < 0 or act.max() >= n_actions_or_dim:
            raise ValueError(f'{algo}: action index out of range [0, {n_actions_or_dim}): '
                             f'{act.tolist()}')
    else:
        act = np.asarray(action, dtype=np.float32).reshape(n, -1)
        if act.shape[1] != n_actions_or_dim:
            raise ValueError(f'{algo}: action must have shape [{n}, {n_actions_or_dim}], got '
                             f'{np.shape(action)}')
        _finite(algo, 'action', act)
    rew = np.asarray(reward, dtype=np.float32).reshape(-1)
    if rew.shape != (n,):
        raise ValueError(f'{algo}: reward must have {n} entries, got {np.shape(reward)}')
    _finite(algo, 'reward', rew)
    flags = []
    for name, flag in (('terminated', terminated), ('truncated', truncated)):
        arr = np.asarray(flag).reshape(-1)
        if arr.shape != (n,):
            raise ValueError(f'{algo}: {name} must have {n} entries, got {np.shape(flag)}')
        flags.append(arr.astype(bool))
    return Batch(obs_arr, act, rew, next_arr, flags[0], flags[1])


def check_algo(name: str, state: dict[str, Any]) -> None:
    """Raise ValueError unless ``state`` is a checkpoint of algorithm ``name``."""
    found = state.get('algo') if isinstance(state, dict) else None
    if found != name:
        raise ValueError(f'{name}: checkpoint is for algorithm {found!r}, not {name!r}')
