# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Observation history: terms that span the last few control steps (``ObsTerm.history``).

A policy with a term of ``history: 3`` sees that term at the current control step and the two
before it, newest first: ``last_action`` with history 3 gives ``a_{t-1}, a_{t-2}, a_{t-3}``,
which is what a policy needs to act well when its commands reach the motors one or two control
periods late. The observation builders compute one *frame* per control step (every term once,
:attr:`TaskSpec.frame_dim` entries); :class:`ObservationHistory` keeps the last frames of each
robot and lays out the observation (:attr:`TaskSpec.obs_dim` entries) from them.

At an episode's first step the history holds nothing older, so every older step repeats the
first frame (as Isaac Lab's observation history does); a reset robot starts over the same way.
The simulated envs, the env batches, the policy node and the trainer node all use this class,
so a policy sees the same history in training and on the robot.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from robotrl_ros.tasks.spec import TaskSpec


class ObservationHistory:
    """The last frames of ``n_envs`` robots and the observations laid out from them.

    Args:
        spec: The task spec; its terms' ``history`` say how many frames each one spans.
        n_envs: Robots tracked (one row each).
    """

    def __init__(self, spec: TaskSpec, n_envs: int = 1) -> None:
        self.spec = spec
        self.depth = max((term.history for term in spec.observation), default=1)
        frame_dim = spec.frame_dim
        index: list[int] = []
        start = 0
        for term in spec.observation:
            for age in range(term.history):          # newest first
                offset = age * frame_dim + start
                index.extend(range(offset, offset + term.size))
            start += term.size
        self._index = np.asarray(index, dtype=np.intp)
        self._frames = np.zeros((n_envs, self.depth, frame_dim), dtype=np.float32)
        self._fresh = np.ones(n_envs, dtype=bool)     # no frame yet since the last reset

    def reset(self, envs: Any = None) -> None:
        """Forget the frames of ``envs`` (indices or a boolean mask; every robot when None).

        Their next frame fills their whole history.
        """
        if envs is None:
            self._fresh[:] = True
        else:
            self._fresh[envs] = True

    def push(self, frames: np.ndarray, envs: Any = None) -> np.ndarray:
        """Add one frame per robot ``(n_envs, frame_dim)``; the observations ``(n_envs, obs_dim)``.

        Args:
            frames: This control step's frame of every robot.
            envs: Only these robots (a boolean mask) take their frame; the observations of just
                those rows are returned. Every robot when None.

        Without history terms the frames are the observations and are returned as they are.
        """
        if self.depth == 1:
            return frames if envs is None else frames[envs]
        self._check(frames)
        if envs is None:
            self._add(self._frames, self._fresh, frames)
            self._fresh[:] = False
            return self._layout(self._frames)
        rows = self._frames[envs]
        self._add(rows, self._fresh[envs], frames[envs])
        self._frames[envs] = rows
        self._fresh[envs] = False
        return self._layout(rows)

    def peek(self, frames: np.ndarray) -> np.ndarray:
        """The observations :meth:`push` would return, leaving the history unchanged."""
        if self.depth == 1:
            return frames
        self._check(frames)
        history = self._frames.copy()
        self._add(history, self._fresh, frames)
        return self._layout(history)

    def push_one(self, frame: np.ndarray) -> np.ndarray:
        """:meth:`push` for a history of one robot: one frame in, one observation out."""
        return self.push(frame[None])[0]

    def peek_one(self, frame: np.ndarray) -> np.ndarray:
        """:meth:`peek` for a history of one robot."""
        return self.peek(frame[None])[0]

    def state(self) -> dict[str, np.ndarray]:
        """The frames and reset flags, for pickling a batch (:meth:`restore`)."""
        return {'frames': self._frames.copy(), 'fresh': self._fresh.copy()}

    def restore(self, state: dict[str, np.ndarray]) -> None:
        """Continue from :meth:`state` of a history of the same spec and size."""
        frames = np.asarray(state['frames'], dtype=np.float32)
        if frames.shape != self._frames.shape:
            raise ValueError(f'observation history: saved frames have shape {frames.shape}, '
                             f'this history {self._frames.shape}')
        self._frames[:] = frames
        self._fresh[:] = np.asarray(state['fresh'], dtype=bool)

    def _check(self, frames: np.ndarray) -> None:
        if frames.shape != self._frames[:, 0].shape:
            raise ValueError(f'observation history of {self.spec.name!r}: frames must have '
                             f'shape {self._frames[:, 0].shape} (robots, frame_dim), got '
                             f'{frames.shape}')

    def _layout(self, history: np.ndarray) -> np.ndarray:
        return history.reshape(history.shape[0], -1)[:, self._index]

    @staticmethod
    def _add(history: np.ndarray, fresh: np.ndarray, frames: np.ndarray) -> None:
        history[:, 1:] = history[:, :-1].copy()
        history[:, 0] = frames
        if fresh.any():
            history[fresh] = frames[fresh][:, None, :]
