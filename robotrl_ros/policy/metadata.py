# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""``policy.yaml``: the human-editable metadata of a policy artifact, and its validation.

The file is flat so it can be written by hand for a network trained elsewhere::

    format_version: 1
    task: reach
    algorithm: ppo
    provenance: {git: 1a2b3c, steps: 100000}
    joint_names: [x, y, z]                       # command (= action) order
    observation:                                 # obs vector layout, in order
    - {name: joint_pos, size: 3, scale: 1.0, history: 1, source: joint_states}
    - {name: goal_position, size: 3, scale: 1.0, history: 1, source: goal_pose}
    - {name: last_action, size: 3, scale: 1.0, history: 3, source: policy}  # 3 steps, newest first
    normalization: {mean: [...], std: [...], in_network: true}
    action_scale: [1.0, 1.0, 1.0]                # command = offset + scale * action
    action_offset: [0.0, 0.0, 0.0]               # default joint positions
    command_lower: [-1.0, -1.0, -1.0]            # joint (command) limits
    command_upper: [1.0, 1.0, 1.0]
    velocity_limits: [0.5, 0.5, 0.5]
    control_period: 0.1
    command_interface: position                  # position | velocity | effort | acceleration
    command_input: goal_pose                     # goal_pose | cmd_vel | none
    max_episode_steps: 100
    discrete_actions: []                         # index -> action row, discrete policies only
    kinematic_chain:                             # arms with ee_position / ee_goal_delta terms
      link: panda_grasptarget                    # the link whose position the chain gives
      links:                                     # base first; pose in the parent's frame
      - {pos: [0, 0, 0.333], quat: [1, 0, 0, 0],
         joints: [{name: panda_joint1, type: hinge, axis: [0, 0, 1], anchor: [0, 0, 0], ref: 0}]}
    robot:                                       # deploy config of the robot it was trained on
      name: a1
      description_sha256: 9f86d0...              # sha256 of the URDF/MJCF text
      kp: [...]                                  # actuator gains, one per joint
      kd: [...]
      default_pose: [...]                        # one per joint
    network: {format: numpy_program, weights: policy.safetensors, steps: [...], ...}
    files: {policy.safetensors: {sha256: ...}, policy.pt: {sha256: ...}}

``network`` describes the deployed network as data (:mod:`robotrl_ros.policy.numpy_program`;
the weights are in the named safetensors file); without it the network is ``policy.pt``
(TorchScript, loaded only on opt-in). ``files`` holds the sha256 of every file the artifact
refers to; :mod:`robotrl_ros.policy.artifact` checks both.

