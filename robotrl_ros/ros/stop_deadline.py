# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""A bounded stop: a node process that hangs on its way out prints every stack and exits.

After a stop request (SIGINT/SIGTERM) the node runner (:mod:`robotrl_ros.ros.node_runner`)
goes through three phases, and this watchdog bounds the two that only rclpy and DDS code runs
(a stop that arrives while the node is being built waits for the build, unbounded):

- ``stopping``: from the signal to the end of the spin loop (one ``spin_once`` normally). A
  callback or the executor that hangs here would keep the node alive until its supervisor
  kills it (``robotrl up``: SIGKILL 35 s after SIGINT), exit code -9 and no hint of where.
  Past ``stopping_s`` the stacks go to stderr and the process exits 1: the node is not closed.
- ``closing``: :meth:`RunnableNode.close` (the trainer saves its checkpoint). Not bounded: it
  takes what it takes.
- ``teardown``: ``destroy_node`` and ``rclpy.shutdown``. Everything the node owns is closed by
  then; past ``teardown_s`` the stacks go to stderr and the process exits with the node's own
  code.

The signal is seen through :func:`robotrl_ros.ros.stop_request.wait_for_stop`, which also works
while the main thread is stuck in C code (where Python signal handlers cannot run); and
``faulthandler`` prints the stacks from C one second after the deadline in case this thread
cannot run either (the GIL held by the hung call).
"""

from __future__ import annotations

import faulthandler
import os
import sys
import threading
import time

from robotrl_ros.ros.stop_request import wait_for_stop

#: Seconds from a stop request to the end of the spin loop, and for the rclpy teardown.
STOPPING_S, TEARDOWN_S = 20.0, 5.0
EXIT_FAILURE = 1
_POLL_S = 0.1
#: While the node runs, a signal wakes the watcher at once; this only bounds how late it sees
#: the node finishing by itself. Long, so the watcher rarely takes the GIL from a control loop.
_RUNNING_POLL_S = 1.0
_BOUNDED = ('stopping', 'teardown')


class StopDeadline:
    """Watches one :func:`run_node` from a daemon thread (started on construction).

    Args:
        name: The executable's name (prefix of the message on stderr).
        stopping_s: Bound of the ``stopping`` phase.
        teardown_s: Bound of the ``teardown`` phase.
    """

    def __init__(self, name: str, stopping_s: float = STOPPING_S,
                 teardown_s: float = TEARDOWN_S) -> None:
        self.name = name
        self.bounds = {'stopping': stopping_s, 'teardown': teardown_s}
        self.phase = 'starting'
        self.code = 0
        self._since = time.monotonic()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._watch, name='stop-deadline', daemon=True)
        self._thread.start()

    def enter(self, phase: str, code: int = 0, *, only_from: str | None = None) -> None:
        """The runner moved on: ``running``, ``closing``, ``teardown`` (with its code), ``done``.

        ``running``: the node is built (a stop before that waits for the build, unbounded).
        ``only_from``: change only while in that phase (the watcher's ``running`` → ``stopping``
        must not undo a ``closing`` the runner entered meanwhile).
        """
        with self._lock:
            if self.phase == 'done' or (only_from is not None and self.phase != only_from):
                return
            self.phase, self.code, self._since = phase, code, time.monotonic()
            faulthandler.cancel_dump_traceback_later()
            if phase in _BOUNDED:
                faulthandler.dump_traceback_later(self.bounds[phase] + 1.0, file=sys.__stderr__)

    def _watch(self) -> None:
        while self.phase in ('starting', 'running'):
            if self.phase == 'starting':        # the node is being built: not bounded
                time.sleep(_POLL_S)
            elif wait_for_stop(_RUNNING_POLL_S):
                self.enter('stopping', only_from='running')
        while True:
            with self._lock:
                phase, since = self.phase, self._since
            if phase == 'done':
                return
            if phase in _BOUNDED and time.monotonic() - since > self.bounds[phase]:
                self._expire(phase)
            time.sleep(_POLL_S)

    def _expire(self, phase: str) -> None:
        faulthandler.cancel_dump_traceback_later()
        faulthandler.dump_traceback(file=sys.__stderr__, all_threads=True)
        bound = self.bounds[phase]
        if phase == 'stopping':
            code = EXIT_FAILURE
            what = (f'still spinning {bound:g} s after the stop request (a callback or the '
                    'executor hangs: stacks above); exiting 1 without closing the node')
        else:
            code = self.code
            what = (f'rclpy teardown (destroy_node, shutdown) did not return within {bound:g} s '
                    f'(stacks above); the node is closed: exiting with its code {code}')
        print(f'{self.name}: {what}', file=sys.stderr, flush=True)
        os._exit(code)
