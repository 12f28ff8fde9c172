# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Transition pairing from synthetic message streams (no ROS)."""

import numpy as np
import pytest

from robotrl_ros.tasks.registry import make_env, make_task
from robotrl_ros.training.online.pairing import TransitionPairer

DT = 0.1
GOAL = np.array([0.5, 0.0, 0.0])


def _state(pairer, k, x, v=0.0):
    """Feed joint state number ``k`` (stamp k*DT) with position (x, 0, 0)."""
    return pairer.on_joint_state(k * DT, [x, 0.0, 0.0], [v, 0.0, 0.0])


def _pairer(use_resets=True, task='reach'):
    pairer = TransitionPairer(make_task(task), use_resets=use_resets)
    pairer.on_goal(GOAL)
    return pairer


def test_stream_from_simulator_gives_the_same_transitions_as_env_step():
    env = make_env('reach')
    pairer = TransitionPairer(env.task)
    rng = np.random.default_rng(0)
    obs, _ = env.reset(seed=3)
    pairer.on_goal(env.goal)
    names, pos, vel, _ = env.joint_state()
    pairer.on_reset(0.0)
    assert pairer.on_joint_state(0.0, pos, vel) is None
    for k in range(1, 40):
        action = rng.uniform(-1, 1, size=3)
        pairer.on_command(env.task_spec.action_to_command(action))
        next_obs, reward, terminated, truncated, info = env.step(action)
        _, pos, vel, _ = env.joint_state()
        tr = pairer.on_joint_state(k * DT, pos, vel)
        assert tr is not None
        np.testing.assert_allclose(tr.obs, obs, atol=1e-6)
        np.testing.assert_allclose(tr.next_obs, next_obs, atol=1e-6)
        np.testing.assert_allclose(tr.action, action, atol=1e-6)
        assert tr.reward == pytest.approx(reward)
        assert (tr.terminated, tr.truncated) == (terminated, truncated)
        obs = next_obs
        if terminated:
            break
    assert pairer.paired == k
    assert not pairer.dropped


def test_reward_and_termination_come_from_the_observed_next_state():
    pairer = _pairer()
    pairer.on_reset(0.0)
    _state(pairer, 0, 0.0)
    pairer.on_command([1.0, 0.0, 0.0])
    tr = _state(pairer, 1, 0.2)
    assert tr.reward == pytest.approx(-0.3)
    assert not tr.terminated and not tr.success
    pairer.on_command([1.0, 0.0, 0.0])
    tr = _state(pairer, 2, 0.45)
    assert tr.reward == pytest.approx(-0.05 + 10.0)
    assert tr.terminated and tr.success and not tr.truncated
    assert pairer.needs_reset
    assert pairer.episodes[-1].success and pairer.episodes[-1].length == 2


def test_duplicate_and_out_of_order_states_are_dropped_and_counted():
    pairer = _pairer()
    pairer.on_reset(0.0)
    _state(pairer, 0, 0.0)
    assert _state(pairer, 0, 0.0) is None           # lockstep republish: same stamp
    pairer.on_command([1.0, 0.0, 0.0])
    tr = _state(pairer, 1, 0.01)
    assert tr is not None and tr.stamp == 0.0
    assert _state(pairer, 0, 0.0) is None           # older stamp
    assert pairer.dropped['duplicate_state'] == 1
    assert pairer.dropped['out_of_order_state'] == 1
    assert pairer.paired == 1


def test_missing_state_leaves_a_gap_that_is_not_paired():
    pairer = _pairer()
    pairer.on_reset(0.0)
    _state(pairer, 0, 0.0)
    pairer.on_command([1.0, 0.0, 0.0])
    assert _state(pairer, 2, 0.05) is None           # state 1 was lost: spans two periods
    assert pairer.dropped['gap'] == 1
    pairer.on_command([0.0, 0.0, 0.0])
    tr = _state(pairer, 3, 0.05)
    assert tr is not None and tr.stamp == pytest.approx(0.2)


