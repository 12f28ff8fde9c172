# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Loading policy updates off the control thread: newest request wins, failures keep the old.

:class:`ArtifactLoader` loads requested artifact directories in one background thread and hands
each valid one to a callback (the policy node offers it to its controller, which swaps it in
between two control steps); :class:`ArtifactWatcher` notices when an artifact directory was
re-exported. Neither knows about ROS.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

from robotrl_ros.policy.artifact import PolicyArtifact, load_artifact

ARTIFACT_FILES = ('', 'policy.pt', 'policy.yaml')


class ArtifactLoader:
    """Loads artifacts in a background thread; the newest requested path wins.

    Args:
        accept: Called with each loaded artifact (in the loader thread); may raise to reject it.
        rejected: Called with the error of a path that failed to load or was rejected.
    """

    def __init__(self, accept: Callable[[PolicyArtifact], None],
                 rejected: Callable[[Exception], None]) -> None:
        self._accept = accept
        self._rejected = rejected
        self._lock = threading.Lock()
        self._next_path: str | None = None
        self._worker: threading.Thread | None = None

    def request(self, path: str) -> None:
        """Load ``path`` soon; a request made while one loads replaces any queued one."""
        with self._lock:
            self._next_path = path
            if self._worker is None:  # else the running worker picks the path up
                self._worker = threading.Thread(target=self._run, name='artifact_loader',
                                                daemon=True)
                self._worker.start()

    def _run(self) -> None:
        while True:
            with self._lock:
                path, self._next_path = self._next_path, None
                if path is None:
                    self._worker = None
                    return
            try:
                self._accept(load_artifact(path))
            except Exception as exc:  # noqa: BLE001 - any failure: keep the running policy
                self._rejected(exc)


class ArtifactWatcher:
    """Tells when the files of an artifact directory changed (inode, mtime or size)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._key = self._file_key()

    def _file_key(self) -> tuple | None:
        try:
            stats = [os.stat(Path(self.path) / name) for name in ARTIFACT_FILES]
        except OSError:
            return None
        return tuple((s.st_ino, s.st_mtime_ns, s.st_size) for s in stats)

    def changed(self) -> bool:
        """Whether the files differ from the last call's (a missing directory: no change)."""
        key = self._file_key()
        if key is None or key == self._key:
            return False
        self._key = key
        return True
