# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The gamepad mapping (teleop_twist_joy style): presses, cmd_vel, a stale joystick stops."""

import numpy as np
import pytest

from robotrl_ros.policy.joy import JoyConfigError, JoyInput, JoyMapping, load_joy_mapping

MAPPING = JoyMapping(enable_button=0, disarm_button=1, axes=(1, 0, 3), scales=(0.5, 0.4, 2.0))


def test_the_default_mapping_is_valid():
    mapping = load_joy_mapping('')
    assert mapping.enable_button == 0 and mapping.disarm_button == 1 and mapping.drives_cmd_vel


def test_a_teleop_twist_joy_style_file_is_read(tmp_path):
    path = tmp_path / 'joy.yaml'
    path.write_text('teleop:\n  ros__parameters:\n    enable_button: 4\n    disarm_button: 5\n'
                    '    axis_linear: {x: 1}\n    scale_linear: {x: 0.7}\n'
                    '    axis_angular: {yaw: 0}\n    scale_angular: {yaw: 0.4}\n')
    mapping = load_joy_mapping(path)
    assert (mapping.enable_button, mapping.disarm_button) == (4, 5)
    assert mapping.axes == (1, -1, 0) and mapping.scales == (0.7, 1.0, 0.4)


@pytest.mark.parametrize('text, message', [
    ('enable_button: -2\n', 'enable_button: expected a button/axis index'),
    ('axis_linear: {z: 1}\n', "axis_linear: unknown axis name(s) ['z']"),
    ('scale_angular: {yaw: .nan}\n', 'scale_angular.yaw: expected a finite number'),
    ('turbo: 3\n', "unknown key(s) ['turbo']"),
    ('[1, 2]\n', 'expected a mapping'),
])
def test_bad_mappings_name_the_key(tmp_path, text, message):
    path = tmp_path / 'joy.yaml'
    path.write_text(text)
    with pytest.raises(JoyConfigError, match=message.replace('[', r'\[').replace(']', r'\]')
                       .replace('(', r'\(').replace(')', r'\)')):
        load_joy_mapping(path)
    with pytest.raises(JoyConfigError, match='cannot read'):
        load_joy_mapping(tmp_path / 'missing.yaml')


def test_buttons_act_on_a_press_never_on_a_held_button_at_start():
    joy = JoyInput(MAPPING, timeout=0.5)
    assert joy.update([1, 0], [0.0] * 4, now=0.0) == []        # held at the first message
    assert joy.update([0, 0], [0.0] * 4, now=0.1) == []
    assert joy.update([1, 0], [0.0] * 4, now=0.2) == ['enable']
    assert joy.update([1, 0], [0.0] * 4, now=0.3) == []        # still held: once
    assert joy.update([1, 1], [0.0] * 4, now=0.4) == ['disable']
    assert joy.update([0, 0], [0.0] * 4, now=0.5) == []
    assert joy.update([1, 1], [0.0] * 4, now=0.6) == ['disable']   # both: disarm wins


def test_axes_give_cmd_vel_and_a_stale_joystick_gives_zero():
    joy = JoyInput(MAPPING, timeout=0.5)
    assert joy.state(0.0) == 'waiting' and not joy.stale(100.0)
    joy.update([0, 0], [0.25, 1.0, 0.0, -0.5], now=10.0)
    np.testing.assert_allclose(joy.cmd_vel(10.4), [0.5, 0.1, -1.0])
    assert joy.state(10.4) == 'fresh'
    np.testing.assert_allclose(joy.cmd_vel(10.6), [0.0, 0.0, 0.0])
    assert joy.state(10.6) == 'stale'
    never = JoyInput(MAPPING, timeout=0.0)
    never.update([0, 0], [0.0, 1.0, 0.0, 0.0], now=0.0)
    assert not never.stale(1e6)


def test_short_or_non_finite_messages_are_refused_and_do_not_refresh():
    joy = JoyInput(MAPPING, timeout=0.5)
    joy.update([0, 0], [0.0, 1.0, 0.0, 0.0], now=0.0)
    assert joy.update([1], [0.0] * 4, now=0.4) == []
    assert 'has 1 buttons and 4 axes' in joy.problem
    assert joy.update([0, 0], [float('nan')] * 4, now=0.45) == []
    assert 'non-finite' in joy.problem
    assert joy.stale(0.6)       # the refused messages were no sign of life
