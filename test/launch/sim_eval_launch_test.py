# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""launch_testing: sim_eval.launch.py starts, its nodes report status, topics flow, clean exit."""

import pytest

pytest.importorskip('launch_testing', reason='launch_testing is not installed: launch tests run '
                    'on a ROS 2 install (colcon test); here test_up_graphs.py starts the graphs')
pytest.importorskip('launch_ros', reason='launch_ros is not installed (ROS 2 install only)')

import sys  # noqa: E402
import unittest  # noqa: E402
from pathlib import Path  # noqa: E402

import launch_testing  # noqa: E402
import launch_testing.actions  # noqa: E402
import launch_testing.asserts  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))  # graph_probe, also under the launch_test CLI
from graph_probe import assert_topics_flow, include, reach_artifact  # noqa: E402
from launch.launch_description import LaunchDescription  # noqa: E402

NAMESPACE = 'lt_sim_eval'
NODES = ('sim_bridge', 'policy_node')


@pytest.mark.launch_test
def generate_test_description():
    # use_sim_time under a namespace: the policy node's status timer only runs if the sim
    # bridge's <ns>/clock reaches it (the /clock -> clock remapping of every graph node).
    graph = include('sim_eval', policy_path=str(reach_artifact()), namespace=NAMESPACE,
                    dr_mass_scale='[1.2, 1.2]', use_sim_time='true')
    return LaunchDescription([graph, launch_testing.actions.ReadyToTest()]), {}


class TestSimEvalGraph(unittest.TestCase):
    def test_nodes_ready_and_topics_flow(self):
        # ~/status from every node = every node is up; commands = the policy acts on the sim.
        assert_topics_flow(self, NAMESPACE, NODES, [
            '/joint_states', '/forward_position_controller/commands',
            *(f'/{node}/status' for node in NODES)])


@launch_testing.post_shutdown_test()
class TestSimEvalShutdown(unittest.TestCase):
    def test_every_node_exits_cleanly(self, proc_info):
        launch_testing.asserts.assertExitCodes(proc_info)
