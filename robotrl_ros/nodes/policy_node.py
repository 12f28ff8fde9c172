# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""policy_node: run a policy artifact on a robot (or a simulator) safely.

Subscribes ``joint_states`` (joints matched by name), ``goal_pose`` and ``cmd_vel``, and
``imu`` / ``base_twist`` once an artifact's observation layout needs them; publishes one safe
command per control step on ``command_topic`` (std_msgs/Float64MultiArray, artifact joint
order; with ``explore``, the sample behind it, before the clamp, on ``~/explore_sample`` just
before it). All decisions (watchdog, input timeouts, arming, limits, rate limit, hot-reload swap)
are made by :class:`robotrl_ros.policy.controller.PolicyController`; this node converts
messages, reads the robot's limits (``robot``, ``robot_description``, ``joint_limits``) and
publishes the interface's safe command on disarm, on any error in the control path and before
it exits on SIGINT/SIGTERM. The modes passive → stand → policy, the artifact-vs-robot check and
the gamepad: :mod:`.policy_node_modes`. A managed (lifecycle) node: configure / activate /
deactivate / cleanup, ``autostart`` and the ``~/enable`` shortcut: :mod:`.policy_node_lifecycle`.
How artifacts reach the node and are installed (``policy_path``, ``policy_updates``, bytes):
:mod:`.policy_node_updates`.
Parameters: :mod:`robotrl_ros.nodes.policy_node_params`::

    ros2 run robotrl_ros policy_node --ros-args -p policy_path:=runs/reach/policy
    ros2 service call /policy_node/enable std_srvs/srv/SetBool "{data: true}"
    ros2 lifecycle set /policy_node deactivate