def test_missing_and_duplicate_commands_are_dropped_and_counted():
    pairer = _pairer()
    pairer.on_reset(0.0)
    pairer.on_command([1.0, 0.0, 0.0])               # before any state
    _state(pairer, 0, 0.0)
    pairer.on_command([1.0, 0.0, 0.0])
    pairer.on_command([0.5, 0.0, 0.0])               # second command for the same state
    tr = _state(pairer, 1, 0.01)
    np.testing.assert_allclose(tr.action, [1.0, 0.0, 0.0])
    assert _state(pairer, 2, 0.02) is None           # no command for state 1
    assert pairer.dropped['command_without_state'] == 2
    assert pairer.paired == 1


def test_faster_state_stream_pairs_with_the_state_one_period_later():
    pairer = _pairer(use_resets=False)
    pairer.on_joint_state(0.0, [0, 0, 0], [0, 0, 0])
    pairer.on_command([1.0, 0.0, 0.0])
    assert pairer.on_joint_state(0.04, [0.01, 0, 0], [0, 0, 0]) is None
    tr = pairer.on_joint_state(0.1, [0.02, 0, 0], [0.1, 0, 0])
    assert tr is not None
    np.testing.assert_allclose(tr.next_obs[:3], [0.02, 0, 0])


def test_transitions_starting_before_the_reset_stamp_are_ignored():
    pairer = _pairer()
    pairer.on_reset(0.0)
    _state(pairer, 0, 0.0)
    pairer.on_command([1.0, 0.0, 0.0])
    pairer.begin_reset()
    pairer.on_goal([-0.5, 0.0, 0.0])
    assert _state(pairer, 1, 0.9) is None            # new episode's first state, response late
    pairer.on_command([1.0, 0.0, 0.0])               # stale command meant for the old episode
    pairer.on_reset(0.1)
    pairer.on_command([-1.0, 0.0, 0.0])
    tr = _state(pairer, 2, 0.8)
    assert tr is not None and tr.stamp == pytest.approx(0.1)
    np.testing.assert_allclose(tr.obs[6:9], [-0.5, 0.0, 0.0])    # the new goal
    np.testing.assert_allclose(tr.action, [-1.0, 0.0, 0.0])
    assert pairer.dropped['cut_by_reset'] == 1
    assert pairer.dropped['command_without_state'] == 1
    assert tr.episode == 2


def test_goal_from_the_reset_reply_covers_a_goal_pose_delivered_late():
    # The bridge publishes goal_pose, then the first state; the trainer may get them the other
    # way round. The reset reply carries the goal, so the first transition is still paired.
    pairer = _pairer()
    pairer.begin_reset()
    assert _state(pairer, 1, 0.9) is None            # first state, before goal and reply
    pairer.on_reset(0.1, [-0.5, 0.0, 0.0])
    pairer.on_command([-1.0, 0.0, 0.0])
    pairer.on_goal([-0.5, 0.0, 0.0], 0.1)            # the late goal_pose: same goal
    tr = _state(pairer, 2, 0.8)
    assert tr is not None and tr.stamp == pytest.approx(0.1)
    np.testing.assert_allclose(tr.obs[6:9], [-0.5, 0.0, 0.0])
    np.testing.assert_allclose(tr.next_obs[6:9], [-0.5, 0.0, 0.0])
    assert 'goal_changed' not in pairer.dropped


def test_late_stamped_goal_retargets_the_first_state_without_resets():
    # An auto-resetting bridge: goal_pose (stamp 0.2) then the first state (0.2), on two topics;
    # the state and its command reach the trainer first.
    pairer = _pairer(use_resets=False, task='reach_last_action')
    _state(pairer, 0, 0.45)
    pairer.on_command([1.0, 0.0, 0.0])
    last = _state(pairer, 1, 0.5)
    assert last.terminated
    pairer.on_command([1.0, 0.0, 0.0])               # answers the final state: never paired
    assert _state(pairer, 2, -0.3) is None           # the next episode's first state
    pairer.on_command([0.0, 1.0, 0.0])
    pairer.on_goal([-0.5, 0.0, 0.0], 2 * DT)         # its goal, delivered late
    tr = _state(pairer, 3, -0.3)
    assert tr is not None and tr.stamp == pytest.approx(2 * DT) and tr.episode == last.episode + 1
    np.testing.assert_allclose(tr.obs[6:9], [-0.5, 0.0, 0.0])
    np.testing.assert_allclose(tr.obs[-3:], 0.0)     # first step: no last action yet
    assert 'goal_changed' not in pairer.dropped and 'episode_cut_by_new_goal' not in pairer.dropped
    pairer.on_goal([0.0, 0.0, 0.5])                  # unstamped: from now on, a new episode
    assert pairer.dropped['episode_cut_by_new_goal'] == 1


