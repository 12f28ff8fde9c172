# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""MuJoCo quadruped: spec from the Ant model, PD position control, IMU, reward, falls, seeding."""

import pickle

import mujoco
import numpy as np
import pytest

from robotrl_ros.tasks import quadruped as q
from robotrl_ros.tasks.mujoco_sim import MujocoSim
from robotrl_ros.tasks.observation import RobotState, build_observation
from robotrl_ros.tasks.registry import make_env, make_task
from robotrl_ros.tasks.spec import TaskSpec

ROBOT_SIGNALS = {'joint_pos_rel', 'joint_vel', 'cmd_vel', 'last_action', 'projected_gravity',
                 'base_ang_vel'}


@pytest.fixture(scope='module')
def env():
    return make_env('quadruped', seed=0)


def test_spec_from_the_model(env):
    spec = env.task_spec
    assert spec.joint_names == ('hip_4', 'ankle_4', 'hip_1', 'ankle_1', 'hip_2', 'ankle_2',
                                'hip_3', 'ankle_3')
    assert spec.command_interface == 'position' and spec.command_input == 'cmd_vel'
    assert spec.action_offset == (0.0, 1.0, 0.0, 1.0, 0.0, -1.0, 0.0, -1.0)
    np.testing.assert_allclose(spec.command_lower[:2], np.deg2rad([-30, 30]))
    np.testing.assert_allclose(spec.command_upper[:2], np.deg2rad([30, 70]))
    assert spec.control_period == pytest.approx(0.05)
    assert {t.name for t in spec.observation} == ROBOT_SIGNALS
    assert spec.obs_dim == 8 + 8 + 3 + 8 + 3 + 3
    assert TaskSpec.from_dict(spec.to_dict()) == spec
    assert make_task('quadruped').spec == spec


def test_pd_holds_the_default_pose_standing(env):
    env.reset(seed=1, options={'goal': [0.0, 0.0, 0.0]})
    for _ in range(40):
        _, reward, terminated, _, _ = env.step(np.zeros(8))
        assert not terminated
    _, position, _, effort = env.joint_state()
    np.testing.assert_allclose(position, env.default_pose, atol=0.02)
    assert env.base_height() > 0.45 and np.abs(effort).max() < 150.0
    # Standing still on a zero command: near-full tracking reward and alive bonus.
    assert reward > 0.95 * (q.TRACK_LIN_W + q.TRACK_YAW_W + q.ALIVE_W)


def test_position_targets_are_tracked(env):
    env.reset(seed=2)
    action = np.zeros(8)
    action[0] = 0.4                                  # hip_4 target = 0 + 0.5 * 0.4
    for _ in range(20):
        env.step(action)
    assert env.joint_state()[1][0] == pytest.approx(0.2, abs=0.05)


@pytest.mark.parametrize('gain_scale', [1.0, 0.5])
def test_servo_torque_is_the_clamped_pd_law(gain_scale):
    e = make_env('quadruped')
    e.set_dynamics(gain_scale=gain_scale)
    e.reset(seed=5)
    action = np.ones(8)                              # the upper joint limits
    target = e.task_spec.action_to_command(action)
    e.sim.data.ctrl[:] = target
    e.sim.data.qvel[e.sim.dof_adr[::2]] = 20.0       # fast hips: the PD torque is over the limit
    mujoco.mj_forward(e.sim.model, e.sim.data)       # actuator forces at this state
    pd = q.KP * (target - e.sim.joint_position()) - q.KD * e.sim.joint_velocity()
    assert np.any(np.abs(pd) > e.sim.gear) and np.any(np.abs(pd) < e.sim.gear)
    expected = gain_scale * np.clip(pd, -e.sim.gear, e.sim.gear)
    np.testing.assert_allclose(e.sim.joint_torque(), expected, rtol=1e-9, atol=1e-9)
    # The reward's torque estimate is the same law (nominal gain).
    np.testing.assert_allclose(e.task.pd_torque(e.robot_state(), action) * gain_scale,
                               expected, rtol=1e-9, atol=1e-9)


def test_env_checkpointed_with_motors_resumes_with_servos():
    e = make_env('quadruped')
    e.reset(seed=7)
    e.sim = MujocoSim(q.XML, q.FRAME_SKIP)           # as pickled before the servos existed
    resumed = pickle.loads(pickle.dumps(e))
    assert resumed.sim.has_pd_servos and resumed.sim.model.opt.integrator == q.INTEGRATOR
    np.testing.assert_array_equal(resumed.sim.model.actuator_gainprm[:, 0], q.KP)


def test_step_scores_from_the_state_before_the_action():
    e = make_env('quadruped')
    e.reset(seed=6)
    seen = []
    score = e.task.reward
    e.task.reward = lambda state, action, after: (seen.append(state), score(state, action,
                                                                            after))[1]
    rng = np.random.default_rng(1)
    for i in range(6):
        if i == 2:
            e.goal = np.array([0.5, 0.0, 0.0])       # a new command between steps
        if i == 4:                                   # a step driven by a motor command
            e.step_command(e.task_spec.action_to_command(rng.uniform(-1, 1, 8)))
        fresh = e.robot_state()
        e.step(rng.uniform(-1, 1, 8))
        for field in ('position', 'velocity', 'cmd_vel', 'last_action'):
            np.testing.assert_array_equal(getattr(seen[-1], field), getattr(fresh, field))
        for key, value in fresh.imu.items():
            np.testing.assert_array_equal(seen[-1].imu[key], value)


