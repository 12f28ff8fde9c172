# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The one process manager of node graphs: command lines, start, signals, stop, exit status.

Every place that runs nodes as processes (``robotrl up``, ``make run``, the end-to-end tests and
the benchmarks) builds its command lines with :func:`node_command` and runs them as a
:class:`ProcessGroup`::

    group = ProcessGroup({'sim_bridge': node_command('sim_bridge', parameters={'seed': 3})},
                         log_dir=Path('runs/x/logs'))
    with group.forward_signals():
        group.start()
        status = group.wait()   # 0 only if every process exited with 0

A group stops all its processes when one of them exits or a stop is requested (SIGINT/SIGTERM
forwarded by :meth:`ProcessGroup.forward_signals`, or :meth:`ProcessGroup.request_stop`):
SIGINT, then SIGTERM, then SIGKILL, each after its grace period; a further stop request skips
the rest of the current grace period. A group of this package's nodes (``await_stop_handlers``)
sends its SIGINT to a process only once that process handles it: a node started a moment before
the stop request would otherwise die in its interpreter's start-up (a KeyboardInterrupt, not
exit 0). Pure Python: no rclpy import here.
"""

from __future__ import annotations

import contextlib
import json
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from robotrl_ros.ros.stop_request import STACK_DUMP_SIGNAL

PACKAGE = 'robotrl_ros'
#: Seconds a process gets after SIGINT, then after SIGTERM, then after SIGKILL.
STOP_TIMEOUTS = (30.0, 5.0, 5.0)
_STACK_DUMP_S = 0.5
_POLL_S = 0.05


class StartError(RuntimeError):
    """A process of a group could not be started (no such executable, no permission)."""


def handles_signal(pid: int, sig: int = signal.SIGTERM) -> bool:
    """Whether process ``pid`` catches or ignores ``sig`` (from ``/proc/<pid>/status``).

    True where it cannot be told (no ``/proc``) or the process is gone.
    """
    try:
        text = Path(f'/proc/{pid}/status').read_text()
    except OSError:
        return True
    masks = dict(line.split(':', 1) for line in text.splitlines() if line.startswith('Sig'))
    try:
        handled = int(masks['SigCgt'], 16) | int(masks['SigIgn'], 16)
    except (KeyError, ValueError):
        return True
    return bool(handled & (1 << (sig - 1)))


def handles_stop_signals(pid: int) -> bool:
    """Whether process ``pid`` catches or ignores SIGTERM, which Python does not by default.

    A node process installs its stop handlers (:mod:`robotrl_ros.ros.stop_request`) for SIGINT
    and SIGTERM together, so this tells that SIGINT will be a stop request and not a
    KeyboardInterrupt. True where it cannot be told (no ``/proc``) or the process is gone.
    """
    return handles_signal(pid, signal.SIGTERM)


def ament_prefix() -> Path | None:
    """Install prefix of the package in the ament index (a colcon/ROS install), else None."""
    try:
        from ament_index_python.packages import get_package_prefix
        return Path(get_package_prefix(PACKAGE))
    except Exception:  # noqa: BLE001 - no ament index or not indexed (plain pip install)
        return None


def node_executable(name: str) -> list[str]:
    """Command prefix running node ``name``.

    The console script next to this interpreter (venv/pip install), else the one in the ament
    install's ``lib/robotrl_ros`` (colcon/ROS install), else ``python -m robotrl_ros.nodes.X``.
    """
    dirs = [Path(sys.executable).parent]
    prefix = ament_prefix()
    if prefix is not None:
        dirs.append(prefix / 'lib' / PACKAGE)
    for directory in dirs:
        exe = shutil.which(name, path=str(directory))
        if exe:
            return [exe]
    return [sys.executable, '-m', f'{PACKAGE}.nodes.{name}']


def ros_value(value: Any) -> str:
    """A parameter value as ``--ros-args -p name:=value`` text (typed like YAML)."""
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return '[' + ','.join(ros_value(v) for v in value) + ']'
    return str(value) if value != '' else "''"  # YAML for the empty string


def node_command(node: str | Sequence[str], *, name: str = '', namespace: str = '',
                 remaps: Sequence[str] = (), params_files: Sequence[str | Path] = (),
                 parameters: Mapping[str, Any] | None = None, rules: Sequence[str] = (),
                 log_level: str = '') -> list[str]:
    """Command line of one node: executable, then ``--ros-args`` in a fixed order.

    Args:
        node: Node executable name (resolved by :func:`node_executable`) or a full command
            prefix (e.g. ``[python, script.py]``).
        name: ``-r __node:=name`` ('' = the node's own name).
        namespace: ``-r __ns:=/namespace`` ('' = root namespace).
        remaps: Further ``-r`` rules (``from:=to``).
        params_files: ``--params-file`` YAML files, later ones override earlier ones.
        parameters: ``-p name:=value`` overrides, typed by :func:`ros_value`.
        rules: ``-p`` rules given as text already (``name:=value``).
        log_level: ``--log-level`` ('' = the default).
    """
    cmd = node_executable(node) if isinstance(node, str) else list(node)
    cmd.append('--ros-args')
    if name:
        cmd += ['-r', f'__node:={name}']
    if namespace:
        cmd += ['-r', f'__ns:=/{namespace.strip("/")}']
    for remap in remaps:
        cmd += ['-r', remap]
    for path in params_files:
        cmd += ['--params-file', str(path)]
    for key, value in (parameters or {}).items():
        cmd += ['-p', f'{key}:={ros_value(value)}']
    for rule in rules:
        cmd += ['-p', rule]
    if log_level:
        cmd += ['--log-level', log_level]
    return cmd


class ProcessGroup:
    """Processes that run together and stop together.

    Args:
        commands: ``{name: command line}``, started in this order.
        env: Environment of every process (None = inherit).
        log_dir: Each process writes stdout and stderr to ``<log_dir>/<name>.log``
            (None = inherit this process's streams).
        label: Prefix of the messages on stderr (``[label] ...``).
        stop_timeouts: Grace periods after SIGINT, SIGTERM and SIGKILL (:data:`STOP_TIMEOUTS`).
        announce: Stream for one ``started <name> (pid N): <command>`` line per process
            (None = silent).
        await_stop_handlers: Send the first SIGINT to a process only once it handles SIGTERM
            (:func:`handles_stop_signals`), within the SIGINT grace period: for processes that
            install stop handlers early (this package's nodes).
    """

    def __init__(self, commands: Mapping[str, Sequence[str]], *,
                 env: Mapping[str, str] | None = None, log_dir: Path | None = None,
                 label: str = 'graph',
                 stop_timeouts: tuple[float, float, float] = STOP_TIMEOUTS,
                 announce: TextIO | None = None, await_stop_handlers: bool = False) -> None:
        if not commands:
            raise ValueError(f'[{label}] no processes to start')
        self.commands = {name: list(cmd) for name, cmd in commands.items()}
        self.env = dict(env) if env is not None else None
        self.log_dir = log_dir
        self.label = label
        self.stop_timeouts = stop_timeouts
        self.announce = announce
        self.await_stop_handlers = await_stop_handlers
        self.procs: dict[str, subprocess.Popen] = {}
        self.stop_requests = 0
        self.first_exit: str | None = None

    # --- start ---------------------------------------------------------------------------------
    def start(self) -> None:
        """Start every process in its own session, so only this group delivers signals to it.

        Raises:
            StartError: A command could not be started; the ones already started are stopped.
        """
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
        for name, cmd in self.commands.items():
            try:
                self.procs[name] = self._popen(name, cmd)
            except OSError as exc:
                self.stop()
                raise StartError(f'[{self.label}] cannot start {name}: {cmd[0]!r}: '
                                 f'{exc.strerror or exc}') from exc
            if self.announce is not None:
                print(f'[{self.label}] started {name} (pid {self.procs[name].pid}): '
                      f'{shlex.join(cmd)}', file=self.announce, flush=True)

    def _popen(self, name: str, cmd: list[str]) -> subprocess.Popen:
        if self.log_dir is None:
            return subprocess.Popen(cmd, env=self.env, start_new_session=True)
        with open(self.log_path(name), 'w') as log:
            return subprocess.Popen(cmd, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True)

    def log_path(self, name: str) -> Path:
        """Log file of process ``name``.

        Raises:
            ValueError: The group inherits this process's streams (no ``log_dir``).
        """
        if self.log_dir is None:
            raise ValueError(f'[{self.label}] has no log_dir: output goes to the terminal')
        return self.log_dir / f'{name}.log'

    # --- run -----------------------------------------------------------------------------------
    def request_stop(self, signum: int = signal.SIGINT, _frame: object = None) -> None:
        """Ask the group to stop (usable as a signal handler).

        While running, :meth:`run_until` returns; while stopping, the rest of the current grace
        period is skipped (Ctrl-C again: SIGINT, then SIGTERM, then SIGKILL).
        """
        self.stop_requests += 1

    @contextlib.contextmanager
    def forward_signals(self) -> Iterator[ProcessGroup]:
        """Within the block, SIGINT and SIGTERM to this process stop the group (main thread)."""
        previous = {sig: signal.signal(sig, self.request_stop)
                    for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield self
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def run_until(self, until: Callable[[], bool] | None = None,
                  poll_s: float = _POLL_S) -> str | None:
        """Block until a stop request, a process exit or ``until()`` returns True.

        Returns:
            The name of the process that exited first, or None (stop request or ``until``).
        """
        while not self.stop_requests:
            self.first_exit = next((n for n, p in self.procs.items() if p.poll() is not None),
                                   None)
            if self.first_exit is not None or (until is not None and until()):
                break
            time.sleep(poll_s)
        return self.first_exit

    def stop(self) -> None:
        """Stop every running process: SIGINT, then SIGTERM, then SIGKILL after the graces."""
        for sig, grace in zip((signal.SIGINT, signal.SIGTERM, signal.SIGKILL),
                              self.stop_timeouts, strict=True):
            alive = [p for p in self.procs.values() if p.poll() is None]
            if not alive:
                return
            requests, deadline = self.stop_requests, time.monotonic() + grace
            if sig == signal.SIGINT and self.await_stop_handlers:
                while (time.monotonic() < deadline and self.stop_requests == requests
                       and not all(p.poll() is not None or handles_stop_signals(p.pid)
                                   for p in alive)):
                    time.sleep(_POLL_S)
            if sig == signal.SIGKILL:
                self._dump_stacks()
            for proc in alive:
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(sig)
            while (time.monotonic() < deadline and self.stop_requests == requests
                   and any(p.poll() is None for p in alive)):
                time.sleep(_POLL_S)

    def _dump_stacks(self) -> None:
        """Name each process about to be killed; a node prints its threads' stacks first."""
        dumped = False
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                continue
            print(f'[{self.label}] {name} did not stop within '
                  f'{sum(self.stop_timeouts[:2]):g} s after SIGINT and SIGTERM; killing it',
                  file=sys.stderr, flush=True)
            if handles_signal(proc.pid, STACK_DUMP_SIGNAL) and proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(STACK_DUMP_SIGNAL)   # its stacks go to its own output
                dumped = True
        if dumped:
            time.sleep(_STACK_DUMP_S)

    def returncodes(self) -> dict[str, int | None]:
        """Exit code of every started process (None while running)."""
        return {name: proc.poll() for name, proc in self.procs.items()}

    def exit_status(self) -> int:
        """0 if every process exited with 0, else 1 (each failure is named on stderr)."""
        failed = {n: c for n, c in self.returncodes().items() if c != 0}
        for name, code in failed.items():
            state = 'is still running' if code is None else f'failed with exit code {code}'
            print(f'[{self.label}] {name} {state}', file=sys.stderr, flush=True)
        return 1 if failed else 0

    def wait(self, until: Callable[[], bool] | None = None) -> int:
        """Run until a stop request, a process exit or ``until()``; stop all; exit status."""
        first = self.run_until(until)
        if first is not None:
            print(f'[{self.label}] {first} exited with code {self.procs[first].returncode}; '
                  'stopping the other nodes', file=sys.stderr, flush=True)
        self.stop()
        return self.exit_status()

    def __enter__(self) -> ProcessGroup:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def run_to_completion(commands: Mapping[str, Sequence[str]], finisher: str, timeout_s: float, *,
                      env: Mapping[str, str] | None = None, label: str = 'graph',
                      stop_timeouts: tuple[float, float, float] = (20.0, 5.0, 5.0)) -> str:
    """Run a group until its process ``finisher`` (a measuring client) exits; its output.

    The other processes (the nodes it measures) are then stopped. Logs go to a temporary
    directory; the failing process's log tail is in the error.

    Raises:
        RuntimeError: Another process exited first, ``finisher`` exited non-zero, or nothing
            exited within ``timeout_s``.
        StartError: A command could not be started.
    """
    if finisher not in commands:
        raise ValueError(f'[{label}] finisher {finisher!r} is not one of {list(commands)}')
    with tempfile.TemporaryDirectory(prefix=f'{label.replace(" ", "_")}_') as tmp:
        group = ProcessGroup(commands, env=env, log_dir=Path(tmp), label=label,
                             stop_timeouts=stop_timeouts)
        deadline = time.monotonic() + timeout_s
        with group:
            first = group.run_until(lambda: time.monotonic() > deadline)
        if first is None:
            raise RuntimeError(f'[{label}] {finisher} did not finish within {timeout_s:g} s; '
                               f'its output: {group.log_path(finisher).read_text()[-1000:]}')
        if first != finisher or group.procs[first].returncode != 0:
            raise RuntimeError(f'[{label}] {first} exited with code '
                               f'{group.procs[first].returncode}: '
                               f'{group.log_path(first).read_text().strip()[-1500:]}')
        return group.log_path(finisher).read_text()


def last_json_line(output: str) -> dict[str, Any]:
    """The last line of ``output`` that is a JSON object (a client's result among log lines).

    Raises:
        ValueError: No such line; the output's tail is in the message.
    """
    for line in reversed(output.splitlines()):
        if line.startswith('{'):
            return json.loads(line)
    raise ValueError(f'no JSON line in the output: {output[-500:]!r}')
