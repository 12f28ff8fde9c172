# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Sim-to-real wrappers: dynamics hooks, latency, observation noise, seeding and bad ranges."""

import pickle

import numpy as np
import pytest

from robotrl_ros.tasks.randomization import (
    SHIFTED,
    RandomizationConfig,
    RandomizedEnv,
    as_randomization,
)
from robotrl_ros.tasks.reach import ReachEnv
from robotrl_ros.tasks.registry import make_env

START = {'start': [0.0, 0.0, 0.0], 'goal': [0.9, 0.9, 0.9]}


def _velocity_after(env, action, steps=1):
    for _ in range(steps):
        env.step(np.asarray(action, dtype=np.float64))
    return env.joint_state()[2]


def test_reach_dynamics_hook():
    env = ReachEnv()
    env.reset(options=START)
    env.set_dynamics(mass_scale=2.0, gain_scale=0.5)        # accel gain 1 * 0.5 / 2
    np.testing.assert_allclose(_velocity_after(env, [1.0, 0.0, -1.0]), [0.025, 0.0, -0.025])
    env.set_dynamics(friction_scale=1.5)                   # damping 0.05, nominal gain again
    v = _velocity_after(env, [0.0, 0.0, 0.0])
    np.testing.assert_allclose(v, [0.025 * 0.95, 0.0, -0.025 * 0.95])
    env.set_dynamics()                                     # back to the exact formulas
    np.testing.assert_allclose(_velocity_after(env, [1.0, 0.0, 0.0]), v + [0.1, 0.0, 0.0])


def test_latency_delays_commands_by_k_steps():
    config = RandomizationConfig(latency_steps=(2, 2))
    env = RandomizedEnv(ReachEnv(), config, seed=0)
    env.reset(seed=0, options=START)
    assert env.episode_params['latency_steps'] == 2
    velocities = [_velocity_after(env, [1.0, 0.0, 0.0])[0] for _ in range(4)]
    np.testing.assert_allclose(velocities, [0.0, 0.0, 0.1, 0.2])
    # last_action is what was commanded, as a trainer observing the command topic sees it.
    np.testing.assert_allclose(env.robot_state().last_action, [1.0, 0.0, 0.0])


def test_latency_applies_on_the_sim_bridge_path_too():
    env = make_env('reach', randomization={'latency_steps': [1, 1]}, seed=0)
    env.reset(options=START)
    env.step_command(np.array([0.0, 1.0, 0.0]))
    assert env.joint_state()[2].tolist() == [0.0, 0.0, 0.0]
    env.step_command(np.array([0.0, 0.0, 0.0]))
    np.testing.assert_allclose(env.joint_state()[2], [0.0, 0.1, 0.0])


def test_observation_noise_is_consistent_within_a_step():
    env = RandomizedEnv(ReachEnv(), RandomizationConfig(obs_noise_std=0.05), seed=1)
    obs, _ = env.reset(seed=1, options=START)
    names, pos, vel, _ = env.joint_state()
    assert names == ('x', 'y', 'z')
    np.testing.assert_allclose(obs[:3], pos, rtol=1e-6)
    np.testing.assert_allclose(env.robot_state().position, pos)
    assert 0 < np.abs(pos).max() < 0.3 and np.abs(vel).max() > 0
    nominal = ReachEnv()
    nominal.reset(options=START)
    noisy_pos = []
    for _ in range(200):
        env.step(np.zeros(3))
        nominal.step(np.zeros(3))
        noisy_pos.append(env.joint_state()[1] - nominal.joint_state()[1])
    assert np.std(noisy_pos) == pytest.approx(0.05, rel=0.15)


def test_episode_params_within_ranges_and_reproducible_from_seed():
    def draws(seed):
        env = make_env('reach', randomization=SHIFTED, seed=seed)
        out = []
        for _ in range(30):
            _, info = env.reset()
            assert info['randomization'] == env.episode_params
            out.append(env.episode_params)
        return out

    first = draws(11)
    assert first == draws(11) and first != draws(12)
    for params in first:
        assert 0.7 <= params['mass_scale'] <= 1.3
        assert 0.5 <= params['friction_scale'] <= 1.5
        assert params['gain_scale'] == 1.0
        assert params['latency_steps'] in (1, 2, 3)
        assert params['obs_noise_std'] == 0.01
    assert {p['latency_steps'] for p in first} == {1, 2, 3}


