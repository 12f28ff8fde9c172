# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The ``robot`` mapping of ``policy.yaml``: the robot a policy was trained on.

A policy trained on a robot file (tasks ``locomotion`` and ``ee_reach`` on ``a1``, ``panda``, a
robot YAML or a ``robot_description``) carries that robot's deploy configuration, so the
actuator gains and default pose it was trained with travel with it::

    robot:
      name: a1
      description_sha256: 9f86d0...   # sha256 of the URDF/MJCF text the model was built from
      kp: [20.0, ...]                 # servo stiffness, one per artifact joint (command order)
      kd: [0.5, ...]                  # servo damping
      default_pose: [0.1, 0.8, ...]   # the pose the robot stands in (rad or m)

Export (:func:`robotrl_ros.policy.export.export_artifact`, ``robot=``) writes it;
:func:`robotrl_ros.policy.metadata.validate_robot` checks it when the artifact loads.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from robotrl_ros.policy.metadata import ArtifactError, validate_robot


class RobotLike(Protocol):
    """What :func:`trained_robot` reads (a :class:`robotrl_ros.tasks.robots.RobotModel`)."""

    config: Any
    joint_names: tuple[str, ...]
    kp: np.ndarray
    kd: np.ndarray
    default_pose: np.ndarray
    description_sha256: str


def trained_robot(robot: RobotLike, joint_names: Sequence[str]) -> dict[str, Any]:
    """The ``robot`` mapping for an artifact whose joints are ``joint_names`` (command order).

    Args:
        robot: The robot model the policy was trained on.
        joint_names: The artifact's joints, in command order (each must be a joint of
            ``robot``).

    Raises:
        ArtifactError: A joint of the artifact that the robot does not command.
    """
    names = list(robot.joint_names)
    missing = [name for name in joint_names if name not in names]
    if missing:
        raise ArtifactError(f'robot: joint(s) {missing} of the policy are not commanded '
                            f'joints of robot {robot.config.name!r} ({names})')
    order = [names.index(name) for name in joint_names]

    def per_joint(values: np.ndarray) -> list[float]:
        return [float(values[i]) for i in order]

    mapping: dict[str, Any] = {'name': str(robot.config.name)}
    if robot.description_sha256:
        mapping['description_sha256'] = robot.description_sha256
    mapping.update(kp=per_joint(robot.kp), kd=per_joint(robot.kd),
                   default_pose=per_joint(robot.default_pose))
    return validate_robot(mapping, list(joint_names))
