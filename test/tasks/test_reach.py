# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Reach task: the issue's dynamics formulas, reward, termination, seeding, spec, observation."""

import numpy as np
import pytest

from robotrl_ros.tasks.observation import OBS_TERMS, RobotState, build_observation
from robotrl_ros.tasks.reach import REACH_SPEC, ReachEnv
from robotrl_ros.tasks.registry import make_env, make_task, task_names
from robotrl_ros.tasks.spec import ObsTerm, TaskSpec


def test_dynamics_follow_the_formulas_exactly():
    env = ReachEnv(goal=np.array([0.9, 0.9, 0.9]))
    env.reset(seed=3, options={'start': [0.0, 0.0, 0.0]})
    rng = np.random.default_rng(0)
    p, v = np.zeros(3), np.zeros(3)
    for _ in range(30):
        a = rng.uniform(-1, 1, size=3)
        v = np.clip(v + 0.1 * a, -0.5, 0.5)
        p = p + 0.1 * v
        env.step(a)
        _, pos, vel, _ = env.joint_state()
        np.testing.assert_allclose(vel, v, atol=1e-12)
        np.testing.assert_allclose(pos, p, atol=1e-12)


def test_velocity_is_clipped_and_actions_outside_range_are_clipped():
    env = ReachEnv(goal=np.array([0.9, 0.9, 0.9]))
    env.reset(options={'start': [-0.9, -0.9, -0.9]})
    for _ in range(8):
        env.step(np.array([5.0, 1.0, -1.0]))   # 5.0 acts like 1.0
    _, _, vel, _ = env.joint_state()
    np.testing.assert_allclose(vel, [0.5, 0.5, -0.5])


def test_reward_is_minus_distance_and_bonus_terminates():
    goal = np.array([0.5, 0.0, 0.0])
    env = ReachEnv(goal=goal)
    env.reset(options={'start': [0.0, 0.0, 0.0]})
    _, r, term, trunc, info = env.step(np.zeros(3))
    assert r == pytest.approx(-0.5) and not term and not trunc and not info['is_success']
    env.reset(options={'start': [0.45, 0.0, 0.0]})
    _, r, term, trunc, info = env.step(np.zeros(3))
    assert r == pytest.approx(10.0 - 0.05) and term and not trunc and info['is_success']


def test_truncated_at_100_steps():
    env = ReachEnv(goal=np.array([1.0, 1.0, 1.0]))
    env.reset(options={'start': [-1.0, -1.0, -1.0]})
    for step in range(1, 101):
        _, _, term, trunc, _ = env.step(np.zeros(3))
        assert not term
        assert trunc == (step == 100)


def test_observation_contains_the_target():
    env = ReachEnv()
    obs, info = env.reset(seed=1)
    layout = {t.name: t for t in REACH_SPEC.observation}
    assert 'goal_position' in layout
    np.testing.assert_allclose(obs[6:9], info['goal'], rtol=1e-6)
    np.testing.assert_allclose(obs[9:12], info['goal'] - obs[0:3], rtol=1e-5, atol=1e-6)
    obs2, _ = env.reset(options={'goal': [0.1, 0.2, 0.3], 'start': [0, 0, 0]})
    np.testing.assert_allclose(obs2[6:9], [0.1, 0.2, 0.3], rtol=1e-6)


def test_seeding_is_deterministic():
    def rollout(seed):
        env = make_env('reach')
        obs, _ = env.reset(seed=seed)
        out = [obs]
        for i in range(20):
            out.append(env.step(np.full(3, np.sin(i)))[0])
        return np.stack(out)

    np.testing.assert_array_equal(rollout(7), rollout(7))
    assert not np.array_equal(rollout(7), rollout(8))


def test_discrete_variant_has_27_actions():
    env = make_env('reach_discrete')
    assert env.action_space.n == 27
    table = np.asarray(env.task_spec.discrete_actions)
    assert table.shape == (27, 3) and len({tuple(r) for r in table}) == 27
    assert set(np.unique(table)) == {-1.0, 0.0, 1.0}
    env.reset(options={'start': [0, 0, 0], 'goal': [0.9, 0.9, 0.9]})
    index = env.task_spec.discrete_index(np.array([1.0, -1.0, 0.0]))
    env.step(index)
    np.testing.assert_allclose(env.joint_state()[2], [0.1, -0.1, 0.0])


def test_task_spec_round_trip_and_errors():
    for name in ('reach', 'reach_discrete'):
        spec = make_task(name).spec
        assert TaskSpec.from_dict(spec.to_dict()) == spec
    data = REACH_SPEC.to_dict()
    with pytest.raises(ValueError, match='unknown field'):
        TaskSpec.from_dict({**data, 'colour': 'red'})
    missing = dict(data)
    del missing['joint_names']
    with pytest.raises(ValueError, match="missing field 'joint_names'"):
        TaskSpec.from_dict(missing)
    with pytest.raises(ValueError, match='action_scale has 2 entries'):
        TaskSpec.from_dict({**data, 'action_scale': [1.0, 1.0]})
    with pytest.raises(ValueError, match='command_input'):
        TaskSpec.from_dict({**data, 'command_input': 'joystick'})
    with pytest.raises(ValueError, match='control_period'):
        TaskSpec.from_dict({**data, 'control_period': 0.0})


def test_build_observation_errors():
    state = RobotState(position=np.zeros(3), velocity=np.zeros(3))
    with pytest.raises(ValueError, match="needs a goal"):
        build_observation(REACH_SPEC, state)
    bad = TaskSpec.from_dict({**REACH_SPEC.to_dict(),
                              'observation': [{'name': 'joint_jerk', 'size': 3}]})
    with pytest.raises(ValueError, match="unknown observation term 'joint_jerk'"):
        build_observation(bad, state)
    wrong = TaskSpec.from_dict({**REACH_SPEC.to_dict(),
                                'observation': [{'name': 'joint_pos', 'size': 4}]})
    with pytest.raises(ValueError, match="'joint_pos' has 3 entries, layout says 4"):
        build_observation(wrong, state)
    assert set(t.name for t in REACH_SPEC.observation) <= set(OBS_TERMS)
    assert ObsTerm('joint_vel', 3, 2.0) in REACH_SPEC.observation


def test_bad_input_errors():
    env = make_env('reach')
    env.reset(seed=0)
    with pytest.raises(ValueError, match='NaN'):
        env.step(np.array([np.nan, 0.0, 0.0]))
    with pytest.raises(ValueError, match='2 entries, expected 3'):
        env.step(np.zeros(2))
    with pytest.raises(ValueError, match='command contains NaN'):
        env.step_command(np.array([0.0, np.inf, 0.0]))
    with pytest.raises(ValueError, match="unknown task 'rech'.*reach"):
        make_env('rech')
    with pytest.raises(ValueError, match="unknown task"):
        make_task('nope')
    assert {'reach', 'reach_discrete', 'gridworld'} <= set(task_names())