def test_goal_stamped_before_the_episode_is_stale_and_ignored():
    pairer = _pairer()
    pairer.on_reset(1.0, [-0.5, 0.0, 0.0])
    pairer.on_goal(GOAL, 0.5)                         # republished before the reset
    assert pairer.dropped['stale_goal'] == 1
    pairer.on_command([1.0, 0.0, 0.0])                # no state yet: dropped
    pairer.on_joint_state(1.0, [0.0, 0.0, 0.0], [0.0, 0.0, 0.0])
    pairer.on_command([1.0, 0.0, 0.0])
    tr = pairer.on_joint_state(1.1, [0.01, 0.0, 0.0], [0.1, 0.0, 0.0])
    np.testing.assert_allclose(tr.obs[6:9], [-0.5, 0.0, 0.0])
    pairer.on_goal([0.0, 0.5, 0.0], 0.0)              # unstamped goals always apply
    assert pairer.dropped['stale_goal'] == 1


@pytest.mark.parametrize('bad', ['abc', [1.0, 2.0], [float('nan'), 0.0, 0.0], {'x': 1.0},
                                 [[1.0, 2.0], [3.0]]])
def test_bad_goal_in_the_reset_reply_is_counted_and_the_topic_goal_kept(bad):
    pairer = _pairer()
    assert pairer.on_reset(0.1, bad) is None
    assert pairer.dropped['bad_reset_goal'] == 1
    _state(pairer, 1, 0.0)
    pairer.on_command([1.0, 0.0, 0.0])
    tr = _state(pairer, 2, 0.01)
    assert tr is not None and tr.stamp == pytest.approx(0.1)  # the boundary still holds
    np.testing.assert_allclose(tr.obs[6:9], GOAL)


def test_reset_reply_sets_the_velocity_command_of_cmd_vel_tasks():
    pairer = TransitionPairer(make_task('quadruped'), use_resets=True)
    pairer.on_reset(0.0, [0.7, 0.0, 0.0])
    np.testing.assert_allclose(pairer._cmd_vel, [0.7, 0.0, 0.0])
    assert pairer._goal is None


def test_states_after_episode_end_wait_for_reset_in_simulation():
    pairer = _pairer()
    pairer.on_reset(0.0)
    _state(pairer, 0, 0.45)
    pairer.on_command([1.0, 0.0, 0.0])
    assert _state(pairer, 1, 0.5).terminated
    pairer.on_command([1.0, 0.0, 0.0])
    assert _state(pairer, 2, 0.55) is None
    assert pairer.dropped['after_episode_end'] == 1
    assert pairer.needs_reset


def test_truncation_at_max_episode_steps_and_next_episode_without_resets():
    pairer = _pairer(use_resets=False)
    steps = make_task('reach').spec.max_episode_steps
    _state(pairer, 0, -1.0)
    first = pairer.episode
    for k in range(1, steps + 2):
        pairer.on_command([0.0, 0.0, 0.0])
        tr = _state(pairer, k, -1.0)
        if k <= steps:
            assert tr.truncated == (k == steps)
    assert pairer.episodes[-1].length == steps
    assert tr is None                                # the command answering the last state
    assert pairer.dropped['after_episode_end'] == 1
    pairer.on_command([0.0, 0.0, 0.0])
    tr = _state(pairer, steps + 2, -1.0)
    assert tr.episode == first + 1 and tr.stamp == pytest.approx((steps + 1) * DT)
    assert pairer.paired == steps + 1


