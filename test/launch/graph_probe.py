# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Shared pieces of the launch tests (imported only once launch_testing is known to exist).

``include()`` includes one of the package's launch files from the source tree with the source
tree's parameter file, so ``colcon test`` checks the files in this checkout; ``Probe`` listens
to (and, for a fake robot, publishes on) the graph's topics with the contract's QoS.
"""

from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import rclpy
import torch
from geometry_msgs.msg import PoseStamped
from launch.actions import IncludeLaunchDescription
from launch.launch_description_sources import PythonLaunchDescriptionSource
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from sensor_msgs.msg import JointState
from std_msgs.msg import Float64MultiArray, String

from robotrl_ros.policy.export import export_artifact
from robotrl_ros.ros.conversions import goal_to_pose, make_joint_state
from robotrl_ros.ros.qos import COMMAND_QOS, SENSOR_QOS
from robotrl_ros.tasks.reach import REACH_SPEC

SOURCE = Path(__file__).resolve().parents[2]
COMMANDS = 'forward_position_controller/commands'
TIMEOUT = 90.0  # seconds for nodes to start (they import torch) and topics to flow


def include(graph: str, **arguments: str) -> IncludeLaunchDescription:
    """``launch/<graph>.launch.py`` from the source tree with ``config/<graph>.yaml``."""
    arguments.setdefault('params_file', str(SOURCE / 'config' / f'{graph}.yaml'))
    return IncludeLaunchDescription(
        PythonLaunchDescriptionSource(str(SOURCE / 'launch' / f'{graph}.launch.py')),
        launch_arguments=list(arguments.items()))


def reach_artifact() -> Path:
    """A small exported reach policy (random weights) in a temporary directory."""
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(12, 3), torch.nn.Tanh())
    out = Path(tempfile.mkdtemp(prefix='robotrl_launch_test_')) / 'policy'
    return export_artifact(net, REACH_SPEC, out, algorithm='ppo')


def reach_joint_limits() -> Path:
    """The fake reach robot's limits as a ros2_control joint_limits YAML (deploy arms with it)."""
    out = Path(tempfile.mkdtemp(prefix='robotrl_launch_test_')) / 'joint_limits.yaml'
    out.write_text('joint_limits:\n' + ''.join(
        f'  {name}:\n    has_acceleration_limits: true\n    max_acceleration: 1.0\n'
        for name in REACH_SPEC.joint_names))
    return out


class Probe:
    """A node in its own context, spinning in a thread, recording the graph's topics."""

    def __init__(self, namespace: str, nodes: tuple[str, ...]) -> None:
        self.context = rclpy.Context()
        rclpy.init(context=self.context)
        self.node = rclpy.create_node('launch_test_probe', context=self.context)
        self.received: dict[str, int] = {}
        self.lock = threading.Lock()
        ns = f'/{namespace}'
        self._listen(JointState, f'{ns}/joint_states', SENSOR_QOS)
        self._listen(Float64MultiArray, f'{ns}/{COMMANDS}', COMMAND_QOS)
        for name in nodes:
            self._listen(String, f'{ns}/{name}/status', 10)
        self.joint_states = self.node.create_publisher(JointState, f'{ns}/joint_states',
                                                       SENSOR_QOS)
        self.goal = self.node.create_publisher(PoseStamped, f'{ns}/goal_pose', COMMAND_QOS)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self.thread = threading.Thread(target=self._spin, daemon=True)
        self.thread.start()

    def _listen(self, msg_type, topic: str, qos) -> None:
        self.received[topic] = 0

        def count(_msg) -> None:
            with self.lock:
                self.received[topic] += 1
        self.node.create_subscription(msg_type, topic, count, qos)

    def _spin(self) -> None:
        try:
            self.executor.spin()
        except ExternalShutdownException:
            pass

    def act_as_robot(self, rate_hz: float = 50.0) -> None:
        """Publish reach joint_states like a ros2_control joint_state_broadcaster, and a goal."""
        goal = goal_to_pose(np.array([0.3, -0.2, 0.1]))

        def tick() -> None:
            self.joint_states.publish(make_joint_state(
                REACH_SPEC.joint_names, np.zeros(3), np.zeros(3), stamp=time.time()))
            self.goal.publish(goal)
        self.node.create_timer(1.0 / rate_hz, tick)

    def wait_for(self, topics: list[str], count: int = 5, timeout: float = TIMEOUT) -> dict:
        """Wait until every topic (a suffix of a recorded name) got ``count`` messages."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                seen = {t: n for t, n in self.received.items()
                        if any(t.endswith(s) for s in topics)}
            if len(seen) == len(topics) and all(n >= count for n in seen.values()):
                return seen
            time.sleep(0.1)
        with self.lock:
            return dict(self.received)

    def close(self) -> None:
        self.executor.shutdown()
        self.node.destroy_node()
        rclpy.shutdown(context=self.context)
        self.thread.join(timeout=5)


def assert_topics_flow(test, namespace: str, nodes: tuple[str, ...], topics: list[str],
                       fake_robot: bool = False) -> None:
    """Fail ``test`` unless every topic (suffix) gets 5 messages within :data:`TIMEOUT`."""
    probe = Probe(namespace, nodes)
    try:
        if fake_robot:
            probe.act_as_robot()
        seen = probe.wait_for(topics)
        for topic in topics:
            test.assertTrue(any(t.endswith(topic) and n >= 5 for t, n in seen.items()),
                            f'no messages on {topic} within {TIMEOUT} s: {seen}')
    finally:
        probe.close()
