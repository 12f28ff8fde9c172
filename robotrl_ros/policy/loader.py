# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Loading policy updates off the control thread: newest request wins, failures keep the old.

:class:`ArtifactLoader` loads requested artifact directories in a background thread and hands
each valid one to a callback (the policy node offers it to its controller, which swaps it in
between two control steps). A load that takes longer than ``timeout`` is abandoned: its result,
if it ever comes, is dropped, and the next request starts in a fresh thread, so one stuck file
can never block later updates. :class:`ArtifactWatcher` notices when an artifact directory was
re-exported. Neither knows about ROS.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

from robotrl_ros.policy.artifact import METADATA_FILE, PolicyArtifact

#: The directory itself and the file every export rewrites (it holds the other files' hashes).
ARTIFACT_FILES = ('', METADATA_FILE)


class LoadTimeoutError(TimeoutError):
    """A load took longer than the loader's timeout and was abandoned."""


class ArtifactLoader:
    """Loads artifacts in a background thread; the newest requested path wins.

    Args:
        load: Loads one path (e.g. :func:`robotrl_ros.policy.artifact.load_artifact` with the
            node's trust settings); raises to refuse it.
        accept: Called with each loaded artifact (in the loader thread); may raise to reject it.
        rejected: Called with the error of a path that failed to load, was rejected or timed
            out.
        timeout: Seconds after which a load is abandoned (0: never).
    """

    def __init__(self, load: Callable[[str], PolicyArtifact],
                 accept: Callable[[PolicyArtifact], None],
                 rejected: Callable[[Exception], None], timeout: float = 0.0) -> None:
        self._load = load
        self._accept = accept
        self._rejected = rejected
        self._timeout = timeout
        self._lock = threading.Lock()
        self._next_path: str | None = None
        self._worker: threading.Thread | None = None
        self._generation = 0          # bumped when a stuck worker is abandoned
        self._loading: str | None = None
        self.abandoned = 0            # loads given up after the timeout

    def request(self, path: str) -> None:
        """Load ``path`` soon; a request made while one loads replaces any queued one."""
        with self._lock:
            self._next_path = path
            if self._worker is None:  # else the running worker picks the path up
                self._start_locked()

    def _start_locked(self) -> None:
        self._worker = threading.Thread(target=self._run, args=(self._generation,),
                                        name='artifact_loader', daemon=True)
        self._worker.start()

    def _run(self, generation: int) -> None:
        while True:
            with self._lock:
                if generation != self._generation:
                    return   # abandoned: a newer worker owns the queue
                path, self._next_path = self._next_path, None
                if path is None:
                    self._worker = None
                    return
                self._loading = path
            timer = None
            if self._timeout > 0:
                timer = threading.Timer(self._timeout, self._on_timeout, (generation, path))
                timer.daemon = True
                timer.start()
            try:
                artifact, error = self._load(path), None
            except Exception as exc:  # noqa: BLE001 - any failure: keep the running policy
                artifact, error = None, exc
            finally:
                if timer is not None:
                    timer.cancel()
            with self._lock:
                if generation != self._generation:
                    return   # timed out meanwhile: the result is dropped
                self._loading = None
            try:
                if error is not None:
                    raise error
                self._accept(artifact)
            except Exception as exc:  # noqa: BLE001
                self._rejected(exc)

    def _on_timeout(self, generation: int, path: str) -> None:
        with self._lock:
            if generation != self._generation or self._loading != path:
                return
            self._generation += 1
            self._loading = None
            self.abandoned += 1
            self._worker = None
            if self._next_path is not None:
                self._start_locked()
        self._rejected(LoadTimeoutError(f'policy artifact {path}: loading took more than '
                                        f'{self._timeout} s (artifact_load_timeout); abandoned'))


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


def trusted_artifact_dirs(configured: list[str], policy_path: str) -> list[str]:
    """Where update paths may resolve to: the configured directories, or else ``policy_path``'s.

    ``policy_path`` itself (the operator's artifact, reloaded by ``watch_policy_file``) is
    always accepted. Without either there is none: every update is refused.
    """
    trusted = list(configured)
    if policy_path:
        real = os.path.realpath(policy_path)
        trusted.append(real if configured else os.path.dirname(real))
    return trusted
