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

The translation is one generated Python function with every per-call decision taken at compile
time (each NumPy call costs microseconds on a cold cache, a few times the arithmetic):

- a multiplication or division by a constant right before a linear layer (the observation
  normalization's ``/ std``) is folded into that layer's weights;
- an elementwise op writes into its input when that input is a fresh array no other op reads;
- casts to float32 of float32 values, ``contiguous``, ``detach`` and slices of a whole axis
  (TorchScript's ``x[:, a:b]`` slices axis 0 first) are dropped, and the other constant slices
  are precomputed index tuples;
- a clamp to a range its input already keeps (``clamp(tanh(x), -1, 1)``) is dropped, and the
  function's ``bounds`` attribute says the range of its output where one is known.

The ops and their NumPy implementations are in :mod:`robotrl_ros.policy.numpy_ops`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from robotrl_ros.agents.fast.mlp import elu
from robotrl_ros.policy.numpy_ops import (
    ALIASES,
    FLOAT32,
    OPS,
    RANGES,
    UFUNCS,
    clamp_is_identity,
    clamp_range,
)

NumpyPolicy = Callable[[np.ndarray], np.ndarray]


class _Unsupported(Exception):
    """The graph uses something this translator does not handle (fall back to TorchScript)."""


@dataclass
class _Step:
    """One op of the program: ``values[out] = <kind>(values[args])``."""

    kind: str
    args: list[int]
    out: int
    fn: Callable[..., Any] | None = None


def _constant(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        if value.dtype not in (torch.float32, torch.float64) or value.requires_grad:
            raise _Unsupported(f'constant tensor of dtype {value.dtype}')
        return value.detach().cpu().numpy().copy()
    if value is None or isinstance(value, (bool, int, float)):
        return value
    raise _Unsupported(f'constant of type {type(value).__name__}')


def compile_numpy(network: torch.jit.ScriptModule, obs_dim: int,
                  fold_scales: bool = True) -> NumpyPolicy | None:
    """A NumPy function equal to ``network.forward``, or None if its graph is not a plain MLP.

    The function maps a float32 ``(batch, obs_dim)`` array to a float32 array. Check it with
    :func:`numpy_equivalent` before use. ``fold_scales=False`` keeps constant scalings as
    separate ops (exactly the graph's rounding).
    """
    try:
        graph = torch.jit.freeze(network.eval()).graph
        return _translate(graph, obs_dim, fold_scales)
    except Exception:  # noqa: BLE001 - _Unsupported or any freezing failure: keep TorchScript
        return None


def _translate(graph: torch._C.Graph, obs_dim: int, fold_scales: bool) -> NumpyPolicy:
    inputs = list(graph.inputs())
    outputs = list(graph.outputs())
    if len(inputs) != 2 or len(outputs) != 1:
        raise _Unsupported('forward must take one tensor and return one')
    slots: dict[Any, int] = {inputs[1]: 0}
    values: list[Any] = [None]
    program: list[_Step] = []
    for node in graph.nodes():
        kind = node.kind()
        if kind == 'prim::Constant':
            slots[node.output()] = len(values)
            values.append(_constant(node.output().toIValue()))
            continue
        args = list(node.inputs())
        if any(arg not in slots for arg in args) or len(list(node.outputs())) != 1:
            raise _Unsupported(f'{kind}: unknown input or several outputs')
        if kind not in OPS or len(args) not in OPS[kind].arity:
            raise _Unsupported(f'op {kind} with {len(args)} inputs')
        step = _Step(kind, [slots[arg] for arg in args], -1, OPS[kind].fn)
        _check_constants(step, values)
        step.out = len(values)
        values.append(None)
        slots[node.output()] = step.out
        program.append(step)
    result = slots.get(outputs[0])
    if result is None:
        raise _Unsupported('output is not computed by the graph')
    if fold_scales:
        _fold_scales(program, values, result)
    return _generate(program, values, result, obs_dim)


def _check_constants(step: _Step, values: list[Any]) -> None:
    """Compile-time checks of the arguments each op requires to be constants."""
    const = [values[slot] for slot in step.args]
    if step.kind in ('aten::add', 'aten::sub'):
        if len(const) == 3 and const[2] != 1:
            raise _Unsupported('alpha != 1')
        step.args = step.args[:2]
    elif step.kind == 'aten::linear':
        if not isinstance(const[1], np.ndarray) or const[1].ndim != 2:
            raise _Unsupported('linear weight is not a constant matrix')
        if const[2] is not None and not isinstance(const[2], np.ndarray):
            raise _Unsupported('linear bias is not a constant')
        values.append(np.ascontiguousarray(const[1].T))   # transposed once, here
        step.args[1] = len(values) - 1
    elif step.kind == 'aten::to':
        if const[1] != FLOAT32 or any(flag not in (False, None) for flag in const[2:]):
            raise _Unsupported(f'aten::to with dtype {const[1]} or flags {const[2:]}')
    elif step.kind == 'aten::slice':
        dim, start, end, stride = const[1:]
        if not isinstance(dim, int) or \
                not all(isinstance(v, int) or v is None for v in (start, end, stride)) or \
                (stride is not None and stride < 1):
            raise _Unsupported('aten::slice with non-constant bounds')
    elif step.kind == 'aten::cat' and not isinstance(const[1], int):
        raise _Unsupported('aten::cat with a non-constant dim')
    elif step.kind == 'aten::elu' and const[1:] == [1, 1, 1]:
        step.fn, step.args = elu, step.args[:1]   # torch.nn.ELU(): no per-call argument checks


def _uses(program: list[_Step], result: int) -> dict[int, int]:
    counts = {result: 1}
    for step in program:
        for slot in step.args:
            counts[slot] = counts.get(slot, 0) + 1
    return counts


def _fold_scales(program: list[_Step], values: list[Any], result: int) -> None:
    """Fold ``linear(x * c)`` and ``linear(x / c)`` (c constant per input) into the weights.

    ``(x * c) @ W.T = x @ (c[:, None] * W.T)``: one elementwise op less, and the scaled weights
    differ from the two-step result only by float32 rounding. Only float32 scales of the
    layer's input width (or scalars) fold, and only if nothing else reads ``x * c``.
    """
    producer = {step.out: step for step in program}
    computed = {0} | set(producer)
    uses = _uses(program, result)
    for linear in [step for step in program if step.kind == 'aten::linear']:
        while True:
            source = producer.get(linear.args[0])
            if source is None or source.kind not in ('aten::mul', 'aten::div') or \
                    uses.get(source.out) != 1:
                break
            x, c = source.args
            if source.kind == 'aten::mul' and not _is_scale(values[c]) and _is_scale(values[x]):
                x, c = c, x
            scale, weight_t = values[c], values[linear.args[1]]
            width = weight_t.shape[0]
            if x not in computed or not _is_scale(scale) or \
                    np.shape(scale) not in ((), (1,), (1, 1), (width,), (1, width)):
                break
            factor = np.reshape(np.asarray(scale, dtype=np.float64), (-1, 1))
            if source.kind == 'aten::div':
                factor = 1.0 / factor
            folded = (weight_t.astype(np.float64) * factor).astype(weight_t.dtype)
            if not np.all(np.isfinite(folded)):
                break
            values.append(folded)   # a new slot: the unscaled weights may be shared
            linear.args = [x, len(values) - 1, linear.args[2]]
            program.remove(source)   # x keeps one reader: the linear instead of the scaling


def _is_scale(value: Any) -> bool:
    """A constant scale that keeps float32 math float32: a float, or a float32 array."""
    return (isinstance(value, float) and np.isfinite(value)) or \
        (isinstance(value, np.ndarray) and value.dtype == np.float32 and value.ndim <= 2)


def _dry_run(program: list[_Step], values: list[Any], obs_dim: int,
             batch: int) -> list[tuple[tuple[int, ...], Any] | None]:
    """Shapes and dtypes of every value for a zero float32 batch (None for non-arrays)."""
    vals = list(values)
    vals[0] = np.zeros((batch, obs_dim), dtype=np.float32)
    for step in program:
        vals[step.out] = _evaluate(step, vals)
    return [(v.shape, v.dtype) if isinstance(v, np.ndarray) else None for v in vals]


def _evaluate(step: _Step, vals: list[Any]) -> Any:
    """Reference (not in-place) evaluation of one step, for the dry runs."""
    args = [vals[slot] for slot in step.args]
    if step.kind == 'aten::linear':
        out = args[0] @ args[1]
        return out if args[2] is None else out + args[2]
    if step.kind == 'aten::to':
        return args[0].astype(np.float32, copy=False)
    if step.kind == 'aten::slice':
        return args[0][_slice_index(*args[1:], ndim=args[0].ndim)]
    if step.kind in ALIASES:
        return args[0]
    assert step.fn is not None
    return step.fn(*args)


def _slice_index(dim: int, start: Any, end: Any, stride: Any, ndim: int) -> tuple:
    index = [slice(None)] * ndim
    index[dim] = slice(start, end, stride)
    return tuple(index)


def _generate(program: list[_Step], values: list[Any], result: int,
              obs_dim: int) -> NumpyPolicy:
    """The program as one generated Python function: no per-op interpretation at run time.

    Only generated names appear in the source (``v<slot>`` for values, ``op<k>`` and
    ``index<k>`` for op functions and slice tuples); constants and functions are passed in the
    namespace, never as text. Dry runs at two batch sizes give every value's shape and dtype:
    an op writes into an input only where that input is fresh (allocated by this call, read by
    no other op) and has the result's shape and dtype at both sizes.
    """
    infos = [_dry_run(program, values, obs_dim, batch) for batch in (1, 3)]
    uses = _uses(program, result)
    computed = {step.out for step in program}
    namespace: dict[str, Any] = {'asarray': np.asarray, 'float32': np.float32,
                                 'matmul': np.matmul}
    for slot, value in enumerate(values):
        if slot and slot not in computed:
            namespace[f'v{slot}'] = value
    fresh: set[int] = set()   # arrays this call allocated that no other value refers to
    bounds: dict[int, tuple[float, float]] = {}   # known value ranges (tanh, clamp, ...)

    def same(a: int, b: int) -> bool:
        return all(info[a] is not None and info[a] == info[b] for info in infos)

    def owned(slot: int) -> bool:
        return slot in fresh and uses.get(slot) == 1

    lines = ['def run(v0):']
    for k, step in enumerate(program):
        a = [f'v{slot}' for slot in step.args]
        out, x = f'v{step.out}', step.args[0]
        constants = [values[slot] for slot in step.args[1:]]
        if step.kind == 'aten::linear':
            two_d = all(info[x] is not None and len(info[x][0]) == 2 for info in infos)
            # ndarray.dot: no __array_function__ dispatch in Python (4 against 7 us, np.dot)
            lines.append(f'    {out} = {a[0]}.dot({a[1]})' if two_d else
                         f'    {out} = matmul({a[0]}, {a[1]})')
            if constants[1] is not None:
                bias_keeps_dtype = np.result_type(infos[0][x][1], constants[0].dtype) == \
                    infos[0][step.out][1]
                lines.append(f'    {out} += {a[2]}' if bias_keeps_dtype else
                             f'    {out} = {out} + {a[2]}')
            fresh.add(step.out)
        elif step.kind in ALIASES or (step.kind == 'aten::to' and same(x, step.out)) or \
                (step.kind == 'aten::slice' and constants[3] in (1, None) and same(x, step.out)) \
                or clamp_is_identity(step.kind, constants, bounds.get(x)):
            # Identities: a float32 cast of float32, a slice of everything, a clamp to bounds
            # the value already keeps (e.g. tanh's [-1, 1]: NaN stays NaN either way).
            lines.append(f'    {out} = {a[0]}')
            if owned(x):
                fresh.add(step.out)
        elif step.kind == 'aten::to':
            lines.append(f'    {out} = {a[0]}.astype(float32)')
            fresh.add(step.out)
        elif step.kind == 'aten::slice':
            namespace[f'index{k}'] = _slice_index(*constants, ndim=len(infos[0][x][0]))
            lines.append(f'    {out} = {a[0]}[index{k}]')
        else:
            namespace[f'op{k}'] = step.fn
            target = None
            if OPS[step.kind].elementwise:
                candidates = step.args[:2] if step.fn in UFUNCS else step.args[:1]
                target = next((slot for slot in candidates
                               if slot in computed and owned(slot) and same(slot, step.out)),
                              None)
            call = ', '.join(a + ([f'out=v{target}'] if target is not None else []))
            lines.append(f'    {out} = op{k}({call})')
            if not OPS[step.kind].view:
                fresh.add(step.out)
        _track_bounds(step, constants, bounds)
    lines.append(f'    return asarray(v{result}, dtype=float32)')
    source = '\n'.join(lines)
    exec(source, namespace)  # noqa: S102 - generated from slot numbers only
    run = namespace['run']
    run.source = source   # what runs, for inspection and tests
    run.bounds = bounds.get(result)   # (low, high) every output lies in, None if unknown
    return run


def _track_bounds(step: _Step, constants: list[Any],
                  bounds: dict[int, tuple[float, float]]) -> None:
    """Record the range of ``step``'s output where its op guarantees one."""
    known = bounds.get(step.args[0])
    clamp = clamp_range(step.kind, constants)
    if step.kind in RANGES:
        bounds[step.out] = RANGES[step.kind]
    elif clamp is not None:
        low, high = clamp if known is None else (max(clamp[0], known[0]),
                                                 min(clamp[1], known[1]))
        if low <= high:
            bounds[step.out] = (low, high)
    elif known is not None and (step.kind in ALIASES or step.kind in ('aten::to',
                                                                       'aten::slice')):
        bounds[step.out] = known   # the same values, or some of them




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
