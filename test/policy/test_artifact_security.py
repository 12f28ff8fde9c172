# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Artifacts as untrusted input: data networks, trusted places, hashes, no code execution."""

import os
import shutil
import threading
import time

import numpy as np
import pytest
import yaml
from doubles.hostile_artifacts import HOSTILE_CASES, hostile_update, marker_artifact

from robotrl_ros.policy import artifact_files
from robotrl_ros.policy.artifact import ArtifactError, load_artifact
from robotrl_ros.policy.export import export_artifact
from robotrl_ros.policy.export import main as export_main
from robotrl_ros.policy.loader import ArtifactLoader, LoadTimeoutError
from robotrl_ros.policy.numpy_program import ProgramError, program_from_data
from robotrl_ros.policy.synthetic import make_synthetic_artifact, synthetic_spec

N = 4


@pytest.fixture
def places(tmp_path):
    trusted, outside = tmp_path / 'trusted', tmp_path / 'outside'
    trusted.mkdir()
    outside.mkdir()
    valid = make_synthetic_artifact(trusted / 'valid', n_joints=N, hidden=(16,), seed=0)
    return trusted, outside, valid


def _strip_to_torchscript(path):
    """The same network as a TorchScript-only artifact (before this change / bring-your-own)."""
    data = yaml.safe_load((path / 'policy.yaml').read_text())
    del data['network'], data['files']
    (path / 'policy.yaml').write_text(yaml.safe_dump(data))
    (path / 'policy.safetensors').unlink()
    return path


def test_exported_artifacts_load_as_data_without_torchscript(places):
    _, _, valid = places
    data = yaml.safe_load((valid / 'policy.yaml').read_text())
    assert data['network']['format'] == 'numpy_program'
    assert set(data['files']) == {'policy.safetensors', 'policy.pt'}
    artifact = load_artifact(valid)
    assert artifact.backend == 'numpy' and not artifact.has_explore
    assert artifact._torchscript is None


def _export_trained_shape(algo, task, tmp_path):
    """An artifact as the project exports it for ``algo`` on ``task`` (random weights/table)."""
    from robotrl_ros.agents.registry import make_agent
    from robotrl_ros.tasks.registry import make_env
    env = make_env(task)
    binned = (algo, task) == ('q_learning', 'reach_discrete')
    config = {'bins': (2,) * env.task_spec.obs_dim} if binned else {}
    agent = make_agent(algo, env, config, 0)
    if algo == 'q_learning':   # a learned-looking table: greedy actions differ between cells
        agent.q_table[...] = np.random.default_rng(2).normal(size=agent.q_table.shape)
    return export_artifact(agent.policy_module(), env.task_spec, tmp_path / 'p', algorithm=algo)


# Every algorithm of robotrl_ros.agents.registry.AGENTS, continuous and discrete.
EXPORTED = ['synthetic', 'ppo/reach', 'sac/reach', 'reinforce/reach', 'reinforce/reach_discrete',
            'dqn/reach_discrete', 'q_learning/gridworld', 'q_learning/reach_discrete']


def test_every_registered_algorithm_is_covered():
    from robotrl_ros.agents.registry import AGENTS
    assert set(AGENTS) == {source.split('/')[0] for source in EXPORTED[1:]}


@pytest.mark.parametrize('source', EXPORTED)
def test_data_network_gives_bit_identical_commands_to_the_torchscript_path(tmp_path, source):
    """Issue 20: own artifacts deploy with allow_torchscript false, same commands as before.

    Before, a continuous MLP already ran as the NumPy translation of its TorchScript (loaded
    with TorchScript: ``legacy``), which differs from TorchScript's own float32 rounding in the
    last bits; a discrete policy (argmax, Q-table) ran in TorchScript itself. Bit-identical to
    what deployed: ``legacy`` for all, and TorchScript's ``forward`` for the discrete ones.
    """
    import torch
    if source == 'synthetic':
        path = make_synthetic_artifact(tmp_path / 'p', n_joints=N, hidden=(32, 32), seed=3)
    else:
        path = _export_trained_shape(*source.split('/'), tmp_path)
    data = load_artifact(path)   # allow_torchscript false: the data network only
    assert data.backend == 'numpy' and data._torchscript is None
    legacy = load_artifact(_strip_to_torchscript(shutil.copytree(path, tmp_path / 'legacy')),
                           allow_torchscript=True)   # what deployed before: TorchScript
    network = torch.jit.load(str(path / 'policy.pt'), map_location='cpu')
    rng = np.random.default_rng(0)
    commands = set()
    for scale in (0.1, 1.0, 10.0, 1e3):
        obs = (scale * rng.normal(size=(256, data.spec.obs_dim))).astype(np.float32)
        with torch.inference_mode():   # the TorchScript program itself, not a translation
            scripted = np.clip(network.forward(torch.from_numpy(obs)).numpy(), -1.0, 1.0)
        if data.spec.is_discrete:
            np.testing.assert_array_equal(data.act(obs), scripted.astype(np.float64))
        else:
            np.testing.assert_allclose(data.act(obs), scripted, rtol=1e-4, atol=1e-6)
        np.testing.assert_array_equal(data.act(obs), legacy.act(obs))
        for row, scripted_row in zip(obs[:32], scripted[:32], strict=True):
            command = data.command(row)
            if data.spec.is_discrete:
                np.testing.assert_array_equal(command,
                                              data.spec.action_to_command(scripted_row))
            np.testing.assert_array_equal(command, legacy.command(row))
            commands.add(tuple(command))
    assert len(commands) > 1, 'every observation gave the same command: a vacuous comparison'


