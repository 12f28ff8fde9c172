# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Hyperparameter YAML: defaults per task x algo, overrides, and errors that name the problem."""

import pytest
import yaml

from robotrl_ros.training.config import (
    ConfigError,
    default_config_path,
    hparams_dir,
    load_config,
    task_slug,
)


def _write(path, data):
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data))
    return path


@pytest.mark.parametrize('task,slug', [('reach', 'reach'), ('gym:Pendulum-v1', 'pendulum'),
                                       ('gym:CartPole-v1', 'cartpole'),
                                       ('reach_discrete', 'reach_discrete')])
def test_task_slug(task, slug):
    assert task_slug(task) == slug


def test_every_shipped_defaults_file_loads_and_has_only_known_keys():
    files = sorted(hparams_dir().glob('*.yaml'))
    assert files, f'no defaults in {hparams_dir()}'
    for path in files:
        task, algo = path.stem.rsplit('_', 1) if not path.stem.endswith('q_learning') else (
            path.stem[:-len('_q_learning')], 'q_learning')
        assert default_config_path(task, algo) == path
        config = load_config(task, algo)
        assert config.sources == [str(path)]


def test_override_merges_agent_keys_and_replaces_loop_keys(tmp_path):
    base = load_config('reach', 'ppo')
    override = _write(tmp_path / 'o.yaml', {'n_envs': 3, 'agent': {'learning_rate': 0.5}})
    config = load_config('reach', 'ppo', override)
    assert config.n_envs == 3
    assert config.agent['learning_rate'] == 0.5
    for key, value in base.agent.items():  # other defaults survive the merge
        if key != 'learning_rate':
            assert config.agent[key] == value
    assert config.sources[-1] == str(override)


def test_no_defaults_file_means_builtin_defaults():
    config = load_config('no_such_task', 'ppo')
    assert config.n_envs == 1 and config.agent == {} and config.sources == []


@pytest.mark.parametrize('data,match', [
    ({'learning_rate': 0.1}, r"unknown key 'learning_rate' in config file .*o\.yaml.*agent:"),
    ({'n_envs': 0}, r"'n_envs' in config file .*o\.yaml must be > 0"),
    ({'checkpoint_every': -1}, r"'checkpoint_every' .* must be >= 0"),
    ({'n_envs': 'four'}, r"'n_envs' in config file .*o\.yaml must be an integer"),
    ({'agent': [1, 2]}, r"'agent' in config file .*o\.yaml must be a mapping"),
    ('- a\n- b\n', r'o\.yaml must hold a mapping'),
    ('n_envs: [1,\n', r'o\.yaml is not valid YAML'),
])
def test_bad_override_names_key_and_file(tmp_path, data, match):
    path = _write(tmp_path / 'o.yaml', data)
    with pytest.raises(ConfigError, match=match):
        load_config('reach', 'ppo', path)


def test_missing_override_file(tmp_path):
    with pytest.raises(ConfigError, match=r'cannot read config file .*missing\.yaml'):
        load_config('reach', 'ppo', tmp_path / 'missing.yaml')


def test_empty_override_changes_nothing(tmp_path):
    assert (load_config('reach', 'ppo', _write(tmp_path / 'o.yaml', '')).to_dict()
            == load_config('reach', 'ppo').to_dict())


GYM_TASKS = {'pendulum': 'gym:Pendulum-v1', 'cartpole': 'gym:CartPole-v1'}


def test_shipped_agent_hyperparameters_are_valid_for_their_algorithm():
    from robotrl_ros.agents.registry import algo_names, make_agent
    from robotrl_ros.tasks.registry import make_env
    files = sorted(hparams_dir().glob('*.yaml'))
    for path in files:
        algo = next(a for a in algo_names() if path.stem.endswith('_' + a))
        slug = path.stem[:-len(algo) - 1]
        task = GYM_TASKS.get(slug, slug)
        env = make_env(task)
        make_agent(algo, env, load_config(task, algo).agent, seed=0)  # raises on a bad key
        env.close()
