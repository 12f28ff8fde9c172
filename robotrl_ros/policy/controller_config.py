# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The policy controller's settings: the policy node's safety and behaviour parameters.

:class:`ControllerConfig` is validated when built, so a bad setting is refused (named) before a
controller uses it, at start and on a run-time change
(:meth:`~robotrl_ros.policy.controller.PolicyController.reconfigure`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: What a stale state or input makes the controller send: the safe command every step or once.
TIMEOUT_ACTIONS = ('hold', 'stop')
#: Inputs besides joint_states that a policy may need, each with its own timeout.
TIMED_INPUTS = ('goal_pose', 'cmd_vel', 'imu', 'base_twist')


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
