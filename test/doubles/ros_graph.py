# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""In-process ROS graphs for node tests: the nodes under test and a driver in one executor.

:class:`InProcessGraph` spins any nodes together; :class:`PolicyGraph` is a policy node plus a
driver node that plays the robot (joint_states), listens to its commands and ``~/status``,
and calls its services (``~/enable``, the lifecycle ``change_state`` / ``get_state``).
:func:`graph_factory` makes a fixture's graphs and closes them all afterwards.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
from lifecycle_msgs.msg import Transition
from lifecycle_msgs.srv import ChangeState, GetState
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter
from sensor_msgs.msg import JointState
from std_msgs.msg import Float64MultiArray, String
from std_srvs.srv import SetBool

from robotrl_ros.nodes.policy_node import PolicyNode
from robotrl_ros.ros.conversions import make_joint_state
from robotrl_ros.ros.qos import COMMAND_QOS, SENSOR_QOS

#: Waits end as soon as the awaited data is there; this only catches a hang.
TIMEOUT = 30.0
#: The policy node's default command topic.
COMMAND_TOPIC = 'forward_position_controller/commands'
#: lifecycle_msgs transition ids by label.
TRANSITIONS = {'configure': Transition.TRANSITION_CONFIGURE,
               'activate': Transition.TRANSITION_ACTIVATE,
               'deactivate': Transition.TRANSITION_DEACTIVATE,
               'cleanup': Transition.TRANSITION_CLEANUP,
               'shutdown': Transition.TRANSITION_ACTIVE_SHUTDOWN}


