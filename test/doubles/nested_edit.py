# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Edit one nested entry of a parsed YAML/JSON document (malformed-input tests)."""

from typing import Any

#: The value that deletes the entry instead of setting it.
DELETE = object()


def set_nested(data: Any, path: tuple, value: Any) -> None:
    """Set ``data[path[0]][path[1]]...`` to ``value`` in place (:data:`DELETE`: remove it)."""
    target = data
    for key in path[:-1]:
        target = target[key]
    if value is DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
