# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Run a plain-MLP TorchScript policy with NumPy: about half the CPU time per observation.

A deployed policy answers one observation per control step. For the small MLPs that locomotion
and manipulation policies are (e.g. 2x256), the TorchScript interpreter's per-op dispatch costs
more than the arithmetic: for a 2x256 MLP, 114 us per call against 62 us for the same layers in
NumPy, and 250 against 134 us after a 2 ms pause between messages
(``benchmarks/inference_backends.py``).

:func:`compile_numpy` reads the *frozen* graph of a module's ``forward`` (weights become
constants) and translates it op by op into NumPy. Only ops with exactly known semantics are
accepted: linear layers, elementwise arithmetic, common activations, clamp, float32 casts,
constant slices and concatenation. Any other op, signature or output makes it return None, and
the caller keeps TorchScript. :func:`numpy_equivalent` then checks the translation against
TorchScript on random observations of several magnitudes before it is used. The artifact stays
the TorchScript file: this is only a faster way to evaluate it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from robotrl_ros.agents.numpy_mlp import elu

NumpyPolicy = Callable[[np.ndarray], np.ndarray]
FLOAT32 = 6  # torch ScalarType index of float32 in aten::to(x, dtype, ...)
SELU_ALPHA, SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


class _Unsupported(Exception):
    """The graph uses something this translator does not handle (fall back to TorchScript)."""


def _elu(x: np.ndarray, alpha: float, scale: float, input_scale: float) -> np.ndarray:
    if alpha == 1 and scale == 1 and input_scale == 1:   # torch.nn.ELU(): 4 ops, not 7
        return elu(x)
    negative = alpha * (np.exp(np.minimum(x, 0.0) * input_scale) - 1.0)   # see elu()
    return scale * (np.maximum(x, 0.0) + negative)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (np.tanh(0.5 * x) + 1.0)   # exact identity, no overflow for large |x|


def _clamp(x: np.ndarray, low: Any, high: Any) -> np.ndarray:
    if low is not None:
        x = np.maximum(x, low)
    if high is not None:
        x = np.minimum(x, high)
    return x


def _with_alpha(op: Callable[[Any, Any], Any]) -> Callable[..., Any]:
    def apply(a: Any, b: Any, alpha: Any = 1) -> Any:
        if alpha != 1:
            raise _Unsupported('alpha != 1')
        return op(a, b)
    return apply


def _to_float32(x: np.ndarray, dtype: Any, *flags: Any) -> np.ndarray:
    if dtype != FLOAT32 or any(flag not in (False, None) for flag in flags):
        raise _Unsupported(f'aten::to with dtype {dtype} or flags {flags}')
    return x.astype(np.float32, copy=False)


def _slice(x: np.ndarray, dim: Any, start: Any, end: Any, step: Any) -> np.ndarray:
    if not all(isinstance(v, int) or v is None for v in (dim, start, end, step)) or \
            (step is not None and step < 1):
        raise _Unsupported('aten::slice with non-constant bounds')
    index = [slice(None)] * x.ndim
    index[dim] = slice(start, end, step)
    return x[tuple(index)]


# aten op -> (function of the evaluated inputs, number of inputs accepted).
_OPS: dict[str, tuple[Callable[..., Any], tuple[int, ...]]] = {
    'aten::add': (_with_alpha(np.add), (2, 3)),
    'aten::sub': (_with_alpha(np.subtract), (2, 3)),
    'aten::mul': (np.multiply, (2,)),
    'aten::div': (np.divide, (2,)),
    'aten::neg': (np.negative, (1,)),
    'aten::relu': (lambda x: np.maximum(x, 0.0), (1,)),
    'aten::tanh': (np.tanh, (1,)),
    'aten::sigmoid': (_sigmoid, (1,)),
    'aten::elu': (_elu, (4,)),
    'aten::selu': (lambda x: _elu(x, SELU_ALPHA, SELU_SCALE, 1.0), (1,)),
    'aten::leaky_relu': (lambda x, slope: np.where(x > 0, x, x * slope), (2,)),
    'aten::silu': (lambda x: x * _sigmoid(x), (1,)),
    'aten::clamp': (_clamp, (3,)),
    'aten::clamp_min': (lambda x, low: np.maximum(x, low), (2,)),
    'aten::clamp_max': (lambda x, high: np.minimum(x, high), (2,)),
    'aten::to': (_to_float32, (5,)),
    'aten::slice': (_slice, (5,)),
    'aten::cat': (lambda xs, dim: np.concatenate(xs, axis=dim), (2,)),
    'prim::ListConstruct': (lambda *xs: list(xs), tuple(range(1, 17))),
    'aten::contiguous': (lambda x, memory_format=None: x, (1, 2)),
    'aten::detach': (lambda x: x, (1,)),
}


