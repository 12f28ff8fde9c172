# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""MuJoCo reacher: forward kinematics vs MuJoCo, equivalence with Reacher-v5, spec, dynamics."""

import gymnasium as gym
import mujoco
import numpy as np
import pytest

from robotrl_ros.tasks.kinematics import planar_two_link_tip
from robotrl_ros.tasks.observation import build_observation
from robotrl_ros.tasks.reacher import ReacherEnv
from robotrl_ros.tasks.registry import make_env, make_task
from robotrl_ros.tasks.spec import TaskSpec


def test_forward_kinematics_matches_mujoco_fingertip():
    env = ReacherEnv()
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    data = env.sim.data
    for _ in range(50):
        q = rng.uniform([-np.pi, -3.0], [np.pi, 3.0])
        data.qpos[env.sim.qpos_adr] = q
        np.testing.assert_allclose(planar_two_link_tip(q), env.fingertip(), atol=1e-12)
    # Batched form.
    qs = rng.uniform(-3, 3, size=(4, 2))
    np.testing.assert_allclose(planar_two_link_tip(qs)[2], planar_two_link_tip(qs[2]))


def test_same_observations_and_rewards_as_gymnasium_reacher_v5():
    env = ReacherEnv()
    obs, _ = env.reset(seed=3)
    ref = gym.make('Reacher-v5').unwrapped
    ref.reset(seed=0)
    ref.set_state(env.sim.data.qpos.copy(), env.sim.data.qvel.copy())
    np.testing.assert_allclose(obs, ref._get_obs(), atol=1e-6)
    rng = np.random.default_rng(1)
    for _ in range(20):
        action = rng.uniform(-1, 1, size=2)
        obs, reward, terminated, truncated, _ = env.step(action)
        ref_obs, ref_reward, *_ = ref.step(action.astype(np.float32))
        # Gymnasium reads body positions computed before the last physics substep (stale by
        # one substep); our forward kinematics use the current joint angles.
        np.testing.assert_allclose(obs[:8], ref_obs[:8], atol=1e-5)
        np.testing.assert_allclose(obs[8:], ref_obs[8:], atol=2e-3)
        assert reward == pytest.approx(ref_reward, abs=2e-3)
        assert not terminated and not truncated


def test_graph_observation_equals_env_observation():
    env = make_env('reacher', seed=5)
    obs, _ = env.reset(seed=5)
    for _ in range(3):
        obs, *_ = env.step(np.array([0.3, -0.7]))
    state = env.robot_state()
    state.goal = np.append(state.goal, 0.01)     # goal_pose is 3-D on the graph
    np.testing.assert_allclose(build_observation(env.task_spec, state), obs, rtol=1e-6)


def test_spec_joints_from_model_and_effort_commands():
    env = make_env('reacher')
    spec = env.task_spec
    assert spec.joint_names == ('joint0', 'joint1')
    assert spec.command_interface == 'effort' and spec.command_input == 'goal_pose'
    assert spec.action_scale == (200.0, 200.0) and spec.command_upper == (200.0, 200.0)
    assert spec.control_period == pytest.approx(0.02) and spec.max_episode_steps == 50
    assert spec.obs_dim == 10
    assert TaskSpec.from_dict(spec.to_dict()) == spec
    assert make_task('reacher').spec == spec


def test_torque_command_equals_scaled_action():
    a, b = ReacherEnv(), ReacherEnv()
    a.reset(seed=2)
    b.reset(seed=2)
    a.step(np.array([0.5, -0.25]))
    b.step_command(np.array([100.0, -50.0]))
    np.testing.assert_allclose(a.joint_state()[1], b.joint_state()[1])
    names, _, _, effort = b.joint_state()
    assert names == ('joint0', 'joint1')
    np.testing.assert_allclose(effort, [100.0, -50.0])


def test_episode_truncates_at_50_and_goal_places_target():
    env = ReacherEnv(goal=np.array([0.1, -0.15]))
    env.reset(seed=0)
    mujoco.mj_kinematics(env.sim.model, env.sim.data)
    np.testing.assert_allclose(env.sim.data.body('target').xpos[:2], [0.1, -0.15], atol=1e-12)
    for step in range(1, 51):
        _, _, terminated, truncated, _ = env.step(np.zeros(2))
        assert not terminated and truncated == (step == 50)


def test_sampled_goals_are_inside_radius_and_success_flag():
    env = ReacherEnv()
    goals = [env.reset(seed=s)[1]['goal'] for s in range(30)]
    assert all(np.linalg.norm(g) < 0.2 for g in goals)
    env.reset(seed=0, options={'goal': [0.0, 0.0]})    # same RNG draws as the next reset
    tip = planar_two_link_tip(env.sim.joint_position())
    env.reset(seed=0, options={'goal': tip})
    assert env.step(np.zeros(2))[4]['is_success']


def test_dynamics_hook_scales_gain_and_mass():
    def speed_after(**scales):
        env = ReacherEnv()
        env.set_dynamics(**scales)
        env.reset(seed=0, options={'qpos': [0.0, 0.0]})
        env.step(np.array([1.0, 0.0]))
        return abs(env.joint_state()[2][0])

    nominal = speed_after()
    assert speed_after(gain_scale=0.5) < 0.7 * nominal
    assert speed_after(mass_scale=1.3) < nominal
    assert speed_after(friction_scale=1.5) < nominal
    env = ReacherEnv()
    env.set_dynamics(mass_scale=2.0)
    env.set_dynamics()
    np.testing.assert_allclose(env.sim.model.body_mass, env.sim._nominal['body_mass'])


def test_randomized_reacher_runs_with_shifted_preset():
    env = make_env('reacher', randomization='shifted', seed=0)
    obs, info = env.reset()
    assert 0.7 <= info['randomization']['mass_scale'] <= 1.3
    for _ in range(5):
        obs, *_ = env.step(np.ones(2))
    assert obs.shape == (10,) and np.all(np.isfinite(obs))


def test_bad_input():
    env = make_env('reacher', seed=0)
    with pytest.raises(ValueError, match='NaN'):
        env.step(np.array([np.nan, 0.0]))
    with pytest.raises(ValueError, match='command has 3 entries, expected 2'):
        env.step_command(np.zeros(3))
    with pytest.raises(ValueError, match='no goal'):
        env.task.reward(env.robot_state(), np.zeros(2),
                        type(env.robot_state())(np.zeros(2), np.zeros(2)))
