# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The environments a training run steps: a batch of envs with auto-reset and checks.

The loop needs, per step, both the observation to act on next (the reset observation when an
episode ended) and the true final observation (for bootstrapping on truncation), plus each
episode's success flag; and it needs a clear error, not a silent NaN, when an env misbehaves.

Two batches give it that: :class:`EnvBatch` steps separate Gymnasium envs one after another;
:class:`LocomotionEnvBatch` steps the ``locomotion`` robots together
(:class:`~robotrl_ros.tasks.locomotion_batch.LocomotionBatch`: physics per robot, task math once
per batch), with the same results as an :class:`EnvBatch` of ``LocomotionEnv`` seeded alike
(with domain randomization too). :func:`make_env_batch` picks the second for ``locomotion``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import gymnasium as gym
import numpy as np

from robotrl_ros.tasks.locomotion_batch import LocomotionBatch
from robotrl_ros.tasks.registry import make_env

#: Tasks stepped as one batch in :func:`make_env_batch` (task name -> batch of its robots).
BATCHED_TASKS = {'locomotion': LocomotionBatch}


class EnvBatch:
    """Synchronous batch of envs that resets each one as soon as its episode ends.

    Args:
        envs: The environments (same observation and action spaces).
        task: Task name used in error messages.
        index_offset: Index of the first env in error messages (a slice of a larger batch).
    """

    # Class defaults, so that batches pickled in checkpoints before these existed still work.
    index_offset = 0
    closed = False

    def __init__(self, envs: Sequence[gym.Env], task: str = 'env',
                 index_offset: int = 0) -> None:
        if not envs:
            raise ValueError('EnvBatch needs at least one env')
        self.envs = list(envs)
        self.task = task
        self.n_envs = len(self.envs)
        self.index_offset = index_offset
        self.observation_space = self.envs[0].observation_space
        self.action_space = self.envs[0].action_space
        self.steps = 0

    def reset(self, seed: int) -> np.ndarray:
        """Reset every env (env ``i`` seeded with ``seed + i``) and return the observations."""
        obs = []
        for i, env in enumerate(self.envs):
            env.action_space.seed(seed + i)
            first, _ = env.reset(seed=seed + i)
            obs.append(self._check(first, i, 'observation'))
        return np.stack(obs)

    def part(self, span: slice) -> EnvBatch:
        """The envs of ``span`` as a batch of their own (keeping their global indices)."""
        return EnvBatch(self.envs[span], self.task, index_offset=self.index_offset + span.start)

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                                                 np.ndarray, list[bool | None]]:
        """Step each env with its action.

        Returns:
            ``(next_obs, reward, terminated, truncated, final_obs, success)``: ``next_obs`` holds
            reset observations for envs whose episode ended, ``final_obs`` the true last
            observations; ``success`` is the episode's ``is_success`` (None if the env does not
            report one or the episode goes on).

        Raises:
            FloatingPointError: If an env returns a non-finite observation or reward.
        """
        self.steps += 1
        next_obs, final_obs, success = [], [], []
        rewards = np.zeros(self.n_envs)
        terminated = np.zeros(self.n_envs, dtype=bool)
        truncated = np.zeros(self.n_envs, dtype=bool)
        for i, env in enumerate(self.envs):
            obs, rewards[i], term, trunc, info = env.step(actions[i])
            terminated[i], truncated[i] = term, trunc
            final_obs.append(obs)
            flag = info.get('is_success')
            success.append(None if flag is None or not (term or trunc) else bool(flag))
            if term or trunc:
                obs, _ = env.reset()
            next_obs.append(obs)
        final, following = np.asarray(final_obs, np.float64), np.asarray(next_obs, np.float64)
        # One vectorized finiteness check per step; per-env checks only to name the culprit.
        if not (np.isfinite(final).all() and np.isfinite(rewards).all()
                and np.isfinite(following).all()):
            for i in range(self.n_envs):
                self._check(final[i], i, 'observation')
                self._check(rewards[i], i, 'reward')
                self._check(following[i], i, 'observation (after reset)')
        return following, rewards, terminated, truncated, final, success

    def _check(self, value: Any, index: int, what: str) -> np.ndarray:
        return check_finite(value, self.task, self.index_offset + index, what, self.steps)

    def close(self) -> None:
        """Close every env (once: a second call does nothing)."""
        if self.closed:
            return
        self.closed = True
        for env in self.envs:
            env.close()


def check_finite(value: Any, task: str, index: int, what: str, step: int) -> np.ndarray:
    """``value`` as a float64 array.

    Raises:
        FloatingPointError: If it holds NaN/Inf (the message names the task and env ``index``).
    """
    value = np.asarray(value, dtype=np.float64)
    if not np.all(np.isfinite(value)):
        raise FloatingPointError(f'task {task!r}: env {index} returned a non-finite {what} '
                                 f'(NaN/Inf) at step {step}: {value}')
    return value


