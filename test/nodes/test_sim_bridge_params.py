# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""sim_bridge parameter checking: the contract's names, lenient numbers, named type errors."""

import re
from pathlib import Path

import pytest

from robotrl_ros.nodes.sim_params import SIM_BRIDGE_PARAMETERS, coerce_parameter

ROOT = Path(__file__).resolve().parents[2]


def test_parameters_are_exactly_the_documented_ones():
    doc = (ROOT / 'docs' / 'interfaces.md').read_text()
    section = doc[doc.index('sim_bridge: `task`'):doc.index('trainer_node:')]
    documented = set(re.findall(r'`([a-z_]+)`', section))
    assert documented == set(SIM_BRIDGE_PARAMETERS)


def test_defaults_pass_their_own_checks():
    for name, (default, _, _) in SIM_BRIDGE_PARAMETERS.items():
        assert coerce_parameter(name, default) == default


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
    ('lockstep', 3, "'lockstep' must be true or false"),
    ('seed', 1.5, "'seed' must be an integer"),
    ('control_period', 'fast', "'control_period' must be a number"),
    ('control_period', float('nan'), 'must be finite'),
    ('joints', [1, 2], "'joints' must be a list of strings"),
    ('goal', 'x', "'goal' must be a list"),
    ('dr_latency_steps', [0.5, 1.0], "'dr_latency_steps' must be an integer"),
    ('task', 3, "'task' must be a string"),
])
def test_bad_types_name_the_parameter(name, value, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        coerce_parameter(name, value)