@pytest.mark.parametrize('case', sorted(HOSTILE_CASES))
def test_hostile_updates_are_refused_quickly_and_name_the_reason(places, tmp_path, case):
    trusted, outside, valid = places
    marker = tmp_path / 'marker'
    path = hostile_update(case, valid, trusted, outside, synthetic_spec(N), marker)
    start = time.monotonic()
    with pytest.raises(ArtifactError, match=HOSTILE_CASES[case]):
        load_artifact(path, trusted_dirs=[trusted], max_bytes=64 * 1024 * 1024)
    assert time.monotonic() - start < 1.0
    assert not marker.exists()
    load_artifact(valid, trusted_dirs=[trusted])   # the trusted one still loads


def test_malicious_torchscript_is_refused_before_it_runs(tmp_path):
    marker = tmp_path / 'marker'
    path = marker_artifact(tmp_path / 'evil', synthetic_spec(N), marker)
    with pytest.raises(ArtifactError, match='refused before loading it.*--reexport.*'
                       'allow_torchscript: true'):
        load_artifact(path)
    assert not marker.exists()
    load_artifact(path, allow_torchscript=True)   # the opt-in runs it: the marker is real
    assert marker.exists()


def test_each_file_is_opened_once_and_the_version_is_the_hash_of_what_was_loaded(
        places, monkeypatch):
    _, _, valid = places
    opened = []
    real_open = os.open

    def counting_open(path, flags, *args, **kwargs):
        opened.append(os.path.basename(str(path)))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(artifact_files.os, 'open', counting_open)
    first = load_artifact(valid, allow_torchscript=True)
    assert sorted(opened) == ['policy.pt', 'policy.safetensors', 'policy.yaml', 'valid']
    monkeypatch.undo()
    weights = valid / 'policy.safetensors'
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0x01
    weights.write_bytes(bytes(data))
    meta = yaml.safe_load((valid / 'policy.yaml').read_text())
    import hashlib
    meta['files']['policy.safetensors']['sha256'] = hashlib.sha256(data).hexdigest()
    (valid / 'policy.yaml').write_text(yaml.safe_dump(meta))
    assert load_artifact(valid).version != first.version


def test_a_data_network_needs_its_hash(places):
    _, _, valid = places
    meta = yaml.safe_load((valid / 'policy.yaml').read_text())
    del meta['files']['policy.safetensors']
    (valid / 'policy.yaml').write_text(yaml.safe_dump(meta))
    with pytest.raises(ArtifactError, match='no sha256 recorded for policy.safetensors'):
        load_artifact(valid)


def test_trusted_dirs_accept_paths_inside_and_refuse_prefix_lookalikes(tmp_path):
    (tmp_path / 'runs').mkdir()
    (tmp_path / 'runs2').mkdir()
    path = make_synthetic_artifact(tmp_path / 'runs2' / 'p', n_joints=N, hidden=(8,))
    with pytest.raises(ArtifactError, match='outside the trusted'):
        load_artifact(path, trusted_dirs=[tmp_path / 'runs'])
    with pytest.raises(ArtifactError, match='no trusted_artifact_dirs'):
        load_artifact(path, trusted_dirs=[])
    assert load_artifact(path, trusted_dirs=[tmp_path / 'runs2']).path == path.resolve()


def _program(steps, constants=None, result=None):
    return {'format': 'numpy_program', 'steps': steps, 'constants': constants or {},
            'result': result if result is not None else steps[-1][2]}


