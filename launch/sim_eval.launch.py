# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
r"""Sim-to-sim check of a policy artifact before hardware: sim bridge + policy node.

    ros2 launch robotrl_ros sim_eval.launch.py policy_path:=runs/reach/policy
    ros2 launch robotrl_ros sim_eval.launch.py policy_path:=runs/reach/policy \
        dr_mass_scale:='[1.3, 1.3]' dr_latency_steps:='[1, 1]'        # shifted dynamics

Parameters come from config/sim_eval.yaml (or params_file:=...); an argument left empty keeps
the YAML value. The policy node is a managed node, brought to ``active`` through its lifecycle
transitions. Read the result on ``sim_bridge/status`` (``recent_success_rate``,
``recent_return`` over the last 20 episodes).
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

GRAPH = GRAPHS['sim_eval']


def _nodes(context):
    overrides = argument_overrides(context, GRAPH)
    # The simulator, with the dr_* ranges (e.g. [1.3, 1.3]: a fixed dynamics shift).
    bridge = graph_node(context, 'sim_bridge', overrides['sim_bridge'])
    # The artifact under test, deterministic actions; a managed node: configured, then active.
    policy = graph_node(context, 'policy_node', overrides['policy_node'])
    return [bridge, policy, *lifecycle_actions(policy, GRAPH.lifecycle_target(overrides))]


def generate_launch_description():
    return LaunchDescription([*declare_arguments(GRAPH), OpaqueFunction(function=_nodes)])
