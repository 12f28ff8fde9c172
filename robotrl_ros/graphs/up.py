# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""``robotrl up``: start a launch graph's nodes as processes, without ``ros2 launch``.

``robotrl up train_sim --set task:=reach --set namespace:=robot1`` starts the nodes of
``launch/train_sim.launch.py`` with the same ``config/train_sim.yaml`` and the same argument
mapping (:mod:`robotrl_ros.graphs.definitions`), each as
``<node> --ros-args -r __node:=<node> -r __ns:=/<ns> --params-file <yaml> ...``.
SIGINT/SIGTERM are forwarded to every node; when one node exits, the others are stopped; the exit
status is 0 only if every node exited with 0.

``--set`` takes a launch argument (``task:=reach``) or one node parameter
(``sim_bridge.lockstep:=false``, value parsed as YAML by the node, like ``ros2 run -p``).
Pure Python: no rclpy import here.
"""

from __future__ import annotations

import argparse
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from robotrl_ros.graphs.definitions import GRAPHS, Graph, get_graph, parameter_overrides

PACKAGE = 'robotrl_ros'
_NAMESPACE = re.compile(r'[A-Za-z_][A-Za-z0-9_]*(/[A-Za-z_][A-Za-z0-9_]*)*')
#: rclpy's sim-time source subscribes to the absolute /clock; each graph's sim bridge publishes
#: the relative ``clock``, so under a namespace every node must read <ns>/clock instead.
CLOCK_REMAP = '/clock:=clock'
STOP_TIMEOUT = 30.0  # s after SIGINT before SIGTERM (the trainer saves a checkpoint first)


def _ament_prefix() -> Path | None:
    """Install prefix of the package in the ament index (a colcon/ROS install), else None."""
    try:
        from ament_index_python.packages import get_package_prefix
        return Path(get_package_prefix(PACKAGE))
    except Exception:  # noqa: BLE001 - no ament index or not indexed (plain pip install)
        return None


def find_config(file_name: str) -> Path:
    """Path of ``config/<file_name>``: the source tree first, then the installed share dir.

    Raises:
        FileNotFoundError: Not found anywhere; the message lists the places searched.
    """
    candidates = [Path(__file__).resolve().parents[2] / 'config' / file_name]
    prefix = _ament_prefix()
    if prefix is not None:
        candidates.append(prefix / 'share' / PACKAGE / 'config' / file_name)
    candidates.append(Path(sys.prefix) / 'share' / PACKAGE / 'config' / file_name)
    for path in candidates:
        if path.is_file():
            return path
    raise FileNotFoundError(f'config/{file_name} not found; looked in: '
                            f'{", ".join(str(p) for p in candidates)}')


def node_executable(name: str) -> list[str]:
    """Command prefix running node ``name``.

    The console script next to this interpreter (venv/pip install), else the one in the ament
    install's ``lib/robotrl_ros`` (colcon/ROS install), else ``python -m robotrl_ros.nodes.X``.
    """
    dirs = [Path(sys.executable).parent]
    prefix = _ament_prefix()
    if prefix is not None:
        dirs.append(prefix / 'lib' / PACKAGE)
    for directory in dirs:
        exe = shutil.which(name, path=str(directory))
        if exe:
            return [exe]
    return [sys.executable, '-m', f'{PACKAGE}.nodes.{name}']


@dataclass
class UpPlan:
    """What ``robotrl up`` will start: one command line per node."""

    graph: Graph
    commands: dict[str, list[str]]
    override_file: Path
    namespace: str
    params_file: Path


def parse_sets(graph: Graph, sets: list[str]) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Split ``key:=value`` items into launch arguments and per-node raw parameters.

    Raises:
        ValueError: An item without ``:=``, or a ``node.param`` for a node not in the graph.
    """
    arguments: dict[str, str] = {}
    raw: dict[str, list[str]] = {node: [] for node in graph.nodes}
    for item in sets:
        key, sep, value = item.partition(':=')
        if not sep or not key:
            raise ValueError(f'--set expects key:=value, got {item!r}')
        if '.' in key:
            node, _, param = key.partition('.')
            if node not in raw:
                raise ValueError(f'--set {item!r}: {graph.name} has no node {node!r}; nodes: '
                                 f'{", ".join(graph.nodes)}')
            raw[node].append(f'{param}:={value}' if value else f"{param}:=''")  # not 'p:='
        else:
            arguments[key] = value
    return arguments, raw


