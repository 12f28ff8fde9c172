# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""ee_reach on a real arm: batched kinematics equal MuJoCo's, batched task math, env, errors."""

import mujoco
import numpy as np
import pytest

from robotrl_ros.tasks.ee_reach import (
    MIN_GOAL_HEIGHT,
    SUCCESS_BONUS,
    SUCCESS_RADIUS,
    EEReachEnv,
    EEReachTask,
)
from robotrl_ros.tasks.observation import RobotState
from robotrl_ros.tasks.registry import make_env, make_task, task_names
from robotrl_ros.tasks.robots import import_robot
from robotrl_ros.tasks.robots.kinematics import ChainKinematics


@pytest.fixture(scope='module')
def panda_env():
    return EEReachEnv('panda')


@pytest.mark.parametrize('name, link', [('panda', 'panda_grasptarget'),
                                        ('iiwa', 'lbr_iiwa_link_7'), ('xarm6', 'link6')])
def test_chain_kinematics_equal_mujoco(name, link):
    robot = import_robot(name)
    model, data = robot.model, mujoco.MjData(robot.model)
    body = model.body(link).id
    kinematics = ChainKinematics(model, body, robot.joint_names)
    rng = np.random.default_rng(0)
    qs = rng.uniform(np.maximum(robot.lower, -3), np.minimum(robot.upper, 3),
                     size=(16, len(robot.joint_names)))
    expected = []
    for q in qs:
        data.qpos[:] = model.qpos0
        data.qpos[robot.qpos_adr] = q
        mujoco.mj_kinematics(model, data)
        expected.append(data.xpos[body].copy())
    np.testing.assert_allclose(kinematics.position(qs), np.array(expected), atol=1e-10)
    np.testing.assert_allclose(kinematics.position(qs[3]), expected[3], atol=1e-10)
    with pytest.raises(ValueError, match='expected 7|expected 6'):
        kinematics.position(np.zeros((2, 3)))


def test_chain_kinematics_refuse_a_floating_base():
    robot = import_robot('a1')
    with pytest.raises(ValueError, match='free or ball'):
        ChainKinematics(robot.model, robot.model.body('FR_toe').id, robot.joint_names)


def test_registered_with_a_robot_option_and_panda_by_default():
    assert 'ee_reach' in task_names()
    task = make_task('ee_reach')
    assert task.robot.config.name == 'panda'
    assert task.spec.joint_names == tuple(f'panda_joint{i}' for i in range(1, 8))
    assert task.spec.command_input == 'goal_pose' and task.spec.obs_dim == 7 * 3 + 3 + 3
    env = make_env('ee_reach', robot='iiwa', seed=0)
    assert env.task_spec.joint_names[0] == 'lbr_iiwa_joint_1'


def test_batched_math_equals_one_robot_at_a_time(panda_env):
    task = panda_env.task
    rng = np.random.default_rng(1)
    n = task.spec.action_dim
    q = task.robot.default_pose + rng.uniform(-0.5, 0.5, (5, n))
    dq, goal = rng.normal(size=(5, n)), rng.uniform(-0.5, 0.5, (5, 3))
    last, action = rng.uniform(-1, 1, (5, n)), rng.uniform(-1, 1, (5, n))
    obs = task.observe_batch(q, dq, goal, last)
    reward, terminated, success = task.reward_batch(q, action, last, goal)
    assert obs.shape == (5, task.spec.obs_dim) and obs.dtype == np.float32
    for i in range(5):
        before = RobotState(q[i], dq[i], goal=goal[i], last_action=last[i])
        after = RobotState(q[i], dq[i], goal=goal[i], last_action=action[i])
        np.testing.assert_array_equal(task.observe(before), obs[i])
        assert task.reward(before, action[i], after) == (pytest.approx(reward[i]),
                                                         bool(terminated[i]), bool(success[i]))


def test_reward_is_distance_from_forward_kinematics_and_success_ends_it(panda_env):
    task = panda_env.task
    q = task.robot.default_pose
    ee = task.ee_position(q)
    zero = np.zeros(task.spec.action_dim)
    far = ee + np.array([0.3, 0.0, 0.0])
    reward, terminated, success = task.reward_batch(q, zero, zero, far)
    assert reward[0] == pytest.approx(-0.3) and not terminated[0] and not success[0]
    near = ee + np.array([0.0, SUCCESS_RADIUS * 0.5, 0.0])
    reward, terminated, success = task.reward_batch(q, zero, zero, near)
    assert reward[0] == pytest.approx(SUCCESS_BONUS - SUCCESS_RADIUS * 0.5)
    assert terminated[0] and success[0]
    # Action rate and joint-limit proximity cost something.
    jerky = task.reward_batch(q, zero + 1.0, zero, far)[0][0]
    at_limit = task.reward_batch(np.where(np.arange(len(q)) == 0, task.robot.upper, q), zero,
                                 zero, far)[0][0]
    assert jerky < -0.3 and at_limit < task.reward_batch(q, zero, zero, far)[0][0] - 0.05


