# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Durable storage of an online run: an append-only transition log and atomic checkpoints.

A transition counts as *stored* only once it is fsynced in ``transitions.log``. Checkpoints
(agent state with optimizer and replay buffer, plus counters) are written atomically
(:mod:`robotrl_ros.util.durable`), and the one they replace is kept as the previous
generation: when the newest cannot be read, the run resumes from the previous one. After a
crash (even SIGKILL) the run resumes from the last readable checkpoint and re-feeds the
transitions logged after it, so no transition ever reported as stored is lost.

A failed write or fsync (a full disk) is final for the log: it raises :class:`OSError` then and
on every later write, never retries an fsync (after a failed one the kernel may report a later
one as successful without the data), and :meth:`TransitionLog.close` closes it without raising
again.

Log format: raw little-endian float64 rows of ``2 * obs_dim + action_dim + 8`` values
``[obs, action, action_index, reward, next_obs, terminated, truncated, success, stamp, episode,
crc]``; a trailing partial row (a write cut by a crash) is cut off when the log is opened, and
``crc`` (CRC-32 of the row's other values) rejects a torn last row.
"""

from __future__ import annotations

import logging
import os
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import torch

from robotrl_ros.tasks.spec import TaskSpec
from robotrl_ros.training.online.pairing import Transition
from robotrl_ros.util.durable import atomic_write_keeping_previous, fsync_dir

LOG_FILE = 'transitions.log'
CHECKPOINT_FILE = 'online_checkpoint.pt'
PREVIOUS_CHECKPOINT_FILE = 'online_checkpoint.previous.pt'
_EXTRA = 8  # action_index, reward, terminated, truncated, success, stamp, episode, crc
_log = logging.getLogger(__name__)


class StorageError(RuntimeError):
    """The run's durable storage failed (a full disk, a failed fsync): the session stopped.

    The message says what failed, where, and what is kept.
    """


def row_width(spec: TaskSpec) -> int:
    """Number of float64 values per logged transition."""
    return 2 * spec.obs_dim + spec.action_dim + _EXTRA


def encode(spec: TaskSpec, tr: Transition) -> np.ndarray:
    """One log row for ``tr``."""
    index = -1.0 if tr.action_index is None else float(tr.action_index)
    row = np.concatenate([
        np.asarray(tr.obs, np.float64), np.asarray(tr.action, np.float64),
        [index, tr.reward], np.asarray(tr.next_obs, np.float64),
        [float(tr.terminated), float(tr.truncated), float(tr.success), tr.stamp,
         float(tr.episode), 0.0]])
    row[-1] = _crc(row)
    return row


def _crc(row: np.ndarray) -> float:
    """CRC-32 of a row's values (all but the last) as an exactly representable float."""
    return float(zlib.crc32(np.ascontiguousarray(row[:-1], dtype='<f8').tobytes()))


def decode(spec: TaskSpec, row: np.ndarray) -> Transition:
    """Inverse of :func:`encode`."""
    o, a = spec.obs_dim, spec.action_dim
    index, reward = row[o + a], row[o + a + 1]
    tail = row[2 * o + a + 2:]
    return Transition(
        obs=row[:o].astype(np.float32), action=row[o:o + a].astype(np.float32),
        action_index=None if index < 0 else int(index), reward=float(reward),
        next_obs=row[o + a + 2:2 * o + a + 2].astype(np.float32), terminated=bool(tail[0]),
        truncated=bool(tail[1]), success=bool(tail[2]), stamp=float(tail[3]),
        episode=int(tail[4]))


class TransitionLog:
    """Append-only, fsynced transition log of one run directory.

    Args:
        run_dir: Output directory of the run (created if needed).
        spec: Task spec fixing the row layout.

    Raises:
        ValueError: If the existing log was written for another row layout (another task).
    """

    def __init__(self, run_dir: str | Path, spec: TaskSpec) -> None:
        self.spec = spec
        self.width = row_width(spec)
        self.path = Path(run_dir) / LOG_FILE
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.stored = self._recover()
        self._file = open(self.path, 'ab')
        fsync_dir(self.path.parent)
        self.appended = self.stored
        self.error: OSError | None = None

    def _recover(self) -> int:
        """Cut a torn tail and return the number of intact rows."""
        if not self.path.exists():
            return 0
        row_bytes = 8 * self.width
        size = self.path.stat().st_size
        rows = size // row_bytes
        data = np.fromfile(self.path, dtype='<f8', count=rows * self.width)
        data = data.reshape(rows, self.width)
        good = np.array([row[-1] == _crc(row) for row in data], dtype=bool)
        if rows and not good[:-1].all():
            bad = int(np.argmin(good))
            raise ValueError(f'{self.path}: row {bad} is corrupt (checksum mismatch) and not at '
                             f'the end; was it written for another task than '
                             f'{self.spec.name!r}?')
        if rows and not good[-1]:
            rows -= 1
        if rows * row_bytes != size:
            with open(self.path, 'r+b') as handle:
                handle.truncate(rows * row_bytes)
                os.fsync(handle.fileno())
        return rows

    def append(self, tr: Transition) -> None:
        """Buffer one transition (durable only after :meth:`sync`).

        Raises:
            OSError: If writing fails now or failed before (the log takes no more rows).
        """
        self._check()
        try:
            self._file.write(encode(self.spec, tr).astype('<f8').tobytes())
        except OSError as exc:
            self.error = exc
            raise
        self.appended += 1

    def sync(self) -> int:
        """Flush and fsync; returns the number of transitions now stored durably.

        Raises:
            OSError: If the flush or fsync fails now or failed before.
        """
        self._check()
        if self.appended != self.stored:
            try:
                self._file.flush()
                os.fsync(self._file.fileno())
            except OSError as exc:
                self.error = exc
                raise
            self.stored = self.appended
        return self.stored

    def _check(self) -> None:
        if self.error is not None:
            # The first error again (the log takes no more writes), naming the file.
            raise OSError(self.error.errno, self.error.strerror or str(self.error),
                          str(self.path))

    def read(self, start: int = 0) -> list[Transition]:
        """Stored transitions from row ``start`` on."""
        self.sync()
        data = np.fromfile(self.path, dtype='<f8', offset=8 * self.width * start)
        return [decode(self.spec, row) for row in data.reshape(-1, self.width)]

    def close(self) -> None:
        """Sync and close; after an earlier error only close (rows not stored are dropped).

        Raises:
            OSError: If the final sync fails (the file is closed all the same).
        """
        if self._file.closed:
            return
        try:
            if self.error is None:
                self.sync()
        finally:
            try:
                self._file.close()
            except OSError:
                pass  # the unsynced tail that failed to write: already reported


def save_checkpoint(run_dir: str | Path, payload: dict[str, Any]) -> Path:
    """Write ``payload`` (tensors and plain data) atomically; the last one becomes the previous.

    The newest checkpoint is renamed to the previous generation first, then the new one is
    written: a crash or a failed write in between leaves the previous generation, which
    :func:`load_checkpoint` falls back to.
    """
    run_dir = Path(run_dir)
    return atomic_write_keeping_previous(run_dir / CHECKPOINT_FILE,
                                         run_dir / PREVIOUS_CHECKPOINT_FILE,
                                         lambda handle: torch.save(payload, handle))


def load_checkpoint(run_dir: str | Path) -> dict[str, Any] | None:
    """The newest readable checkpoint of ``run_dir``, or None when there is none.

    Falls back to the previous generation (with a logged warning) when the newest is missing
    or corrupt.

    Raises:
        ValueError: If checkpoint files exist but none can be read.
    """
    run_dir = Path(run_dir)
    problems = []
    for name in (CHECKPOINT_FILE, PREVIOUS_CHECKPOINT_FILE):
        path = run_dir / name
        if not path.exists():
            continue
        try:
            payload = torch.load(path, map_location='cpu', weights_only=True)
        except Exception as exc:  # noqa: BLE001 - any decode failure means a corrupt file
            first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            problems.append(f'{path} is corrupt: {first_line}')
            continue
        if not isinstance(payload, dict) or 'agent' not in payload:
            problems.append(f'{path} is corrupt: not an online checkpoint')
            continue
        if problems:
            _log.warning('%s; resuming from the previous checkpoint %s', problems[0], path)
        return payload
    if problems:
        raise ValueError(f'online checkpoint unreadable: {"; ".join(problems)}')
    return None


def _warm_start_state(agent: Any, state: dict[str, Any]) -> dict[str, Any]:
    """``state`` as a new run starts from it: this run's settings, the old run's learning.

    An on-policy agent's partial rollout is replaced by ``agent``'s own (empty), and each
    optimizer keeps its moments but takes ``agent``'s hyperparameters (learning rate, betas ...):
    a fine-tune's configured learning rate, not the one the old run ended with.
    """
    own = agent.state_dict()
    state = dict(state)
    for key, value in state.items():
        mine = own.get(key)
        if _is_optimizer_state(value) and _is_optimizer_state(mine) \
                and len(value['param_groups']) == len(mine['param_groups']):
            groups = [{**old, **{k: v for k, v in new.items() if k != 'params'}}
                      for old, new in zip(value['param_groups'], mine['param_groups'],
                                          strict=True)]
            state[key] = {**value, 'param_groups': groups}
    key = getattr(agent, 'rollout_state_key', None)
    if key is not None and key in state:
        state[key] = own[key]
    return state


def _is_optimizer_state(value: Any) -> bool:
    """Whether ``value`` is a torch optimizer's ``state_dict()``."""
    return isinstance(value, dict) and isinstance(value.get('param_groups'), list) \
        and 'state' in value


def init_agent_state(agent: Any, path: str | Path) -> Path:
    """Load agent weights (and optimizer/buffers) from a previous run to fine-tune from.

    Accepts a ``robotrl train`` run directory (``checkpoints/last.pt``), a trainer output
    directory (``online_checkpoint.pt``) or a checkpoint file. An on-policy agent's partial
    rollout stays behind: it was collected by the old policy with the old run's number of envs
    (e.g. 32 in-process envs, where the trainer node steps one robot).

    Raises:
        ValueError: If no checkpoint is found or it holds no agent state.
    """
    path = Path(path)
    if path.is_dir() and not (path / 'checkpoints' / 'last.pt').is_file():
        payload = load_checkpoint(path)   # an online run: newest readable generation
        if payload is not None:
            agent.load_state_dict(_warm_start_state(agent, payload['agent']))
            return path / CHECKPOINT_FILE
    candidates = [path] if path.is_file() else [path / 'checkpoints' / 'last.pt',
                                                 path / CHECKPOINT_FILE]
    for candidate in candidates:
        if candidate.is_file():
            payload = torch.load(candidate, map_location='cpu', weights_only=True)
            if not isinstance(payload, dict) or 'agent' not in payload:
                raise ValueError(f'init_policy: {candidate} holds no agent state')
            agent.load_state_dict(_warm_start_state(agent, payload['agent']))
            return candidate
    raise ValueError(f'init_policy: no checkpoint in {path} (looked for '
                     f'{", ".join(str(c) for c in candidates)})')
