# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The training loop: determinism, exact resume, metrics files, clear errors on NaN."""

import csv
import math

import gymnasium as gym
import numpy as np
import pytest
import torch
from doubles.test_training_doubles import build_tiny

from robotrl_ros.training import experiment
from robotrl_ros.training.checkpoints import CheckpointError, checkpoint_path
from robotrl_ros.training.config import TrainConfig
from robotrl_ros.training.metrics import COLUMNS, read_metrics
from robotrl_ros.training.vec_env import EnvBatch

CONFIG = dict(n_envs=2, log_every=200, checkpoint_every=300)


@pytest.fixture(autouse=True)
def tiny_agents(monkeypatch):
    monkeypatch.setattr(experiment, 'build_agent', build_tiny)


def _train(out, steps, seed=0, resume=False, stop_at=None, **kw):
    config = TrainConfig(**{**CONFIG, **kw})
    stop = None
    if stop_at is not None:
        counter = {'n': 0}

        def stop():
            counter['n'] += 1
            return counter['n'] > stop_at
    return experiment.train_run('reach', 'tiny', steps, seed, out, config=config, resume=resume,
                                should_stop=stop, tensorboard=False)


def _params(agent):
    return torch.cat([p.detach().flatten() for p in agent.net.parameters()])


def _rows_without_timing(path):
    return [{k: v for k, v in row.items() if k not in ('time_s', 'steps_per_s')}
            for row in read_metrics(path)]


def test_same_seed_same_run_and_other_seed_differs(tmp_path):
    a = _train(tmp_path / 'a', 600)
    b = _train(tmp_path / 'b', 600)
    c = _train(tmp_path / 'c', 600, seed=1)
    assert torch.equal(_params(a.agent), _params(b.agent))
    assert list(a.state.recent_returns) == list(b.state.recent_returns)
    assert not torch.equal(_params(a.agent), _params(c.agent))


def test_resume_after_interrupt_equals_uninterrupted_run(tmp_path):
    full = _train(tmp_path / 'full', 1200)
    # Stop mid-episode (iteration 173 = step 346: not a checkpoint or episode boundary).
    part = _train(tmp_path / 'split', 1200, stop_at=173)
    assert part.stopped_early and part.state.step == 346
    resumed = _train(tmp_path / 'split', 1200, resume=True)
    assert not resumed.stopped_early
    assert resumed.state.step == full.state.step == 1200
    assert torch.equal(_params(resumed.agent), _params(full.agent))
    assert resumed.state.episodes == full.state.episodes
    assert list(resumed.state.recent_returns) == list(full.state.recent_returns)
    np.testing.assert_array_equal(resumed.state.obs, full.state.obs)
    # metrics.csv reads as one run: same rows (timing aside), no duplicates after the resume.
    assert (_rows_without_timing(tmp_path / 'split' / 'metrics.csv')
            == _rows_without_timing(tmp_path / 'full' / 'metrics.csv'))


def test_resume_twice_to_a_longer_budget(tmp_path):
    full = _train(tmp_path / 'full', 1000)
    _train(tmp_path / 'run', 400)
    _train(tmp_path / 'run', 700, resume=True)
    last = _train(tmp_path / 'run', 1000, resume=True)
    assert torch.equal(_params(last.agent), _params(full.agent))


def test_resume_errors_name_the_problem(tmp_path):
    with pytest.raises(CheckpointError, match='no checkpoint'):
        _train(tmp_path / 'none', 100, resume=True)
    _train(tmp_path / 'run', 100)
    with pytest.raises(ValueError, match='already holds a run'):
        _train(tmp_path / 'run', 100)
    with pytest.raises(CheckpointError, match="task 'reach'"):
        experiment.train_run('reach_discrete', 'tiny', 200, 0, tmp_path / 'run',
                             config=TrainConfig(**CONFIG), resume=True, tensorboard=False)
    checkpoint_path(tmp_path / 'run').write_bytes(b'not a checkpoint')
    with pytest.raises(CheckpointError, match='corrupt'):
        _train(tmp_path / 'run', 200, resume=True)


def test_checkpoint_is_replaced_atomically(tmp_path):
    _train(tmp_path / 'run', 700)
    files = sorted(p.name for p in (tmp_path / 'run' / 'checkpoints').iterdir())
    assert files == ['last.pt', 'previous.pt']  # two generations, no temporary file


def test_run_directory_files_are_well_formed(tmp_path):
    result = experiment.train_run('reach', 'tiny', 1000, 0, tmp_path / 'run',
                                  config=TrainConfig(**CONFIG))
    run = tmp_path / 'run'
    with open(run / 'metrics.csv', newline='') as handle:
        assert tuple(csv.DictReader(handle).fieldnames) == COLUMNS
    rows = read_metrics(run / 'metrics.csv')
    assert [r['step'] for r in rows] == [200, 400, 600, 800, 1000]
    assert all(r['steps_per_s'] > 0 for r in rows)
    finished = [r for r in rows if not math.isnan(r['return_mean'])]
    assert finished and all(-400 < r['return_mean'] < 20 for r in finished)
    assert rows[-1]['episodes'] == result.state.episodes == 10  # 2 envs x 500 steps / 100
    assert (run / 'learning_curve.png').read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    events = list((run / 'tensorboard').glob('events.out.tfevents.*'))
    assert events and events[0].stat().st_size > 200
    assert (run / 'policy' / 'policy.pt').is_file() and (run / 'policy' / 'policy.yaml').is_file()
    assert (run / 'config.yaml').read_text().startswith('task: reach')


class _NaNEnv(gym.Env):
    observation_space = gym.spaces.Box(-1, 1, (2,))
    action_space = gym.spaces.Box(-1, 1, (1,))

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return np.zeros(2, np.float32), {}

    def step(self, action):
        return np.array([0.0, np.nan]), 0.0, False, False, {}


def test_nan_observation_raises_naming_the_task_and_env():
    envs = EnvBatch([_NaNEnv(), _NaNEnv()], task='nan_task')
    envs.reset(seed=0)
    with pytest.raises(FloatingPointError, match=r"task 'nan_task': env 0 .*non-finite "
                                                  r'observation'):
        envs.step(np.zeros((2, 1)))


def test_env_batch_returns_true_final_obs_and_resets(tmp_path):
    from robotrl_ros.tasks.registry import make_env
    envs = EnvBatch([make_env('reach')], task='reach')
    envs.reset(seed=3)
    for _ in range(99):
        envs.step(np.zeros((1, 3)))
    next_obs, _, terminated, truncated, final_obs, success = envs.step(np.zeros((1, 3)))
    assert truncated[0] and not terminated[0] and success == [False]
    assert not np.array_equal(next_obs, final_obs)  # next_obs is the new episode's first obs