def test_randomized_dynamics_change_the_trajectory():
    def final_position(randomization):
        env = make_env('reach', randomization=randomization, seed=2)
        env.reset(seed=2, options=START)
        for _ in range(10):
            env.step(np.ones(3))
        return env.joint_state()[1]

    nominal = final_position(None)
    np.testing.assert_allclose(final_position('nominal'), nominal)
    heavy = final_position({'mass_scale': [2.0, 2.0]})
    assert np.all(heavy < nominal)


def test_wrapper_forwards_task_helpers():
    env = make_env('gridworld', randomization={'latency_steps': [0, 1]}, seed=0)
    assert env.n_states == 64
    assert env.state_index(np.array([1.0, 1.0])) == 9


def test_config_round_trip():
    assert RandomizationConfig.from_dict(SHIFTED.to_dict()) == SHIFTED
    assert as_randomization('shifted') is SHIFTED
    assert as_randomization({'obs_noise_std': 0.1}).obs_noise_std == 0.1


@pytest.mark.parametrize('kwargs, message', [
    ({'mass_scale': (1.3, 0.7)}, 'mass_scale: lo > hi'),
    ({'friction_scale': (-0.5, 1.0)}, 'friction_scale must be > 0'),
    ({'gain_scale': (0.0, 1.0)}, 'gain_scale must be > 0'),
    ({'gain_scale': (1.0,)}, 'gain_scale must be a \\[lo, hi\\] pair'),
    ({'mass_scale': (1.0, float('nan'))}, 'mass_scale must be finite'),
    ({'latency_steps': (-1, 2)}, 'latency_steps must be integers >= 0'),
    ({'latency_steps': (0.5, 2)}, 'latency_steps must be integers >= 0'),
    ({'latency_steps': (3, 1)}, 'latency_steps: lo > hi'),
    ({'obs_noise_std': -0.1}, 'obs_noise_std must be a number >= 0'),
])
def test_bad_ranges_are_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        RandomizationConfig(**kwargs)


def test_bad_randomization_arguments():
    with pytest.raises(ValueError, match=r"unknown key\(s\) \['mass'\]"):
        make_env('reach', randomization={'mass': [1, 2]})
    with pytest.raises(ValueError, match='one of'):
        make_env('reach', randomization='wobbly')
    with pytest.raises(NotImplementedError, match='gridworld'):
        make_env('gridworld', randomization={'mass_scale': [0.5, 1.0]})
    env = make_env('reach', randomization=SHIFTED, seed=0)
    with pytest.raises(ValueError, match='NaN'):
        env.step(np.array([0.0, np.nan, 0.0]))


@pytest.mark.parametrize('name', ['reach', 'gridworld', 'reacher', 'quadruped'])
def test_randomized_envs_pickle_exactly_for_training_checkpoints(name):
    env = make_env(name, randomization={'latency_steps': [1, 2], 'obs_noise_std': 0.01}, seed=1)
    action = env.action_space.sample()
    env.step(action)
    copy = pickle.loads(pickle.dumps(env))
    assert copy.episode_params == env.episode_params
    for _ in range(4):
        np.testing.assert_array_equal(env.step(action)[0], copy.step(action)[0])


def test_reach_last_action_observes_the_delayed_command_identically_everywhere():
    from robotrl_ros.tasks.reach import REACH_SPEC, ReachTask
    from robotrl_ros.tasks.registry import make_task
    from robotrl_ros.training.online.pairing import TransitionPairer

    spec = make_task('reach_last_action').spec
    assert spec.obs_dim == REACH_SPEC.obs_dim + 3  # reach itself keeps its layout
    assert spec.observation[-1].name == 'last_action'
    env = make_env('reach_last_action', randomization={'latency_steps': [2, 2]}, seed=0)
    obs, _ = env.reset(options=START)
    np.testing.assert_array_equal(obs[-3:], 0.0)
    pairer = TransitionPairer(make_task('reach_last_action'), use_resets=False)
    pairer.on_goal(env.goal)
    stamp = 0.0
    pairer.on_joint_state(stamp, *env.joint_state()[1:3])
    for command in ([1.0, 0.0, 0.0], [0.0, -0.5, 0.0], [0.0, 0.0, 0.25]):
        pairer.on_command(np.array(command))
        obs, *_ = env.step(np.array(command))
        stamp += env.task_spec.control_period
        tr = pairer.on_joint_state(stamp, *env.joint_state()[1:3])
        # The simulator, the trainer (from the command topic) and the policy node (its own last
        # command in RobotState.last_action) build the same observation.
        np.testing.assert_allclose(tr.next_obs, obs, atol=1e-6)
        np.testing.assert_allclose(obs[-3:], command)
    with pytest.raises(ValueError, match='continuous'):
        ReachTask(discrete=True, last_action=True)
