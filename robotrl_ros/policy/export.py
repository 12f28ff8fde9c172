# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Export a trained policy to a self-contained artifact directory (see :mod:`.artifact`).

The policy module is scripted (TorchScript, with its ``explore``), wrapped with the observation
normalization and the discrete action table, and written as ``policy.pt``; a ``forward`` that
translates to NumPy (plain MLPs, and discrete heads: Q-network or logits or Q-table, argmax,
action-table row; :mod:`robotrl_ros.policy.numpy_inference`) is also stored as data
(``network`` in ``policy.yaml`` + ``policy.safetensors``), which is what a robot loads. Example::

    path = export_artifact(agent.policy_module(), env.task_spec, 'runs/reach/policy',
                           algorithm='ppo', provenance={'steps': 50_000})

Re-export an artifact of an older version (TorchScript only) as data::

    python -m robotrl_ros.policy.export --reexport runs/reach/policy
"""

from __future__ import annotations

import argparse
import copy
import io
import shutil
import sys
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.numpy import save as save_safetensors

from robotrl_ros.policy.artifact import (
    METADATA_FILE,
    NETWORK_FILE,
    WEIGHTS_FILE,
    dump_metadata,
    load_artifact,
    sha256_hex,
)
from robotrl_ros.policy.artifact_files import ArtifactFiles
from robotrl_ros.policy.metadata import ArtifactError, spec_to_metadata
from robotrl_ros.policy.numpy_inference import equivalent_program
from robotrl_ros.policy.trained_robot import RobotLike, trained_robot
from robotrl_ros.tasks.spec import TaskSpec
from robotrl_ros.util.durable import fsync_dir, write_synced

__all__ = ['export_artifact', 'reexport_artifact', 'write_artifact']


class _Deployed(torch.nn.Module):
    """obs -> continuous action: normalize, run the policy, map indices, clamp to [-1, 1]."""

    def __init__(self, policy: torch.nn.Module, mean: torch.Tensor, std: torch.Tensor,
                 table: torch.Tensor, discrete: bool) -> None:
        super().__init__()
        self.policy = policy
        self.register_buffer('obs_mean', mean)
        self.register_buffer('obs_std', std)
        self.register_buffer('action_table', table)
        self.discrete = discrete

    def _finish(self, out: torch.Tensor, clamp: bool = True) -> torch.Tensor:
        if self.discrete:
            return self.action_table[out.reshape(-1).long()]
        out = out.to(torch.float32)
        return torch.clamp(out, -1.0, 1.0) if clamp else out

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self._finish(self.policy((obs - self.obs_mean) / self.obs_std))


class _DeployedExplore(_Deployed):
    """:class:`_Deployed` that also exports the policy's stochastic ``explore``."""

    @torch.jit.export
    def explore(self, obs: torch.Tensor) -> torch.Tensor:
        # The sample as drawn (a Gaussian policy's may leave [-1, 1]): the artifact clamps it
        # into the executed action and keeps the sample for a trainer (explore_sample).
        return self._finish(self.policy.explore((obs - self.obs_mean) / self.obs_std),
                            clamp=False)


def _to_torchscript(module: torch.nn.Module, obs_dim: int) -> torch.jit.ScriptModule:
    """Script ``module`` (keeping ``explore``), falling back to tracing."""
    if isinstance(module, torch.jit.ScriptModule):
        return module
    module = copy.deepcopy(module).cpu().eval()
    has_explore = callable(getattr(module, 'explore', None))
    try:
        scripted = torch.jit.script(module)
        if has_explore and not hasattr(scripted, 'explore'):
            scripted = _script_with_explore(module)
        return scripted
    except Exception as script_error:  # noqa: BLE001 - any scripting failure -> try tracing
        example = torch.zeros(1, obs_dim)
        methods = {'forward': example}
        if has_explore:
            methods['explore'] = example
        try:
            return torch.jit.trace_module(module, methods, check_trace=False)
        except Exception as trace_error:  # noqa: BLE001
            raise ArtifactError(f'policy module {type(module).__name__} can be neither '
                                f'scripted ({script_error}) nor traced ({trace_error})') \
                from trace_error


