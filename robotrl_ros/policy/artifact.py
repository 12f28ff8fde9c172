# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Export a trained policy to a self-contained artifact directory and load it back safely.

An artifact is a directory with two files:

- ``policy.pt``: TorchScript ``float32 (batch, obs_dim) -> float32 (batch, action_dim)``
  continuous actions in [-1, 1], observation normalization baked in. Discrete agents' index
  outputs are mapped through the action table inside the network. An optional ``explore``
  method returns stochastic actions.
- ``policy.yaml``: the metadata (see :mod:`robotrl_ros.policy.metadata`).

Loading never unpickles arbitrary objects: the network is read with ``torch.jit.load`` only,
every metadata field is validated, and one forward pass on zeros must give finite actions of the
right shape. Example::

    path = export_artifact(agent.policy_module(), env.task_spec, 'runs/reach/policy',
                           algorithm='ppo', provenance={'steps': 50_000})
    policy = load_artifact(path)
    command = policy.command(obs)     # motor command in the spec's joint order
"""

from __future__ import annotations

import copy
import hashlib
import shutil
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml

from robotrl_ros.policy.metadata import ArtifactError, spec_to_metadata, validate_metadata
from robotrl_ros.policy.numpy_inference import NumpyPolicy, compile_numpy, numpy_equivalent
from robotrl_ros.tasks.spec import TaskSpec
from robotrl_ros.util.durable import fsync_dir, write_synced

__all__ = ['ArtifactError', 'PolicyArtifact', 'export_artifact', 'load_artifact']

NETWORK_FILE = 'policy.pt'
METADATA_FILE = 'policy.yaml'


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

    def _finish(self, out: torch.Tensor) -> torch.Tensor:
        if self.discrete:
            return self.action_table[out.reshape(-1).long()]
        return torch.clamp(out.to(torch.float32), -1.0, 1.0)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self._finish(self.policy((obs - self.obs_mean) / self.obs_std))


class _DeployedExplore(_Deployed):
    """:class:`_Deployed` that also exports the policy's stochastic ``explore``."""

    @torch.jit.export
    def explore(self, obs: torch.Tensor) -> torch.Tensor:
        return self._finish(self.policy.explore((obs - self.obs_mean) / self.obs_std))


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
                    obs_std: np.ndarray | None = None) -> Path:
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

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_dir.parent / f'.{out_dir.name}.tmp-{uuid.uuid4().hex[:8]}'
    tmp.mkdir()
    try:
        write_synced(tmp / NETWORK_FILE, lambda handle: torch.jit.save(deployed, handle))
        meta_bytes = dump_metadata(metadata).encode()
        write_synced(tmp / METADATA_FILE, lambda handle: handle.write(meta_bytes))
        fsync_dir(tmp)
        load_artifact(tmp)  # never put an artifact in place that would not load
        _replace_dir(tmp, out_dir)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return out_dir


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


def dump_metadata(metadata: dict[str, Any]) -> str:
    """YAML text of a metadata dict: one field per line, number lists inline."""
    return yaml.safe_dump(metadata, sort_keys=False, default_flow_style=None, width=99)


class PolicyArtifact:
    """A loaded, validated policy artifact.

    Attributes:
        path: The artifact directory.
        spec: Task spec rebuilt from ``policy.yaml``.
        metadata: The parsed ``policy.yaml``.
        version: Content hash (12 hex digits) of ``policy.pt`` and ``policy.yaml``.
        algorithm: Training algorithm named in the metadata.
        has_explore: Whether the network exports a stochastic ``explore``.
        backend: What evaluates the deterministic actions: ``numpy`` (a plain MLP, translated
            by :mod:`robotrl_ros.policy.numpy_inference` and checked equal) or
            ``torchscript``.
    """

    def __init__(self, path: Path, spec: TaskSpec, metadata: dict[str, Any],
                 network: torch.jit.ScriptModule, normalization: dict[str, Any],
                 version: str) -> None:
        self.path = path
        self.spec = spec
        self.metadata = metadata
        self.version = version
        self.algorithm: str = metadata['algorithm']
        self.has_explore = hasattr(network, 'explore')
        self._network = network
        self._fast = network      # an inference-optimized copy when equivalent (no NumPy)
        self._numpy: NumpyPolicy | None = None   # set when a NumPy translation is equivalent
        self._numpy_in_range = False   # whether its outputs are known to lie in [-1, 1]
        self._obs_dim = spec.obs_dim
        self._outside = not normalization['in_network']
        self._mean = np.asarray(normalization['mean'], dtype=np.float32)
        self._std = np.asarray(normalization['std'], dtype=np.float32)

    def _run(self, obs: np.ndarray, explore: bool) -> np.ndarray:
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
            if self._numpy_in_range:   # the translation proved its outputs within [-1, 1]
                action = out.astype(np.float64)
                return action[0] if single else action
        else:
            with torch.inference_mode():
                x = torch.from_numpy(np.ascontiguousarray(batch))
                # .forward directly: skips nn.Module.__call__'s hook machinery (~10 us a call).
                out = (self._network.explore(x) if explore else self._fast.forward(x)).numpy()
        # Clamped in float32, the upper bound's op casting to float64 (exact either way).
        action = np.minimum(np.maximum(out, -1.0), 1.0, dtype=np.float64)
        return action[0] if single else action

    @property
    def backend(self) -> str:
        """``numpy`` or ``torchscript`` (see the class docstring)."""
        return 'numpy' if self._numpy is not None else 'torchscript'

    def act(self, obs: np.ndarray) -> np.ndarray:
        """Deterministic action(s) in [-1, 1] for an observation or a batch of them."""
        return self._run(obs, explore=False)

    def explore(self, obs: np.ndarray) -> np.ndarray:
        """Stochastic action(s) when the network exports ``explore``, else :meth:`act`."""
        return self._run(obs, explore=self.has_explore)

    def command(self, obs: np.ndarray) -> np.ndarray:
        """Motor command in the spec's joint order for one observation, clamped to limits."""
        return self.spec.action_to_command(self.act(obs))

    def __repr__(self) -> str:
        return (f'PolicyArtifact({str(self.path)!r}, task={self.spec.name!r}, '
                f'algorithm={self.algorithm!r}, version={self.version!r})')


