# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The policy node's control logic without ROS: policy swaps, arming, one step.

The node converts messages and calls :class:`PolicyController`; everything that decides what
is published lives here and in the modules it joins, and is unit-tested:

- the latest state and inputs, their freshness (stamps, the watchdog) and episode boundaries
  are kept by :class:`~robotrl_ros.policy.state_intake.StateIntake`: a repeated stamp is a
  re-sent sample, whose cached command is answered again without stepping the policy twice;
- commands are only produced while armed, with a policy loaded, fresh state (watchdog), every
  needed input fresh (``input_timeout``) and present; each goes through a
  :class:`~robotrl_ros.policy.safety.CommandFilter` whose limits are the intersection of the
  robot's and the artifact's (:mod:`~robotrl_ros.policy.command_limits`);
- whenever no valid command exists (stale input, an observation that cannot be built, a network
  that raises or answers with the wrong shape or NaN) the step returns the interface's safe
  command (:meth:`PolicyController.safe_command`: hold the last safe position, or zeros);
- without the robot's limits the controller refuses to arm unless ``trust_artifact_limits``,
  and it refuses limits that leave a joint of the policy unbounded; limits that arrive later (a
  ``robot_description`` topic) or change are installed by
  :meth:`PolicyController.set_node_limits` (arming once they came is the caller's: the policy
  node's mode driver);
- a new artifact is swapped in only at the start of a step (:meth:`PolicyController.offer`);
  one for other joints, another command interface or command input, or with limits wider than
  the robot's, is refused;
- the first state of a new episode (:meth:`PolicyController.set_goal`) is answered with
  ``last_action`` zeroed, as the task's reset does, and the rate limit restarting from that
  state's position;
- terms with ``history > 1`` see the frames of the last control steps
  (:class:`~robotrl_ros.tasks.observation_history.ObservationHistory`); a new episode, arming and
  a new artifact start the history over.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np

from robotrl_ros.policy.artifact import PolicyArtifact
from robotrl_ros.policy.command_limits import (
    command_filter,
    limits_arm_refusal,
    limits_note,
    reload_refusal,
)
from robotrl_ros.policy.controller_config import TIMED_INPUTS, TIMEOUT_ACTIONS, ControllerConfig
from robotrl_ros.policy.joint_limits import JointLimits
from robotrl_ros.policy.metadata import TERM_SOURCES
from robotrl_ros.policy.safety import CommandFilter
from robotrl_ros.policy.sample_window import SampleWindow
from robotrl_ros.policy.state_intake import Inputs, StateIntake
from robotrl_ros.tasks.observation import RobotState, build_observation
from robotrl_ros.tasks.observation_history import ObservationHistory
from robotrl_ros.util.finite import all_finite

#: The controller and, importable from here too, its settings and inputs.
__all__ = ['COUNTERS', 'TIMED_INPUTS', 'TIMEOUT_ACTIONS', 'ControllerConfig', 'Inputs',
           'PolicyController']

COUNTERS = ('states', 'commands', 'safe_commands', 'invalid_inputs', 'dropped_inputs',
            'non_monotonic', 'stamp_jumps', 'stamp_resets', 'repeated_states',
            'nonfinite_actions', 'policy_errors', 'timeouts', 'input_timeouts', 'reloads',
            'reload_failures', 'episodes', 'limits_updates')


class PolicyController:
    """Turns the latest robot state into at most one safe command per control step.

    Args:
        config: Safety and behaviour settings.
        artifact: The initial policy, or None to wait for :meth:`offer`.
        node_limits: The robot's joint limits (URDF / joint_limits YAML); empty or None: none,
            and then the controller arms only with ``config.trust_artifact_limits``.
    """

    def __init__(self, config: ControllerConfig, artifact: PolicyArtifact | None = None,
                 node_limits: JointLimits | None = None) -> None:
        self.counts = dict.fromkeys(COUNTERS, 0)
        #: The latest state and inputs, their freshness and episode boundaries.
        self.intake = StateIntake(config, self.counts)
        self.node_limits = node_limits or JointLimits()
        self.artifact: PolicyArtifact | None = None
        self.filter: CommandFilter | None = None
        self.armed = False
        self.fault: str | None = None        # why no command can be produced right now
        self.timed_out = False
        self.inference_ms = SampleWindow(2000)
        self.last_action: np.ndarray | None = None
        #: Exploring: the sample behind the command the last step computed, before the clamp
        #: (None when the last step computed none: a safe, cached or failed step).
        self.sample: np.ndarray | None = None
        self.limits_note: str | None = None    # how the artifact's limits were narrowed
        #: Why the robot's limits are missing (e.g. awaited on a topic), for the refusal message.
        self.limits_awaited: str | None = None
        #: Why the robot's limits cannot be used now (an unusable description): arming refused.
        self.limits_refusal: str | None = None
        self._last_command_time: float | None = None
        self._state = RobotState(np.zeros(0), np.zeros(0))   # refilled by each step
        self._history: ObservationHistory | None = None
        self._cached: tuple[float, np.ndarray | None] | None = None
        self._pending: PolicyArtifact | None = None
        if artifact is not None:
            self._install(artifact)

    @property
    def config(self) -> ControllerConfig:
        """The settings in force (changed by :meth:`reconfigure`)."""
        return self.intake.config

    @property
    def inputs(self) -> Inputs:
        """The latest observed inputs (:attr:`StateIntake.inputs`)."""
        return self.intake.inputs

    def status_fields(self) -> dict[str, Any]:
        """The controller's part of the node's ``~/status``: fault, policy, counters."""
        artifact, safety = self.artifact, self.filter
        return {
            'fault': self.fault, 'armed': self.armed,
            'limits_source': (list(self.node_limits.sources) if self.node_limits else
                              'artifact (trust_artifact_limits)' if
                              self.config.trust_artifact_limits else None),
            'limits_note': self.limits_note,
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
            ValueError: A reload (a policy runs or is queued) whose joints, command interface
                or command input differ from the running policy's, or whose command limits are
                wider than the robot's; or limits that do not overlap the robot's.
        """
        current = self.artifact or self._pending
        if current is not None:
            refusal = reload_refusal(current.spec, artifact.spec, f'new policy {artifact.path}',
                                     self.node_limits)
            if refusal:
                raise ValueError(refusal)
        self._new_filter(artifact, self.config)   # raises for limits that do not overlap
        self._pending = artifact

    def _new_filter(self, artifact: PolicyArtifact, config: ControllerConfig) -> CommandFilter:
        """A filter for ``artifact`` and ``config`` that continues the current one's state."""
        return command_filter(artifact, config, self.node_limits, self.filter,
                              self.inputs.position)

    def reconfigure(self, **changes: Any) -> None:
        """Change settings at run time (the node's dynamic parameters); the next step uses them.

        Raises:
            ValueError: An invalid setting, e.g. a margin wider than a joint's range (then
                nothing changes).
        """
        config = dataclasses.replace(self.config, **changes)
        new_filter = (self._new_filter(self.artifact, config)
                      if self.artifact is not None else None)
        self.intake.config = config
        if new_filter is not None:
            self.filter, self._cached = new_filter, None

    def _install(self, artifact: PolicyArtifact) -> None:
        self.artifact, self.filter = artifact, self._new_filter(artifact, self.config)
        spec = artifact.spec
        self.intake.needed = tuple(sorted({TERM_SOURCES.get(term.name)
                                           for term in spec.observation} & set(TIMED_INPUTS)))
        self.limits_note = limits_note(spec, self.node_limits)
        refusal = self.arm_refusal() if self.armed else None
        if refusal:   # armed before this (first) policy: its joints must be bounded too
            self.armed, self.fault = False, refusal
        self._offset = np.asarray(spec.action_offset, dtype=np.float64)
        self._scale = np.asarray(spec.action_scale, dtype=np.float64)
        if self.last_action is None or self.last_action.shape[0] != artifact.spec.action_dim:
            self.last_action = np.zeros(artifact.spec.action_dim)
        self._history = ObservationHistory(spec)
        self._cached = None

    def set_node_limits(self, limits: JointLimits) -> None:
        """Install new robot limits (a robot description that arrived or changed) at once.

        The running policy's filter is rebuilt with them, keeping its last command (the rate
        limit continues); the next command is clamped to the new limits. Arming is left to the
        caller (the policy node arms a start with ``armed: true`` that waited for them).

        Raises:
            ValueError: The limits do not overlap the running or queued policy's (then
                nothing changes).
        """
        old, self.node_limits = self.node_limits, limits
        try:
            new_filter = (self._new_filter(self.artifact, self.config)
                          if self.artifact is not None else None)
            if self._pending is not None:
                self._new_filter(self._pending, self.config)
        except ValueError:
            self.node_limits = old
            raise
        self.counts['limits_updates'] += 1
        if new_filter is not None:
            self.filter, self._cached = new_filter, None
            self.limits_note = limits_note(self.artifact.spec, limits)

    @property
    def has_pending(self) -> bool:
        """Whether an offered artifact waits to be installed."""
        return self._pending is not None

    def apply_pending(self) -> None:
        """Install a queued artifact now (call only between control steps)."""
        self._swap_pending()

    def _swap_pending(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            self._install(pending)
            self.counts['reloads'] += 1

    # --- inputs (kept by the StateIntake) ----------------------------------------------------
    def set_state(self, position: np.ndarray, velocity: np.ndarray, stamp: float,
                  now: float) -> str:
        """Record a joint state: :meth:`StateIntake.set_state`."""
        return self.intake.set_state(position, velocity, stamp, now)

    def set_goal(self, goal: np.ndarray, now: float | None = None) -> None:
        """Record the goal (a changed one: a new episode): :meth:`StateIntake.set_goal`."""
        self.intake.set_goal(goal, now)

    def set_cmd_vel(self, cmd_vel: np.ndarray, now: float | None = None) -> None:
        """Record the velocity command (a changed one: a new episode)."""
        self.intake.set_cmd_vel(cmd_vel, now)

    def set_base_inputs(self, source: str, values: dict[str, np.ndarray],
                        now: float | None = None) -> None:
        """Record the valid observation inputs of an ``imu`` or ``base_twist`` message."""
        self.intake.set_base_inputs(source, values, now)

    def invalid_input(self) -> None:
        """Count a message that could not be used (bad lengths, NaN, missing joints ...)."""
        self.intake.invalid_input()

    def new_episode(self) -> None:
        """A new episode begins with the next fresh state: :meth:`StateIntake.new_episode`."""
        self.intake.new_episode()

    def stale(self, now: float) -> bool:
        """Whether the last fresh state is older than ``state_timeout`` (False before any)."""
        return self.intake.stale(now)

    def stale_inputs(self, now: float) -> list[str]:
        """Needed inputs (besides joint_states) older than their timeout."""
        return self.intake.stale_inputs(now)

    # --- arming ------------------------------------------------------------------------------
    def arm_refusal(self) -> str | None:
        """Why arming is refused now (None: it is allowed)."""
        if self.limits_refusal:
            return self.limits_refusal
        return limits_arm_refusal(self.artifact.spec if self.artifact is not None else None,
                                  self.node_limits, self.config.trust_artifact_limits,
                                  self.limits_awaited)

    def arm(self, armed: bool) -> str | None:
        """Arm or disarm; arming restarts the rate limit from the measured position.

        Returns:
            None, or why arming was refused (then the controller stays disarmed).
        """
        refusal = self.arm_refusal() if armed else None
        if refusal:
            self.fault = refusal
            self.armed = False
            return refusal
        if armed and not self.armed and self.filter is not None:
            self.filter.reset(self.inputs.position)
            if self._history is not None:
                self._history.reset()
            self.timed_out = False
            self._last_command_time = None
        self.armed = armed
        return None

    def safe_command(self) -> np.ndarray | None:
        """The interface's safe command (None before a policy or, for position, any state).

        Position: hold the last safe command (else the measured position); velocity, effort,
        acceleration: zeros, which controllers that keep the last command need.
        """
        if self.filter is None:
            return None
        command = self.filter.safe_command(self.inputs.position)
        if command is not None:
            self.counts['safe_commands'] += 1
        return command

    # --- one control step --------------------------------------------------------------------
    def step(self, now: float | None = None) -> np.ndarray | None:
        """Compute the command for the latest state, or None when nothing must be sent.

        When the state or a needed input is stale this returns the safe command
        (:meth:`safe_command`) every step (``timeout_action: hold``) or once (``stop``); when a
        command cannot be computed (missing input, a raising network, a wrong-shaped or
        non-finite output) the safe command and a ``fault``.
        """
        now = time.monotonic() if now is None else now
        self.sample = None
        command = self._step(now)
        if command is not None:   # the next command's rate limit counts from this one
            self._last_command_time = now
        return command

    def _step(self, now: float) -> np.ndarray | None:
        self._swap_pending()
        if self.artifact is None:
            self.fault = 'no policy loaded (waiting for policy_path / policy_updates)'
            return None
        if not self.armed:
            return None
        if self.inputs.position is None:
            self.fault = 'waiting for joint_states with every policy joint'
            return None
        stale = self.stale_inputs(now)
        if self.stale(now) or stale:
            first = not self.timed_out
            if first:
                self.counts['timeouts' if self.stale(now) else 'input_timeouts'] += 1
            self.timed_out = True
            self.fault = (f'no fresh joint_states for more than {self.config.state_timeout} s'
                          if self.stale(now) else
                          '; '.join(f'no fresh {source} for more than '
                                    f'{self.config.timeout_of(source)} s' for source in stale))
            self._cached = None
            if self.config.timeout_action == 'hold' or first:
                return self.safe_command()
            return None
        if self.inputs.used and self._cached is not None \
                and self._cached[0] == self.inputs.stamp:
            return self._cached[1]
        self.timed_out = False
        if self.intake.take_episode_start():
            self.last_action = np.zeros(self.artifact.spec.action_dim)
            self.filter.reset(self.inputs.position)
            if self._history is not None:
                self._history.reset()
        command = self._compute(now)
        if command is not None:  # a failed step is retried on a re-sent state
            self.inputs.used = True
            self._cached = (self.inputs.stamp, command)
            return command
        return self.safe_command()

    def _compute(self, now: float) -> np.ndarray | None:
        artifact, inputs, history = self.artifact, self.inputs, self._history
        assert artifact is not None and self.filter is not None and history is not None
        spec = artifact.spec
        state = self._state   # one object, refilled: a dataclass __init__ less per step
        state.position, state.velocity, state.goal = inputs.position, inputs.velocity, inputs.goal
        state.cmd_vel, state.last_action, state.imu = inputs.cmd_vel, self.last_action, inputs.imu
        state.stamp = inputs.stamp or 0.0
        try:
            frame = build_observation(spec, state)
            # Taken into the history only once a command goes out (a failed step is retried).
            obs = history.peek_one(frame)
        except Exception as exc:  # noqa: BLE001 - any failure: a fault, never a crash
            self.fault = f'cannot build the observation: {exc}'
            return None
        if not all_finite(obs):
            self.counts['invalid_inputs'] += 1
            self.fault = 'observation contains NaN/Inf'
            return None
        start = time.perf_counter()
        try:   # any exception type (torch.jit.Error is no RuntimeError): a fault
            if self.config.explore:
                action, sample = artifact.explore_sample(obs)
            else:
                action = sample = artifact.act(obs)
            action = np.asarray(action, dtype=np.float64)
        except Exception as exc:  # noqa: BLE001
            self.counts['policy_errors'] += 1
            self.fault = f'policy raised {type(exc).__name__}: {str(exc)[:300]}'
            return None
        self.inference_ms.append(1e3 * (time.perf_counter() - start))
        if action.shape != (spec.action_dim,):
            self.counts['policy_errors'] += 1
            self.fault = (f'policy output has shape {action.shape}, expected '
                          f'({spec.action_dim},): one action per joint')
            return None
        if self.filter.last is None:
            self.filter.reset(inputs.position)
        # spec.action_to_command without its clamp: the filter clamps to the tighter limits,
        # and refuses a NaN/Inf action (the command is then non-finite too).
        command = self._scale * action
        command += self._offset
        last_time = self._last_command_time
        period = self.filter.control_period
        dt = period if last_time is None else min(period, max(now - last_time, 0.0))
        command = self.filter.apply(command, dt)
        if command is None:
            self.counts['nonfinite_actions'] += 1
            self.fault = 'policy produced NaN/Inf; holding'
            return None
        self.fault = None
        # The action the sent command maps back to; unchanged by the filter, the policy's own
        # (equal to float64 rounding): 5 ops less per step.
        self.last_action = spec.command_to_action(command) if self.filter.changed else action
        history.push_one(frame)
        self.counts['commands'] += 1
        if self.config.explore:
            self.sample = np.asarray(sample, dtype=np.float64)
        return command