@pytest.mark.parametrize('description, message', [
    (_program([['os.system', [0], 1]]), "unknown op 'os.system'"),
    (_program([['aten::tanh', [5], 1]]), r'reads slot\(s\) \[5\] before'),
    (_program([['aten::tanh', ['0); import os; (0'], 1]]), 'expected a slot number'),
    (_program([['aten::tanh', [0], True]]), 'expected a slot number'),
    (_program([['aten::add', [0, 0, 0], 1]]), r'takes \[2\] inputs'),
    (_program([['aten::tanh', [0], 1]], {2: 'text'}), 'a constant must be'),
    (_program([['aten::tanh', [0], 1]], result=7), 'result'),
    (_program([['aten::reshape', [0, 2], 1]], {2: [-1] * 9}), 'a constant must be'),
    (_program([['aten::reshape', [0, 2], 1]], {2: [-1, 'x']}), 'a constant must be'),
    ({'format': 'pickle'}, 'format'),
])
def test_malformed_programs_are_refused_by_name(description, message):
    with pytest.raises(ProgramError, match=message):
        program_from_data(description, {})


def test_weights_must_be_float_or_int64_arrays():
    description = _program([['aten::index', [2, 0], 1]])
    with pytest.raises(ProgramError, match='float32/float64/int64'):
        program_from_data(description, {'v2': np.zeros(3, dtype=np.int32)})
    program = program_from_data(description, {'v2': np.zeros(3, dtype=np.int64)})
    assert program.values[2].dtype == np.int64


@pytest.mark.parametrize('steps, constants, message', [
    ([['aten::argmax', [0, 2, 3], 1]], {2: -1, 3: True}, 'keepdim false'),
    ([['aten::to', [0, 2, 3, 3, 4], 1]], {2: 3, 3: False, 4: None}, 'unsupported dtype code'),
    ([['prim::ListConstruct', [0], 1], ['aten::index', [0, 1], 2]], {}, 'one int64 index'),
])
def test_discrete_ops_refuse_forms_they_do_not_implement(steps, constants, message):
    """A program may name these ops with any arguments: a wrong form fails when compiled."""
    program = program_from_data(_program(steps, constants), {})
    with pytest.raises(ValueError, match=message):
        program.compile(4)


def test_an_allocation_bomb_is_refused_before_it_allocates():
    steps, slot = [], 0
    for i in range(12):   # each cat of 16 copies: 16 ** 12 elements at the end
        steps.append(['prim::ListConstruct', [slot] * 16, 100 + 2 * i])
        steps.append(['aten::cat', [100 + 2 * i, 1], 101 + 2 * i])
        slot = 101 + 2 * i
    program = program_from_data(_program(steps, {1: 1}), {})
    with pytest.raises(ProgramError, match='would make'):
        program.compile(8)


def test_reexport_turns_an_old_torchscript_artifact_into_data(tmp_path):
    path = make_synthetic_artifact(tmp_path / 'p', n_joints=N, hidden=(16,))
    old = load_artifact(_strip_to_torchscript(path), allow_torchscript=True)
    with pytest.raises(ArtifactError, match='allow_torchscript is false'):
        load_artifact(path)
    assert export_main(['--reexport', str(path)]) == 0
    new = load_artifact(path)
    obs = np.random.default_rng(1).normal(size=(16, new.spec.obs_dim)).astype(np.float32)
    np.testing.assert_array_equal(new.act(obs), old.act(obs))


def test_loader_abandons_a_stuck_load_and_installs_the_next_valid_update(places):
    _, _, valid = places
    release = threading.Event()
    installed, errors = [], []

    def load(path):
        if path == 'stuck':
            release.wait(30.0)   # e.g. a hung network filesystem
        return load_artifact(path)

    loader = ArtifactLoader(load, installed.append, errors.append, timeout=0.2)
    try:
        loader.request('stuck')
        end = time.monotonic() + 10.0
        while time.monotonic() < end and not errors:
            time.sleep(0.01)
        assert errors and isinstance(errors[0], LoadTimeoutError)
        loader.request(str(valid))
        while time.monotonic() < end and not installed:
            time.sleep(0.01)
        assert [a.path for a in installed] == [valid]
    finally:
        release.set()
    time.sleep(0.1)
    assert len(installed) == 1 and loader.abandoned == 1   # the stuck result was dropped


def test_an_operators_symlinked_policy_path_still_loads(places, tmp_path):
    _, _, valid = places
    latest = tmp_path / 'latest'
    latest.symlink_to(valid, target_is_directory=True)
    assert load_artifact(latest).version == load_artifact(valid).version
