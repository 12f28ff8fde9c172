# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Declarative node parameters: one :class:`ParameterSpec` per parameter, one mechanism.

In the spirit of generate_parameter_library: a node lists its parameters (name, type,
default, description, range or choices, ``read_only``, ``dynamic``) and calls
:func:`declare_parameters`, which

- declares each with a full ``ParameterDescriptor`` (description, ``read_only``, a
  ``FloatingPointRange`` / ``IntegerRange``, choices in ``additional_constraints``), so
  ``ros2 param describe`` shows the contract;
- returns the validated values (:class:`ParameterValues`), or raises :class:`ParameterError`
  naming the parameter and the problem; an int where a float is expected and YAML lists are
  accepted (parameters use dynamic typing and are checked here);
- installs one on-set callback that validates every later change (``ros2 param set``): an
  invalid value, a ``read_only`` parameter and a parameter that is not ``dynamic`` are refused
  with a reason; a valid change to a dynamic one is handed to the node's ``apply`` hook and
  then stored, so the node reads the new value on its next message.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from rcl_interfaces.msg import (
    FloatingPointRange,
    IntegerRange,
    ParameterDescriptor,
    SetParametersResult,
)
from rclpy.exceptions import InvalidParameterValueException
from rclpy.node import Node
from rclpy.parameter import Parameter

KINDS = ('bool', 'int', 'float', 'str', 'int_list', 'float_list', 'str_list')
_WHAT = {'bool': 'a bool', 'int': 'an int', 'float': 'a float', 'str': 'a str',
         'int_list': 'a list of ints', 'float_list': 'a list of floats',
         'str_list': 'a list of strings'}
_ROS_TYPE = {'bool': Parameter.Type.BOOL, 'int': Parameter.Type.INTEGER,
             'float': Parameter.Type.DOUBLE, 'str': Parameter.Type.STRING,
             'int_list': Parameter.Type.INTEGER_ARRAY, 'float_list': Parameter.Type.DOUBLE_ARRAY,
             'str_list': Parameter.Type.STRING_ARRAY}
_INT64 = (-2 ** 63, 2 ** 63 - 1)
RESTART_REASON = 'takes effect only at start; restart the node to change it'


class ParameterError(ValueError):
    """A parameter has the wrong type or an invalid value (the message names it)."""


@dataclass(frozen=True)
class ParameterSpec:
    """One node parameter: its contract and how it may change.

    Args:
        name: Parameter name (a contract: docs/interfaces.md).
        default: Default value; its Python type gives the kind of scalars.
        description: What it does (``ros2 param describe``, the docs' tables).
        kind: One of :data:`KINDS`; inferred from ``default`` except for lists.
        minimum: Smallest allowed value (numbers; each element of a number list).
        maximum: Largest allowed value.
        above_minimum: ``minimum`` itself is not allowed (``> minimum``).
        choices: The allowed values of a ``str`` parameter.
        lengths: The allowed lengths of a list (empty: any).
        nonempty: A ``str`` parameter must not be empty.
        read_only: Cannot be set after start (refused by rclpy).
        dynamic: May change at run time; the node uses the new value from its next message.
    """

    name: str
    default: Any
    description: str
    kind: str = ''
    minimum: float | None = None
    maximum: float | None = None
    above_minimum: bool = False
    choices: tuple[str, ...] = ()
    lengths: tuple[int, ...] = ()
    nonempty: bool = False
    read_only: bool = False
    dynamic: bool = False

    def __post_init__(self) -> None:
        if not self.kind:
            inferred = {bool: 'bool', int: 'int', float: 'float', str: 'str'}.get(
                type(self.default))
            if inferred is None:
                raise TypeError(f'parameter {self.name!r}: give the kind of a list parameter')
            object.__setattr__(self, 'kind', inferred)
        if self.kind not in KINDS:
            raise TypeError(f'parameter {self.name!r}: unknown kind {self.kind!r}')
        if self.read_only and self.dynamic:
            raise TypeError(f'parameter {self.name!r} cannot be read_only and dynamic')
        coerce(self, self.default)   # a spec whose default fails its own checks is a bug

    def constraints(self) -> str:
        """The value constraints in words (``>= 0``, ``one of: a, b``, ``empty or 2-3 items``)."""
        parts = []
        if self.minimum is not None:
            parts.append(f'{">" if self.above_minimum else ">="} {_number(self.minimum)}')
        if self.maximum is not None:
            parts.append(f'<= {_number(self.maximum)}')
        if self.choices:
            parts.append('one of: ' + ', '.join(self.choices))
        if self.lengths:
            parts.append(_lengths_text(self.lengths) + ' items')
        if self.nonempty:
            parts.append('not empty')
        return '; '.join(parts)

    def change_policy(self) -> str:
        """``read-only``, ``at run time`` (dynamic) or ``at start`` (restart to change)."""
        return 'read-only' if self.read_only else 'at run time' if self.dynamic else 'at start'

    def descriptor(self) -> ParameterDescriptor:
        """The full ``ParameterDescriptor`` (range, read_only, constraints) of this parameter."""
        descriptor = ParameterDescriptor(
            name=self.name, type=_ROS_TYPE[self.kind].value, description=self.description,
            read_only=self.read_only, dynamic_typing=True,
            additional_constraints='; '.join(filter(None, (
                self.constraints(),
                'changes take effect on the next message' if self.dynamic else
                '' if self.read_only else RESTART_REASON))))
        if self.kind == 'float' and (self.minimum is not None or self.maximum is not None):
            descriptor.floating_point_range = [FloatingPointRange(
                from_value=-math.inf if self.minimum is None else float(self.minimum),
                to_value=math.inf if self.maximum is None else float(self.maximum), step=0.0)]
        elif self.kind == 'int' and (self.minimum is not None or self.maximum is not None):
            descriptor.integer_range = [IntegerRange(
                from_value=_INT64[0] if self.minimum is None else int(self.minimum),
                to_value=_INT64[1] if self.maximum is None else int(self.maximum), step=1)]
        return descriptor


