# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""launch_testing: deploy.launch.py commands a fake ros2_control robot when armed; clean exit."""

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
from graph_probe import (  # noqa: E402
    assert_topics_flow,
    include,
    reach_artifact,
    reach_joint_limits,
)
from launch.launch_description import LaunchDescription  # noqa: E402

NAMESPACE = 'lt_deploy'


@pytest.mark.launch_test
def generate_test_description():
    graph = include('deploy', policy_path=str(reach_artifact()), namespace=NAMESPACE,
                    armed='true', state_timeout='1.0', joint_limits=str(reach_joint_limits()))
    return LaunchDescription([graph, launch_testing.actions.ReadyToTest()]), {}


class TestDeployGraph(unittest.TestCase):
    def test_commands_follow_joint_states(self):
        assert_topics_flow(self, NAMESPACE, ('policy_node',), [
            '/forward_position_controller/commands', '/policy_node/status'], fake_robot=True)


@launch_testing.post_shutdown_test()
class TestDeployShutdown(unittest.TestCase):
    def test_every_node_exits_cleanly(self, proc_info):
        launch_testing.asserts.assertExitCodes(proc_info)
