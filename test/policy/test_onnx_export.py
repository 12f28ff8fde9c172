# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""policy.onnx: onnxruntime gives the policy node's actions; the artifact still verifies."""

import json

import numpy as np
import pytest
import torch
import yaml
from doubles.policy_networks import ACTIVATIONS as SUPPORTED_ACTIVATIONS
from doubles.policy_networks import EveryOpMLP

from robotrl_ros.policy.artifact import load_artifact, sha256_hex
from robotrl_ros.policy.export import export_artifact
from robotrl_ros.policy.metadata import ArtifactError
from robotrl_ros.policy.onnx_export import IR_VERSION, ONNX_FILE, OPSET, export_onnx
from robotrl_ros.tasks.observation import RobotState, build_observation
from robotrl_ros.tasks.reach import REACH_DISCRETE_SPEC, REACH_SPEC

ort = pytest.importorskip('onnxruntime')
onnx = pytest.importorskip('onnx')



class _ScaledElu(torch.nn.Module):
    """aten::elu with every argument (alpha, scale, input_scale) different from 1."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.ops.aten.elu(x, 0.5, 2.0, 1.5)

    def __repr__(self) -> str:
        return 'ScaledElu()'


ACTIVATIONS = [*SUPPORTED_ACTIVATIONS, _ScaledElu()]


def _observations(obs_dim, rows=64, seed=0):
    rng = np.random.default_rng(seed)
    return np.concatenate([scale * rng.standard_normal((rows // 4, obs_dim))
                           for scale in (0.01, 1.0, 10.0, 1000.0)]).astype(np.float32)


def _onnx_actions(path, obs):
    session = ort.InferenceSession(str(path / ONNX_FILE), providers=['CPUExecutionProvider'])
    (action,) = session.run(['action'], {'obs': obs})
    return action


def _assert_same_actions(path, obs):
    """The actions of onnxruntime equal the artifact's NumPy network (what policy_node runs)."""
    artifact = load_artifact(path)
    assert artifact.backend == 'numpy'
    got = _onnx_actions(path, obs)
    assert got.dtype == np.float32 and got.shape == (len(obs), artifact.spec.action_dim)
    np.testing.assert_allclose(got, artifact.act(obs), atol=1e-5, rtol=0)
    for row in obs[:8]:   # one observation at a time, as the node answers a joint state
        np.testing.assert_allclose(artifact.spec.action_to_command(_onnx_actions(
            path, row[None])[0]), artifact.command(row), atol=2e-5, rtol=0)


@pytest.mark.parametrize('algo, config', [('ppo', {}), ('ppo', {'expected_action': True}),
                                          ('sac', {})], ids=['ppo', 'ppo-expected', 'sac'])
def test_trained_agents_export_to_onnx_with_the_same_actions(tmp_path, algo, config):
    from robotrl_ros.agents.registry import make_agent
    from robotrl_ros.tasks.registry import make_env

    env = make_env('reach')
    agent = make_agent(algo, env, config, 0)
    path = export_artifact(agent.policy_module(), env.task_spec, tmp_path / algo, algorithm=algo)
    onnx_path = export_onnx(path)
    assert onnx_path == path / ONNX_FILE
    _assert_same_actions(path, _observations(env.task_spec.obs_dim))
    # Observations as the policy node builds them from a joint state and a goal.
    artifact = load_artifact(path)
    rng = np.random.default_rng(1)
    for _ in range(8):
        state = RobotState(position=rng.uniform(-1, 1, 3), velocity=rng.normal(size=3),
                           goal=rng.uniform(-1, 1, 3))
        obs = build_observation(artifact.spec, state).astype(np.float32)
        np.testing.assert_allclose(_onnx_actions(path, obs[None])[0], artifact.act(obs),
                                   atol=1e-5, rtol=0)


@pytest.mark.parametrize('activation', ACTIVATIONS, ids=repr)
def test_every_op_of_the_data_network_translates(tmp_path, activation):
    path = export_artifact(EveryOpMLP(activation), REACH_SPEC, tmp_path / 'p', algorithm='x')
    export_onnx(path)
    _assert_same_actions(path, _observations(REACH_SPEC.obs_dim))


