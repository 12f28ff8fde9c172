# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The sim bridge's ROS-free core: command remapping, rejection, sim clock, episodes."""

import numpy as np
import pytest

from robotrl_ros.sim.env import make_sim_env, randomization_from_parameters
from robotrl_ros.sim.session import SimSession, command_permutation
from robotrl_ros.tasks.reach import ACCEL_GAIN, DT, MAX_SPEED
from robotrl_ros.tasks.registry import make_env


def test_command_permutation_maps_command_order_to_task_order():
    perm = command_permutation(('x', 'y', 'z'), ('z', 'x', 'y'))
    command = np.array([3.0, 1.0, 2.0])  # z, x, y
    np.testing.assert_array_equal(command[perm], [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(command_permutation(('x', 'y'), ()), [0, 1])


@pytest.mark.parametrize('joints, message', [
    (('x', 'y'), r"missing \['z'\]"),
    (('x', 'y', 'z', 'w'), r"unknown \['w'\]"),
    (('x', 'x', 'y'), 'twice'),
])
def test_command_permutation_rejects_bad_joint_lists(joints, message):
    with pytest.raises(ValueError, match=message):
        command_permutation(('x', 'y', 'z'), joints)


def test_command_moves_joints_as_reach_dynamics_say():
    session = SimSession(make_env('reach'), command_joints=('z', 'y', 'x'), seed=1,
                         goal=[0.5, 0.5, 0.5])
    session.reset()
    _, p0, v0, effort = session.joint_state()
    assert effort is None
    np.testing.assert_array_equal(v0, 0.0)
    command = session.parse_command([0.2, -1.0, 1.0])  # z, y, x
    np.testing.assert_array_equal(command, [1.0, -1.0, 0.2])
    session.step(command)
    _, p1, v1, _ = session.joint_state()
    expected_v = np.clip(ACCEL_GAIN * command, -MAX_SPEED, MAX_SPEED)
    np.testing.assert_allclose(v1, expected_v)
    np.testing.assert_allclose(p1, p0 + DT * expected_v)


def test_bad_commands_are_rejected_counted_and_never_applied():
    session = SimSession(make_env('reach'), seed=0)
    session.reset()
    before = session.joint_state()[1]
    assert session.parse_command([1.0, 2.0]) is None
    assert 'expected 3' in session.last_rejection
    assert session.parse_command([1.0, float('nan'), 0.0]) is None
    assert 'NaN' in session.last_rejection
    assert session.parse_command([np.inf, 0.0, 0.0]) is None
    assert session.rejected == 3
    assert session.steps == 0
    np.testing.assert_array_equal(session.joint_state()[1], before)
    assert session.status()['rejected_commands'] == 3


def test_sim_time_strictly_increases_over_steps_and_resets():
    session = SimSession(make_env('reach'), seed=0)
    stamps = [session.reset()]
    for _ in range(3):
        session.step(np.zeros(3))
        stamps.append(session.sim_time)
    stamps.append(session.reset())
    assert np.all(np.diff(stamps) > 0)
    np.testing.assert_allclose(np.diff(stamps), DT)
    assert session.episode == 2


def test_reset_restores_initial_distribution_and_is_seeded():
    def starts(seed):
        session = SimSession(make_env('reach'), seed=seed)
        out = []
        for _ in range(200):
            session.reset()
            out.append(np.concatenate([session.joint_state()[1], session.joint_state()[2]]))
            session.step(np.ones(3))
        return np.array(out)

    a, b = starts(7), starts(7)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, starts(8))
    positions, velocities = a[:, :3], a[:, 3:]
    np.testing.assert_array_equal(velocities, 0.0)  # every episode starts at rest
    assert positions.min() >= -1.0 and positions.max() <= 1.0  # uniform in [-1, 1]^3
    np.testing.assert_allclose(positions.mean(axis=0), 0.0, atol=0.15)
    np.testing.assert_allclose(positions.std(axis=0), 2 / np.sqrt(12), atol=0.1)


def test_fixed_goal_parameter_is_used_every_episode():
    session = SimSession(make_env('reach'), goal=[0.1, 0.2, 0.3])
    for _ in range(3):
        session.reset()
        np.testing.assert_array_equal(session.env.goal, [0.1, 0.2, 0.3])


def test_auto_reset_publishes_terminal_state_then_resets_on_next_command():
    session = SimSession(make_env('reach'), seed=0, goal=[5.0, 5.0, 5.0], auto_reset=True)
    session.reset()
    started = [session.apply(np.zeros(3)) for _ in range(100)]
    assert started == [False] * 100 and session.reset_pending  # truncated at step 100
    assert session.episode == 1 and session.episode_steps == 100  # terminal state readable
    status = session.status()
    assert status['finished_episodes'] == 1
    assert status['recent_success_rate'] == 0.0 and status['recent_return'] < 0
    assert status['success_rate'] == 0.0 and status['mean_return'] == status['recent_return']
    stamp = session.sim_time
    assert session.apply(np.ones(3)) is True  # answers the terminal state: new episode
    assert session.episode == 2 and session.episode_steps == 0 and session.steps == 100
    assert session.sim_time == pytest.approx(stamp + DT)
    np.testing.assert_array_equal(session.joint_state()[2], 0.0)


def test_auto_reset_on_success():
    session = SimSession(make_env('reach'), seed=0, auto_reset=True)
    session.reset()
    session.env.goal = session.joint_state()[1].copy()  # already at the goal
    assert session.apply(np.zeros(3)) is False
    assert session.reset_pending
    assert session.finished[-1]['success'] is True and session.finished[-1]['length'] == 1
    assert session.status()['success_rate'] == 1.0


def test_without_auto_reset_episodes_run_on():
    session = SimSession(make_env('reach'), seed=0)
    session.reset()
    assert not any(session.apply(np.zeros(3)) for _ in range(150))
    assert session.episode == 1 and session.episode_steps == 150


def _gain_session(seed, gain=(0.5, 0.8), **dr):
    params = {'dr_gain_scale': list(gain), **dr}
    env = make_sim_env('reach', randomization_from_parameters(params), seed=seed)
    return SimSession(env, seed=seed)


def _observed_gains(session, episodes):
    """Per episode: (gain measured from one full-throttle step from rest, reported gain)."""
    out = []
    for _ in range(episodes):
        session.reset()
        session.step(np.array([1.0, 0.0, 0.0]))
        out.append((session.joint_state()[2][0] / ACCEL_GAIN,
                    session.status()['randomization']['gain_scale']))
    return np.array(out)


def test_randomization_changes_dynamics_within_range_and_reports_it():
    gains = _observed_gains(_gain_session(seed=4), episodes=30)
    measured, reported = gains[:, 0], gains[:, 1]
    np.testing.assert_allclose(measured, reported)  # ~/status tells the truth
    assert measured.min() >= 0.5 and measured.max() <= 0.8
    assert measured.max() - measured.min() > 0.15  # it really varies between episodes


def test_randomization_is_reproducible_from_seed():
    a = _observed_gains(_gain_session(seed=5), episodes=10)
    np.testing.assert_array_equal(a, _observed_gains(_gain_session(seed=5), episodes=10))
    assert not np.array_equal(a, _observed_gains(_gain_session(seed=6), episodes=10))


def test_latency_delays_commands_by_the_configured_steps():
    session = _gain_session(seed=0, gain=(1.0, 1.0), dr_latency_steps=[2, 2])
    session.reset()
    assert session.status()['randomization']['latency_steps'] == 2
    velocities = []
    for _ in range(3):
        session.step(np.array([1.0, 0.0, 0.0]))
        velocities.append(session.joint_state()[2][0])
    np.testing.assert_allclose(velocities, [0.0, 0.0, ACCEL_GAIN])


def test_observation_noise_on_published_joint_states():
    session = _gain_session(seed=0, gain=(1.0, 1.0), dr_obs_noise_std=0.05)
    velocities = []
    for _ in range(50):
        session.reset()  # true velocity is zero at every episode start
        velocities.append(session.joint_state()[2])
    assert 0.03 < np.std(velocities) < 0.07


@pytest.mark.parametrize('name, value, message', [
    ('dr_mass_scale', [1.2, 0.8], 'dr_mass_scale: lo > hi'),
    ('dr_gain_scale', [-1.0, 1.0], 'dr_gain_scale must be > 0'),
    ('dr_friction_scale', [1.0], r'dr_friction_scale must be a \[lo, hi\] pair'),
    ('dr_latency_steps', [3, 1], 'dr_latency_steps: lo > hi'),
    ('dr_obs_noise_std', -0.1, 'dr_obs_noise_std must be a number >= 0'),
])
def test_bad_randomization_parameters_are_named(name, value, message):
    with pytest.raises(ValueError, match=message):
        randomization_from_parameters({name: value})


def test_nominal_parameters_do_not_wrap_the_env():
    params = {'dr_mass_scale': [1.0, 1.0], 'dr_latency_steps': [0, 0], 'dr_obs_noise_std': 0.0}
    env = make_sim_env('reach', randomization_from_parameters(params))
    assert type(env).__name__ == 'ReachEnv'


@pytest.mark.parametrize('task, message', [
    ('nope', "unknown task 'nope'"),
    ('gym:Pendulum-v1', 'robot tasks only'),
])
def test_unknown_or_jointless_task_is_named(task, message):
    with pytest.raises(ValueError, match=message):
        make_sim_env(task)


@pytest.mark.parametrize('task, has_effort, has_imu', [
    ('reach', False, False), ('reach_discrete', False, False), ('gridworld', False, False),
    ('reacher', True, False), ('quadruped', True, True),
])
def test_every_robot_task_runs_in_the_bridge(task, has_effort, has_imu):
    session = SimSession(make_sim_env(task), seed=0)
    session.reset()
    for _ in range(3):
        session.apply(session.hold_command)
    names, position, velocity, effort = session.joint_state()
    assert names == session.spec.joint_names
    assert position.shape == velocity.shape == (len(names),)
    assert np.all(np.isfinite(position)) and np.all(np.isfinite(velocity))
    assert (effort is not None and len(effort) == len(names)) == has_effort
    assert (session.imu() is not None) == has_imu
    assert session.steps == 3 and session.sim_time == pytest.approx(4 * session.dt)


def test_lockstep_reset_drops_the_answer_to_the_ended_episode_only_when_one_is_due():
    session = SimSession(make_env('reach'), seed=0)
    session.reset()
    session.reset(drop_answer_in_flight=True)  # no command yet: nobody is answering states
    assert not session.take_stale_command()
    session.apply(np.zeros(3))  # this state's answer may be on its way ...
    session.reset(drop_answer_in_flight=True)  # ... when ~/reset starts a new episode
    assert session.take_stale_command() and not session.take_stale_command()
    session.apply(np.zeros(3))
    session.reset()  # a reset that is not lockstep's ~/reset drops nothing
    assert not session.take_stale_command()
    assert session.status()['dropped_stale_commands'] == 1


def test_pause_holds_the_first_lockstep_command_and_applies_it_on_resume():
    session = SimSession(make_env('reach'), seed=0)
    session.reset()
    time_before, steps_before = session.sim_time, session.steps
    assert session.pause(True) is None and session.status()['paused']
    session.hold(np.array([1.0, 0.0, 0.0]))     # the answer to the last state
    session.hold(np.array([-1.0, 0.0, 0.0]))    # e.g. a watchdog hold: a second step, dropped
    assert (session.sim_time, session.steps) == (time_before, steps_before)
    held = session.pause(False)
    np.testing.assert_array_equal(held, [1.0, 0.0, 0.0])
    assert session.pause(False) is None          # handed out once
    status = session.status()
    assert not status['paused'] and status['dropped_paused_commands'] == 1


def test_reset_while_paused_drops_the_held_answer_to_the_ended_episode():
    session = SimSession(make_env('reach'), seed=0)
    session.reset()
    session.apply(np.zeros(3))                   # a policy is answering states
    session.pause(True)
    session.hold(np.zeros(3))                    # its answer arrived and waits
    session.reset(drop_answer_in_flight=True)    # ~/reset: that answer belongs to the old episode
    assert session.pause(False) is None
    # The answer is not in flight any more: the new episode's first command is not dropped.
    assert not session.take_stale_command()
    assert session.status()['dropped_stale_commands'] == 1