def test_goal_changing_mid_transition_is_not_paired():
    pairer = _pairer(use_resets=False)
    _state(pairer, 0, 0.0)
    pairer.on_command([1.0, 0.0, 0.0])
    pairer.on_goal([0.0, 0.5, 0.0])
    assert _state(pairer, 1, 0.0) is None
    assert pairer.dropped['goal_changed'] == 1


def test_new_goal_without_resets_starts_a_new_episode():
    pairer = _pairer(use_resets=False)
    _state(pairer, 0, 0.0)
    pairer.on_command([1.0, 0.0, 0.0])
    first = _state(pairer, 1, 0.0)
    pairer.on_command([1.0, 0.0, 0.0])
    pairer.on_goal([0.0, 0.5, 0.0])                  # e.g. an auto-resetting bridge
    assert _state(pairer, 2, 0.7) is None
    pairer.on_command([1.0, 0.0, 0.0])
    tr = _state(pairer, 3, 0.7)
    assert tr.episode == first.episode + 1
    np.testing.assert_allclose(tr.obs[6:9], [0.0, 0.5, 0.0])
    assert pairer.dropped['episode_cut_by_new_goal'] == 1
    assert pairer.dropped['after_episode_end'] == 1
    assert 'goal_changed' not in pairer.dropped


def test_no_goal_yet_is_dropped_as_missing_input():
    pairer = TransitionPairer(make_task('reach'), use_resets=False)
    _state(pairer, 0, 0.0)
    pairer.on_command([1.0, 0.0, 0.0])
    assert _state(pairer, 1, 0.0) is None
    assert pairer.dropped['missing_input'] == 1


def test_discrete_task_maps_commands_to_action_indices():
    pairer = _pairer(task='reach_discrete', use_resets=False)
    spec = pairer.spec
    _state(pairer, 0, 0.0)
    pairer.on_command([0.9, -1.0, 0.1])
    tr = _state(pairer, 1, 0.0)
    assert spec.discrete_actions[tr.action_index] == (1.0, -1.0, 0.0)
    np.testing.assert_allclose(tr.action, [1.0, -1.0, 0.0])


@pytest.mark.parametrize('command', [[1.0, 0.0], [np.nan, 0.0, 0.0]])
def test_bad_command_raises_naming_the_problem(command):
    pairer = _pairer()
    with pytest.raises(ValueError, match='finite entries'):
        pairer.on_command(command)


# --- ReorderBuffer: handle messages in the order they were published -----------------------
def test_reorder_releases_across_topics_in_publish_order():
    from robotrl_ros.training.online.reorder import ReorderBuffer
    buf = ReorderBuffer(('joint_states', 'commands'))
    # The executor handed over s1, s2 before c1 although c1 was published between them.
    buf.push('joint_states', 100, 's1', now_ns=1000)
    buf.push('joint_states', 300, 's2', now_ns=1001)
    assert buf.pop_ready(1002) == []                 # c1 may still come: nothing is safe
    buf.push('commands', 200, 'c1', now_ns=1003)
    assert [item for _, item in buf.pop_ready(1004)] == ['s1', 'c1']
    buf.push('goal_pose', 250, 'g', now_ns=1005)     # rare stream: ordered, never waited for
    buf.push('commands', 400, 'c2', now_ns=1006)
    assert [item for _, item in buf.pop_ready(1007)] == ['g', 's2']
    assert len(buf) == 1 and buf.released_by_timeout == 0


def test_reorder_releases_after_the_delay_when_a_stream_goes_quiet():
    from robotrl_ros.training.online.reorder import ReorderBuffer
    buf = ReorderBuffer(('joint_states', 'commands'), max_delay_ns=50)
    buf.push('joint_states', 100, 's1', now_ns=1000)
    assert buf.pop_ready(1049) == []
    assert buf.pop_ready(1050) == [('joint_states', 's1')]
    assert buf.released_by_timeout == 1
    with pytest.raises(ValueError, match='watermark'):
        ReorderBuffer(())


