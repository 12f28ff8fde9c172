# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The artifact bundle codec: round trip, every refusal, atomic install, pruning."""

import json
import os
import struct

import pytest

from robotrl_ros.policy import artifact_bundle
from robotrl_ros.policy.artifact import METADATA_FILE, WEIGHTS_FILE, load_artifact, sha256_hex
from robotrl_ros.policy.artifact_bundle import (
    BUNDLE_MAGIC,
    INSTALLED_PREFIX,
    MAX_BUNDLE_FILES,
    BundleError,
    bundle_bytes,
    install_bundle,
    pack_artifact,
    prune_installed,
    remove_interrupted,
    unpack_bundle,
)
from robotrl_ros.policy.metadata import ArtifactError
from robotrl_ros.policy.synthetic import make_synthetic_artifact


@pytest.fixture(scope='module')
def artifact(tmp_path_factory):
    return make_synthetic_artifact(tmp_path_factory.mktemp('trainer') / 'policy', n_joints=3,
                                   hidden=(8,), seed=0)


@pytest.fixture(scope='module')
def files(artifact):
    """The artifact's files (name -> bytes), in the order pack_artifact writes them."""
    payload = pack_artifact(artifact)
    return dict(unpack_bundle(payload).files)


def raw_bundle(entries, blobs, magic=BUNDLE_MAGIC, manifest=None):
    """A payload with a hand-written manifest (entries: dicts) followed by ``blobs``."""
    if manifest is None:
        manifest = {'format': 'robotrl_ros/policy_artifact', 'format_version': 1,
                    'files': entries}
    text = json.dumps(manifest).encode() if not isinstance(manifest, bytes) else manifest
    return struct.pack('<8sI', magic, len(text)) + text + b''.join(blobs)


def entry(name, blob):
    return {'name': name, 'size': len(blob), 'sha256': sha256_hex(blob)}


def test_a_packed_artifact_installs_and_loads_as_the_same_policy(artifact, tmp_path):
    (artifact / 'notes.txt').write_text('not part of the artifact')   # not in files: not sent
    bundle = unpack_bundle(pack_artifact(artifact))
    assert set(bundle.files) == {METADATA_FILE, WEIGHTS_FILE, 'policy.pt'}
    path = install_bundle(bundle, tmp_path / 'robot')
    assert path.parent == tmp_path / 'robot' and path.name.startswith(INSTALLED_PREFIX)
    assert sorted(os.listdir(tmp_path / 'robot')) == [path.name]    # nothing half-written left
    original, installed = load_artifact(artifact), load_artifact(path)
    assert installed.version == original.version
    assert installed.metadata == original.metadata
    assert install_bundle(bundle, tmp_path / 'robot') == path        # same artifact: same place


def test_pack_refuses_an_artifact_missing_a_referenced_file(artifact, tmp_path):
    copy = tmp_path / 'copy'
    copy.mkdir()
    for name in (METADATA_FILE, 'policy.pt'):
        (copy / name).write_bytes((artifact / name).read_bytes())
    with pytest.raises(ArtifactError, match=WEIGHTS_FILE):
        pack_artifact(copy)


def tampered_weights(files):
    blob = bytearray(files[WEIGHTS_FILE])
    blob[-1] ^= 0xFF
    return [entry(n, b) for n, b in files.items()], \
        [bytes(blob) if n == WEIGHTS_FILE else b for n, b in files.items()]


def _with(files, name, blob):
    out = dict(files)
    out[name] = blob
    return [entry(n, b) for n, b in out.items()], list(out.values())


def _renamed(files, new_name):
    entries = [entry(n, b) for n, b in files.items()]
    entries[1]['name'] = new_name
    return entries, list(files.values())


def _size_plus_one(files):
    entries = [entry(n, b) for n, b in files.items()]
    entries[1]['size'] += 1
    return entries, list(files.values())