"""

from __future__ import annotations

import time
from typing import Any, NoReturn

import numpy as np
from rclpy.duration import Duration
from sensor_msgs.msg import JointState
from std_msgs.msg import Float64MultiArray, String
from std_srvs.srv import SetBool

from robotrl_ros.nodes.policy_node_inputs import ControllerInputs
from robotrl_ros.nodes.policy_node_lifecycle import PolicyNodeLifecycle, start_target
from robotrl_ros.nodes.policy_node_modes import ModeDriver
from robotrl_ros.nodes.policy_node_params import POLICY_NODE_PARAMETERS
from robotrl_ros.nodes.policy_node_status import node_status
from robotrl_ros.nodes.policy_node_updates import PolicyUpdates
from robotrl_ros.policy.artifact import PolicyArtifact
from robotrl_ros.policy.controller import TIMED_INPUTS, ControllerConfig, PolicyController
from robotrl_ros.policy.deploy_robot import DeployRobot
from robotrl_ros.policy.joint_limits import JointLimits
from robotrl_ros.policy.loader import ArtifactLoader, ArtifactWatcher, trusted_artifact_dirs
from robotrl_ros.policy.sample_window import SampleWindow
from robotrl_ros.ros.artifact_transport import ArtifactReceiver
from robotrl_ros.ros.cdr import (
    CdrFormatError,
    Float64ArrayWriter,
    JointStateReader,
    read_joint_state,
)
from robotrl_ros.ros.control_timers import ControlTimers
from robotrl_ros.ros.conversions import (
    JointIndex,
    JointStateError,
    JointStateSample,
    make_joint_state,
)
from robotrl_ros.ros.diagnostics import DiagnosticsPublisher, policy_node_checks
from robotrl_ros.ros.node_runner import RunnableNode, exit_process, run_node
from robotrl_ros.ros.params import declare_parameters
from robotrl_ros.ros.qos import COMMAND_QOS, SENSOR_QOS, quiet_publisher, quiet_subscription
from robotrl_ros.ros.status import status_message
from robotrl_ros.ros.stop_request import stop_requested
from robotrl_ros.util.threads import limit_threads

#: Parameters that the controller reads (ControllerConfig fields).
CONTROLLER_PARAMETERS = ('state_timeout', 'timeout_action', 'joint_limit_margin',
                         'max_command_delta', 'max_command_rate', 'control_period', 'explore',
                         'reset_on_new_goal', 'trust_artifact_limits', 'input_timeout',
                         'max_stamp_jump')
#: How long closing waits for the subscribers to acknowledge the last safe command.
SAFE_COMMAND_ACK_TIMEOUT = 1.0
#: Seconds between checks for a loaded update to install while no state arrives.
INSTALL_PERIOD = 0.05


class PolicyNode(PolicyNodeLifecycle, PolicyUpdates, RunnableNode):
    """Thin ROS wrapper around :class:`PolicyController`, a managed (lifecycle) node.

    The constructor declares the parameters and creates the topics, services and the status
    timer; the robot, its limits and the artifact are loaded by the ``configure`` transition
    (:meth:`configure_runtime`) and released by ``cleanup`` (:mod:`.policy_node_lifecycle`).
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__('policy_node', **kwargs)
        self.params = p = declare_parameters(self, POLICY_NODE_PARAMETERS, self._apply_changes)
        target = start_target(p.autostart, p.armed)
        self.executor_kind = p.executor
        if p.max_command_delta > 0:
            self.get_logger().warning('max_command_delta is deprecated (per message, so its '
                                      'meaning changes with the rate): use max_command_rate '
                                      '(units per second)')
        self.configured = False
        self.robot: DeployRobot | None = None
        self.node_limits = JointLimits()
        self.description_limits = None   # RobotDescriptionLimits while configured
        self.controller = self._new_controller(self.node_limits)
        self.index: JointIndex | None = None
        self._writer: Float64ArrayWriter | None = None   # commands as CDR bytes
        self.missing_joints: list[str] = []
        self.last_input_error: str | None = None
        self.last_reload_error: str | None = None
        self.e2e_ms = SampleWindow(2000)
        self.command_times = SampleWindow(2000)
        self.trusted_dirs = trusted_artifact_dirs(p.trusted_artifact_dirs, p.policy_path)
        self.loader = ArtifactLoader(self._load_update, self._on_reloaded,
                                     self._on_reload_failure, p.artifact_load_timeout)
        self._installed: PolicyArtifact | None = None
        self._last_update: ArtifactWatcher | None = None   # the last path loaded from an update
        self.control_timers = ControlTimers(self, p.control_mode, p.state_timeout, self._on_timer)

        self.command_pub = quiet_publisher(self, Float64MultiArray, p.command_topic,
                                           COMMAND_QOS)
        self.joint_command_pub = (quiet_publisher(self, JointState, p.joint_command_topic,
                                                  COMMAND_QOS) if p.joint_command_topic else None)
        # Exploring: each computed command's sample before the clamp, published just before
        # the command, so an on-policy trainer scores what was sampled (docs/interfaces.md).
        self.sample_pub = quiet_publisher(self, Float64MultiArray, '~/explore_sample',
                                          COMMAND_QOS)
        self.status_pub = quiet_publisher(self, String, '~/status', 10)
        self.diagnostics = DiagnosticsPublisher(
            self, lambda status, deltas: policy_node_checks(status, deltas,
                                                            self.params.latency_warn_ms),
            lambda status: status.get('task') or '')
        self.inputs = ControllerInputs(self, self.controller, self._bad_input)
        # Raw: the callback parses the serialized message (JointStateReader), cheaper than
        # rclpy's conversion to a Python message on every state (raw_cdr: false = rclpy's).
        self._reader = JointStateReader()
        if p.raw_cdr:
            quiet_subscription(self, JointState, 'joint_states', self._on_joint_state_bytes,
                               SENSOR_QOS, raw=True)
        else:
            quiet_subscription(self, JointState, 'joint_states', self._on_joint_state_msg,
                               SENSOR_QOS)
        if p.enable_policy_updates:   # else nobody on the DDS domain can swap the policy
            quiet_subscription(self, String, 'policy_updates', self._on_policy_update,
                               COMMAND_QOS)
        self.artifact_receiver = ArtifactReceiver(   # artifacts as bytes, from any machine
            self, p.artifact_dir, allow_torchscript=p.allow_torchscript,
            max_bytes=p.max_artifact_bytes, load_timeout=p.artifact_load_timeout,
            accept=self._on_reloaded, rejected=self._on_reload_failure,
        ) if p.enable_policy_artifacts else None
        self.modes = ModeDriver(self, p, self.controller, None, self._send,
                                shortcut=self.enable_shortcut)
        self.create_service(SetBool, '~/enable', self._on_enable)
        self.create_timer(p.status_period, self._publish_status)
        self.create_timer(INSTALL_PERIOD, self._install_loaded)
        if p.watch_policy_file and p.policy_path:
            self.watcher = ArtifactWatcher(p.policy_path)
            self.create_timer(0.5, self._check_policy_file)
        self.start_lifecycle(target)
        limits = ', '.join(self.node_limits.sources) or (
            'the artifact (trust_artifact_limits)' if p.trust_artifact_limits else 'none')
        self.get_logger().info(f'policy_node ready ({p.control_mode}, {self.lifecycle_state}, '
                               f'{"armed" if self.controller.armed else "disarmed"}, '
                               f'limits from {limits}), '
                               f'commands on {self.command_pub.topic_name}')

    def _new_controller(self, node_limits: JointLimits) -> PolicyController:
        p = self.params
        return PolicyController(ControllerConfig(
            **{name: p[name] for name in CONTROLLER_PARAMETERS},
            input_timeouts={name: p[f'{name}_timeout'] for name in TIMED_INPUTS},
            default_goal=tuple(p.default_goal)), node_limits=node_limits)

    def _use_controller(self, controller: PolicyController) -> None:
        """Every part of the node drives ``controller`` from now on."""
        self.controller = self.inputs.controller = self.modes.controller = controller

    def _apply_changes(self, changes: dict[str, Any]) -> None:
        """Dynamic parameters: the controller uses them from its next step."""
        self.controller.reconfigure(**{k: v for k, v in changes.items()
                                       if k in CONTROLLER_PARAMETERS})

    # --- inputs ------------------------------------------------------------------------------
    def _bad_input(self, reason: str) -> None:
        self.controller.invalid_input()
        if reason != self.last_input_error:
            self.get_logger().error(f'ignoring input: {reason}')
        self.last_input_error = reason

    def _on_joint_state_bytes(self, data: bytes) -> None:
        received = time.monotonic()
        try:
            sample = read_joint_state(self._reader, data)
        except CdrFormatError as exc:
            self._bad_input(f'joint_states: {exc}')
            return
        self._on_joint_state(sample, received)

    def _on_joint_state_msg(self, msg: JointState) -> None:
        received = time.monotonic()
        try:
            sample = JointStateSample.from_message(msg)
        except ValueError as exc:
            self._bad_input(f'joint_states: {exc}')
            return
        self._on_joint_state(sample, received)

    def _on_joint_state(self, msg: JointStateSample, received: float) -> None:
        if self.index is None:
            self.controller.apply_pending()
            self._sync_artifact()
            if self.index is None:
                return
        try:
            position, velocity, _ = self.index.extract(msg)
        except JointStateError as exc:
            missing = self.index.missing(msg.name)
            if missing and missing != self.missing_joints:
                self.get_logger().error(f'joint_states lacks policy joint(s) {missing}; '
                                        'refusing to command')
            self.missing_joints = missing
            self._bad_input(str(exc))
            return
        self.missing_joints = []
        freshness = self.controller.set_state(position, velocity, msg.stamp, received)
        if freshness == 'old':
            self._bad_input('joint_states stamp older than the previous one (non-monotonic)')
            return
        if freshness == 'jump':
            self._bad_input(f'joint_states stamp {msg.stamp:.9g} jumps more than '
                            f'max_stamp_jump={self.params.max_stamp_jump} s ahead')
            return
        if self.control_timers.on_message:
            if freshness == 'fresh':     # (a re-sent stamp is no proof of life)
                self.control_timers.fresh_state()
            self._control_step(received)

    def _on_enable(self, request: SetBool.Request, response: SetBool.Response) -> SetBool.Response:
        response.success, response.message = self.enable_shortcut(bool(request.data))
        self.get_logger().info(f'~/enable: {response.message}')
        return response

    def _disarm_for(self, reason: str) -> None:
        """Inactive, through the safe command (an unusable robot description)."""
        if self.lifecycle_state == 'active':
            self.trigger_deactivate()
        self.modes.enable(False)
        self.controller.arm(False)
        self.controller.fault = reason

    # --- control -----------------------------------------------------------------------------
    def _on_timer(self) -> None:
        if self.params.control_mode == 'timer':
            self._control_step(self.controller.inputs.received)
        elif self.modes.commanding and self.controller.stale(time.monotonic()):
            self._control_step(None)  # on_message mode: the watchdog acts without messages

    def _control_step(self, received: float | None) -> None:
        if not self.configured:
            return
        now = time.monotonic()
        if self.modes.machine.mode != 'policy':   # passive, stand
            self._publish(self.modes.command(now), received)
            return
        self.modes.follow_joystick(now)
        previous = self.controller.artifact
        try:
            command = self.controller.step()
        except Exception as exc:  # noqa: BLE001 - any error is a fault, never a crash
            self.controller.fault = f'control step failed: {type(exc).__name__}: {exc}'
            self.get_logger().error(self.controller.fault)
            command = self.controller.safe_command()
        if self.controller.artifact is not previous:
            self._sync_artifact()
        sample = self.controller.sample
        if sample is not None and command is not None and not stop_requested():
            self.sample_pub.publish(Float64MultiArray(data=sample.tolist()))
        self._publish(command, received)

    def _send(self, command: np.ndarray, why: str) -> bool:
        """Publish the interface's safe command now (disarm, shutdown); whether one was sent."""
        if self._writer is None:
            return False
        self.command_pub.publish(self._writer.write(command))
        self.get_logger().info(f'{why}: sent the safe command {np.round(command, 6).tolist()}')
        return True

    def close(self) -> None:
        """SIGINT/SIGTERM or shutdown: the safe command goes out before the node does."""
        command = self.modes.safe_command()
        if command is not None and self._send(command, 'stopping'):
            self.command_pub.wait_for_all_acked(Duration(seconds=SAFE_COMMAND_ACK_TIMEOUT))

    def _publish(self, command: np.ndarray | None, received: float | None) -> None:
        if command is None or stop_requested():   # SIGINT/SIGTERM: close() sends the last
            return
        self.command_pub.publish(self._writer.write(command))
        now = time.monotonic()
        if self.joint_command_pub is not None and self.controller.artifact is not None:
            # header.stamp = stamp of the joint_states this command answers (traceability).
            self.joint_command_pub.publish(make_joint_state(
                self.controller.artifact.spec.joint_names, command, np.zeros(0),
                stamp=self.controller.inputs.stamp or 0.0))
        self.command_times.append(now)
        if received is not None and not self.controller.timed_out:
            self.e2e_ms.append(1e3 * (now - received))

    # --- status ------------------------------------------------------------------------------
    def status(self) -> dict:
        """The ``~/status`` fields (:func:`~robotrl_ros.nodes.policy_node_status.node_status`)."""
        return node_status(self)

    def _publish_status(self) -> None:
        if not self.controller.armed or self.controller.artifact is None:
            self.controller.apply_pending()  # not commanding: install a new policy now
            self._sync_artifact()
        status = self.status()
        self.status_pub.publish(status_message(status))
        self.diagnostics.publish({**status, 'timed_out': self.controller.timed_out})


def main(args: list[str] | None = None) -> NoReturn:
    """Entry point of the ``policy_node`` executable; exits with the node's exit code."""
    # One thread (a small MLP per message: threads only add latency); the objects of torch,
    # rclpy and the policy live forever: frozen out of the collector's reach.
    limit_threads(1, import_torch=False)   # torch only for a TorchScript artifact (opt-in)
    exit_process(run_node(PolicyNode, 'policy_node', args, freeze_gc=True,
                          bounded_stop=True))


if __name__ == '__main__':
    main()
