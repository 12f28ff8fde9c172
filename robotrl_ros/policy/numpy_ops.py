# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The TorchScript (aten) ops that :mod:`~robotrl_ros.policy.numpy_inference` translates.

Each op has a NumPy implementation with torch's semantics; elementwise ones take ``out=`` (an
input array that receives the result, so the generated code can run them in place). The table
also says which ops may alias their input and which bound their output (tanh, sigmoid, clamp),
so that a clamp to a range the value already keeps can be dropped.

Discrete heads (``argmax`` of Q-values or logits, then a row of the action table) and tabular
policies (binning, integer strides, table lookup) use integer values too: arithmetic mixing
integer and float arrays follows torch's promotion (:func:`torch_dtype`), not NumPy's, so that
``float32 * int64`` stays float32 as in the TorchScript graph.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

FLOAT32 = 6  # torch ScalarType index of float32 in aten::to(x, dtype, ...)
#: torch ScalarType index -> NumPy dtype, for the dtypes ``aten::to`` may cast to.
TORCH_DTYPES = {4: np.dtype(np.int64), 6: np.dtype(np.float32), 7: np.dtype(np.float64)}
_DTYPE_CODES = {dtype: code for code, dtype in TORCH_DTYPES.items()}
#: Longest constant list of ints (a shape or a list of dims) a program may hold.
MAX_INT_LIST = 8
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


#: Abramowitz & Stegun 7.1.26: erf(z) = 1 - t P(t) exp(-z^2), t = 1 / (1 + p z), for z >= 0;
#: absolute error below 1.5e-7, a few float32 rounding steps.
_ERF_P = 0.3275911
_ERF_A = (1.061405429, -1.453152027, 1.421413741, -0.284496736, 0.254829592)


def _erf(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """The error function, elementwise (NumPy has none), in ``x``'s dtype.

    Vectorized, so a large value costs what other elementwise ops cost (no per-element Python
    call a hostile program could multiply).
    """
    z = np.abs(x, dtype=np.float64)
    t = 1.0 / (1.0 + _ERF_P * z)
    poly = np.zeros_like(t)
    for coefficient in _ERF_A:
        poly = (poly + coefficient) * t
    result = np.copysign(1.0 - poly * np.exp(-z * z), x)
    if out is None:
        return result.astype(x.dtype, copy=False)
    out[...] = result
    return out


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


def _dtype_code(x: np.ndarray) -> int:
    """``prim::dtype``: torch's ScalarType index of an array's dtype."""
    code = _DTYPE_CODES.get(np.asarray(x).dtype)
    if code is None:
        raise ValueError(f'prim::dtype: unsupported dtype {np.asarray(x).dtype}')
    return code


def cast(x: np.ndarray, code: Any) -> np.ndarray:
    """``aten::to(x, dtype)``: a copy of ``x`` as torch ScalarType ``code`` (int64/float32/64)."""
    if code not in TORCH_DTYPES:
        raise ValueError(f'aten::to: unsupported dtype code {code!r} (known: '
                         f'{sorted(TORCH_DTYPES)})')
    return x.astype(TORCH_DTYPES[code], copy=False)


def _argmax(x: np.ndarray, dim: Any, keepdim: Any) -> np.ndarray:
    if type(dim) is not int or keepdim not in (False, None):
        raise ValueError(f'aten::argmax: expected a constant int dim and keepdim false, got '
                         f'{dim!r}, {keepdim!r}')
    return np.argmax(x, axis=dim)   # the first of equal maxima (a NaN counts as the maximum)


def _reshape(x: np.ndarray, shape: Any) -> np.ndarray:
    return np.reshape(x, tuple(shape))


def _sum(x: np.ndarray, dims: Any, keepdim: Any, dtype: Any) -> np.ndarray:
    if not isinstance(dims, list) or keepdim not in (False, None) or dtype is not None:
        raise ValueError(f'aten::sum: expected constant dims, keepdim false and no dtype, got '
                         f'{dims!r}, {keepdim!r}, {dtype!r}')
    return np.sum(x, axis=tuple(dims))


def _index(x: np.ndarray, indices: Any) -> np.ndarray:
    """``x[idx]`` for ``aten::index(x, [idx])`` with one integer index array."""
    if not isinstance(indices, list) or len(indices) != 1 or \
            not isinstance(indices[0], np.ndarray) or indices[0].dtype != np.int64:
        raise ValueError('aten::index: expected one int64 index array')
    return x[indices[0]]


def torch_dtype(args: list[Any]) -> np.dtype | None:
    """The dtype torch computes a binary op of ``args`` in, where NumPy would differ, else None.

    torch promotes ``float array (op) int array`` to the float array's dtype and ``int array
    (op) Python float`` to float32; NumPy to float64 in both cases.
    """
    arrays = [arg.dtype for arg in args if isinstance(arg, np.ndarray)]
    floats = [dtype for dtype in arrays if dtype.kind == 'f']
    ints = [dtype for dtype in arrays if dtype.kind in 'iu']
    if not ints:
        return None
    if floats:
        return max(floats, key=lambda dtype: dtype.itemsize)
    if any(isinstance(arg, float) for arg in args):
        return np.dtype(np.float32)
    return None


def promote(args: list[Any]) -> list[Any]:
    """``args`` with integer arrays cast as torch would (:func:`torch_dtype`)."""
    dtype = torch_dtype(args)
    if dtype is None:
        return args
    return [arg.astype(dtype) if isinstance(arg, np.ndarray) and arg.dtype.kind in 'iu' else arg
            for arg in args]


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
    'aten::exp': OpKind(np.exp, (1,), elementwise=True),
    # the clamped Gaussian's mean (a policy's expected action)
    'aten::erf': OpKind(_erf, (1,), elementwise=True),
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
    # discrete heads and tabular policies
    'aten::floor': OpKind(np.floor, (1,), elementwise=True),
    'aten::minimum': OpKind(np.minimum, (2,), elementwise=True),
    'aten::maximum': OpKind(np.maximum, (2,), elementwise=True),
    'aten::argmax': OpKind(_argmax, (3,)),
    'aten::reshape': OpKind(_reshape, (2,), view=True),
    'aten::sum': OpKind(_sum, (4,)),
    'aten::index': OpKind(_index, (2,)),
    'prim::dtype': OpKind(_dtype_code, (1,)),
}
ALIASES = ('aten::contiguous', 'aten::detach')   # the input itself

UFUNCS = (np.add, np.subtract, np.multiply, np.divide, np.minimum,
          np.maximum)   # binary: either input may take out=


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
