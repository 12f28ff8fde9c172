# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""A batch of locomotion robots behaves like that many LocomotionEnvs, task math in one call."""

import numpy as np
import pytest

from robotrl_ros.tasks.locomotion import LocomotionEnv
from robotrl_ros.tasks.locomotion_batch import LocomotionBatch


@pytest.mark.parametrize('weights', [None, {'feet_air_time': 1.0}])
def test_batch_equals_single_envs_through_falls_and_resets(weights):
    n, seed, steps = 3, 7, 60
    batch = LocomotionBatch(n, 'a1', reward_weights=weights)
    envs = [LocomotionEnv('a1', reward_weights=weights) for _ in range(n)]
    obs = batch.reset(seed)
    single = np.stack([env.reset(seed=seed + i)[0] for i, env in enumerate(envs)])
    np.testing.assert_allclose(obs, single, atol=1e-6)
    np.testing.assert_array_equal(batch.cmd, np.stack([env.goal for env in envs]))
    rng = np.random.default_rng(0)
    ended = 0
    for t in range(steps):
        actions = rng.uniform(-1, 1, (n, 12))
        if t == 20:     # tip robot 1 over in both: it falls, ends and is reset
            for data in (batch.datas[1], envs[1].data):
                data.qpos[3:7] = [np.cos(np.pi / 4), np.sin(np.pi / 4), 0, 0]
            envs[1]._last_state = None
        next_obs, reward, terminated, truncated, final_obs, success = batch.step(actions)
        for i, env in enumerate(envs):
            o, r, term, trunc, info = env.step(actions[i])
            np.testing.assert_allclose(final_obs[i], o, atol=1e-6)
            assert reward[i] == pytest.approx(r, abs=1e-9)
            assert (terminated[i], truncated[i]) == (term, trunc)
            if term or trunc:
                ended += 1
                assert success[i] == info['is_success']
                o, _ = env.reset()
            else:
                assert success[i] is None
            np.testing.assert_allclose(next_obs[i], o, atol=1e-6)
    assert ended >= 1


def test_bad_actions_and_sizes_are_refused():
    with pytest.raises(ValueError, match='n_envs >= 1'):
        LocomotionBatch(0)
    batch = LocomotionBatch(2)
    batch.reset(0)
    with pytest.raises(ValueError, match=r'shape \(2, 12\)'):
        batch.step(np.zeros((3, 12)))
    with pytest.raises(ValueError, match='finite'):
        batch.step(np.full((2, 12), np.nan))
    with pytest.raises(ValueError, match='fixed base'):
        LocomotionBatch(1, 'panda')


def test_pickled_batch_rebuilds_its_model_and_continues_identically():
    import pickle

    batch = LocomotionBatch(2, 'a1', reward_weights={'termination': -3.0, 'feet_air_time': 1.0})
    batch.reset(11)
    rng = np.random.default_rng(4)
    for _ in range(25):
        batch.step(rng.uniform(-1, 1, (2, 12)))
    for _ in range(500):                # until a foot is in the air: its timer must travel too
        if batch.feet_air.air.any():
            break
        batch.step(rng.uniform(-1, 1, (2, 12)))
    blob = pickle.dumps(batch)
    assert b'MjModel' not in blob and b'MjData' not in blob
    copy = pickle.loads(blob)
    assert copy.task.weights['termination'] == -3.0
    assert batch.feet_air.air.any()
    np.testing.assert_array_equal(copy.feet_air.air, batch.feet_air.air)
    for data in (batch.datas[0], copy.datas[0]):   # a fall: the episode ends, a new one starts
        data.qpos[3:7] = [np.cos(np.pi / 4), np.sin(np.pi / 4), 0, 0]
    for _ in range(25):
        actions = rng.uniform(-1, 1, (2, 12))
        for want, got in zip(batch.step(actions), copy.step(actions), strict=True):
            if isinstance(want, list):
                assert want == got
            else:
                np.testing.assert_array_equal(want, got)
