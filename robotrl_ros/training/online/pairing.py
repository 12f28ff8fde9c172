# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Turn a stream of observed messages into RL transitions ``(s_t, a_t, r_t, s_{t+1})``.

The trainer never asks a simulator for a reward: it watches ``joint_states`` (with stamps), the
commands the policy node publishes (in arrival order), goal/velocity-command updates and episode
reset boundaries, and computes reward and termination with the task from the observed states.
This module is pure Python so the pairing rules are unit-tested on synthetic streams.

Rules (the lockstep protocol of docs/interfaces.md, and a looser real-robot stream):

* A command is paired with the newest state received before it (``s_t``); the transition is
  completed by the first later state whose stamp is between ``0.5`` and ``1.5`` control periods
  after ``s_t`` (states closer than that are intermediate samples of a faster state stream).
* A stamped goal applies to the states stamped at or after it: one delivered after the states
  it belongs to (an auto-resetting bridge publishes the new goal, then the first state, on two
  topics) re-targets the state waiting for its command and the latest state, so the episode's
  first transition is not lost. Unstamped goals apply from their arrival.
* A state whose stamp equals the previous one is a duplicate (the lockstep bridge republishes the
  latest state when a command is lost); an older stamp is out of order. Both are dropped and
  counted, as are commands without a fresh state, gaps larger than 1.5 periods and transitions
  whose goal changed underneath them.
* An exploring policy node publishes the sample behind each command (before its clamp); it is
  matched to the command it clamps to (:mod:`.explore_samples`), before the command or while
  the command waits for its next state, and the transition carries it (``sample``). A
  transition whose command got none (a limit filter changed the command, a lost message) keeps
  the executed action alone and is counted (``samples_missing``, once samples flow).
* Reward and termination come from ``task.reward``; truncation at ``spec.max_episode_steps``
  control periods after the episode's first state, counted from the stamps, so a dropped
  transition does not shift the episode's end (the simulator counts every step it takes).
* With resets (simulation), after an episode ends nothing is paired until :meth:`on_reset` gives
  the stamp of the new episode's first state; transitions starting before it are ignored. The
  reset reply also carries the new episode's goal (or velocity command): ``goal_pose`` travels on
  its own topic and may be delivered after the episode's first states, which would otherwise be
  paired with the old goal (and the first transition dropped as ``goal_changed``). Stamped goals
  older than the boundary are stale and ignored. Without
  resets (a real robot, or a bridge with ``auto_reset``), the next episode starts at the first
  state after the one that ended it (or after a new goal); the command answering the final
  state is not paired.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from robotrl_ros.tasks.base import Task
from robotrl_ros.tasks.observation import RobotState
from robotrl_ros.tasks.observation_history import ObservationHistory
from robotrl_ros.training.online.explore_samples import SampleMatcher

#: Fractions of a control period that bound the stamp gap between ``s_t`` and ``s_{t+1}``.
MIN_STEP_FRACTION = 0.5
MAX_STEP_FRACTION = 1.5
#: Stamps travel as integer nanoseconds: a reset boundary given as float seconds matches a state
#: stamp within this many seconds.
STAMP_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Transition:
    """One observed environment step.

    Attributes:
        obs: Observation of ``s_t``.
        action: Continuous action in [-1, 1] recovered from the command.
        action_index: Index into the task's discrete action table (discrete tasks), else None.
        reward: Task reward of the step.
        next_obs: Observation of ``s_{t+1}`` (the true next state, also at episode end).
        terminated: The task reached a terminal state.
        truncated: The episode hit ``max_episode_steps`` without terminating.
        success: The task's success flag for the step.
        stamp: Stamp (s) of ``s_t``.
        episode: Episode counter of the pairer.
        source: Namespace of the robot or simulator it came from ('' = the trainer's own).
        policy_version: Learner update count of the policy that acted (-1 = unknown).
        sample: The exploring policy's sample behind ``action``, before its clamp to [-1, 1]
            (None: not published, or it did not match the command).
        cut: Last of an on-policy segment released before its episode ended: the agent
            bootstraps here as at a truncation (not logged; :mod:`.sources`).
    """

    obs: np.ndarray
    action: np.ndarray
    action_index: int | None
    reward: float
    next_obs: np.ndarray
    terminated: bool
    truncated: bool
    success: bool
    stamp: float
    episode: int
    source: str = ''
    policy_version: int = -1
    sample: np.ndarray | None = None
    cut: bool = False

    @property
    def done(self) -> bool:
        """Whether the episode ended with this step."""
        return self.terminated or self.truncated


