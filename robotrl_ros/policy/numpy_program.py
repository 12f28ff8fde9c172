# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""A deployed network as data: a NumPy program, its description, and the function run from it.

A :class:`NumpyProgram` is a list of steps ``values[out] = op(values[args])`` over numbered
slots: slot 0 is the observation batch, the other slots are constants (weights, biases, scalar
op arguments) or step outputs. :mod:`robotrl_ros.policy.numpy_inference` builds one from a
TorchScript graph at export time; :meth:`NumpyProgram.describe` turns it into plain data (the
``network`` section of ``policy.yaml`` plus named arrays for the weights file) and
:func:`program_from_data` reads it back, checking every field, with no code of the artifact
running: ops are looked up by name in :data:`robotrl_ros.policy.numpy_ops.OPS` and the
generated function's source is made of slot and step numbers only.

:func:`generate` compiles a program into one Python function with every per-call decision taken
at compile time (each NumPy call costs microseconds on a cold cache, a few times the
arithmetic):

- an elementwise op writes into its input when that input is a fresh array no other op reads;
- casts to float32 of float32 values, ``contiguous``, ``detach`` and slices of a whole axis are
  dropped, and the other constant slices are precomputed index tuples;
- a clamp to a range its input already keeps (``clamp(tanh(x), -1, 1)``) is dropped, and the
  function's ``bounds`` attribute says the range of its output where one is known.

This module imports neither torch nor the training stack: it is what a robot runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from robotrl_ros.agents.fast.activations import elu
from robotrl_ros.policy.numpy_ops import (
    ALIASES,
    MAX_INT_LIST,
    OPS,
    RANGES,
    UFUNCS,
    cast,
    clamp_is_identity,
    clamp_range,
    promote,
    torch_dtype,
)

NumpyPolicy = Callable[[np.ndarray], np.ndarray]

#: ``network.format`` of a program in ``policy.yaml``.
PROGRAM_FORMAT = 'numpy_program'
#: Largest program accepted from a file (steps, slots): bounds the work of compiling it.
MAX_STEPS = 4096
MAX_SLOTS = 65536
#: Largest intermediate value (elements) a program may make for the compile-time dry runs.
MAX_VALUE_ELEMENTS = 1 << 24


class ProgramError(ValueError):
    """A program description is malformed; the message names the field."""


@dataclass
class Step:
    """One op of the program: ``values[out] = <kind>(values[args])``."""

    kind: str
    args: list[int]
    out: int
    fn: Callable[..., Any] | None = None


