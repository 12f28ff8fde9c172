# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Robots as configuration: a YAML file over a URDF/xacro/MJCF description -> a MuJoCo model.

``load_robot(name_or_path)`` reads and checks a robot file (:mod:`.config`);
``import_robot(robot)`` builds its MuJoCo model with floor, PD servos and IMU (:mod:`.importer`).
"""

from robotrl_ros.tasks.robots.config import (
    RobotConfig,
    RobotConfigError,
    builtin_robots,
    load_robot,
)
from robotrl_ros.tasks.robots.importer import RobotModel, import_robot
from robotrl_ros.tasks.robots.resolve import DescriptionError

__all__ = ['DescriptionError', 'RobotConfig', 'RobotConfigError', 'RobotModel',
           'builtin_robots', 'import_robot', 'load_robot']
