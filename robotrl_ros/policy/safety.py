# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The last line before a motor command leaves the policy node (DESIGN.md section 5).

:class:`CommandFilter` clamps every command to the joint limits shrunk by a margin, limits the
change per control step, and refuses non-finite values. It is pure NumPy so it is tested without
ROS, and the policy node cannot publish a command that did not pass through it.
"""

from __future__ import annotations

import numpy as np

from robotrl_ros.tasks.spec import TaskSpec
from robotrl_ros.util.finite import all_finite


class CommandFilter:
    """Make policy commands safe to send to the robot.

    Args:
        spec: Task spec giving joint limits (``command_lower``/``command_upper``) and the
            command interface.
        joint_limit_margin: Distance kept from each limit (same unit as the command).
        max_command_delta: Largest change of any joint's command between two published
            commands; 0 disables the limit.

    Raises:
        ValueError: Negative parameters, or a margin that leaves no room between the limits.
    """

    def __init__(self, spec: TaskSpec, joint_limit_margin: float = 0.0,
                 max_command_delta: float = 0.0) -> None:
        if not np.isfinite(joint_limit_margin) or joint_limit_margin < 0:
            raise ValueError(f'joint_limit_margin must be >= 0, got {joint_limit_margin}')
        if not np.isfinite(max_command_delta) or max_command_delta < 0:
            raise ValueError(f'max_command_delta must be >= 0 (0 = off), got {max_command_delta}')
        lower = np.asarray(spec.command_lower, dtype=np.float64) + joint_limit_margin
        upper = np.asarray(spec.command_upper, dtype=np.float64) - joint_limit_margin
        narrow = [name for name, lo, hi in zip(spec.joint_names, lower, upper, strict=True)
                  if lo > hi]
        if narrow:
            raise ValueError(f'joint_limit_margin {joint_limit_margin} is larger than half the '
                             f'command range of joint(s) {narrow}')
        self.joint_names = spec.joint_names
        self.lower = lower
        self.upper = upper
        self.max_delta = float(max_command_delta)
        self.position_interface = spec.command_interface == 'position'
        self.last: np.ndarray | None = None
        self.changed = False   # whether the last apply() clamped or rate-limited its command
        self.clamped = 0
        self.rate_limited = 0

    def reset(self, position: np.ndarray | None) -> None:
        """Restart the rate limit from the robot's current state (call on arming).

        For a position interface the first command moves at most ``max_command_delta`` away
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

    def apply(self, command: np.ndarray) -> np.ndarray | None:
        """Return the safe version of ``command``, or None if it is not finite or mis-sized.

        The returned command is within ``[lower, upper]`` and within ``max_command_delta`` of
        the previous returned command.
        """
        # np.minimum/np.maximum rather than np.clip: this runs on every control step.
        command = np.asarray(command, dtype=np.float64).reshape(-1)
        if command.shape[0] != self.lower.shape[0] or not all_finite(command):
            return None
        safe = np.maximum(command, self.lower)
        np.minimum(safe, self.upper, out=safe)
        self.changed = safe.tobytes() != command.tobytes()   # 2 us less than (!=).any()
        self.clamped += self.changed
        if self.max_delta > 0 and self.last is not None:
            limited = np.minimum(np.maximum(safe, self.last - self.max_delta),
                                 self.last + self.max_delta)
            if (limited != safe).any():
                self.rate_limited += 1
                self.changed = True
            safe = np.minimum(np.maximum(limited, self.lower), self.upper)
        self.last = safe
        return safe
