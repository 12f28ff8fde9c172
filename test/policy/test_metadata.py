# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""policy.yaml fields validated one by one (the rest: test_artifact.py)."""

import pytest

from robotrl_ros.policy.metadata import ArtifactError, validate_robot


def test_robot_deploy_config_is_validated_key_by_key():
    names = ['a', 'b']
    good = {'name': 'a1', 'description_sha256': 'ab' * 32, 'kp': [20.0, 20.0],
            'kd': [0.5, 0.5], 'default_pose': [0.1, -0.8]}
    assert validate_robot(good, names) is good
    cases = [
        ({**good, 'gains': 1}, 'unknown key'),
        ({**good, 'name': ''}, 'robot.name'),
        ({**good, 'description_sha256': 'xyz'}, 'robot.description_sha256'),
        ({**good, 'kp': [1.0]}, 'robot.kp'),
        ({**good, 'kd': [1.0, -1.0]}, 'robot.kd'),
        ({**good, 'default_pose': [0.0, float('nan')]}, 'robot.default_pose'),
        ('a1', 'robot: expected a mapping'),
    ]
    for robot, message in cases:
        with pytest.raises(ArtifactError, match=message):
            validate_robot(robot, names)
