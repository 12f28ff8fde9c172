# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Envs stepped by worker processes: same results as in process, clear errors, clean stop."""

import os

import gymnasium as gym
import numpy as np
import pytest
import torch
from doubles.test_training_doubles import build_tiny

from robotrl_ros.tasks.registry import make_env
from robotrl_ros.training import experiment
from robotrl_ros.training.config import TrainConfig
from robotrl_ros.training.subproc_env import SubprocEnvBatch, in_workers
from robotrl_ros.training.vec_env import EnvBatch, make_env_batch


class _NaNAfter(gym.Env):
    """Finite observations until step ``bad_at``, then NaN."""

    observation_space = gym.spaces.Box(-1.0, 1.0, (2,))
    action_space = gym.spaces.Box(-1.0, 1.0, (1,))

    def __init__(self, bad_at: int = 10**9) -> None:
        self.bad_at, self.t = bad_at, 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return np.zeros(2), {}

    def step(self, action):
        self.t += 1
        return np.array([0.0, np.nan if self.t >= self.bad_at else 0.0]), 0.0, False, False, {}


class _DiesOnStep(_NaNAfter):
    def step(self, action):
        os._exit(3)


def _pair(n_envs: int, workers: int, seed: int = 7):
    local = make_env_batch('reach', n_envs)
    remote = in_workers(make_env_batch('reach', n_envs), workers)
    return local, remote, local.reset(seed), remote.reset(seed)


def test_workers_give_the_same_results_as_stepping_in_process():
    local, remote, first_local, first_remote = _pair(5, 2)
    try:
        assert isinstance(remote, SubprocEnvBatch) and remote.n_envs == 5
        assert [(s.start, s.stop) for s in remote.slices] == [(0, 2), (2, 5)]
        np.testing.assert_array_equal(first_local, first_remote)
        rng = np.random.default_rng(0)
        ended = 0
        for _ in range(230):  # past two episode ends (100 steps each) for every env
            actions = rng.uniform(-1, 1, (5, 3))
            want, got = local.step(actions), remote.step(actions)
            for a, b in zip(want[:5], got[:5], strict=True):
                np.testing.assert_array_equal(a, b)
            assert want[5] == got[5]
            ended += int(np.sum(want[2] | want[3]))
        assert ended >= 10
    finally:
        local.close()
        remote.close()


def test_training_with_env_workers_equals_training_in_process(tmp_path, monkeypatch):
    monkeypatch.setattr(experiment, 'build_agent', build_tiny)

    def train(out, workers, steps=600, **kw):
        config = TrainConfig(n_envs=2, env_workers=workers, log_every=200, checkpoint_every=300)
        return experiment.train_run('reach', 'tiny', steps, 0, out, config=config,
                                    tensorboard=False, **kw)

    in_process = train(tmp_path / 'a', 0)
    with_workers = train(tmp_path / 'b', 2)
    params = [torch.cat([p.detach().flatten() for p in r.agent.net.parameters()])
              for r in (in_process, with_workers)]
    assert torch.equal(*params)
    assert list(in_process.state.recent_returns) == list(with_workers.state.recent_returns)
    # A checkpoint holds the workers' envs (simulator state, RNGs): resuming continues exactly.
    counter = {'n': 0}

    def stop_after_173():
        counter['n'] += 1
        return counter['n'] > 173

    train(tmp_path / 'c', 2, steps=1200, should_stop=stop_after_173)
    resumed = train(tmp_path / 'c', 2, steps=1200, resume=True)
    full = train(tmp_path / 'd', 0, steps=1200)
    np.testing.assert_array_equal(resumed.state.obs, full.state.obs)
    assert list(resumed.state.recent_returns) == list(full.state.recent_returns)


def test_a_nan_in_a_worker_names_the_env_by_its_global_index():
    envs = SubprocEnvBatch(EnvBatch([_NaNAfter(), _NaNAfter(), _NaNAfter(), _NaNAfter(2)],
                                    task='nan_task'), 2)
    try:
        envs.reset(seed=0)
        envs.step(np.zeros((4, 1)))
        with pytest.raises(FloatingPointError, match=r"task 'nan_task': env 3 .*non-finite"):
            envs.step(np.zeros((4, 1)))
    finally:
        envs.close()


def test_a_dead_worker_is_reported_not_waited_for():
    envs = SubprocEnvBatch(EnvBatch([_NaNAfter(), _DiesOnStep()], task='t'), 2)
    try:
        envs.reset(seed=0)
        with pytest.raises(RuntimeError, match=r'env worker 1 \(envs 1-1\) exited unexpectedly '
                                               r'\(exit code 3\)'):
            envs.step(np.zeros((2, 1)))
        with pytest.raises(RuntimeError, match='env worker 1'):  # and again, without hanging
            envs.step(np.zeros((2, 1)))
    finally:
        envs.close()


def test_close_stops_the_workers_and_is_idempotent():
    envs = in_workers(make_env_batch('reach', 2), 2)
    procs = list(envs._procs)
    assert all(p.is_alive() for p in procs)
    envs.close()
    envs.close()
    assert not any(p.is_alive() for p in procs)
    with pytest.raises(RuntimeError, match='closed'):
        envs.step(np.zeros((2, 3)))


@pytest.mark.parametrize('workers', [0, 3, -1])
def test_worker_count_must_fit_the_batch(workers):
    with pytest.raises(ValueError, match='env_workers must be between 1 and n_envs=2'):
        SubprocEnvBatch(EnvBatch([make_env('reach'), make_env('reach')], 'reach'), workers)


def test_a_batch_pickled_before_index_offset_and_closed_existed_still_works():
    import pickle

    batch = EnvBatch([_NaNAfter(2)], task='old')
    del batch.index_offset            # as unpickled from an older checkpoint
    old = pickle.loads(pickle.dumps(batch))
    old.reset(seed=0)
    old.step(np.zeros((1, 1)))
    with pytest.raises(FloatingPointError, match=r"task 'old': env 0 "):
        old.step(np.zeros((1, 1)))
    old.close()
    old.close()
