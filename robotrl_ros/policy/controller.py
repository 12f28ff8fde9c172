# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The policy node's control logic without ROS: state intake, watchdog, arming, one step.

The node converts messages and calls :class:`PolicyController`; everything that decides what
is published lives here and is unit-tested:

- states with older stamps than the last accepted one are rejected (a repeated stamp is a
  re-sent sample: its cached command is answered again without stepping the policy twice);
- commands are only produced while armed, with a policy loaded, fresh state (watchdog) and every
  observation input present; each goes through :class:`~robotrl_ros.policy.safety.CommandFilter`;
- a new artifact is swapped in only at the start of a step (:meth:`PolicyController.offer`);
- a changed goal / velocity command marks a new episode (:meth:`PolicyController.set_goal`): the
  first state after it is answered with ``last_action`` zeroed, as the task's reset does, and
  the rate limit restarting from that state's position.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from robotrl_ros.policy.artifact import PolicyArtifact
from robotrl_ros.policy.safety import CommandFilter
from robotrl_ros.policy.sample_window import SampleWindow
from robotrl_ros.tasks.observation import RobotState, build_observation
from robotrl_ros.util.finite import all_finite

TIMEOUT_ACTIONS = ('hold', 'stop')
COUNTERS = ('states', 'commands', 'invalid_inputs', 'dropped_inputs', 'non_monotonic',
            'repeated_states', 'nonfinite_actions', 'timeouts', 'reloads', 'reload_failures',
            'episodes')


@dataclass
class ControllerConfig:
    """Safety and behaviour settings (the policy node's parameters of the same names)."""

    state_timeout: float = 0.5
    timeout_action: str = 'hold'
    joint_limit_margin: float = 0.0
    max_command_delta: float = 0.0
    explore: bool = False
    default_goal: tuple[float, ...] = ()
    reset_on_new_goal: bool = True

    def __post_init__(self) -> None:
        if self.timeout_action not in TIMEOUT_ACTIONS:
            raise ValueError(f'timeout_action must be one of {list(TIMEOUT_ACTIONS)}, got '
                             f'{self.timeout_action!r}')
        if not np.isfinite(self.state_timeout) or self.state_timeout <= 0:
            raise ValueError(f'state_timeout must be > 0 s, got {self.state_timeout}')
        if len(self.default_goal) not in (0, 2, 3) or not np.all(np.isfinite(self.default_goal)):
            raise ValueError(f'default_goal must be empty or 2-3 finite numbers, got '
                             f'{list(self.default_goal)}')


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