def _script_with_explore(module: torch.nn.Module) -> torch.jit.ScriptModule:
    """Script ``forward`` and a plain (not ``@torch.jit.export``-ed) ``explore`` method."""
    from torch.jit import _recursive

    def methods(mod: torch.nn.Module) -> list[Any]:
        stubs = _recursive.infer_methods_to_compile(mod)
        if mod is module:
            stubs.append(_recursive.make_stub_from_method(mod, 'explore'))
        return stubs

    return _recursive.create_script_module(module, methods)


def export_artifact(module: torch.nn.Module, spec: TaskSpec, out_dir: str | Path, *,
                    algorithm: str, provenance: dict[str, Any] | None = None,
                    obs_mean: np.ndarray | None = None,
                    obs_std: np.ndarray | None = None,
                    robot: RobotLike | None = None) -> Path:
    """Write a deployable artifact directory atomically.

    The files are written into a temporary sibling directory, fsynced, validated with
    :func:`load_artifact`, then renamed into place; an existing artifact at ``out_dir`` is
    replaced only once the new one is complete.

    Args:
        module: Deterministic ``obs -> action`` module (continuous actions in [-1, 1], or int64
            indices into ``spec.discrete_actions``); an ``explore`` method is exported too.
        spec: The task spec the policy was trained on.
        out_dir: Artifact directory to create or replace.
        algorithm: Algorithm name (``ppo``, ``sac``, ...).
        provenance: Free-form training facts (steps, seed, git commit, metrics).
        obs_mean: Observation normalization mean (obs_dim), baked into the network.
        obs_std: Observation normalization std (obs_dim), baked into the network.
        robot: The robot model the policy was trained on (tasks on a robot file): its name,
            description hash, gains and default pose go to ``policy.yaml``'s ``robot``
            (:mod:`robotrl_ros.policy.trained_robot`); None for tasks with their own model.

    Returns:
        The artifact directory.

    Raises:
        ArtifactError: If the module cannot be exported or the result fails validation.
    """
    out_dir = Path(out_dir)
    n_obs = spec.obs_dim
    mean = np.zeros(n_obs) if obs_mean is None else np.asarray(obs_mean, dtype=np.float64)
    std = np.ones(n_obs) if obs_std is None else np.asarray(obs_std, dtype=np.float64)
    for name, value in (('obs_mean', mean), ('obs_std', std)):
        if value.shape != (n_obs,) or not np.all(np.isfinite(value)):
            raise ArtifactError(f'{name}: expected {n_obs} finite numbers (obs_dim), got shape '
                                f'{value.shape}')
    std = np.maximum(std, 1e-6)
    scripted = _to_torchscript(module, n_obs)
    table = torch.tensor(spec.discrete_actions if spec.is_discrete else [[0.0] * spec.action_dim],
                         dtype=torch.float32)
    wrapper_cls = _DeployedExplore if hasattr(scripted, 'explore') else _Deployed
    wrapper = wrapper_cls(scripted, torch.tensor(mean, dtype=torch.float32),
                          torch.tensor(std, dtype=torch.float32), table, spec.is_discrete)
    try:
        deployed = torch.jit.script(wrapper.eval())
    except Exception as exc:  # noqa: BLE001
        raise ArtifactError(f'cannot script the deployed policy wrapper: {exc}') from exc
    metadata = spec_to_metadata(spec, algorithm=algorithm, provenance=provenance, normalization={
        'mean': mean.tolist(), 'std': std.tolist(), 'in_network': True})
    if robot is not None:
        metadata['robot'] = trained_robot(robot, spec.joint_names)

    buffer = io.BytesIO()
    torch.jit.save(deployed, buffer)
    return write_artifact(out_dir, metadata, buffer.getvalue(), n_obs)


