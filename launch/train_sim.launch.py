# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Train in simulation through ROS: sim bridge + exploring policy node + trainer node.

    ros2 launch robotrl_ros train_sim.launch.py task:=reach algo:=ppo output_dir:=runs/reach
    ros2 launch robotrl_ros train_sim.launch.py namespace:=robot2 seed:=1   # a second robot

Parameters come from config/train_sim.yaml (or params_file:=...); an argument left empty keeps
the YAML value. Topics are relative, so ``namespace`` moves the whole graph. The policy node
is a managed node, brought to ``active`` through its lifecycle transitions.
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

GRAPH = GRAPHS['train_sim']


def _nodes(context):
    overrides = argument_overrides(context, GRAPH)
    # The simulator: joint_states, goal_pose, ~/reset, clock; applies commands (lockstep).
    bridge = graph_node(context, 'sim_bridge', overrides['sim_bridge'])
    # Samples actions from the latest artifact (explore) and publishes commands; a managed
    # node: configured, then active.
    policy = graph_node(context, 'policy_node', overrides['policy_node'])
    return [
        bridge, policy, *lifecycle_actions(policy, GRAPH.lifecycle_target(overrides)),
        # Pairs states and commands into transitions, learns, publishes policy_updates. On
        # Ctrl-C it finishes the running update and saves a checkpoint: give it more than
        # launch's default 5 s before SIGTERM.
        graph_node(context, 'trainer_node', overrides['trainer_node'], sigterm_timeout='30'),
    ]


def generate_launch_description():
    return LaunchDescription([*declare_arguments(GRAPH), OpaqueFunction(function=_nodes)])