def _trailing(files):
    return [entry(n, b) for n, b in files.items()], [*files.values(), b'x']


def _duplicate(files):
    entries = [entry(n, b) for n, b in files.items()]
    return [*entries, entries[1]], [*files.values(), files[entries[1]['name']]]


def _without(files, name):
    kept = {n: b for n, b in files.items() if n != name}
    return [entry(n, b) for n, b in kept.items()], list(kept.values())


def _field(files, key, value):
    entries = [entry(n, b) for n, b in files.items()]
    entries[1][key] = value
    return entries, list(files.values())


def _recomputed_manifest_for_changed_weights(files):
    """A tamperer who also rewrites the manifest's hash: policy.yaml's record still differs."""
    blob = bytearray(files[WEIGHTS_FILE])
    blob[-1] ^= 0xFF
    return _with(files, WEIGHTS_FILE, bytes(blob))


REFUSALS = {
    'hash mismatch': (tampered_weights, 'differs from the manifest'),
    'hash rewritten in the manifest too': (_recomputed_manifest_for_changed_weights,
                                           'sha256 differs from the .* that policy.yaml records'),
    'size larger than sent': (_size_plus_one, 'size mismatch'),
    'bytes after the files': (_trailing, 'size mismatch'),
    'dot dot': (lambda f: _renamed(f, '..'), 'not a plain file name'),
    'parent path': (lambda f: _renamed(f, '../escape'), 'not a plain file name'),
    'slash': (lambda f: _renamed(f, 'sub/file'), 'not a plain file name'),
    'absolute': (lambda f: _renamed(f, '/etc/passwd'), 'not a plain file name'),
    'NUL': (lambda f: _renamed(f, 'policy\0.pt'), 'not a plain file name'),
    'hidden': (lambda f: _renamed(f, '.bashrc'), 'not a plain file name'),
    'empty name': (lambda f: _renamed(f, ''), 'not a plain file name'),
    'duplicate name': (_duplicate, 'duplicate name'),
    'not referenced by policy.yaml': (lambda f: _with(f, 'extra.bin', b'payload'),
                                      'extra.bin is not referenced'),
    'referenced file missing': (lambda f: _without(f, WEIGHTS_FILE), 'missing from the bundle'),
    'no policy.yaml': (lambda f: _without(f, METADATA_FILE), 'has no policy.yaml'),
    'negative size': (lambda f: _field(f, 'size', -1), 'non-negative integer'),
    'boolean size': (lambda f: _field(f, 'size', True), 'non-negative integer'),
    'sha256 not hex': (lambda f: _field(f, 'sha256', 'Z' * 64), '64 lowercase hex'),
    'extra key': (lambda f: _field(f, 'mode', 0o777), 'expected an object with keys'),
}


@pytest.mark.parametrize('case', REFUSALS, ids=list(REFUSALS))
def test_each_inconsistent_bundle_is_refused_naming_why(files, case):
    build, message = REFUSALS[case]
    entries, blobs = build(files)
    with pytest.raises(ArtifactError, match=message):
        unpack_bundle(raw_bundle(entries, blobs))


def test_a_valid_hand_built_payload_is_accepted(files):
    """The refusal cases differ from a valid payload only in what they test."""
    payload = raw_bundle([entry(n, b) for n, b in files.items()], list(files.values()))
    assert dict(unpack_bundle(payload).files) == files


def test_total_size_over_the_cap_is_refused(files):
    payload = bundle_bytes(files)
    total = sum(len(b) for b in files.values())
    with pytest.raises(BundleError, match='max_artifact_bytes'):
        unpack_bundle(payload, max_bytes=total - 1)
    assert unpack_bundle(payload, max_bytes=total).files == files
    with pytest.raises(BundleError, match='larger than max_artifact_bytes'):
        unpack_bundle(payload + bytes(200_000), max_bytes=total)   # before any parsing


