# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Hostile policy updates, as someone on the DDS domain could name them (issue 20's experiments).

:func:`hostile_update` builds one bad update of each kind next to a trusted directory; a node or
:func:`robotrl_ros.policy.artifact.load_artifact` with ``trusted_dirs=[trusted]`` must refuse it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import torch

from robotrl_ros.policy.artifact import dump_metadata
from robotrl_ros.policy.metadata import spec_to_metadata
from robotrl_ros.tasks.spec import TaskSpec

#: Every kind :func:`hostile_update` makes, with a fragment of the refusal message.
HOSTILE_CASES = {
    'outside': 'outside the trusted',
    'dotdot': 'outside the trusted',
    'symlink_dir': 'outside the trusted',
    'symlink_file': 'symlink',
    'fifo': 'not a regular file',
    'huge': 'max_artifact_bytes',
    'hash_mismatch': 'sha256',
    'torchscript': 'allow_torchscript is false',
}


class MarkerWriter(torch.nn.Module):
    """A TorchScript ``forward`` that creates (or overwrites) a file: an artifact is code."""

    def __init__(self, marker: str, n_joints: int) -> None:
        super().__init__()
        self.marker = marker
        self.n_joints = n_joints

    def forward(self, obs: torch.Tensor) -> torch.Tensor:  # noqa: D102
        written = torch.from_file(self.marker, shared=True, size=8, dtype=torch.uint8).fill_(88)
        return obs[:, :self.n_joints] * 0.0 + written[0].to(torch.float32) * 0.0


def marker_artifact(out_dir: Path, spec: TaskSpec, marker: Path) -> Path:
    """A bring-your-own style artifact (policy.yaml + policy.pt) whose load writes ``marker``."""
    out_dir.mkdir(parents=True)
    torch.jit.save(torch.jit.script(MarkerWriter(str(marker), spec.action_dim)),
                   str(out_dir / 'policy.pt'))
    metadata = spec_to_metadata(spec, algorithm='byo', provenance={}, normalization={
        'mean': [0.0] * spec.obs_dim, 'std': [1.0] * spec.obs_dim, 'in_network': True})
    (out_dir / 'policy.yaml').write_text(dump_metadata(metadata))
    return out_dir


def hostile_update(case: str, valid: Path, trusted: Path, outside: Path, spec: TaskSpec,
                   marker: Path) -> Path:
    """The path of a bad update of kind ``case`` (see :data:`HOSTILE_CASES`).

    Args:
        case: Which attack.
        valid: A valid exported artifact to copy from.
        trusted: The trusted directory (the node's ``trusted_artifact_dirs``).
        outside: A directory outside it.
        spec: The artifact's task spec (for the TorchScript one).
        marker: The file the TorchScript one would write.
    """
    name = f'{case}_{len(list(trusted.iterdir()))}'
    if case in ('outside', 'dotdot', 'symlink_dir'):
        target = outside / name
        shutil.copytree(valid, target)
        if case == 'outside':
            return target
        if case == 'dotdot':
            return trusted / '..' / outside.name / name
        link = trusted / name
        link.symlink_to(target, target_is_directory=True)
        return link
    target = trusted / name
    if case == 'torchscript':
        return marker_artifact(target, spec, marker)
    shutil.copytree(valid, target)
    weights = target / 'policy.safetensors'
    if case == 'symlink_file':
        real = outside / f'{name}.safetensors'
        shutil.move(weights, real)
        weights.symlink_to(real)
    elif case == 'fifo':
        (target / 'policy.yaml').unlink()
        os.mkfifo(target / 'policy.yaml')   # an open() without O_NONBLOCK would block forever
    elif case == 'huge':
        with open(weights, 'r+b') as handle:
            handle.truncate(2 * 1024 ** 3)  # sparse: 2 GB on paper, nothing on disk
    elif case == 'hash_mismatch':
        data = bytearray(weights.read_bytes())
        data[-1] ^= 0x01                    # one weight bit: still a valid safetensors file
        weights.write_bytes(bytes(data))
    else:
        raise ValueError(f'unknown hostile case {case!r}; known: {sorted(HOSTILE_CASES)}')
    return target
