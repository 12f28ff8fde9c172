# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Pure return computations: discounted reward-to-go and GAE(lambda).

Arrays are time-major, ``[T]`` or ``[T, n_envs]``. Two flags per step keep episode ends right:

* ``terminated``: the MDP ended (goal reached, robot fell): the value after it is 0, so no
  bootstrap.
* ``truncated``: a time limit cut the episode: the state after it still has value, so GAE
  bootstraps from ``next_values`` but the advantage trace does not flow into the next episode.
"""

from __future__ import annotations

import numpy as np


def discounted_returns(rewards: np.ndarray, dones: np.ndarray, gamma: float,
                       last_value: np.ndarray | float = 0.0) -> np.ndarray:
    """Reward-to-go ``G_t = r_t + gamma * G_{t+1}``, reset where ``dones`` is true.

    Args:
        rewards: Rewards ``[T, ...]``.
        dones: Episode ended after step ``t`` (terminated or truncated) ``[T, ...]``.
        gamma: Discount factor.
        last_value: Value bootstrapped after the final step if it is not done.

    Returns:
        Returns with the same shape as ``rewards``.
    """
    rewards = np.asarray(rewards, dtype=np.float64)
    dones = np.asarray(dones, dtype=bool)
    _check_shapes(rewards, dones=dones)
    out = np.zeros_like(rewards)
    running = np.zeros_like(rewards[0]) + last_value if len(rewards) else 0.0
    for t in reversed(range(len(rewards))):
        running = rewards[t] + gamma * running * (~dones[t])
        out[t] = running
    return out


def gae(rewards: np.ndarray, values: np.ndarray, next_values: np.ndarray,
        terminated: np.ndarray, truncated: np.ndarray, gamma: float,
        lam: float) -> tuple[np.ndarray, np.ndarray]:
    """Generalized advantage estimation (Schulman et al. 2016) with exact episode ends.

    ``delta_t = r_t + gamma * V(s'_t) * (1 - terminated_t) - V(s_t)`` and
    ``A_t = delta_t + gamma * lam * (1 - done_t) * A_{t+1}`` with
    ``done = terminated | truncated``.
    ``next_values[t]`` is ``V`` of the true next state of step ``t`` (not the reset state).

    Returns:
        ``(advantages, returns)`` where ``returns = advantages + values`` (the value targets).
    """
    rewards = np.asarray(rewards, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    next_values = np.asarray(next_values, dtype=np.float64)
    terminated = np.asarray(terminated, dtype=bool)
    truncated = np.asarray(truncated, dtype=bool)
    _check_shapes(rewards, values=values, next_values=next_values, terminated=terminated,
                  truncated=truncated)
    if not 0.0 <= gamma <= 1.0 or not 0.0 <= lam <= 1.0:
        raise ValueError(f'gae: gamma and lam must be in [0, 1], got {gamma}, {lam}')
    advantages = np.zeros_like(rewards)
    running = np.zeros_like(rewards[0]) if len(rewards) else 0.0
    for t in reversed(range(len(rewards))):
        delta = rewards[t] + gamma * next_values[t] * (~terminated[t]) - values[t]
        running = delta + gamma * lam * (~(terminated[t] | truncated[t])) * running
        advantages[t] = running
    return advantages, advantages + values


def _check_shapes(rewards: np.ndarray, **others: np.ndarray) -> None:
    for name, arr in others.items():
        if arr.shape != rewards.shape:
            raise ValueError(f'{name} has shape {arr.shape}, rewards have {rewards.shape}')
