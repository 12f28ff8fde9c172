# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""A session's recordings (``record_mcap``): one MCAP file per source.

A single robot is recorded to ``recording_<time>.mcap``; a fleet (several sources) to one file
per source, ``recording_<time>_<namespace>.mcap`` (``/`` of a nested namespace as ``_``), each
holding that robot's streams under its namespaced topic names. Each file is a plain
single-robot recording: Foxglove and ``ros2 bag`` open it, ``replay_mcap`` and ``robotrl
replay`` train from it, and ``robotrl mcap-recover`` repairs it after a crash. One file per
source keeps a replay from mixing two robots' episodes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from robotrl_ros.training.online.recording import McapRecorder


def new_recording_path(out: Path, source: str = '', stem: str | None = None) -> Path:
    """``recording_<time>[_<source>].mcap`` in ``out``, never an existing file.

    A restart within the same second after a crash must not truncate the recording it cut.
    """
    stem = stem or f'recording_{time.strftime("%Y%m%d_%H%M%S")}'
    label = source.strip('/').replace('/', '_')
    stem = f'{stem}_{label}' if label else stem
    path, n = out / f'{stem}.mcap', 1
    while path.exists():
        path, n = out / f'{stem}_{n}.mcap', n + 1
    return path


class SourceRecordings:
    """The open recording of each source; a failed one is closed and reported.

    Not thread-safe: the session calls it under its stream lock.

    Args:
        out: Run directory.
        topics: Each source's recorded topic names (see :class:`McapRecorder`).
        flush_period: Most seconds a recorded message waits to be on disk.
        on_failure: Called with what failed (naming the file) and the error; the session stops.
    """

    def __init__(self, out: Path, topics: dict[str, dict[str, str]], flush_period: float,
                 on_failure: Callable[[str, OSError], None]) -> None:
        stem = f'recording_{time.strftime("%Y%m%d_%H%M%S")}'
        self._on_failure = on_failure
        self.recorders: dict[str, McapRecorder] = {}
        try:
            for source, names in topics.items():
                self.recorders[source] = McapRecorder(
                    new_recording_path(out, source if len(topics) > 1 else '', stem), names,
                    flush_period)
        except BaseException:
            self.close()
            raise

    def record(self, source: str, write: Callable[[McapRecorder], None]) -> None:
        """Write a message of ``source``; a failed write closes its recording and reports it."""
        recorder = self.recorders.get(source)
        if recorder is None:
            return   # none, or closed after a failure
        try:
            write(recorder)
        except OSError as exc:
            self._on_failure(f'recording to {recorder.path}', exc)
            recorder.close()   # after an error: closes the file, raises nothing
            del self.recorders[source]

    def close(self) -> None:
        """Finish and close every recording; a failure is reported, the others still close."""
        for source, recorder in list(self.recorders.items()):
            try:
                recorder.close()
            except OSError as exc:
                self._on_failure(f'finishing the recording {recorder.path}', exc)
            del self.recorders[source]
