# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""KinematicChain: plain-data forward kinematics, round trip, and refusal of malformed chains."""

import copy

import numpy as np
import pytest
from doubles.nested_edit import DELETE, set_nested

from robotrl_ros.tasks.kinematics import KinematicChain

#: A planar two-link arm on a slide: base slides along x, then two hinges about z.
CHAIN = {'link': 'tip', 'links': [
    {'pos': [0.0, 0.0, 0.5], 'quat': [1.0, 0.0, 0.0, 0.0],
     'joints': [{'name': 'rail', 'type': 'slide', 'axis': [1.0, 0.0, 0.0]}]},
    {'pos': [0.0, 0.0, 0.0],
     'joints': [{'name': 'shoulder', 'type': 'hinge', 'axis': [0.0, 0.0, 2.0]}]},
    {'pos': [0.3, 0.0, 0.0],
     'joints': [{'name': 'elbow', 'type': 'hinge', 'axis': [0.0, 0.0, 1.0], 'ref': 0.1}]},
    {'pos': [0.2, 0.0, 0.0]},
]}


def test_chain_places_the_link_like_the_hand_computed_arm():
    chain = KinematicChain.from_dict(CHAIN)
    # Columns in another order than the chain: (elbow, rail, shoulder).
    fk = chain.evaluator(('elbow', 'rail', 'shoulder'))
    rng = np.random.default_rng(0)
    q = rng.uniform(-2, 2, (6, 3))
    a, b = q[:, 2], q[:, 2] + q[:, 0] - 0.1          # elbow angle relative to its ref
    expected = np.stack([q[:, 1] + 0.3 * np.cos(a) + 0.2 * np.cos(b),
                         0.3 * np.sin(a) + 0.2 * np.sin(b), np.full(6, 0.5)], axis=1)
    np.testing.assert_allclose(fk.position(q), expected, atol=1e-12)
    np.testing.assert_allclose(fk.position(q[2]), expected[2], atol=1e-12)
    assert chain.joint_names == ('rail', 'shoulder', 'elbow')
    assert KinematicChain.from_dict(chain.to_dict()) == chain


def test_a_chain_joint_missing_from_the_joints_is_refused():
    chain = KinematicChain.from_dict(CHAIN)
    with pytest.raises(ValueError, match=r"joint\(s\) \['elbow'\] are not among"):
        chain.evaluator(('rail', 'shoulder'))
    with pytest.raises(ValueError, match='expected 3 joint positions'):
        chain.evaluator(('rail', 'shoulder', 'elbow')).position(np.zeros(2))


def _broken(path, value):
    data = copy.deepcopy(CHAIN)
    set_nested(data, path, value)
    return data


_DELETE = DELETE


@pytest.mark.parametrize('path, value, message', [
    (('link',), '', r'kinematic_chain.link: expected a non-empty name'),
    (('links',), [], r'kinematic_chain.links: expected a list of 1 to 64'),
    (('links',), [{'pos': [0, 0, 0]}] * 65, r'kinematic_chain.links: expected a list of 1 to 64'),
    (('links',), 'all of them', r'kinematic_chain.links: expected a list'),
    (('colour',), 'red', r"kinematic_chain: unknown key\(s\) \['colour'\]"),
    (('links', 1, 'pos'), _DELETE, r"kinematic_chain.links\[1\]: missing key\(s\) \['pos'\]"),
    (('links', 1, 'pos'), [0.0, 0.0], r'kinematic_chain.links\[1\].pos: expected a list of 3'),
    (('links', 1, 'pos'), [0.0, float('nan'), 0.0],
     r'kinematic_chain.links\[1\].pos\[1\]: expected a finite number'),
    (('links', 1, 'pos'), [0.0, 1e9, 0.0], r'kinematic_chain.links\[1\].pos: offsets above'),
    (('links', 1, 'pos'), [0.0, True, 0.0], r'kinematic_chain.links\[1\].pos\[1\]'),
    (('links', 0, 'quat'), [0, 0, 0, 0], r'kinematic_chain.links\[0\].quat: must not be zero'),
    (('links', 0, 'joints'), [{'name': 'rail', 'type': 'slide', 'axis': [1, 0, 0]}] * 7,
     r'kinematic_chain.links\[0\].joints: expected a list of at most 6'),
    (('links', 2, 'joints', 0, 'type'), 'ball',
     r"kinematic_chain.links\[2\].joints\[0\].type: must be one of \['hinge', 'slide'\]"),
    (('links', 2, 'joints', 0, 'axis'), [0.0, 0.0, 0.0],
     r'kinematic_chain.links\[2\].joints\[0\].axis: must not be zero'),
    (('links', 2, 'joints', 0, 'ref'), 'zero',
     r'kinematic_chain.links\[2\].joints\[0\].ref: expected a finite number'),
    (('links', 2, 'joints', 0, 'name'), 'shoulder',
     r"kinematic_chain.links\[2\].joints\[0\].name: joint 'shoulder' is on the chain twice"),
    (('links', 2, 'joints', 0, 'code'), '__import__("os")',
     r"kinematic_chain.links\[2\].joints\[0\]: unknown key\(s\) \['code'\]"),
    (('links', 3), ['not', 'a', 'mapping'], r'kinematic_chain.links\[3\]: expected a mapping'),
])
def test_malformed_chains_are_refused_naming_the_key(path, value, message):
    with pytest.raises(ValueError, match=message):
        KinematicChain.from_dict(_broken(path, value))
