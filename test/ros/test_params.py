# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The parameter spec mechanism: descriptors, start-up checks, and every on-set outcome."""

import math

import pytest
from rcl_interfaces.msg import ParameterDescriptor
from rclpy.node import Node
from rclpy.parameter import Parameter

from robotrl_ros.ros.params import (
    ParameterError,
    ParameterSpec,
    coerce,
    declare_parameters,
    markdown_table,
)

SPECS = (
    ParameterSpec('gain', 1.0, 'A gain.', minimum=0.0, dynamic=True),
    ParameterSpec('period', 0.5, 'A period.', minimum=0.0, above_minimum=True),
    ParameterSpec('mode', 'fast', 'A mode.', choices=('fast', 'slow'), dynamic=True),
    ParameterSpec('count', 3, 'A count.', minimum=1, maximum=10),
    ParameterSpec('topic', 'commands', 'A topic.', nonempty=True, read_only=True),
    ParameterSpec('goal', [], 'A goal.', kind='float_list', lengths=(0, 2, 3), dynamic=True),
    ParameterSpec('names', [], 'Names.', kind='str_list'),
    ParameterSpec('enabled', False, 'A switch.'),
)


class Probe(Node):
    def __init__(self, apply=None, **kwargs):
        super().__init__('probe', **kwargs)
        self.applied = []

        def record(changes):
            if apply is not None:
                apply(changes)
            self.applied.append(changes)
        self.params = declare_parameters(self, SPECS, record)


def set_one(node, name, value):
    return node.set_parameters([Parameter(name, value=value)])[0]


def test_descriptors_carry_ranges_choices_and_read_only(ros):
    node = Probe()
    gain, period, mode, count, topic = node.describe_parameters(
        ['gain', 'period', 'mode', 'count', 'topic'])
    assert isinstance(gain, ParameterDescriptor) and gain.description == 'A gain.'
    assert gain.floating_point_range[0].from_value == 0.0
    assert math.isinf(gain.floating_point_range[0].to_value)
    assert 'take effect on the next message' in gain.additional_constraints
    assert '> 0' in period.additional_constraints and 'restart' in period.additional_constraints
    assert 'one of: fast, slow' in mode.additional_constraints
    assert (count.integer_range[0].from_value, count.integer_range[0].to_value) == (1, 10)
    assert topic.read_only and not gain.read_only
    node.destroy_node()


def test_start_values_are_validated_and_normalized(ros):
    node = Probe(parameter_overrides=[Parameter('gain', value=2), Parameter('goal', value=[1, 2])])
    assert node.params.gain == 2.0 and isinstance(node.params.gain, float)
    assert node.params['goal'] == [1.0, 2.0]
    assert node.params.as_dict()['mode'] == 'fast'
    node.destroy_node()


@pytest.mark.parametrize('name, value, message', [
    ('gain', -1.0, "parameter 'gain' must be >= 0, got -1.0"),     # rclpy's range check first
    ('gain', -1, "parameter 'gain' must be >= 0, got -1"),         # an int: only ours
    ('period', 0.0, "parameter 'period' must be > 0, got 0.0"),
    ('mode', 'medium', "parameter 'mode' must be fast or slow, got 'medium'"),
    ('count', 11, "parameter 'count' must be >= 1; <= 10, got 11"),
    ('topic', '', "parameter 'topic' must not be empty"),
    ('goal', [1.0], "parameter 'goal' must be empty or 2-3 numbers, got [1.0]"),
    ('enabled', 'yes', "parameter 'enabled' expects a bool, got 'yes' (str)"),
])
def test_bad_start_values_name_the_parameter(ros, name, value, message):
    with pytest.raises(ParameterError) as error:
        Probe(parameter_overrides=[Parameter(name, value=value)])
    assert str(error.value) == message


def test_a_valid_change_to_a_dynamic_parameter_is_applied(ros):
    node = Probe()
    result = set_one(node, 'gain', 3)
    assert result.successful
    assert node.params.gain == 3.0 and node.applied == [{'gain': 3.0}]
    assert set_one(node, 'goal', [0.5, 0.5, 0.5]).successful
    assert node.params.goal == [0.5, 0.5, 0.5]


@pytest.mark.parametrize('name, value, reason', [
    ('gain', -5.0, "gain"),                        # refused by the descriptor's range
    ('gain', -5, "parameter 'gain' must be >= 0"),   # an int: refused by the callback
    ('gain', 'big', "parameter 'gain' expects a float"),
    ('mode', 'medium', "parameter 'mode' must be fast or slow"),
    ('goal', [1.0], "parameter 'goal' must be empty or 2-3 numbers"),
    ('period', 1.0, "parameter 'period' takes effect only at start; restart the node"),
    ('topic', 'other', 'read-only'),
])
def test_invalid_non_dynamic_and_read_only_changes_are_refused_with_a_reason(ros, name, value,
                                                                            reason):
    node = Probe()
    before = node.params.as_dict()
    result = set_one(node, name, value)
    assert not result.successful and reason in result.reason
    assert node.params.as_dict() == before and node.applied == []
    assert node.get_parameter(name).value == before[name]


def test_the_nodes_apply_hook_can_refuse_a_change(ros):
    def refuse_big(changes):
        if changes.get('gain', 0) > 10:
            raise ValueError("parameter 'gain' above 10 would saturate the motor")
    node = Probe(apply=refuse_big)
    result = set_one(node, 'gain', 11.0)
    assert not result.successful and 'saturate' in result.reason
    assert node.params.gain == 1.0


def test_parameters_outside_the_spec_pass_through(ros):
    node = Probe()
    assert set_one(node, 'use_sim_time', True).successful


def test_values_cannot_be_assigned_directly(ros):
    node = Probe()
    with pytest.raises(AttributeError):
        node.params.gain = 2.0


def test_lenient_lists_and_clear_errors():
    goal = SPECS[5]
    assert coerce(goal, b'') == [] and coerce(goal, None) == []
    assert coerce(goal, (1, 2)) == [1.0, 2.0]
    with pytest.raises(ParameterError, match="parameter 'goal' expects a list of floats"):
        coerce(goal, 'x')
    with pytest.raises(ParameterError, match='must be finite'):
        coerce(SPECS[0], float('nan'))


def test_a_spec_must_be_consistent():
    with pytest.raises(TypeError, match='kind of a list'):
        ParameterSpec('xs', [], 'No kind.')
    with pytest.raises(TypeError, match='read_only and dynamic'):
        ParameterSpec('x', 1.0, 'Both.', read_only=True, dynamic=True)
    with pytest.raises(ParameterError, match="'x' must be >= 0"):
        ParameterSpec('x', -1.0, 'A default outside its own range.', minimum=0.0)


def test_markdown_table_lists_every_parameter():
    table = markdown_table(SPECS)
    assert table.count('\n') == len(SPECS) + 2
    assert "| `gain` | float | `1.0` | >= 0 | at run time | A gain. |" in table
    assert "| `topic` | str | `commands` | not empty | read-only | A topic. |" in table
    assert "| `goal` | float_list | `[]` | empty or 2-3 items | at run time | A goal. |" in table
