# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The one training loop: step vector envs, feed the agent, update, report.

Readable top to bottom (CleanRL style)::

    action = agent.act(obs)
    next_obs, reward, terminated, truncated, final_obs = envs.step(action)
    agent.observe(obs, action, reward, final_obs, terminated, truncated)
    if agent.ready():
        agent.update()

Everything the loop carries between iterations lives in :class:`LoopState`, which a checkpoint
saves, so a resumed run continues exactly where the interrupted one stopped.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from robotrl_ros.agents.base import Agent
from robotrl_ros.training.vec_env import EnvBatch


@dataclass
class LoopState:
    """Counters and statistics of a run (everything the loop needs to continue).

    Attributes:
        step: Environment steps taken so far (summed over envs).
        iteration: Loop iterations (one ``envs.step`` each).
        updates: Agent updates run.
        episodes: Finished episodes.
        obs: Current observation batch, shape ``(n_envs, obs_dim)``.
        episode_return: Running return of each env's current episode.
        episode_length: Running length of each env's current episode.
        recent_returns: Returns of the last finished episodes (window).
        recent_lengths: Lengths of the last finished episodes (window).
        recent_success: Success flags (0/1) of the last finished episodes (window).
        last_update: Metrics from the most recent agent update.
        wall_time: Seconds spent in the loop (over all resumed segments).
    """

    step: int = 0
    iteration: int = 0
    updates: int = 0
    episodes: int = 0
    obs: np.ndarray | None = None
    episode_return: np.ndarray | None = None
    episode_length: np.ndarray | None = None
    recent_returns: deque = field(default_factory=lambda: deque(maxlen=20))
    recent_lengths: deque = field(default_factory=lambda: deque(maxlen=20))
    recent_success: deque = field(default_factory=lambda: deque(maxlen=20))
    last_update: dict[str, float] = field(default_factory=dict)
    wall_time: float = 0.0

    def mean_recent_return(self) -> float:
        """Mean return of the recent finished episodes (NaN before the first one ends)."""
        return float(np.mean(self.recent_returns)) if self.recent_returns else float('nan')

    def to_dict(self) -> dict[str, Any]:
        """Checkpointable form: tensors, lists and numbers only (``weights_only`` safe)."""
        return {
            'step': self.step, 'iteration': self.iteration, 'updates': self.updates,
            'episodes': self.episodes, 'wall_time': self.wall_time,
            'obs': torch.from_numpy(np.array(self.obs)),
            'episode_return': torch.from_numpy(np.array(self.episode_return)),
            'episode_length': torch.from_numpy(np.array(self.episode_length)),
            'window': self.recent_returns.maxlen,
            'recent_returns': [float(v) for v in self.recent_returns],
            'recent_lengths': [int(v) for v in self.recent_lengths],
            'recent_success': [float(v) for v in self.recent_success],
            'last_update': {k: float(v) for k, v in self.last_update.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LoopState:
        """Inverse of :meth:`to_dict`."""
        window = int(data['window'])
        return cls(
            step=int(data['step']), iteration=int(data['iteration']),
            updates=int(data['updates']), episodes=int(data['episodes']),
            wall_time=float(data['wall_time']),
            obs=data['obs'].numpy().copy(),
            episode_return=data['episode_return'].numpy().copy(),
            episode_length=data['episode_length'].numpy().copy(),
            recent_returns=deque(data['recent_returns'], maxlen=window),
            recent_lengths=deque(data['recent_lengths'], maxlen=window),
            recent_success=deque(data['recent_success'], maxlen=window),
            last_update=dict(data['last_update']),
        )


class Callback:
    """Hook into the loop; override what you need. ``loop_state`` is live: do not modify it."""

    def on_start(self, state: LoopState) -> None:
        """Called once before the first iteration (also after a resume)."""

    def on_step(self, state: LoopState) -> None:
        """Called after every iteration (every ``n_envs`` env steps)."""

    def on_episode(self, state: LoopState, episode_return: float, length: int,
                   success: bool | None) -> None:
        """Called when an episode ends (after it was added to the recent window)."""

    def on_end(self, state: LoopState) -> None:
        """Called once after the last iteration (also after a requested early stop)."""


def start_state(envs: EnvBatch, seed: int, return_window: int = 20) -> LoopState:
    """Fresh loop state: reset every env (env ``i`` seeded with ``seed + i``)."""
    obs = envs.reset(seed=seed)
    return LoopState(
        obs=obs, episode_return=np.zeros(envs.n_envs), episode_length=np.zeros(envs.n_envs, int),
        recent_returns=deque(maxlen=return_window), recent_lengths=deque(maxlen=return_window),
        recent_success=deque(maxlen=return_window))


def run(agent: Agent, envs: EnvBatch, total_steps: int, state: LoopState,
        callbacks: Sequence[Callback] = (),
        should_stop: Callable[[], bool] | None = None) -> LoopState:
    """Train ``agent`` on ``envs`` until ``state.step >= total_steps``.

    Args:
        agent: The learner.
        envs: The environments (their current observations are ``state.obs``).
        total_steps: Stop once this many env steps (over all envs) have been taken.
        state: Where to start: :func:`start_state` or a checkpoint's state.
        callbacks: Metrics, progress, checkpoint hooks, called in order.
        should_stop: Polled after every iteration; True ends the run early but cleanly
            (e.g. after Ctrl-C), so the final checkpoint is consistent.

    Returns:
        The final loop state. Callbacks' ``on_end`` runs when the loop ends normally or
        through ``should_stop``, not when it raises.
    """
    for callback in callbacks:
        callback.on_start(state)
    while state.step < total_steps and not (should_stop and should_stop()):
        started = time.perf_counter()
        action = agent.act(state.obs)
        next_obs, reward, terminated, truncated, final_obs, success = envs.step(action)
        agent.observe(state.obs, action, reward, final_obs, terminated, truncated)
        state.obs = next_obs
        state.step += envs.n_envs
        state.iteration += 1
        _record_episodes(state, reward, terminated | truncated, success, callbacks)
        if agent.ready():
            state.last_update = agent.update()
            state.updates += 1
        state.wall_time += time.perf_counter() - started
        for callback in callbacks:
            callback.on_step(state)
    for callback in callbacks:
        callback.on_end(state)
    return state


def _record_episodes(state: LoopState, reward: np.ndarray, done: np.ndarray,
                     success: list[bool | None], callbacks: Sequence[Callback]) -> None:
    state.episode_return += reward
    state.episode_length += 1
    for i in np.flatnonzero(done):
        ep_return, length = float(state.episode_return[i]), int(state.episode_length[i])
        state.recent_returns.append(ep_return)
        state.recent_lengths.append(length)
        if success[i] is not None:
            state.recent_success.append(float(success[i]))
        state.episodes += 1
        state.episode_return[i] = 0.0
        state.episode_length[i] = 0
        for callback in callbacks:
            callback.on_episode(state, ep_return, length, success[i])
