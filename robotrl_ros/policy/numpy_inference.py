# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Run a plain-MLP TorchScript policy with NumPy: about half the CPU time per observation.

A deployed policy answers one observation per control step. For the small MLPs that locomotion
and manipulation policies are (e.g. 2x256), the TorchScript interpreter's per-op dispatch costs
more than the arithmetic: for a 2x256 MLP, 114 us per call against 62 us for the same layers in
NumPy, and 250 against 134 us after a 2 ms pause between messages
(``benchmarks/inference_backends.py``).

:func:`translate_network` reads the *frozen* graph of a module's ``forward`` (weights become
constants) and translates it op by op into a
:class:`~robotrl_ros.policy.numpy_program.NumpyProgram`.
Only ops with exactly known semantics are accepted: linear layers, elementwise arithmetic,
common activations, clamp, casts (float32, float64, int64), constant slices and concatenation,
and for discrete policies ``argmax``, ``floor``, ``minimum``, integer sums, reshapes and table
lookups (``aten::index``): a Q-network or logits head, a Q-table after binning, and the
``discrete_actions`` row an index selects. Any other op,
signature or output makes it return None, and the caller keeps TorchScript.
:func:`numpy_equivalent` then checks the translation against TorchScript on random observations
of several magnitudes before it is used. Export stores the program as data (the artifact's
``network`` section and weights file), so a robot runs it without torch; a multiplication or
division by a constant right before a linear layer (the observation normalization's ``/ std``)
is folded into that layer's weights first.

The ops and their NumPy implementations are in :mod:`robotrl_ros.policy.numpy_ops`, the
program and its compilation in :mod:`robotrl_ros.policy.numpy_program`.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import torch

from robotrl_ros.agents.fast.activations import elu
from robotrl_ros.policy.numpy_ops import MAX_INT_LIST, OPS, TORCH_DTYPES
from robotrl_ros.policy.numpy_program import NumpyPolicy, NumpyProgram, Step, step_uses


class _Unsupported(Exception):
    """The graph uses something this translator does not handle (fall back to TorchScript)."""


def _constant(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        if value.dtype not in (torch.float32, torch.float64, torch.int64) or \
                value.requires_grad:
            raise _Unsupported(f'constant tensor of dtype {value.dtype}')
        return value.detach().cpu().numpy().copy()
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, list) and len(value) <= MAX_INT_LIST and \
            all(type(item) is int for item in value):
        return list(value)   # a shape or a list of dims
    raise _Unsupported(f'constant of type {type(value).__name__}')


def compile_numpy(network: torch.jit.ScriptModule, obs_dim: int,
                  fold_scales: bool = True) -> NumpyPolicy | None:
    """A NumPy function equal to ``network.forward``, or None if its graph is not a plain MLP.

    The function maps a float32 ``(batch, obs_dim)`` array to a float32 array. Check it with
    :func:`numpy_equivalent` before use. ``fold_scales=False`` keeps constant scalings as
    separate ops (exactly the graph's rounding).
    """
    program = translate_network(network, fold_scales)
    if program is None:
        return None
    try:
        return program.compile(obs_dim)
    except Exception:  # noqa: BLE001 - a shape the program cannot run: keep TorchScript
        return None


def translate_network(network: torch.jit.ScriptModule,
                      fold_scales: bool = True) -> NumpyProgram | None:
    """The NumPy program of ``network.forward``, or None if its graph is not a plain MLP."""
    try:
        graph = torch.jit.freeze(network.eval()).graph
        return _translate(graph, fold_scales)
    except Exception:  # noqa: BLE001 - _Unsupported or any freezing failure: keep TorchScript
        return None


def _translate(graph: torch._C.Graph, fold_scales: bool) -> NumpyProgram:
    inputs = list(graph.inputs())
    outputs = list(graph.outputs())
    if len(inputs) != 2 or len(outputs) != 1:
        raise _Unsupported('forward must take one tensor and return one')
    slots: dict[Any, int] = {inputs[1]: 0}
    values: list[Any] = [None]
    program: list[Step] = []
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
        step = Step(kind, [slots[arg] for arg in args], -1, OPS[kind].fn)
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
    return NumpyProgram(program, values, result)


def _check_constants(step: Step, values: list[Any]) -> None:
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
        # dtype: a constant, or computed (prim::dtype: None here, checked when it runs)
        if (const[1] is not None and const[1] not in TORCH_DTYPES) or \
                any(flag not in (False, None) for flag in const[2:]):
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


def _fold_scales(program: list[Step], values: list[Any], result: int) -> None:
    """Fold ``linear(x * c)`` and ``linear(x / c)`` (c constant per input) into the weights.

    ``(x * c) @ W.T = x @ (c[:, None] * W.T)``: one elementwise op less, and the scaled weights
    differ from the two-step result only by float32 rounding. Only float32 scales of the
    layer's input width (or scalars) fold, and only if nothing else reads ``x * c``.
    """
    producer = {step.out: step for step in program}
    computed = {0} | set(producer)
    uses = step_uses(program, result)
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


def equivalent_program(network: torch.jit.ScriptModule,
                       obs_dim: int) -> tuple[NumpyProgram, NumpyPolicy] | None:
    """A NumPy program (and its function) giving ``network.forward``'s actions, or None.

    The translation with constant scales folded into the weights is tried first; where that
    rounding makes it differ, the op-by-op one. A network with a discrete head (``argmax``)
    is translated op by op only: a rounding difference could pick another action.
    """
    for fold_scales in (True, False):
        program = translate_network(copy.deepcopy(network), fold_scales)
        if program is None:
            return None
        if fold_scales and any(step.kind == 'aten::argmax' for step in program.steps):
            continue
        try:
            run = program.compile(obs_dim)
        except Exception:  # noqa: BLE001 - a shape the program cannot run: keep TorchScript
            return None
        if numpy_equivalent(run, network, obs_dim):
            return program, run
    return None


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
