# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""imu / base_twist paired with joint_states by stamp, live and from a recording."""

import numpy as np
import pytest

from robotrl_ros.tasks.registry import make_env, make_task
from robotrl_ros.training.online.base_signals import BaseSignalMatcher, observes_base
from robotrl_ros.training.online.pairing import TransitionPairer
from robotrl_ros.training.online.recording import McapRecorder
from robotrl_ros.training.online.recording_replay import read_events, replay_transitions

TOPICS = {'joint_states': '/joint_states', 'commands': '/commands', 'goal_pose': '/goal_pose',
          'cmd_vel': '/cmd_vel', 'resets': '/trainer_node/resets'}
LEVEL = np.array([0.0, 0.0, 0.0, 1.0])       # x, y, z, w: upright
TILTED = np.array([0.0, np.sin(0.2), 0.0, np.cos(0.2)])


def test_each_joint_state_gets_the_nearest_samples_within_the_tolerance():
    matcher = BaseSignalMatcher(tolerance=0.005)
    assert matcher.match(1.0) is None and matcher.counters() == {}   # a fixed base: nothing
    matcher.on_imu(0.990, LEVEL, [0.0, 0.0, 0.1])
    matcher.on_imu(0.999, TILTED, [0.0, 0.0, 0.2])
    matcher.on_imu(1.008, LEVEL, [0.0, 0.0, 0.3])
    matcher.on_base_twist(1.003, [0.5, 0.0, 0.0])
    values = matcher.match(1.0)
    assert values['base_ang_vel'].tolist() == [0.0, 0.0, 0.2]        # the nearest: 1 ms away
    assert values['projected_gravity'][0] == pytest.approx(np.sin(0.4))
    assert values['base_lin_vel'].tolist() == [0.5, 0.0, 0.0]
    late = matcher.match(1.02)                                       # 12 ms and 17 ms away
    assert late is None
    assert matcher.counters() == {'imu_paired': 1, 'base_twist_paired': 1,
                                  'imu_unmatched': 1, 'base_twist_unmatched': 1}


def test_bad_samples_are_counted_and_never_paired():
    matcher = BaseSignalMatcher()
    assert matcher.on_imu(1.0, [0.0, 0.0, 0.0, 0.0], [0, 0, 0]) is None
    assert matcher.on_imu(1.0, LEVEL, [np.nan, 0, 0]) is None
    assert matcher.on_base_twist(1.0, [np.inf, 0, 0]) is None
    assert matcher.match(1.0) is None
    assert matcher.counters() == {'bad_imu': 2, 'bad_base_twist': 1}
    with pytest.raises(ValueError, match='imu_tolerance'):
        BaseSignalMatcher(-0.1)


def test_only_floating_base_tasks_observe_the_base():
    assert observes_base(make_task('locomotion').spec)
    assert not observes_base(make_task('ee_reach').spec)
    assert not observes_base(make_task('reach').spec)


def _record_locomotion(path, steps):
    """Drive the A1 sim and record what a bridge would publish, as the trainer receives it."""
    env = make_env('locomotion', seed=0, goal=np.array([0.3, 0.0, 0.0]))
    rec = McapRecorder(path, TOPICS)
    rng = np.random.default_rng(0)
    log_time = 1
    rec.cmd_vel(env.goal, log_time)
    for step in range(steps + 1):
        stamp = 0.02 * (step + 1)
        names, position, velocity, _ = env.joint_state()
        imu = env.robot_state().imu
        gravity = imu['projected_gravity']
        # A quaternion whose projected gravity is the simulated one (zero yaw).
        axis = np.cross(gravity, [0.0, 0.0, -1.0])
        quat = np.array([*axis, 1.0 + np.dot(gravity, [0.0, 0.0, -1.0])])
        quat = quat / np.linalg.norm(quat)
        rec.imu(stamp, quat, imu['base_ang_vel'], 'imu_link', log_time + 1)
        rec.base_twist(stamp, imu['base_lin_vel'], imu['base_ang_vel'], 'imu_link', log_time + 2)
        rec.joint_state(stamp, names, position, velocity, log_time + 3)
        log_time += 3
        if step < steps:
            command = env.task_spec.action_to_command(rng.uniform(-0.2, 0.2, 12))
            log_time += 1
            rec.command(command, log_time)
            env.step_command(command)
    rec.close()


def test_a_recording_holds_imu_and_base_twist_and_replays_into_scored_transitions(tmp_path):
    path = tmp_path / 'a1.mcap'
    _record_locomotion(path, steps=20)
    events = list(read_events(path))
    imu = [e for e in events if e.kind == 'imu']
    twists = [e for e in events if e.kind == 'base_twist']
    assert len(imu) == len(twists) == 21 and imu[0].stamp == pytest.approx(0.02)
    pairer = TransitionPairer(make_task('locomotion'), use_resets=False)
    transitions = list(replay_transitions(path, pairer))
    assert len(transitions) == 20, pairer.counters()
    assert all(np.isfinite(t.reward) for t in transitions)
    # Without the base streams the locomotion reward cannot be computed: nothing is scored.
    bare = tmp_path / 'bare.mcap'
    rec = McapRecorder(bare, TOPICS)
    for i, event in enumerate(e for e in events if e.kind not in ('imu', 'base_twist')):
        if event.kind == 'joint_state':
            rec.joint_state(event.stamp, event.names, event.position, event.velocity, i + 1)
        elif event.kind == 'cmd_vel':
            rec.cmd_vel(event.values, i + 1)
        else:
            rec.command(event.values, i + 1)
    rec.close()
    pairer = TransitionPairer(make_task('locomotion'), use_resets=False)
    assert list(replay_transitions(bare, pairer)) == []
    assert pairer.counters()['dropped_missing_input'] == 20
