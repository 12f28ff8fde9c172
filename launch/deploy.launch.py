# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Run a policy artifact on a real robot through ros2_control topics: the policy node only.

    ros2 launch robotrl_ros deploy.launch.py policy_path:=runs/reach/policy
    ros2 service call /policy_node/enable std_srvs/srv/SetBool "{data: true}"   # arm

The robot side is ros2_control: joint_state_broadcaster publishes ``joint_states`` and a
forward_command_controller listens on ``command_topic``. The node starts disarmed unless
``armed:=true``. Parameters come from config/deploy.yaml (or params_file:=...).
"""

from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.launch_description import LaunchDescription
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue
from launch_ros.substitutions import FindPackageShare

from robotrl_ros.training.launch_graphs import GRAPHS, parameter_overrides

GRAPH = GRAPHS['deploy']


def _nodes(context):
    values = {arg.name: LaunchConfiguration(arg.name).perform(context) for arg in GRAPH.arguments}
    overrides = parameter_overrides(GRAPH, values)['policy_node']
    typed = {k: ParameterValue(v, value_type=str) if isinstance(v, str) else v
             for k, v in overrides.items()}
    return [Node(package='robotrl_ros', executable='policy_node', name='policy_node',
                 namespace=LaunchConfiguration('namespace'),
                 parameters=[LaunchConfiguration('params_file').perform(context), typed],
                 output='screen', emulate_tty=True)]


def generate_launch_description():
    return LaunchDescription([
        DeclareLaunchArgument('namespace', default_value='',
                              description='ROS namespace of the robot (its controllers)'),
        DeclareLaunchArgument(
            'params_file', description='ros__parameters YAML for the policy node',
            default_value=PathJoinSubstitution(
                [FindPackageShare('robotrl_ros'), 'config', GRAPH.config_file])),
        *[DeclareLaunchArgument(arg.name, default_value=arg.default,
                                description=arg.description) for arg in GRAPH.arguments],
        OpaqueFunction(function=_nodes),
    ])
