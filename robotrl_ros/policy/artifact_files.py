# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Reading an artifact's files as untrusted input: trusted places, one open each, a size cap.

A policy update names a directory; whoever can publish on the DDS domain can name any path.
:func:`resolve_trusted` accepts it only if its real path (symlinks and ``..`` resolved) lies
inside one of the trusted directories. :class:`ArtifactFiles` then opens that directory once and
each file in it once, relative to the directory, refusing symlinks (``O_NOFOLLOW``) and anything
that is not a regular file (a FIFO would block the reader; a device never ends), and never reads
more than ``max_bytes`` in all: the bytes that are hashed are the bytes that are parsed.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

from robotrl_ros.policy.metadata import ArtifactError

#: Default cap on the bytes of one artifact (all its files together).
DEFAULT_MAX_ARTIFACT_BYTES = 256 * 1024 * 1024
_CHUNK = 1 << 20
_NOFOLLOW = getattr(os, 'O_NOFOLLOW', 0)
_CLOEXEC = getattr(os, 'O_CLOEXEC', 0)
_NONBLOCK = getattr(os, 'O_NONBLOCK', 0)


def resolve_trusted(path: str | Path, trusted_dirs: Iterable[str | Path]) -> Path:
    """The real path of ``path`` if it lies inside one of ``trusted_dirs`` (real paths too).

    Raises:
        ArtifactError: No trusted directory, or the resolved path lies outside all of them.
    """
    trusted = [os.path.realpath(d) for d in trusted_dirs if str(d)]
    real = os.path.realpath(path)
    for root in trusted:
        if real == root or real.startswith(root.rstrip(os.sep) + os.sep):
            return Path(real)
    if not trusted:
        raise ArtifactError(f'policy artifact {path}: no trusted_artifact_dirs configured, '
                            'refusing every update path')
    raise ArtifactError(f'policy artifact {path}: resolves to {real}, outside the trusted '
                        f'artifact directories {trusted}')


def check_file_name(name: str, where: str) -> str:
    """``name`` if it is a plain file name inside the artifact directory, else ArtifactError."""
    if not isinstance(name, str) or not name or name in ('.', '..') or '/' in name or \
            '\\' in name or '\0' in name or name.startswith('.'):
        raise ArtifactError(f'{where}: {name!r} is not a plain file name in the artifact '
                            'directory')
    return name


class ArtifactFiles:
    """The files of one artifact directory, each opened and read exactly once.

    Args:
        path: The artifact directory (already checked against the trusted directories).
        max_bytes: Most bytes read from all files together.

    Raises:
        ArtifactError: The directory cannot be opened (missing, a symlink, not a directory).
    """

    def __init__(self, path: str | Path, max_bytes: int = DEFAULT_MAX_ARTIFACT_BYTES) -> None:
        self.path = Path(path)
        self.remaining = int(max_bytes)
        self.max_bytes = int(max_bytes)
        try:
            self._dir_fd = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY | _NOFOLLOW | _CLOEXEC)
        except OSError as exc:
            raise ArtifactError(f'policy artifact {self.path}: not a directory that can be '
                                f'opened ({exc.strerror or exc})') from exc

    def close(self) -> None:
        """Close the directory."""
        if self._dir_fd >= 0:
            os.close(self._dir_fd)
            self._dir_fd = -1

    def __enter__(self) -> ArtifactFiles:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def read(self, name: str) -> bytes:
        """All bytes of the regular file ``name``, opened once, never through a symlink.

        Raises:
            ArtifactError: A symlink, a FIFO / device / directory, an unreadable file, or more
                bytes than the remaining cap; the message names the file.
        """
        where = self.path / check_file_name(name, str(self.path))
        try:
            fd = os.open(name, os.O_RDONLY | _NOFOLLOW | _NONBLOCK | _CLOEXEC,
                         dir_fd=self._dir_fd)
        except OSError as exc:
            what = 'a symlink (refused)' if os.path.islink(where) else \
                f'cannot open ({exc.strerror or exc})'
            raise ArtifactError(f'{where}: {what}') from exc
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise ArtifactError(f'{where}: not a regular file (mode {info.st_mode:o}); '
                                    'refused')
            if info.st_size > self.remaining:
                raise ArtifactError(f'{where}: {info.st_size} bytes, more than the '
                                    f'{self.remaining} left of max_artifact_bytes '
                                    f'({self.max_bytes})')
            data = self._read_capped(fd, where)
        finally:
            os.close(fd)
        self.remaining -= len(data)
        return data

    def _read_capped(self, fd: int, where: Path) -> bytes:
        chunks, total = [], 0
        while True:
            try:
                chunk = os.read(fd, min(_CHUNK, self.remaining - total + 1))
            except OSError as exc:
                raise ArtifactError(f'{where}: cannot read ({exc.strerror or exc})') from exc
            if not chunk:
                return b''.join(chunks)
            total += len(chunk)
            if total > self.remaining:
                raise ArtifactError(f'{where}: grew past max_artifact_bytes ({self.max_bytes}) '
                                    'while being read')
            chunks.append(chunk)
