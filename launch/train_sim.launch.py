# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Train in simulation through ROS: sim bridge + exploring policy node + trainer node.

    ros2 launch robotrl_ros train_sim.launch.py task:=reach algo:=ppo output_dir:=runs/reach
    ros2 launch robotrl_ros train_sim.launch.py namespace:=robot2 seed:=1   # a second robot

Parameters come from config/train_sim.yaml (or params_file:=...); an argument left empty keeps
the YAML value. Topics are relative, so ``namespace`` moves the whole graph.
"""

from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.launch_description import LaunchDescription
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue
from launch_ros.substitutions import FindPackageShare

from robotrl_ros.training.launch_graphs import GRAPHS, parameter_overrides

GRAPH = GRAPHS['train_sim']


def _node(context, name, overrides):
    """One node of the graph: YAML parameters first, then the argument overrides."""
    typed = {k: ParameterValue(v, value_type=str) if isinstance(v, str) else v
             for k, v in overrides[name].items()}
    return Node(package='robotrl_ros', executable=name, name=name,
                namespace=LaunchConfiguration('namespace'),
                parameters=[LaunchConfiguration('params_file').perform(context), typed],
                output='screen', emulate_tty=True)


def _nodes(context):
    values = {arg.name: LaunchConfiguration(arg.name).perform(context) for arg in GRAPH.arguments}
    overrides = parameter_overrides(GRAPH, values)
    return [
        _node(context, 'sim_bridge', overrides),     # simulator: joint_states, ~/reset, clock
        _node(context, 'policy_node', overrides),    # explore: sampled actions -> commands
        _node(context, 'trainer_node', overrides),   # learns, publishes policy_updates
    ]


def generate_launch_description():
    return LaunchDescription([
        DeclareLaunchArgument('namespace', default_value='',
                              description='ROS namespace for every node'),
        DeclareLaunchArgument(
            'params_file', description='ros__parameters YAML for all nodes',
            default_value=PathJoinSubstitution(
                [FindPackageShare('robotrl_ros'), 'config', GRAPH.config_file])),
        *[DeclareLaunchArgument(arg.name, default_value=arg.default,
                                description=arg.description) for arg in GRAPH.arguments],
        OpaqueFunction(function=_nodes),
    ])
