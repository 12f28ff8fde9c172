# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Fleet learning in simulation: n_robots sim bridge + exploring policy pairs, one trainer.

    ros2 launch robotrl_ros fleet_sim.launch.py n_robots:=4 task:=reach output_dir:=runs/fleet

Robot i's sim_bridge and policy_node run in the namespace ``robot<i>`` (under ``namespace``);
the trainer_node listens to all of them (its ``robot_namespaces``) and feeds one learner. Every
policy node loads the trainer's artifacts from its one ``policy_updates`` topic. Parameters come
from config/fleet_sim.yaml (or params_file:=...); an argument left empty keeps the YAML value.
Robots on other machines join the same trainer by running their own graphs in these namespaces
with the same ROS_DOMAIN_ID (docs/fleet.md).
"""

from launch.actions import OpaqueFunction
from launch.launch_description import LaunchDescription
from launch.substitutions import LaunchConfiguration

from robotrl_ros.graphs.definitions import GRAPHS, robot_overrides
from robotrl_ros.graphs.launch_support import (
    argument_overrides,
    declare_arguments,
    graph_node,
    lifecycle_actions,
)

GRAPH = GRAPHS['fleet_sim']


def _nodes(context):
    overrides = argument_overrides(context, GRAPH)
    namespace = LaunchConfiguration('namespace').perform(context).strip('/')
    updates = f'/{namespace}/policy_updates' if namespace else '/policy_updates'
    target = GRAPH.lifecycle_target(overrides)
    nodes = []
    for robot, params in robot_overrides(GRAPH, overrides).items():
        # The simulator of one robot: joint_states, goal_pose, ~/reset (lockstep).
        bridge = graph_node(context, 'sim_bridge', params['sim_bridge'], robot=robot)
        # Samples actions from the trainer's latest artifact and publishes commands; a
        # managed node: configured, then active.
        policy = graph_node(context, 'policy_node', params['policy_node'], robot=robot,
                            remappings=(('policy_updates', updates),))
        nodes += [bridge, policy, *lifecycle_actions(policy, target)]
    # One learner for every robot; on Ctrl-C it saves a checkpoint: give it time.
    nodes.append(graph_node(context, 'trainer_node', overrides['trainer_node'],
                            sigterm_timeout='30'))
    return nodes


def generate_launch_description():
    return LaunchDescription([*declare_arguments(GRAPH), OpaqueFunction(function=_nodes)])
