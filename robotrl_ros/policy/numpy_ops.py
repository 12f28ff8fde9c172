# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The TorchScript (aten) ops that :mod:`~robotrl_ros.policy.numpy_inference` translates.

Each op has a NumPy implementation with torch's semantics; elementwise ones take ``out=`` (an
input array that receives the result, so the generated code can run them in place). The table
also says which ops may alias their input and which bound their output (tanh, sigmoid, clamp),
so that a clamp to a range the value already keeps can be dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

FLOAT32 = 6  # torch ScalarType index of float32 in aten::to(x, dtype, ...)
SELU_ALPHA, SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


# --- op implementations: f(*inputs, out=None); ``out`` (one of the inputs) takes the result ----
def _elu(x: np.ndarray, alpha: float, scale: float, input_scale: float,
         out: np.ndarray | None = None) -> np.ndarray:
    # torch.nn.ELU() (alpha = scale = input_scale = 1) becomes agents' elu() at compile time.
    negative = alpha * (np.exp(np.minimum(x, 0.0) * input_scale) - 1.0)   # see elu()
    return np.multiply(np.maximum(x, 0.0) + negative, scale, out=out)


def _selu(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    return _elu(x, SELU_ALPHA, SELU_SCALE, 1.0, out=out)


def _sigmoid(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    y = np.multiply(x, 0.5, out=out)   # 0.5 (tanh(x / 2) + 1): exact, no overflow for large |x|
    np.tanh(y, out=y)
    y += 1.0
    y *= 0.5
    return y


def _silu(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    return np.multiply(x, _sigmoid(x), out=out)


def _relu(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    return np.maximum(x, 0.0, out=out)


def _leaky_relu(x: np.ndarray, slope: float) -> np.ndarray:
    return np.where(x > 0, x, x * slope)


def _clamp(x: np.ndarray, low: Any, high: Any, out: np.ndarray | None = None) -> np.ndarray:
    if low is not None:
        x = out = np.maximum(x, low, out=out)   # then the upper bound in place
    if high is not None:
        x = np.minimum(x, high, out=out)
    return x


def _clamp_min(x: np.ndarray, low: Any, out: np.ndarray | None = None) -> np.ndarray:
    return np.maximum(x, low, out=out)


def _clamp_max(x: np.ndarray, high: Any, out: np.ndarray | None = None) -> np.ndarray:
    return np.minimum(x, high, out=out)


@dataclass(frozen=True)
class OpKind:
    """How an aten op translates: its NumPy function, accepted input counts and properties."""

    fn: Callable[..., Any] | None
    arity: tuple[int, ...]
    elementwise: bool = False   # takes ``out=``: may write into an input of the result's shape
    view: bool = False          # result may share memory with an input


OPS: dict[str, OpKind] = {
    'aten::add': OpKind(np.add, (2, 3), elementwise=True),
    'aten::sub': OpKind(np.subtract, (2, 3), elementwise=True),
    'aten::mul': OpKind(np.multiply, (2,), elementwise=True),
    'aten::div': OpKind(np.divide, (2,), elementwise=True),
    'aten::neg': OpKind(np.negative, (1,), elementwise=True),
    'aten::relu': OpKind(_relu, (1,), elementwise=True),
    'aten::tanh': OpKind(np.tanh, (1,), elementwise=True),
    'aten::sigmoid': OpKind(_sigmoid, (1,), elementwise=True),
    'aten::elu': OpKind(_elu, (4,), elementwise=True),
    'aten::selu': OpKind(_selu, (1,), elementwise=True),
    'aten::leaky_relu': OpKind(_leaky_relu, (2,)),
    'aten::silu': OpKind(_silu, (1,), elementwise=True),
    'aten::clamp': OpKind(_clamp, (3,), elementwise=True),
    'aten::clamp_min': OpKind(_clamp_min, (2,), elementwise=True),
    'aten::clamp_max': OpKind(_clamp_max, (2,), elementwise=True),
    'aten::linear': OpKind(None, (3,)),
    'aten::to': OpKind(None, (5,), view=True),
    'aten::slice': OpKind(None, (5,), view=True),
    'aten::cat': OpKind(lambda xs, dim: np.concatenate(xs, axis=dim), (2,)),
    'prim::ListConstruct': OpKind(lambda *xs: list(xs), tuple(range(1, 17)), view=True),
    'aten::contiguous': OpKind(None, (1, 2), view=True),
    'aten::detach': OpKind(None, (1,), view=True),
}
ALIASES = ('aten::contiguous', 'aten::detach')   # the input itself

UFUNCS = (np.add, np.subtract, np.multiply, np.divide)   # binary: either input may take out=


RANGES = {'aten::tanh': (-1.0, 1.0), 'aten::sigmoid': (0.0, 1.0)}
_CLAMPS = {'aten::clamp': (0, 1), 'aten::clamp_min': (0, None), 'aten::clamp_max': (None, 0)}


def clamp_range(kind: str, constants: list[Any]) -> tuple[float, float] | None:
    """The [low, high] of a clamp with constant scalar bounds (None: not such a clamp)."""
    if kind not in _CLAMPS:
        return None
    low_at, high_at = _CLAMPS[kind]
    low = None if low_at is None else constants[low_at]
    high = None if high_at is None else constants[high_at]
    if not all(v is None or isinstance(v, (int, float)) for v in (low, high)):
        return None
    return (-np.inf if low is None else float(low), np.inf if high is None else float(high))


def clamp_is_identity(kind: str, constants: list[Any],
                       known: tuple[float, float] | None) -> bool:
    """Whether the clamp op ``kind`` leaves a value with range ``known`` unchanged."""
    clamp = clamp_range(kind, constants)
    if clamp is None:
        return False
    return clamp == (-np.inf, np.inf) or \
        (known is not None and clamp[0] <= known[0] and known[1] <= clamp[1])
