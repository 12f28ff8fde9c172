# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""locomotion on a real quadruped: spec, IMU signals, batched task math, falls, errors."""

import mujoco
import numpy as np
import pytest

from robotrl_ros.tasks.locomotion import (
    CONTROL_PERIOD,
    REWARD_WEIGHTS,
    LocomotionEnv,
    LocomotionTask,
)
from robotrl_ros.tasks.observation import RobotState
from robotrl_ros.tasks.registry import make_env, make_task, task_names


@pytest.fixture(scope='module')
def a1_env():
    return LocomotionEnv('a1')


def test_registered_with_a_robot_option_and_a1_by_default():
    assert 'locomotion' in task_names()
    task = make_task('locomotion')
    assert task.robot.config.name == 'a1'
    assert task.spec.joint_names[:3] == ('FR_hip_joint', 'FR_upper_joint', 'FR_lower_joint')
    assert task.spec.command_input == 'cmd_vel' and task.spec.obs_dim == 12 * 3 + 12
    env = make_env('locomotion', robot='mini_cheetah', seed=0)
    assert env.task_spec.action_dim == 12


def test_standing_still_on_a_zero_command_is_rewarded_and_upright(a1_env):
    env = a1_env
    obs, _ = env.reset(seed=0, options={'goal': np.zeros(3)})
    total = 0.0
    for _ in range(100):
        obs, reward, terminated, truncated, info = env.step(np.zeros(12))
        total += reward
        assert not terminated
    state = env.robot_state()
    np.testing.assert_allclose(state.imu['projected_gravity'], [0, 0, -1], atol=0.1)
    np.testing.assert_allclose(state.imu['base_lin_vel'], 0, atol=0.05)
    assert info['is_success'] and env.base_height() > 0.2
    # Both tracking terms near 1 per step, small penalties.
    assert total / 100 > 0.9 * CONTROL_PERIOD * (REWARD_WEIGHTS['tracking_lin_vel']
                                                 + REWARD_WEIGHTS['tracking_ang_vel'])
    np.testing.assert_array_equal(obs, env.task.observe(state))


def test_imu_signals_follow_the_base_motion(a1_env):
    env = a1_env
    env.reset(seed=1)
    data = env.data
    data.qvel[0:3] = [0.5, 0.0, 0.0]       # world-frame base velocity, base yawed 90 degrees
    data.qpos[3:7] = [np.cos(np.pi / 4), 0, 0, np.sin(np.pi / 4)]
    data.qvel[3:6] = [0.0, 0.0, 0.3]
    mujoco.mj_forward(env.robot.model, data)
    imu = env.robot_state().imu
    np.testing.assert_allclose(imu['base_lin_vel'], [0.0, -0.5, 0.0], atol=1e-9)
    np.testing.assert_allclose(imu['base_ang_vel'], [0.0, 0.0, 0.3], atol=1e-9)
    np.testing.assert_allclose(imu['projected_gravity'], [0, 0, -1], atol=1e-9)


def test_a_tipped_robot_terminates_the_episode(a1_env):
    env = a1_env
    env.reset(seed=2)
    env.data.qpos[3:7] = [np.cos(np.pi / 4), np.sin(np.pi / 4), 0, 0]    # rolled 90 degrees
    env.data.qpos[2] = 0.4
    mujoco.mj_forward(env.robot.model, env.data)
    _, _, terminated, _, info = env.step(np.zeros(12))
    assert terminated and not info['is_success']


