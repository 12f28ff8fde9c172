# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""An :class:`~robotrl_ros.training.vec_env.EnvBatch` stepped by worker processes.

Simulators such as MuJoCo spend most of a PPO run stepping envs (the quadruped: about half of
the CPU time). With ``env_workers: W`` in the training config, the ``n_envs`` envs are split into
W contiguous slices, each stepped by its own process while the others step theirs; the agent
stays in the training process. Results are the same as stepping in process: env ``i`` is still
seeded with ``seed + i`` and the slices are put back together in env order.
A batch of either kind (:class:`EnvBatch` or :class:`LocomotionEnvBatch`) is split through
its ``part`` method.

Workers are started with ``forkserver`` (``spawn`` where unavailable), never plain ``fork``, so
they do not inherit the trainer's torch threads. They ignore SIGINT: Ctrl-C reaches the trainer,
which stops them in :meth:`SubprocEnvBatch.close`. A checkpoint pickles every worker's envs
(simulator state and RNGs), and unpickling starts new workers from them.
"""

from __future__ import annotations

import multiprocessing as mp
import pickle
import signal
import traceback
from collections.abc import Sequence
from multiprocessing.connection import Connection
from typing import Any

import numpy as np

from robotrl_ros.training.vec_env import EnvBatch, LocomotionEnvBatch

#: Exception types re-raised as themselves in the trainer (others become RuntimeError).
_PASS_THROUGH = {cls.__name__: cls for cls in (FloatingPointError, ValueError, TypeError)}


def _worker(conn: Connection, blob: bytes) -> None:
    """Serve one slice of envs: ``(command, argument)`` in, ``(ok, result)`` out."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    batch: EnvBatch | LocomotionEnvBatch = pickle.loads(blob)  # noqa: S301 - written by the parent process
    while True:
        try:
            command, argument = conn.recv()
        except (EOFError, OSError):  # the trainer is gone
            return
        try:
            if command == 'step':
                result: Any = batch.step(argument)
            elif command == 'reset':
                result = batch.reset(argument)
            elif command == 'pickle':
                result = pickle.dumps(batch)
            elif command == 'close':
                batch.close()
                conn.send((True, None))
                return
            else:
                raise ValueError(f'unknown command {command!r}')
            conn.send((True, result))
        except Exception as exc:  # noqa: BLE001 - reported to the trainer, which raises it
            conn.send((False, (type(exc).__name__, str(exc), traceback.format_exc())))


