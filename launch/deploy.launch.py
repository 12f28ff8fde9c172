# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Run a policy artifact on a real robot through ros2_control topics: the policy node only.

    ros2 launch robotrl_ros deploy.launch.py policy_path:=runs/reach/policy
    ros2 service call /policy_node/enable std_srvs/srv/SetBool "{data: true}"   # arm
    ros2 lifecycle set /policy_node activate                  # the same, as a transition
    ros2 launch robotrl_ros deploy.launch.py policy_path:=runs/a1/policy \
        robot_description:="$(xacro my_a1.urdf.xacro)"     # or robot:=a1 (its URDF)

The robot side is ros2_control: joint_state_broadcaster publishes ``joint_states`` and a
forward_command_controller listens on ``command_topic`` (``robotrl ros2-control-config
--policy DIR`` writes that configuration from the artifact). ``robot_description`` (or the
description of ``robot``) gives the policy node the robot's limits. The policy node is a
managed (lifecycle) node: the launch configures it (the artifact is loaded and checked against
the robot) and leaves it ``inactive`` (disarmed) unless ``armed:=true`` (``active``).
Parameters come from config/deploy.yaml (or params_file:=...).
"""

from launch.actions import OpaqueFunction
from launch.launch_description import LaunchDescription

from robotrl_ros.graphs.definitions import GRAPHS
from robotrl_ros.graphs.launch_support import (
    argument_overrides,
    declare_arguments,
    graph_node,
    lifecycle_actions,
)

GRAPH = GRAPHS['deploy']


def _nodes(context):
    overrides = argument_overrides(context, GRAPH)
    # joint_states (+ goal_pose / cmd_vel / imu) in, clamped commands out on command_topic.
    # A managed node: configured (robot and artifact checked), inactive until ~/enable or
    # `ros2 lifecycle set <ns>/policy_node activate`; active at once with armed:=true.
    policy = graph_node(context, 'policy_node', overrides['policy_node'])
    return [policy, *lifecycle_actions(policy, GRAPH.lifecycle_target(overrides))]


def generate_launch_description():
    return LaunchDescription([*declare_arguments(GRAPH), OpaqueFunction(function=_nodes)])