def test_batched_math_equals_one_robot_at_a_time(a1_env):
    task = a1_env.task
    rng = np.random.default_rng(3)
    b, n = 6, task.spec.action_dim
    q = task.robot.default_pose + rng.uniform(-0.3, 0.3, (b, n))
    dq, action, last = rng.normal(size=(b, n)), rng.uniform(-1, 1, (b, n)), rng.uniform(-1, 1,
                                                                                        (b, n))
    lin, ang, cmd = rng.normal(size=(b, 3)), rng.normal(size=(b, 3)), rng.uniform(0, 1, (b, 3))
    gravity = rng.normal(size=(b, 3))
    gravity[:, 2] = -np.abs(gravity[:, 2]) - 0.5
    gravity /= np.linalg.norm(gravity, axis=1, keepdims=True)
    obs = task.observe_batch(q, dq, lin, gravity, ang, cmd, last)
    reward, fallen, success = task.reward_batch(q, dq, action, last, lin, ang, gravity, cmd)
    for i in range(b):
        imu = {'projected_gravity': gravity[i], 'base_ang_vel': ang[i], 'base_lin_vel': lin[i]}
        before = RobotState(q[i], dq[i], cmd_vel=cmd[i], last_action=last[i], imu=imu)
        after = RobotState(q[i], dq[i], cmd_vel=cmd[i], last_action=action[i], imu=imu)
        np.testing.assert_array_equal(task.observe(before), obs[i])
        assert task.reward(before, action[i], after) == (pytest.approx(reward[i]),
                                                         bool(fallen[i]), bool(success[i]))


def test_reward_weights_and_command_ranges_are_options():
    task = LocomotionTask('a1', cmd_ranges=[[0.2, 0.2], [0, 0], [-1, 1]],
                          reward_weights={'torques': 0.0})
    goal = task.sample_goal(np.random.default_rng(0))
    assert goal[0] == 0.2 and goal[1] == 0 and -1 <= goal[2] <= 1
    assert task.weights['torques'] == 0.0
    with pytest.raises(ValueError, match="unknown reward term.*'feet'"):
        LocomotionTask('a1', reward_weights={'feet': 1.0})
    with pytest.raises(ValueError, match='cmd_ranges'):
        LocomotionTask('a1', cmd_ranges=[[1, 0], [0, 0], [0, 0]])


def test_fixed_base_robots_and_missing_signals_are_refused(a1_env):
    with pytest.raises(ValueError, match='fixed base'):
        LocomotionTask('panda')
    state = RobotState(np.zeros(12), np.zeros(12), cmd_vel=np.zeros(3))
    with pytest.raises(ValueError, match="'base_lin_vel' \\(base_twist\\)"):
        a1_env.task.observe(state)
    state.imu = {'base_lin_vel': np.zeros(3)}
    with pytest.raises(ValueError, match="'projected_gravity' \\(imu\\)"):
        a1_env.task.observe(state)


def test_dynamics_randomization_scales_mass_friction_and_servos():
    env = LocomotionEnv('a1')
    model = env.robot.model
    mass, kp = model.body_mass.sum(), model.actuator_gainprm[0, 0]
    env.set_dynamics(mass_scale=1.2, friction_scale=0.5, gain_scale=0.8)
    env.set_dynamics(mass_scale=1.2, friction_scale=0.5, gain_scale=0.8)   # does not compound
    assert model.body_mass.sum() == pytest.approx(1.2 * mass)
    assert model.actuator_gainprm[0, 0] == pytest.approx(0.8 * kp)
    assert model.actuator_biasprm[0, 1] == pytest.approx(-0.8 * kp)
    env.set_dynamics()
    assert model.body_mass.sum() == pytest.approx(mass)
    shifted = make_env('locomotion', randomization='shifted', seed=0)
    _, info = shifted.reset(seed=1)
    assert info['randomization']['mass_scale'] != 1.0
    for _ in range(20):
        shifted.step(shifted.action_space.sample())


