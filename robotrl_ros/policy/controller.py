# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The policy node's control logic without ROS: state intake, watchdog, arming, one step.

The node converts messages and calls :class:`PolicyController`; everything that decides what
is published lives here and is unit-tested:

- freshness is judged by arrival time; states with older stamps than the last accepted one are
  rejected (a repeated stamp is a re-sent sample: its cached command is answered again without
  stepping the policy twice), as are stamps that jump more than ``max_stamp_jump``; once no state
  was accepted for ``state_timeout`` the next one starts a new stamp baseline (a restarted
  clock, one bad stamp never locks the node out);
- commands are only produced while armed, with a policy loaded, fresh state (watchdog), every
  needed input fresh (``input_timeout``) and present; each goes through
  :class:`~robotrl_ros.policy.safety.CommandFilter`, whose limits are the intersection of the
  robot's (:class:`~robotrl_ros.policy.joint_limits.JointLimits`) and the artifact's;
- whenever no valid command exists (stale input, an observation that cannot be built, a network
  that raises or answers with the wrong shape or NaN) the step returns the interface's safe
  command (:meth:`PolicyController.safe_command`: hold the last safe position, or zeros);
- without the robot's limits the controller refuses to arm unless ``trust_artifact_limits``,
  and it refuses limits that leave a joint of the policy unbounded; limits that arrive later (a
  ``robot_description`` topic) or change are installed by
  :meth:`PolicyController.set_node_limits`;
- a new artifact is swapped in only at the start of a step (:meth:`PolicyController.offer`);
  one for other joints, another command interface or command input, or with limits wider than
  the robot's, is refused;
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
from robotrl_ros.policy.joint_limits import JointLimits
from robotrl_ros.policy.metadata import TERM_SOURCES
from robotrl_ros.policy.safety import CommandFilter
from robotrl_ros.policy.sample_window import SampleWindow
from robotrl_ros.tasks.observation import RobotState, build_observation
from robotrl_ros.util.finite import all_finite

TIMEOUT_ACTIONS = ('hold', 'stop')
COUNTERS = ('states', 'commands', 'safe_commands', 'invalid_inputs', 'dropped_inputs',
            'non_monotonic', 'stamp_jumps', 'stamp_resets', 'repeated_states',
            'nonfinite_actions', 'policy_errors', 'timeouts', 'input_timeouts', 'reloads',
            'reload_failures', 'episodes', 'limits_updates')
#: Inputs besides joint_states that a policy may need, each with its own timeout.
TIMED_INPUTS = ('goal_pose', 'cmd_vel', 'imu', 'base_twist')
#: Slack when comparing an artifact's limits to the robot's (YAML round trips).
LIMIT_TOLERANCE = 1e-9


