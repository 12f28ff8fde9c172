# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The policy node's parameters: names, defaults, descriptions and type checks.

Every parameter is declared with ``dynamic_typing`` and checked here, so a wrong type (``-p
state_timeout:=fast``) or value gives one clear error naming the parameter, and an integer
where a float is expected (``state_timeout: 1``) is accepted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from rcl_interfaces.msg import ParameterDescriptor
from rclpy.node import Node

# name: (default, description)
PARAMETERS: dict[str, tuple[Any, str]] = {
    'policy_path': ('', 'Policy artifact directory (policy.pt + policy.yaml); empty: wait for '
                        'one on policy_updates.'),
    'command_topic': ('forward_position_controller/commands',
                      'Float64MultiArray command topic, in the artifact joint order.'),
    'control_mode': ('on_message', 'on_message: one command per joint_states message; timer: '
                                   'act every control_period on the latest state.'),
    'control_period': (0.0, 'Seconds between commands in timer mode (0 = the artifact\'s).'),
    'state_timeout': (0.5, 'Watchdog: seconds without fresh joint_states before the '
                           'timeout_action.'),
    'timeout_action': ('hold', 'hold: keep sending the last safe command (zero for velocity/'
                               'effort/acceleration interfaces); stop: send nothing (after one '
                               'zero command for those interfaces).'),
    'armed': (False, 'Start armed (command at once); otherwise wait for ~/enable.'),
    'explore': (False, 'Use the artifact\'s stochastic explore() instead of act().'),
    'max_command_delta': (0.0, 'Largest change of a joint command per step (0 = off).'),
    'joint_limit_margin': (0.0, 'Distance kept from each joint command limit.'),
    'joint_command_topic': ('', 'Also publish commands as sensor_msgs/JointState here '
                                '(empty = off).'),
    'watch_policy_file': (False, 'Reload policy_path when its files change.'),
    'status_period': (1.0, 'Seconds between ~/status JSON messages.'),
    'default_goal': ([], 'Goal (x, y, z) used until goal_pose arrives (empty = none).'),
    'reset_on_new_goal': (True, 'A changed goal_pose / cmd_vel starts a new episode: the next '
                                'state is answered with last_action zeroed and the rate limit '
                                'restarted from it (as the simulator\'s reset and the trainer '
                                'do); false for a joystick that steers one long episode.'),
    'executor': ('events', 'events: rclpy\'s EventsExecutor (C++, about half the CPU per '
                           'message); single_threaded: rclpy\'s SingleThreadedExecutor.'),
}

EXECUTORS = ('events', 'single_threaded')


class ParameterError(ValueError):
    """A parameter has the wrong type or an invalid value."""


@dataclass(frozen=True)
class PolicyNodeParams:
    """Validated parameter values."""

    policy_path: str
    command_topic: str
    control_mode: str
    control_period: float
    state_timeout: float
    timeout_action: str
    armed: bool
    explore: bool
    max_command_delta: float
    joint_limit_margin: float
    joint_command_topic: str
    watch_policy_file: bool
    status_period: float
    default_goal: tuple[float, ...]
    reset_on_new_goal: bool
    executor: str


def _typed(name: str, value: Any) -> Any:
    default = PARAMETERS[name][0]
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, float):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
        if ok and not math.isfinite(value):
            raise ParameterError(f'parameter {name!r} must be finite, got {value}')
    elif isinstance(default, str):
        ok = isinstance(value, str)
    else:  # list of floats
        value = [] if value is None else value
        ok = isinstance(value, (list, tuple)) and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
        value = tuple(float(v) for v in value) if ok else value
    if not ok:
        raise ParameterError(f'parameter {name!r} expects a {type(default).__name__}'
                             f'{" of numbers" if isinstance(default, list) else ""}, got '
                             f'{value!r} ({type(value).__name__})')
    return value


def declare_parameters(node: Node) -> PolicyNodeParams:
    """Declare all policy node parameters on ``node`` and return their validated values.

    Raises:
        ParameterError: Naming the parameter with a wrong type or value.
    """
    values = {}
    for name, (default, description) in PARAMETERS.items():
        descriptor = ParameterDescriptor(description=description, dynamic_typing=True)
        values[name] = _typed(name, node.declare_parameter(name, default, descriptor).value)
    params = PolicyNodeParams(**values)
    if params.control_mode not in ('on_message', 'timer'):
        raise ParameterError(f"parameter 'control_mode' must be on_message or timer, got "
                             f'{params.control_mode!r}')
    if params.timeout_action not in ('hold', 'stop'):
        raise ParameterError(f"parameter 'timeout_action' must be hold or stop, got "
                             f'{params.timeout_action!r}')
    for name in ('control_period', 'max_command_delta', 'joint_limit_margin'):
        if getattr(params, name) < 0:
            raise ParameterError(f'parameter {name!r} must be >= 0, got {getattr(params, name)}')
    for name in ('state_timeout', 'status_period'):
        if getattr(params, name) <= 0:
            raise ParameterError(f'parameter {name!r} must be > 0, got {getattr(params, name)}')
    if len(params.default_goal) not in (0, 2, 3):
        raise ParameterError(f"parameter 'default_goal' must be empty or 2-3 numbers, got "
                             f'{list(params.default_goal)}')
    if params.executor not in EXECUTORS:
        raise ParameterError(f"parameter 'executor' must be one of {list(EXECUTORS)}, got "
                             f'{params.executor!r}')
    if not params.command_topic:
        raise ParameterError("parameter 'command_topic' must not be empty")
    return params