:func:`validate_metadata` checks every field and raises :class:`ArtifactError` naming it.
"""

from __future__ import annotations

import math
from typing import Any

from robotrl_ros.tasks.kinematics import KinematicChain
from robotrl_ros.tasks.observation import OBS_TERMS
from robotrl_ros.tasks.spec import CHAIN_TERMS, MAX_HISTORY, ObsTerm, TaskSpec

FORMAT_VERSION = 1

#: Which topic (or internal signal) feeds each observation term on the robot.
TERM_SOURCES: dict[str, str] = {
    'joint_pos': 'joint_states',
    'joint_pos_rel': 'joint_states',
    'joint_vel': 'joint_states',
    'joint_pos_cos': 'joint_states',
    'joint_pos_sin': 'joint_states',
    'goal_position': 'goal_pose',
    'goal_delta': 'goal_pose',
    'reacher_fingertip_delta': 'goal_pose',
    'ee_position': 'joint_states',
    'ee_goal_delta': 'goal_pose',
    'cmd_vel': 'cmd_vel',
    'last_action': 'policy',
    'base_lin_vel': 'base_twist',
    'base_ang_vel': 'imu',
    'projected_gravity': 'imu',
    'base_height': 'base_state',
}

#: Terms whose size is one entry per joint.
PER_JOINT_TERMS = ('joint_pos', 'joint_pos_rel', 'joint_vel', 'joint_pos_cos', 'joint_pos_sin',
                   'last_action')
#: Terms with a fixed size.
FIXED_SIZE_TERMS = {'cmd_vel': 3, 'base_lin_vel': 3, 'base_ang_vel': 3, 'projected_gravity': 3,
                    'base_height': 1, 'ee_position': 3, 'ee_goal_delta': 3}
COMMAND_INTERFACES = ('position', 'velocity', 'effort', 'acceleration')
COMMAND_INPUTS = ('goal_pose', 'cmd_vel', 'none')
PER_JOINT_FIELDS = ('action_scale', 'action_offset', 'command_lower', 'command_upper',
                    'velocity_limits')
REQUIRED_FIELDS = ('format_version', 'task', 'algorithm', 'joint_names', 'observation',
                   *PER_JOINT_FIELDS, 'control_period')
OPTIONAL_FIELDS = ('provenance', 'normalization', 'command_interface', 'command_input',
                   'max_episode_steps', 'discrete_actions', 'network', 'files', 'robot',
                   'kinematic_chain')
#: Per-joint lists of the ``robot`` mapping (each optional).
ROBOT_VECTORS = ('kp', 'kd', 'default_pose')


class ArtifactError(ValueError):
    """A policy artifact is missing, corrupt or inconsistent; the message names the field."""


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ArtifactError(f'{where}: expected a number, got {value!r}')
    if not math.isfinite(value):
        raise ArtifactError(f'{where}: must be finite, got {value!r}')
    return float(value)


def _vector(data: dict[str, Any], key: str, size: int, what: str) -> list[float]:
    value = data.get(key)
    if not isinstance(value, list):
        raise ArtifactError(f'{key}: expected a list of {size} numbers ({what}), got {value!r}')
    if len(value) != size:
        raise ArtifactError(f'{key}: has {len(value)} entries, expected {size} ({what})')
    return [_number(v, f'{key}[{i}]') for i, v in enumerate(value)]


def _positive_int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ArtifactError(f'{where}: expected a positive integer, got {value!r}')
    return value


def _choice(data: dict[str, Any], key: str, choices: tuple[str, ...], default: str) -> str:
    value = data.get(key, default)
    if value not in choices:
        raise ArtifactError(f'{key}: must be one of {list(choices)}, got {value!r}')
    return value


def _joint_names(data: dict[str, Any]) -> list[str]:
    names = data.get('joint_names')
    if not isinstance(names, list) or not names:
        raise ArtifactError(f'joint_names: expected a non-empty list of names, got {names!r}')
    for i, name in enumerate(names):
        if not isinstance(name, str) or not name:
            raise ArtifactError(f'joint_names[{i}]: expected a non-empty string, got {name!r}')
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ArtifactError(f'joint_names: joint(s) listed twice: {duplicates}')
    return names


def _observation(data: dict[str, Any], n_joints: int) -> list[ObsTerm]:
    terms = data.get('observation')
    if not isinstance(terms, list) or not terms:
        raise ArtifactError(f'observation: expected a non-empty list of terms, got {terms!r}')
    out = []
    for i, term in enumerate(terms):
        where = f'observation[{i}]'
        if not isinstance(term, dict):
            raise ArtifactError(f'{where}: expected a mapping {{name, size, scale, history}}, '
                                f'got {term!r}')
        unknown = set(term) - {'name', 'size', 'scale', 'history', 'source'}
        if unknown:
            raise ArtifactError(f'{where}: unknown key(s) {sorted(unknown)}')
        name = term.get('name')
        if name not in OBS_TERMS:
            raise ArtifactError(f'{where}.name: unknown observation term {name!r}; known: '
                                f'{sorted(OBS_TERMS)}')
        size = _positive_int(term.get('size'), f'{where}.size ({name})')
        expected = n_joints if name in PER_JOINT_TERMS else FIXED_SIZE_TERMS.get(name)
        if name in ('goal_position', 'goal_delta'):
            limit = 3 if name == 'goal_position' else min(3, n_joints)
            if size > limit:
                raise ArtifactError(f'{where}.size ({name}): at most {limit}, got {size}')
        elif expected is not None and size != expected:
            raise ArtifactError(f'{where}.size ({name}): expected {expected}, got {size}')
        scale = _number(term.get('scale', 1.0), f'{where}.scale ({name})')
        source = term.get('source', TERM_SOURCES.get(name))
        if name in TERM_SOURCES and source != TERM_SOURCES[name]:
            raise ArtifactError(f'{where}.source ({name}): this term comes from '
                                f'{TERM_SOURCES[name]!r}, not {source!r}')
        history = _positive_int(term.get('history', 1), f'{where}.history ({name})')
        if history > MAX_HISTORY:
            raise ArtifactError(f'{where}.history ({name}): at most {MAX_HISTORY} control '
                                f'steps, got {history}')
        out.append(ObsTerm(name=name, size=size, scale=scale, history=history))
    return out


def validate_metadata(data: Any) -> tuple[TaskSpec, dict[str, Any]]:
    """Check every field of a parsed ``policy.yaml``.

    Args:
        data: The parsed YAML document.

    Returns:
        ``(spec, normalization)`` where ``normalization`` is ``{'mean', 'std', 'in_network'}``
        (identity when the file has no ``normalization``).

    Raises:
        ArtifactError: Naming the first field that is missing, mistyped or inconsistent.
    """
    if not isinstance(data, dict):
        raise ArtifactError(f'expected a mapping of fields, got {type(data).__name__}')
    unknown = set(data) - set(REQUIRED_FIELDS) - set(OPTIONAL_FIELDS)
    if unknown:
        raise ArtifactError(f'unknown field(s) {sorted(unknown)}; known: '
                            f'{sorted(REQUIRED_FIELDS + OPTIONAL_FIELDS)}')
    missing = [key for key in REQUIRED_FIELDS if key not in data]
    if missing:
        raise ArtifactError(f'missing field(s) {missing}')
    if data['format_version'] != FORMAT_VERSION or isinstance(data['format_version'], bool):
        raise ArtifactError(f'format_version: this robotrl_ros reads version {FORMAT_VERSION}, '
                            f'got {data["format_version"]!r}')
    for key in ('task', 'algorithm'):
        if not isinstance(data[key], str) or not data[key]:
            raise ArtifactError(f'{key}: expected a non-empty string, got {data[key]!r}')
    if not isinstance(data.get('provenance', {}), dict):
        raise ArtifactError(f'provenance: expected a mapping, got {data["provenance"]!r}')
    names = _joint_names(data)
    n = len(names)
    observation = _observation(data, n)
    obs_dim = sum(term.size * term.history for term in observation)
    vectors = {key: _vector(data, key, n, f'one per joint {names}') for key in PER_JOINT_FIELDS}
    for i, name in enumerate(names):
        if not vectors['command_lower'][i] < vectors['command_upper'][i]:
            raise ArtifactError(f'command_lower/command_upper: joint {name!r} has lower '
                                f'{vectors["command_lower"][i]} >= upper '
                                f'{vectors["command_upper"][i]}')
        if vectors['velocity_limits'][i] <= 0:
            raise ArtifactError(f'velocity_limits: joint {name!r} has a non-positive limit '
                                f'{vectors["velocity_limits"][i]}')
    period = _number(data['control_period'], 'control_period')
    if period <= 0:
        raise ArtifactError(f'control_period: must be > 0 s, got {period}')
    table = data.get('discrete_actions') or []
    if not isinstance(table, list):
        raise ArtifactError(f'discrete_actions: expected a list of rows, got {table!r}')
    rows = []
    for i, row in enumerate(table):
        if not isinstance(row, list) or len(row) != n:
            raise ArtifactError(f'discrete_actions[{i}]: expected {n} numbers (one per joint), '
                                f'got {row!r}')
        rows.append(tuple(_number(v, f'discrete_actions[{i}][{j}]') for j, v in enumerate(row)))
    if 'robot' in data:
        validate_robot(data['robot'], names)
    chain = _kinematic_chain(data, observation, names)
    spec = TaskSpec(
        name=data['task'], joint_names=tuple(names), observation=tuple(observation),
        **{key: tuple(vectors[key]) for key in PER_JOINT_FIELDS},
        control_period=period,
        command_interface=_choice(data, 'command_interface', COMMAND_INTERFACES, 'position'),
        command_input=_choice(data, 'command_input', COMMAND_INPUTS, 'none'),
        max_episode_steps=_positive_int(data.get('max_episode_steps', 1000), 'max_episode_steps'),
        discrete_actions=tuple(rows), kinematic_chain=chain)
    return spec, _normalization(data.get('normalization'), obs_dim)


def _kinematic_chain(data: dict[str, Any], observation: list[ObsTerm],
                     joint_names: list[str]) -> KinematicChain | None:
    needs = sorted({term.name for term in observation} & set(CHAIN_TERMS))
    if data.get('kinematic_chain') is None:
        if needs:
            raise ArtifactError(f'kinematic_chain: missing; observation term(s) {needs} compute '
                                "the end effector's position from it")
        return None
    try:
        chain = KinematicChain.from_dict(data['kinematic_chain'], 'kinematic_chain')
        chain.evaluator(tuple(joint_names))
    except ValueError as exc:
        raise ArtifactError(str(exc) if str(exc).startswith('kinematic_chain')
                            else f'kinematic_chain: {exc}') from exc
    return chain


def validate_robot(robot: Any, joint_names: list[str]) -> dict[str, Any]:
    """Check the ``robot`` mapping of ``policy.yaml`` (the robot the policy was trained on).

    Keys: ``name`` (required), ``description_sha256`` (64 hex digits), ``kp``, ``kd``,
    ``default_pose`` (one number per joint of ``joint_names``; gains >= 0).

    Raises:
        ArtifactError: Naming the key that is missing, unknown or malformed.
    """
    if not isinstance(robot, dict):
        raise ArtifactError(f'robot: expected a mapping {{name, description_sha256, kp, kd, '
                            f'default_pose}}, got {robot!r}')
    unknown = set(robot) - {'name', 'description_sha256', *ROBOT_VECTORS}
    if unknown:
        raise ArtifactError(f'robot: unknown key(s) {sorted(unknown)}')
    if not isinstance(robot.get('name'), str) or not robot['name']:
        raise ArtifactError(f'robot.name: expected a non-empty string, got {robot.get("name")!r}')
    digest = robot.get('description_sha256')
    if digest is not None and not (isinstance(digest, str) and len(digest) == 64
                                   and all(c in '0123456789abcdef' for c in digest)):
        raise ArtifactError(f'robot.description_sha256: expected 64 lowercase hex digits, '
                            f'got {digest!r}')
    n = len(joint_names)
    for key in ROBOT_VECTORS:
        if key in robot:
            values = _vector({f'robot.{key}': robot[key]}, f'robot.{key}', n,
                             f'one per joint {joint_names}')
            if key != 'default_pose' and any(v < 0 for v in values):
                raise ArtifactError(f'robot.{key}: gains must be >= 0, got {values}')
    return robot


def _normalization(norm: Any, obs_dim: int) -> dict[str, Any]:
    if norm is None:
        return {'mean': [0.0] * obs_dim, 'std': [1.0] * obs_dim, 'in_network': True}
    if not isinstance(norm, dict):
        raise ArtifactError(f'normalization: expected a mapping {{mean, std, in_network}}, '
                            f'got {norm!r}')
    unknown = set(norm) - {'mean', 'std', 'in_network'}
    if unknown:
        raise ArtifactError(f'normalization: unknown key(s) {sorted(unknown)}')
    what = f'one per observation entry (obs_dim {obs_dim})'
    mean = _vector({'normalization.mean': norm.get('mean')}, 'normalization.mean', obs_dim, what)
    std = _vector({'normalization.std': norm.get('std')}, 'normalization.std', obs_dim, what)
    for i, value in enumerate(std):
        if value <= 0:
            raise ArtifactError(f'normalization.std[{i}]: must be > 0, got {value}')
    in_network = norm.get('in_network', True)
    if not isinstance(in_network, bool):
        raise ArtifactError(f'normalization.in_network: expected true or false, '
                            f'got {in_network!r}')
    return {'mean': mean, 'std': std, 'in_network': in_network}


def spec_to_metadata(spec: TaskSpec, *, algorithm: str, provenance: dict[str, Any] | None,
                     normalization: dict[str, Any]) -> dict[str, Any]:
    """The ``policy.yaml`` document for ``spec`` (inverse of :func:`validate_metadata`)."""
    spec_data = spec.to_dict()
    observation = [dict(term, source=TERM_SOURCES.get(term['name'], 'unknown'))
                   for term in spec_data['observation']]
    return {
        'format_version': FORMAT_VERSION,
        'task': spec.name,
        'algorithm': algorithm,
        'provenance': dict(provenance or {}),
        'joint_names': spec_data['joint_names'],
        'observation': observation,
        'normalization': normalization,
        **{key: spec_data[key] for key in PER_JOINT_FIELDS},
        'control_period': float(spec.control_period),
        'command_interface': spec.command_interface,
        'command_input': spec.command_input,
        'max_episode_steps': int(spec.max_episode_steps),
        'discrete_actions': spec_data['discrete_actions'],
        **({} if spec.kinematic_chain is None
           else {'kinematic_chain': spec.kinematic_chain.to_dict()}),
    }