def write_artifact(out_dir: str | Path, metadata: dict[str, Any], torchscript: bytes,
                   obs_dim: int) -> Path:
    """Write an artifact directory atomically: network as data where possible, files hashed.

    The TorchScript ``forward`` is translated to a NumPy program (kept only if it gives the
    same actions, :func:`robotrl_ros.policy.numpy_inference.equivalent_program`), stored as
    ``network`` in ``policy.yaml`` plus ``policy.safetensors``; ``policy.pt`` stays for
    ``explore``. ``files`` records the sha256 of both. The files go into a temporary sibling
    directory, are fsynced, validated with :func:`load_artifact` (without TorchScript too when
    the network is data), then renamed into place; an existing artifact at ``out_dir`` is
    replaced only once the new one is complete.

    Returns:
        The artifact directory.
    """
    out_dir = Path(out_dir)
    metadata = {key: value for key, value in metadata.items() if key not in ('network', 'files')}
    found = equivalent_program(torch.jit.load(io.BytesIO(torchscript), map_location='cpu'),
                               obs_dim)
    blobs = {NETWORK_FILE: torchscript}
    if found is not None:
        description, arrays = found[0].describe()
        blobs[WEIGHTS_FILE] = save_safetensors(arrays)
        metadata['network'] = {'format': description.pop('format'), 'weights': WEIGHTS_FILE,
                               **description}
    metadata['files'] = {name: {'sha256': sha256_hex(blob)} for name, blob in blobs.items()}
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_dir.parent / f'.{out_dir.name}.tmp-{uuid.uuid4().hex[:8]}'
    tmp.mkdir()
    try:
        for name, blob in blobs.items():
            write_synced(tmp / name, lambda handle, blob=blob: handle.write(blob))
        meta_bytes = dump_metadata(metadata).encode()
        write_synced(tmp / METADATA_FILE, lambda handle: handle.write(meta_bytes))
        fsync_dir(tmp)
        load_artifact(tmp, allow_torchscript=True)  # never put one in place that would not load
        if found is not None:
            load_artifact(tmp)
        _replace_dir(tmp, out_dir)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return out_dir


def reexport_artifact(path: str | Path, out_dir: str | Path | None = None) -> Path:
    """Rewrite a TorchScript-only artifact (e.g. from an older robotrl_ros) with a data network.

    Runs the artifact's TorchScript once, here: do it where you trust the file.

    Raises:
        ArtifactError: The artifact does not load, or its network is not a plain MLP that a
            NumPy program reproduces (keep it as TorchScript behind ``allow_torchscript``).
    """
    path = Path(path)
    artifact = load_artifact(path, allow_torchscript=True)
    with ArtifactFiles(path) as files:
        torchscript = files.read(NETWORK_FILE)
    if equivalent_program(torch.jit.load(io.BytesIO(torchscript), map_location='cpu'),
                          artifact.spec.obs_dim) is None:
        raise ArtifactError(f'{path / NETWORK_FILE}: not a plain MLP that a NumPy program '
                            'reproduces: it stays TorchScript (allow_torchscript: true)')
    return write_artifact(out_dir or path, dict(artifact.metadata), torchscript,
                          artifact.spec.obs_dim)


def main(argv: list[str] | None = None) -> int:
    """``python -m robotrl_ros.policy.export --reexport DIR [--out OUT]``."""
    parser = argparse.ArgumentParser(prog='python -m robotrl_ros.policy.export',
                                     description=reexport_artifact.__doc__.splitlines()[0])
    parser.add_argument('--reexport', required=True, metavar='DIR',
                        help='TorchScript-only artifact directory (its TorchScript runs once)')
    parser.add_argument('--out', default=None, help='output directory (default: DIR itself)')
    args = parser.parse_args(argv)
    try:
        out = reexport_artifact(args.reexport, args.out)
    except ArtifactError as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 1
    print(f'{out}: network stored as data ({WEIGHTS_FILE}); deploys with allow_torchscript '
          'false')
    return 0


def _replace_dir(new: Path, target: Path) -> None:
    """Rename ``new`` to ``target``, moving an existing ``target`` aside first."""
    old = None
    if target.exists():
        old = target.parent / f'.{target.name}.old-{uuid.uuid4().hex[:8]}'
        target.rename(old)
    new.rename(target)
    fsync_dir(target.parent)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