class InProcessGraph:
    """Nodes spinning in one SingleThreadedExecutor (destroyed by :meth:`close`).

    Args:
        nodes: The nodes to spin.
        timeout: Default bound of :meth:`spin_until` (only catches a hang).
    """

    def __init__(self, *nodes: Node, timeout: float = TIMEOUT) -> None:
        self.timeout = timeout
        self.executor = SingleThreadedExecutor()
        self.nodes: list[Node] = []
        for node in nodes:
            self.add(node)

    def add(self, node: Node) -> None:
        """Spin ``node`` too (destroyed with the graph)."""
        self.nodes.append(node)
        self.executor.add_node(node)

    def spin_until(self, condition: Callable[[], Any], timeout: float | None = None) -> Any:
        """Spin until ``condition()`` holds or ``timeout`` passed; its last value."""
        end = time.monotonic() + (self.timeout if timeout is None else timeout)
        while time.monotonic() < end and not condition():
            self.executor.spin_once(timeout_sec=0.005)
        return condition()

    def spin_for(self, seconds: float) -> None:
        """Spin for ``seconds``."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.executor.spin_once(timeout_sec=0.005)

    def call(self, client: Any, request: Any) -> Any:
        """Call a service and wait for its answer (fails on a hang)."""
        assert self.spin_until(client.service_is_ready), f'{client.srv_name} never appeared'
        future = client.call_async(request)
        assert self.spin_until(future.done), f'{client.srv_name} never answered'
        return future.result()

    def close(self) -> None:
        """Stop the executor and destroy every node."""
        self.executor.shutdown()
        for node in self.nodes:
            node.destroy_node()


class PolicyGraph(InProcessGraph):
    """A policy node (``params`` as overrides) and a driver node that plays its robot.

    Attributes:
        commands: (receive time, command) of every command the node published.
        published: How many commands the node has published (received or still in flight).
        status: Every ``~/status`` JSON received, decoded.
    """

    def __init__(self, driver: str = 'driver', **params: Any) -> None:
        self.node = PolicyNode(parameter_overrides=[Parameter(k, value=v)
                                                    for k, v in params.items()])
        self.driver = Node(driver)
        super().__init__(self.node, self.driver)
        self.commands: list[tuple[float, list[float]]] = []
        self.published = 0
        self.status: list[dict] = []
        publish = self.node.command_pub.publish

        def counted(msg: Float64MultiArray) -> None:
            self.published += 1
            publish(msg)
        self.node.command_pub.publish = counted
        name = self.node.get_name()
        self.driver.create_subscription(Float64MultiArray, COMMAND_TOPIC, lambda m: self.commands
                                        .append((time.monotonic(), list(m.data))), COMMAND_QOS)
        self.driver.create_subscription(String, f'{name}/status',
                                        lambda m: self.status.append(json.loads(m.data)), 10)
        self.states = self.driver.create_publisher(JointState, 'joint_states', SENSOR_QOS)
        self.updates = self.driver.create_publisher(String, 'policy_updates', COMMAND_QOS)
        self.enable = self.driver.create_client(SetBool, f'{name}/enable')
        self.change_state = self.driver.create_client(ChangeState, f'{name}/change_state')
        self.get_state = self.driver.create_client(GetState, f'{name}/get_state')
        self.spin_until(lambda: self.states.get_subscription_count() > 0
                        and self.driver.count_publishers(COMMAND_TOPIC) > 0)
        self.published = len(self.commands)   # counted from here: the driver now listens

    def send(self, names: Any, position: Any, velocity: Any = None, stamp: float = 0.0,
             wait: bool = True) -> bool | None:
        """Publish one joint state; with ``wait``, whether a command answered it."""
        count = len(self.commands)
        velocity = np.zeros(len(names)) if velocity is None else velocity
        self.states.publish(make_joint_state(list(names), position, velocity, stamp=stamp))
        if wait:
            return self.spin_until(lambda: len(self.commands) > count)
        return None

    def settle(self, timeout: float = 10.0) -> bool:
        """Spin until every command the node published has arrived.

        A service reply can overtake the command the node sent before it.
        """
        return self.spin_until(lambda: len(self.commands) >= self.published, timeout)

    def latest_status(self, condition: Callable[[dict], bool] = lambda status: True,
                      timeout: float | None = None) -> dict:
        """The next status message, or the first one that meets ``condition``."""
        count = len(self.status)
        self.spin_until(lambda: len(self.status) > count and condition(self.status[-1]),
                        timeout)
        return self.status[-1]

    def call_enable(self, on: bool) -> SetBool.Response:
        """``~/enable`` through the service."""
        return self.call(self.enable, SetBool.Request(data=on))

    def transition(self, label: str) -> bool:
        """A lifecycle transition through ``change_state``; whether it succeeded."""
        request = ChangeState.Request()
        request.transition.id = TRANSITIONS[label]
        return self.call(self.change_state, request).success

    def lifecycle_state(self) -> str:
        """The node's lifecycle state through ``get_state``."""
        return self.call(self.get_state, GetState.Request()).current_state.label

    def record_steps(self) -> list[float]:
        """Record the time of every control step that returned a policy command.

        Steps that return the interface's safe command (timeout, disarm, fault) are not counted.
        """
        stepped: list[float] = []
        controller = self.node.controller
        step = controller.step

        def recording_step(now: float | None = None) -> Any:
            now = time.monotonic() if now is None else now
            safe_before = controller.counts['safe_commands']
            command = step(now)
            if command is not None and controller.counts['safe_commands'] == safe_before:
                stepped.append(now)
            return command
        controller.step = recording_step
        return stepped


def policy_graph(make: Callable[..., PolicyGraph] = PolicyGraph, **params: Any) -> Any:
    """``make(**params)`` with the node tests' defaults: frequent status, generous timeout.

    The ``state_timeout`` default is one a loaded CI machine does not trip.
    """
    params.setdefault('status_period', 0.1)
    params.setdefault('state_timeout', 5.0)
    return make(**params)


@contextmanager
def graph_factory(make: Callable[..., InProcessGraph]) -> Iterator[Callable[..., Any]]:
    """A fixture's graph maker: ``make(...)`` builds one; all are closed on exit."""
    graphs: list[InProcessGraph] = []

    def build(*args: Any, **kwargs: Any) -> Any:
        graphs.append(make(*args, **kwargs))
        return graphs[-1]
    try:
        yield build
    finally:
        for graph in graphs:
            graph.close()
