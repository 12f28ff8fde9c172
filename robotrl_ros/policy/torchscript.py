# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""TorchScript policies: bring-your-own networks and the stochastic ``explore`` of exports.

TorchScript is a program: ``torch.jit.load`` and every call run code the file contains, with
the rights of the process (PyTorch's own security guidance: treat it like an executable).
:mod:`robotrl_ros.policy.artifact` imports this module only once the caller opted in
(``allow_torchscript``), after every other check passed. The bytes loaded are the bytes that
were hashed (read once by :class:`robotrl_ros.policy.artifact_files.ArtifactFiles`).

A plain-MLP ``forward`` is still evaluated in NumPy when its translation gives the same actions
(:mod:`robotrl_ros.policy.numpy_inference`).
"""

from __future__ import annotations

import copy
import io
from pathlib import Path

import numpy as np
import torch

from robotrl_ros.policy.metadata import ArtifactError
from robotrl_ros.policy.numpy_inference import equivalent_program
from robotrl_ros.tasks.spec import TaskSpec


class TorchScriptPolicy:
    """A loaded TorchScript network: ``forward`` (NumPy translation where equal) and ``explore``.

    Attributes:
        network: The ScriptModule as loaded.
        has_explore: Whether it exports ``explore``.
        numpy: Equivalent NumPy translation of ``forward``, or None.
        numpy_bounds: The range the translation's outputs are proven to lie in, or None.
    """

    def __init__(self, network: torch.jit.ScriptModule, obs_dim: int) -> None:
        self.network = network
        self.has_explore = hasattr(network, 'explore')
        found = equivalent_program(network, obs_dim)
        self.numpy = None if found is None else found[1]
        self.numpy_bounds = getattr(self.numpy, 'bounds', None)
        # forward runs in TorchScript only without a translation: optimize that case only.
        self._fast = network if self.numpy is not None else _optimized(network, obs_dim)

    def forward(self, batch: np.ndarray) -> np.ndarray:
        """``forward`` of a float32 ``(batch, obs_dim)`` array, run by TorchScript."""
        with torch.inference_mode():
            # .forward directly: skips nn.Module.__call__'s hook machinery.
            return self._fast.forward(torch.from_numpy(np.ascontiguousarray(batch))).numpy()

    def explore(self, batch: np.ndarray) -> np.ndarray:
        """The network's stochastic ``explore`` of a float32 ``(batch, obs_dim)`` array."""
        with torch.inference_mode():
            return self.network.explore(torch.from_numpy(np.ascontiguousarray(batch))).numpy()


def load_torchscript(data: bytes, spec: TaskSpec, where: Path) -> TorchScriptPolicy:
    """Load TorchScript bytes and check ``forward`` (and ``explore``) on a zero observation.

    Raises:
        ArtifactError: Not TorchScript, or a method that fails or returns a wrong shape or
            NaN/Inf; the message names the file.
    """
    try:
        network = torch.jit.load(io.BytesIO(data), map_location='cpu')
    except Exception as exc:  # noqa: BLE001 - any decode failure means not TorchScript
        raise ArtifactError(f'{where}: not a TorchScript module '
                            f'(export with torch.jit.script/trace): {str(exc)[:300]}') from exc
    network.eval()
    _check_forward(network, spec, where)
    return TorchScriptPolicy(network, spec.obs_dim)


def _optimized(network: torch.jit.ScriptModule, obs_dim: int) -> torch.jit.ScriptModule:
    """``torch.jit.optimize_for_inference`` copy of ``forward`` (faster for small MLPs).

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


def _check_forward(network: torch.jit.ScriptModule, spec: TaskSpec, where: Path) -> None:
    zeros = torch.zeros(1, spec.obs_dim)
    methods = ['forward'] + (['explore'] if hasattr(network, 'explore') else [])
    for method in methods:
        try:
            with torch.inference_mode():
                out = getattr(network, method)(zeros)
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
