# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""A robot is a YAML file: which description to import and how its joints are driven.

A robot file (``config/robots/<name>.yaml`` for the built-ins, or any path)::

    description: package://pybullet_data/a1/a1.urdf   # URDF, *.xacro or MJCF
    base: floating                 # floating | fixed
    joints: [FR_hip_joint, ...]    # command order; default: every actuated joint, URDF order
    default_pose: {'*_hip_joint': 0.0, FR_upper_joint: 0.8}   # names or fnmatch patterns
    kp: 20.0                       # number, or {pattern: value}
    kd: 0.5
    effort_limit: {}               # overrides of the description's limits (same forms)
    velocity_limit: {}
    armature: 0.0                  # reflected rotor inertia added to each joint
    imu_link: trunk                # IMU sensors go here (floating bases; default base_link)
    base_link: trunk               # default: the description's root link
    feet: [FR_toe, ...]            # links (contact terms)
    ee_link: null                  # arms
    timestep: 0.002                # physics step (s)

:func:`load_robot` reads and validates a file; every error names the file and the key. Joint
names are checked against the description when it is imported
(:mod:`robotrl_ros.tasks.robots.importer`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

PACKAGE = 'robotrl_ros'
BASE_TYPES = ('floating', 'fixed')
#: Keys whose value is a number or a {joint name or fnmatch pattern: number} mapping.
PER_JOINT_KEYS = ('default_pose', 'kp', 'kd', 'effort_limit', 'velocity_limit', 'armature')


class RobotConfigError(ValueError):
    """A robot file is missing, malformed, or names an unknown key or a bad value."""


PerJoint = dict[str, float]


@dataclass(frozen=True)
class RobotConfig:
    """One robot: its description and actuator model (see the module docstring for the YAML).

    Attributes:
        name: Robot name (the file's stem unless ``name:`` is given).
        description: The description: a path (relative to ``source``'s directory),
            ``package://pkg/path``, ``file://``, or a built-in robot's name.
        base: ``floating`` (a free joint is added) or ``fixed`` (welded to the world).
        joints: Commanded joints in command order; empty = every actuated joint, URDF order.
        default_pose: Joint position per name or pattern (unlisted joints: 0 clamped into limits).
        kp: Servo stiffness (N·m/rad or N/m) per name or pattern (``'*'`` for all).
        kd: Servo damping per name or pattern.
        effort_limit: Force limit overrides (default: the description's ``effort``).
        velocity_limit: Velocity limit overrides (default: the description's ``velocity``).
        armature: Rotor inertia added to the joints.
        imu_link: Link carrying the IMU sensors ('' = ``base_link``).
        base_link: The base link ('' = the description's root link).
        feet: Foot links, for contact terms.
        ee_link: End-effector link of an arm ('' = none).
        timestep: Physics time step in seconds.
        xacro_args: Arguments for a xacro description (``name:=value``).
        source: The file this config was read from ('' when built in code).
    """

    name: str
    description: str
    base: str = 'fixed'
    joints: tuple[str, ...] = ()
    default_pose: PerJoint = field(default_factory=dict)
    kp: PerJoint = field(default_factory=lambda: {'*': 100.0})
    kd: PerJoint = field(default_factory=lambda: {'*': 10.0})
    effort_limit: PerJoint = field(default_factory=dict)
    velocity_limit: PerJoint = field(default_factory=dict)
    armature: PerJoint = field(default_factory=dict)
    imu_link: str = ''
    base_link: str = ''
    feet: tuple[str, ...] = ()
    ee_link: str = ''
    timestep: float = 0.002
    xacro_args: dict[str, str] = field(default_factory=dict)
    source: str = ''

    @property
    def floating(self) -> bool:
        """Whether the base is free (legged robots) rather than welded to the world."""
        return self.base == 'floating'

    @property
    def where(self) -> str:
        """The file name used in error messages."""
        return self.source or f'robot {self.name!r}'

    def to_dict(self) -> dict[str, Any]:
        """Plain data (YAML/JSON) of every field but ``source``."""
        data: dict[str, Any] = {}
        for f in fields(self):
            if f.name == 'source':
                continue
            value = getattr(self, f.name)
            data[f.name] = list(value) if isinstance(value, tuple) else value
        return data


_KEYS = {f.name for f in fields(RobotConfig)} - {'source'}


def _fail(where: str, key: str, message: str) -> RobotConfigError:
    return RobotConfigError(f'{where}: {key}: {message}')


def _per_joint(where: str, key: str, value: Any, positive: bool) -> PerJoint:
    """Normalize a number or a {name or pattern: number} mapping."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = {'*': value}
    if not isinstance(value, dict):
        raise _fail(where, key, f'expected a number or a mapping joint -> number, got {value!r}')
    out: PerJoint = {}
    for name, number in value.items():
        if not isinstance(name, str) or not name:
            raise _fail(where, key, f'joint names must be strings, got {name!r}')
        if isinstance(number, bool) or not isinstance(number, (int, float)) or \
                not math.isfinite(number):
            raise _fail(where, f'{key}.{name}', f'expected a finite number, got {number!r}')
        if positive and number < 0:
            raise _fail(where, f'{key}.{name}', f'must be >= 0, got {number!r}')
        out[name] = float(number)
    return out


def _names(where: str, key: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) and v for v in value):
        raise _fail(where, key, f'expected a list of names, got {value!r}')
    if len(set(value)) != len(value):
        raise _fail(where, key, f'names repeat: {list(value)}')
    return tuple(value)


def _text(where: str, key: str, value: Any) -> str:
    if value is None:
        return ''
    if not isinstance(value, str):
        raise _fail(where, key, f'expected a string, got {value!r}')
    return value


def robot_config_from_dict(data: dict[str, Any], name: str, source: str = '') -> RobotConfig:
    """Validate plain data (a parsed robot file) into a :class:`RobotConfig`.

    Args:
        data: The mapping read from YAML.
        name: Robot name used unless ``data`` has ``name``.
        source: File the data came from (named in errors).

    Raises:
        RobotConfigError: Unknown key or bad value, naming ``source`` and the key.
    """
    where = source or f'robot {name!r}'
    if not isinstance(data, dict):
        raise RobotConfigError(f'{where}: expected a mapping of robot settings, got '
                               f'{type(data).__name__}')
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise _fail(where, unknown[0], f'unknown key; known keys: {", ".join(sorted(_KEYS))}')
    if 'description' not in data:
        raise _fail(where, 'description', 'missing (a URDF, xacro or MJCF file or a robot name)')
    kwargs: dict[str, Any] = {'name': _text(where, 'name', data.get('name', name)) or name,
                              'source': source}
    kwargs['description'] = _text(where, 'description', data['description'])
    if not kwargs['description']:
        raise _fail(where, 'description', 'must not be empty')
    base = data.get('base', 'fixed')
    if base not in BASE_TYPES:
        raise _fail(where, 'base', f'must be one of {", ".join(BASE_TYPES)}, got {base!r}')
    kwargs['base'] = base
    for key in ('joints', 'feet'):
        if data.get(key) is not None:
            kwargs[key] = _names(where, key, data[key])
    for key in ('imu_link', 'base_link', 'ee_link'):
        kwargs[key] = _text(where, key, data.get(key))
    for key in PER_JOINT_KEYS:
        if data.get(key) is not None:
            kwargs[key] = _per_joint(where, key, data[key], positive=key != 'default_pose')
    if 'timestep' in data:
        step = data['timestep']
        if isinstance(step, bool) or not isinstance(step, (int, float)) or not 0 < step <= 0.05:
            raise _fail(where, 'timestep', f'expected seconds in (0, 0.05], got {step!r}')
        kwargs['timestep'] = float(step)
    if data.get('xacro_args') is not None:
        args = data['xacro_args']
        if not isinstance(args, dict):
            raise _fail(where, 'xacro_args', f'expected a mapping name -> value, got {args!r}')
        kwargs['xacro_args'] = {str(k): str(v) for k, v in args.items()}
    return RobotConfig(**kwargs)


def robots_dir() -> Path:
    """Directory of the built-in robot files (source tree, else the installed share)."""
    source = Path(__file__).resolve().parents[3] / 'config' / 'robots'
    if source.is_dir():
        return source
    try:
        from ament_index_python.packages import get_package_share_directory
        return Path(get_package_share_directory(PACKAGE)) / 'config' / 'robots'
    except (ImportError, LookupError):
        return source


def builtin_robots() -> list[str]:
    """Names of the built-in robots (``config/robots/*.yaml``)."""
    return sorted(p.stem for p in robots_dir().glob('*.yaml'))


def _is_path(name_or_path: str) -> bool:
    return name_or_path.endswith(('.yaml', '.yml')) or '/' in name_or_path \
        or '\\' in name_or_path


def load_robot(name_or_path: str | Path) -> RobotConfig:
    """Read a robot: a built-in's name (``a1``, ``panda``, ...) or a robot YAML file's path.

    Raises:
        RobotConfigError: Unknown robot name, missing or unreadable file, unknown key or bad
            value (naming the file and the key).
    """
    text = str(name_or_path)
    if not text:
        raise RobotConfigError('robot: empty name; give a built-in robot name '
                               f'({", ".join(builtin_robots())}) or a robot YAML path')
    if isinstance(name_or_path, Path) or _is_path(text):
        path = Path(text).expanduser()
        if not path.is_file():
            raise RobotConfigError(f'{path}: robot file not found')
    else:
        path = robots_dir() / f'{text}.yaml'
        if not path.is_file():
            raise RobotConfigError(f'unknown robot {text!r}; built-in robots: '
                                   f'{", ".join(builtin_robots())} (or a robot YAML path)')
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise RobotConfigError(f'{path}: cannot read robot file: {exc}') from exc
    return robot_config_from_dict(data if data is not None else {}, path.stem,
                                  str(path.resolve()))
