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

Like the launch files, ``robotrl up`` starts each policy node ``autostart: unconfigured`` and
then brings it to the graph's lifecycle state (``inactive`` for deploy unless ``armed:=true``,
else ``active``) through its ``change_state`` / ``get_state`` services
(:func:`~robotrl_ros.ros.lifecycle_client.bring_to_states`); a failed transition ends ``up``
with exit status 1, naming the node. Planning is pure Python (rclpy is imported only to drive
the lifecycle).
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
    MANAGED_NODES,
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

__all__ = ['GraphProcesses', 'UpPlan', 'bring_up', 'find_config', 'main', 'node_executable',
           'plan']
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
    """What ``robotrl up`` will start: one command line per node.

    ``lifecycle``: the managed nodes' fully qualified names and target states (brought there
    after the start when the plan is ``managed``).
    """

    graph: Graph
    commands: dict[str, list[str]]
    override_file: Path
    namespace: str
    params_file: Path
    lifecycle: dict[str, str]


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


def plan(graph_name: str, sets: list[str], tmp_dir: Path, managed: bool = False) -> UpPlan:
    """Build the node command lines for ``robotrl up <graph_name> --set ...``.

    With ``managed``, the managed nodes start ``autostart: unconfigured`` (a later
    ``--set policy_node.autostart:=...`` wins) for :func:`bring_up` to drive; without, they
    bring themselves to their ``autostart`` state (``armed: true``: active), as the training
    and fleet runners want.

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
    commands, lifecycle = {}, {}
    target = graph.lifecycle_target(overrides)

    def start_rules(node: str) -> list[str]:
        return ['autostart:=unconfigured'] if managed and node in MANAGED_NODES else []

    def manage(node: str, node_namespace: str) -> None:
        if node in MANAGED_NODES:
            lifecycle[f'/{node_namespace}/{node}'.replace('//', '/')] = target

    robots = robot_overrides(graph, overrides) if graph.robot_nodes else {}
    for ns, per_robot in robots.items():   # a fleet: each robot's nodes in its namespace
        for node in graph.robot_nodes:
            seed = per_robot[node].get('seed')
            robot_namespace = f'{namespace}/{ns}'.strip('/')
            commands[f'{ns}/{node}'] = node_command(
                node_executable(node), name=node, namespace=robot_namespace,
                remaps=[CLOCK_REMAP, *fleet_remaps(node, namespace)],
                params_files=[params_file, override_file],
                rules=[*([] if seed is None else [f'seed:={seed}']), *start_rules(node),
                       *raw[node]])
            manage(node, robot_namespace)
    for node in graph.nodes:
        if node not in graph.robot_nodes:
            commands[node] = node_command(node_executable(node), name=node,
                                          namespace=namespace, remaps=[CLOCK_REMAP],
                                          params_files=[params_file, override_file],
                                          rules=[*start_rules(node), *raw[node]])
            manage(node, namespace)
    return UpPlan(graph, commands, override_file, namespace, params_file, lifecycle)


def fleet_remaps(node: str, namespace: str) -> list[str]:
    """A fleet robot's policy node listens to the one trainer's ``policy_updates``."""
    if node != 'policy_node':
        return []
    return [f'policy_updates:=/{namespace}/policy_updates'.replace('//', '/')]


def bring_up(up: UpPlan, group: ProcessGroup) -> bool:
    """Bring the plan's managed nodes to their target states once their processes started.

    Returns:
        True when every one is there; False when a process exited or a stop was requested
        meanwhile (the group's wait reports that).

    Raises:
        StartError: A node's lifecycle services never appeared or a transition failed (named).
    """
    from robotrl_ros.ros.lifecycle_client import LifecycleError, bring_to_states

    def keep_going() -> bool:
        return not group.stop_requests and all(
            code is None for code in group.returncodes().values())
    try:
        reached = bring_to_states(up.lifecycle, keep_going)
    except LifecycleError as exc:
        raise StartError(str(exc)) from None
    if reached:
        for node, state in up.lifecycle.items():
            print(f'[robotrl up] {node} is {state}', flush=True)
    return reached


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
            up = plan(args.graph, args.sets, Path(tmp), managed=True)
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
                try:
                    bring_up(up, graph)
                except StartError as exc:
                    print(f'robotrl up: error: {exc}', file=sys.stderr)
                    return 1
                return graph.wait()
            finally:
                graph.stop()

if __name__ == '__main__':
    sys.exit(main())
