# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Task and simulated-environment base classes.

A :class:`Task` knows how to turn *observed* robot state into an observation, a reward and a
termination flag. It never touches a simulator, so the trainer node can use it on a real robot.
A :class:`TaskEnv` pairs a task with a simulator and exposes the Gymnasium API; its observation
and reward come from the task applied to the simulator's joint states, exactly as on the graph.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import gymnasium as gym
import numpy as np

from robotrl_ros.tasks.observation import RobotState, build_observation
from robotrl_ros.tasks.observation_history import ObservationHistory
from robotrl_ros.tasks.spec import TaskSpec


class Task(ABC):
    """Observation, reward and termination computed from observed state only."""

    spec: TaskSpec

    def observe(self, state: RobotState) -> np.ndarray:
        """One control step's frame for ``state`` (see :func:`build_observation`).

        The observation itself unless the spec has history terms; then an
        :class:`ObservationHistory` stacks the frames.
        """
        return build_observation(self.spec, state)

    @abstractmethod
    def reward(self, state: RobotState, action: np.ndarray,
               next_state: RobotState) -> tuple[float, bool, bool]:
        """Score one transition.

        Args:
            state: State before the action.
            action: Continuous action in [-1, 1] that was applied.
            next_state: State after one control period.

        Returns:
            ``(reward, terminated, success)``.
        """

    def sample_goal(self, rng: np.random.Generator) -> np.ndarray | None:
        """Draw a goal (or velocity command) for a new episode; None if the task has none."""
        return None