def test_normalization_outside_the_network_is_the_graphs_first_ops(tmp_path):
    path = export_artifact(EveryOpMLP(torch.nn.ELU()), REACH_SPEC, tmp_path / 'p', algorithm='x')
    meta = yaml.safe_load((path / 'policy.yaml').read_text())
    rng = np.random.default_rng(3)
    meta['normalization'] = {'mean': rng.normal(size=12).tolist(),
                             'std': (rng.random(12) + 0.5).tolist(), 'in_network': False}
    (path / 'policy.yaml').write_text(yaml.safe_dump(meta))
    export_onnx(path)
    obs = _observations(REACH_SPEC.obs_dim)
    artifact = load_artifact(path)
    np.testing.assert_allclose(_onnx_actions(path, obs), artifact.act(obs), atol=1e-5, rtol=0)


def test_policy_yaml_records_the_onnx_file_and_the_artifact_still_verifies(tmp_path):
    path = export_artifact(EveryOpMLP(torch.nn.Tanh()), REACH_SPEC, tmp_path / 'p', algorithm='x')
    before = yaml.safe_load((path / 'policy.yaml').read_text())
    export_onnx(path)
    after = yaml.safe_load((path / 'policy.yaml').read_text())
    blob = (path / ONNX_FILE).read_bytes()
    assert after['files'][ONNX_FILE] == {'sha256': sha256_hex(blob)}
    assert {k: v for k, v in after.items() if k != 'files'} == \
        {k: v for k, v in before.items() if k != 'files'}
    assert {k: v for k, v in after['files'].items() if k != ONNX_FILE} == before['files']
    load_artifact(path)   # hashes of the network files still verified
    (path / 'policy.safetensors').write_bytes(b'tampered')
    with pytest.raises(ArtifactError, match='sha256'):
        load_artifact(path)
    model = onnx.load_from_string(blob)
    assert model.opset_import[0].version == OPSET and model.ir_version == IR_VERSION
    props = {p.key: json.loads(p.value) for p in model.metadata_props}
    assert props['joint_names'] == list(REACH_SPEC.joint_names)
    assert props['action_scale'] == list(REACH_SPEC.action_scale)
    assert props['control_period'] == REACH_SPEC.control_period
    assert [i.name for i in model.graph.input] == ['obs']
    assert [o.name for o in model.graph.output] == ['action']


def test_exporting_twice_replaces_the_file(tmp_path):
    path = export_artifact(EveryOpMLP(torch.nn.ReLU()), REACH_SPEC, tmp_path / 'p', algorithm='x')
    export_onnx(path)
    first = yaml.safe_load((path / 'policy.yaml').read_text())['files']
    export_onnx(path)
    assert yaml.safe_load((path / 'policy.yaml').read_text())['files'] == first


class _Argmax(torch.nn.Module):
    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return torch.argmax(obs[:, :len(REACH_DISCRETE_SPEC.discrete_actions)], dim=1)


def test_discrete_and_torchscript_only_artifacts_are_refused_with_the_reason(tmp_path):
    discrete = export_artifact(_Argmax(), REACH_DISCRETE_SPEC, tmp_path / 'd', algorithm='dqn')
    with pytest.raises(ArtifactError, match='discrete policy'):
        export_onnx(discrete)
    assert not (discrete / ONNX_FILE).exists()
    path = export_artifact(EveryOpMLP(torch.nn.ReLU()), REACH_SPEC, tmp_path / 'p', algorithm='x')
    meta = yaml.safe_load((path / 'policy.yaml').read_text())
    del meta['network']
    (path / 'policy.yaml').write_text(yaml.safe_dump(meta))
    with pytest.raises(ArtifactError, match='TorchScript only.*--reexport'):
        export_onnx(path)
    with pytest.raises(ArtifactError, match='cannot read'):
        export_onnx(tmp_path / 'missing')
