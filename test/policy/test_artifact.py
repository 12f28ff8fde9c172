# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Policy artifact: export, safe load, validation errors that name the field."""

import pickle

import numpy as np
import pytest
import torch
import yaml

from robotrl_ros.agents.ppo import PPO
from robotrl_ros.policy.artifact import ArtifactError, load_artifact
from robotrl_ros.policy.export import export_artifact
from robotrl_ros.tasks.reach import REACH_DISCRETE_SPEC, REACH_SPEC


class TanhPolicy(torch.nn.Module):
    """Continuous policy with a stochastic ``explore`` (not marked @torch.jit.export)."""

    def __init__(self, obs_dim: int = 12, act_dim: int = 3) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.net = torch.nn.Sequential(torch.nn.Linear(obs_dim, 16), torch.nn.Tanh(),
                                       torch.nn.Linear(16, act_dim))

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.net(obs))

    def explore(self, obs: torch.Tensor) -> torch.Tensor:
        mean = self.net(obs)
        return torch.tanh(mean + torch.randn_like(mean))


class ArgmaxPolicy(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(1)
        self.net = torch.nn.Linear(12, 27)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.net(obs).argmax(dim=-1)


class VarargsPolicy(TanhPolicy):
    """Not scriptable (``*args``), so export falls back to tracing."""

    def forward(self, obs: torch.Tensor, *args: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return torch.tanh(self.net(obs))


class WrongShapePolicy(torch.nn.Module):
    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return obs[:, :2]


@pytest.fixture
def artifact_dir(tmp_path):
    return export_artifact(TanhPolicy(), REACH_SPEC, tmp_path / 'policy', algorithm='ppo',
                           provenance={'steps': 10}, obs_mean=np.full(12, 0.5),
                           obs_std=np.full(12, 2.0))


def test_roundtrip_bakes_in_normalization_and_maps_commands(artifact_dir):
    policy = load_artifact(artifact_dir)
    module = TanhPolicy()
    obs = np.random.default_rng(0).normal(size=(5, 12)).astype(np.float32)
    with torch.no_grad():
        expected = module(torch.from_numpy((obs - 0.5) / 2.0)).numpy()
    np.testing.assert_allclose(policy.act(obs), expected, atol=1e-6)
    np.testing.assert_allclose(policy.act(obs[0]), expected[0], atol=1e-6)
    np.testing.assert_allclose(policy.command(obs[0]), REACH_SPEC.action_to_command(expected[0]),
                               atol=1e-6)
    assert policy.spec == REACH_SPEC
    assert policy.algorithm == 'ppo' and policy.metadata['provenance'] == {'steps': 10}
    assert policy.metadata['normalization']['mean'] == [0.5] * 12
    assert [t['source'] for t in policy.metadata['observation']] == [
        'joint_states', 'joint_states', 'goal_pose', 'goal_pose']
    assert len(policy.version) == 12


def test_explore_is_exported_and_stochastic(artifact_dir):
    assert not load_artifact(artifact_dir).has_explore   # explore is TorchScript: opt-in
    policy = load_artifact(artifact_dir, allow_torchscript=True)
    assert policy.has_explore
    obs = np.zeros(12)
    samples = np.stack([policy.explore(obs) for _ in range(20)])
    assert samples.std(axis=0).min() > 0.05
    assert np.all(np.abs(samples) <= 1.0)


def test_explore_sample_keeps_the_gaussian_sample_behind_the_clamped_action(tmp_path):
    agent = PPO(REACH_SPEC.obs_dim, REACH_SPEC.action_dim, config={'init_log_std': 1.0}, seed=0)
    path = export_artifact(agent.policy, REACH_SPEC, tmp_path / 'p', algorithm='ppo')
    policy = load_artifact(path, allow_torchscript=True)
    pairs = [policy.explore_sample(np.zeros(12)) for _ in range(50)]
    actions, samples = (np.stack(x) for x in zip(*pairs, strict=True))
    assert np.all(np.abs(actions) <= 1.0) and np.abs(samples).max() > 1.5   # std e: often out
    np.testing.assert_array_equal(actions, np.clip(samples, -1.0, 1.0))
    assert np.all(np.abs(policy.explore(np.zeros(12))) <= 1.0)
    deterministic = load_artifact(path)                    # no explore: the action twice
    action, sample = deterministic.explore_sample(np.zeros(12))
    np.testing.assert_array_equal(action, sample)


def test_discrete_indices_are_mapped_through_the_action_table(tmp_path):
    path = export_artifact(ArgmaxPolicy(), REACH_DISCRETE_SPEC, tmp_path / 'p', algorithm='dqn')
    policy = load_artifact(path)   # argmax + table lookup: a data network, no TorchScript
    assert policy.backend == 'numpy' and policy._torchscript is None
    obs = np.random.default_rng(1).normal(size=(8, 12)).astype(np.float32)
    with torch.no_grad():
        index = ArgmaxPolicy()(torch.from_numpy(obs)).numpy()
    np.testing.assert_array_equal(policy.act(obs), np.asarray(REACH_DISCRETE_SPEC.discrete_actions)
                                  [index])
    assert not policy.has_explore
    np.testing.assert_array_equal(policy.explore(obs), policy.act(obs))


def test_unscriptable_module_is_traced(tmp_path):
    policy = load_artifact(export_artifact(VarargsPolicy(), REACH_SPEC, tmp_path / 'p',
                                           algorithm='sac'), allow_torchscript=True)
    with torch.no_grad():
        expected = TanhPolicy()(torch.ones(1, 12)).numpy()[0]
    np.testing.assert_allclose(policy.act(np.ones(12)), expected, atol=1e-6)
    assert policy.has_explore


def test_reexport_replaces_atomically_and_leaves_no_temp_dirs(artifact_dir):
    old = load_artifact(artifact_dir).version
    export_artifact(TanhPolicy(), REACH_SPEC, artifact_dir, algorithm='ppo',
                    provenance={'steps': 20})
    assert load_artifact(artifact_dir).version != old
    assert sorted(p.name for p in artifact_dir.parent.iterdir()) == ['policy']
    assert sorted(p.name for p in artifact_dir.iterdir()) == ['policy.pt', 'policy.safetensors',
                                                              'policy.yaml']


def test_failed_export_keeps_the_old_artifact(artifact_dir):
    old = load_artifact(artifact_dir).version
    with pytest.raises(ArtifactError, match=r'returns \(1, 2\).*expected \(1, 3\)'):
        export_artifact(WrongShapePolicy(), REACH_SPEC, artifact_dir, algorithm='ppo')
    assert load_artifact(artifact_dir).version == old
    assert sorted(p.name for p in artifact_dir.parent.iterdir()) == ['policy']


def test_export_rejects_bad_normalization(tmp_path):
    with pytest.raises(ArtifactError, match='obs_std'):
        export_artifact(TanhPolicy(), REACH_SPEC, tmp_path / 'p', algorithm='ppo',
                        obs_std=np.ones(5))
    with pytest.raises(ArtifactError, match='obs_mean'):
        export_artifact(TanhPolicy(), REACH_SPEC, tmp_path / 'p', algorithm='ppo',
                        obs_mean=np.full(12, np.nan))


def _edit(path, **changes):
    data = yaml.safe_load((path / 'policy.yaml').read_text())
    for key, value in changes.items():
        if value is _DELETE:
            del data[key]
        else:
            data[key] = value
    (path / 'policy.yaml').write_text(yaml.safe_dump(data))


_DELETE = object()


def _as_torchscript_only(path):
    """Make an exported artifact look like a bring-your-own one: policy.pt + policy.yaml."""
    _edit(path, network=_DELETE, files=_DELETE)
    (path / 'policy.safetensors').unlink()


@pytest.mark.parametrize('changes, message', [
    ({'format_version': 2}, 'format_version'),
    ({'surprise': 1}, r"unknown field\(s\) \['surprise'\]"),
    ({'control_period': _DELETE}, r"missing field\(s\) \['control_period'\]"),
    ({'task': ''}, 'task: expected a non-empty string'),
    ({'joint_names': ['x', 'x', 'z']}, r"joint_names: joint\(s\) listed twice: \['x'\]"),
    ({'action_scale': [1.0, 1.0]}, r'action_scale: has 2 entries, expected 3'),
    ({'action_offset': [0.0, float('nan'), 0.0]}, r'action_offset\[1\]: must be finite'),
    ({'velocity_limits': [0.5, 'fast', 0.5]}, r'velocity_limits\[1\]: expected a number'),
    ({'command_lower': [-1.0, 2.0, -1.0]}, "joint 'y' has lower 2.0 >= upper 1.0"),
    ({'velocity_limits': [0.5, 0.5, 0.0]}, "velocity_limits: joint 'z'"),
    ({'control_period': -0.1}, 'control_period: must be > 0'),
    ({'command_interface': 'torque'}, 'command_interface: must be one of'),
    ({'command_input': 'joystick'}, 'command_input: must be one of'),
    ({'observation': [{'name': 'joint_pos', 'size': 3}, {'name': 'lidar', 'size': 9}]},
     r"observation\[1\].name: unknown observation term 'lidar'"),
    ({'observation': [{'name': 'joint_vel', 'size': 4}]},
     r'observation\[0\].size \(joint_vel\): expected 3, got 4'),
    ({'observation': [{'name': 'joint_pos', 'size': 3, 'history': 0}]},
     r'observation\[0\].history \(joint_pos\)'),
    ({'observation': [{'name': 'joint_pos', 'size': 3, 'history': 'long'}]},
     r'observation\[0\].history \(joint_pos\)'),
    ({'observation': [{'name': 'joint_pos', 'size': 3, 'history': 65}]},
     r'observation\[0\].history \(joint_pos\): at most 64 control steps, got 65'),
    ({'observation': [{'name': 'joint_pos', 'size': 3, 'source': 'imu'}]},
     r"observation\[0\].source \(joint_pos\): this term comes from 'joint_states'"),
    ({'normalization': {'mean': [0.0] * 11, 'std': [1.0] * 12}},
     r'normalization.mean: has 11 entries, expected 12'),
    ({'normalization': {'mean': [0.0] * 12, 'std': [1.0] * 11 + [0.0]}},
     r'normalization.std\[11\]: must be > 0'),
    ({'discrete_actions': [[1.0, 0.0]]}, r'discrete_actions\[0\]: expected 3 numbers'),
    ({'joint_names': ['a', 'b', 'c', 'd']}, r'observation\[0\].size \(joint_pos\): expected 4'),
])
def test_invalid_metadata_names_the_field(artifact_dir, changes, message):
    _edit(artifact_dir, **changes)
    with pytest.raises(ArtifactError, match=message) as info:
        load_artifact(artifact_dir)
    assert 'policy.yaml' in str(info.value)


def test_network_that_does_not_match_the_metadata_is_rejected(artifact_dir):
    names = ['a', 'b', 'c', 'd']
    _edit(artifact_dir, joint_names=names, action_scale=[1.0] * 4, action_offset=[0.0] * 4,
          command_lower=[-1.0] * 4, command_upper=[1.0] * 4, velocity_limits=[1.0] * 4,
          observation=[{'name': 'joint_pos', 'size': 4}, {'name': 'joint_vel', 'size': 4},
                       {'name': 'goal_position', 'size': 3}, {'name': 'cmd_vel', 'size': 3}],
          normalization=_DELETE)
    with pytest.raises(ArtifactError, match=r'policy.yaml: network: |expected \(1, 4\)'):
        load_artifact(artifact_dir)
    _as_torchscript_only(artifact_dir)
    with pytest.raises(ArtifactError, match=r'policy.pt: forward\(\) fails on a zero observation'
                       r'|expected \(1, 4\)'):
        load_artifact(artifact_dir, allow_torchscript=True)


def test_network_with_nan_output_is_rejected(tmp_path, artifact_dir):
    class NanPolicy(torch.nn.Module):
        def forward(self, obs: torch.Tensor) -> torch.Tensor:
            return obs[:, :3] * float('nan')
    _as_torchscript_only(artifact_dir)
    torch.jit.save(torch.jit.script(NanPolicy()), str(artifact_dir / 'policy.pt'))
    with pytest.raises(ArtifactError, match='returns NaN/Inf'):
        load_artifact(artifact_dir, allow_torchscript=True)


@pytest.mark.parametrize('problem', ['no_dir', 'no_pt', 'no_yaml', 'bad_yaml', 'yaml_list',
                                     'pickled_module', 'garbage_pt'])
def test_missing_or_corrupt_files_name_the_file(tmp_path, artifact_dir, problem):
    target = artifact_dir
    _as_torchscript_only(artifact_dir)   # (the data network: test_artifact_security.py)
    if problem == 'no_dir':
        target = tmp_path / 'nowhere'
        expected = 'not a directory'
    elif problem == 'no_pt':
        (artifact_dir / 'policy.pt').unlink()
        expected = 'policy.pt: cannot open'
    elif problem == 'no_yaml':
        (artifact_dir / 'policy.yaml').unlink()
        expected = 'policy.yaml: cannot open'
    elif problem == 'bad_yaml':
        (artifact_dir / 'policy.yaml').write_text('task: [unclosed\n')
        expected = 'policy.yaml: not valid YAML'
    elif problem == 'yaml_list':
        (artifact_dir / 'policy.yaml').write_text('- 1\n- 2\n')
        expected = 'policy.yaml: expected a mapping of fields'
    elif problem == 'pickled_module':
        torch.save(TanhPolicy(), artifact_dir / 'policy.pt')
        expected = 'policy.pt: not a TorchScript module'
    else:
        (artifact_dir / 'policy.pt').write_bytes(b'\x00garbage' * 10)
        expected = 'policy.pt: not a TorchScript module'
    with pytest.raises(ArtifactError, match=expected):
        load_artifact(target, allow_torchscript=True)


class _Exploit:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, 'w'))


def test_a_malicious_pickle_is_never_executed(tmp_path, artifact_dir):
    marker = tmp_path / 'pwned'
    _as_torchscript_only(artifact_dir)
    (artifact_dir / 'policy.pt').write_bytes(pickle.dumps(_Exploit(str(marker))))
    with pytest.raises(ArtifactError, match='allow_torchscript is false'):
        load_artifact(artifact_dir)
    with pytest.raises(ArtifactError, match='not a TorchScript module'):
        load_artifact(artifact_dir, allow_torchscript=True)
    assert not marker.exists()


def test_every_registered_task_roundtrips(tmp_path):
    from robotrl_ros.tasks.registry import TASKS, make_task

    for name in TASKS:
        spec = make_task(name).spec
        module = ArgmaxPolicy() if spec.is_discrete else torch.nn.Linear(spec.obs_dim,
                                                                          spec.action_dim)
        if spec.is_discrete:
            module.net = torch.nn.Linear(spec.obs_dim, len(spec.discrete_actions))
        policy = load_artifact(export_artifact(module, spec, tmp_path / name, algorithm='x'),
                               allow_torchscript=spec.is_discrete)
        assert policy.spec == spec, name
        assert 'unknown' not in {t['source'] for t in policy.metadata['observation']}, name