@dataclass
class ControllerConfig:
    """Safety and behaviour settings (the policy node's parameters of the same names)."""

    state_timeout: float = 0.5
    timeout_action: str = 'hold'
    joint_limit_margin: float = 0.0
    max_command_delta: float = 0.0
    max_command_rate: float = 0.0
    control_period: float = 0.0            # 0 = the artifact's
    explore: bool = False
    default_goal: tuple[float, ...] = ()
    reset_on_new_goal: bool = True
    trust_artifact_limits: bool = False
    input_timeout: float = 0.0             # 0 = inputs other than joint_states never go stale
    input_timeouts: dict[str, float] = field(default_factory=dict)   # per input; 0 = never
    max_stamp_jump: float = 0.0            # 0 = any forward jump is accepted

    def timeout_of(self, source: str) -> float:
        """Seconds after which input ``source`` is stale (0 = never)."""
        value = self.input_timeouts.get(source, -1.0)
        return self.input_timeout if value < 0 else value

    def __post_init__(self) -> None:
        if self.timeout_action not in TIMEOUT_ACTIONS:
            raise ValueError(f'timeout_action must be one of {list(TIMEOUT_ACTIONS)}, got '
                             f'{self.timeout_action!r}')
        if not np.isfinite(self.state_timeout) or self.state_timeout <= 0:
            raise ValueError(f'state_timeout must be > 0 s, got {self.state_timeout}')
        if len(self.default_goal) not in (0, 2, 3) or not np.all(np.isfinite(self.default_goal)):
            raise ValueError(f'default_goal must be empty or 2-3 finite numbers, got '
                             f'{list(self.default_goal)}')
        for name, value in (('input_timeout', self.input_timeout),
                            ('max_stamp_jump', self.max_stamp_jump),
                            ('control_period', self.control_period)):
            if not np.isfinite(value) or value < 0:
                raise ValueError(f'{name} must be >= 0 s, got {value}')
        unknown = set(self.input_timeouts) - set(TIMED_INPUTS)
        if unknown:
            raise ValueError(f'input_timeouts: unknown input(s) {sorted(unknown)}; known: '
                             f'{list(TIMED_INPUTS)}')


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
        self.config = config
        self.node_limits = node_limits or JointLimits()
        self.artifact: PolicyArtifact | None = None
        self.filter: CommandFilter | None = None
        self.armed = False
        self.fault: str | None = None        # why no command can be produced right now
        self.timed_out = False
        self.inputs = Inputs()
        self.counts = dict.fromkeys(COUNTERS, 0)
        self.inference_ms = SampleWindow(2000)
        self.last_action: np.ndarray | None = None
        self.limits_note: str | None = None    # how the artifact's limits were narrowed
        #: Why the robot's limits are missing (e.g. awaited on a topic), for the refusal message.
        self.limits_awaited: str | None = None
        #: Why the robot's limits cannot be used now (an unusable description): arming refused.
        self.limits_refusal: str | None = None
        self._arm_when_limits = False   # armed: true at start, deferred until limits arrive
        self._needed: tuple[str, ...] = ()     # timed inputs the running policy reads
        self._last_command_time: float | None = None
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
        new, where = artifact.spec, f'new policy {artifact.path}'
        if current is not None:
            old = current.spec
            for attr in ('joint_names', 'command_interface', 'command_input'):
                if getattr(new, attr) != getattr(old, attr):
                    raise ValueError(f'{where} has {attr} {_shown(getattr(new, attr))}, the '
                                     f'running one {_shown(getattr(old, attr))}: refused')
            wider = self._wider_than_robot(new)
            if wider:
                raise ValueError(f"{where}: command limits wider than the robot's for "
                                 f'{"; ".join(wider)}: refused')
        self._new_filter(artifact, self.config)   # raises for limits that do not overlap
        self._pending = artifact

    def _wider_than_robot(self, spec: Any) -> list[str]:
        """``joint [lo, hi] > robot [lo, hi]`` for each joint whose limits exceed the robot's."""
        if not self.node_limits:
            return []
        low, high = self.node_limits.command_bounds(spec.joint_names, spec.command_interface)
        return [f'{name} [{lo:g}, {hi:g}] > robot [{rlo:g}, {rhi:g}]'
                for name, lo, hi, rlo, rhi in zip(spec.joint_names, spec.command_lower,
                                                  spec.command_upper, low, high, strict=True)
                if lo < rlo - LIMIT_TOLERANCE or hi > rhi + LIMIT_TOLERANCE]

    def _new_filter(self, artifact: PolicyArtifact, config: ControllerConfig) -> CommandFilter:
        """A filter for ``artifact`` and ``config`` that continues the current one's state."""
        new_filter = CommandFilter(artifact.spec, config.joint_limit_margin,
                                   config.max_command_delta, node_limits=self.node_limits,
                                   max_command_rate=config.max_command_rate,
                                   control_period=self._period(artifact, config))
        if self.filter is not None:   # continue from the last command, inside the new limits
            last = self.filter.last
            new_filter.last = None if last is None else \
                np.minimum(np.maximum(last, new_filter.lower), new_filter.upper)
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

    @staticmethod
    def _period(artifact: PolicyArtifact, config: ControllerConfig) -> float:
        return config.control_period or artifact.spec.control_period

    def _install(self, artifact: PolicyArtifact) -> None:
        self.artifact, self.filter = artifact, self._new_filter(artifact, self.config)
        spec = artifact.spec
        self._needed = tuple(sorted({TERM_SOURCES.get(term.name) for term in spec.observation}
                                    & set(TIMED_INPUTS)))
        self._note_limits()
        refusal = self.arm_refusal() if self.armed else None
        if refusal:   # armed before this (first) policy: its joints must be bounded too
            self.armed, self.fault = False, refusal
        self._offset = np.asarray(spec.action_offset, dtype=np.float64)
        self._scale = np.asarray(spec.action_scale, dtype=np.float64)
        if self.last_action is None or self.last_action.shape[0] != artifact.spec.action_dim:
            self.last_action = np.zeros(artifact.spec.action_dim)
        self._cached = None

    def _note_limits(self) -> None:
        wider = self._wider_than_robot(self.artifact.spec)
        self.limits_note = (f"artifact limits clamped to the robot's for {'; '.join(wider)}"
                            if wider else None)

    def set_node_limits(self, limits: JointLimits) -> None:
        """Install new robot limits (a robot description that arrived or changed) at once.

        The running policy's filter is rebuilt with them, keeping its last command (the rate
        limit continues); the next command is clamped to the new limits. A start with
        ``armed: true`` that waited for limits arms now if nothing else refuses it.

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
            self._note_limits()
        if self._arm_when_limits and self.arm_refusal() is None:
            self.arm(True)

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

    def stale_inputs(self, now: float) -> list[str]:
        """Needed inputs (besides joint_states) older than their timeout."""
        stale = []
        for source in self._needed:
            timeout = self.config.timeout_of(source)
            arrived = self.inputs.arrived.get(source)
            if timeout > 0 and arrived is not None and now - arrived > timeout:
                stale.append(source)
        return stale

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
    def arm_refusal(self) -> str | None:
        """Why arming is refused now (None: it is allowed)."""
        if self.limits_refusal:
            return self.limits_refusal
        if self.config.trust_artifact_limits:
            return None
        if not self.node_limits:
            awaited = f'{self.limits_awaited}; or ' if self.limits_awaited else ''
            return (f'no robot limits ({awaited}set robot_description and/or joint_limits; '
                    'trust_artifact_limits: true only for a simulator): refusing to arm')
        spec = self.artifact.spec if self.artifact is not None else None
        uncovered = self.node_limits.uncovered(spec.joint_names, spec.command_interface) \
            if spec is not None else []
        if uncovered:
            return (f"the robot's limits ({', '.join(self.node_limits.sources)}) do not bound "
                    f'the {spec.command_interface} commands of joint(s) {uncovered}: refusing '
                    'to arm')
        return None

    def arm(self, armed: bool, defer_until_limits: bool = False) -> str | None:
        """Arm or disarm; arming restarts the rate limit from the measured position.

        Args:
            armed: Arm (True) or disarm.
            defer_until_limits: If arming is refused only because the robot's limits have
                not arrived yet, arm once :meth:`set_node_limits` brings them (the node's
                ``armed: true`` at start). A disarm cancels that; a refused arm does not.

        Returns:
            None, or why arming was refused (then the controller stays disarmed).
        """
        refusal = self.arm_refusal() if armed else None
        if refusal:
            self.fault = refusal
            self.armed = False
            self._arm_when_limits = self._arm_when_limits or (
                defer_until_limits and not self.node_limits and self.limits_awaited is not None
                and not self.limits_refusal)
            return refusal
        self._arm_when_limits = False
        if armed and not self.armed and self.filter is not None:
            self.filter.reset(self.inputs.position)
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

    def stop_command(self) -> np.ndarray | None:
        """The safe command (kept for callers of the former name)."""
        return self.safe_command()

    # --- one control step --------------------------------------------------------------------
    def step(self, now: float | None = None) -> np.ndarray | None:
        """Compute the command for the latest state, or None when nothing must be sent.

        When the state or a needed input is stale this returns the safe command
        (:meth:`safe_command`) every step (``timeout_action: hold``) or once (``stop``); when a
        command cannot be computed (missing input, a raising network, a wrong-shaped or
        non-finite output) the safe command and a ``fault``.
        """
        now = time.monotonic() if now is None else now
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
        if self._episode_start:
            self._episode_start = False
            self.last_action = np.zeros(self.artifact.spec.action_dim)
            self.filter.reset(self.inputs.position)
        command = self._compute(now)
        if command is not None:  # a failed step is retried on a re-sent state
            self.inputs.used = True
            self._cached = (self.inputs.stamp, command)
            return command
        return self.safe_command()

    def hold_command(self) -> np.ndarray | None:
        """The safe command (kept for callers of the former name)."""
        return self.safe_command()

    def _compute(self, now: float) -> np.ndarray | None:
        artifact, inputs = self.artifact, self.inputs
        assert artifact is not None and self.filter is not None
        spec = artifact.spec
        state = self._state   # one object, refilled: a dataclass __init__ less per step
        state.position, state.velocity, state.goal = inputs.position, inputs.velocity, inputs.goal
        state.cmd_vel, state.last_action, state.imu = inputs.cmd_vel, self.last_action, inputs.imu
        state.stamp = inputs.stamp or 0.0
        try:
            obs = build_observation(spec, state)
        except Exception as exc:  # noqa: BLE001 - any failure: a fault, never a crash
            self.fault = f'cannot build the observation: {exc}'
            return None
        if not all_finite(obs):
            self.counts['invalid_inputs'] += 1
            self.fault = 'observation contains NaN/Inf'
            return None
        start = time.perf_counter()
        try:   # any exception type (torch.jit.Error is no RuntimeError): a fault
            action = artifact.explore(obs) if self.config.explore else artifact.act(obs)
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
        self.counts['commands'] += 1
        return command


def _shown(value: Any) -> str:
    return repr(list(value)) if isinstance(value, tuple) else repr(value)