def plan(graph_name: str, sets: list[str], tmp_dir: Path) -> UpPlan:
    """Build the node command lines for ``robotrl up <graph_name> --set ...``.

    Raises:
        ValueError: Unknown graph, argument or node, a missing required argument or a badly
            typed value (messages name the culprit).
        FileNotFoundError: The graph's YAML (or a ``params_file`` given) does not exist.
    """
    graph = get_graph(graph_name)
    arguments, raw = parse_sets(graph, sets)
    namespace = arguments.pop('namespace', '').strip('/')
    if namespace and not _NAMESPACE.fullmatch(namespace):
        raise ValueError(f'namespace {namespace!r} is not a valid ROS namespace (letters, '
                         'digits, _ and /; no token may start with a digit)')
    params_text = arguments.pop('params_file', '')
    params_file = Path(params_text) if params_text else find_config(graph.config_file)
    if not params_file.is_file():
        raise FileNotFoundError(f'params_file {params_file} does not exist')
    overrides = parameter_overrides(graph, arguments)
    override_file = tmp_dir / f'{graph.name}_overrides.yaml'
    override_file.write_text(yaml.safe_dump(
        {f'/**/{node}': {'ros__parameters': params} for node, params in overrides.items()
         if params}))
    commands = {}
    for node in graph.nodes:
        cmd = [*node_executable(node), '--ros-args', '-r', f'__node:={node}']
        if namespace:
            cmd += ['-r', f'__ns:=/{namespace}']
        cmd += ['-r', CLOCK_REMAP]
        cmd += ['--params-file', str(params_file), '--params-file', str(override_file)]
        for rule in raw[node]:
            cmd += ['-p', rule]
        commands[node] = cmd
    return UpPlan(graph, commands, override_file, namespace, params_file)


class GraphProcesses:
    """The running nodes of a graph; stops all of them when one exits or a signal arrives."""

    def __init__(self, commands: dict[str, list[str]]) -> None:
        self.commands = commands
        self.procs: dict[str, subprocess.Popen] = {}
        self.stop_requests = 0

    def start(self) -> None:
        """Start every node in its own session, so only we deliver signals to it."""
        for node, cmd in self.commands.items():
            self.procs[node] = subprocess.Popen(cmd, start_new_session=True)
            print(f'[robotrl up] started {node} (pid {self.procs[node].pid}): '
                  f'{shlex.join(cmd)}', flush=True)

    def request_stop(self, signum: int, _frame: object = None) -> None:
        """Signal handler: remember the request; :meth:`wait` then stops the nodes.

        A further request while stopping (Ctrl-C again) skips the rest of the current grace
        period: SIGINT, then SIGTERM, then SIGKILL.
        """
        self.stop_requests += 1

    def _stop_all(self) -> None:
        for sig, grace in ((signal.SIGINT, STOP_TIMEOUT), (signal.SIGTERM, 5.0),
                           (signal.SIGKILL, 5.0)):
            alive = [p for p in self.procs.values() if p.poll() is None]
            if not alive:
                return
            for proc in alive:
                proc.send_signal(sig)
            requests, deadline = self.stop_requests, time.monotonic() + grace
            while (time.monotonic() < deadline and self.stop_requests == requests
                   and any(p.poll() is None for p in alive)):
                time.sleep(0.05)

    def wait(self) -> int:
        """Run until a signal arrives or a node exits; stop the rest; return the exit status."""
        first_exit = None
        while not self.stop_requests and first_exit is None:
            first_exit = next((n for n, p in self.procs.items() if p.poll() is not None), None)
            time.sleep(0.05)
        if first_exit is not None:
            print(f'[robotrl up] {first_exit} exited with code {self.procs[first_exit].returncode}'
                  '; stopping the other nodes', file=sys.stderr, flush=True)
        self._stop_all()
        failed = {n: p.returncode for n, p in self.procs.items() if p.returncode != 0}
        for node, code in failed.items():
            print(f'[robotrl up] {node} failed with exit code {code}', file=sys.stderr,
                  flush=True)
        return 1 if failed else 0


def build_parser() -> argparse.ArgumentParser:
    """Argument parser of ``robotrl up``."""
    parser = argparse.ArgumentParser(
        prog='robotrl up', description='Start a launch graph without ros2 launch.',
        epilog='graphs: ' + '; '.join(f'{g.name}: {g.description}' for g in GRAPHS.values()))
    parser.add_argument('graph', choices=list(GRAPHS), help='which graph to start')
    parser.add_argument('--set', dest='sets', action='append', default=[],
                        metavar='KEY:=VALUE',
                        help='launch argument (task:=reach) or node parameter '
                             '(sim_bridge.lockstep:=false); repeatable')
    parser.add_argument('--dry-run', action='store_true',
                        help='print the node command lines and exit')
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``robotrl up``; returns the process exit status."""
    args = build_parser().parse_args(argv)
    with tempfile.TemporaryDirectory(prefix='robotrl_up_') as tmp:
        try:
            up = plan(args.graph, args.sets, Path(tmp))
        except (ValueError, FileNotFoundError) as exc:
            print(f'robotrl up: error: {exc}', file=sys.stderr)
            return 2
        if args.dry_run:
            for cmd in up.commands.values():
                print(shlex.join(cmd))
            overrides = up.override_file.read_text().strip()
            print(f'# {up.override_file.name} (temporary): {overrides}')
            return 0
        graph = GraphProcesses(up.commands)
        previous = {sig: signal.signal(sig, graph.request_stop)
                    for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            graph.start()
            return graph.wait()
        finally:
            graph._stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)


if __name__ == '__main__':
    sys.exit(main())
