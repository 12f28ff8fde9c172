# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Durable file writes: the one atomic write + fsync helper of the package.

:func:`atomic_write` replaces a file so that a reader (or a restart after a crash, even a power
loss) sees either the complete old content or the complete new one, never a torn mix: the new
content goes to a temporary file in the same directory, is flushed and fsynced, renamed over the
target with :func:`os.replace`, and the directory is fsynced so the rename itself is durable.
A failure at any step (an exception from the writer, a full disk, a failed fsync) leaves the old
file untouched, removes the temporary file and re-raises.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

Writer = Callable[[BinaryIO], object]


def fsync_dir(path: str | Path) -> None:
    """Make a file creation, rename or deletion inside directory ``path`` durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_synced(path: str | Path, write: Writer) -> None:
    """Create or truncate ``path``, let ``write`` fill it, then flush and fsync it (no rename).

    For files inside a directory that is itself renamed into place afterwards; to replace a
    single file use :func:`atomic_write`.
    """
    with open(path, 'wb') as handle:
        write(handle)
        handle.flush()
        os.fsync(handle.fileno())


def atomic_write(path: str | Path, write: Writer) -> Path:
    """Replace ``path`` atomically and durably with what ``write`` writes to a binary file.

    Args:
        path: Target file; its directory is created if missing.
        write: Called once with an open binary file, e.g.
            ``lambda f: torch.save(obj, f)``; its return value is ignored.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        OSError: From writing, fsyncing or renaming (``ENOSPC`` on a full disk); the old file
            is left as it was and the temporary file is removed.
        Exception: Whatever ``write`` raises, with the same guarantees.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # A unique name: two writers of one target never share a temporary file. Created with
    # the ordinary umask permissions, which the target then keeps.
    tmp_name = path.with_name(f'.{path.name}.{uuid.uuid4().hex[:12]}.tmp')
    try:
        write_synced(tmp_name, write)
        os.replace(tmp_name, path)
    except BaseException:
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        raise
    fsync_dir(path.parent)
    return path


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Replace ``path`` atomically and durably with ``data`` (see :func:`atomic_write`)."""
    return atomic_write(path, lambda handle: handle.write(data))


def atomic_write_keeping_previous(path: str | Path, previous: str | Path,
                                  write: Writer) -> Path:
    """:func:`atomic_write` that first renames the current ``path`` (if any) to ``previous``.

    Two generations: a crash or a failed write leaves ``previous`` (and no ``path``, or the
    old one), so a reader that falls back to ``previous`` when ``path`` is missing or corrupt
    always finds the last complete generation.
    """
    path = Path(path)
    if path.exists():
        os.replace(path, previous)
    return atomic_write(path, write)
