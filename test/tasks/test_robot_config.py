# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Robot YAML files: built-ins load; unknown keys and bad values name the file and the key."""

import pytest
import yaml

from robotrl_ros.tasks.robots import RobotConfigError, builtin_robots, load_robot
from robotrl_ros.tasks.robots.config import robot_config_from_dict

BUILTINS = ('a1', 'panda', 'mini_cheetah', 'laikago', 'iiwa', 'xarm6')


def write(tmp_path, data, name='my_robot.yaml'):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data))
    return path


def test_builtin_robots_are_listed_and_load():
    assert set(BUILTINS) <= set(builtin_robots())
    for name in BUILTINS:
        config = load_robot(name)
        assert config.name == name
        assert config.source.endswith(f'{name}.yaml')
    assert load_robot('a1').floating and not load_robot('panda').floating
    assert load_robot('panda').ee_link == 'panda_grasptarget'
    assert load_robot('a1').feet == ('FR_toe', 'FL_toe', 'RR_toe', 'RL_toe')


def test_a_path_loads_with_per_joint_values_and_defaults(tmp_path):
    path = write(tmp_path, {'description': 'robot.urdf', 'base': 'floating',
                            'kp': 30, 'kd': {'*': 1.0, 'knee': 2.0},
                            'joints': ['hip', 'knee'], 'default_pose': {'knee': -1.0}})
    config = load_robot(path)
    assert config.name == 'my_robot'
    assert config.kp == {'*': 30.0}
    assert config.kd == {'*': 1.0, 'knee': 2.0}
    assert config.joints == ('hip', 'knee')
    assert config.default_pose == {'knee': -1.0}
    assert config.imu_link == '' and config.timestep == 0.002
    assert load_robot(str(path)) == config     # a string path works too
    assert config.to_dict()['joints'] == ['hip', 'knee']


def test_unknown_key_names_the_file_and_the_key(tmp_path):
    path = write(tmp_path, {'description': 'robot.urdf', 'stiffness': 10})
    with pytest.raises(RobotConfigError) as err:
        load_robot(path)
    message = str(err.value)
    assert str(path.resolve()) in message and 'stiffness' in message and 'unknown key' in message


@pytest.mark.parametrize('key, value, words', [
    ('base', 'wheeled', 'floating, fixed'),
    ('kp', -5, 'must be >= 0'),
    ('kd', 'soft', 'expected a number or a mapping'),
    ('effort_limit', {'hip': float('nan')}, 'finite number'),
    ('default_pose', {'hip': True}, 'finite number'),
    ('joints', 'hip, knee', None),
    ('joints', [1, 2], 'list of names'),
    ('feet', ['a', 'a'], 'repeat'),
    ('timestep', 0, 'seconds'),
    ('ee_link', 3, 'expected a string'),
    ('xacro_args', ['a'], 'mapping'),
])
def test_bad_values_name_the_file_and_the_key(tmp_path, key, value, words):
    path = write(tmp_path, {'description': 'robot.urdf', key: value})
    if words is None:       # a single name is accepted as a one-element list
        assert load_robot(path).joints == ('hip, knee',)
        return
    with pytest.raises(RobotConfigError) as err:
        load_robot(path)
    message = str(err.value)
    assert str(path.resolve()) in message and key in message and words in message


def test_missing_description_empty_file_and_not_a_mapping(tmp_path):
    with pytest.raises(RobotConfigError, match='description: missing'):
        load_robot(write(tmp_path, {'base': 'fixed'}))
    with pytest.raises(RobotConfigError, match='description: missing'):
        load_robot(write(tmp_path, None, 'empty.yaml'))
    with pytest.raises(RobotConfigError, match='expected a mapping'):
        load_robot(write(tmp_path, ['a', 'b'], 'list.yaml'))
    broken = tmp_path / 'broken.yaml'
    broken.write_text('description: [unclosed')
    with pytest.raises(RobotConfigError, match='cannot read robot file'):
        load_robot(broken)


def test_unknown_robot_name_and_missing_file_are_clear(tmp_path):
    with pytest.raises(RobotConfigError, match=r"unknown robot 'b2'; built-in robots: .*a1"):
        load_robot('b2')
    with pytest.raises(RobotConfigError, match='robot file not found'):
        load_robot(tmp_path / 'nope.yaml')
    with pytest.raises(RobotConfigError, match='empty name'):
        load_robot('')


def test_config_from_dict_without_a_file_names_the_robot():
    with pytest.raises(RobotConfigError, match=r"robot 'arm': base"):
        robot_config_from_dict({'description': 'x.urdf', 'base': 'on wheels'}, 'arm')
