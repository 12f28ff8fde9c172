# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""policy_node's control modes, robot and joystick (the node's part of issue 16).

:class:`ModeDriver` joins what decides (:class:`~robotrl_ros.policy.modes.ModeMachine`,
:func:`~robotrl_ros.policy.deploy_check.check_artifact`,
:class:`~robotrl_ros.policy.joy.JoyInput`) to the node: ``~/enable`` and the joystick's buttons
go through the node's ``~/enable`` shortcut (lifecycle transitions, which call
:meth:`ModeDriver.activate` and :meth:`ModeDriver.enable`); each control step asks
:meth:`ModeDriver.command` for the passive or stand command (None in ``policy`` mode: the
policy controller commands); every artifact loaded is checked against the robot
(:meth:`ModeDriver.check`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
from sensor_msgs.msg import Joy

from robotrl_ros.policy.artifact import ArtifactError, PolicyArtifact
from robotrl_ros.policy.controller import PolicyController
from robotrl_ros.policy.deploy_check import check_artifact
from robotrl_ros.policy.deploy_robot import DeployRobot
from robotrl_ros.policy.joy import JoyConfigError, JoyInput, load_joy_mapping
from robotrl_ros.policy.modes import ModeMachine, StandTarget
from robotrl_ros.ros.node_runner import RunnableNode
from robotrl_ros.ros.qos import SENSOR_QOS, quiet_subscription


class ModeDriver:
    """Modes, deploy checks and joystick of one policy node.

    Args:
        node: The policy node (logging, the Joy subscription).
        params: Its parameters (``stand_*``, ``joy_*``).
        controller: Its policy controller.
        robot: The robot it was given, or None.
        publish: Publishes a command now with a log reason (the safe command on disable).
        shortcut: What the joystick's enable / disarm buttons call (the node's ``~/enable``
            shortcut through the lifecycle transitions); None: :meth:`enable`.

    Raises:
        ValueError: A bad joystick mapping file (named).
    """

    def __init__(self, node: RunnableNode, params: Any, controller: PolicyController,
                 robot: DeployRobot | None,
                 publish: Callable[[np.ndarray, str], None],
                 shortcut: Callable[[bool], tuple[bool, str]] | None = None) -> None:
        self.node, self.controller, self.robot = node, controller, robot
        self.publish = publish
        self.shortcut = shortcut or self.enable
        self.machine = ModeMachine(params.stand_duration, params.stand_tolerance,
                                   params.stand_on_enable)
        self.mismatches: dict[str, list[str]] = {}   # artifact version -> findings
        self.enable_when_limits = False   # activated, the robot's limits still to come
        self.last_checked: str | None = None
        self.joy: JoyInput | None = None
        if params.joy_topic:
            try:
                mapping = load_joy_mapping(params.joy_config)
            except JoyConfigError as exc:
                raise ValueError(f"parameter 'joy_config': {exc}") from None
            self.joy = JoyInput(mapping, params.joy_timeout)
            quiet_subscription(node, Joy, params.joy_topic, self._on_joy, SENSOR_QOS)

    # --- artifacts ---------------------------------------------------------------------------
    def check(self, artifact: PolicyArtifact) -> PolicyArtifact:
        """Check ``artifact`` against the robot; log and keep the findings.

        Raises:
            ArtifactError: Its joints are not the robot's (named).
        """
        result = check_artifact(artifact.spec, artifact.metadata, self.robot,
                                self.controller.node_limits)
        self.mismatches[artifact.version] = result.mismatches
        self.last_checked = artifact.version
        for line in result.mismatches:
            self.node.get_logger().warning(f'policy {artifact.version} vs robot: {line}')
        if result.refusal:
            raise ArtifactError(f'{artifact.path}: {result.refusal}')
        return artifact

    def robot_mismatches(self) -> list[str]:
        """The findings for the running artifact (else the last one checked)."""
        artifact = self.controller.artifact
        version = artifact.version if artifact is not None else self.last_checked
        return self.mismatches.get(version, []) if version else []

    # --- modes -------------------------------------------------------------------------------
    def stand_target(self) -> StandTarget | None:
        """The stand's target: the running policy's default pose, else the robot's."""
        artifact, robot = self.controller.artifact, self.robot
        limits = self.controller.node_limits   # the robot's now (its description may change)
        if artifact is not None:
            spec = artifact.spec
            names, interface = spec.joint_names, spec.command_interface
            trained = artifact.metadata.get('robot') or {}
            pose = np.asarray(trained.get('default_pose', spec.action_offset), dtype=np.float64)
            speeds = np.minimum(np.asarray(spec.velocity_limits, dtype=np.float64),
                                limits.velocities(names))
            gains = [np.asarray(trained[k], dtype=np.float64) if k in trained else
                     robot.values_for(getattr(robot, k), names) if robot else None
                     for k in ('kp', 'kd')]
            bounds = limits.command_bounds(names, 'position')
            lower = np.maximum(spec.command_lower, bounds[0])
            upper = np.minimum(spec.command_upper, bounds[1])
            if interface != 'position':   # the command limits are not position limits
                lower, upper = limits.command_bounds(names, 'position')
            source = f'policy {artifact.version}'
        elif robot is not None:
            names, interface, pose, gains = robot.joint_names, 'position', robot.default_pose, \
                [robot.kp, robot.kd]
            speeds = np.minimum(robot.velocity, limits.velocities(names))
            lower, upper = limits.command_bounds(names, 'position')
            source = f'{robot.source}: {robot.name}'
        else:
            return None
        pose = np.clip(pose, lower, upper)
        speeds = np.where(speeds > 0, speeds, np.inf)
        return StandTarget(tuple(names), pose, speeds, interface, gains[0], gains[1], source)

    def activate(self) -> tuple[bool, str]:
        """The ``activate`` transition: :meth:`enable` (a stand first with ``stand_on_enable``).

        While the robot's limits are awaited on the ``robot_description`` topic, enabling is
        deferred until they arrive (:meth:`limits_arrived`).

        Returns:
            Whether it was accepted, and what it did or why it was refused.
        """
        c = self.controller
        if not c.node_limits and c.limits_awaited and not c.config.trust_artifact_limits:
            self.enable_when_limits = True   # robot_description topic: enable when it comes
            message = f'enabling once the robot\'s limits arrive ({c.limits_awaited})'
            self.node.get_logger().info(f'activate: {message}')
            return True, message
        return self.enable(True)

    def limits_arrived(self) -> None:
        """The robot's limits were (re)installed: a deferred activation enables now."""
        if self.enable_when_limits:
            self.enable_when_limits = False
            ok, message = self.enable(True)
            log = self.node.get_logger()
            (log.info if ok else log.error)(f'activated, limits arrived: {message}')

    def enable(self, on: bool) -> tuple[bool, str]:
        """``~/enable``: passive → stand → policy, or back to passive via the safe command."""
        if not on:
            self.enable_when_limits = False   # a disarm cancels a deferred activation
            if self.machine.mode != 'passive':
                safe = (self.controller.safe_command() if self.machine.mode == 'policy'
                        else self.machine.safe_command(self.controller.inputs.position))
                self.controller.arm(False)
                self.machine.enable(False)
                if safe is not None:
                    self.publish(safe, 'disarmed')
            return True, 'disarmed'
        refusal = self.controller.arm_refusal()
        if refusal:
            self.controller.arm(True)   # records the fault, stays disarmed
            return False, refusal
        self.enable_when_limits = False
        if self.machine.enable(True, self.stand_target()) == 'stand':
            return True, f'standing up to the default pose ({self.machine.target.source})'
        refusal = self.controller.arm(True)
        if refusal:
            self.machine.enable(False)
            return False, refusal
        note = f' (no stand: {self.machine.note})' if self.machine.note else ''
        if self.controller.artifact is None:
            return True, f'armed, but no policy is loaded yet{note}'
        return True, f'armed{note}'

    def new_policy(self, order_changed: bool) -> None:
        """A new policy runs: a stand goes to its pose (after a state in its joint order)."""
        if order_changed:
            self.controller.inputs.position = None
        target = self.stand_target()
        if target is not None:
            self.machine.retarget(target)

    @property
    def commanding(self) -> bool:
        """Whether the node commands now (stand or policy), so its watchdog must run."""
        return self.machine.mode != 'passive'

    def safe_command(self) -> np.ndarray | None:
        """The safe command of the current mode (None when passive or nothing is known)."""
        if self.machine.mode == 'policy':
            return self.controller.safe_command()
        if self.machine.mode == 'stand':
            return self.machine.safe_command(self.controller.inputs.position)
        return None

    def command(self, now: float) -> np.ndarray | None:
        """The passive or stand command for this step (None: nothing; not for policy mode)."""
        inputs, machine = self.controller.inputs, self.machine
        if machine.mode == 'passive':
            artifact = self.controller.artifact
            if artifact is None or artifact.spec.command_interface != 'effort':
                return None   # no damping-only command on this interface
            target = self.stand_target()
            return machine.passive_command(inputs.velocity, 'effort',
                                           target.kd if target else None)
        if inputs.position is None:
            return None
        if self.controller.stale(now):
            return machine.safe_command(inputs.position)
        command = machine.stand_command(inputs.position, inputs.velocity, inputs.stamp or 0.0,
                                        now)
        if machine.stood(inputs.position) and self.controller.artifact is not None:
            refusal = self.controller.arm(True)
            if refusal is None:
                machine.start_policy()
                self.node.get_logger().info('stood up: the policy starts')
        return command

    # --- joystick ----------------------------------------------------------------------------
    def _on_joy(self, msg: Joy) -> None:
        assert self.joy is not None
        now = time.monotonic()
        for event in self.joy.update(msg.buttons, msg.axes, now):
            ok, message = self.shortcut(event == 'enable')
            self.node.get_logger().info(f'joystick {event}: {message}')
        if self.joy.problem:
            self.controller.invalid_input()
        elif self.joy.mapping.drives_cmd_vel:
            self.controller.set_cmd_vel(self.joy.cmd_vel(now), now)

    def follow_joystick(self, now: float) -> None:
        """A stale joystick that drives cmd_vel commands zero velocity: the robot stops."""
        joy = self.joy
        if joy is not None and joy.mapping.drives_cmd_vel and joy.stale(now):
            self.controller.set_cmd_vel(np.zeros(3), now)

    def status_fields(self) -> dict[str, Any]:
        """The node's ``~/status`` fields of modes, robot and joystick."""
        now = time.monotonic()
        return {**self.machine.status_fields(),
                'robot': None if self.robot is None else
                {'name': self.robot.name, 'source': self.robot.source,
                 'joints': list(self.robot.joint_names)},
                'robot_mismatches': self.robot_mismatches(),
                'joystick': None if self.joy is None else self.joy.state(now),
                'joystick_problem': None if self.joy is None else self.joy.problem}
