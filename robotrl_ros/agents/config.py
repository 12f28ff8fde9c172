# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Build an agent's ``Config`` dataclass from a plain dict (YAML), rejecting bad keys and types.

Also home of the one key every agent with a NumPy fast path shares: ``backend``.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

C = TypeVar('C')

BACKENDS = ('fast', 'torch')
"""Values of the ``backend`` config key of PPO, SAC and DQN.

``fast``: acting and gradients in NumPy (:mod:`robotrl_ros.agents.fast`), tested equal to the
torch losses; ``torch``: the torch losses of the algorithm file with autograd (the reference).
"""


def backend_field() -> Any:
    """The ``backend`` dataclass field: default ``fast``, validated against :data:`BACKENDS`."""
    return dataclasses.field(default='fast', metadata={'choices': BACKENDS})

_SCALARS: dict[str, tuple[type, ...]] = {'int': (int,), 'float': (int, float), 'bool': (bool,),
                                         'str': (str,)}


def build_config(cls: type[C], overrides: dict[str, Any] | None, algo: str) -> C:
    """Return ``cls(**defaults | overrides)`` after checking every key and value type.

    Args:
        cls: A dataclass whose fields are annotated ``int``, ``float``, ``bool``, ``str``,
            ``tuple[int, ...]`` or ``tuple[float, ...]`` (optionally ``| None``).
        overrides: Values to change; None or empty means all defaults.
        algo: Algorithm name used in error messages.

    A field with ``metadata={'choices': (...)}`` accepts only those values.

    Raises:
        ValueError: An unknown key (the message lists the valid ones), a value of the wrong
            type (the message names the key and the expected type) or a value outside a
            field's choices (the message names the key and the valid values).
    """
    overrides = dict(overrides or {})
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for key, value in overrides.items():
        if key not in fields:
            raise ValueError(f'{algo}: unknown config key {key!r}; valid keys: '
                             f'{", ".join(sorted(fields))}')
        overrides[key] = _coerce(algo, key, value, str(fields[key].type))
        choices = fields[key].metadata.get('choices')
        if choices is not None and overrides[key] not in choices:
            raise ValueError(f'{algo}: config key {key!r} must be one of '
                             f'{", ".join(map(repr, choices))}, got {value!r}')
    return cls(**overrides)


def _coerce(algo: str, key: str, value: Any, annotation: str) -> Any:
    optional = annotation.endswith('| None')
    base = annotation.removesuffix('| None').strip()
    if value is None and optional:
        return None
    if base in _SCALARS:
        ok = isinstance(value, _SCALARS[base]) and not (base != 'bool' and isinstance(value, bool))
        if not ok:
            raise ValueError(f'{algo}: config key {key!r} must be {base}, got {value!r} '
                             f'({type(value).__name__})')
        return float(value) if base == 'float' else value
    if base.startswith('tuple['):
        item = base[len('tuple['):].split(',')[0].strip()
        if not isinstance(value, (list, tuple)) or not all(
                isinstance(v, _SCALARS[item]) and not isinstance(v, bool) for v in value):
            raise ValueError(f'{algo}: config key {key!r} must be a list of {item}, got '
                             f'{value!r}')
        return tuple(float(v) if item == 'float' else v for v in value)
    raise TypeError(f'{algo}: config field {key!r} has unsupported annotation {annotation!r}')


def config_to_dict(config: Any) -> dict[str, Any]:
    """Plain-data form of a config (lists instead of tuples) for checkpoints and YAML."""
    return {k: list(v) if isinstance(v, tuple) else v
            for k, v in dataclasses.asdict(config).items()}
