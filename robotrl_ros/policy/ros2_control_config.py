# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The ros2_control controller_manager YAML of a policy artifact: the joint order from one place.

``robotrl ros2-control-config --policy DIR [--robot-description FILE] [--output FILE]`` writes
the two controllers the policy node talks to, so that the command order of the forward
controller can never disagree with the artifact's ``joint_names``::

    controller_manager:
      ros__parameters:
        update_rate: 50                   # Hz: ceil(1 / control_period)
        joint_state_broadcaster:
          type: joint_state_broadcaster/JointStateBroadcaster
        forward_position_controller:
          type: forward_command_controller/ForwardCommandController
    forward_position_controller:
      ros__parameters:
        joints: [FR_hip_joint, ...]       # policy.yaml joint_names, command order
        interface_name: position          # policy.yaml command_interface

The forward controller is called ``forward_position_controller`` whatever the interface: the
policy node's ``command_topic`` default is ``forward_position_controller/commands``. With a
robot description (a URDF, or a ``.xacro`` expanded with the xacro package) every artifact joint
must be a movable joint of it and, where the URDF has ``<ros2_control>`` sections, be listed
there with a ``<command_interface>`` of the artifact's interface; the error names every joint
that is not. Only ``policy.yaml`` is read (no network is loaded).
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import yaml

from robotrl_ros.policy.artifact import METADATA_FILE
from robotrl_ros.policy.joint_limits import JointLimitsError, limits_from_urdf
from robotrl_ros.policy.metadata import ArtifactError, validate_metadata
from robotrl_ros.tasks.spec import TaskSpec

CONTROLLER = 'forward_position_controller'
CONTROLLER_TYPE = 'forward_command_controller/ForwardCommandController'
BROADCASTER = 'joint_state_broadcaster'
BROADCASTER_TYPE = 'joint_state_broadcaster/JointStateBroadcaster'


class ControllerConfigError(ValueError):
    """The artifact or the robot description cannot give a controller configuration."""


def read_policy_metadata(policy_dir: str | Path) -> tuple[TaskSpec, dict[str, Any]]:
    """``(spec, metadata)`` of an artifact's ``policy.yaml``, every field checked.

    Raises:
        ArtifactError: Unreadable or invalid ``policy.yaml`` (naming the field).
    """
    path = Path(policy_dir) / METADATA_FILE
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ArtifactError(f'{path}: cannot read: {exc}') from exc
    try:
        spec, _ = validate_metadata(data)
    except ValueError as exc:
        raise ArtifactError(f'{path}: {exc}') from None
    return spec, data


def update_rate(control_period: float) -> int:
    """The controller manager's update rate (Hz, an integer): at least one cycle per action."""
    return max(1, math.ceil(1.0 / control_period - 1e-9))


def read_robot_description(path: str | Path) -> str:
    """The URDF text of ``path`` (a ``.xacro`` file is expanded).

    Raises:
        ControllerConfigError: Unreadable file, or a xacro that does not expand.
    """
    path = Path(path)
    if path.name.endswith('.xacro'):
        try:
            import xacro
            return xacro.process_file(str(path)).toxml()
        except ImportError as exc:
            raise ControllerConfigError(f'{path}: a xacro description needs the xacro '
                                        'package') from exc
        except Exception as exc:  # noqa: BLE001 - xacro raises its own and plain errors
            raise ControllerConfigError(f'{path}: xacro failed: {exc}') from exc
    try:
        return path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise ControllerConfigError(f'robot description {path}: cannot read: {exc}') from exc


def check_description(spec: TaskSpec, urdf: str, source: str = 'robot_description') -> None:
    """Every joint of ``spec`` is a movable joint of ``urdf`` with the command interface.

    Raises:
        ControllerConfigError: Not a URDF, or naming every joint that is missing or whose
            ``<ros2_control>`` entry lacks ``spec.command_interface``.
    """
    try:
        movable = limits_from_urdf(urdf, source).joints
    except JointLimitsError as exc:
        raise ControllerConfigError(str(exc)) from None
    missing = [name for name in spec.joint_names if name not in movable]
    if missing:
        raise ControllerConfigError(
            f'{source}: joint(s) {missing} of the policy are not movable joints of the robot '
            f'description; its movable joints: {sorted(movable)}')
    sections = ET.fromstring(urdf).findall('ros2_control')
    if not sections:
        return
    interfaces: dict[str, set[str]] = {}
    for joint in (j for section in sections for j in section.findall('joint')):
        names = {c.get('name', '') for c in joint.findall('command_interface')}
        interfaces.setdefault(joint.get('name', ''), set()).update(names)
    unlisted = [name for name in spec.joint_names if name not in interfaces]
    lacking = [name for name in spec.joint_names
               if name in interfaces and spec.command_interface not in interfaces[name]]
    problems = []
    if unlisted:
        problems.append(f'joint(s) {unlisted} are not in its <ros2_control> sections')
    if lacking:
        problems.append(f'joint(s) {lacking} have no <command_interface '
                        f'name="{spec.command_interface}"/>')
    if problems:
        raise ControllerConfigError(f'{source}: {"; ".join(problems)} (the policy commands '
                                    f'{spec.command_interface} of {list(spec.joint_names)})')


def controller_config(spec: TaskSpec) -> dict[str, Any]:
    """The controller_manager parameters (module docstring) for an artifact's ``spec``."""
    return {
        'controller_manager': {'ros__parameters': {
            'update_rate': update_rate(spec.control_period),
            BROADCASTER: {'type': BROADCASTER_TYPE},
            CONTROLLER: {'type': CONTROLLER_TYPE},
        }},
        CONTROLLER: {'ros__parameters': {
            'joints': list(spec.joint_names),
            'interface_name': spec.command_interface,
        }},
    }


def _header(policy_dir: Path, spec: TaskSpec, metadata: dict[str, Any]) -> str:
    lines = [f'ros2_control controllers for the policy {policy_dir}',
             f'(task {spec.name}, algorithm {metadata["algorithm"]}), written by '
             '`robotrl ros2-control-config`.',
             "The forward controller takes commands in the artifact's joint order on",
             f'{CONTROLLER}/commands (policy_node command_topic), one every '
             f'{spec.control_period:g} s.']
    robot = metadata.get('robot')
    if robot:
        lines.append(f"Trained on robot {robot['name']} with these PD gains (the hardware's "
                     'should match):')
        for key in ('kp', 'kd'):
            if key in robot:
                values = ', '.join(f'{n}: {v:g}' for n, v in zip(spec.joint_names, robot[key],
                                                                 strict=True))
                lines.append(f'  {key}: {values}')
    return ''.join(f'# {line}\n' for line in lines)


def write_controller_config(policy_dir: str | Path, robot_description: str | Path | None = None
                            ) -> str:
    """The controller_manager YAML text for the artifact in ``policy_dir``.

    Args:
        policy_dir: The artifact directory (only its ``policy.yaml`` is read).
        robot_description: A URDF (or xacro) file every artifact joint must be in.

    Raises:
        ArtifactError: Invalid ``policy.yaml``.
        ControllerConfigError: A robot description that lacks artifact joints (named).
    """
    policy_dir = Path(policy_dir)
    spec, metadata = read_policy_metadata(policy_dir)
    if robot_description is not None:
        check_description(spec, read_robot_description(robot_description),
                          str(robot_description))
    body = yaml.safe_dump(controller_config(spec), sort_keys=False, default_flow_style=False)
    return _header(policy_dir, spec, metadata) + body
