# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The policy node's control modes without ROS: ``passive`` → ``stand`` → ``policy``.

Legged deploy stacks never hand a robot to a policy from wherever it lies: they stand it up
first. :class:`ModeMachine` does the same:

- ``passive``: no command (position, velocity, acceleration interfaces), or damping only
  (``effort = -kd * velocity``, an effort interface with the robot's ``kd``);
- ``stand``: a straight line from the measured pose at the start of the stand to the default
  pose, over ``stand_duration`` seconds or longer where a joint's velocity limit needs it (a
  set-point never moves faster than the joint may); position targets, or for an effort interface
  ``kp * (set-point - position) - kd * velocity`` with the robot's gains. It ends when the line
  is done and every joint is within ``stand_tolerance`` of the default pose and a policy is
  there; without a policy the robot keeps standing;
- ``policy``: the policy controller commands.

``enable(True)`` goes passive → stand (or straight to policy without a stand target, with
``stand_on_enable`` false or an interface the stand cannot drive); ``enable(False)`` goes back
to passive (the caller publishes the interface's safe command first). The line advances with
the joint states' stamps (the robot's clock: sim time in a simulator), so it pauses when states
stop; unstamped states use the node's clock.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

MODES = ('passive', 'stand', 'policy')
#: Interfaces a stand can drive (a position set-point, or a PD law on it).
STAND_INTERFACES = ('position', 'effort')
#: Control period of a stand without a policy (the node's ``control_period`` 0).
NO_POLICY_CONTROL_PERIOD = 0.02
#: Longest time one stand step advances the line: a gap in the states never jumps ahead.
MAX_STAND_STEP = 0.1


@dataclass(frozen=True)
class StandTarget:
    """Where the stand goes, in command order.

    Attributes:
        joint_names: The joints (command order).
        pose: Default pose (inside the position limits).
        velocity_limits: Fastest a set-point may move per joint (``inf``: no limit).
        interface: The command interface.
        kp: Stiffness (effort interface), else None.
        kd: Damping (effort interface; passive damping), else None.
        source: Where the pose came from, for messages.
    """

    joint_names: tuple[str, ...]
    pose: np.ndarray
    velocity_limits: np.ndarray
    interface: str = 'position'
    kp: np.ndarray | None = None
    kd: np.ndarray | None = None
    source: str = ''

    def __post_init__(self) -> None:
        n = len(self.joint_names)
        for name in ('pose', 'velocity_limits', 'kp', 'kd'):
            value = getattr(self, name)
            if value is not None and np.shape(value) != (n,):
                raise ValueError(f'stand target {name}: expected {n} values (one per joint '
                                 f'{list(self.joint_names)}), got shape {np.shape(value)}')
        if not np.all(np.isfinite(self.pose)):
            raise ValueError(f'stand target pose must be finite, got {self.pose.tolist()}')
        if np.any(self.velocity_limits <= 0):
            raise ValueError(f'stand target velocity limits must be > 0, got '
                             f'{self.velocity_limits.tolist()}')

    @property
    def refusal(self) -> str | None:
        """Why this target cannot be stood up to (None: it can)."""
        if self.interface not in STAND_INTERFACES:
            return (f'no stand on a {self.interface} interface (a stand drives position '
                    'set-points)')
        if self.interface == 'effort' and (self.kp is None or self.kd is None):
            return 'no stand on an effort interface without the robot\'s kp and kd'
        return None


class StandLine:
    """The stand's set-points: from ``start`` to ``target.pose`` in :attr:`duration` seconds."""

    def __init__(self, start: np.ndarray, target: StandTarget, stand_duration: float) -> None:
        self.start = np.asarray(start, dtype=np.float64).copy()
        self.delta = target.pose - self.start
        slowest = np.abs(self.delta) / target.velocity_limits   # inf limit: 0
        self.duration = max(float(stand_duration), float(np.max(slowest, initial=0.0)))
        self.elapsed = 0.0

    @property
    def done(self) -> bool:
        """Whether the set-point reached the target pose."""
        return self.elapsed >= self.duration

    @property
    def progress(self) -> float:
        """Fraction of the line done, 0..1."""
        return 1.0 if self.duration <= 0 else min(1.0, self.elapsed / self.duration)

    def advance(self, dt: float) -> np.ndarray:
        """Move ``dt`` seconds along the line; the set-point there."""
        self.elapsed += max(0.0, dt)
        return self.start + self.progress * self.delta