def test_observation_equals_what_the_policy_node_builds(a1_env):
    from robotrl_ros.tasks.observation import build_observation

    a1_env.reset(seed=5)
    a1_env.step(a1_env.action_space.sample())
    state = a1_env.robot_state()
    np.testing.assert_array_equal(a1_env.task.observe(state),
                                  build_observation(a1_env.task_spec, state))


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_ppo_improves_the_a1_return_in_a_small_budget():
    """A small fixed budget: a regression in the reward or observation code fails here.

    PPO starts with exploration noise of std 1 (as legged_gym does), which costs the A1 most of
    its tracking reward; within 51k steps (200 updates) it learns to keep its tracking reward
    despite the noise. Measured (seed 0): mean reward per second of the rollouts 0.181 over the
    first 10 updates, 0.572 over the last 10 (x3.2; the test asks for x1.3). PPO improves any
    reward it is given, so the test also measures the task itself from the base velocity:
    planar speed error to the command 0.579 -> 0.506 m/s (x0.87; seeds 1 and 2: x0.88,
    x0.82; asked: below x0.92). With the tracking term's sign flipped the return still rises
    but the error grows, 0.584 -> 0.693 (x1.19), and the test fails. Walking needs millions of
    steps (docs/tasks.md).
    """
    import torch

    from robotrl_ros.agents.registry import make_agent
    from robotrl_ros.training.vec_env import make_env_batch

    torch.manual_seed(0)
    envs = make_env_batch('locomotion', 8, {'robot': 'a1', 'goal': [0.5, 0.0, 0.0]})
    config = {'n_steps': 32, 'n_epochs': 5, 'n_minibatches': 4, 'learning_rate': 1e-3,
              'gamma': 0.99, 'reward_scale': 1.0, 'hidden_sizes': [64, 64],
              'activation': 'elu', 'init_log_std': 0.0}
    agent = make_agent('ppo', envs.envs[0], config, seed=0)
    obs = envs.reset(0)
    rollout, per_update, speed_error, error_per_update = [], [], [], []
    while len(per_update) < 200:
        action = agent.act(obs)
        obs_next, reward, terminated, truncated, final_obs, _ = envs.step(action)
        agent.observe(obs, action, reward, final_obs, terminated, truncated)
        rollout.append(reward.mean())
        # Measured from the base velocity, not from the reward code under test.
        # (The training batch steps the robots together: its simulated base velocities.)
        lin_vel = envs.batch.signals()[4]
        speed_error.append(np.mean(np.linalg.norm(lin_vel[:, :2] - [0.5, 0.0], axis=1)))
        obs = obs_next
        if agent.ready():
            agent.update()
            per_update.append(np.mean(rollout) / CONTROL_PERIOD)
            error_per_update.append(np.mean(speed_error))
            rollout, speed_error = [], []
    first, last = np.mean(per_update[:10]), np.mean(per_update[-10:])
    assert last > 1.3 * first, f'reward per second {first:.3f} -> {last:.3f}'
    error_first, error_last = np.mean(error_per_update[:10]), np.mean(error_per_update[-10:])
    assert error_last < 0.92 * error_first, \
        f'planar speed error {error_first:.3f} -> {error_last:.3f} m/s'


def test_a_fall_is_a_termination_term_with_its_own_weight():
    plain, penalized = LocomotionTask('a1'), LocomotionTask('a1', reward_weights={
        'termination': -100.0})
    n = plain.spec.action_dim
    q, zeros = plain.robot.default_pose[None], np.zeros((1, n))
    upright, tipped = np.array([[0.0, 0.0, -1.0]]), np.array([[0.0, -0.9, -0.3]])
    args = (zeros, zeros, np.zeros((1, 3)), np.zeros((1, 3)))
    for gravity, fell in ((upright, False), (tipped, True)):
        terms = plain.reward_terms(q, zeros, *args, gravity, np.zeros((1, 3)))
        assert terms['termination'][0] == float(fell)
        r_plain, done, _ = plain.reward_batch(q, zeros, *args, gravity, np.zeros((1, 3)))
        r_pen, _, _ = penalized.reward_batch(q, zeros, *args, gravity, np.zeros((1, 3)))
        assert done[0] == fell
        assert r_pen[0] == pytest.approx(r_plain[0] - (100.0 * CONTROL_PERIOD if fell else 0.0))
