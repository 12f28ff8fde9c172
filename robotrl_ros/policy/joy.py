# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""A gamepad (``sensor_msgs/Joy``) for the policy node, mapped like teleop_twist_joy (no ROS).

The mapping is a YAML file (``joy_config``; '' = :data:`DEFAULT_MAPPING`), flat or nested
under ``<node>: ros__parameters:`` as teleop_twist_joy's configs are::

    enable_button: 0          # press: ~/enable true (passive -> stand -> policy)
    disarm_button: 1          # press: ~/enable false (back to passive, safe command)
    axis_linear: {x: 1, y: 0} # axes -> cmd_vel linear x / y
    scale_linear: {x: 0.5, y: 0.5}
    axis_angular: {yaw: 3}    # axis -> cmd_vel angular z
    scale_angular: {yaw: 1.0}

Buttons act on a press (released → pressed), never on a held button's first message. With
axes mapped the joystick drives ``cmd_vel``: ``cmd = (scale_x * axes[x], scale_y * axes[y],
scale_yaw * axes[yaw])``; once no Joy message arrived for ``joy_timeout`` seconds the joystick
is stale and :meth:`JoyInput.cmd_vel` is zero: the robot stops.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

#: Axes names per group, in cmd_vel order (linear x, linear y, angular z).
AXES = {'linear': ('x', 'y'), 'angular': ('yaw',)}
DEFAULT_MAPPING: dict[str, Any] = {
    'enable_button': 0, 'disarm_button': 1,
    'axis_linear': {'x': 1, 'y': 0}, 'scale_linear': {'x': 0.5, 'y': 0.5},
    'axis_angular': {'yaw': 3}, 'scale_angular': {'yaw': 1.0},
}
_KEYS = tuple(DEFAULT_MAPPING)


class JoyConfigError(ValueError):
    """A joystick mapping file cannot be used (the message names the file and the key)."""


@dataclass(frozen=True)
class JoyMapping:
    """Buttons and axes of a gamepad (module docstring); -1 = not mapped.

    Attributes:
        enable_button: Button index that enables.
        disarm_button: Button index that disables.
        axes: Axis index per cmd_vel entry (linear x, linear y, angular z), -1 = none.
        scales: Scale per cmd_vel entry.
        source: Where the mapping came from, for messages.
    """

    enable_button: int = 0
    disarm_button: int = 1
    axes: tuple[int, int, int] = (1, 0, 3)
    scales: tuple[float, float, float] = (0.5, 0.5, 1.0)
    source: str = 'the default mapping'

    @property
    def drives_cmd_vel(self) -> bool:
        """Whether any axis is mapped to cmd_vel."""
        return any(axis >= 0 for axis in self.axes)


