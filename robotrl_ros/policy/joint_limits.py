# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The robot's joint limits, from the robot and not from the policy artifact (DESIGN.md 5).

Two sources, each optional, combined joint by joint into the tighter bound:

- a URDF (the ``robot_description`` parameter): ``<limit lower upper velocity effort>`` of every
  revolute / prismatic / continuous joint (:func:`limits_from_urdf`);
- a YAML file in the style of ros2_control's ``joint_limits`` (:func:`limits_from_yaml`)::

      joint_limits:
        shoulder:
          has_position_limits: true
          min_position: -1.5
          max_position: 1.5
          has_velocity_limits: true
          max_velocity: 2.0
          has_acceleration_limits: false
          max_acceleration: 0.0
          has_effort_limits: true
          max_effort: 40.0

  (also accepted nested under ``<node>: ros__parameters:`` as ros2_control ships it).

:meth:`JointLimits.command_bounds` turns them into the bounds of a command for an interface:
position limits for ``position``, ``±velocity`` for ``velocity``, ``±effort`` for ``effort``,
``±acceleration`` for ``acceleration``. A bound the robot does not give is infinite.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

#: URDF joint types that move (fixed / floating / planar joints take no command).
MOVABLE_TYPES = ('revolute', 'continuous', 'prismatic')
LIMIT_KINDS = ('lower', 'upper', 'velocity', 'effort', 'acceleration')
_YAML_KEYS = {  # ros2_control flag -> (its value keys, our kinds)
    'has_position_limits': (('min_position', 'max_position'), ('lower', 'upper')),
    'has_velocity_limits': (('max_velocity',), ('velocity',)),
    'has_acceleration_limits': (('max_acceleration',), ('acceleration',)),
    'has_effort_limits': (('max_effort',), ('effort',)),
}


class JointLimitsError(ValueError):
    """A limits source cannot be used (the message names it, the joint and the field)."""


@dataclass(frozen=True)
class Limit:
    """One joint's limits (``inf`` where none is given; velocity/effort/acceleration >= 0)."""

    lower: float = -math.inf
    upper: float = math.inf
    velocity: float = math.inf
    effort: float = math.inf
    acceleration: float = math.inf

    def tighter(self, other: Limit) -> Limit:
        """The intersection of both limits."""
        return Limit(max(self.lower, other.lower), min(self.upper, other.upper),
                     min(self.velocity, other.velocity), min(self.effort, other.effort),
                     min(self.acceleration, other.acceleration))


