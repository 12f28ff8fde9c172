# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""``locomotion`` trains through one batch of robots with the results of separate envs."""

import pickle

import numpy as np
import pytest

from robotrl_ros.training.subproc_env import in_workers
from robotrl_ros.training.vec_env import EnvBatch, LocomotionEnvBatch, make_env_batch

#: Options a locomotion config passes (each differs from the default, so each must arrive).
OPTIONS = {'robot': 'a1', 'cmd_ranges': [[0.2, 0.6], [-0.1, 0.1], [0.0, 0.3]],
           'reward_weights': {'termination': -5.0, 'torques': -1e-3}}

#: The same with domain randomization of everything the batch randomizes.
RANDOMIZED = {**OPTIONS, 'randomization': {
    'mass_scale': [0.7, 1.3], 'friction_scale': [0.5, 1.5], 'gain_scale': [0.8, 1.2],
    'latency_steps': [1, 3], 'obs_noise_std': 0.01}}


def _assert_same_step(want, got):
    for a, b in zip(want[:5], got[:5], strict=True):
        np.testing.assert_allclose(a, b, atol=1e-9)
    assert want[5] == got[5]


def _tip_over(batch, envs, index):
    """Tip robot ``index`` over in both batches: it falls, ends and is reset."""
    for data in (batch.batch.datas[index], envs.envs[index].unwrapped.data):
        data.qpos[3:7] = [np.cos(np.pi / 4), np.sin(np.pi / 4), 0, 0]
    envs.envs[index].unwrapped._last_state = None


def _step_both(batched, separate, steps, check=lambda: None):
    """Step both batches alike (robot 2 tipped over at step 10); episodes that ended."""
    rng = np.random.default_rng(1)
    ended = 0
    for t in range(steps):
        check()
        if t == 10:
            _tip_over(batched, separate, 2)
        actions = rng.uniform(-1, 1, (3, 12))
        want, got = separate.step(actions), batched.step(actions)
        _assert_same_step(want, got)
        ended += int(np.sum(got[2] | got[3]))
    return ended


def test_locomotion_batch_equals_separate_envs_with_the_config_options():
    batched = make_env_batch('locomotion', 3, OPTIONS)
    separate = make_env_batch('locomotion', 3, OPTIONS, batched=False)
    assert isinstance(batched, LocomotionEnvBatch) and isinstance(separate, EnvBatch)
    assert batched.n_envs == 3 and len(batched.envs) == 1
    assert batched.observation_space == separate.observation_space
    assert batched.action_space == separate.action_space
    assert batched.envs[0].task_spec == separate.envs[0].task_spec
    np.testing.assert_array_equal(batched.reset(5), separate.reset(5))
    np.testing.assert_array_equal(batched.batch.cmd, [env.goal for env in separate.envs])
    # The fall: termination weight -5 in the reward, new command after it.
    assert _step_both(batched, separate, 40) >= 1
    batched.close()
    batched.close()


def test_a_fixed_goal_reaches_every_robot():
    batch = make_env_batch('locomotion', 2, {'goal': [0.3, 0.0, 0.1]})
    obs = batch.reset(0)
    np.testing.assert_array_equal(batch.batch.cmd, [[0.3, 0.0, 0.1]] * 2)
    np.testing.assert_allclose(obs[:, 33:36], [[0.3, 0.0, 0.1]] * 2, atol=1e-6)


def test_domain_randomization_in_the_batch_equals_randomized_separate_envs():
    batched = make_env_batch('locomotion', 3, RANDOMIZED)
    separate = make_env_batch('locomotion', 3, RANDOMIZED, batched=False)
    assert isinstance(batched, LocomotionEnvBatch)
    assert separate.envs[0].__class__.__name__ == 'RandomizedEnv'
    np.testing.assert_array_equal(batched.reset(5), separate.reset(5))
    robots = batched.batch.robots
    assert len({robot.model.body_mass[1] for robot in robots}) == 3     # a model per robot

    def same_episode_draws():
        assert batched.batch.episode_params == [env.episode_params for env in separate.envs]
    # The fall: robot 2 draws new dynamics, latency and noise.
    assert _step_both(batched, separate, 60, same_episode_draws) >= 1


def test_bad_options_fail_as_for_a_single_env():
    with pytest.raises(ValueError, match="task 'locomotion': bad arguments"):
        make_env_batch('locomotion', 2, {'speed': 1.0})
    with pytest.raises(ValueError, match='unknown reward term'):
        make_env_batch('locomotion', 2, {'reward_weights': {'speed': 1.0}})


