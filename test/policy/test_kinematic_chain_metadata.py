# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""policy.yaml's kinematic_chain: deploy-side end-effector observations equal the task's.

The policy node builds its observation with ``build_observation(artifact.spec, state)`` from
joint states and ``goal_pose`` only (no MuJoCo model); for ``ee_reach`` the ``ee_goal_delta``
term needs the arm's forward kinematics, which the artifact carries as plain data.
"""

import numpy as np
import pytest
import torch
import yaml
from doubles.nested_edit import DELETE, set_nested

from robotrl_ros.policy.artifact import ArtifactError, load_artifact
from robotrl_ros.policy.export import export_artifact
from robotrl_ros.tasks.observation import RobotState, build_observation
from robotrl_ros.tasks.registry import make_env


@pytest.fixture(scope='module')
def panda():
    return make_env('ee_reach', seed=0)


@pytest.fixture
def artifact_dir(panda, tmp_path):
    spec = panda.task_spec
    return export_artifact(torch.nn.Linear(spec.obs_dim, spec.action_dim), spec,
                           tmp_path / 'policy', algorithm='sac')


def test_node_side_observation_equals_the_task_observation(panda, artifact_dir):
    policy = load_artifact(artifact_dir)
    spec = policy.spec
    assert 'ee_goal_delta' in [term.name for term in spec.observation]
    assert policy.metadata['kinematic_chain']['link'] == 'panda_grasptarget'
    assert spec.kinematic_chain == panda.task_spec.kinematic_chain
    rng = np.random.default_rng(0)
    obs, _ = panda.reset(seed=1)
    for step in range(30):
        state = panda.robot_state()
        # The observation the policy node builds from the same joint states and goal.
        deployed = build_observation(spec, RobotState(
            position=state.position.copy(), velocity=state.velocity.copy(),
            goal=np.asarray(panda.goal), last_action=state.last_action))
        np.testing.assert_array_equal(deployed, obs)
        np.testing.assert_array_equal(deployed, panda.task.observe(state))
        delta = deployed[-10:-7]                # ee_goal_delta precedes the 7 last_action
        np.testing.assert_allclose(delta, panda.goal - panda.ee_position(), atol=1e-6)
        obs, _, terminated, truncated, _ = panda.step(rng.uniform(-1, 1, spec.action_dim))
        if terminated or truncated:
            obs, _ = panda.reset(seed=100 + step)


def test_the_onnx_export_carries_the_chain(panda, artifact_dir):
    import json

    import onnx

    from robotrl_ros.policy.onnx_export import ONNX_FILE, export_onnx

    export_onnx(artifact_dir)
    model = onnx.load(str(artifact_dir / ONNX_FILE))
    props = {p.key: json.loads(p.value) for p in model.metadata_props}
    assert props['kinematic_chain'] == panda.task_spec.kinematic_chain.to_dict()
    assert props['observation'][3]['name'] == 'ee_goal_delta'


def _edit_chain(path, edit):
    data = yaml.safe_load((path / 'policy.yaml').read_text())
    edit(data)
    (path / 'policy.yaml').write_text(yaml.safe_dump(data))


def _set(*keys_value):
    *keys, value = keys_value
    return lambda data: set_nested(data, tuple(keys), DELETE if value is None else value)


@pytest.mark.parametrize('edit, message', [
    (_set('kinematic_chain', None),
     r"kinematic_chain: missing; observation term\(s\) \['ee_goal_delta'\]"),
    (_set('kinematic_chain', 'links', 3, 'joints', 0, 'axis', [0.0, 0.0, 0.0]),
     r'kinematic_chain.links\[3\].joints\[0\].axis: must not be zero'),
    (_set('kinematic_chain', 'links', 2, 'pos', [0.0, float('inf'), 0.0]),
     r'kinematic_chain.links\[2\].pos\[1\]: expected a finite number'),
    (_set('kinematic_chain', 'links', 3, 'joints', 0, 'type', 'free'),
     r"kinematic_chain.links\[3\].joints\[0\].type: must be one of"),
    (_set('kinematic_chain', 'links', 3, 'joints', 0, 'name', 'gripper'),
     r"kinematic_chain: .*joint\(s\) \['gripper'\] are not among the joints"),
    (_set('kinematic_chain', 'links', [{'pos': [0.0, 0.0, 0.0]}] * 1000),
     r'kinematic_chain.links: expected a list of 1 to 64 links'),
    (_set('kinematic_chain', 'exec', 'rm -rf /'), r"kinematic_chain: unknown key\(s\) \['exec'\]"),
])
def test_a_hostile_or_malformed_chain_is_refused_naming_the_key(artifact_dir, edit, message):
    _edit_chain(artifact_dir, edit)
    with pytest.raises(ArtifactError, match=message) as info:
        load_artifact(artifact_dir)
    assert 'policy.yaml' in str(info.value)
