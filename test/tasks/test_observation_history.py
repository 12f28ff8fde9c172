# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Observation history: terms spanning several control steps, the same in every env."""

import pickle

import numpy as np
import pytest

from robotrl_ros.tasks.locomotion_batch import LocomotionBatch
from robotrl_ros.tasks.observation_history import ObservationHistory
from robotrl_ros.tasks.registry import make_env
from robotrl_ros.tasks.spec import ObsTerm, TaskSpec

HISTORY = {'last_action': 3}


def _spec(*terms):
    return TaskSpec(name='t', joint_names=('a', 'b'), observation=terms,
                    action_scale=(1.0, 1.0), action_offset=(0.0, 0.0),
                    command_lower=(-1.0, -1.0), command_upper=(1.0, 1.0),
                    velocity_limits=(1.0, 1.0), control_period=0.1)


SPEC = _spec(ObsTerm('joint_pos', 2), ObsTerm('last_action', 2, history=3))


def test_dims_and_layout_newest_first_with_the_first_frame_repeated():
    assert (SPEC.frame_dim, SPEC.obs_dim, SPEC.has_history) == (4, 8, True)
    history = ObservationHistory(SPEC)
    first = history.push_one(np.array([1, 2, 10, 20], np.float32))
    # joint_pos once, then last_action now, one step ago, two steps ago (all the first frame)
    np.testing.assert_array_equal(first, [1, 2, 10, 20, 10, 20, 10, 20])
    second = history.push_one(np.array([3, 4, 11, 21], np.float32))
    np.testing.assert_array_equal(second, [3, 4, 11, 21, 10, 20, 10, 20])
    third = history.push_one(np.array([5, 6, 12, 22], np.float32))
    np.testing.assert_array_equal(third, [5, 6, 12, 22, 11, 21, 10, 20])
    fourth = history.push_one(np.array([7, 8, 13, 23], np.float32))
    np.testing.assert_array_equal(fourth, [7, 8, 13, 23, 12, 22, 11, 21])
    history.reset()
    np.testing.assert_array_equal(history.push_one(np.array([0, 0, 9, 9], np.float32)),
                                  [0, 0, 9, 9, 9, 9, 9, 9])


def test_peek_leaves_the_history_and_push_of_a_mask_touches_only_those_robots():
    history = ObservationHistory(SPEC, n_envs=2)
    history.push(np.array([[1, 1, 1, 1], [2, 2, 2, 2]], np.float32))
    peeked = history.peek(np.array([[5, 5, 5, 5], [6, 6, 6, 6]], np.float32))
    np.testing.assert_array_equal(peeked[0], [5, 5, 5, 5, 1, 1, 1, 1])
    history.reset(np.array([False, True]))
    rows = history.push(np.array([[0, 0, 0, 0], [7, 7, 7, 7]], np.float32),
                        np.array([False, True]))
    np.testing.assert_array_equal(rows, [[7, 7, 7, 7, 7, 7, 7, 7]])
    after = history.push(np.array([[3, 3, 3, 3], [8, 8, 8, 8]], np.float32))
    np.testing.assert_array_equal(after[0], [3, 3, 3, 3, 1, 1, 1, 1])   # peek left no trace
    np.testing.assert_array_equal(after[1], [8, 8, 8, 8, 7, 7, 7, 7])


def test_without_history_the_frame_is_the_observation():
    spec = _spec(ObsTerm('joint_pos', 2))
    frame = np.array([[1.0, 2.0]], np.float32)
    assert ObservationHistory(spec).push(frame) is frame
    assert (spec.frame_dim, spec.obs_dim, spec.has_history) == (2, 2, False)


def test_bad_frames_and_counts_are_refused_by_name():
    with pytest.raises(ValueError, match="frames must have shape"):
        ObservationHistory(SPEC).push(np.zeros((1, 5), np.float32))
    for bad in (0, 65, True, 2.0):
        with pytest.raises(ValueError, match="'last_action': history must be an integer"):
            ObsTerm('last_action', 2, history=bad)
    with pytest.raises(ValueError, match=r"unknown term\(s\) \['joint_pos'\]"):
        make_env('locomotion', obs_history={'joint_pos': 2})


def test_history_round_trips_through_the_spec_dict():
    again = TaskSpec.from_dict(SPEC.to_dict())
    assert again.observation[1].history == 3 and again.obs_dim == 8


def test_locomotion_env_sees_its_last_three_actions():
    env = make_env('locomotion', obs_history=HISTORY, seed=0)
    n = env.task_spec.action_dim
    obs, _ = env.reset(seed=0)
    assert obs.shape == (env.task_spec.frame_dim + 2 * n,) == env.observation_space.shape
    np.testing.assert_array_equal(obs[-3 * n:], 0.0)
    actions = [np.full(n, 0.1), np.full(n, -0.2), np.full(n, 0.3), np.full(n, 0.05)]
    for action in actions:
        obs, *_ = env.step(action)
    np.testing.assert_allclose(obs[-3 * n:].reshape(3, n), [actions[3], actions[2], actions[1]],
                               atol=1e-6)
    obs, _ = env.reset(seed=1)
    np.testing.assert_array_equal(obs[-3 * n:], 0.0)


def test_batch_robots_equal_envs_with_history_and_latency_and_pickle():
    dr = {'latency_steps': [1, 2], 'mass_scale': [0.8, 1.2]}
    batch = LocomotionBatch(2, 'a1', obs_history=HISTORY, randomization=dr)
    envs = [make_env('locomotion', obs_history=HISTORY, randomization=dr) for _ in range(2)]
    obs = batch.reset(seed=7)
    for i, env in enumerate(envs):
        np.testing.assert_allclose(env.reset(seed=7 + i)[0], obs[i], atol=1e-6)
    rng = np.random.default_rng(0)
    for _ in range(20):
        actions = rng.uniform(-1, 1, (2, batch.spec.action_dim))
        next_obs = batch.step(actions)[0]
        for i, env in enumerate(envs):
            np.testing.assert_allclose(env.step(actions[i])[0], next_obs[i], atol=1e-5)
    copy = pickle.loads(pickle.dumps(batch))
    actions = rng.uniform(-1, 1, (2, batch.spec.action_dim))
    np.testing.assert_array_equal(copy.step(actions)[0], batch.step(actions)[0])


def test_a_batch_robot_whose_episode_ends_starts_its_history_over():
    batch = LocomotionBatch(2, 'a1', obs_history=HISTORY)
    batch.reset(seed=3)
    n = batch.spec.action_dim
    for value in (0.1, 0.2):
        batch.step(np.full((2, n), value))
    batch.steps[0] = batch.spec.max_episode_steps - 1           # robot 0's episode ends now
    next_obs, _, _, truncated, final_obs, _ = batch.step(np.full((2, n), 0.3))
    assert truncated.tolist() == [True, False]
    for obs in (final_obs[0], final_obs[1], next_obs[1]):       # the episode's own history
        np.testing.assert_allclose(obs[-3 * n:].reshape(3, n)[:, 0], [0.3, 0.2, 0.1], atol=1e-6)
    np.testing.assert_array_equal(next_obs[0][-3 * n:], 0.0)    # a new episode: nothing older
    following = batch.step(np.full((2, n), -0.4))[0]
    np.testing.assert_allclose(following[0][-3 * n:].reshape(3, n)[:, 0], [-0.4, 0.0, 0.0],
                               atol=1e-6)
