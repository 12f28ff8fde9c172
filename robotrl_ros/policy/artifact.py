# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Load a policy artifact directory safely: data by default, code only on explicit opt-in.

An artifact directory holds:

- ``policy.yaml``: the metadata (see :mod:`robotrl_ros.policy.metadata`), with ``network``
  (the deployed network as a NumPy program, :mod:`robotrl_ros.policy.numpy_program`) and
  ``files`` (the sha256 of every other file);
- ``policy.safetensors``: the network's weights as data (safetensors: a JSON header and raw
  little-endian arrays, nothing executable);
- ``policy.pt``: the same network as TorchScript, with the stochastic ``explore`` (exports
  write it for exploration while training; bring-your-own artifacts have only this file).

Loading the project's own artifacts runs no code of the artifact: the YAML is parsed with
``yaml.safe_load``, the weights with safetensors, ops are looked up by name among known NumPy
functions, and every field is checked. TorchScript is a program (``torch.jit.load`` and every
call run code from the file): it is loaded only with ``allow_torchscript=True``, and refused
before ``torch.jit.load`` otherwise. Each file is opened once, must be a regular file, and all
files together are capped (:mod:`robotrl_ros.policy.artifact_files`); a file whose sha256
differs from the one in ``policy.yaml`` refuses the artifact, and the reported ``version`` is
the hash of the bytes that were loaded. This module imports neither torch nor the training
stack. Export: :mod:`robotrl_ros.policy.export`. Example::

    policy = load_artifact('runs/reach/policy')
    command = policy.command(obs)     # motor command in the spec's joint order
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import yaml

from robotrl_ros.policy.artifact_files import (
    DEFAULT_MAX_ARTIFACT_BYTES,
    ArtifactFiles,
    check_file_name,
    resolve_trusted,
)
from robotrl_ros.policy.metadata import ArtifactError, validate_metadata
from robotrl_ros.policy.numpy_program import NumpyPolicy, program_from_data
from robotrl_ros.tasks.spec import TaskSpec

if TYPE_CHECKING:
    from collections.abc import Iterable

    from robotrl_ros.policy.torchscript import TorchScriptPolicy

__all__ = ['ArtifactError', 'PolicyArtifact', 'load_artifact']

NETWORK_FILE = 'policy.pt'
WEIGHTS_FILE = 'policy.safetensors'
METADATA_FILE = 'policy.yaml'
NETWORK_KEYS = ('format', 'weights', 'steps', 'constants', 'result')
_SHA256 = re.compile(r'[0-9a-f]{64}')


