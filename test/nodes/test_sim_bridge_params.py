# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""sim_bridge parameter checking: the contract's names, lenient numbers, named type errors."""

import re

import pytest

from robotrl_ros.nodes.sim_bridge_params import SIM_BRIDGE_PARAMETERS
from robotrl_ros.ros.params import ParameterError, coerce

SPECS = {spec.name: spec for spec in SIM_BRIDGE_PARAMETERS}


def coerce_parameter(name, value):
    return coerce(SPECS[name], value)


def test_defaults_pass_their_own_checks():
    for name, spec in SPECS.items():
        assert coerce_parameter(name, spec.default) == spec.default


@pytest.mark.parametrize('name, value, expected', [
    ('goal', [1, 0, 0], [1.0, 0.0, 0.0]),
    ('control_period', 1, 1.0),
    ('dr_latency_steps', [1.0, 3.0], [1, 3]),
    ('joints', [], []),
    ('goal', b'', []),  # an empty YAML list arrives as an empty byte array
])
def test_numbers_are_normalized(name, value, expected):
    result = coerce_parameter(name, value)
    assert result == expected and type(result) is type(expected)
    if isinstance(expected, list):
        assert [type(v) for v in result] == [type(v) for v in expected]


@pytest.mark.parametrize('name, value, message', [
    ('lockstep', 3, "'lockstep' expects a bool"),
    ('seed', 1.5, "'seed' expects an int"),
    ('control_period', 'fast', "'control_period' expects a float"),
    ('control_period', float('nan'), 'must be finite'),
    ('joints', [1, 2], "'joints' expects a list of strings"),
    ('goal', 'x', "'goal' expects a list of floats"),
    ('dr_latency_steps', [0.5, 1.0], "'dr_latency_steps' expects a list of ints"),
    ('task', 3, "'task' expects a str"),
    ('status_period', 0.0, "'status_period' must be > 0"),
])
def test_bad_types_name_the_parameter(name, value, message):
    with pytest.raises(ParameterError, match=re.escape(message)):
        coerce_parameter(name, value)