def test_truncation_counts_control_periods_from_stamps_despite_a_lost_transition():
    pairer = _pairer()
    pairer.on_reset(0.0)
    _state(pairer, 0, -1.0)
    steps = pairer.spec.max_episode_steps
    truncated_at = None
    for k in range(1, steps + 1):
        if k == 50:
            _state(pairer, k, -1.0)                  # the command for state 49 was lost
            continue
        pairer.on_command([0.0, 0.0, 0.0])
        tr = _state(pairer, k, -1.0)
        if tr is not None and tr.truncated:
            truncated_at = k
    assert truncated_at == steps                     # where the simulator ends the episode
    assert pairer.episodes[-1].length == steps - 1   # one transition was not paired


def test_history_terms_pair_into_the_observations_the_env_gives():
    env = make_env('locomotion', obs_history={'last_action': 3})
    pairer = TransitionPairer(make_task('locomotion', obs_history={'last_action': 3}))
    period = env.task_spec.control_period
    rng = np.random.default_rng(0)
    for episode in range(2):
        obs, _ = env.reset(seed=episode)
        pairer.on_cmd_vel(env.goal)
        start = 100.0 * episode
        pairer.on_reset(start)
        state = env.robot_state()
        assert pairer.on_joint_state(start, state.position, state.velocity, state.imu) is None
        for k in range(1, 8):
            action = rng.uniform(-0.3, 0.3, size=env.task_spec.action_dim)
            pairer.on_command(env.task_spec.action_to_command(action))
            next_obs, *_ = env.step(action)
            state = env.robot_state()
            tr = pairer.on_joint_state(start + k * period, state.position, state.velocity,
                                       state.imu)
            np.testing.assert_allclose(tr.obs, obs, atol=1e-6)
            np.testing.assert_allclose(tr.next_obs, next_obs, atol=1e-6)
            obs = next_obs
    assert pairer.paired == 14 and not pairer.dropped


def test_explore_sample_rides_with_the_command_it_clamps_to():
    pairer = _pairer()
    pairer.on_reset(0.0)
    _state(pairer, 0, 0.0)
    pairer.on_sample([1.7, -0.2, 0.0])             # the policy's sample, before its clamp
    pairer.on_command([1.0, -0.2, 0.0])            # the executed action: the sample clamped
    tr = _state(pairer, 1, 0.01)
    np.testing.assert_allclose(tr.action, [1.0, -0.2, 0.0])
    np.testing.assert_allclose(tr.sample, [1.7, -0.2, 0.0], rtol=1e-6)
    pairer.on_command([-1.0, 0.3, 0.0])            # the sample delivered after its command
    pairer.on_sample([-2.5, 0.3, 0.0])
    np.testing.assert_allclose(_state(pairer, 2, 0.02).sample, [-2.5, 0.3, 0.0], rtol=1e-6)
    pairer.on_sample([0.9, 0.0, 0.0])              # a limit filter changed the command ...
    pairer.on_command([0.5, 0.0, 0.0])
    assert _state(pairer, 3, 0.03).sample is None  # ... so the executed action alone
    pairer.on_sample([np.nan, 0.0, 0.0])           # not finite: never used
    pairer.on_command([0.5, 0.0, 0.0])
    assert _state(pairer, 4, 0.04).sample is None
    counters = pairer.counters()
    assert counters['samples_matched'] == 2 and counters['samples_missing'] == 2
    assert counters['samples_invalid'] == 1 and counters['samples_received'] == 3
    assert counters['paired'] == 4 and not pairer.dropped


def test_a_late_sample_never_joins_another_command():
    pairer = _pairer()
    pairer.on_reset(0.0)
    _state(pairer, 0, 0.0)
    pairer.on_command([0.2, 0.2, 0.2])
    pairer.on_sample([0.7, 0.1, 0.1])              # someone else's sample: not this command's
    assert _state(pairer, 1, 0.01).sample is None
    pairer.on_command([0.7, 0.1, 0.1])             # a later command with those values takes it
    np.testing.assert_allclose(_state(pairer, 2, 0.02).sample, [0.7, 0.1, 0.1])