def test_imu_matches_mujoco_body_frame(env):
    env.reset(seed=3)
    rng = np.random.default_rng(0)
    for _ in range(15):
        env.step(rng.uniform(-1, 1, 8))
    imu = env.robot_state().imu
    mujoco.mj_kinematics(env.sim.model, env.sim.data)
    rot = env.sim.data.body('torso').xmat.reshape(3, 3)
    np.testing.assert_allclose(imu['projected_gravity'], rot.T @ [0, 0, -1.0], atol=1e-12)
    np.testing.assert_allclose(imu['base_lin_vel'], rot.T @ env.sim.data.qvel[:3], atol=1e-12)
    np.testing.assert_allclose(imu['base_ang_vel'], env.sim.data.qvel[3:6])


def test_graph_observation_equals_env_observation(env):
    obs, _ = env.reset(seed=4)
    for _ in range(3):
        obs, *_ = env.step(np.full(8, 0.3))
    state = env.robot_state()
    state.imu.pop('base_lin_vel')                    # the policy never needs base_twist
    np.testing.assert_allclose(build_observation(env.task_spec, state), obs, rtol=1e-6)


def test_reward_formula_and_fall_termination(env):
    task, n = env.task, 8
    imu = {'projected_gravity': np.array([0.0, 0.0, -1.0]), 'base_ang_vel': np.zeros(3),
           'base_lin_vel': np.array([0.5, 0.0, 0.0])}
    pose = env.default_pose
    before = RobotState(pose, np.zeros(n), cmd_vel=np.array([0.5, 0.0, 0.0]),
                        last_action=np.zeros(n), imu=imu)
    after = RobotState(pose, np.zeros(n), cmd_vel=np.array([0.5, 0.0, 0.0]), imu=dict(imu))
    reward, terminated, success = task.reward(before, np.zeros(n), after)
    assert reward == pytest.approx(q.TRACK_LIN_W + q.TRACK_YAW_W + q.ALIVE_W)
    assert not terminated and success
    action = np.full(n, 0.2)
    tau = np.clip(q.KP * q.ACTION_SCALE * action, -150, 150)
    expected = (q.TRACK_LIN_W + q.TRACK_YAW_W + q.ALIVE_W - q.ACTION_RATE_W * np.sum(action ** 2)
                - q.TORQUE_W * np.sum(tau ** 2))
    assert task.reward(before, action, after)[0] == pytest.approx(expected)
    after.imu['base_lin_vel'] = np.array([0.0, 0.5, 0.0])         # sideways instead of forward
    reward, _, success = task.reward(before, np.zeros(n), after)
    assert reward == pytest.approx(
        q.TRACK_LIN_W * np.exp(-0.5 / q.TRACK_SIGMA) + q.TRACK_YAW_W + q.ALIVE_W)
    assert not success
    after.imu['base_lin_vel'] = np.array([0.5, 0.0, 0.0])
    after.imu['projected_gravity'] = np.array([0.0, np.sin(1.2), -np.cos(1.2)])  # 69 deg tilt
    assert task.reward(before, np.zeros(n), after)[1:] == (True, False)


def test_upside_down_robot_terminates(env):
    env.reset(seed=5)
    qpos = env.sim.data.qpos.copy()
    qpos[3:7] = [0.0, 1.0, 0.0, 0.0]                  # rolled over
    env.sim.reset(qpos, np.zeros(env.sim.model.nv))
    env._imu = None
    assert env.step(np.zeros(8))[2]


def test_seeding_and_sampled_commands():
    def rollout(seed):
        e = make_env('quadruped', seed=seed)
        out = [e.reset(seed=seed)[0]]
        out += [e.step(np.full(8, 0.5 * np.sin(i)))[0] for i in range(10)]
        return np.stack(out)

    np.testing.assert_array_equal(rollout(3), rollout(3))
    assert not np.array_equal(rollout(3), rollout(4))
    e = make_env('quadruped')
    cmds = np.array([e.reset(seed=s)[1]['goal'] for s in range(20)])
    assert np.all((cmds[:, 0] >= 0.0) & (cmds[:, 0] <= 1.0)) and np.all(cmds[:, 1:] == 0.0)


def test_dynamics_hook_and_shifted_randomization():
    def hip_after(**scales):
        e = make_env('quadruped')
        e.set_dynamics(**scales)
        e.reset(seed=0, options={'goal': [0.0, 0.0, 0.0]})
        action = np.zeros(8)
        action[0] = 1.0
        e.step(action)
        return e.joint_state()[1][0] - e.default_pose[0]

    nominal = hip_after()
    assert abs(hip_after(gain_scale=0.5)) < abs(nominal)
    assert hip_after(mass_scale=1.3) != pytest.approx(nominal, abs=1e-6)
    shifted = make_env('quadruped', randomization='shifted', seed=0)
    obs, info = shifted.reset()
    assert info['randomization']['latency_steps'] in (1, 2, 3)
    obs, *_ = shifted.step(np.zeros(8))
    assert obs.shape == (33,) and np.all(np.isfinite(obs))


def test_bad_input(env):
    env.reset(seed=0)
    with pytest.raises(ValueError, match='NaN'):
        env.step(np.full(8, np.nan))
    state = env.robot_state()
    no_twist = RobotState(state.position, state.velocity, cmd_vel=np.zeros(3),
                          imu={'projected_gravity': np.array([0, 0, -1.0]),
                               'base_ang_vel': np.zeros(3)})
    with pytest.raises(ValueError, match="'base_lin_vel' \\(base_twist\\)"):
        env.task.reward(state, np.zeros(8), no_twist)
    with pytest.raises(ValueError, match='cmd_vel'):
        env.task.reward(state, np.zeros(8), RobotState(state.position, state.velocity))
