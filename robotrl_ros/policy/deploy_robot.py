# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The robot a policy node is given: joints, default pose, gains, limits, description hash.

The policy node takes the robot the way the sim bridge does (:mod:`robotrl_ros.tasks.robots.
given`): ``robot`` (a built-in name or a robot YAML path) and/or ``robot_description`` (the URDF
XML, or a ``.urdf`` path). :func:`load_deploy_robot` turns them into a :class:`DeployRobot`:

- with ``robot``: the robot file's joints (command order), default pose, kp, kd and limits, over
  its own description or over ``robot_description`` when both are given (imported as the sim
  bridge imports it, so the joint order is the simulator's);
- with ``robot_description`` alone: its movable joints in file order, the default pose 0
  clamped into the joint limits, no gains (a URDF carries none), no MuJoCo import.

``description_sha256`` is the sha256 of the description text as given: the
``robot_description`` string (or the ``.urdf`` file's bytes), else the robot file's description
file (a xacro file: its expansion). An artifact's ``robot.description_sha256`` is compared with it
(:mod:`robotrl_ros.policy.deploy_check`).
"""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from robotrl_ros.policy.joint_limits import (
    JointLimits,
    JointLimitsError,
    Limit,
    limits_from_urdf,
)
from robotrl_ros.tasks.robots.config import RobotConfigError, load_robot
from robotrl_ros.tasks.robots.description import description_path, read_description
from robotrl_ros.tasks.robots.resolve import DescriptionError


@dataclass(frozen=True)
class DeployRobot:
    """What the policy node knows about its robot (arrays in :attr:`joint_names` order).

    Attributes:
        name: The robot's name (robot file name, or the URDF's ``<robot name>``).
        source: Which parameter(s) gave it, for messages.
        joint_names: Commanded joints in command order.
        described_joints: Every movable joint of the description (a policy's joints must be
            among them).
        default_pose: Default joint positions, inside the position limits.
        lower: Lower position limits (``-inf``: none).
        upper: Upper position limits (``inf``: none).
        velocity: Velocity limits (``inf``: none).
        effort: Effort limits (``inf``: none).
        kp: Actuator stiffness per joint; None when the robot gives no gains.
        kd: Actuator damping per joint; None when the robot gives no gains.
        description_sha256: sha256 of the description text (module docstring).
    """

    name: str
    source: str
    joint_names: tuple[str, ...]
    described_joints: tuple[str, ...]
    default_pose: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    velocity: np.ndarray
    effort: np.ndarray
    kp: np.ndarray | None
    kd: np.ndarray | None
    description_sha256: str

    def limits(self) -> JointLimits:
        """The robot's limits per joint, named by :attr:`source`."""
        joints = {name: Limit(float(lo), float(hi), float(v), float(e))
                  for name, lo, hi, v, e in zip(self.joint_names, self.lower, self.upper,
                                                self.velocity, self.effort, strict=True)}
        return JointLimits(joints, (self.source,))

    def values_for(self, values: np.ndarray | None, joint_names: tuple[str, ...] | list[str]
                   ) -> np.ndarray | None:
        """``values`` (one per robot joint) reordered to ``joint_names``; None if one lacks."""
        if values is None or any(name not in self.joint_names for name in joint_names):
            return None
        return np.array([values[self.joint_names.index(name)] for name in joint_names])


def sha256_text(text: str) -> str:
    """The sha256 of ``text`` (UTF-8) as 64 lowercase hex digits."""
    return hashlib.sha256(text.encode('utf-8')).hexdigest()


def _description_text(robot_description: str) -> str:
    """``robot_description`` as XML text: the string itself, or the file it names."""
    if robot_description.lstrip().startswith('<'):   # as load_node_limits reads it
        return robot_description
    try:
        return Path(robot_description).read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"parameter 'robot_description': neither URDF XML nor a readable "
                         f'file: {exc}') from exc


def _from_urdf(text: str) -> DeployRobot:
    """The robot of a URDF alone: movable joints, default pose 0 in the limits, no gains."""
    try:
        limits = limits_from_urdf(text)
        name = ET.fromstring(text).get('name') or 'robot_description'
    except (JointLimitsError, ET.ParseError) as exc:
        raise ValueError(f"parameter 'robot_description': {exc}") from None
    names = tuple(limits.joints)
    if not names:
        raise ValueError("parameter 'robot_description': the URDF has no movable joint")
    rows = [limits.joints[n] for n in names]
    lower = np.array([r.lower for r in rows])
    upper = np.array([r.upper for r in rows])
    return DeployRobot(
        name=name, source='robot_description', joint_names=names, described_joints=names,
        default_pose=np.clip(np.zeros(len(names)), lower, upper), lower=lower, upper=upper,
        velocity=np.array([r.velocity for r in rows]),
        effort=np.array([r.effort for r in rows]), kp=None, kd=None,
        description_sha256=sha256_text(text))


def _from_robot_file(robot: str, given: str | None) -> DeployRobot:
    """The robot of a robot file (over the ``given`` XML), imported like the simulator's."""
    from robotrl_ros.tasks.robots.importer import import_robot  # MuJoCo: only for `robot`
    try:
        config = load_robot(robot)
        model = import_robot(config, given)
        text = given
        if text is None:
            path = description_path(config)
            text = read_description(config).xml if path.name.endswith('.xacro') else \
                path.read_text()
    except (RobotConfigError, DescriptionError, OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"parameter 'robot': {exc}") from None
    try:   # a URDF: every movable joint, also those the robot file does not command
        described = tuple(limits_from_urdf(text).joints)
    except JointLimitsError:   # MJCF
        described = ()
    source = f'robot {config.name}' + (' over robot_description' if given is not None else '')
    return DeployRobot(
        name=config.name, source=source, joint_names=model.joint_names,
        described_joints=tuple(dict.fromkeys((*described, *model.joint_names))),
        default_pose=model.default_pose.copy(), lower=model.lower.copy(),
        upper=model.upper.copy(), velocity=model.velocity_limit.copy(),
        effort=model.effort_limit.copy(), kp=model.kp.copy(), kd=model.kd.copy(),
        description_sha256=sha256_text(text))


def load_deploy_robot(robot: str = '', robot_description: str = '') -> DeployRobot | None:
    """The robot the parameters describe (module docstring), or None when neither is given.

    Raises:
        ValueError: Naming the parameter: an unknown robot, a bad robot file, a description
            that cannot be read, parsed or imported, or a URDF without movable joints.
    """
    text = _description_text(robot_description) if robot_description.strip() else None
    if robot:
        return _from_robot_file(robot, text)
    if text is None:
        return None
    return _from_urdf(text)
