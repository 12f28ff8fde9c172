# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""launch_ros building blocks shared by ``launch/*.launch.py`` (needs launch and launch_ros).

The graphs themselves (nodes, arguments, which argument sets which parameter) are plain data in
:mod:`robotrl_ros.graphs.definitions`, shared with ``robotrl up``; this module turns them into
launch actions: declared arguments, and nodes whose parameters are the graph's YAML file
followed by the overrides of the arguments that were given.

Managed nodes (the policy node) are launch_ros ``LifecycleNode`` actions started
``autostart: unconfigured``; :func:`lifecycle_actions` emits the ``ChangeState`` events
(lifecycle_msgs transitions, matched to the node with ``matches_action``) that bring each to the
graph's state: ``configure`` at once, then ``activate`` once configuring ended in
``inactive`` when the target is ``active``.
"""

from __future__ import annotations

from launch.action import Action
from launch.actions import DeclareLaunchArgument, EmitEvent, RegisterEventHandler
from launch.events import matches_action
from launch.launch_context import LaunchContext
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import LifecycleNode, Node
from launch_ros.event_handlers import OnStateTransition
from launch_ros.events.lifecycle import ChangeState
from launch_ros.parameter_descriptions import ParameterValue
from launch_ros.substitutions import FindPackageShare
from lifecycle_msgs.msg import Transition

from robotrl_ros.graphs.definitions import MANAGED_NODES, Graph, parameter_overrides

PACKAGE = 'robotrl_ros'


def declare_arguments(graph: Graph) -> list[DeclareLaunchArgument]:
    """Declared arguments: ``namespace``, ``params_file`` and the graph's own.

    ``params_file`` defaults to the package's ``config/<graph>.yaml``; graph arguments without
    a default are required by ``ros2 launch``.
    """
    return [
        DeclareLaunchArgument('namespace', default_value='',
                              description='ROS namespace for every node of the graph'),
        DeclareLaunchArgument(
            'params_file', description='ros__parameters YAML for every node of the graph',
            default_value=PathJoinSubstitution(
                [FindPackageShare(PACKAGE), 'config', graph.config_file])),
        *[DeclareLaunchArgument(arg.name, default_value=arg.default,
                                description=arg.description) for arg in graph.arguments],
    ]


def argument_overrides(context: LaunchContext, graph: Graph) -> dict[str, dict[str, object]]:
    """``{node: {parameter: value}}`` from the launch arguments given (empty ones keep YAML).

    Raises:
        ValueError: A badly typed argument value; the message names the argument.
    """
    values = {arg.name: LaunchConfiguration(arg.name).perform(context) for arg in graph.arguments}
    return parameter_overrides(graph, values)


def graph_node(context: LaunchContext, name: str, overrides: dict[str, object],
               robot: str = '', remappings: tuple[tuple[str, str], ...] = (),
               **process_options: str) -> Node:
    """Node ``name`` (its executable has the same name) in the ``namespace`` argument.

    Its parameters are ``params_file`` followed by ``overrides``; string overrides stay strings
    (an ``output_dir`` of '123' is not turned into an int). ``robot`` puts a fleet robot's node
    in ``<namespace>/<robot>``; ``remappings`` are added to the clock's. ``process_options`` go
    to launch's ExecuteProcess (e.g. ``sigterm_timeout``). A managed node (:data:`MANAGED_NODES`)
    is a ``LifecycleNode`` started ``autostart: unconfigured``: add its
    :func:`lifecycle_actions`.
    """
    if name in MANAGED_NODES:
        overrides = {**overrides, 'autostart': 'unconfigured'}
    typed = {key: ParameterValue(value, value_type=str) if isinstance(value, str) else value
             for key, value in overrides.items()}
    # launch escalates to SIGTERM 5 s after SIGINT by default: short for Python nodes that
    # import torch on a loaded machine (seen in launch tests); they still must exit with 0.
    process_options.setdefault('sigterm_timeout', '15')
    namespace = LaunchConfiguration('namespace').perform(context).strip('/')
    if robot:
        namespace = f'{namespace}/{robot}'.strip('/')
    action = LifecycleNode if name in MANAGED_NODES else Node
    return action(package=PACKAGE, executable=name, name=name, namespace=namespace,
                # rclpy's sim-time source reads the absolute /clock; the sim bridge publishes
                # the relative clock, so a namespaced graph uses its own <ns>/clock.
                  remappings=[('/clock', 'clock'), *remappings],
                  parameters=[LaunchConfiguration('params_file').perform(context), typed],
                  output='screen', emulate_tty=True, **process_options)


def lifecycle_actions(node: LifecycleNode, target: str) -> list[Action]:
    """The events that bring the managed ``node`` to ``target`` (``inactive`` or ``active``).

    ``configure`` is emitted at once (launch_ros waits for the node's ``change_state``
    service); for ``active``, ``activate`` follows when configuring ended in ``inactive`` (a
    later ``deactivate`` by the operator is not undone).

    Raises:
        ValueError: Another target.
    """
    if target not in ('inactive', 'active'):
        raise ValueError(f"lifecycle target must be 'inactive' or 'active', got {target!r}")

    def change(transition_id: int) -> EmitEvent:
        return EmitEvent(event=ChangeState(lifecycle_node_matcher=matches_action(node),
                                           transition_id=transition_id))
    actions: list[Action] = [change(Transition.TRANSITION_CONFIGURE)]
    if target == 'active':
        actions.insert(0, RegisterEventHandler(OnStateTransition(
            target_lifecycle_node=node, start_state='configuring', goal_state='inactive',
            entities=[change(Transition.TRANSITION_ACTIVATE)])))
    return actions
