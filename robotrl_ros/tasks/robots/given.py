# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The robot a node is given: parameters ``robot`` and ``robot_description`` -> a robot model.

Nodes that simulate or score a robot task (``sim_bridge``, ``trainer_node``) take two
parameters, the way ROS robot software does:

- ``robot``: a built-in robot's name (``a1``, ``panda``, ...) or a robot YAML path
  (:mod:`.config`); '' = the task's default robot.
- ``robot_description``: the description's XML itself (URDF or MJCF), as robot_state_publisher
  and ros2_control take it (``robot_description:="$(xacro my_robot.urdf.xacro)"``). With
  ``robot`` too, that file's settings (base, gains, default pose, links) apply to this XML;
  alone, the robot gets the default settings of :class:`RobotConfig` (kp 100, kd 10, default
  pose 0 clamped into the limits), a fixed base when the URDF welds its root to a ``world``
  link and a floating one otherwise (an MJCF keeps its own joints: fixed), the IMU on the
  link ``imu_link`` if there is one.

Every error names the parameter at fault.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from robotrl_ros.tasks.robots.config import RobotConfig, RobotConfigError, load_robot
from robotrl_ros.tasks.robots.description import parse_description
from robotrl_ros.tasks.robots.importer import ROBOT_DESCRIPTION, RobotModel, import_robot
from robotrl_ros.tasks.robots.resolve import DescriptionError

T = TypeVar('T')

#: Tasks that run on any robot (their env and task constructors take ``robot``).
ROBOT_TASKS = ('locomotion', 'ee_reach')
#: The IMU's link by ROS convention; a floating base's root link when the URDF has none.
IMU_LINK = 'imu_link'


def description_config(robot_description: str) -> RobotConfig:
    """Default settings for a robot known only by its description XML (module docstring).

    Raises:
        DescriptionError: Not a URDF or MJCF document.
    """
    desc = parse_description(robot_description, Path.cwd() / ROBOT_DESCRIPTION)
    name = ET.fromstring(robot_description).get('model' if desc.kind == 'mjcf' else 'name')
    floating = desc.kind == 'urdf' and 'world' not in desc.links
    imu_link = IMU_LINK if floating and IMU_LINK in desc.links else ''
    return RobotConfig(name=name or ROBOT_DESCRIPTION, description=ROBOT_DESCRIPTION,
                       base='floating' if floating else 'fixed', imu_link=imu_link)


def culprit(robot: str, robot_description: str) -> str:
    """The parameter that chose the robot: ``robot`` when given, else ``robot_description``."""
    return 'robot' if robot or not robot_description else 'robot_description'


def given_robot(task: str, robot: str = '', robot_description: str = '') -> RobotModel | None:
    """The robot model the parameters describe, or None when neither is given.

    Raises:
        ValueError: Naming the parameter: the task runs on no chosen robot, an unknown robot
            name, a bad robot file, or a description that is not URDF/MJCF or cannot be
            imported.
    """
    if not robot and not robot_description:
        return None
    if task not in ROBOT_TASKS:
        raise ValueError(f'parameter {culprit(robot, robot_description)!r}: task {task!r} has '
                         f'its own robot; tasks on a given robot: {", ".join(ROBOT_TASKS)}')
    try:
        config = load_robot(robot) if robot else None
    except RobotConfigError as exc:
        raise ValueError(f"parameter 'robot': {exc}") from None
    try:
        if config is None:
            config = description_config(robot_description)
        if robot_description:
            return import_robot(config, robot_description)
        return import_robot(config)
    except (RobotConfigError, DescriptionError) as exc:
        which = 'robot_description' if robot_description else 'robot'
        raise ValueError(f'parameter {which!r}: {exc}') from None


def on_given_robot(factory: Callable[..., T], task: str, robot: str = '',
                   robot_description: str = '', **kwargs: Any) -> T:
    """``factory(task, robot=<model>, **kwargs)`` (``make_task``, ``make_env``) on the robot.

    Without ``robot`` and ``robot_description``: ``factory(task, **kwargs)``.

    Raises:
        ValueError: As :func:`given_robot`, or the task refusing the robot (a fixed base for
            ``locomotion``, a floating one for ``ee_reach``), naming the parameter.
    """
    model = given_robot(task, robot, robot_description)
    if model is None:
        return factory(task, **kwargs)
    try:
        return factory(task, robot=model, **kwargs)
    except ValueError as exc:
        raise ValueError(f'parameter {culprit(robot, robot_description)!r}: {exc}') from None


def task_robot(env_or_task: Any) -> RobotModel | None:
    """The robot model a task (or its env) runs on; None for tasks with their own model."""
    robot = getattr(env_or_task, 'robot', None)
    return robot if isinstance(robot, RobotModel) else None
