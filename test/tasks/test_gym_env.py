# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""``gym:<id>`` benchmark envs: actions rescaled to [-1, 1], no task spec, clear errors."""

import pickle

import gymnasium as gym
import numpy as np
import pytest

from robotrl_ros.tasks.registry import make_env


def test_pendulum_actions_are_rescaled_to_unit_range():
    env = make_env('gym:Pendulum-v1')
    assert env.task_spec is None and env.goal is None
    assert env.action_space.low.tolist() == [-1.0] and env.action_space.high.tolist() == [1.0]
    raw = gym.make('Pendulum-v1')
    env.reset(seed=4)
    raw.reset(seed=4)
    # +1 in our range is the raw env's max torque (2.0); 0.5 is 1.0.
    for ours, theirs in ((1.0, 2.0), (0.5, 1.0), (-1.0, -2.0)):
        obs, r, *_ = env.step(np.array([ours]))
        obs_raw, r_raw, *_ = raw.step(np.array([theirs], dtype=np.float32))
        np.testing.assert_allclose(obs, obs_raw, rtol=1e-6)
        assert r == pytest.approx(r_raw)


def test_out_of_range_actions_are_clipped():
    env = make_env('gym:Pendulum-v1')
    raw = gym.make('Pendulum-v1')
    env.reset(seed=1)
    raw.reset(seed=1)
    obs, *_ = env.step(np.array([7.0]))
    obs_raw, *_ = raw.step(np.array([2.0], dtype=np.float32))
    np.testing.assert_allclose(obs, obs_raw, rtol=1e-6)


def test_discrete_and_mujoco_ids():
    cart = make_env('gym:CartPole-v1', seed=0)
    assert isinstance(cart.action_space, gym.spaces.Discrete) and cart.task_spec is None
    assert cart.step(1)[1] == 1.0
    reacher = make_env('gym:Reacher-v5', seed=0)
    assert reacher.action_space.shape == (2,) and float(reacher.action_space.high[0]) == 1.0


def test_seed_makes_runs_reproducible():
    def first_obs(seed):
        env = make_env('gym:CartPole-v1', seed=seed)
        return env.step(0)[0]

    np.testing.assert_array_equal(first_obs(5), first_obs(5))
    assert not np.array_equal(first_obs(5), first_obs(6))


def test_bad_input():
    env = make_env('gym:Pendulum-v1', seed=0)
    with pytest.raises(ValueError, match='gym:Pendulum-v1: action contains NaN'):
        env.step(np.array([np.nan]))
    with pytest.raises(ValueError, match="unknown Gymnasium environment 'gym:NoSuchEnv-v0'"):
        make_env('gym:NoSuchEnv-v0')
    with pytest.raises(ValueError, match='give a Gymnasium id'):
        make_env('gym:')
    with pytest.raises(ValueError, match='robot tasks only'):
        make_env('gym:Pendulum-v1', randomization='shifted')


def test_benchmark_envs_pickle_for_training_checkpoints():
    env = make_env('gym:Pendulum-v1', seed=2)
    env.step(np.array([0.3]))
    copy = pickle.loads(pickle.dumps(env))
    for a in (0.5, -1.0, 0.1):
        np.testing.assert_array_equal(env.step(np.array([a]))[0], copy.step(np.array([a]))[0])
