# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The mode machine: passive -> stand -> policy, at the robot's velocity limits."""

import numpy as np
import pytest

from robotrl_ros.policy.modes import ModeMachine, StandLine, StandTarget

NAMES = ('a', 'b')
POSE = np.array([1.0, -0.5])


def target(velocity=(np.inf, np.inf), interface='position', kp=None, kd=None):
    return StandTarget(NAMES, POSE, np.asarray(velocity, dtype=float), interface,
                       None if kp is None else np.asarray(kp, dtype=float),
                       None if kd is None else np.asarray(kd, dtype=float), 'test')


def run_stand(machine, start, steps, dt, follow=True):
    """Step the stand; the measured position follows the set-point when ``follow``."""
    position, commands = np.asarray(start, dtype=float), []
    for k in range(steps):
        command = machine.stand_command(position, np.zeros(2), stamp=1.0 + k * dt, now=0.0)
        commands.append(command)
        if follow:
            position = command.copy()
    return position, np.array(commands)


def test_enable_stands_up_over_the_duration_then_hands_over():
    machine = ModeMachine(stand_duration=1.0, stand_tolerance=0.01)
    assert machine.mode == 'passive'
    assert machine.enable(True, target()) == 'stand'
    position, commands = run_stand(machine, [0.0, 0.0], steps=51, dt=0.02)
    # A straight line: halfway after half the duration, the default pose at the end.
    np.testing.assert_allclose(commands[25], POSE / 2)
    np.testing.assert_allclose(commands[-1], POSE)
    assert machine.stood(position)
    machine.start_policy()
    assert machine.mode == 'policy'
    assert machine.enable(False) == 'passive'


def test_the_stand_never_moves_faster_than_the_velocity_limits():
    machine = ModeMachine(stand_duration=0.1, stand_tolerance=0.01)
    machine.enable(True, target(velocity=(0.5, 2.0)))
    _, commands = run_stand(machine, [0.0, 0.0], steps=200, dt=0.02)
    speeds = np.abs(np.diff(commands, axis=0)) / 0.02
    assert np.all(speeds <= np.array([0.5, 2.0]) + 1e-9)
    assert machine.line.duration == pytest.approx(2.0)   # joint a: 1 rad at 0.5 rad/s
    np.testing.assert_allclose(commands[-1], POSE)


def test_no_policy_handover_until_the_pose_is_within_tolerance():
    machine = ModeMachine(stand_duration=0.2, stand_tolerance=0.05)
    machine.enable(True, target())
    # The robot does not follow (e.g. held down): the line ends, the pose is still far away.
    position, _ = run_stand(machine, [0.0, 0.0], steps=20, dt=0.02, follow=False)
    assert machine.line.done and not machine.stood(position)
    assert not machine.stood(POSE + 0.06) and machine.stood(POSE + 0.04)


def test_the_line_advances_with_the_state_stamps_and_pauses_without_them():
    machine = ModeMachine(stand_duration=1.0)
    machine.enable(True, target())
    position = np.zeros(2)
    first = machine.stand_command(position, np.zeros(2), stamp=5.0, now=0.0)
    again = machine.stand_command(position, np.zeros(2), stamp=5.0, now=3.0)   # same stamp
    np.testing.assert_allclose(first, again)
    # A gap in the states never jumps ahead by more than one bounded step.
    later = machine.stand_command(position, np.zeros(2), stamp=50.0, now=3.0)
    assert machine.line.progress == pytest.approx(0.1)
    np.testing.assert_allclose(later, 0.1 * POSE)


def test_effort_stand_is_a_pd_law_on_the_set_point_and_passive_only_damps():
    machine = ModeMachine(stand_duration=0.0)
    machine.enable(True, target(interface='effort', kp=(10.0, 20.0), kd=(1.0, 2.0)))
    command = machine.stand_command(np.zeros(2), np.array([0.5, -1.0]), stamp=1.0, now=0.0)
    np.testing.assert_allclose(command, [10.0 * 1.0 - 0.5, 20.0 * -0.5 + 2.0])
    np.testing.assert_allclose(machine.safe_command(np.zeros(2)), [0.0, 0.0])
    np.testing.assert_allclose(machine.passive_command(np.array([0.5, -1.0]), 'effort',
                                                       np.array([1.0, 2.0])), [-0.5, 2.0])
    assert machine.passive_command(np.ones(2), 'position', np.ones(2)) is None


@pytest.mark.parametrize('stand_on_enable, tgt, note', [
    (False, target(), None),
    (True, None, 'no default pose known'),
    (True, target(interface='velocity'), 'no stand on a velocity interface'),
    (True, target(interface='effort'), "without the robot's kp and kd"),
])
def test_without_a_stand_enable_goes_straight_to_the_policy(stand_on_enable, tgt, note):
    machine = ModeMachine(stand_on_enable=stand_on_enable)
    assert machine.enable(True, tgt) == 'policy'
    assert (machine.note is None) if note is None else note in machine.note


def test_the_safe_command_of_a_position_stand_holds_the_last_set_point():
    machine = ModeMachine(stand_duration=1.0)
    machine.enable(True, target())
    np.testing.assert_allclose(machine.safe_command(np.array([0.3, 0.3])), [0.3, 0.3])
    command = machine.stand_command(np.zeros(2), np.zeros(2), stamp=1.0, now=0.0)
    machine.stand_command(np.zeros(2), np.zeros(2), stamp=1.05, now=0.0)
    assert not np.allclose(machine.safe_command(None), command)
    np.testing.assert_allclose(machine.safe_command(None), machine.last_command)


def test_retarget_starts_a_new_line_to_the_new_pose():
    machine = ModeMachine(stand_duration=1.0)
    machine.enable(True, target())
    machine.stand_command(np.zeros(2), np.zeros(2), stamp=1.0, now=0.0)
    other = StandTarget(NAMES, np.array([0.2, 0.2]), np.full(2, np.inf))
    machine.retarget(other)
    assert machine.line is None and machine.target is other


@pytest.mark.parametrize('kwargs, message', [
    ({'stand_duration': -1.0}, 'stand_duration'),
    ({'stand_tolerance': float('nan')}, 'stand_tolerance'),
])
def test_bad_settings_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ModeMachine(**kwargs)


def test_bad_targets_are_named():
    with pytest.raises(ValueError, match='pose: expected 2 values'):
        StandTarget(NAMES, np.zeros(3), np.ones(2))
    with pytest.raises(ValueError, match='velocity limits must be > 0'):
        StandTarget(NAMES, np.zeros(2), np.zeros(2))
    with pytest.raises(ValueError, match='finite'):
        StandTarget(NAMES, np.array([np.nan, 0.0]), np.ones(2))


def test_a_line_of_zero_length_is_done_at_once():
    line = StandLine(POSE, target(), 0.0)
    np.testing.assert_allclose(line.advance(0.0), POSE)
    assert line.done and line.progress == 1.0
