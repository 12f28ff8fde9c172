# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The policy node: run a policy artifact on a robot (or a simulator) safely.

Subscribes ``joint_states`` (joints matched by name), ``goal_pose`` and ``cmd_vel``, and
``imu`` / ``base_twist`` once an artifact's observation layout needs them; publishes one safe
command per control step on ``command_topic`` (std_msgs/Float64MultiArray, artifact joint
order).
All decisions (watchdog, arming, clamping, rate limit, hot-reload swap) are made by
:class:`robotrl_ros.policy.controller.PolicyController`; this node only converts messages.

Started by the ``policy_node`` console script (:mod:`robotrl_ros.nodes.policy_node`)::

    ros2 run robotrl_ros policy_node --ros-args -p policy_path:=runs/reach/policy
    ros2 service call /policy_node/enable std_srvs/srv/SetBool "{data: true}"
"""

from __future__ import annotations

import gc
import os
import sys
import threading
import time
from pathlib import Path

import numpy as np
import rclpy
from geometry_msgs.msg import PoseStamped, Twist, TwistStamped
from rclpy.event_handler import PublisherEventCallbacks, SubscriptionEventCallbacks
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.qos import QoSProfile
from sensor_msgs.msg import Imu, JointState
from std_msgs.msg import Float64MultiArray, String
from std_srvs.srv import SetBool

from robotrl_ros.nodes.policy_node import make_executor
from robotrl_ros.nodes.policy_params import ParameterError, declare_parameters
from robotrl_ros.policy.artifact import ArtifactError, PolicyArtifact, load_artifact
from robotrl_ros.policy.controller import ControllerConfig, PolicyController, projected_gravity
from robotrl_ros.policy.metadata import TERM_SOURCES
from robotrl_ros.policy.sample_window import SampleWindow
from robotrl_ros.ros.cdr import (
    CdrFormatError,
    Float64ArrayWriter,
    JointStateReader,
    JointStateSample,
    read_joint_state,
)
from robotrl_ros.ros.conversions import (
    JointIndex,
    JointStateError,
    make_joint_state,
    pose_to_goal,
    twist_to_cmd,
)
from robotrl_ros.ros.qos import COMMAND_QOS, SENSOR_QOS
from robotrl_ros.ros.shutdown import shutting_down, spin_until_shutdown, teardown
from robotrl_ros.ros.status import percentiles, status_message
from robotrl_ros.util.threads import limit_threads


class PolicyNode(Node):
    """Thin ROS wrapper around :class:`PolicyController`."""

    def __init__(self, **kwargs) -> None:
        super().__init__('policy_node', **kwargs)
        self.params = p = declare_parameters(self)
        self.controller = PolicyController(ControllerConfig(
            state_timeout=p.state_timeout, timeout_action=p.timeout_action,
            joint_limit_margin=p.joint_limit_margin, max_command_delta=p.max_command_delta,
            explore=p.explore, default_goal=p.default_goal,
            reset_on_new_goal=p.reset_on_new_goal))
        self.index: JointIndex | None = None
        self.missing_joints: list[str] = []
        self.last_input_error: str | None = None
        self.last_reload_error: str | None = None
        self.e2e_ms = SampleWindow(2000)
        self.command_times = SampleWindow(2000)
        self._load_lock = threading.Lock()
        self._next_path: str | None = None
        self._loader: threading.Thread | None = None
        self._watch_key: tuple | None = None
        self._installed: PolicyArtifact | None = None
        self._control_timer = None
        self._ticking = True       # whether _control_timer runs (on_message: only when stale)
        self._watchdog = None      # on_message: fires state_timeout after the last fresh state

        self._writer: Float64ArrayWriter | None = None   # commands as CDR bytes
        self.command_pub = self._publisher(Float64MultiArray, p.command_topic, COMMAND_QOS)
        self.joint_command_pub = (self._publisher(JointState, p.joint_command_topic, COMMAND_QOS)
                                  if p.joint_command_topic else None)
        self.status_pub = self._publisher(String, '~/status', 10)
        # Goals and commands are sent once (e.g. at an episode reset) before a policy may have
        # arrived: always listen. Sensor streams: only once a policy's layout needs them.
        # Created before joint_states: when a new goal and the new episode's first state are
        # ready together, the executor takes them in creation order (goal first).
        self._subscribe(PoseStamped, 'goal_pose', self._on_goal, COMMAND_QOS)
        self._subscribe(Twist, 'cmd_vel', self._on_cmd_vel, COMMAND_QOS)
        # Raw: the callback parses the serialized message (JointStateReader), 4x cheaper than
        # rclpy's conversion to a Python message on every state.
        self._reader = JointStateReader()
        self._subscribe(JointState, 'joint_states', self._on_joint_state_bytes, SENSOR_QOS,
                        raw=True)
        self._subscribe(String, 'policy_updates', self._on_policy_update, COMMAND_QOS)
        self._inputs = {
            'imu': (Imu, self._on_imu, SENSOR_QOS),
            'base_twist': (TwistStamped, self._on_base_twist, SENSOR_QOS),
        }
        self._subscribed: set[str] = set()
        self.create_service(SetBool, '~/enable', self._on_enable)
        self.create_timer(p.status_period, self._publish_status)
        if p.watch_policy_file and p.policy_path:
            self._watch_key = self._file_key(p.policy_path)
            self.create_timer(0.5, self._check_policy_file)

        if p.policy_path:
            try:
                self._install(load_artifact(p.policy_path))
            except ArtifactError as exc:
                self.last_reload_error = str(exc)
                self.get_logger().error(f'cannot load policy: {exc}; not commanding until a '
                                        'valid artifact arrives')
        else:
            self.get_logger().info('no policy_path: waiting for an artifact on policy_updates')
        self.controller.arm(p.armed)
        self.get_logger().info(f'policy_node ready ({p.control_mode}, '
                               f'{"armed" if p.armed else "disarmed: call ~/enable to arm"}), '
                               f'commands on {self.command_pub.topic_name}')

    # Without rclpy's default QoS-event handlers (incompatible QoS/type warnings): each is a
    # waitable that the default executor scans on every wake-up, i.e. on every joint_states
    # message (14 of this node's 28 wait-set entities). A mismatch is still logged by the peer.
    def _publisher(self, msg_type: type, topic: str, qos: QoSProfile | int):
        return self.create_publisher(
            msg_type, topic, qos,
            event_callbacks=PublisherEventCallbacks(use_default_callbacks=False))

    def _subscribe(self, msg_type: type, topic: str, callback, qos: QoSProfile,
                   raw: bool = False) -> None:
        self.create_subscription(
            msg_type, topic, callback, qos, raw=raw,
            event_callbacks=SubscriptionEventCallbacks(use_default_callbacks=False))

    # --- policy loading ----------------------------------------------------------------------
    def _install(self, artifact: PolicyArtifact) -> None:
        self.controller.offer(artifact)
        self.controller.apply_pending()
        self._sync_artifact()

    def _sync_artifact(self) -> None:
        """Follow a newly installed artifact: joint mapping, control timer, log line."""
        artifact = self.controller.artifact
        if artifact is None or artifact is self._installed:
            return
        self._installed = artifact
        if self.index is None or self.index.joint_names != artifact.spec.joint_names:
            self.index = JointIndex(artifact.spec.joint_names)
            self._writer = Float64ArrayWriter(len(artifact.spec.joint_names))
        # Only the inputs this policy reads: fewer entities = less executor work per message.
        needed = {TERM_SOURCES.get(term.name) for term in artifact.spec.observation}
        for topic in sorted(needed & set(self._inputs) - self._subscribed):
            msg_type, callback, qos = self._inputs[topic]
            self._subscribe(msg_type, topic, callback, qos)
            self._subscribed.add(topic)
        self.get_logger().info(f'running policy {artifact.version} ({artifact.spec.name}, '
                               f'{artifact.algorithm}) from {artifact.path}; joints '
                               f'{list(artifact.spec.joint_names)}')
        # Timer mode: the control rate. on_message mode: the rate of hold commands once the
        # watchdog found the states stale.
        period = self.params.control_period or artifact.spec.control_period
        if self._control_timer is not None:
            if abs(self._control_timer.timer_period_ns * 1e-9 - period) < 1e-9:
                return
            self.destroy_timer(self._control_timer)
        self._control_timer = self.create_timer(period, self._on_timer)
        if self.params.control_mode == 'on_message':
            # A timer ticking at the control rate while states arrive costs a wake-up each
            # (~0.4 ms of CPU at 50 Hz here) and delays the states it collides with. Instead
            # the watchdog, re-armed by every fresh state, fires only once they stop.
            self._control_timer.cancel()
            self._ticking = False
            if self._watchdog is None:
                self._watchdog = self.create_timer(self.params.state_timeout, self._on_watchdog)

    def _request_load(self, path: str) -> None:
        """Load ``path`` in a background thread; the newest request wins."""
        with self._load_lock:
            self._next_path = path
            if self._loader is None:  # else the running loader picks the path up
                self._loader = threading.Thread(target=self._load_worker, daemon=True)
                self._loader.start()

    def _load_worker(self) -> None:
        while True:
            with self._load_lock:
                path, self._next_path = self._next_path, None
                if path is None:
                    self._loader = None
                    return
            try:
                self.controller.offer(load_artifact(path))
                self.last_reload_error = None
            except Exception as exc:  # noqa: BLE001 - any failure: keep the running policy
                self.controller.counts['reload_failures'] += 1
                self.last_reload_error = str(exc)
                self.get_logger().error(f'policy update rejected, keeping the running policy: '
                                        f'{exc}')

    def _on_policy_update(self, msg: String) -> None:
        self.get_logger().info(f'policy update: {msg.data}')
        self._request_load(msg.data)

    @staticmethod
    def _file_key(path: str) -> tuple | None:
        try:
            stats = [os.stat(Path(path) / name) for name in ('', 'policy.pt', 'policy.yaml')]
        except OSError:
            return None
        return tuple((s.st_ino, s.st_mtime_ns, s.st_size) for s in stats)

    def _check_policy_file(self) -> None:
        key = self._file_key(self.params.policy_path)
        if key is not None and key != self._watch_key:
            self._watch_key = key
            self.get_logger().info(f'{self.params.policy_path} changed: reloading')
            self._request_load(self.params.policy_path)

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
        if self.missing_joints:
            self.missing_joints = []
        freshness = self.controller.set_state(position, velocity, msg.stamp, received)
        if freshness == 'old':
            self._bad_input('joint_states stamp older than the previous one (non-monotonic)')
            return
        if self._watchdog is not None:   # on_message mode
            if freshness == 'fresh':     # (a re-sent stamp is no proof of life)
                self._watchdog.reset()
                if self._ticking:
                    self._control_timer.cancel()
                    self._ticking = False
            self._control_step(received)

    def _on_goal(self, msg: PoseStamped) -> None:
        try:
            self.controller.set_goal(pose_to_goal(msg))
        except ValueError as exc:
            self._bad_input(str(exc))

    def _on_cmd_vel(self, msg: Twist) -> None:
        try:
            self.controller.set_cmd_vel(twist_to_cmd(msg))
        except ValueError as exc:
            self._bad_input(str(exc))

    def _set_imu(self, key: str, value: np.ndarray) -> None:
        if not np.all(np.isfinite(value)):
            self._bad_input(f'{key} contains NaN/Inf: {value.tolist()}')
            return
        self.controller.inputs.imu[key] = value

    def _on_imu(self, msg: Imu) -> None:
        q = msg.orientation
        quat = np.array([q.x, q.y, q.z, q.w])
        if np.all(np.isfinite(quat)) and np.linalg.norm(quat) > 1e-6:
            self._set_imu('projected_gravity', projected_gravity(quat))
        else:
            self._bad_input(f'imu orientation is not a valid quaternion: {quat.tolist()}')
        w = msg.angular_velocity
        self._set_imu('base_ang_vel', np.array([w.x, w.y, w.z]))

    def _on_base_twist(self, msg: TwistStamped) -> None:
        v = msg.twist.linear
        self._set_imu('base_lin_vel', np.array([v.x, v.y, v.z]))

    def _on_enable(self, request: SetBool.Request, response: SetBool.Response) -> SetBool.Response:
        was = self.controller.armed
        self.controller.arm(bool(request.data))
        if was and not request.data:
            self._publish(self.controller.stop_command(), None)
        response.success = True
        response.message = 'armed' if request.data else 'disarmed'
        if request.data and self.controller.artifact is None:
            response.message = 'armed, but no policy is loaded yet'
        self.get_logger().info(f'~/enable: {response.message}')
        return response

    # --- control -----------------------------------------------------------------------------
    def _on_watchdog(self) -> None:
        """on_message mode, no fresh state for state_timeout: act now, then every period."""
        self._on_timer()
        if not self._ticking:
            self._control_timer.reset()
            self._ticking = True

    def _on_timer(self) -> None:
        if self.params.control_mode == 'timer':
            self._control_step(self.controller.inputs.received)
        elif self.controller.armed and self.controller.stale(time.monotonic()):
            self._control_step(None)  # on_message mode: the watchdog acts without messages

    def _control_step(self, received: float | None) -> None:
        previous = self.controller.artifact
        command = self.controller.step()
        if self.controller.artifact is not previous:
            self._sync_artifact()
        self._publish(command, received)

    def _publish(self, command: np.ndarray | None, received: float | None) -> None:
        if command is None:
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
        """The ``~/status`` fields."""
        c, artifact = self.controller, self.controller.artifact
        if not c.armed:
            state = 'disarmed'
        elif c.fault or self.missing_joints or artifact is None:
            state = 'faulted'
        else:
            state = 'armed'
        recent = np.count_nonzero(self.command_times.values() >= time.monotonic() - 2.0)
        return {
            'node': self.get_name(), 'state': state, 'fault': c.fault, 'armed': c.armed,
            'policy_version': artifact.version if artifact else None,
            'policy_path': str(artifact.path) if artifact else None,
            'inference_backend': artifact.backend if artifact else None,
            'task': artifact.spec.name if artifact else None,
            'control_mode': self.params.control_mode,
            'control_rate_hz': recent / 2.0,
            'inference_latency_ms': percentiles(c.inference_ms.values()),
            'end_to_end_latency_ms': percentiles(self.e2e_ms.values()),
            'counts': dict(c.counts, clamped=c.filter.clamped if c.filter else 0,
                           rate_limited=c.filter.rate_limited if c.filter else 0),
            'missing_joints': self.missing_joints,
            'last_input_error': self.last_input_error,
            'last_reload_error': self.last_reload_error,
        }

    def _publish_status(self) -> None:
        if not self.controller.armed or self.controller.artifact is None:
            self.controller.apply_pending()  # not commanding: install a new policy now
            self._sync_artifact()
        self.status_pub.publish(status_message(self.status()))


def run(args: list[str] | None = None) -> int:
    """Run the node until SIGINT/SIGTERM (0), or a bad parameter (2); returns the exit code."""
    limit_threads(1)  # a small MLP per message: threads only add latency
    rclpy.init(args=args)
    node = None
    code = 0
    try:
        node = PolicyNode()
        executor = make_executor(node.params.executor)
        executor.add_node(node)
        # The ~180k objects of torch, rclpy and the policy never die: out of the collector's
        # reach, a full collection (126 ms here, a stalled control loop) cannot come.
        gc.collect()
        gc.freeze()
        spin_until_shutdown(executor, node.get_logger())
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except ParameterError as exc:
        print(f'policy_node: {exc}', file=sys.stderr)
        code = 2
    except Exception:
        if not shutting_down():
            raise
        # A callback racing the SIGINT/SIGTERM shutdown (publishing on a closed context).
    finally:
        teardown(node)
    return code


if __name__ == '__main__':
    sys.exit(run())
