# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""What the policy controller knows of the robot: the latest state and inputs, and their age.

:class:`StateIntake` keeps the latest joint state and the timed inputs (``goal_pose``,
``cmd_vel``, ``imu``, ``base_twist``) and judges them:

- freshness is judged by arrival time; states with older stamps than the last accepted one are
  rejected (a repeated stamp is a re-sent sample), as are stamps that jump more than
  ``max_stamp_jump``; once no state was accepted for ``state_timeout`` the next one starts a
  new stamp baseline (a restarted clock, one bad stamp never locks the node out);
- the watchdog: the state is stale after ``state_timeout``, each needed timed input after its
  own timeout (:meth:`ControllerConfig.timeout_of
  <robotrl_ros.policy.controller_config.ControllerConfig.timeout_of>`);
- a changed goal / velocity command marks a new episode, which begins with the next fresh
  state (:meth:`StateIntake.take_episode_start`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from robotrl_ros.policy.controller_config import ControllerConfig


@dataclass
class Inputs:
    """Latest observed inputs in the policy's joint order."""

    position: np.ndarray | None = None
    velocity: np.ndarray | None = None
    stamp: float | None = None
    received: float = 0.0          # monotonic time of the last fresh state
    used: bool = True              # whether a step consumed the latest state
    goal: np.ndarray | None = None
    cmd_vel: np.ndarray | None = None
    imu: dict[str, np.ndarray] = field(default_factory=dict)
    arrived: dict[str, float] = field(default_factory=dict)   # input -> monotonic arrival


class StateIntake:
    """The latest joint state and timed inputs, judged by stamp and age.

    Args:
        config: The controller's settings (``state_timeout``, ``max_stamp_jump``, the input
            timeouts, ``reset_on_new_goal``, ``default_goal``); replace :attr:`config` to
            change them.
        counts: The controller's counters; this adds to ``states``, ``dropped_inputs``,
            ``non_monotonic``, ``stamp_jumps``, ``stamp_resets``, ``repeated_states``,
            ``invalid_inputs`` and ``episodes``.
    """

    def __init__(self, config: ControllerConfig, counts: dict[str, int]) -> None:
        self.config = config
        self.counts = counts
        self.inputs = Inputs()
        #: Timed inputs the running policy reads (only these can go stale).
        self.needed: tuple[str, ...] = ()
        self._episode_boundary = False   # a new episode begins with the next fresh state
        self._episode_start = False      # ... and that state has arrived
        if config.default_goal:
            self.inputs.goal = np.asarray(config.default_goal, dtype=np.float64)

    def set_state(self, position: np.ndarray, velocity: np.ndarray, stamp: float,
                  now: float) -> str:
        """Record a joint state (policy joint order).

        Returns:
            ``fresh``, ``repeat`` (the last stamp again), ``old`` (an older stamp) or ``jump``
            (more than ``max_stamp_jump`` ahead). A stamp of exactly 0 (a driver that does not
            stamp) is never compared; once no state was accepted for ``state_timeout``, any
            stamp is accepted as the new baseline (counted in ``stamp_resets``).
        """
        self.counts['states'] += 1
        last = self.inputs.stamp
        if stamp != 0.0 and last is not None and last != 0.0:
            verdict = ('old' if stamp < last else 'repeat' if stamp == last else
                       'jump' if 0 < self.config.max_stamp_jump < stamp - last else 'fresh')
            if verdict != 'fresh' and verdict != 'repeat' and \
                    now - self.inputs.received > self.config.state_timeout:
                self.counts['stamp_resets'] += 1     # no sane state for a while: re-baseline
                verdict = 'fresh'
            if verdict == 'old':
                self.counts['non_monotonic'] += 1
                return 'old'
            if verdict == 'jump':
                self.counts['stamp_jumps'] += 1
                return 'jump'
            if verdict == 'repeat':
                self.counts['repeated_states'] += 1
                return 'repeat'
        if not self.inputs.used:
            self.counts['dropped_inputs'] += 1
        if self._episode_boundary:
            self._episode_boundary, self._episode_start = False, True
        self.inputs.position, self.inputs.velocity = position, velocity
        self.inputs.stamp, self.inputs.received, self.inputs.used = stamp, now, False
        return 'fresh'

    def set_goal(self, goal: np.ndarray, now: float | None = None) -> None:
        """Record the goal (``goal_pose``, arrived at monotonic ``now``).

        A changed goal marks an episode boundary.
        """
        self._new_target(self.inputs.goal, goal)
        self.inputs.goal = goal
        self.inputs.arrived['goal_pose'] = time.monotonic() if now is None else now

    def set_cmd_vel(self, cmd_vel: np.ndarray, now: float | None = None) -> None:
        """Record the velocity command (``cmd_vel``, arrived at monotonic ``now``).

        A changed command marks an episode boundary.
        """
        self._new_target(self.inputs.cmd_vel, cmd_vel)
        self.inputs.cmd_vel = cmd_vel
        self.inputs.arrived['cmd_vel'] = time.monotonic() if now is None else now

    def set_base_inputs(self, source: str, values: dict[str, np.ndarray],
                        now: float | None = None) -> None:
        """Record the valid observation inputs of an ``imu`` or ``base_twist`` message."""
        self.inputs.imu.update(values)
        if values:
            self.inputs.arrived[source] = time.monotonic() if now is None else now

    def invalid_input(self) -> None:
        """Count a message that could not be used (bad lengths, NaN, missing joints ...)."""
        self.counts['invalid_inputs'] += 1

    # --- the watchdog ------------------------------------------------------------------------
    def stale(self, now: float) -> bool:
        """Whether the last fresh state is older than ``state_timeout`` (False before any)."""
        return self.inputs.position is not None and \
            now - self.inputs.received > self.config.state_timeout

    def stale_inputs(self, now: float) -> list[str]:
        """Needed inputs (besides joint_states) older than their timeout."""
        stale = []
        for source in self.needed:
            timeout = self.config.timeout_of(source)
            arrived = self.inputs.arrived.get(source)
            if timeout > 0 and arrived is not None and now - arrived > timeout:
                stale.append(source)
        return stale

    # --- episodes ----------------------------------------------------------------------------
    def _new_target(self, old: np.ndarray | None, new: np.ndarray) -> None:
        # The simulator publishes a new episode's goal / command just before its first state,
        # and the trainer's pairer starts a new episode (last action zero) on a changed one:
        # the same rule here keeps the observed last_action equal to what training saw.
        # Republished identical goals (late subscribers, lockstep republish) change nothing.
        if self.config.reset_on_new_goal and old is not None and not np.array_equal(old, new):
            self.new_episode()

    def new_episode(self) -> None:
        """A new episode begins with the next fresh state.

        That state is answered with ``last_action`` zeroed and the rate limit restarted from its
        measured position (the simulator moved the robot to a new initial pose).
        """
        self._episode_boundary = True
        self.counts['episodes'] += 1

    def take_episode_start(self) -> bool:
        """Whether the latest fresh state starts a new episode (True once per episode)."""
        start, self._episode_start = self._episode_start, False
        return start