def test_a_non_finite_result_names_the_env():
    batch = make_env_batch('locomotion', 3, {})
    batch.reset(0)
    observe = batch.batch.task.observe_batch

    def poisoned(*args, **kwargs):
        obs = observe(*args, **kwargs)
        obs[1, 0] = np.nan
        return obs
    batch.batch.task.observe_batch = poisoned
    with pytest.raises(FloatingPointError,
                       match=r"task 'locomotion': env 1 returned a non-finite observation "
                             r'\(NaN/Inf\) at step 1'):
        batch.step(np.zeros((3, 12)))


@pytest.mark.parametrize('options', [OPTIONS, RANDOMIZED], ids=['nominal', 'randomized'])
def test_pickled_batch_holds_no_mujoco_model_and_steps_on_identically(options):
    batch = make_env_batch('locomotion', 4, options)
    batch.reset(3)
    rng = np.random.default_rng(2)
    for _ in range(30):
        batch.step(rng.uniform(-1, 1, (4, 12)))
    blob = pickle.dumps(batch)
    assert b'MjModel' not in blob and b'MjData' not in blob
    copy = pickle.loads(blob)
    assert copy.steps == batch.steps and copy.envs[0].task_spec == batch.envs[0].task_spec
    assert copy.batch.episode_params == batch.batch.episode_params
    for tipped in (batch, copy):    # a fall: robot 1's next episode is drawn after unpickling
        tipped.batch.datas[1].qpos[3:7] = [np.cos(np.pi / 4), np.sin(np.pi / 4), 0, 0]
    for _ in range(30):
        actions = rng.uniform(-1, 1, (4, 12))
        _assert_same_step(batch.step(actions), copy.step(actions))


@pytest.mark.parametrize('options', [OPTIONS, RANDOMIZED], ids=['nominal', 'randomized'])
def test_workers_step_slices_of_the_batch_with_the_same_results(options):
    local = make_env_batch('locomotion', 3, options)
    remote = in_workers(make_env_batch('locomotion', 3, options), 2)
    try:
        assert remote.envs[0].task_spec == local.envs[0].task_spec
        np.testing.assert_array_equal(local.reset(4), remote.reset(4))
        rng = np.random.default_rng(3)
        for _ in range(20):
            actions = rng.uniform(-1, 1, (3, 12))
            _assert_same_step(local.step(actions), remote.step(actions))
        blob = pickle.dumps(remote)
        assert b'MjModel' not in blob and b'MjData' not in blob
        resumed = pickle.loads(blob)
        try:
            for _ in range(20):
                actions = rng.uniform(-1, 1, (3, 12))
                _assert_same_step(local.step(actions), resumed.step(actions))
        finally:
            resumed.close()
    finally:
        remote.close()


def test_training_through_the_batch_equals_training_on_separate_envs(tmp_path, monkeypatch):
    import functools

    import torch

    from robotrl_ros.training import experiment
    from robotrl_ros.training.config import TrainConfig

    config = TrainConfig(n_envs=4, log_every=1000, env=dict(OPTIONS),
                         agent={'n_steps': 8, 'n_epochs': 2, 'hidden_sizes': [16]})

    def train(out):
        result = experiment.train_run('locomotion', 'ppo', 96, 2, tmp_path / out, config=config,
                                      tensorboard=False)
        return result, torch.cat([p.detach().flatten()
                                  for p in result.agent.policy_module().parameters()])

    built = []

    def recording(*args, **kwargs):
        batch = make_env_batch(*args, **kwargs)
        built.append(type(batch).__name__)
        return batch

    monkeypatch.setattr(experiment, 'make_env_batch', recording)
    batched, batched_weights = train('batched')
    monkeypatch.setattr(experiment, 'make_env_batch',
                        functools.partial(recording, batched=False))
    separate, separate_weights = train('separate')
    assert built == ['LocomotionEnvBatch', 'EnvBatch']
    assert batched.state.updates == separate.state.updates == 3
    assert batched_weights.numel() > 0
    assert torch.equal(batched_weights, separate_weights)
    np.testing.assert_array_equal(batched.state.obs, separate.state.obs)
    assert (batched.artifact / 'policy.yaml').read_text() == \
        (separate.artifact / 'policy.yaml').read_text()