class TaskEnv(gym.Env, ABC):
    """Gymnasium environment for a simulated task.

    Subclasses implement the simulator: :meth:`_sim_reset`, :meth:`_sim_apply` and
    :meth:`_sim_joint_state`. Observation, reward and termination always come from
    :attr:`task` applied to the simulated joint states.

    :meth:`step` reuses the state observed at the end of the previous step as the next step's
    starting state; :meth:`reset`, :meth:`step_command` and assigning a new :attr:`goal` renew
    it. Code that writes the simulator's state directly between steps must call :meth:`reset`.
    """

    metadata: dict[str, Any] = {'render_modes': []}
    # (state, goal) after the last step: the next step's "before" state unless something
    # changed in between (reset, step_command, a new goal object). Class default: subclasses
    # and unpickled envs start without one.
    _last_state: tuple[RobotState, np.ndarray | None] | None = None
    # Made on first use: envs pickled before observation history existed unpickle without it.
    _history: ObservationHistory | None = None

    def __init__(self, task: Task, goal: np.ndarray | None = None) -> None:
        self.task = task
        self.task_spec: TaskSpec = task.spec
        self._fixed_goal = None if goal is None else np.asarray(goal, dtype=np.float64)
        self.goal: np.ndarray | None = None
        self.last_action = np.zeros(task.spec.action_dim)
        self.steps = 0
        low = np.full(task.spec.obs_dim, -np.inf, dtype=np.float32)
        self.observation_space = gym.spaces.Box(low, -low, dtype=np.float32)
        if task.spec.is_discrete:
            self.action_space = gym.spaces.Discrete(len(task.spec.discrete_actions))
        else:
            ones = np.ones(task.spec.action_dim, dtype=np.float32)
            self.action_space = gym.spaces.Box(-ones, ones, dtype=np.float32)

    # --- simulator hooks -------------------------------------------------------------------
    @abstractmethod
    def _sim_reset(self, rng: np.random.Generator, options: dict[str, Any]) -> None:
        """Put the simulator in a fresh initial state."""

    @abstractmethod
    def _sim_apply(self, command: np.ndarray) -> None:
        """Apply a motor command (joint order of the spec) for one control period."""

    @abstractmethod
    def _sim_joint_state(self) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Return ``(position, velocity, effort_or_None)`` in the spec's joint order."""

    def _sim_imu(self) -> dict[str, np.ndarray] | None:
        """Base signals keyed like ``RobotState.imu`` (floating-base robots); None otherwise."""
        return None

    def set_dynamics(self, mass_scale: float = 1.0, friction_scale: float = 1.0,
                     gain_scale: float = 1.0) -> None:
        """Scale the simulator's masses, friction and actuator gain (domain randomization).

        Each scale multiplies the nominal value (1.0 = nominal); calls do not compound.

        Raises:
            NotImplementedError: If this simulator has no such parameters.
        """
        raise NotImplementedError(f'{self.task_spec.name}: this simulator does not support '
                                  'dynamics randomization')

    # --- shared logic ----------------------------------------------------------------------
    @property
    def history(self) -> ObservationHistory:
        """The frames of this episode's last control steps (the spec's history terms)."""
        if self._history is None:
            self._history = ObservationHistory(self.task_spec)
        return self._history

    def robot_state(self) -> RobotState:
        """The observable state: joint states plus the goal/command, last action and IMU."""
        position, velocity, _ = self._sim_joint_state()
        goal = self.goal if self.task_spec.command_input == 'goal_pose' else None
        cmd = self.goal if self.task_spec.command_input == 'cmd_vel' else None
        return RobotState(position=position.copy(), velocity=velocity.copy(), goal=goal,
                          cmd_vel=cmd, last_action=self.last_action.copy(),
                          imu=self._sim_imu())

    def continuous_action(self, action: Any) -> np.ndarray:
        """Map a policy action (index for discrete tasks) to a continuous action in [-1, 1]."""
        if self.task_spec.is_discrete:
            return np.asarray(self.task_spec.discrete_actions[int(action)], dtype=np.float64)
        action = np.asarray(action, dtype=np.float64).reshape(-1)
        if action.shape[0] != self.task_spec.action_dim:
            raise ValueError(f'{self.task_spec.name}: action has {action.shape[0]} entries, '
                             f'expected {self.task_spec.action_dim}')
        if not np.isfinite(action).all():
            raise ValueError(f'{self.task_spec.name}: action contains NaN/Inf: {action}')
        return np.minimum(np.maximum(action, -1.0), 1.0)

    def reset(self, *, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        """Start a new episode; ``options={'goal': ...}`` fixes this episode's goal."""
        super().reset(seed=seed)
        options = options or {}
        self.steps = 0
        self.last_action = np.zeros(self.task_spec.action_dim)
        if 'goal' in options:
            self.goal = np.asarray(options['goal'], dtype=np.float64)
        elif self._fixed_goal is not None:
            self.goal = self._fixed_goal.copy()
        else:
            self.goal = self.task.sample_goal(self.np_random)
        self._sim_reset(self.np_random, options)
        state = self.robot_state()
        self._last_state = (state, self.goal)
        self.history.reset()
        return self.history.push_one(self.task.observe(state)), {'goal': self.goal}

    def joint_state(self) -> tuple[tuple[str, ...], np.ndarray, np.ndarray, np.ndarray | None]:
        """``(names, position, velocity, effort_or_None)`` as a sim bridge publishes them."""
        position, velocity, effort = self._sim_joint_state()
        return self.task_spec.joint_names, position.copy(), velocity.copy(), effort

    def step_command(self, command: np.ndarray) -> None:
        """Advance one control period driven by a motor command (the sim bridge's entry point).

        Raises:
            ValueError: If the command has the wrong length or is not finite.
        """
        command = np.asarray(command, dtype=np.float64).reshape(-1)
        if command.shape[0] != self.task_spec.action_dim:
            raise ValueError(f'{self.task_spec.name}: command has {command.shape[0]} entries, '
                             f'expected {self.task_spec.action_dim} '
                             f'({self.task_spec.joint_names})')
        if not np.isfinite(command).all():
            raise ValueError(f'{self.task_spec.name}: command contains NaN/Inf: {command}')
        limits = self.task_spec._arrays
        self._advance(np.minimum(np.maximum(command, limits['lower']), limits['upper']))

    def _advance(self, command: np.ndarray) -> None:
        """Apply a finite command within the joint limits for one control period."""
        self._last_state = None
        self._sim_apply(command)
        self.last_action = self.task_spec.command_to_action(command)
        self.steps += 1

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Apply one action for one control period (Gymnasium API)."""
        cont = self.continuous_action(action)
        last = self._last_state
        # The previous step's state, unless something happened since (same values, one fewer
        # read of the simulator).
        before = last[0] if last is not None and last[1] is self.goal else self.robot_state()
        self._advance(self.task_spec.action_to_command(cont))   # finite, within the limits
        after = self.robot_state()
        self._last_state = (after, self.goal)
        reward, terminated, success = self.task.reward(before, cont, after)
        truncated = (not terminated) and self.steps >= self.task_spec.max_episode_steps
        obs = self.history.push_one(self.task.observe(after))
        if not np.isfinite(obs).all():
            raise FloatingPointError(f'{self.task_spec.name}: simulator produced a non-finite '
                                     f'observation at step {self.steps}: {obs}')
        return obs, float(reward), bool(terminated), bool(truncated), {'is_success': success}
