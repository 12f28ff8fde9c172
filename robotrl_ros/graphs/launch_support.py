# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""launch_ros building blocks shared by ``launch/*.launch.py`` (needs launch and launch_ros).

The graphs themselves (nodes, arguments, which argument sets which parameter) are plain data in
:mod:`robotrl_ros.graphs.definitions`, shared with ``robotrl up``; this module turns them into
launch actions: declared arguments, and nodes whose parameters are the graph's YAML file
followed by the overrides of the arguments that were given.
"""

from __future__ import annotations

from launch.actions import DeclareLaunchArgument
from launch.launch_context import LaunchContext
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue
from launch_ros.substitutions import FindPackageShare

from robotrl_ros.graphs.definitions import Graph, parameter_overrides

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
    to launch's ExecuteProcess (e.g. ``sigterm_timeout``).
    """
    typed = {key: ParameterValue(value, value_type=str) if isinstance(value, str) else value
             for key, value in overrides.items()}
    # launch escalates to SIGTERM 5 s after SIGINT by default: short for Python nodes that
    # import torch on a loaded machine (seen in launch tests); they still must exit with 0.
    process_options.setdefault('sigterm_timeout', '15')
    namespace = LaunchConfiguration('namespace').perform(context).strip('/')
    if robot:
        namespace = f'{namespace}/{robot}'.strip('/')
    return Node(package=PACKAGE, executable=name, name=name, namespace=namespace,
                # rclpy's sim-time source reads the absolute /clock; the sim bridge publishes
                # the relative clock, so a namespaced graph uses its own <ns>/clock.
                remappings=[('/clock', 'clock'), *remappings],
                parameters=[LaunchConfiguration('params_file').perform(context), typed],
                output='screen', emulate_tty=True, **process_options)
