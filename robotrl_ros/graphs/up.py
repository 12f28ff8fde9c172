# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""``robotrl up``: start a launch graph's nodes as processes, without ``ros2 launch``.

``robotrl up train_sim --set task:=reach --set namespace:=robot1`` starts the nodes of
``launch/train_sim.launch.py`` with the same ``config/train_sim.yaml`` and the same argument
mapping (:mod:`robotrl_ros.graphs.definitions`), each as
``<node> --ros-args -r __node:=<node> -r __ns:=/<ns> --params-file <yaml> ...``.
The nodes run as one :class:`~robotrl_ros.graphs.process.ProcessGroup`: SIGINT/SIGTERM are
forwarded to every node; when one node exits, the others are stopped; the exit status is 0 only
if every node exited with 0.

``--set`` takes a launch argument (``task:=reach``) or one node parameter
(``sim_bridge.lockstep:=false``, value parsed as YAML by the node, like ``ros2 run -p``).
Pure Python: no rclpy import here.
"""

from __future__ import annotations

import argparse
import re
import shlex
import signal
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from robotrl_ros.graphs.definitions import (
    GRAPHS,
    Graph,
    get_graph,
    parameter_overrides,
    robot_overrides,
)
from robotrl_ros.graphs.process import (
    PACKAGE,
    STOP_TIMEOUTS,
    ProcessGroup,
    StartError,
    ament_prefix,
    node_command,
    node_executable,
)

__all__ = ['GraphProcesses', 'UpPlan', 'find_config', 'main', 'node_executable', 'plan']
_NAMESPACE = re.compile(r'[A-Za-z_][A-Za-z0-9_]*(/[A-Za-z_][A-Za-z0-9_]*)*')
#: rclpy's sim-time source subscribes to the absolute /clock; each graph's sim bridge publishes
#: the relative ``clock``, so under a namespace every node must read <ns>/clock instead.
CLOCK_REMAP = '/clock:=clock'
STOP_TIMEOUT = STOP_TIMEOUTS[0]  # s after SIGINT before SIGTERM (the trainer saves first)


def find_config(file_name: str) -> Path:
    """Path of ``config/<file_name>``: the source tree first, then the installed share dir.

    Raises:
        FileNotFoundError: Not found anywhere; the message lists the places searched.
    """
    candidates = [Path(__file__).resolve().parents[2] / 'config' / file_name]
    prefix = ament_prefix()
    if prefix is not None:
        candidates.append(prefix / 'share' / PACKAGE / 'config' / file_name)
    candidates.append(Path(sys.prefix) / 'share' / PACKAGE / 'config' / file_name)
    for path in candidates:
        if path.is_file():
            return path
    raise FileNotFoundError(f'config/{file_name} not found; looked in: '
                            f'{", ".join(str(p) for p in candidates)}')


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
    robots = robot_overrides(graph, overrides) if graph.robot_nodes else {}
    for ns, per_robot in robots.items():   # a fleet: each robot's nodes in its namespace
        for node in graph.robot_nodes:
            seed = per_robot[node].get('seed')
            commands[f'{ns}/{node}'] = node_command(
                node_executable(node), name=node, namespace=f'{namespace}/{ns}'.strip('/'),
                remaps=[CLOCK_REMAP, *fleet_remaps(node, namespace)],
                params_files=[params_file, override_file],
                rules=[*([] if seed is None else [f'seed:={seed}']), *raw[node]])
    for node in graph.nodes:
        if node not in graph.robot_nodes:
            commands[node] = node_command(node_executable(node), name=node,
                                          namespace=namespace, remaps=[CLOCK_REMAP],
                                          params_files=[params_file, override_file],
                                          rules=raw[node])
    return UpPlan(graph, commands, override_file, namespace, params_file)


def fleet_remaps(node: str, namespace: str) -> list[str]:
    """A fleet robot's policy node listens to the one trainer's ``policy_updates``."""
    if node != 'policy_node':
        return []
    return [f'policy_updates:=/{namespace}/policy_updates'.replace('//', '/')]


class GraphProcesses(ProcessGroup):
    """The running nodes of a graph (a :class:`ProcessGroup` announcing each start on stdout)."""

    def __init__(self, commands: dict[str, list[str]]) -> None:
        super().__init__(commands, label='robotrl up', announce=sys.stdout,
                         stop_timeouts=(STOP_TIMEOUT, *STOP_TIMEOUTS[1:]),
                         await_stop_handlers=True)


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
    """Entry point of ``robotrl up``; returns the process exit status.

    SIGINT/SIGTERM are a stop request from the start: one before the nodes start ends ``up``
    with 0 without starting them; later ones are forwarded to the nodes (exit 0 when every node
    exits 0).
    """
    args = build_parser().parse_args(argv)
    early: list[int] = []
    previous = {sig: signal.signal(sig, lambda signum, _frame: early.append(signum))
                for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        return _run(args, early)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _run(args: argparse.Namespace, early: list[int]) -> int:
    """``main`` once its early stop handlers are installed; ``early`` collects their signals."""
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
        with graph.forward_signals():
            if early:   # stopped before any node started: nothing to stop
                print('robotrl up: stop requested before the nodes started', file=sys.stderr)
                return 0
            try:
                graph.start()
            except StartError as exc:
                print(f'robotrl up: error: {exc}', file=sys.stderr)
                return 1
            try:
                return graph.wait()
            finally:
                graph.stop()

if __name__ == '__main__':
    sys.exit(main())
