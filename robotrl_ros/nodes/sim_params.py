# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The sim bridge's parameters (docs/interfaces.md): defaults, descriptions and type checks.

Parameters are declared with dynamic typing and checked here, so the common YAML/CLI slips
(``goal:=[1,0,0]`` integers for floats, ``control_period:=1``) are accepted and a real type
error names the parameter instead of raising deep inside rclpy.
"""

from __future__ import annotations

import math
from typing import Any

#: name -> (default, kind, description). Kinds: str, bool, int, float, str_list, float_list,
#: int_list.
SIM_BRIDGE_PARAMETERS: dict[str, tuple[Any, str, str]] = {
    'task': ('reach', 'str', 'Task to simulate (robotrl_ros.tasks.registry.task_names()).'),
    'joints': ([], 'str_list', "Joint order of commands; empty = the task's order."),
    'command_topic': ('forward_position_controller/commands', 'str',
                      'Float64MultiArray command topic.'),
    'control_period': (0.0, 'float', "Real-time step period in s; 0 = the task's."),
    'lockstep': (False, 'bool', 'One control step per received command.'),
    'lockstep_republish_period': (0.2, 'float',
                                  'Republish the latest state after this long without a '
                                  'command (lockstep).'),
    'publish_clock': (False, 'bool', 'Publish the sim time on /clock.'),
    'seed': (0, 'int', 'Seeds episodes and randomization.'),
    'goal': ([], 'float_list', 'Fixed goal for every episode; empty = sample one.'),
    'auto_reset': (False, 'bool', 'Start a new episode when the task terminates/truncates.'),
    'dr_mass_scale': ([1.0, 1.0], 'float_list', 'Mass multiplier range [lo, hi].'),
    'dr_friction_scale': ([1.0, 1.0], 'float_list', 'Friction multiplier range [lo, hi].'),
    'dr_gain_scale': ([1.0, 1.0], 'float_list', 'Actuator gain multiplier range [lo, hi].'),
    'dr_latency_steps': ([0, 0], 'int_list', 'Command latency range in control steps.'),
    'dr_obs_noise_std': (0.0, 'float', 'Std of noise on published joint positions/velocities.'),
    'status_period': (1.0, 'float', 'Seconds between ~/status messages.'),
}


def _number(name: str, value: Any, kind: str) -> float | int:
    what = 'an integer' if kind == 'int' else 'a number'
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f'parameter {name!r} must be {what}, got {value!r}')
    if kind == 'int':
        if value != int(value):
            raise ValueError(f'parameter {name!r} must be an integer, got {value!r}')
        return int(value)
    if not math.isfinite(value):
        raise ValueError(f'parameter {name!r} must be finite, got {value!r}')
    return float(value)


def coerce_parameter(name: str, value: Any) -> Any:
    """Check and normalize one parameter value (ints accepted where floats are expected).

    Raises:
        ValueError: Naming the parameter, the expected type and the value received.
    """
    kind = SIM_BRIDGE_PARAMETERS[name][1]
    if kind == 'str':
        if not isinstance(value, str):
            raise ValueError(f'parameter {name!r} must be a string, got {value!r}')
        return value
    if kind == 'bool':
        if not isinstance(value, bool):
            raise ValueError(f'parameter {name!r} must be true or false, got {value!r}')
        return value
    if kind in ('int', 'float'):
        return _number(name, value, kind)
    if isinstance(value, (str, bytes)) and len(value) > 0 or not hasattr(value, '__len__'):
        raise ValueError(f'parameter {name!r} must be a list, got {value!r}')
    items = list(value)
    if kind == 'str_list':
        if not all(isinstance(v, str) for v in items):
            raise ValueError(f'parameter {name!r} must be a list of strings, got {items!r}')
        return items
    return [_number(name, v, kind[:-5]) for v in items]