class SubprocEnvBatch:
    """Same interface as :class:`EnvBatch`; the envs live in ``n_workers`` processes.

    Args:
        batch: The envs to distribute (its env ``i`` keeps global index ``i``).
        n_workers: Processes to use, 1 to ``batch.n_envs``.

    The parent keeps a one-env part of the batch (:attr:`envs` reads it: spaces, task spec,
    robot; never stepped here); a checkpoint pickles it as that batch pickles itself (a
    :class:`LocomotionEnvBatch` by configuration).
    """

    def __init__(self, batch: EnvBatch | LocomotionEnvBatch, n_workers: int) -> None:
        if not 1 <= n_workers <= batch.n_envs:
            raise ValueError(f'env_workers must be between 1 and n_envs={batch.n_envs}, got '
                             f'{n_workers}')
        self.task = batch.task
        self._head = batch.part(slice(0, 1))
        self.n_envs = batch.n_envs
        self.observation_space = batch.observation_space
        self.action_space = batch.action_space
        bounds = np.linspace(0, self.n_envs, n_workers + 1).round().astype(int)
        self.slices = [slice(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
        blobs = [pickle.dumps(batch.part(s)) for s in self.slices]
        self._start(blobs)

    @property
    def envs(self) -> list[Any]:
        """The parent's copy of the first env (for spaces and the task spec)."""
        return self._head.envs

    def _start(self, blobs: Sequence[bytes]) -> None:
        methods = mp.get_all_start_methods()
        context = mp.get_context('forkserver' if 'forkserver' in methods else 'spawn')
        self._conns: list[Connection] = []
        self._procs: list[Any] = []
        for blob in blobs:
            parent, child = context.Pipe()
            proc = context.Process(target=_worker, args=(child, blob), daemon=True)
            proc.start()
            child.close()
            self._conns.append(parent)
            self._procs.append(proc)
        self.closed = False

    # --- the EnvBatch interface ---------------------------------------------------------------
    def reset(self, seed: int) -> np.ndarray:
        """Reset every env (env ``i`` seeded with ``seed + i``) and return the observations."""
        return np.concatenate(self._call_all('reset', [seed + s.start for s in self.slices]))

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                                                 np.ndarray, list[bool | None]]:
        """Step each env with its action (see :meth:`EnvBatch.step`)."""
        actions = np.asarray(actions)
        parts = self._call_all('step', [actions[s] for s in self.slices])
        success: list[bool | None] = []
        for part in parts:
            success.extend(part[5])
        return (*(np.concatenate([part[k] for part in parts]) for k in range(5)), success)

    def close(self) -> None:
        """Stop the workers (closing their envs); safe to call twice."""
        if getattr(self, 'closed', True):
            return
        self.closed = True
        self._head.close()
        for conn, proc in zip(self._conns, self._procs, strict=True):
            try:
                conn.send(('close', None))
                if conn.poll(10.0):
                    conn.recv()
            except (EOFError, OSError):
                pass
            proc.join(timeout=5.0)
            if proc.is_alive():
                proc.terminate()
                proc.join(timeout=5.0)
            conn.close()

    def __del__(self) -> None:
        self.close()

    # --- checkpoints --------------------------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        blobs = self._call_all('pickle', [None] * len(self.slices))
        return {'task': self.task, '_head': self._head, 'n_envs': self.n_envs,
                'observation_space': self.observation_space, 'action_space': self.action_space,
                'slices': self.slices, 'blobs': blobs}

    def __setstate__(self, state: dict[str, Any]) -> None:
        blobs = state.pop('blobs')
        if 'envs' in state:  # a checkpoint written before the head existed
            state['_head'] = EnvBatch(state.pop('envs')[:1], state['task'])
        self.__dict__.update(state)
        self._start(blobs)

    # --- plumbing -----------------------------------------------------------------------------
    def _call_all(self, command: str, arguments: Sequence[Any]) -> list[Any]:
        """Send one command to every worker, then collect every answer (errors last)."""
        if self.closed:
            raise RuntimeError(f'task {self.task!r}: the env workers are closed')
        sent = []
        for conn, argument in zip(self._conns, arguments, strict=True):
            try:
                conn.send((command, argument))
                sent.append(True)
            except OSError:  # a dead worker's pipe: reported below
                sent.append(False)
        answers, error = [], None
        for index, conn in enumerate(self._conns):
            try:
                if not sent[index]:
                    raise EOFError
                ok, result = conn.recv()
            except (EOFError, OSError):
                proc = self._procs[index]
                proc.join(timeout=1.0)
                span = self.slices[index]
                error = error or RuntimeError(
                    f'task {self.task!r}: env worker {index} (envs {span.start}-{span.stop - 1}) '
                    f'exited unexpectedly (exit code {proc.exitcode})')
                continue
            if not ok:
                name, message, trace = result
                error = error or _PASS_THROUGH.get(name, RuntimeError)(
                    message if name in _PASS_THROUGH else
                    f'task {self.task!r}: env worker {index} raised {name}: {message}\n{trace}')
                continue
            answers.append(result)
        if error is not None:
            raise error
        return answers


def in_workers(batch: EnvBatch | LocomotionEnvBatch,
               workers: int) -> EnvBatch | LocomotionEnvBatch | SubprocEnvBatch:
    """``batch`` stepped by ``workers`` processes, or ``batch`` itself when ``workers < 1``.

    Raises:
        ValueError: If ``workers`` exceeds the batch's number of envs.
    """
    if workers < 1:
        return batch
    return SubprocEnvBatch(batch, workers)