def load_artifact(path: str | Path) -> PolicyArtifact:
    """Load and validate an artifact directory (``policy.pt`` + ``policy.yaml``).

    Raises:
        ArtifactError: Missing or unreadable file, invalid metadata field, or a network whose
            output on a zero observation has the wrong shape or is not finite. The message
            names the file or field.
    """
    path = Path(path)
    if not path.is_dir():
        raise ArtifactError(f'policy artifact {path}: not a directory (expected one holding '
                            f'{NETWORK_FILE} and {METADATA_FILE})')
    files = {}
    for name in (METADATA_FILE, NETWORK_FILE):
        try:
            files[name] = (path / name).read_bytes()
        except OSError as exc:
            raise ArtifactError(f'{path / name}: cannot read ({exc.strerror or exc})') from exc
    try:
        data = yaml.safe_load(files[METADATA_FILE].decode('utf-8'))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ArtifactError(f'{path / METADATA_FILE}: not valid YAML: {exc}') from exc
    try:
        spec, normalization = validate_metadata(data)
    except ArtifactError as exc:
        raise ArtifactError(f'{path / METADATA_FILE}: {exc}') from None
    except ValueError as exc:  # TaskSpec's own checks
        raise ArtifactError(f'{path / METADATA_FILE}: {exc}') from exc
    try:
        network = torch.jit.load(str(path / NETWORK_FILE), map_location='cpu')
    except Exception as exc:  # noqa: BLE001 - any decode failure means not TorchScript
        raise ArtifactError(f'{path / NETWORK_FILE}: not a TorchScript module '
                            f'(export with torch.jit.script/trace): {str(exc)[:300]}') from exc
    network.eval()
    digest = hashlib.sha256(files[NETWORK_FILE] + files[METADATA_FILE]).hexdigest()[:12]
    artifact = PolicyArtifact(path, spec, data, network, normalization, digest)
    _check_forward(artifact, path / NETWORK_FILE)
    artifact._numpy = _numpy_forward(network, spec.obs_dim)
    bounds = getattr(artifact._numpy, 'bounds', None)
    artifact._numpy_in_range = bounds is not None and -1.0 <= bounds[0] and bounds[1] <= 1.0
    if artifact._numpy is None:  # else forward never runs in TorchScript: nothing to optimize
        artifact._fast = _optimized(network, spec.obs_dim)
    return artifact


def _numpy_forward(network: torch.jit.ScriptModule, obs_dim: int) -> NumpyPolicy | None:
    """NumPy translation of ``forward`` if the graph allows one and it gives the same actions.

    The translation with constant scales folded into the weights is tried first; where that
    rounding makes it differ, the op-by-op one.
    """
    for fold_scales in (True, False):
        run = compile_numpy(copy.deepcopy(network), obs_dim, fold_scales)
        if run is None:
            return None
        if numpy_equivalent(run, network, obs_dim):
            return run
    return None


def _optimized(network: torch.jit.ScriptModule, obs_dim: int) -> torch.jit.ScriptModule:
    """``torch.jit.optimize_for_inference`` copy of ``forward`` (~30 % faster for small MLPs).

    Used only if it gives the same actions as the original on random observations; any
    failure (an op freezing does not support) keeps the original.
    """
    try:
        fast = torch.jit.optimize_for_inference(torch.jit.freeze(copy.deepcopy(network).eval()))
        probe = torch.randn(8, obs_dim, generator=torch.Generator().manual_seed(0))
        with torch.inference_mode():
            same = torch.allclose(fast(probe), network(probe), atol=1e-6, rtol=1e-5)
    except Exception:  # noqa: BLE001 - optional speed-up only
        return network
    return fast if same else network


def _check_forward(artifact: PolicyArtifact, where: Path) -> None:
    spec = artifact.spec
    zeros = torch.zeros(1, spec.obs_dim)
    methods = ['forward'] + (['explore'] if artifact.has_explore else [])
    for method in methods:
        try:
            with torch.inference_mode():
                out = getattr(artifact._network, method)(zeros)
        except Exception as exc:  # noqa: BLE001
            raise ArtifactError(f'{where}: {method}() fails on a zero observation of size '
                                f'obs_dim={spec.obs_dim}: {str(exc)[:300]}') from exc
        if not isinstance(out, torch.Tensor) or tuple(out.shape) != (1, spec.action_dim):
            shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
            raise ArtifactError(f'{where}: {method}() returns {shape} for a (1, {spec.obs_dim}) '
                                f'observation, expected (1, {spec.action_dim}) (one action per '
                                f'joint {list(spec.joint_names)})')
        if not torch.all(torch.isfinite(out)):
            raise ArtifactError(f'{where}: {method}() returns NaN/Inf on a zero observation')