@pytest.mark.parametrize('payload, message', [
    (b'', 'shorter than'),
    (b'RRLART0', 'shorter than'),
    (struct.pack('<8sI', b'NOTABNDL', 2) + b'{}', 'not an artifact bundle'),
    (struct.pack('<8sI', BUNDLE_MAGIC, 100) + b'{}', 'manifest length 100 exceeds'),
    (struct.pack('<8sI', BUNDLE_MAGIC, 1 << 20) + b'{}', 'exceeds'),
    (raw_bundle([], [], manifest=b'{not json'), 'not UTF-8 JSON'),
    (raw_bundle([], [], manifest=b'\xff\xfe'), 'not UTF-8 JSON'),
    (raw_bundle([], [], manifest=[1, 2]), 'expected an object with format'),
    (raw_bundle([], [], manifest={'format': 'robotrl_ros/policy_artifact',
                                  'format_version': 2, 'files': []}), 'format_version 2'),
    (raw_bundle([], []), 'files: expected a list of 1 to'),
    (raw_bundle([entry(f'f{i}', b'') for i in range(MAX_BUNDLE_FILES + 1)], []),
     'files: expected a list of 1 to'),
], ids=['empty', 'short header', 'magic', 'manifest past the end', 'manifest too long',
        'not json', 'not utf-8', 'not an object', 'format version', 'no files',
        'too many files'])
def test_malformed_payloads_are_refused(payload, message):
    with pytest.raises(BundleError, match=message):
        unpack_bundle(payload)


def test_a_policy_yaml_that_is_not_a_mapping_is_refused():
    yaml_text = b'- just\n- a list\n'
    with pytest.raises(BundleError, match='expected a mapping'):
        unpack_bundle(bundle_bytes({METADATA_FILE: yaml_text}))


def test_a_failed_install_leaves_nothing_behind(files, tmp_path, monkeypatch):
    bundle = unpack_bundle(bundle_bytes(files))
    real = artifact_bundle.write_synced
    calls = []

    def failing(path, write):
        calls.append(path)
        if len(calls) == 2:
            raise OSError(28, 'No space left on device')
        real(path, write)
    monkeypatch.setattr(artifact_bundle, 'write_synced', failing)
    with pytest.raises(OSError, match='No space'):
        install_bundle(bundle, tmp_path / 'robot')
    assert os.listdir(tmp_path / 'robot') == []
    monkeypatch.setattr(artifact_bundle, 'write_synced', real)
    path = install_bundle(bundle, tmp_path / 'robot')    # the next one installs
    assert load_artifact(path).version == load_artifact(install_bundle(bundle, tmp_path / 'b')
                                                        ).version


def test_prune_keeps_the_newest_and_the_running_one(artifact, tmp_path):
    root = tmp_path / 'robot'
    paths = []
    for seed in range(5):
        source = make_synthetic_artifact(tmp_path / f'src{seed}', n_joints=3, hidden=(8,),
                                         seed=seed)
        paths.append(install_bundle(unpack_bundle(pack_artifact(source)), root))
        os.utime(paths[-1], ns=(seed * 10**9, seed * 10**9))
    (root / 'operator_notes').mkdir()                        # not ours: never touched
    removed = prune_installed(root, keep=[paths[0]], max_kept=2)
    assert sorted(removed) == sorted(paths[1:3])
    assert sorted(p.name for p in root.iterdir()) == sorted(
        [paths[0].name, paths[3].name, paths[4].name, 'operator_notes'])


def test_interrupted_installs_are_removed(tmp_path):
    (tmp_path / f'.{INSTALLED_PREFIX}0123.incoming-abcd').mkdir()
    (tmp_path / '.other').mkdir()
    removed = remove_interrupted(tmp_path)
    assert [p.name for p in removed] == [f'.{INSTALLED_PREFIX}0123.incoming-abcd']
    assert [p.name for p in tmp_path.iterdir()] == ['.other']
