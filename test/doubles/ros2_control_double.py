# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""A test double for a ros2_control robot, as its topics look to the policy and trainer nodes.

It reads a controller_manager YAML (config/ros2_control_*.yaml) and behaves like
``joint_state_broadcaster`` + ``forward_command_controller/ForwardCommandController``:

- publishes ``joint_states`` at ``update_rate`` with reliable QoS, wall-clock stamps, in the
  hardware's own joint order (the controller's joints reversed) plus extra joints the policy does
  not use (a gripper), so a consumer must map joints by name;
- listens on ``forward_position_controller/commands`` (Float64MultiArray in the controller's
  ``joints`` order); a command of the wrong length is ignored with an error log, as the real
  controller does; the last valid command is held;
- integrates simple continuous-time dynamics for the controller's ``interface_name``:
  ``position`` (first-order lag, time constant ``tau``), ``velocity`` (integrator) or
  ``acceleration`` (double integrator with the speed clipped at ``max_speed``).

Run standalone::

    python test/doubles/ros2_control_double.py --ros-args \
        -p controllers_file:=config/ros2_control_reach.yaml -p initial_positions:=[0.5,0.,0.]
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import rclpy
import yaml
from rcl_interfaces.msg import ParameterDescriptor, ParameterType
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from sensor_msgs.msg import JointState
from std_msgs.msg import Float64MultiArray

from robotrl_ros.ros.shutdown import teardown

CONFIG = Path(__file__).resolve().parents[2] / 'config'
EXTRA_JOINTS = ('gripper_left', 'gripper_right')
INTERFACES = ('position', 'velocity', 'acceleration')


def load_forward_controller(path: str | Path) -> tuple[list[str], str, float]:
    """``(joints, interface_name, update_rate)`` of a controller_manager YAML.

    Raises:
        ValueError: If the file lacks the two controllers or has a bad interface.
    """
    data = yaml.safe_load(Path(path).read_text())
    manager = data.get('controller_manager', {}).get('ros__parameters', {})
    kinds = {name: spec.get('type') for name, spec in manager.items() if isinstance(spec, dict)}
    if kinds.get('joint_state_broadcaster') != 'joint_state_broadcaster/JointStateBroadcaster':
        raise ValueError(f'{path}: no joint_state_broadcaster controller')
    if kinds.get('forward_position_controller') != \
            'forward_command_controller/ForwardCommandController':
        raise ValueError(f'{path}: no ForwardCommandController forward_position_controller')
    params = data.get('forward_position_controller', {}).get('ros__parameters', {})
    joints, interface = list(params.get('joints') or []), params.get('interface_name')
    if not joints or interface not in INTERFACES:
        raise ValueError(f'{path}: forward_position_controller needs joints and an '
                         f'interface_name in {INTERFACES}, got {joints}, {interface!r}')
    return joints, interface, float(manager.get('update_rate', 100))


class Ros2ControlDouble(Node):
    """joint_state_broadcaster + forward_position_controller over simulated joints."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__('ros2_control_double', **kwargs)
        self.declare_parameter('controllers_file', str(CONFIG / 'ros2_control_reach.yaml'))
        self.declare_parameter('initial_positions', [0.0],
                               ParameterDescriptor(type=ParameterType.PARAMETER_DOUBLE_ARRAY))
        self.declare_parameter('tau', 0.05)
        self.declare_parameter('max_speed', 0.5)
        path = self.get_parameter('controllers_file').value
        self.joints, self.interface, rate = load_forward_controller(path)
        self.tau = float(self.get_parameter('tau').value)
        self.max_speed = float(self.get_parameter('max_speed').value)
        n = len(self.joints)
        initial = list(self.get_parameter('initial_positions').value)
        self.position = np.array(initial if len(initial) == n else [0.0] * n, dtype=np.float64)
        self.velocity = np.zeros(n)
        self.command = self.position.copy() if self.interface == 'position' else np.zeros(n)
        self.commands_received = 0
        self.commands_ignored = 0
        self.dt = 1.0 / rate
        # The hardware's order differs from the controller's, and lists joints we do not drive.
        self.published_names = [*reversed(self.joints), *EXTRA_JOINTS]
        self.pub = self.create_publisher(JointState, 'joint_states', 10)
        self.create_subscription(Float64MultiArray, 'forward_position_controller/commands',
                                 self._on_command, 10)
        self.create_timer(self.dt, self._update)

    def _on_command(self, msg: Float64MultiArray) -> None:
        if len(msg.data) != len(self.joints):
            self.commands_ignored += 1
            self.get_logger().error(f'command size {len(msg.data)} does not match number of '
                                    f'interfaces {len(self.joints)}')
            return
        self.command = np.asarray(msg.data, dtype=np.float64)
        self.commands_received += 1

    def integrate(self, dt: float) -> None:
        """Advance the joints ``dt`` seconds under the held command."""
        if self.interface == 'position':
            alpha = 1.0 - math.exp(-dt / self.tau)
            new = self.position + alpha * (self.command - self.position)
            self.velocity = (new - self.position) / dt
            self.position = new
            return
        if self.interface == 'velocity':
            self.velocity = np.clip(self.command, -self.max_speed, self.max_speed)
        else:
            self.velocity = np.clip(self.velocity + dt * self.command, -self.max_speed,
                                    self.max_speed)
        self.position = self.position + dt * self.velocity

    def _update(self) -> None:
        self.integrate(self.dt)
        msg = JointState()
        msg.header.stamp = self.get_clock().now().to_msg()
        msg.name = self.published_names
        extra = [0.0] * len(EXTRA_JOINTS)
        msg.position = [*self.position[::-1].tolist(), *extra]
        msg.velocity = [*self.velocity[::-1].tolist(), *extra]
        msg.effort = [0.0] * len(self.published_names)
        self.pub.publish(msg)


def main() -> None:
    """Run the double until SIGINT/SIGTERM."""
    rclpy.init()
    node = Ros2ControlDouble()
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        teardown(node)


if __name__ == '__main__':
    main()
