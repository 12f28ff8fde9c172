# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""``train_run``'s warm start (``init_policy``): a new run from another run's agent."""

import json

import pytest
import torch

from robotrl_ros.training import experiment
from robotrl_ros.training.config import TrainConfig

PPO = {'n_steps': 16, 'n_epochs': 2, 'hidden_sizes': [16]}


def _train(out, steps, n_envs, **kwargs):
    config = TrainConfig(n_envs=n_envs, log_every=1000, agent=dict(PPO))
    return experiment.train_run('reach', 'ppo', steps, 3, out, config=config,
                                tensorboard=False, **kwargs)


def _params(agent):
    return torch.cat([p.detach().flatten() for module in (agent.policy, agent.critic)
                      for p in module.parameters()])


def test_init_policy_starts_a_new_run_from_the_other_runs_agent(tmp_path):
    # The first run stops mid-rollout (50 steps = 25 batches of 2, rollouts of 16).
    first = _train(tmp_path / 'nominal', 50, n_envs=2)
    assert first.state.updates == 1
    # Another number of envs and randomized dynamics: the partial rollout stays behind.
    config = TrainConfig(n_envs=3, log_every=1000, agent=dict(PPO),
                         env={'randomization': 'shifted'})
    warm = experiment.train_run('reach', 'ppo', 3, 3, tmp_path / 'dr', config=config,
                                tensorboard=False, init_policy=tmp_path / 'nominal')
    assert warm.state.step == 3 and warm.state.updates == 0          # counters start at 0
    assert torch.equal(_params(warm.agent), _params(first.agent))  # no update yet: same weights
    summary = json.loads((tmp_path / 'dr' / 'summary.json').read_text())
    assert summary['init_policy'] == str(tmp_path / 'nominal')
    longer = experiment.train_run('reach', 'ppo', 60, 3, tmp_path / 'dr2', config=config,
                                  tensorboard=False, init_policy=tmp_path / 'nominal')
    assert longer.state.updates == 1
    assert not torch.equal(_params(longer.agent), _params(first.agent))


def test_init_policy_is_refused_with_resume_and_without_a_checkpoint(tmp_path):
    with pytest.raises(ValueError, match='cannot be combined with --resume'):
        _train(tmp_path / 'a', 10, 2, resume=True, init_policy=tmp_path / 'b')
    with pytest.raises(ValueError, match='init_policy: no checkpoint in'):
        _train(tmp_path / 'a', 10, 2, init_policy=tmp_path / 'missing')


def test_a_resumed_warm_start_keeps_its_origin_in_the_summary(tmp_path):
    _train(tmp_path / 'nominal', 20, n_envs=2)
    _train(tmp_path / 'dr', 20, 2, init_policy=tmp_path / 'nominal')
    resumed = _train(tmp_path / 'dr', 40, 2, resume=True)
    assert resumed.state.step == 40
    summary = json.loads((tmp_path / 'dr' / 'summary.json').read_text())
    assert summary['init_policy'] == str(tmp_path / 'nominal')
    # A run that did not start warm has none, resumed or not.
    _train(tmp_path / 'cold', 20, 2)
    _train(tmp_path / 'cold', 40, 2, resume=True)
    assert 'init_policy' not in json.loads((tmp_path / 'cold' / 'summary.json').read_text())


def test_a_warm_start_takes_its_own_learning_rate_and_keeps_the_optimizer_moments(tmp_path):
    first = _train(tmp_path / 'nominal', 40, n_envs=2)   # one update: Adam has moments
    config = TrainConfig(n_envs=2, log_every=1000, agent={**PPO, 'learning_rate': 1.25e-4})
    warm = experiment.train_run('reach', 'ppo', 2, 3, tmp_path / 'fine', config=config,
                                tensorboard=False, init_policy=tmp_path / 'nominal')
    groups = warm.agent.optimizer.param_groups
    assert [g['lr'] for g in groups] == [1.25e-4] * len(groups)   # not the first run's
    assert first.agent.optimizer.param_groups[0]['lr'] != 1.25e-4
    old, new = first.agent.optimizer.state_dict(), warm.agent.optimizer.state_dict()
    assert old['state'] and old['state'].keys() == new['state'].keys()
    for index, moments in old['state'].items():
        assert torch.equal(moments['exp_avg'], new['state'][index]['exp_avg'])