class LocomotionEnvBatch:
    """``locomotion`` robots stepped together, behind the :class:`EnvBatch` interface.

    Env ``i`` behaves exactly as the ``LocomotionEnv`` it replaces (seeded ``seed + i``, same
    actions): same observations, rewards, auto-reset, final observations and success flags.
    :attr:`envs` holds one ``LocomotionEnv`` built from the same options, never stepped: the
    agent, the policy export and the checkpoints read spaces, task spec and robot from it.

    A checkpoint pickles the batch by configuration (:class:`LocomotionBatch`), not the
    prototype env or any ``MjModel``.

    Args:
        n_envs: Robots in the batch.
        env_kwargs: The ``locomotion`` env options (``robot``, ``goal``, ``cmd_ranges``,
            ``reward_weights``, ``randomization``).
        task: Task name used in error messages.
        index_offset: Index of the first robot in error messages (a slice of a larger batch).

    Raises:
        ValueError: Bad options (as ``make_env`` words them).
    """

    def __init__(self, n_envs: int, env_kwargs: dict[str, Any] | None = None,
                 task: str = 'locomotion', index_offset: int = 0) -> None:
        self.env_kwargs = dict(env_kwargs or {})
        self.task = task
        self.n_envs = n_envs
        self.index_offset = index_offset
        self.steps = 0
        self.closed = False
        self._prototype: list[gym.Env] | None = None
        prototype = self.envs[0]   # checks the options with make_env's messages
        self.observation_space = prototype.observation_space
        self.action_space = prototype.action_space
        self.batch = BATCHED_TASKS[task](n_envs, **self.env_kwargs)

    @property
    def envs(self) -> list[gym.Env]:
        """One env of the task with the batch's options (built on first use)."""
        if self._prototype is None:
            self._prototype = [make_env(self.task, **self.env_kwargs)]
        return self._prototype

    def reset(self, seed: int) -> np.ndarray:
        """Reset every robot (robot ``i`` seeded with ``seed + i``) and return observations."""
        self.envs[0].action_space.seed(seed)
        obs = self.batch.reset(seed)
        self._check_all(obs, np.zeros(self.n_envs), obs)
        return obs

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                                                 np.ndarray, list[bool | None]]:
        """Step every robot (see :meth:`EnvBatch.step`).

        Raises:
            FloatingPointError: A non-finite observation or reward (naming the env).
            ValueError: Actions of the wrong shape or non-finite.
        """
        self.steps += 1
        result = self.batch.step(actions)
        self._check_all(result[4], result[1], result[0])
        return result

    def _check_all(self, final: np.ndarray, rewards: np.ndarray, following: np.ndarray) -> None:
        if np.isfinite(final).all() and np.isfinite(rewards).all() \
                and np.isfinite(following).all():
            return
        for i in range(self.n_envs):
            for value, what in ((final[i], 'observation'), (rewards[i], 'reward'),
                                (following[i], 'observation (after reset)')):
                check_finite(value, self.task, self.index_offset + i, what, self.steps)

    def part(self, span: slice) -> LocomotionEnvBatch:
        """Robots ``span`` as a batch of their own (fresh: to be reset; global indices kept)."""
        return LocomotionEnvBatch(span.stop - span.start, self.env_kwargs, self.task,
                                  self.index_offset + span.start)

    def close(self) -> None:
        """Close the prototype env (once: a second call does nothing)."""
        if self.closed:
            return
        self.closed = True
        if self._prototype is not None:
            self._prototype[0].close()

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, '_prototype': None}


def make_env_batch(task: str, n_envs: int, env_kwargs: dict[str, Any] | None = None,
                   factory: Callable[..., gym.Env] = make_env,
                   batched: bool = True) -> EnvBatch | LocomotionEnvBatch:
    """``n_envs`` copies of ``task`` from the task registry (``factory`` for tests).

    A task of :data:`BATCHED_TASKS` comes as one :class:`LocomotionEnvBatch` (same results,
    less Python per step) unless ``batched`` is False or ``factory`` is not :func:`make_env`
    (tests). The envs are stepped in this process;
    :func:`robotrl_ros.training.subproc_env.in_workers` hands a batch to worker processes.
    """
    env_kwargs = env_kwargs or {}
    if batched and task in BATCHED_TASKS and factory is make_env:
        return LocomotionEnvBatch(n_envs, env_kwargs, task)
    return EnvBatch([factory(task, **env_kwargs) for _ in range(n_envs)], task)