class ModeMachine:
    """passive / stand / policy (module docstring).

    Args:
        stand_duration: Seconds the stand takes at least.
        stand_tolerance: Largest joint error (command units) from the default pose at which the
            policy may start.
        stand_on_enable: Whether ``enable(True)`` stands the robot up before the policy.
    """

    def __init__(self, stand_duration: float = 2.0, stand_tolerance: float = 0.3,
                 stand_on_enable: bool = True) -> None:
        for name, value in (('stand_duration', stand_duration),
                            ('stand_tolerance', stand_tolerance)):
            if not math.isfinite(value) or value < 0:
                raise ValueError(f'{name} must be >= 0, got {value}')
        self.stand_duration = float(stand_duration)
        self.stand_tolerance = float(stand_tolerance)
        self.stand_on_enable = stand_on_enable
        self.mode = 'passive'
        self.target: StandTarget | None = None
        self.line: StandLine | None = None
        self.note: str | None = None          # why the last enable skipped the stand
        self.last_command: np.ndarray | None = None
        self._last_time: float | None = None

    def enable(self, on: bool, target: StandTarget | None = None) -> str:
        """Enable (passive → stand or policy) or disable (→ passive); the new mode."""
        if not on:
            self.mode, self.line, self.target, self._last_time = 'passive', None, None, None
            return self.mode
        if self.mode != 'passive':
            return self.mode
        self.note = None
        if self.stand_on_enable:
            self.note = ('no default pose known (no policy, no robot)' if target is None
                         else target.refusal)
        if self.stand_on_enable and self.note is None:
            self.mode, self.target, self.line = 'stand', target, None
            self.last_command = None
        else:
            self.mode = 'policy'
        return self.mode

    def start_policy(self) -> None:
        """Hand over to the policy (the stand is done or skipped)."""
        self.mode, self.line, self.target = 'policy', None, None

    def retarget(self, target: StandTarget) -> None:
        """Stand to ``target`` instead (a new policy's pose or joint order): a new line."""
        if self.mode == 'stand' and (self.target is None or
                                     self.target.joint_names != target.joint_names or
                                     not np.array_equal(self.target.pose, target.pose)):
            self.target, self.line = target, None

    def stand_command(self, position: np.ndarray, velocity: np.ndarray, stamp: float,
                      now: float) -> np.ndarray:
        """The stand's command for the latest state (``stamp`` 0: time by ``now``)."""
        assert self.mode == 'stand' and self.target is not None
        clock = stamp if stamp > 0 else now
        if self.line is None:
            self.line, self._last_time = StandLine(position, self.target,
                                                   self.stand_duration), clock
        dt = min(MAX_STAND_STEP, max(0.0, clock - (self._last_time or clock)))
        self._last_time = clock
        set_point = self.line.advance(dt)
        if self.target.interface == 'effort':
            command = self.target.kp * (set_point - position) - self.target.kd * velocity
        else:
            command = set_point
        self.last_command = command
        return command

    def stood(self, position: np.ndarray | None) -> bool:
        """Whether the line is done and every joint is within ``stand_tolerance`` of the pose."""
        return (self.mode == 'stand' and self.line is not None and self.line.done and
                position is not None and self.target is not None and
                float(np.max(np.abs(position - self.target.pose))) <= self.stand_tolerance)

    def passive_command(self, velocity: np.ndarray | None, interface: str,
                        kd: np.ndarray | None) -> np.ndarray | None:
        """Passive: damping only for an effort interface with ``kd``, else no command."""
        if interface != 'effort' or kd is None or velocity is None:
            return None
        return -kd * velocity

    def safe_command(self, position: np.ndarray | None) -> np.ndarray | None:
        """The stand's safe command: hold the last set-point (position) or zeros (effort)."""
        if self.target is not None and self.target.interface == 'effort':
            return np.zeros(len(self.target.joint_names))
        if self.last_command is not None:
            return self.last_command.copy()
        return None if position is None else np.asarray(position, dtype=np.float64).copy()

    def status_fields(self) -> dict:
        """``mode``, the stand's progress and why a stand was skipped."""
        return {'mode': self.mode,
                'stand_progress': None if self.line is None else round(self.line.progress, 3),
                'stand_note': self.note}