def test_goals_are_reachable_and_above_the_floor(panda_env):
    rng = np.random.default_rng(2)
    goals = np.array([panda_env.task.sample_goal(rng) for _ in range(50)])
    assert np.all(goals[:, 2] >= MIN_GOAL_HEIGHT)
    assert np.all(np.linalg.norm(goals[:, :2], axis=1) < 0.9)    # within the Panda's reach
    assert goals.std(axis=0).min() > 0.05                           # spread out, not one point


def test_env_observation_uses_observed_joints_and_servos_reach_a_goal(panda_env):
    env = panda_env
    task = env.task
    target_q = task.robot.default_pose + 0.3
    goal = task.ee_position(target_q)
    obs, info = env.reset(seed=3, options={'goal': goal})
    state = env.robot_state()
    np.testing.assert_array_equal(obs, task.observe(state))
    np.testing.assert_allclose(task.ee_position(state.position), env.ee_position(), atol=1e-10)
    action = env.task_spec.command_to_action(target_q)
    for _ in range(env.task_spec.max_episode_steps):
        obs, reward, terminated, truncated, info = env.step(action)
        if terminated or truncated:
            break
    assert terminated and info['is_success'] and reward > SUCCESS_BONUS - SUCCESS_RADIUS


def test_floating_robots_and_arms_without_ee_link_are_refused(tmp_path):
    with pytest.raises(ValueError, match='floating base'):
        EEReachTask('a1')
    path = tmp_path / 'arm.yaml'
    path.write_text('description: iiwa\nkp: 100.0\n')
    with pytest.raises(ValueError, match='no ee_link'):
        EEReachTask(str(path))


def final_distance(agent, episodes=20, seed=100_000):
    """Mean end-effector distance to the goal at episode end, deterministic policy."""
    env = make_env('ee_reach')
    distances = []
    for k in range(episodes):
        obs, _ = env.reset(seed=seed + k)
        done = False
        while not done:
            obs, _, terminated, truncated, _ = env.step(agent.act(obs[None],
                                                                  deterministic=True)[0])
            done = terminated or truncated
        ee = env.task.ee_position(env.robot.joint_position(env.data))
        distances.append(float(np.linalg.norm(ee - env.goal)))
    return float(np.mean(distances))


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_sac_learns_to_move_the_panda_toward_held_out_goals():
    """A small fixed budget: a regression in the reward or observation code fails here.

    The mean final distance of 20 held-out goals (0.353 m untrained) fell to 0.188 m in 3000
    steps (seed 0) on one machine and to 0.255 m on another: float rounding differs between
    CPUs (BLAS kernels) and changes a short run's trajectory, and early SAC policies swing
    (second machine, one thread: 0.287 / 0.196 / 0.265 / 0.204 m at 4000 / 6000 / 8000 / 10000
    steps). Asked at 6000 steps: below 0.8x (an agent that learns nothing stays near 1x).
    """
    from robotrl_ros.agents.registry import make_agent

    env = make_env('ee_reach', seed=0)
    agent = make_agent('sac', env.task_spec, seed=0)
    before = final_distance(agent)
    obs = env.reset(seed=0)[0][None]
    for _ in range(6000):
        action = agent.act(obs)
        next_obs, reward, terminated, truncated, _ = env.step(action[0])
        agent.observe(obs, action, [reward], next_obs[None], [terminated], [truncated])
        if agent.ready():
            agent.update()
        obs = env.reset()[0][None] if terminated or truncated else next_obs[None]
    after = final_distance(agent)
    assert after < 0.8 * before, f'mean final distance {before:.3f} m -> {after:.3f} m'


def test_observation_equals_what_the_policy_node_builds(panda_env):
    from robotrl_ros.tasks.observation import build_observation

    panda_env.reset(seed=5)
    panda_env.step(panda_env.action_space.sample())
    state = panda_env.robot_state()
    np.testing.assert_array_equal(panda_env.task.observe(state),
                                  build_observation(panda_env.task_spec, state))