@dataclass
class NumpyProgram:
    """Steps over numbered value slots (slot 0: the input); see the module docstring."""

    steps: list[Step]
    values: list[Any]
    result: int
    meta: dict[str, Any] = field(default_factory=dict)

    def compile(self, obs_dim: int) -> NumpyPolicy:
        """The program as a function ``float32 (batch, obs_dim) -> float32 (batch, n)``."""
        return generate(self.steps, self.values, self.result, obs_dim)

    def describe(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """``(description, arrays)``: YAML-ready data and the constant arrays by name.

        Only constants that some step reads are kept; arrays are named ``v<slot>``.
        """
        computed = {step.out for step in self.steps}
        read = sorted({slot for step in self.steps for slot in step.args} - computed - {0})
        constants: dict[int, Any] = {}
        arrays: dict[str, np.ndarray] = {}
        for slot in read:
            value = self.values[slot]
            if isinstance(value, np.ndarray):
                arrays[f'v{slot}'] = np.ascontiguousarray(value)
            else:
                constants[slot] = value
        description = {'format': PROGRAM_FORMAT,
                       'steps': [[step.kind, list(step.args), step.out] for step in self.steps],
                       'constants': constants, 'result': self.result}
        return description, arrays


def _slot(value: Any, where: str) -> int:
    if type(value) is not int or not 0 <= value < MAX_SLOTS:
        raise ProgramError(f'{where}: expected a slot number in [0, {MAX_SLOTS}), got {value!r}')
    return value


def _step_function(kind: str, n_args: int, where: str) -> Callable[..., Any] | None:
    """The NumPy function of an op, checking its argument count (the forms export writes)."""
    if not isinstance(kind, str) or kind not in OPS:
        raise ProgramError(f'{where}: unknown op {kind!r} (known: {sorted(OPS)})')
    if kind == 'aten::elu' and n_args == 1:
        return elu   # torch.nn.ELU(): alpha = scale = input_scale = 1
    arity = (2,) if kind in ('aten::add', 'aten::sub') else OPS[kind].arity
    if n_args not in arity:
        raise ProgramError(f'{where}: op {kind} takes {list(arity)} inputs, got {n_args}')
    return OPS[kind].fn


def _constant_value(value: Any, where: str) -> Any:
    if value is None or type(value) in (bool, int, float):
        return value
    if type(value) is list and len(value) <= MAX_INT_LIST and \
            all(type(item) is int for item in value):
        return list(value)   # a shape or a list of dims
    raise ProgramError(f'{where}: a constant must be null, a boolean, a number or a list of at '
                       f'most {MAX_INT_LIST} integers, got {value!r}')


def program_from_data(description: Any, arrays: dict[str, np.ndarray]) -> NumpyProgram:
    """Rebuild a program from :meth:`NumpyProgram.describe`'s output, checking every field.

    Raises:
        ProgramError: A malformed field, an unknown op, a slot read before it is written, or
            an array that is not float32/float64/int64; the message names it.
    """
    if not isinstance(description, dict):
        raise ProgramError(f'expected a mapping, got {type(description).__name__}')
    if description.get('format') != PROGRAM_FORMAT:
        raise ProgramError(f'format: expected {PROGRAM_FORMAT!r}, got '
                           f'{description.get("format")!r}')
    steps_data, constants = description.get('steps'), description.get('constants', {})
    if not isinstance(steps_data, list) or not 0 < len(steps_data) <= MAX_STEPS:
        raise ProgramError(f'steps: expected a list of 1 to {MAX_STEPS} steps')
    if not isinstance(constants, dict):
        raise ProgramError('constants: expected a mapping slot -> value')
    values: dict[int, Any] = {}
    for slot, value in constants.items():
        values[_slot(slot, 'constants')] = _constant_value(value, f'constants[{slot}]')
    for name, array in arrays.items():
        if not name.startswith('v') or not name[1:].isdigit():
            raise ProgramError(f'weights: tensor name {name!r} is not v<slot>')
        slot = _slot(int(name[1:]), f'weights {name}')
        if not isinstance(array, np.ndarray) or array.dtype not in (np.float32, np.float64,
                                                                     np.int64):
            raise ProgramError(f'weights {name}: expected a float32/float64/int64 array')
        if slot in values:
            raise ProgramError(f'weights {name}: slot {slot} is also in constants')
        values[slot] = array
    if 0 in values:
        raise ProgramError('slot 0 (the observation) cannot be a constant')
    defined = set(values) | {0}
    steps = []
    for i, item in enumerate(steps_data):
        where = f'steps[{i}]'
        if not isinstance(item, list) or len(item) != 3 or not isinstance(item[1], list):
            raise ProgramError(f'{where}: expected [op, [input slots], output slot]')
        kind, args, out = item
        args = [_slot(arg, f'{where} input') for arg in args]
        unknown = [arg for arg in args if arg not in defined]
        if unknown:
            raise ProgramError(f'{where}: reads slot(s) {unknown} before they are written')
        out = _slot(out, f'{where} output')
        if out in defined:
            raise ProgramError(f'{where}: output slot {out} is already written')
        steps.append(Step(kind, args, out, _step_function(kind, len(args), where)))
        defined.add(out)
    result = description.get('result')
    if result not in {step.out for step in steps}:
        raise ProgramError(f'result: expected the output slot of a step, got {result!r}')
    table = [values.get(slot) for slot in range(max(defined) + 1)]
    return NumpyProgram(steps, table, result)


def step_uses(program: list[Step], result: int) -> dict[int, int]:
    """How many times each slot is read (the result counts as read once)."""
    counts = {result: 1}
    for step in program:
        for slot in step.args:
            counts[slot] = counts.get(slot, 0) + 1
    return counts



def _dry_run(program: list[Step], values: list[Any], obs_dim: int,
             batch: int) -> list[tuple[tuple[int, ...], Any] | None]:
    """Shapes and dtypes of every value for a zero float32 batch (None for non-arrays)."""
    vals = list(values)
    vals[0] = np.zeros((batch, obs_dim), dtype=np.float32)
    for step in program:
        size = _size_bound(step, [vals[slot] for slot in step.args])
        if size > MAX_VALUE_ELEMENTS:
            raise ProgramError(f'{step.kind} would make {size} elements for a batch of {batch} '
                               f'(at most {MAX_VALUE_ELEMENTS})')
        vals[step.out] = _evaluate(step, vals)
    return [(v.shape, v.dtype) if isinstance(v, np.ndarray) else None for v in vals]


def _size_bound(step: Step, args: list[Any]) -> int:
    """Elements of ``step``'s result, known before computing it (no allocation bombs)."""
    arrays = [arg for arg in args if isinstance(arg, np.ndarray)]
    if step.kind == 'aten::linear' and len(arrays) >= 2:
        return int(np.prod(arrays[0].shape[:-1], dtype=np.int64)) * int(arrays[1].shape[-1])
    if step.kind == 'aten::cat' and isinstance(args[0], list):
        return sum(int(np.size(item)) for item in args[0])
    if step.kind == 'aten::index' and len(arrays) == 1 and isinstance(args[1], list):
        rows = sum(int(np.size(item)) for item in args[1])
        return rows * int(np.prod(arrays[0].shape[1:], dtype=np.int64))
    try:
        return int(np.prod(np.broadcast_shapes(*(a.shape for a in arrays)), dtype=np.int64))
    except ValueError:
        return 0   # shapes that do not broadcast: the op itself refuses them


def _evaluate(step: Step, vals: list[Any]) -> Any:
    """Reference (not in-place) evaluation of one step, for the dry runs."""
    args = [vals[slot] for slot in step.args]
    if step.kind == 'aten::linear':
        out = args[0] @ args[1]
        return out if args[2] is None else out + args[2]
    if step.kind == 'aten::to':
        return cast(args[0], args[1])
    if step.kind == 'aten::slice':
        return args[0][_slice_index(*args[1:], ndim=args[0].ndim)]
    if step.kind in ALIASES:
        return args[0]
    assert step.fn is not None
    return step.fn(*(promote(args) if step.fn in UFUNCS else args))


def _slice_index(dim: int, start: Any, end: Any, stride: Any, ndim: int) -> tuple:
    index = [slice(None)] * ndim
    index[dim] = slice(start, end, stride)
    return tuple(index)


def generate(program: list[Step], values: list[Any], result: int,
              obs_dim: int) -> NumpyPolicy:
    """The program as one generated Python function: no per-op interpretation at run time.

    Only generated names appear in the source (``v<slot>`` for values, ``op<k>`` and
    ``index<k>`` for op functions and slice tuples); constants and functions are passed in the
    namespace, never as text. Dry runs at two batch sizes give every value's shape and dtype:
    an op writes into an input only where that input is fresh (allocated by this call, read by
    no other op) and has the result's shape and dtype at both sizes.
    """
    infos = [_dry_run(program, values, obs_dim, batch) for batch in (1, 3)]
    uses = step_uses(program, result)
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
            namespace[f'dtype{k}'] = infos[0][step.out][1]
            lines.append(f'    {out} = {a[0]}.astype(dtype{k})')
            fresh.add(step.out)
        elif step.kind == 'aten::slice':
            namespace[f'index{k}'] = _slice_index(*constants, ndim=len(infos[0][x][0]))
            lines.append(f'    {out} = {a[0]}[index{k}]')
        else:
            namespace[f'op{k}'] = step.fn
            if step.fn in UFUNCS:
                a = _promoted_args(k, step, a, infos[0], values, namespace)
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


def _track_bounds(step: Step, constants: list[Any],
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
    elif known is not None and (step.kind in ALIASES or step.kind == 'aten::slice' or
                                (step.kind == 'aten::to' and constants[0] in (6, 7))):
        bounds[step.out] = known   # the same values, or some of them


def _promoted_args(k: int, step: Step, names: list[str], info: list[Any], values: list[Any],
                   namespace: dict[str, Any]) -> list[str]:
    """Argument names of binary step ``k`` with integer arrays cast as torch promotes them.

    A constant is cast once, here (``cast<k>_<i>`` in the namespace); a computed value per call.
    """
    kinds = [np.empty(0, info[slot][1]) if info[slot] is not None else values[slot]
             for slot in step.args]
    dtype = torch_dtype(kinds)
    if dtype is None:
        return names
    out = list(names)
    for i, slot in enumerate(step.args):
        if info[slot] is None or info[slot][1].kind not in 'iu':
            continue
        if isinstance(values[slot], np.ndarray):
            namespace[f'cast{k}_{i}'] = values[slot].astype(dtype)
            out[i] = f'cast{k}_{i}'
        else:
            namespace[f'dtype{k}_{i}'] = dtype
            out[i] = f'{names[i]}.astype(dtype{k}_{i})'
    return out