def _index(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < -1:
        raise JoyConfigError(f'{where}: expected a button/axis index >= 0 (or -1 = none), got '
                             f'{value!r}')
    return value


def _scale(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or \
            not math.isfinite(value):
        raise JoyConfigError(f'{where}: expected a finite number, got {value!r}')
    return float(value)


def _group(data: dict[str, Any], key: str, group: str, where: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise JoyConfigError(f'{where}: {key}: expected a mapping of {list(AXES[group])}, got '
                             f'{value!r}')
    unknown = sorted(set(value) - set(AXES[group]))
    if unknown:
        raise JoyConfigError(f'{where}: {key}: unknown axis name(s) {unknown}; known: '
                             f'{list(AXES[group])}')
    return value


def joy_mapping_from_dict(data: Any, where: str = 'joy_config') -> JoyMapping:
    """Validate a parsed mapping (missing keys: no button / no axis, unlike the defaults).

    Raises:
        JoyConfigError: Naming ``where`` and the key at fault.
    """
    if isinstance(data, dict) and len(data) == 1:
        (only,) = data.values()
        if isinstance(only, dict) and set(only) == {'ros__parameters'}:
            data = only['ros__parameters']   # <node>: ros__parameters: (teleop_twist_joy style)
    if not isinstance(data, dict):
        raise JoyConfigError(f'{where}: expected a mapping of {list(_KEYS)}, got {data!r}')
    unknown = sorted(set(data) - set(_KEYS))
    if unknown:
        raise JoyConfigError(f'{where}: unknown key(s) {unknown}; known: {list(_KEYS)}')
    axes, scales = [], []
    for group, names in AXES.items():
        axis_map = _group(data, f'axis_{group}', group, where)
        scale_map = _group(data, f'scale_{group}', group, where)
        for name in names:
            axes.append(_index(axis_map.get(name, -1), f'{where}: axis_{group}.{name}'))
            scales.append(_scale(scale_map.get(name, 1.0), f'{where}: scale_{group}.{name}'))
    return JoyMapping(enable_button=_index(data.get('enable_button', -1),
                                           f'{where}: enable_button'),
                      disarm_button=_index(data.get('disarm_button', -1),
                                           f'{where}: disarm_button'),
                      axes=tuple(axes), scales=tuple(scales), source=where)


def load_joy_mapping(path: str | Path = '') -> JoyMapping:
    """The mapping in YAML file ``path`` ('' = :data:`DEFAULT_MAPPING`).

    Raises:
        JoyConfigError: Unreadable file, not YAML, or a bad key (named).
    """
    if not str(path):
        return joy_mapping_from_dict(DEFAULT_MAPPING, 'the default mapping')
    try:
        data = yaml.safe_load(Path(path).read_text())
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise JoyConfigError(f'joy_config {path}: cannot read: {exc}') from exc
    return joy_mapping_from_dict(data, f'joy_config {path}')


@dataclass
class JoyInput:
    """The latest gamepad state: button presses, cmd_vel, staleness.

    Args:
        mapping: Buttons and axes.
        timeout: Seconds without a message after which the joystick is stale (0 = never).
    """

    mapping: JoyMapping
    timeout: float
    received: float | None = None
    problem: str | None = None
    _buttons: tuple[int, ...] | None = None
    _cmd: np.ndarray = field(default_factory=lambda: np.zeros(3))

    def update(self, buttons: Sequence[int], axes: Sequence[float], now: float) -> list[str]:
        """Take a Joy message (arrived at ``now``); the presses: ``enable`` / ``disable``.

        A message too short for the mapping, or with non-finite axes, is refused
        (:attr:`problem` says why) and does not refresh the joystick.
        """
        m = self.mapping
        needed_buttons = max(m.enable_button, m.disarm_button) + 1
        needed_axes = max(m.axes) + 1
        if len(buttons) < needed_buttons or len(axes) < needed_axes:
            self.problem = (f'joy: message has {len(buttons)} buttons and {len(axes)} axes, '
                            f'{m.source} needs {needed_buttons} and {needed_axes}')
            return []
        values = np.array([axes[i] if i >= 0 else 0.0 for i in m.axes], dtype=np.float64)
        if not np.all(np.isfinite(values)):
            self.problem = f'joy: non-finite axes {list(axes)}'
            return []
        self.problem, self.received = None, now
        self._cmd = values * np.asarray(m.scales)
        pressed = [bool(buttons[i]) if i >= 0 else False
                   for i in (m.enable_button, m.disarm_button)]
        before = ([bool(self._buttons[i]) if i >= 0 else False
                   for i in (m.enable_button, m.disarm_button)]
                  if self._buttons is not None else pressed)
        self._buttons = tuple(int(b) for b in buttons)
        events = []
        if pressed[1] and not before[1]:     # disarm wins over enable in the same message
            events.append('disable')
        elif pressed[0] and not before[0]:
            events.append('enable')
        return events

    def stale(self, now: float) -> bool:
        """Whether a joystick that was heard from went quiet for longer than the timeout."""
        return self.received is not None and self.timeout > 0 and \
            now - self.received > self.timeout

    def cmd_vel(self, now: float) -> np.ndarray:
        """The velocity command (linear x, y, angular z); zeros when stale."""
        return np.zeros(3) if self.stale(now) else self._cmd.copy()

    def state(self, now: float) -> str:
        """``waiting`` (no message yet), ``stale`` or ``fresh``."""
        return 'waiting' if self.received is None else 'stale' if self.stale(now) else 'fresh'
