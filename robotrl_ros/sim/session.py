# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The simulated robot behind the sim bridge, without ROS: commands in, joint states out.

:class:`SimSession` owns a task environment and everything the bridge must keep consistent
across messages: the command joint order (remapped to the task's order by name), the sim clock
(strictly increasing over the whole run, one control period per step and per reset), episode
and step counters, rejected commands, and optional auto-reset on termination. The ROS node
(:mod:`robotrl_ros.nodes.sim_bridge`) only converts messages and calls this class, so the
protocol logic is unit-testable without a ROS graph.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from robotrl_ros.sim.perturbations import BaseDisturber
from robotrl_ros.tasks.base import TaskEnv


def command_permutation(task_joints: Sequence[str], command_joints: Sequence[str]) -> np.ndarray:
    """Index array ``perm`` so that ``task_command = command[perm]``.

    Args:
        task_joints: The task's joint order (what the simulator applies).
        command_joints: The order of entries in incoming command messages (the ``joints``
            parameter, like a ros2_control forward controller's ``joints``); empty means the
            task's own order.

    Raises:
        ValueError: If ``command_joints`` repeats a joint, lacks one of the task's joints or
            names a joint the task does not have.
    """
    task_joints = tuple(task_joints)
    command_joints = tuple(command_joints) or task_joints
    if len(set(command_joints)) != len(command_joints):
        raise ValueError(f'joints lists a joint twice: {list(command_joints)}')
    missing = [j for j in task_joints if j not in command_joints]
    unknown = [j for j in command_joints if j not in task_joints]
    if missing or unknown:
        raise ValueError(f'joints must be a permutation of the task joints {list(task_joints)}; '
                         f'missing {missing}, unknown {unknown}')
    lookup = {name: i for i, name in enumerate(command_joints)}
    return np.array([lookup[j] for j in task_joints], dtype=np.intp)


class RateMeter:
    """Steps per second over the interval since the last :meth:`rate` call."""

    def __init__(self) -> None:
        self._count = 0
        self._since = time.monotonic()

    def tick(self) -> None:
        """Count one step."""
        self._count += 1

    def rate(self) -> float:
        """Steps/s since the previous call (or construction), then restart the interval."""
        now = time.monotonic()
        elapsed = now - self._since
        rate = self._count / elapsed if elapsed > 0 else 0.0
        self._count, self._since = 0, now
        return rate


class SimSession:
    """A task environment driven by motor commands, as the sim bridge runs it.

    Args:
        env: The simulated task (``make_env(task, ...)``), possibly randomization-wrapped.
        command_joints: Joint order of incoming commands; empty = the task's order.
        seed: Seeds the first episode; later episodes continue the same random stream, so a
            run is reproducible from ``seed``.
        goal: Fixed goal for every episode; None samples one per episode.
        auto_reset: Start a new episode by itself when the task terminates or truncates.
        disturber: Pushes and IMU noise of a floating base (None = none).

    Raises:
        ValueError: If ``command_joints`` is not a permutation of the task's joints.
    """

    def __init__(self, env: TaskEnv, command_joints: Sequence[str] = (), seed: int = 0,
                 goal: Sequence[float] | None = None, auto_reset: bool = False,
                 disturber: BaseDisturber | None = None) -> None:
        self.env = env
        self.disturber = disturber
        self.spec = env.task_spec
        self.joint_names = tuple(self.spec.joint_names)
        self.perm = command_permutation(self.joint_names, command_joints)
        self.command_joints = tuple(command_joints) or self.joint_names
        self.dt = float(self.spec.control_period)
        self.goal = None if goal is None or len(goal) == 0 else np.asarray(goal, np.float64)
        self.auto_reset = auto_reset
        self.reset_pending = False
        # Lockstep: the last state came from a command, so its answer may be on its way; after a
        # ~/reset that answer belongs to the ended episode and must not become a second step.
        self._answer_due = False
        self.drop_next_command = False
        self.dropped_stale = 0
        # Paused (``~/enable`` false: a trainer's backpressure): no control step is taken; in
        # lockstep the first command received (the answer to the last state) waits for resume.
        self.paused = False
        self.held_command: np.ndarray | None = None
        self.dropped_paused = 0
        self._seed: int | None = int(seed)
        self.sim_time = 0.0
        self.episode = 0
        self.steps = 0
        self.episode_steps = 0
        self.episode_return = 0.0
        self.rejected = 0
        self.last_rejection = ''
        self.finished: list[dict[str, Any]] = []
        self.finished_count = 0
        self.finished_successes = 0
        self.finished_return = 0.0
        self.rate = RateMeter()
        self.hold_command = self.spec.action_to_command(np.zeros(self.spec.action_dim))
        self._n = len(self.joint_names)

    # --- commands ----------------------------------------------------------------------------
    def parse_command(self, data: Sequence[float]) -> np.ndarray | None:
        """Validate a command in the ``joints`` order and return it in the task's order.

        A command of the wrong length or with NaN/Inf is counted in :attr:`rejected`, its reason
        kept in :attr:`last_rejection`, and None is returned: it must never be applied.
        """
        values = np.asarray(data, dtype=np.float64)
        if values.shape != (self._n,):
            return self._reject(f'command has {values.size} entries, expected {self._n} '
                                f'(joints {list(self.command_joints)})')
        if not np.isfinite(values).all():
            return self._reject(f'command contains NaN/Inf: {values.tolist()}')
        return values[self.perm]

    def _reject(self, reason: str) -> None:
        self.rejected += 1
        self.last_rejection = reason
        return None

    # --- episodes and steps --------------------------------------------------------------------
    def reset(self, drop_answer_in_flight: bool = False) -> float:
        """Start a new episode (new goal and randomization) and return its first stamp.

        Args:
            drop_answer_in_flight: Lockstep ``~/reset``: if the last state was produced by a
                command (a policy is answering states), the next command answers that state of
                the ended episode; :meth:`take_stale_command` then drops it, so one state per
                command stays in flight instead of two.
        """
        if self.held_command is not None:   # it answered the ended episode's last state
            self.held_command = None
            self.dropped_stale += 1
            self._answer_due = False
        self.drop_next_command = drop_answer_in_flight and self._answer_due
        self._answer_due = False
        options = {} if self.goal is None else {'goal': self.goal}
        self.env.reset(seed=self._seed, options=options)
        self._seed = None
        self.episode += 1
        self.episode_steps = 0
        self.episode_return = 0.0
        self.reset_pending = False
        self.sim_time += self.dt
        if self.disturber is not None:
            self.disturber.on_reset(self.sim_time)
        return self.sim_time

    def apply(self, command: np.ndarray) -> bool:
        """Apply one command (task order): one control step, or the pending auto-reset.

        With ``auto_reset``, the step that ends an episode is still published (so a trainer
        sees the terminal state); the command that answers it starts the new episode instead
        of moving the robot, keeping one published state per command.

        Returns:
            True when this call started a new episode.
        """
        self._answer_due = True
        if self.reset_pending:
            self.reset()
            self._answer_due = True
            return True
        self.step(command)
        return False

    def take_stale_command(self) -> bool:
        """True (and counted in ``dropped_stale_commands``) if this command must be dropped.

        After a lockstep ``reset(drop_answer_in_flight=True)`` the first command received
        answers the ended episode's last state. If that answer never comes (e.g. the policy was
        paused), the new episode's first command is dropped instead and the bridge's idle
        republish of the state gets it answered again (a policy re-sends its command).
        """
        if not self.drop_next_command:
            return False
        self.drop_next_command = False
        self.dropped_stale += 1
        return True

    def pause(self, paused: bool) -> np.ndarray | None:
        """Pause or resume the simulation (sim time stands still while paused).

        Returns:
            On resume, the command held while paused (:meth:`hold`): the caller applies it now,
            so the step the policy asked for is taken, late but not lost. None otherwise.
        """
        self.paused = paused
        if paused:
            return None
        held, self.held_command = self.held_command, None
        return held

    def hold(self, command: np.ndarray) -> None:
        """Lockstep while paused: keep the first command until resume, count the others.

        The first command answers the last published state; any later one (a policy node's
        watchdog hold during a long pause) would be a second step for one state.
        """
        if self.held_command is None:
            self.held_command = command
        else:
            self.dropped_paused += 1

    def step(self, command: np.ndarray) -> None:
        """Advance one control period; with ``auto_reset``, score it and flag an ended episode."""
        if self.auto_reset:
            before = self.env.robot_state()
        if self.disturber is not None:
            self.disturber.before_step(self.sim_time)
        self.env.step_command(command)
        self.steps += 1
        self.episode_steps += 1
        self.sim_time += self.dt
        if self.disturber is not None:
            self.disturber.after_step()
        self.rate.tick()
        if not self.auto_reset:
            return
        after = self.env.robot_state()
        action = self.spec.command_to_action(command)
        reward, terminated, success = self.env.task.reward(before, action, after)
        self.episode_return += reward
        truncated = self.episode_steps >= self.spec.max_episode_steps
        if terminated or truncated:
            self.finished.append({'episode': self.episode, 'return': self.episode_return,
                                  'length': self.episode_steps, 'success': bool(success)})
            del self.finished[:-100]
            self.finished_count += 1
            self.finished_successes += int(bool(success))
            self.finished_return += self.episode_return
            self.reset_pending = True

    # --- observation ---------------------------------------------------------------------------
    def joint_state(self) -> tuple[tuple[str, ...], np.ndarray, np.ndarray, np.ndarray | None]:
        """``(names, position, velocity, effort_or_None)`` of the current state."""
        return self.env.joint_state()

    def imu(self) -> dict[str, np.ndarray] | None:
        """Base signals (``projected_gravity``, ``base_ang_vel``, ``base_lin_vel``) or None.

        With IMU noise (:class:`BaseDisturber`), the noisy values, the same for every read of
        one state.
        """
        imu = self.env.robot_state().imu
        if imu is None or self.disturber is None:
            return imu
        return self.disturber.noisy(imu)

    def episode_params(self) -> dict[str, Any]:
        """Randomization values of the current episode (empty without randomization)."""
        params = getattr(self.env, 'episode_params', None)
        return dict(params) if params else {}

    def status(self) -> dict[str, Any]:
        """Fields of the bridge's ``~/status`` JSON."""
        recent = self.finished[-20:]  # recent_*: the last 20 finished episodes
        return {
            'task': self.spec.name,
            'step_rate': self.rate.rate(),
            'steps': self.steps,
            'episode': self.episode,
            'episode_steps': self.episode_steps,
            'reset_pending': self.reset_pending,
            'sim_time': self.sim_time,
            'rejected_commands': self.rejected,
            'pushes': 0 if self.disturber is None else self.disturber.pushes,
            'dropped_stale_commands': self.dropped_stale,
            'paused': self.paused,
            'dropped_paused_commands': self.dropped_paused,
            'last_rejection': self.last_rejection,
            'randomization': self.episode_params(),
            'goal': None if self.env.goal is None else np.asarray(self.env.goal).tolist(),
            'finished_episodes': self.finished_count,
            'success_rate': (self.finished_successes / self.finished_count
                             if self.finished_count else None),
            'mean_return': (self.finished_return / self.finished_count
                            if self.finished_count else None),
            'recent_success_rate': (float(np.mean([e['success'] for e in recent]))
                                    if recent else None),
            'recent_return': (float(np.mean([e['return'] for e in recent]))
                              if recent else None),
        }