def _number(value: float) -> str:
    return f'{value:g}'


def _lengths_text(lengths: tuple[int, ...]) -> str:
    words = ['empty'] if 0 in lengths else []
    sizes = sorted(n for n in lengths if n > 0)
    if sizes and sizes == list(range(sizes[0], sizes[-1] + 1)) and len(sizes) > 1:
        words.append(f'{sizes[0]}-{sizes[-1]}')
    else:
        words += [str(n) for n in sizes]
    return ' or '.join(words)


def _scalar(spec: ParameterSpec, kind: str, value: Any, shown: Any) -> Any:
    """One bool/int/float/str value of ``kind``, checked against the spec's bounds."""
    if kind == 'bool':
        ok = isinstance(value, bool)
    elif kind == 'str':
        ok = isinstance(value, str)
    else:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if ok and kind == 'int':
            ok = value == int(value)
    if not ok:
        raise ParameterError(f'parameter {spec.name!r} expects {_WHAT[spec.kind]}, got '
                             f'{shown!r} ({type(shown).__name__})')
    if kind in ('bool', 'str'):
        return value
    value = int(value) if kind == 'int' else float(value)
    if not math.isfinite(value):
        raise ParameterError(f'parameter {spec.name!r} must be finite, got {shown!r}')
    low, high = spec.minimum, spec.maximum
    if low is not None and (value < low or spec.above_minimum and value == low) or \
            high is not None and value > high:
        raise ParameterError(f'parameter {spec.name!r} must be {spec.constraints()}, got '
                             f'{shown!r}')
    return value


def coerce(spec: ParameterSpec, value: Any) -> Any:
    """Check ``value`` against ``spec`` and return it normalized (ints to floats, lists).

    Raises:
        ParameterError: Naming the parameter, what it expects and the value received.
    """
    if not spec.kind.endswith('_list'):
        value = _scalar(spec, spec.kind, value, value)
        if spec.choices and value not in spec.choices:
            raise ParameterError(f'parameter {spec.name!r} must be '
                                 f'{" or ".join(spec.choices)}, got {value!r}')
        if spec.nonempty and not value:
            raise ParameterError(f'parameter {spec.name!r} must not be empty')
        return value
    if value is None or isinstance(value, (str, bytes)) and len(value) == 0:
        items: list[Any] = []    # an empty YAML list arrives as an empty byte array
    elif isinstance(value, (str, bytes)) or not hasattr(value, '__len__'):
        raise ParameterError(f'parameter {spec.name!r} expects {_WHAT[spec.kind]}, got '
                             f'{value!r} ({type(value).__name__})')
    else:
        items = [_scalar(spec, spec.kind[:-5], v, list(value)) for v in value]
    if spec.lengths and len(items) not in spec.lengths:
        noun = 'strings' if spec.kind == 'str_list' else 'numbers'
        raise ParameterError(f'parameter {spec.name!r} must be {_lengths_text(spec.lengths)} '
                             f'{noun}, got {items}')
    return items


