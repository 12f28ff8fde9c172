# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""NumPy activations shared by the agents' NumPy MLPs and the deployed policies (no torch)."""

from __future__ import annotations

import numpy as np

_F32 = np.float32


def elu(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``torch.nn.ELU()`` (alpha 1): ``max(x, exp(min(x, 0)) - 1)``, as ``exp(x) - 1 >= x``.

    ``np.exp`` is SIMD-vectorized and ``np.expm1`` is not; for ``x <= 0`` the absolute error
    of ``exp(x) - 1`` is below float32's epsilon.
    ``out`` (which may be ``x`` itself) receives the result.
    """
    negative = np.minimum(x, _F32(0.0))
    np.exp(negative, out=negative)
    negative -= _F32(1.0)
    return np.maximum(x, negative, out=negative if out is None else out)
