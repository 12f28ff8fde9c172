#!/usr/bin/env python3
# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Keep every CPU core busy while a command runs (``make test-stress``).

``python tools/cpu_burner.py -- python -m pytest test`` starts one busy-looping process per core
(``--procs`` to change), runs the command, and stops the burners when the command ends, however
it ends (exit, failure, SIGINT/SIGTERM to this process). Each burner also exits by itself as
soon as its parent is gone, so a burner never outlives a killed wrapper. The exit status is the
command's.

``python tools/cpu_burner.py`` without a command burns until interrupted.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence

#: Loop iterations between two checks that the parent is still alive.
_CHECK_EVERY = 200_000


def burn(parent: int) -> None:
    """Busy-loop until the process ``parent`` is gone (this process is re-parented)."""
    while os.getppid() == parent:
        for _ in range(_CHECK_EVERY):
            pass


def start_burners(count: int) -> list[subprocess.Popen]:
    """Start ``count`` busy processes, children of this one."""
    return [subprocess.Popen([sys.executable, os.path.abspath(__file__), '--burn-for',
                              str(os.getpid())], stdin=subprocess.DEVNULL)
            for _ in range(count)]


def stop_burners(burners: Sequence[subprocess.Popen]) -> None:
    """Kill every burner and reap it."""
    for proc in burners:
        if proc.poll() is None:
            proc.kill()
    for proc in burners:
        proc.wait()


def _raise_exit(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the command's exit status (or 128 + the signal that stopped it)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--procs', type=int, default=os.cpu_count() or 1,
                        help='busy processes to run (default: one per core)')
    parser.add_argument('--burn-for', type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument('command', nargs=argparse.REMAINDER,
                        help='command to run while the cores are busy (after --)')
    args = parser.parse_args(argv)
    if args.burn_for is not None:
        burn(args.burn_for)
        return 0
    if args.procs < 1:
        parser.error(f'--procs must be at least 1, got {args.procs}')
    command = args.command[1:] if args.command[:1] == ['--'] else args.command
    signal.signal(signal.SIGTERM, _raise_exit)
    burners: list[subprocess.Popen] = []
    child: subprocess.Popen | None = None
    started = time.monotonic()
    try:   # from here on a stop signal at any moment ends in the clean-up below
        burners.extend(start_burners(args.procs))
        print(f'cpu_burner: {args.procs} busy processes (pids '
              f'{", ".join(str(p.pid) for p in burners)})', file=sys.stderr, flush=True)
        if not command:
            while True:
                time.sleep(3600)
        # A signal while Popen runs would leave the started command unknown to the cleanup
        # below (it would outlive this process): hold stop signals until `child` is set. The
        # command itself starts with them unblocked.
        stop_signals = {signal.SIGTERM, signal.SIGINT}
        signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
        try:
            child = subprocess.Popen(
                command, preexec_fn=lambda: signal.pthread_sigmask(signal.SIG_UNBLOCK,
                                                                   stop_signals))
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, stop_signals)
        return child.wait()
    except KeyboardInterrupt:
        return 128 + signal.SIGINT
    finally:
        if child is not None and child.poll() is None:
            child.terminate()
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        stop_burners(burners)
        print(f'cpu_burner: stopped after {time.monotonic() - started:.0f} s',
              file=sys.stderr, flush=True)


if __name__ == '__main__':
    sys.exit(main())