def _constant(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        if value.dtype not in (torch.float32, torch.float64) or value.requires_grad:
            raise _Unsupported(f'constant tensor of dtype {value.dtype}')
        return value.detach().cpu().numpy().copy()
    if value is None or isinstance(value, (bool, int, float)):
        return value
    raise _Unsupported(f'constant of type {type(value).__name__}')


def compile_numpy(network: torch.jit.ScriptModule) -> NumpyPolicy | None:
    """A NumPy function equal to ``network.forward``, or None if its graph is not a plain MLP.

    The function maps a float32 ``(batch, obs_dim)`` array to a float32 array. Check it with
    :func:`numpy_equivalent` before use.
    """
    try:
        graph = torch.jit.freeze(network.eval()).graph
        return _translate(graph)
    except Exception:  # noqa: BLE001 - _Unsupported or any freezing failure: keep TorchScript
        return None


def _translate(graph: torch._C.Graph) -> NumpyPolicy:
    inputs = list(graph.inputs())
    outputs = list(graph.outputs())
    if len(inputs) != 2 or len(outputs) != 1:
        raise _Unsupported('forward must take one tensor and return one')
    slots: dict[Any, int] = {inputs[1]: 0}
    values: list[Any] = [None]
    program: list[tuple[Callable[..., Any], tuple[int, ...], int]] = []
    for node in graph.nodes():
        kind = node.kind()
        if kind == 'prim::Constant':
            slots[node.output()] = len(values)
            values.append(_constant(node.output().toIValue()))
            continue
        args = list(node.inputs())
        if any(arg not in slots for arg in args) or len(list(node.outputs())) != 1:
            raise _Unsupported(f'{kind}: unknown input or several outputs')
        arg_slots = [slots[arg] for arg in args]
        if kind == 'aten::linear' and len(args) == 3:
            weight, bias = values[arg_slots[1]], values[arg_slots[2]]
            if not isinstance(weight, np.ndarray) or weight.ndim != 2:
                raise _Unsupported('linear weight is not a constant matrix')
            arg_slots[1] = len(values)
            values.append(np.ascontiguousarray(weight.T))   # transposed once, here
            op: Callable[..., Any] = (lambda x, wt, b: x @ wt) if bias is None else \
                (lambda x, wt, b: x @ wt + b)
        elif kind in _OPS and len(args) in _OPS[kind][1]:
            op = _OPS[kind][0]
        else:
            raise _Unsupported(f'op {kind} with {len(args)} inputs')
        out = len(values)
        values.append(None)
        slots[node.output()] = out
        program.append((op, tuple(arg_slots), out))
    result = slots.get(outputs[0])
    if result is None:
        raise _Unsupported('output is not computed by the graph')
    for op, args, _ in program:   # dry run: unsupported argument values fail here, not later
        if op is _to_float32:
            _to_float32(np.zeros(1, np.float32), *(values[i] for i in args[1:]))

    return _straight_line(program, values, result)


def _straight_line(program: list[tuple[Callable[..., Any], tuple[int, ...], int]],
                   values: list[Any], result: int) -> NumpyPolicy:
    """The program as one generated Python function: no per-op interpretation at run time.

    Only generated names appear in the source (``v<slot>`` for values, ``op<k>`` for the op
    functions); constants and functions are passed in the namespace, never as text.
    """
    namespace: dict[str, Any] = {'asarray': np.asarray, 'float32': np.float32}
    computed = {out for _, _, out in program}
    for slot, value in enumerate(values):
        if slot and slot not in computed:
            namespace[f'v{slot}'] = value
    lines = ['def run(v0):']
    for k, (op, args, out) in enumerate(program):
        namespace[f'op{k}'] = op
        lines.append(f'    v{out} = op{k}({", ".join(f"v{i}" for i in args)})')
    lines.append(f'    return asarray(v{result}, dtype=float32)')
    exec('\n'.join(lines), namespace)  # noqa: S102 - generated from slot numbers only
    return namespace['run']


def numpy_equivalent(run: NumpyPolicy, network: torch.jit.ScriptModule, obs_dim: int,
                     atol: float = 1e-5) -> bool:
    """Whether ``run`` matches ``network.forward`` on random observations of many magnitudes.

    Magnitudes from 0.01 to 1000 reach the saturating and clamped regions of each layer.
    """
    generator = torch.Generator().manual_seed(0)
    probes = torch.cat([scale * torch.randn(16, obs_dim, generator=generator)
                        for scale in (0.01, 0.1, 1.0, 10.0, 1000.0)] + [torch.zeros(1, obs_dim)])
    try:
        with torch.inference_mode():
            expected = network.forward(probes).to(torch.float32).numpy()
        for rows in (probes, probes[:1]):  # the batch and the single-observation path
            got = run(rows.numpy())
            want = expected[:rows.shape[0]]
            if got.shape != want.shape or not np.allclose(got, want, atol=atol, rtol=1e-4):
                return False
    except Exception:  # noqa: BLE001 - any failure: not equivalent
        return False
    return True