class PolicyArtifact:
    """A loaded, validated policy artifact.

    Attributes:
        path: The artifact directory.
        spec: Task spec rebuilt from ``policy.yaml``.
        metadata: The parsed ``policy.yaml``.
        version: sha256 (12 hex digits) of the bytes loaded: ``policy.yaml`` and each file
            read from the directory.
        algorithm: Training algorithm named in the metadata.
        has_explore: Whether a (TorchScript) stochastic ``explore`` was loaded.
        backend: What evaluates the deterministic actions: ``numpy`` (the artifact's NumPy
            program, or the checked translation of its TorchScript) or ``torchscript``.
    """

    def __init__(self, path: Path, spec: TaskSpec, metadata: dict[str, Any],
                 normalization: dict[str, Any], version: str,
                 numpy: NumpyPolicy | None = None,
                 torchscript: TorchScriptPolicy | None = None) -> None:
        self.path = path
        self.spec = spec
        self.metadata = metadata
        self.version = version
        self.algorithm: str = metadata['algorithm']
        self._torchscript = torchscript
        self.has_explore = torchscript is not None and torchscript.has_explore
        self._numpy = numpy if numpy is not None else \
            (torchscript.numpy if torchscript is not None else None)
        bounds = getattr(self._numpy, 'bounds', None)
        self._numpy_in_range = bounds is not None and -1.0 <= bounds[0] and bounds[1] <= 1.0
        self._obs_dim = spec.obs_dim
        self._outside = not normalization['in_network']
        self._mean = np.asarray(normalization['mean'], dtype=np.float32)
        self._std = np.asarray(normalization['std'], dtype=np.float32)

    def _run(self, obs: np.ndarray, explore: bool) -> np.ndarray:
        return self._run_sample(obs, explore)[0]

    def _run_sample(self, obs: np.ndarray, explore: bool) -> tuple[np.ndarray, np.ndarray]:
        """The action(s) in [-1, 1] and the network's output before the clamp."""
        obs = np.asarray(obs, dtype=np.float32)
        single = obs.ndim == 1
        batch = obs.reshape(1, -1) if single else obs
        if batch.ndim != 2 or batch.shape[1] != self._obs_dim:
            raise ValueError(f'policy {self.version}: observation has shape {obs.shape}, '
                             f'expected ({self._obs_dim},) or (batch, {self._obs_dim})')
        if self._outside:
            batch = (batch - self._mean) / self._std
        if self._numpy is not None and not explore:
            out = self._numpy(batch)
            if self._numpy_in_range:   # the program proved its outputs within [-1, 1]
                action = out.astype(np.float64)
                return (action[0], action[0]) if single else (action, action)
        else:
            assert self._torchscript is not None   # no NumPy program: TorchScript was loaded
            out = self._torchscript.explore(batch) if explore else \
                self._torchscript.forward(batch)
        # Clamped in float32, the upper bound's op casting to float64 (exact either way).
        action = np.minimum(np.maximum(out, -1.0), 1.0, dtype=np.float64)
        sample = np.asarray(out, dtype=np.float64)
        return (action[0], sample[0]) if single else (action, sample)

    @property
    def backend(self) -> str:
        """``numpy`` or ``torchscript`` (see the class docstring)."""
        return 'numpy' if self._numpy is not None else 'torchscript'

    def act(self, obs: np.ndarray) -> np.ndarray:
        """Deterministic action(s) in [-1, 1] for an observation or a batch of them."""
        return self._run(obs, explore=False)

    def explore(self, obs: np.ndarray) -> np.ndarray:
        """Stochastic action(s) when ``explore`` was loaded, else :meth:`act`."""
        return self._run(obs, explore=self.has_explore)

    def explore_sample(self, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`explore`'s action(s) and the sample behind them, before the clamp.

        A Gaussian policy's sample may leave [-1, 1]; the executed action is it clamped. An
        on-policy trainer scores the sample, as it does in process (``explore_sample`` topic).
        Without ``explore`` (or for a policy whose output is already in range) both are equal.
        """
        return self._run_sample(obs, explore=self.has_explore)

    def command(self, obs: np.ndarray) -> np.ndarray:
        """Motor command in the spec's joint order for one observation, clamped to limits."""
        return self.spec.action_to_command(self.act(obs))

    def __repr__(self) -> str:
        return (f'PolicyArtifact({str(self.path)!r}, task={self.spec.name!r}, '
                f'algorithm={self.algorithm!r}, version={self.version!r})')


def dump_metadata(metadata: dict[str, Any]) -> str:
    """YAML text of a metadata dict: one field per line, number lists inline."""
    return yaml.safe_dump(metadata, sort_keys=False, default_flow_style=None, width=99)


def sha256_hex(data: bytes) -> str:
    """The sha256 of ``data`` as 64 lowercase hex digits (the form ``files`` records)."""
    return hashlib.sha256(data).hexdigest()


def torchscript_refusal(path: Path) -> str:
    """Why a TorchScript network is refused without the opt-in, and the two ways forward."""
    return (f'{path / NETWORK_FILE}: the network is TorchScript, a program that runs when '
            'loaded, and allow_torchscript is false: refused before loading it. Re-export it '
            f'as data on a machine where you trust it (python -m robotrl_ros.policy.export '
            f'--reexport {path}), or, for a bring-your-own network you trust, set the '
            'policy_node parameter allow_torchscript: true (docs/deploy.md, Security)')


def load_artifact(path: str | Path, *, allow_torchscript: bool = False,
                  trusted_dirs: Iterable[str | Path] | None = None,
                  max_bytes: int = DEFAULT_MAX_ARTIFACT_BYTES) -> PolicyArtifact:
    """Load and validate an artifact directory.

    Args:
        path: The artifact directory.
        allow_torchscript: Load ``policy.pt`` (TorchScript: code) when the artifact has no
            data network, and for ``explore`` when it has one. False refuses a TorchScript-only
            artifact before ``torch.jit.load``.
        trusted_dirs: If given, ``path``'s real path must lie inside one of these.
        max_bytes: Most bytes read from the artifact's files together.

    Raises:
        ArtifactError: Untrusted path, missing or unreadable or oversized file, not a regular
            file, sha256 mismatch, invalid metadata or network, refused TorchScript, or a
            network whose output on a zero observation has the wrong shape or is not finite.
            The message names the file or field.
    """
    path = Path(path)
    # Opened by its real path (no symlink to follow); an update's must be in a trusted place.
    real = resolve_trusted(path, trusted_dirs) if trusted_dirs is not None else \
        Path(os.path.realpath(path))
    if trusted_dirs is not None:
        path = real
    with ArtifactFiles(real, max_bytes) as files:
        meta_bytes = files.read(METADATA_FILE)
        digest = hashlib.sha256(meta_bytes)
        data, spec, normalization = _parse_metadata(meta_bytes, path / METADATA_FILE)
        hashes = recorded_hashes(data, path / METADATA_FILE)
        network = data.get('network')
        numpy_run = None
        if network is not None:
            numpy_run = _load_program(files, network, hashes, spec, digest)
        torchscript = None
        if network is None and not allow_torchscript:
            raise ArtifactError(torchscript_refusal(path))
        if allow_torchscript and (network is None or NETWORK_FILE in hashes):
            blob = _read_verified(files, NETWORK_FILE, hashes, digest, hash_required=False)
            from robotrl_ros.policy.torchscript import load_torchscript
            torchscript = load_torchscript(blob, spec, path / NETWORK_FILE)
    return PolicyArtifact(path, spec, data, normalization, digest.hexdigest()[:12],
                          numpy=numpy_run, torchscript=torchscript)


def _parse_metadata(raw: bytes, where: Path) -> tuple[dict[str, Any], TaskSpec, dict[str, Any]]:
    try:
        data = yaml.safe_load(raw.decode('utf-8'))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ArtifactError(f'{where}: not valid YAML: {exc}') from exc
    try:
        spec, normalization = validate_metadata(data)
    except ArtifactError as exc:
        raise ArtifactError(f'{where}: {exc}') from None
    except ValueError as exc:  # TaskSpec's own checks
        raise ArtifactError(f'{where}: {exc}') from exc
    return data, spec, normalization


def recorded_hashes(data: dict[str, Any], where: Path) -> dict[str, str]:
    """``files`` of ``policy.yaml``: file name -> sha256 (64 lowercase hex digits)."""
    files = data.get('files', {})
    if not isinstance(files, dict):
        raise ArtifactError(f'{where}: files: expected a mapping name -> {{sha256: ...}}')
    hashes = {}
    for name, entry in files.items():
        check_file_name(name, f'{where}: files')
        digest = entry.get('sha256') if isinstance(entry, dict) else None
        if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
            raise ArtifactError(f'{where}: files.{name}: expected {{sha256: <64 lowercase hex '
                                f'digits>}}, got {entry!r}')
        hashes[name] = digest
    return hashes


def _read_verified(files: ArtifactFiles, name: str, hashes: dict[str, str],
                   digest: Any, hash_required: bool) -> bytes:
    """Read ``name`` once and check it against its recorded sha256."""
    where = files.path / name
    if hash_required and name not in hashes:
        raise ArtifactError(f'{files.path / METADATA_FILE}: files: no sha256 recorded for '
                            f'{name}')
    blob = files.read(name)
    actual = sha256_hex(blob)
    if name in hashes and actual != hashes[name]:
        raise ArtifactError(f'{where}: sha256 {actual} differs from the {hashes[name]} that '
                            f'{METADATA_FILE} records: refused (a corrupt, partial or '
                            'replaced file)')
    digest.update(blob)
    return blob


def _load_program(files: ArtifactFiles, network: Any, hashes: dict[str, str], spec: TaskSpec,
                  digest: Any) -> NumpyPolicy:
    """The data network: weights file (hash checked) + program, compiled and checked."""
    where = files.path / METADATA_FILE
    if not isinstance(network, dict) or set(network) - set(NETWORK_KEYS):
        keys = sorted(network) if isinstance(network, dict) else network
        raise ArtifactError(f'{where}: network: expected a mapping with keys from '
                            f'{list(NETWORK_KEYS)}, got {keys!r}')
    weights = check_file_name(network.get('weights'), f'{where}: network.weights')
    blob = _read_verified(files, weights, hashes, digest, hash_required=True)
    from safetensors import SafetensorError
    from safetensors.numpy import load as load_safetensors
    try:
        arrays = load_safetensors(blob)
    except (SafetensorError, ValueError, TypeError) as exc:
        raise ArtifactError(f'{files.path / weights}: not a valid safetensors file: '
                            f'{str(exc)[:300]}') from exc
    try:
        program = program_from_data(network, arrays)
        run = program.compile(spec.obs_dim)
        out = run(np.zeros((1, spec.obs_dim), dtype=np.float32))
    except Exception as exc:  # noqa: BLE001 - any failure of a malformed program: refused
        raise ArtifactError(f'{where}: network: {str(exc)[:300]}') from exc
    if not isinstance(out, np.ndarray) or out.shape != (1, spec.action_dim):
        raise ArtifactError(f'{where}: network returns {getattr(out, "shape", out)} for a '
                            f'(1, {spec.obs_dim}) observation, expected (1, {spec.action_dim}) '
                            f'(one action per joint {list(spec.joint_names)})')
    if not np.all(np.isfinite(out)):
        raise ArtifactError(f'{where}: network returns NaN/Inf on a zero observation')
    return run
