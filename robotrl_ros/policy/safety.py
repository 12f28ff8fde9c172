# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The last line before a motor command leaves the policy node (DESIGN.md section 5).

:class:`CommandFilter` clamps every command to the intersection of the artifact's command
limits and the robot's own (:class:`~robotrl_ros.policy.joint_limits.JointLimits`) shrunk by a
margin, limits how fast a command may change (``max_command_rate`` in units per second, and for
a position interface the joint's velocity limit: a target never moves faster than the joint
may), and refuses non-finite or mis-sized values. It is pure NumPy so it is tested without
ROS, and the policy node cannot publish a command that did not pass through it.
"""

from __future__ import annotations

import math

import numpy as np

from robotrl_ros.policy.joint_limits import JointLimits
from robotrl_ros.tasks.spec import TaskSpec
from robotrl_ros.util.finite import all_finite


def _non_negative(name: str, value: float, note: str = '') -> float:
    if not math.isfinite(value) or value < 0:
        raise ValueError(f'{name} must be >= 0{note}, got {value}')
    return float(value)


class CommandFilter:
    """Make policy commands safe to send to the robot.

    Args:
        spec: Task spec giving the artifact's command limits (``command_lower``/
            ``command_upper``) and the command interface.
        joint_limit_margin: Distance kept from each limit (same unit as the command).
        max_command_delta: Deprecated per-message limit of a joint command's change; 0 = off.
            Prefer ``max_command_rate``, whose meaning does not change with the message rate.
        node_limits: The robot's limits (URDF / joint_limits YAML); the clamp is their
            intersection with the artifact's. For a position interface their velocity limits
            also cap how far a target moves per second.
        max_command_rate: Largest change of a joint command per second; 0 = off.
        control_period: Seconds per step assumed when :meth:`apply` gets no ``dt``.

    Raises:
        ValueError: Negative parameters, or a margin that leaves no room between the limits.
    """

    def __init__(self, spec: TaskSpec, joint_limit_margin: float = 0.0,
                 max_command_delta: float = 0.0, *, node_limits: JointLimits | None = None,
                 max_command_rate: float = 0.0, control_period: float = 0.0) -> None:
        margin = _non_negative('joint_limit_margin', joint_limit_margin)
        self.max_delta = _non_negative('max_command_delta', max_command_delta, ' (0 = off)')
        rate = _non_negative('max_command_rate', max_command_rate, ' (0 = off)')
        self.control_period = _non_negative('control_period', control_period)
        lower = np.asarray(spec.command_lower, dtype=np.float64)
        upper = np.asarray(spec.command_upper, dtype=np.float64)
        self.position_interface = spec.command_interface == 'position'
        speeds = np.full(len(lower), np.inf)
        if node_limits:
            robot_lower, robot_upper = node_limits.command_bounds(spec.joint_names,
                                                                  spec.command_interface)
            lower, upper = np.maximum(lower, robot_lower), np.minimum(upper, robot_upper)
            if self.position_interface:
                speeds = node_limits.velocities(spec.joint_names)
        empty = [name for name, lo, hi in zip(spec.joint_names, lower, upper, strict=True)
                 if lo > hi]
        if empty:
            raise ValueError(f"the artifact's and the robot's command limits do not overlap "
                             f'for joint(s) {empty}')
        lower, upper = lower + margin, upper - margin
        narrow = [name for name, lo, hi in zip(spec.joint_names, lower, upper, strict=True)
                  if lo > hi]
        if narrow:
            raise ValueError(f'joint_limit_margin {joint_limit_margin} is larger than half the '
                             f'command range of joint(s) {narrow}')
        self.joint_names = spec.joint_names
        self.lower = lower
        self.upper = upper
        #: Largest change per second of each joint's command (inf = none).
        self.rate = np.minimum(speeds, rate if rate > 0 else np.inf)
        self._limited = self.max_delta > 0 or bool(np.isfinite(self.rate).any())
        self.last: np.ndarray | None = None
        self.changed = False   # whether the last apply() clamped or rate-limited its command
        self.clamped = 0
        self.rate_limited = 0

    def reset(self, position: np.ndarray | None) -> None:
        """Restart the rate limit from the robot's current state (call on arming).

        For a position interface the first command moves at most one step's allowance away
        from the measured ``position``; for velocity/effort/acceleration from zero. Pass the
        measured position again (or call :meth:`reset`) once it is known.
        """
        if not self.position_interface:
            self.last = self.stop_command()
        elif position is None:
            self.last = None      # unknown: the next apply() starts from its own command
        else:
            self.last = np.clip(np.asarray(position, dtype=np.float64), self.lower, self.upper)

    def stop_command(self) -> np.ndarray:
        """The 'no motion' command of a non-position interface: zero, clamped to the limits."""
        return np.clip(np.zeros(len(self.lower)), self.lower, self.upper)

    def safe_command(self, position: np.ndarray | None) -> np.ndarray | None:
        """The interface's safe command, which also becomes the rate limit's start.

        Position: hold the last safe command (or the measured ``position``, clamped, before
        any); None when neither is known. Velocity, effort, acceleration: zeros.
        """
        if not self.position_interface:
            self.last = self.stop_command()
        elif self.last is None and position is not None:
            self.reset(position)
        return None if self.last is None else self.last.copy()

    def max_step(self, dt: float | None = None) -> np.ndarray | float:
        """Largest change of each joint's command over ``dt`` seconds (the control period)."""
        dt = self.control_period if dt is None else max(float(dt), 0.0)
        step = self.rate * dt if dt > 0 else np.where(np.isfinite(self.rate), 0.0, np.inf)
        return np.minimum(step, self.max_delta) if self.max_delta > 0 else step

    def apply(self, command: np.ndarray, dt: float | None = None) -> np.ndarray | None:
        """Return the safe version of ``command``, or None if it is not finite or mis-sized.

        The returned command is within ``[lower, upper]`` and within :meth:`max_step` of the
        previous returned command, ``dt`` seconds ago (default: the control period).
        """
        # np.minimum/np.maximum rather than np.clip: this runs on every control step.
        command = np.asarray(command, dtype=np.float64)
        if command.shape != self.lower.shape or not all_finite(command):
            return None
        safe = np.maximum(command, self.lower)
        np.minimum(safe, self.upper, out=safe)
        self.changed = safe.tobytes() != command.tobytes()   # 2 us less than (!=).any()
        self.clamped += self.changed
        if self._limited and self.last is not None:
            step = self.max_step(dt)
            limited = np.minimum(np.maximum(safe, self.last - step), self.last + step)
            if (limited != safe).any():
                self.rate_limited += 1
                self.changed = True
            safe = np.minimum(np.maximum(limited, self.lower), self.upper)
        self.last = safe
        return safe
