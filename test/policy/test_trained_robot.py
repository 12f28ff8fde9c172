# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""policy.yaml's ``robot``: the robot file's gains and default pose travel with the policy."""

import hashlib
from fnmatch import fnmatchcase
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import yaml

from robotrl_ros.policy.artifact import load_artifact
from robotrl_ros.policy.export import export_artifact
from robotrl_ros.policy.metadata import ArtifactError
from robotrl_ros.policy.trained_robot import trained_robot
from robotrl_ros.tasks.reach import REACH_SPEC
from robotrl_ros.tasks.robots import import_robot, load_robot
from robotrl_ros.tasks.robots.description import description_path


def _tanh_mlp(spec):
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(spec.obs_dim, spec.action_dim), torch.nn.Tanh())


def _robot_yaml(name):
    config = load_robot(name)
    return config, yaml.safe_load(open(config.source).read())


def _per_joint(setting, joint):
    """The robot file's value for ``joint`` (exact name, else the last matching pattern)."""
    if not isinstance(setting, dict):
        return float(setting)
    if joint in setting:
        return float(setting[joint])
    return float([v for k, v in setting.items() if fnmatchcase(joint, k)][-1])


@pytest.fixture(scope='module')
def a1_env():
    from robotrl_ros.tasks.registry import make_env
    return make_env('locomotion', robot='a1')


def test_a1_artifact_records_the_robot_files_gains_pose_and_description_hash(tmp_path, a1_env):
    from robotrl_ros.training.experiment import export_policy

    spec = a1_env.task_spec
    agent = SimpleNamespace(policy_module=lambda: _tanh_mlp(spec))
    path = export_policy(agent, SimpleNamespace(envs=[a1_env]), tmp_path, 'ppo', {})
    robot = load_artifact(path).metadata['robot']
    config, data = _robot_yaml('a1')
    assert robot['name'] == 'a1'
    text = description_path(config).read_text()
    assert robot['description_sha256'] == hashlib.sha256(text.encode()).hexdigest()
    names = list(spec.joint_names)
    assert len(names) == 12 and names[0].endswith('_hip_joint')
    assert robot['kp'] == [20.0] * 12 and robot['kd'] == [0.5] * 12
    assert robot['default_pose'] == pytest.approx(
        [_per_joint(data['default_pose'], name) for name in names])
    assert robot['default_pose'] == pytest.approx(list(spec.action_offset))


def test_panda_per_joint_gains_follow_the_artifact_joint_order(tmp_path):
    model = import_robot('panda')
    _, data = _robot_yaml('panda')
    order = list(reversed(model.joint_names))   # any command order maps by name
    robot = trained_robot(model, order)
    assert robot['kp'] == [_per_joint(data['kp'], name) for name in order]
    assert robot['kd'] == [_per_joint(data['kd'], name) for name in order]
    assert robot['default_pose'] == pytest.approx(
        [_per_joint(data['default_pose'], name) for name in order])


def test_a_robot_given_as_a_description_string_hashes_that_string():
    config = load_robot('a1')
    text = description_path(config).read_text().replace('<robot name="a1', '<robot  name="a1')
    model = import_robot(config, text)   # the same robot, as a differently spaced string
    assert model.description_sha256 == hashlib.sha256(text.encode()).hexdigest()
    assert model.description_sha256 != import_robot(config).description_sha256


def test_toy_tasks_write_no_robot(tmp_path):
    path = export_artifact(_tanh_mlp(REACH_SPEC), REACH_SPEC, tmp_path / 'p', algorithm='ppo')
    assert 'robot' not in load_artifact(path).metadata
    assert 'robot' not in yaml.safe_load((path / 'policy.yaml').read_text())


def test_a_policy_joint_the_robot_lacks_is_named(a1_env):
    with pytest.raises(ArtifactError, match=r"\['elbow'\].*robot 'a1'"):
        trained_robot(a1_env.robot, ['FR_hip_joint', 'elbow'])


def test_the_online_learner_records_its_robot(tmp_path, a1_env):
    from robotrl_ros.agents.registry import make_agent
    from robotrl_ros.training.online.learner import OnlineLearner

    agent = make_agent('sac', a1_env, {}, 0)
    learner = OnlineLearner(agent, a1_env.task_spec, tmp_path / 'run', algo='sac',
                            robot=a1_env.robot)
    robot = load_artifact(learner.export(tmp_path / 'policy')).metadata['robot']
    assert robot['name'] == 'a1'
    np.testing.assert_allclose(robot['default_pose'], a1_env.robot.default_pose)


def test_the_trainer_session_records_the_robot_it_is_given(tmp_path):
    """trainer_node's session: parameters robot / robot_description -> the artifact's robot."""
    from robotrl_ros.training.online.session import OnlineSession, SessionConfig

    text = description_path(load_robot('a1')).read_text()
    session = OnlineSession(SessionConfig(task='locomotion', algo='sac', robot='a1',
                                          robot_description=text,
                                          output_dir=str(tmp_path / 'run')))
    robot = load_artifact(session.learner.export(tmp_path / 'policy')).metadata['robot']
    assert robot['name'] == 'a1' and robot['kp'] == [20.0] * 12
    assert robot['description_sha256'] == hashlib.sha256(text.encode()).hexdigest()
