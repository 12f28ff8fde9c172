# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Interrupt + ``--resume`` equals an uninterrupted run, with the real agents."""

import dataclasses

import pytest
import torch

from robotrl_ros.training import experiment
from robotrl_ros.training.checkpoints import PREVIOUS, CheckpointError, checkpoint_path
from robotrl_ros.training.config import TrainConfig

CASES = {
    # name: (algo, task, config, iterations before the interruption)
    'sac': ('sac', 'reach', TrainConfig(n_envs=1, log_every=100,
                                        agent={'learning_starts': 60, 'batch_size': 16,
                                               'hidden_sizes': [16]}), 83),  # while learning
    'ppo': ('ppo', 'reach', TrainConfig(n_envs=2, log_every=100,
                                        agent={'n_steps': 16, 'n_epochs': 2,
                                               'hidden_sizes': [16]}), 37),  # mid-rollout
    # The A1 batch in two env worker processes, a robot falling and being reset on the way.
    'ppo_locomotion_workers': ('ppo', 'locomotion', TrainConfig(
        n_envs=4, log_every=100, env_workers=2,
        env={'reward_weights': {'termination': -1.0}},
        agent={'n_steps': 8, 'n_epochs': 2, 'hidden_sizes': [16]}), 21),
}


def _weights(agent):
    state = agent.state_dict()
    flat = []

    def walk(value):
        if isinstance(value, torch.Tensor) and value.is_floating_point():
            flat.append(value.flatten().double())
        elif isinstance(value, dict):
            for key in sorted(value, key=str):
                walk(value[key])
        elif isinstance(value, (list, tuple)):
            for item in value:
                walk(item)
    walk(state)
    return torch.cat(flat)


@pytest.mark.parametrize('case', sorted(CASES))
def test_interrupted_and_resumed_run_equals_uninterrupted(tmp_path, case):
    algo, task, config, interrupt_at = CASES[case]
    steps = 200

    def train(out, resume=False, stop_after=None):
        calls = {'n': 0}

        def stop():
            calls['n'] += 1
            return stop_after is not None and calls['n'] > stop_after
        return experiment.train_run(task, algo, steps, 3, tmp_path / out, config=config,
                                    resume=resume, should_stop=stop, tensorboard=False)

    full = train('full')
    part = train('split', stop_after=interrupt_at)
    assert part.stopped_early and 0 < part.state.updates < full.state.updates
    if task == 'locomotion':  # its batch is pickled by configuration, no simulator model
        pickled = bytes(torch.load(checkpoint_path(tmp_path / 'split'),
                                   weights_only=False)['pickled'].numpy())
        assert b'LocomotionEnvBatch' in pickled and b'MjModel' not in pickled
    resumed = train('split', resume=True)
    assert resumed.state.step == full.state.step == steps
    assert resumed.state.updates == full.state.updates > 0
    assert torch.equal(_weights(resumed.agent), _weights(full.agent))
    assert list(resumed.state.recent_returns) == list(full.state.recent_returns)


def test_resume_falls_back_to_the_previous_checkpoint_when_the_newest_is_corrupt(tmp_path):
    _, task, config, interrupt_at = CASES['sac']
    config = dataclasses.replace(config, checkpoint_every=50)
    steps = 200

    def train(out, resume=False, stop_after=None):
        calls = {'n': 0}

        def stop():
            calls['n'] += 1
            return stop_after is not None and calls['n'] > stop_after
        return experiment.train_run(task, 'sac', steps, 3, tmp_path / out, config=config,
                                    resume=resume, should_stop=stop, tensorboard=False)

    full = train('full')
    part = train('split', stop_after=interrupt_at)
    last = checkpoint_path(tmp_path / 'split')
    previous = last.with_name(PREVIOUS)
    older_step = torch.load(previous, weights_only=True)['loop']['step']
    assert 0 < older_step < part.state.step
    last.write_bytes(last.read_bytes()[:100])                 # the newest is torn
    resumed = train('split', resume=True)                     # from the older generation
    assert resumed.state.step == steps
    assert torch.equal(_weights(resumed.agent), _weights(full.agent))
    for path in (last, previous):
        path.write_bytes(b'garbage')
    with pytest.raises(CheckpointError, match='last.pt is corrupt.*previous.pt is corrupt'):
        train('split', resume=True)
