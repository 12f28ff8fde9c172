# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Interrupt + ``--resume`` equals an uninterrupted run, with the real agents."""

import pytest
import torch

from robotrl_ros.training import experiment
from robotrl_ros.training.config import TrainConfig

CASES = {
    # algo: (task, config, iterations before the interruption)
    'sac': ('reach', TrainConfig(n_envs=1, log_every=100,
                                 agent={'learning_starts': 60, 'batch_size': 16,
                                        'hidden_sizes': [16]}), 83),  # while learning
    'ppo': ('reach', TrainConfig(n_envs=2, log_every=100,
                                 agent={'n_steps': 16, 'n_epochs': 2,
                                        'hidden_sizes': [16]}), 37),  # mid-rollout
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


@pytest.mark.parametrize('algo', sorted(CASES))
def test_interrupted_and_resumed_run_equals_uninterrupted(tmp_path, algo):
    task, config, interrupt_at = CASES[algo]
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
    resumed = train('split', resume=True)
    assert resumed.state.step == full.state.step == steps
    assert resumed.state.updates == full.state.updates > 0
    assert torch.equal(_weights(resumed.agent), _weights(full.agent))
    assert list(resumed.state.recent_returns) == list(full.state.recent_returns)