class ParameterValues:
    """The current, validated parameter values: ``values.name`` or ``values['name']``."""

    def __init__(self, values: dict[str, Any]) -> None:
        object.__setattr__(self, '_values', dict(values))

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError('parameter values change only through set_parameters')

    def as_dict(self) -> dict[str, Any]:
        """A copy of all values by name."""
        return dict(self._values)

    def _update(self, changes: dict[str, Any]) -> None:
        self._values.update(changes)


def _declare(node: Node, spec: ParameterSpec) -> Any:
    try:
        value = node.declare_parameter(spec.name, spec.default, spec.descriptor()).value
    except InvalidParameterValueException as exc:
        # rclpy refused an override outside the descriptor's range: say it our way.
        override = getattr(node, '_parameter_overrides', {}).get(spec.name)
        if override is not None:
            coerce(spec, override.value)
        raise ParameterError(f'parameter {spec.name!r}: {exc}') from None
    return spec.default if value is None and not spec.kind.endswith('_list') else value


def declare_parameters(node: Node, specs: Sequence[ParameterSpec],
                       apply: Callable[[dict[str, Any]], None] | None = None
                       ) -> ParameterValues:
    """Declare ``specs`` on ``node``, validate the start values, install the on-set callback.

    Args:
        node: The node that owns the parameters.
        specs: Its parameters.
        apply: Called with ``{name: new value}`` of accepted run-time changes to dynamic
            parameters before they are stored; raise ``ValueError`` to refuse them (the
            message becomes the refusal's reason). Without it, the node reads the values
            from the returned object on its next message.

    Returns:
        The live values; accepted changes appear in it.

    Raises:
        ParameterError: A start value (override, YAML, ``-p``) naming the parameter.
    """
    by_name = {spec.name: spec for spec in specs}
    values = ParameterValues({spec.name: coerce(spec, _declare(node, spec)) for spec in specs})

    def on_set(parameters: list[Parameter]) -> SetParametersResult:
        changes = {}
        for parameter in parameters:
            spec = by_name.get(parameter.name)
            if spec is None:
                continue          # rclpy's own (use_sim_time) or another mechanism's
            reason = refusal(spec, parameter.value)
            if reason:
                return SetParametersResult(successful=False, reason=reason)
            changes[spec.name] = coerce(spec, parameter.value)
        if changes and apply is not None:
            try:
                apply(changes)
            except ValueError as exc:
                return SetParametersResult(successful=False, reason=str(exc))
        values._update(changes)
        return SetParametersResult(successful=True)

    node.add_on_set_parameters_callback(on_set)
    return values


def refusal(spec: ParameterSpec, value: Any) -> str:
    """Why setting ``spec``'s parameter to ``value`` at run time is refused ('' = accepted)."""
    if spec.read_only:
        return f'parameter {spec.name!r} is read-only'
    if not spec.dynamic:
        return f'parameter {spec.name!r} {RESTART_REASON}'
    try:
        coerce(spec, value)
    except ParameterError as exc:
        return str(exc)
    return ''


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return f'`{str(value).lower()}`'
    if isinstance(value, str):
        return f'`{value}`' if value else "`''`"
    return f'`{value}`'


def markdown_table(specs: Iterable[ParameterSpec]) -> str:
    """The docs' table of ``specs``: name, type, default, constraints, when it may change."""
    lines = ['| parameter | type | default | constraints | changes | meaning |',
             '|---|---|---|---|---|---|']
    for spec in specs:
        meaning = spec.description.replace('|', '\\|')
        lines.append(f'| `{spec.name}` | {spec.kind} | {_cell(spec.default)} | '
                     f'{spec.constraints().replace("|", "/")} | {spec.change_policy()} | '
                     f'{meaning} |')
    return '\n'.join(lines) + '\n'
