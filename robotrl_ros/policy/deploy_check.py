# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Check a policy artifact against the robot it is about to drive (DESIGN.md 4 and 5).

:func:`check_artifact` compares an artifact's ``policy.yaml`` with the robot the policy node was
given (:class:`~robotrl_ros.policy.deploy_robot.DeployRobot`) and with the robot's limits:

- every policy joint must be a movable joint of the robot's description: otherwise the artifact
  is refused, the missing joints named (an A1 policy on a Panda);
- every policy joint needs limits from the robot for its command interface;
- given a robot, the artifact should record the robot it was trained on (``robot`` in
  ``policy.yaml``); its ``name``, ``description_sha256``, ``kp`` and ``kd`` are compared with the
  robot's (gains only where the robot has them: a URDF alone has none).

Every finding is one line; the node lists them in ``~/status`` (``robot_mismatches``) and logs
them. Only missing joints refuse the artifact: the others are the operator's call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from robotrl_ros.policy.deploy_robot import DeployRobot
from robotrl_ros.policy.joint_limits import JointLimits
from robotrl_ros.tasks.spec import TaskSpec

#: Relative difference up to which recorded and robot gains are the same.
GAIN_TOLERANCE = 1e-6


@dataclass
class DeployCheck:
    """The findings of :func:`check_artifact`.

    Attributes:
        mismatches: One line per finding (empty: artifact and robot agree).
        refusal: Why the artifact must not drive this robot, or None.
    """

    mismatches: list[str] = field(default_factory=list)
    refusal: str | None = None


def _gain_mismatches(key: str, recorded: Any, robot: DeployRobot,
                     names: tuple[str, ...]) -> list[str]:
    values = getattr(robot, key)
    ours = robot.values_for(values, names)
    if recorded is None or ours is None:
        return []
    found = []
    for name, trained, actual in zip(names, recorded, ours, strict=True):
        if not np.isclose(trained, actual, rtol=GAIN_TOLERANCE, atol=0.0):
            found.append(f'{name} {key} {float(trained):g} (trained) != {float(actual):g} '
                         f'({robot.source})')
    if found:
        return [f'{key} differs: ' + '; '.join(found)]
    return []


def check_artifact(spec: TaskSpec, metadata: dict[str, Any], robot: DeployRobot | None,
                   limits: JointLimits) -> DeployCheck:
    """Compare an artifact (``spec`` and its parsed ``policy.yaml``) with the robot.

    Args:
        spec: The artifact's task spec (joint names, command interface).
        metadata: Its ``policy.yaml`` (``robot`` is read when present).
        robot: The robot the node was given, or None (then only the limits are checked).
        limits: The robot's limits (robot, ``robot_description``, ``joint_limits``).

    Returns:
        The findings; ``refusal`` set when policy joints are missing from the description.
    """
    check = DeployCheck()
    names = spec.joint_names
    if robot is not None:
        missing = [name for name in names if name not in robot.described_joints]
        if missing:
            check.refusal = (f'policy joint(s) {missing} are not movable joints of the robot '
                             f'({robot.source}: {robot.name}, joints '
                             f'{list(robot.described_joints)}): refused')
            check.mismatches.append(check.refusal)
    if limits:
        uncovered = limits.uncovered(names, spec.command_interface)
        if uncovered:
            check.mismatches.append(f'no {spec.command_interface} limits from the robot for '
                                    f'joint(s) {uncovered}')
    trained = metadata.get('robot')
    if robot is None:   # nothing to compare the recorded robot with
        return check
    if not isinstance(trained, dict):
        check.mismatches.append('the artifact records no robot (policy.yaml robot: name, '
                                'description_sha256, kp, kd, default_pose): gains and '
                                'description not checked')
        return check
    missing_keys = [key for key in ('kp', 'kd') if key not in trained]
    if missing_keys:
        check.mismatches.append(f'the artifact records no actuator gains {missing_keys} '
                                '(policy.yaml robot)')
    if trained.get('name') != robot.name:
        check.mismatches.append(f'robot name: trained on {trained.get("name")!r}, this robot '
                                f'is {robot.name!r}')
    digest = trained.get('description_sha256')
    if digest is not None and digest != robot.description_sha256:
        check.mismatches.append(f'robot description differs from the one the policy was '
                                f'trained on (sha256 {digest[:12]} trained, '
                                f'{robot.description_sha256[:12]} {robot.source})')
    if check.refusal is None:   # (a URDF alone gives no gains: nothing to compare)
        for key in ('kp', 'kd'):
            check.mismatches += _gain_mismatches(key, trained.get(key), robot, names)
    return check