@dataclass(frozen=True)
class JointLimits:
    """Limits per joint name and where they come from.

    Attributes:
        joints: Limits by joint name.
        sources: The sources they were read from (``robot_description``, a YAML path).
    """

    joints: Mapping[str, Limit] = field(default_factory=dict)
    sources: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.joints)

    def combine(self, other: JointLimits) -> JointLimits:
        """Both sources together: per joint the tighter of the two limits."""
        joints = dict(self.joints)
        for name, limit in other.joints.items():
            joints[name] = joints[name].tighter(limit) if name in joints else limit
        return JointLimits(joints, self.sources + other.sources)

    def command_bounds(self, joint_names: Sequence[str], interface: str
                       ) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper bound of a command for ``interface``, per joint (inf: none given)."""
        lower, upper = [], []
        for name in joint_names:
            limit = self.joints.get(name, Limit())
            if interface == 'position':
                low, high = limit.lower, limit.upper
            else:
                high = {'velocity': limit.velocity, 'effort': limit.effort,
                        'acceleration': limit.acceleration}.get(interface, math.inf)
                low = -high
            lower.append(low)
            upper.append(high)
        return np.array(lower, dtype=np.float64), np.array(upper, dtype=np.float64)

    def velocities(self, joint_names: Sequence[str]) -> np.ndarray:
        """Velocity limit per joint (inf: none given)."""
        return np.array([self.joints.get(name, Limit()).velocity for name in joint_names],
                        dtype=np.float64)

    def uncovered(self, joint_names: Sequence[str], interface: str) -> list[str]:
        """Joints whose commands for ``interface`` these limits do not bound.

        A position command is bounded by finite position limits, or (a continuous joint) by a
        finite velocity limit that bounds how fast the target may move.
        """
        lower, upper = self.command_bounds(joint_names, interface)
        speeds = self.velocities(joint_names)
        return [name for name, low, high, speed in zip(joint_names, lower, upper, speeds,
                                                       strict=True)
                if not (math.isfinite(low) and math.isfinite(high))
                and not (interface == 'position' and math.isfinite(speed))]


def limits_from_urdf(text: str, source: str = 'robot_description') -> JointLimits:
    """The limits of a URDF's movable joints (``<limit>``; ``velocity``/``effort`` 0 = none).

    Raises:
        JointLimitsError: Not URDF XML, or a limit that is not a number or not ordered.
    """
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise JointLimitsError(f'{source}: not URDF XML: {exc}') from exc
    if root.tag != 'robot':
        raise JointLimitsError(f'{source}: root element <{root.tag}>, expected a URDF <robot>')
    joints = {}
    for element in root.findall('joint'):
        kind, name = element.get('type', ''), element.get('name', '')
        if kind not in MOVABLE_TYPES:
            continue
        limit = element.find('limit')
        values = {}
        for attr in ('lower', 'upper', 'velocity', 'effort'):
            raw = None if limit is None else limit.get(attr)
            if raw is None:
                continue
            try:
                values[attr] = float(raw)
            except ValueError:
                raise JointLimitsError(f'{source}: joint {name!r}: limit {attr}={raw!r} is not '
                                       'a number') from None
        if kind == 'continuous':
            values.pop('lower', None)
            values.pop('upper', None)
        for attr in ('velocity', 'effort'):   # URDF: 0 (or absent) means not given
            if values.get(attr, 0.0) == 0.0:
                values.pop(attr, None)
        joints[name] = _checked(Limit(**values), f'{source}: joint {name!r}')
    return JointLimits(joints, (source,))


def limits_from_yaml(path: str | Path) -> JointLimits:
    """The limits in a ros2_control-style ``joint_limits`` YAML file (module docstring).

    Raises:
        JointLimitsError: Unreadable file, no ``joint_limits`` mapping, or a bad entry (named).
    """
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise JointLimitsError(f'joint_limits {path}: cannot read: {exc}') from exc
    section = _find_section(data)
    if section is None:
        raise JointLimitsError(f'joint_limits {path}: no `joint_limits:` mapping of joint names')
    joints = {}
    for name, entry in section.items():
        where = f'joint_limits {path}: joint {name!r}'
        if not isinstance(entry, Mapping):
            raise JointLimitsError(f'{where}: expected a mapping of has_*/max_* keys')
        values: dict[str, float] = {}
        for flag, (keys, kinds) in _YAML_KEYS.items():
            if not entry.get(flag, False):
                continue
            for key, kind in zip(keys, kinds, strict=True):
                values[kind] = _number(entry, key, where)
        for kind in ('velocity', 'effort', 'acceleration'):
            if kind in values:
                values[kind] = abs(values[kind])
        joints[str(name)] = _checked(Limit(**values), where)
    return JointLimits(joints, (str(path),))


def _find_section(data: Any) -> Mapping | None:
    """``joint_limits`` at the top, or under ``<node>: ros__parameters:`` (first found)."""
    if not isinstance(data, Mapping):
        return None
    if isinstance(data.get('joint_limits'), Mapping):
        return data['joint_limits']
    for value in data.values():
        params = value.get('ros__parameters') if isinstance(value, Mapping) else None
        if isinstance(params, Mapping) and isinstance(params.get('joint_limits'), Mapping):
            return params['joint_limits']
    return None


def _number(entry: Mapping, key: str, where: str) -> float:
    value = entry.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise JointLimitsError(f'{where}: {key} must be a number, got {value!r}')
    return float(value)


def _checked(limit: Limit, where: str) -> Limit:
    values = [getattr(limit, kind) for kind in LIMIT_KINDS]
    if any(math.isnan(v) for v in values):
        raise JointLimitsError(f'{where}: a limit is NaN')
    if limit.lower > limit.upper:
        raise JointLimitsError(f'{where}: lower limit {limit.lower} > upper {limit.upper}')
    if min(limit.velocity, limit.effort, limit.acceleration) < 0:
        raise JointLimitsError(f'{where}: velocity/effort limits must be >= 0')
    return limit


def load_node_limits(robot_description: str = '', joint_limits: str = '') -> JointLimits:
    """The robot's limits from a URDF text (or a ``.urdf`` file path) and/or a YAML file.

    Raises:
        JointLimitsError: A given source that cannot be read or parsed (named).
    """
    limits = JointLimits()
    if robot_description.strip():
        text = robot_description
        if not robot_description.lstrip().startswith('<'):
            try:
                text = Path(robot_description).read_text()
            except (OSError, UnicodeDecodeError) as exc:
                raise JointLimitsError(f'robot_description: neither URDF XML nor a readable '
                                       f'file: {exc}') from exc
        limits = limits.combine(limits_from_urdf(text))
    if joint_limits:
        limits = limits.combine(limits_from_yaml(joint_limits))
    return limits
