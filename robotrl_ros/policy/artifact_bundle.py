# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""An artifact directory as one payload, for a robot that shares no disk with the trainer.

The trainer packs ``policy.yaml`` and every file it refers to (``files``) into one byte string;
the policy node on another machine unpacks it as untrusted input, verifies it, writes it as a new
directory under its own artifact directory and then loads that directory with the ordinary
loader (:func:`robotrl_ros.policy.artifact.load_artifact`), so every check of a local artifact
still applies. Wire format (little-endian, docs/interfaces.md)::

    8 bytes   magic  b'RRLART01'
    4 bytes   uint32 manifest length M (at most MAX_MANIFEST_BYTES)
    M bytes   manifest, UTF-8 JSON:
              {"format": "robotrl_ros/policy_artifact", "format_version": 1,
               "files": [{"name": "policy.yaml", "size": 1234, "sha256": "<64 hex>"}, ...]}
    then      the files' bytes, concatenated in manifest order (nothing after them)

:func:`unpack_bundle` refuses a payload over the size cap, a wrong magic or manifest, a name that
is not a plain file name (``..``, ``/``, absolute, NUL, hidden), a duplicate name, sizes that do
not add up to the payload, a sha256 mismatch, and a file that ``policy.yaml``'s ``files`` does
not refer to (or one it refers to that is missing, or whose recorded sha256 differs).
:func:`install_bundle` writes the verified files into a temporary sibling directory, fsyncs
them, and renames it into place: a reader never sees a partial artifact. Installed directories
are named after the sha256 of their ``policy.yaml`` (which holds the other files' hashes), so
receiving the same artifact twice installs it once. No ROS here (transport:
:mod:`robotrl_ros.ros.artifact_transport`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import struct
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from robotrl_ros.policy.artifact import METADATA_FILE, recorded_hashes, sha256_hex
from robotrl_ros.policy.artifact_files import (
    DEFAULT_MAX_ARTIFACT_BYTES,
    ArtifactFiles,
    check_file_name,
)
from robotrl_ros.policy.metadata import ArtifactError
from robotrl_ros.util.durable import fsync_dir, write_synced

BUNDLE_MAGIC = b'RRLART01'
BUNDLE_FORMAT = 'robotrl_ros/policy_artifact'
BUNDLE_FORMAT_VERSION = 1
#: Largest manifest accepted (a few hundred bytes per file in practice).
MAX_MANIFEST_BYTES = 64 * 1024
#: Most files in one bundle.
MAX_BUNDLE_FILES = 64
#: Installed artifact directories are named ``<INSTALLED_PREFIX><16 hex digits>``.
INSTALLED_PREFIX = 'artifact_'
_HEADER = struct.Struct('<8sI')
_SHA256 = re.compile(r'[0-9a-f]{64}')
_ENTRY_KEYS = {'name', 'size', 'sha256'}
_INCOMING = '.incoming-'


class BundleError(ArtifactError):
    """A bundle payload is malformed, oversized or does not match its manifest."""


@dataclass(frozen=True)
class ArtifactBundle:
    """The verified files of one artifact, ready to be installed.

    Attributes:
        files: File name -> bytes (``policy.yaml`` and every file it refers to).
        name: Directory name to install it under (from the sha256 of ``policy.yaml``).
    """

    files: Mapping[str, bytes]
    name: str


def bundle_bytes(files: Mapping[str, bytes]) -> bytes:
    """Serialize ``files`` (name -> bytes) as a bundle payload, without checking them."""
    manifest = {'format': BUNDLE_FORMAT, 'format_version': BUNDLE_FORMAT_VERSION,
                'files': [{'name': name, 'size': len(blob), 'sha256': sha256_hex(blob)}
                          for name, blob in files.items()]}
    text = json.dumps(manifest, separators=(',', ':')).encode()
    return b''.join([_HEADER.pack(BUNDLE_MAGIC, len(text)), text, *files.values()])


def pack_artifact(path: str | Path, max_bytes: int = DEFAULT_MAX_ARTIFACT_BYTES) -> bytes:
    """The bundle payload of the artifact directory ``path``: policy.yaml + its ``files``.

    Each file is read once (regular files only, no symlinks, ``max_bytes`` in all).

    Raises:
        ArtifactError: A file is missing, unreadable or oversized, ``policy.yaml`` is not a
            mapping or its ``files`` are malformed; the message names the file.
    """
    path = Path(path)
    with ArtifactFiles(path, max_bytes) as reader:
        meta = reader.read(METADATA_FILE)
        files = {METADATA_FILE: meta}
        for name in _referenced(meta, path / METADATA_FILE):
            files[name] = reader.read(name)
    return bundle_bytes(files)


def _referenced(meta: bytes, where: Path | str) -> dict[str, str]:
    """``policy.yaml``'s ``files`` (name -> sha256), checked."""
    try:
        data = yaml.safe_load(meta.decode('utf-8'))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise BundleError(f'{where}: not valid YAML: {exc}') from exc
    if not isinstance(data, dict):
        raise BundleError(f'{where}: expected a mapping, got {type(data).__name__}')
    hashes = recorded_hashes(data, Path(where))
    if METADATA_FILE in hashes:
        raise BundleError(f'{where}: files: {METADATA_FILE} cannot record its own sha256')
    return hashes


def unpack_bundle(payload: bytes, max_bytes: int = DEFAULT_MAX_ARTIFACT_BYTES,
                  where: str = 'policy_artifacts') -> ArtifactBundle:
    """Verify a bundle payload and return its files.

    Args:
        payload: The received bytes.
        max_bytes: Most bytes of all files together (the node's ``max_artifact_bytes``).
        where: Names the source in error messages.

    Raises:
        BundleError: Oversized, malformed, an unsafe or duplicate name, sizes that do not add
            up, a sha256 mismatch, or files that ``policy.yaml`` does not refer to (or lacks).
    """
    payload = memoryview(payload)
    limit = _HEADER.size + MAX_MANIFEST_BYTES + max_bytes
    if len(payload) > limit:
        raise BundleError(f'{where}: payload of {len(payload)} bytes is larger than '
                          f'max_artifact_bytes ({max_bytes}) plus the manifest allows: refused')
    if len(payload) < _HEADER.size:
        raise BundleError(f'{where}: payload of {len(payload)} bytes is shorter than the '
                          f'{_HEADER.size}-byte header')
    magic, manifest_size = _HEADER.unpack_from(payload)
    if magic != BUNDLE_MAGIC:
        raise BundleError(f'{where}: not an artifact bundle (magic {bytes(magic)!r}, expected '
                          f'{BUNDLE_MAGIC!r})')
    if manifest_size > MAX_MANIFEST_BYTES or _HEADER.size + manifest_size > len(payload):
        raise BundleError(f'{where}: manifest length {manifest_size} exceeds the payload or '
                          f'the {MAX_MANIFEST_BYTES}-byte limit')
    entries = _manifest_entries(bytes(payload[_HEADER.size:_HEADER.size + manifest_size]),
                                where)
    declared = sum(size for _, size, _ in entries)
    if declared > max_bytes:
        raise BundleError(f'{where}: files total {declared} bytes, more than '
                          f'max_artifact_bytes ({max_bytes}): refused')
    offset = _HEADER.size + manifest_size
    if offset + declared != len(payload):
        raise BundleError(f'{where}: size mismatch: the manifest declares {declared} bytes of '
                          f'files, the payload carries {len(payload) - offset}')
    files: dict[str, bytes] = {}
    for name, size, digest in entries:
        blob = bytes(payload[offset:offset + size])
        offset += size
        actual = sha256_hex(blob)
        if actual != digest:
            raise BundleError(f'{where}: {name}: sha256 {actual} differs from the manifest\'s '
                              f'{digest}: refused (corrupted or tampered in transit)')
        files[name] = blob
    _check_references(files, where)
    name = INSTALLED_PREFIX + hashlib.sha256(files[METADATA_FILE]).hexdigest()[:16]
    return ArtifactBundle(files, name)


def _manifest_entries(text: bytes, where: str) -> list[tuple[str, int, str]]:
    """The manifest's ``files`` as (name, size, sha256), every field checked."""
    try:
        manifest = json.loads(text.decode('utf-8'))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BundleError(f'{where}: manifest is not UTF-8 JSON: {exc}') from exc
    if not isinstance(manifest, dict) or manifest.get('format') != BUNDLE_FORMAT:
        raise BundleError(f'{where}: manifest: expected an object with format '
                          f'{BUNDLE_FORMAT!r}')
    if manifest.get('format_version') != BUNDLE_FORMAT_VERSION:
        raise BundleError(f'{where}: manifest: format_version '
                          f'{manifest.get("format_version")!r} is not supported (expected '
                          f'{BUNDLE_FORMAT_VERSION})')
    listed = manifest.get('files')
    if not isinstance(listed, list) or not 0 < len(listed) <= MAX_BUNDLE_FILES:
        raise BundleError(f'{where}: manifest: files: expected a list of 1 to '
                          f'{MAX_BUNDLE_FILES} entries')
    entries, seen = [], set()
    for i, entry in enumerate(listed):
        if not isinstance(entry, dict) or set(entry) != _ENTRY_KEYS:
            raise BundleError(f'{where}: manifest: files[{i}]: expected an object with keys '
                              f'{sorted(_ENTRY_KEYS)}')
        name, size, digest = entry['name'], entry['size'], entry['sha256']
        check_file_name(name, f'{where}: manifest: files[{i}].name')
        if name in seen:
            raise BundleError(f'{where}: manifest: files[{i}]: duplicate name {name!r}')
        seen.add(name)
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise BundleError(f'{where}: manifest: {name}: size must be a non-negative '
                              f'integer, got {size!r}')
        if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
            raise BundleError(f'{where}: manifest: {name}: sha256 must be 64 lowercase hex '
                              f'digits, got {digest!r}')
        entries.append((name, size, digest))
    return entries


def _check_references(files: Mapping[str, bytes], where: str) -> None:
    """The bundle holds exactly policy.yaml and the files it refers to, with those hashes."""
    if METADATA_FILE not in files:
        raise BundleError(f'{where}: the bundle has no {METADATA_FILE}')
    hashes = _referenced(files[METADATA_FILE], f'{where}: {METADATA_FILE}')
    for name, blob in files.items():
        if name == METADATA_FILE:
            continue
        if name not in hashes:
            raise BundleError(f'{where}: {name} is not referenced by {METADATA_FILE}\'s files: '
                              'refused')
        if sha256_hex(blob) != hashes[name]:
            raise BundleError(f'{where}: {name}: sha256 differs from the {hashes[name]} that '
                              f'{METADATA_FILE} records: refused')
    missing = sorted(set(hashes) - set(files))
    if missing:
        raise BundleError(f'{where}: {METADATA_FILE} refers to {missing}, missing from the '
                          'bundle')


def install_bundle(bundle: ArtifactBundle, artifact_dir: str | Path) -> Path:
    """Write ``bundle`` atomically as ``artifact_dir/<bundle.name>``; that directory.

    The files go into a hidden temporary sibling, are fsynced, and the directory is renamed
    into place (then ``artifact_dir`` is fsynced). An artifact already installed under that
    name (the same ``policy.yaml``) is kept as it is; loading checks its hashes again.

    Raises:
        OSError: Writing failed (e.g. a full disk); nothing is left behind.
    """
    root = Path(artifact_dir)
    root.mkdir(parents=True, exist_ok=True)
    target = root / check_file_name(bundle.name, str(root))
    if target.is_dir():
        return target
    tmp = root / f'.{bundle.name}{_INCOMING}{uuid.uuid4().hex[:8]}'
    tmp.mkdir()
    try:
        for name, blob in bundle.files.items():
            write_synced(tmp / name, lambda handle, blob=blob: handle.write(blob))
        fsync_dir(tmp)
        try:
            tmp.rename(target)
        except OSError:
            if not target.is_dir():   # else another receiver installed the same meanwhile
                raise
        fsync_dir(root)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def remove_interrupted(artifact_dir: str | Path) -> list[Path]:
    """Remove the hidden temporary directories of installs a crash interrupted."""
    removed = [path for path in _subdirs(artifact_dir)
               if path.name.startswith('.' + INSTALLED_PREFIX) and _INCOMING in path.name]
    for path in removed:
        shutil.rmtree(path, ignore_errors=True)
    return removed


def prune_installed(artifact_dir: str | Path, keep: Iterable[Path], max_kept: int) -> list[Path]:
    """Remove installed artifacts beyond the ``max_kept`` newest; never one in ``keep``.

    Only directories :func:`install_bundle` creates (``artifact_*``) are touched.

    Returns:
        The removed directories.
    """
    keep = {Path(k).resolve() for k in keep}
    installed = sorted(((path.stat().st_mtime_ns, path) for path in _subdirs(artifact_dir)
                        if path.name.startswith(INSTALLED_PREFIX)), reverse=True)
    removed = [path for _, path in installed[max_kept:] if path.resolve() not in keep]
    for path in removed:
        shutil.rmtree(path, ignore_errors=True)
    return removed


def _subdirs(root: str | Path) -> list[Path]:
    try:
        return [Path(entry.path) for entry in os.scandir(root)
                if entry.is_dir(follow_symlinks=False)]
    except FileNotFoundError:
        return []