class PolicyController:
    """Turns the latest robot state into at most one safe command per control step.

    Args:
        config: Safety and behaviour settings.
        artifact: The initial policy, or None to wait for :meth:`offer`.
    """

    def __init__(self, config: ControllerConfig, artifact: PolicyArtifact | None = None) -> None:
        self.config = config
        self.artifact: PolicyArtifact | None = None
        self.filter: CommandFilter | None = None
        self.armed = False
        self.fault: str | None = None        # why no command can be produced right now
        self.timed_out = False
        self.inputs = Inputs()
        self.counts = dict.fromkeys(COUNTERS, 0)
        self.inference_ms = SampleWindow(2000)
        self.last_action: np.ndarray | None = None
        self._state = RobotState(np.zeros(0), np.zeros(0))   # refilled by each step
        self._cached: tuple[float, np.ndarray | None] | None = None
        self._pending: PolicyArtifact | None = None
        self._episode_boundary = False   # a new episode begins with the next fresh state
        self._episode_start = False      # ... and that state has arrived
        if config.default_goal:
            self.inputs.goal = np.asarray(config.default_goal, dtype=np.float64)
        if artifact is not None:
            self._install(artifact)

    def status_fields(self) -> dict[str, Any]:
        """The controller's part of the node's ``~/status``: fault, policy, counters."""
        artifact, safety = self.artifact, self.filter
        return {
            'fault': self.fault, 'armed': self.armed,
            'policy_version': artifact.version if artifact else None,
            'policy_path': str(artifact.path) if artifact else None,
            'inference_backend': artifact.backend if artifact else None,
            'task': artifact.spec.name if artifact else None,
            'counts': dict(self.counts, clamped=safety.clamped if safety else 0,
                           rate_limited=safety.rate_limited if safety else 0),
        }

    # --- policy ------------------------------------------------------------------------------
    def offer(self, artifact: PolicyArtifact) -> None:
        """Queue a validated artifact; it replaces the current one at the next step.

        Raises:
            ValueError: If its joints differ from the running policy's (another robot).
        """
        current = self.artifact or self._pending
        if current is not None and artifact.spec.joint_names != current.spec.joint_names:
            raise ValueError(f'new policy {artifact.path} commands joints '
                             f'{list(artifact.spec.joint_names)}, the running one '
                             f'{list(current.spec.joint_names)}')
        self._pending = artifact

    def _new_filter(self, artifact: PolicyArtifact, config: ControllerConfig) -> CommandFilter:
        """A filter for ``artifact`` and ``config`` that continues the current one's state."""
        new_filter = CommandFilter(artifact.spec, config.joint_limit_margin,
                                   config.max_command_delta)
        if self.filter is not None:
            new_filter.last = self.filter.last
            new_filter.clamped, new_filter.rate_limited = self.filter.clamped, \
                self.filter.rate_limited
        else:
            new_filter.reset(self.inputs.position)
        return new_filter

    def reconfigure(self, **changes: Any) -> None:
        """Change settings at run time (the node's dynamic parameters); the next step uses them.

        Raises:
            ValueError: An invalid setting, e.g. a margin wider than a joint's range (then
                nothing changes).
        """
        config = dataclasses.replace(self.config, **changes)
        new_filter = (self._new_filter(self.artifact, config)
                      if self.artifact is not None else None)
        self.config = config
        if new_filter is not None:
            self.filter, self._cached = new_filter, None

    def _install(self, artifact: PolicyArtifact) -> None:
        self.artifact, self.filter = artifact, self._new_filter(artifact, self.config)
        spec = artifact.spec
        self._offset = np.asarray(spec.action_offset, dtype=np.float64)
        self._scale = np.asarray(spec.action_scale, dtype=np.float64)
        if self.last_action is None or self.last_action.shape[0] != artifact.spec.action_dim:
            self.last_action = np.zeros(artifact.spec.action_dim)
        self._cached = None

    def apply_pending(self) -> None:
        """Install a queued artifact now (call only between control steps)."""
        self._swap_pending()

    def _swap_pending(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            self._install(pending)
            self.counts['reloads'] += 1

    # --- inputs ------------------------------------------------------------------------------
    def set_state(self, position: np.ndarray, velocity: np.ndarray, stamp: float,
                  now: float) -> str:
        """Record a joint state (policy joint order). Returns ``fresh``, ``repeat`` or ``old``.

        A stamp of exactly 0 (a driver that does not stamp) is never compared.
        """
        self.counts['states'] += 1
        last = self.inputs.stamp
        if stamp != 0.0 and last is not None and last != 0.0:
            if stamp < last:
                self.counts['non_monotonic'] += 1
                return 'old'
            if stamp == last:
                self.counts['repeated_states'] += 1
                return 'repeat'
        if not self.inputs.used:
            self.counts['dropped_inputs'] += 1
        if self._episode_boundary:
            self._episode_boundary, self._episode_start = False, True
        self.inputs.position, self.inputs.velocity = position, velocity
        self.inputs.stamp, self.inputs.received, self.inputs.used = stamp, now, False
        return 'fresh'

    def set_goal(self, goal: np.ndarray) -> None:
        """Record the goal (``goal_pose``); a changed one marks an episode boundary."""
        self._new_target(self.inputs.goal, goal)
        self.inputs.goal = goal

    def set_cmd_vel(self, cmd_vel: np.ndarray) -> None:
        """Record the velocity command (``cmd_vel``); a changed one marks an episode boundary."""
        self._new_target(self.inputs.cmd_vel, cmd_vel)
        self.inputs.cmd_vel = cmd_vel

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

    def invalid_input(self) -> None:
        """Count a message that could not be used (bad lengths, NaN, missing joints ...)."""
        self.counts['invalid_inputs'] += 1

    def stale(self, now: float) -> bool:
        """Whether the last fresh state is older than ``state_timeout`` (False before any)."""
        return self.inputs.position is not None and \
            now - self.inputs.received > self.config.state_timeout

    # --- arming ------------------------------------------------------------------------------
    def arm(self, armed: bool) -> None:
        """Arm or disarm; arming restarts the rate limit from the measured position."""
        if armed and not self.armed and self.filter is not None:
            self.filter.reset(self.inputs.position)
            self.timed_out = False
        self.armed = armed

    def stop_command(self) -> np.ndarray | None:
        """Command to send once when commanding stops (None: send nothing).

        Zeros for velocity/effort/acceleration interfaces, which would otherwise keep the last
        command; None for position, where the controller holds the last target.
        """
        if self.filter is None or self.filter.position_interface:
            return None
        self.filter.last = self.filter.stop_command()
        return self.filter.last.copy()

    # --- one control step --------------------------------------------------------------------
    def step(self, now: float | None = None) -> np.ndarray | None:
        """Compute the command for the latest state, or None when nothing must be sent.

        On a watchdog timeout this returns the hold command (``timeout_action: hold``), or for
        ``stop`` once the stop command (see :meth:`stop_command`) and then None.
        """
        now = time.monotonic() if now is None else now
        self._swap_pending()
        if self.artifact is None:
            self.fault = 'no policy loaded (waiting for policy_path / policy_updates)'
            return None
        if not self.armed:
            return None
        if self.inputs.position is None:
            self.fault = 'waiting for joint_states with every policy joint'
            return None
        if self.stale(now):
            first = not self.timed_out
            if first:
                self.counts['timeouts'] += 1
            self.timed_out = True
            self.fault = f'no fresh joint_states for more than {self.config.state_timeout} s'
            if self.config.timeout_action == 'hold':
                return self.hold_command()
            return self.stop_command() if first else None
        if self.inputs.used and self._cached is not None \
                and self._cached[0] == self.inputs.stamp:
            return self._cached[1]
        self.timed_out = False
        if self._episode_start:
            self._episode_start = False
            self.last_action = np.zeros(self.artifact.spec.action_dim)
            self.filter.reset(self.inputs.position)
        command = self._compute()
        if command is not None:  # a failed step is retried on a re-sent state
            self.inputs.used = True
            self._cached = (self.inputs.stamp, command)
        return command

    def hold_command(self) -> np.ndarray | None:
        """The last safe command repeated (position) or the zero command (other interfaces)."""
        if self.filter is None:
            return None
        if not self.filter.position_interface:
            return self.stop_command()
        return None if self.filter.last is None else self.filter.last.copy()

    def _compute(self) -> np.ndarray | None:
        artifact, inputs = self.artifact, self.inputs
        assert artifact is not None and self.filter is not None
        spec = artifact.spec
        state = self._state   # one object, refilled: a dataclass __init__ less per step
        state.position, state.velocity, state.goal = inputs.position, inputs.velocity, inputs.goal
        state.cmd_vel, state.last_action, state.imu = inputs.cmd_vel, self.last_action, inputs.imu
        state.stamp = inputs.stamp or 0.0
        try:
            obs = build_observation(spec, state)
        except ValueError as exc:
            self.fault = f'cannot build the observation: {exc}'
            return None
        if not all_finite(obs):
            self.counts['invalid_inputs'] += 1
            self.fault = 'observation contains NaN/Inf'
            return None
        start = time.perf_counter()
        action = artifact.explore(obs) if self.config.explore else artifact.act(obs)
        self.inference_ms.append(1e3 * (time.perf_counter() - start))
        if self.filter.last is None:
            self.filter.reset(inputs.position)
        # spec.action_to_command without its clamp: the filter clamps to the tighter limits,
        # and refuses a NaN/Inf action (the command is then non-finite too).
        command = self._scale * action
        command += self._offset
        command = self.filter.apply(command)
        if command is None:
            self.counts['nonfinite_actions'] += 1
            self.fault = 'policy produced NaN/Inf; holding'
            return self.hold_command()
        self.fault = None
        # The action the sent command maps back to; unchanged by the filter, the policy's own
        # (equal to float64 rounding): 5 ops less per step.
        self.last_action = spec.command_to_action(command) if self.filter.changed else action
        self.counts['commands'] += 1
        return command