@dataclass(frozen=True)
class EpisodeSummary:
    """Return, length and success of one finished episode."""

    ret: float
    length: int
    success: bool


class TransitionPairer:
    """Pair observed states and commands into transitions, dropping and counting what cannot.

    Args:
        task: The task that computes observation, reward and termination.
        use_resets: True in simulation, where episodes end through the bridge's ``~/reset``.
        history: How many finished episodes :attr:`episodes` keeps.
    """

    def __init__(self, task: Task, use_resets: bool = True, history: int = 100) -> None:
        self.task = task
        self.spec = task.spec
        self.use_resets = use_resets
        self.dropped: Counter[str] = Counter()
        self.episodes: deque[EpisodeSummary] = deque(maxlen=history)
        self.paired = 0
        self.samples = SampleMatcher(self.spec.action_dim)
        self.episode = 0
        self._goal: np.ndarray | None = None
        self._cmd_vel: np.ndarray | None = None
        self._last_stamp = -np.inf
        self._latest: RobotState | None = None
        self._latest_fresh = False
        # (s_t, action, sample or None) of the command waiting for s_{t+1}.
        self._pending: tuple[RobotState, np.ndarray, np.ndarray | None] | None = None
        self._boundary = -np.inf
        self._awaiting_reset = False
        self._episode_over = False
        self._steps = 0
        self._episode_start: float | None = None
        self._return = 0.0
        self._last_action = np.zeros(self.spec.action_dim)
        self._obs_history = ObservationHistory(self.spec)
        self._stacked: tuple[RobotState, np.ndarray] | None = None  # last end state, its obs

    # --- inputs ----------------------------------------------------------------------------
    def on_goal(self, goal: np.ndarray, stamp: float = 0.0) -> None:
        """A new goal (``goal_pose``) applies to states received from now on.

        Args:
            goal: Goal position.
            stamp: The message's header stamp (s); 0 means unstamped. With resets, a goal
                stamped before the current episode's first state is stale and ignored.
        """
        if self.use_resets and 0.0 < stamp < self._boundary:
            self.dropped['stale_goal'] += 1
            return
        goal = np.asarray(goal, dtype=np.float64).copy()
        self._new_target(self._goal, goal)
        self._goal = goal
        if stamp > 0.0 and self.spec.command_input == 'goal_pose':
            self._retarget(stamp - STAMP_TOLERANCE, goal)

    def on_cmd_vel(self, cmd_vel: np.ndarray) -> None:
        """A new velocity command (``cmd_vel``) applies to states received from now on."""
        cmd_vel = np.asarray(cmd_vel, dtype=np.float64).copy()
        self._new_target(self._cmd_vel, cmd_vel)
        self._cmd_vel = cmd_vel

    def _new_target(self, old: np.ndarray | None, new: np.ndarray) -> None:
        """Without resets, a changed goal mid-episode starts a new episode.

        That is how a robot user or an auto-resetting bridge starts one; episodes stay aligned.
        """
        if (not self.use_resets and old is not None and not np.array_equal(old, new)
                and not self._episode_over and self._steps > 0):
            self._episode_over = True
            self.dropped['episode_cut_by_new_goal'] += 1

    def on_command(self, command: np.ndarray) -> None:
        """A command arrived: it acts on the newest state not yet acted on.

        Raises:
            ValueError: If the command has the wrong length or is not finite.
        """
        command = np.asarray(command, dtype=np.float64).reshape(-1)
        if command.shape[0] != self.spec.action_dim or not np.all(np.isfinite(command)):
            raise ValueError(f'{self.spec.name}: command must have {self.spec.action_dim} finite '
                             f'entries ({self.spec.joint_names}), got {command.tolist()}')
        if self._latest is None or not self._latest_fresh:
            self.dropped['command_without_state'] += 1
            return
        if self._pending is not None:
            self.dropped['superseded_command'] += 1
        action = self.spec.command_to_action(command)
        self._pending = (self._latest, action, self.samples.take(action))
        self._latest_fresh = False

    def on_sample(self, sample: np.ndarray) -> None:
        """The exploring policy's sample behind a command (before its clamp).

        It joins the command waiting for its next state if it clamps to that command's action
        (delivered after it), else waits for its command.
        """
        sample = self.samples.receive(sample)
        if sample is None:
            return
        pending = self._pending
        if pending is not None and pending[2] is None and self.samples.joins(sample, pending[1]):
            self._pending = (pending[0], pending[1], sample)
        else:
            self.samples.wait(sample)

    def on_joint_state(self, stamp: float, position: np.ndarray, velocity: np.ndarray,
                       imu: dict[str, np.ndarray] | None = None) -> Transition | None:
        """A joint state arrived (joints in the spec's order); returns a completed transition."""
        stamp = float(stamp)
        if stamp == self._last_stamp:
            self.dropped['duplicate_state'] += 1
            return None
        if stamp < self._last_stamp:
            self.dropped['out_of_order_state'] += 1
            return None
        self._last_stamp = stamp
        state = self._state(stamp, position, velocity, imu)
        if self._awaiting_reset or stamp < self._boundary:
            self._hold(state, 'before_reset')
            return None
        if self._episode_over:
            if self.use_resets:
                self._hold(state, 'after_episode_end')
                return None
            self._start_episode()  # this state starts the next episode; nothing crosses over
            if self._pending is not None:
                self.dropped['after_episode_end'] += 1
                self._pending = None
            state = replace(state, last_action=self._last_action.copy())
        if self._episode_start is None:
            self._episode_start = stamp
        transition = None
        if self._pending is not None:
            start, action, sample = self._pending
            dt = stamp - start.stamp
            if dt < MIN_STEP_FRACTION * self.spec.control_period:
                self._latest, self._latest_fresh = state, True  # intermediate sample
                return None
            self._pending = None
            if dt > MAX_STEP_FRACTION * self.spec.control_period:
                self.dropped['gap'] += 1
            else:
                state = replace(state, last_action=action.copy())
                transition = self._complete(start, action, state, sample)
        self._latest, self._latest_fresh = state, True
        return transition

    def stop_using_resets(self) -> None:
        """Episodes end by themselves (an auto-resetting bridge): never wait for a reset."""
        self.use_resets = False
        self._awaiting_reset = False

    def begin_reset(self) -> None:
        """A reset was requested: drop what is in flight until :meth:`on_reset` says when."""
        self._awaiting_reset = True
        if self._pending is not None:
            self.dropped['cut_by_reset'] += 1
        self._pending = None
        self._latest_fresh = False

    def on_reset(self, stamp: float, command: Any = None) -> np.ndarray | None:
        """The new episode's first state has ``stamp``; earlier states never start a transition.

        Args:
            stamp: Stamp (s) of the new episode's first state.
            command: The new episode's goal (``goal_pose`` tasks) or velocity command
                (``cmd_vel`` tasks) as the bridge's reset reply gives it (3 numbers); None keeps
                the last one received on its topic, and so does anything else (counted as
                ``bad_reset_goal``).

        Returns:
            The command taken from ``command``, or None.
        """
        if command is not None:
            try:
                command = np.asarray(command, dtype=np.float64).reshape(-1).copy()
                valid = command.shape == (3,) and bool(np.all(np.isfinite(command)))
            except (TypeError, ValueError):
                valid = False
            if not valid:
                self.dropped['bad_reset_goal'] += 1  # keep the goal from its topic
                command = None
            elif self.spec.command_input == 'goal_pose':
                self._goal = command
            elif self.spec.command_input == 'cmd_vel':
                self._cmd_vel = command
        self._boundary = float(stamp) - STAMP_TOLERANCE
        self._awaiting_reset = False
        if self._pending is not None:
            self.dropped['cut_by_reset'] += 1
        self._pending = None
        self._start_episode()
        self._episode_start = float(stamp)
        latest = self._latest
        if latest is not None and latest.stamp >= self._boundary:
            self._latest = self._state(latest.stamp, latest.position, latest.velocity, latest.imu)
            self._latest_fresh = True
        else:
            self._latest_fresh = False
        return command

    # --- status ----------------------------------------------------------------------------
    @property
    def needs_reset(self) -> bool:
        """True when an episode ended in simulation and no reset was requested yet."""
        return self.use_resets and self._episode_over and not self._awaiting_reset

    @property
    def awaiting_reset(self) -> bool:
        """True between :meth:`begin_reset` and :meth:`on_reset`."""
        return self._awaiting_reset

    def counters(self) -> dict[str, int]:
        """Paired transitions and every drop reason with its count."""
        return {'paired': self.paired, **{f'dropped_{k}': v for k, v in self.dropped.items()},
                **self.samples.counters()}

    # --- internals -------------------------------------------------------------------------
    def _state(self, stamp: float, position: np.ndarray, velocity: np.ndarray,
               imu: dict[str, np.ndarray] | None) -> RobotState:
        uses_goal = self.spec.command_input == 'goal_pose'
        uses_cmd = self.spec.command_input == 'cmd_vel'
        return RobotState(
            position=np.asarray(position, dtype=np.float64).copy(),
            velocity=np.asarray(velocity, dtype=np.float64).copy(),
            goal=None if not uses_goal or self._goal is None else self._goal.copy(),
            cmd_vel=None if not uses_cmd or self._cmd_vel is None else self._cmd_vel.copy(),
            last_action=self._last_action.copy(), imu=imu, stamp=stamp)

    def _retarget(self, since: float, goal: np.ndarray) -> None:
        """Give the states stamped at or after ``since`` (not yet paired) the goal ``goal``."""
        if self._latest is not None and self._latest.stamp >= since:
            self._latest = replace(self._latest, goal=goal.copy())
        if self._pending is not None and self._pending[0].stamp >= since:
            start, action, sample = self._pending
            self._pending = (replace(start, goal=goal.copy()), action, sample)

    def _hold(self, state: RobotState, reason: str) -> None:
        if self._pending is not None:
            self.dropped[reason] += 1
        self._pending = None
        self._latest, self._latest_fresh = state, False

    def _start_episode(self) -> None:
        self.episode += 1
        self._episode_over = False
        self._steps = 0
        self._episode_start = None
        self._return = 0.0
        self._last_action = np.zeros(self.spec.action_dim)
        self._obs_history.reset()
        self._stacked = None

    def _complete(self, start: RobotState, action: np.ndarray, end: RobotState,
                  sample: np.ndarray | None = None) -> Transition | None:
        if not _same(start.goal, end.goal) or not _same(start.cmd_vel, end.cmd_vel):
            self.dropped['goal_changed'] += 1
            return None
        try:
            start_frame = self.task.observe(start)
            end_frame = self.task.observe(end)
            reward, terminated, success = self.task.reward(start, action, end)
        except ValueError:
            self.dropped['missing_input'] += 1  # e.g. no goal_pose received yet
            return None
        obs, next_obs = self._stack(start, start_frame, end, end_frame)
        index = None
        if sample is None:
            self.samples.missed()
        if self.spec.is_discrete:
            sample = None
            index = self.spec.discrete_index(action)
            action = np.asarray(self.spec.discrete_actions[index], dtype=np.float64)
        self._steps += 1
        self._return += float(reward)
        first = self._episode_start if self._episode_start is not None else end.stamp
        elapsed = max(self._steps, int(round((end.stamp - first) / self.spec.control_period)))
        truncated = (not terminated) and elapsed >= self.spec.max_episode_steps
        self._last_action = action.copy()
        self.paired += 1
        if terminated or truncated:
            self._episode_over = True
            self.episodes.append(EpisodeSummary(self._return, self._steps, bool(success)))
        return Transition(obs=obs, action=action.astype(np.float32), action_index=index,
                          reward=float(reward), next_obs=next_obs, terminated=bool(terminated),
                          truncated=bool(truncated), success=bool(success), stamp=start.stamp,
                          episode=self.episode,
                          sample=None if sample is None else sample.astype(np.float32))


    def _stack(self, start: RobotState, start_frame: np.ndarray, end: RobotState,
               end_frame: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Observations of a transition's two states, with the spec's history terms.

        The history restarts with each episode (:meth:`_start_episode`); a state that did not
        end the previous paired transition (one was dropped in between) is taken in on its own,
        as the policy node saw it.
        """
        if self._stacked is not None and self._stacked[0] is start:
            obs = self._stacked[1]
        else:
            obs = self._obs_history.push_one(start_frame)
        next_obs = self._obs_history.push_one(end_frame)
        self._stacked = (end, next_obs)
        return obs, next_obs


def _same(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return bool(np.array_equal(a, b))
