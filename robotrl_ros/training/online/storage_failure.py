# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""A session's first storage failure: it stops the session, and nothing is written after it.

A full disk or a failed fsync is final (:mod:`.store`): :class:`StorageFailure` keeps the first
one as a message saying what failed, what is kept and how to resume, and raises it as
:class:`~.store.StorageError` from every later guarded write.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from robotrl_ros.training.online.store import StorageError


class StorageFailure:
    """The first storage failure, once one happened (:attr:`message`).

    Args:
        kept: Says what is kept, e.g. ``120 transitions are stored in runs/x``, for the message.
    """

    def __init__(self, kept: Callable[[], str]) -> None:
        self.message: str | None = None
        self._kept = kept

    def fail(self, what: str, exc: OSError) -> None:
        """Keep the first storage failure as a message saying what failed and what is kept."""
        if self.message is None:
            self.message = (
                f'{what} failed: {exc.strerror or exc} (errno {exc.errno}). The trainer stops; '
                f'{self._kept()} and the last checkpoint is kept: free the disk and restart '
                'with the same output_dir to resume')

    @contextmanager
    def guard(self, what: str) -> Iterator[None]:
        """Turn an :class:`OSError` of ``what`` into a :class:`StorageError`.

        Once one happened it is raised at once: nothing is written after a failed write.
        """
        if self.message is not None:
            raise StorageError(self.message)
        try:
            yield
        except OSError as exc:
            self.fail(what, exc)
            raise StorageError(self.message) from exc
