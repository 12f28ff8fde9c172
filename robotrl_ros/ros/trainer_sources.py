# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The trainer's subscriptions to one robot or simulator graph (one *source*).

A :class:`SourceStreams` subscribes, under its namespace ``ns`` (``''`` = the trainer's own
relative names), to ``<ns>/joint_states``, ``<ns>/<command_topic>``, ``<ns>/goal_pose``,
``<ns>/cmd_vel``, ``<ns>/imu``, ``<ns>/base_twist``, ``<ns>/policy_node/explore_sample`` (the
samples behind its exploring commands) and ``<ns>/policy_node/status`` (which policy the
source runs); converts each message; puts them back in publish order with its own
:class:`~robotrl_ros.training.online.reorder.ReorderBuffer` (one clock per source: sources on
other machines are never compared); and hands them to the session tagged with the source. It
ends the source's simulated episodes through ``<ns>/<reset_service>``
(:class:`~robotrl_ros.ros.episode_resets.EpisodeResets`) and pauses its simulator through
``<ns>/<pause_service>`` (``sim_bridge/enable``) while learning lags.
"""

from __future__ import annotations

import json
import time
from typing import Any

from geometry_msgs.msg import PoseStamped, Twist, TwistStamped
from rclpy.node import Node
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Imu, JointState
from std_msgs.msg import Float64MultiArray, String
from std_srvs.srv import SetBool

from robotrl_ros.ros.conversions import (
    JointIndex,
    JointStateError,
    base_twist_to_inputs,
    command_to_array,
    imu_to_inputs,
    pose_to_goal,
    stamp_to_sec,
    twist_to_cmd,
)
from robotrl_ros.ros.episode_resets import EpisodeResets
from robotrl_ros.ros.pending_request import PendingRequest
from robotrl_ros.ros.qos import COMMAND_QOS, quiet_subscription
from robotrl_ros.training.online.base_signals import observes_base
from robotrl_ros.training.online.reorder import ReorderBuffer

#: Messages the trainer's subscriptions keep while it is busy (its learner thread or other
#: processes hold the CPU): deep enough that a loaded machine delays transitions, not loses them.
QUEUE_DEPTH = 5000
#: Best effort like SENSOR_QOS (compatible with every publisher), but a deep queue: a trainer
#: wants every state, not only the newest, or transitions are lost while it is busy.
STATE_QOS = QoSProfile(depth=QUEUE_DEPTH, history=HistoryPolicy.KEEP_LAST,
                       reliability=ReliabilityPolicy.BEST_EFFORT)
#: Commands are reliable (the policy node publishes them so), with the same deep queue.
COMMAND_LOG_QOS = QoSProfile(depth=QUEUE_DEPTH, history=HistoryPolicy.KEEP_LAST,
                             reliability=ReliabilityPolicy.RELIABLE)
#: The policy node's status topic, relative to a source's namespace.
POLICY_STATUS_TOPIC = 'policy_node/status'
#: The exploring policy node's samples (before the clamp), relative to a source's namespace.
EXPLORE_SAMPLE_TOPIC = 'policy_node/explore_sample'

#: Seconds a pause or re-arm request may stay unanswered before it is sent again.
PAUSE_RETRY = 2.0
#: Seconds the simulator stays paused for the policy node to report an on-policy update.
POLICY_WAIT = 5.0


def _ns() -> int:
    return time.time_ns()


def source_topic(ns: str, name: str) -> str:
    """``<ns>/<name>``; ``name`` itself for the trainer's own relative source (``ns == ''``)."""
    return f'{ns.rstrip("/")}/{name}' if ns else name


class _SourceSession:
    """The session's reset interface bound to one source (what EpisodeResets calls)."""

    def __init__(self, session: Any, name: str) -> None:
        self.session, self.name = session, name

    def needs_reset(self) -> bool:
        return self.session.needs_reset(self.name)

    def awaiting_reset(self) -> bool:
        return self.session.awaiting_reset(self.name)

    def stop_using_resets(self) -> None:
        self.session.stop_using_resets(self.name)

    def begin_reset(self, log_time: int) -> None:
        self.session.begin_reset(log_time, self.name)

    def end_reset(self, episode: int, stamp: float, log_time: int, command: Any = None) -> None:
        self.session.end_reset(episode, stamp, log_time, command, self.name)


class SourceStreams:
    """Subscriptions, ordering, resets and pausing of one source of a trainer node.

    Args:
        node: The trainer node (owns subscriptions, clients, logger).
        session: Its :class:`~robotrl_ros.training.online.session.OnlineSession`.
        ns: The source's namespace ('' = the node's relative topics).
        command_topic: The command topic the source's policy node publishes (relative).
        reset_service: Relative Trigger service of the source's bridge ('' = none).
        pause_service: Relative SetBool service whose ``false`` pauses the source's stream
            (``sim_bridge/enable``; '' = none).
    """

    def __init__(self, node: Node, session: Any, ns: str, command_topic: str,
                 reset_service: str, pause_service: str) -> None:
        self.node, self.session, self.ns = node, session, ns
        self.joints = JointIndex(session.spec.joint_names)
        topic = lambda name: source_topic(ns, name)  # noqa: E731 - local shorthand
        subscribe = lambda msg_type, name, callback, qos: quiet_subscription(  # noqa: E731
            node, msg_type, topic(name), callback, qos)
        # First: an executor serving several ready subscriptions takes them in this order, and
        # a sample is published just before its command (it is matched by content anyway).
        subscribe(Float64MultiArray, EXPLORE_SAMPLE_TOPIC, self._on_sample, COMMAND_LOG_QOS)
        subscribe(JointState, 'joint_states', self._on_joint_state, STATE_QOS)
        subscribe(Float64MultiArray, command_topic, self._on_command, COMMAND_LOG_QOS)
        subscribe(PoseStamped, 'goal_pose', self._on_goal, COMMAND_QOS)
        subscribe(Twist, 'cmd_vel', self._on_cmd_vel, COMMAND_QOS)
        subscribe(Imu, 'imu', self._on_imu, STATE_QOS)
        subscribe(TwistStamped, 'base_twist', self._on_base_twist, STATE_QOS)
        subscribe(String, POLICY_STATUS_TOPIC, self._on_policy_status, 10)
        self.resets = EpisodeResets(node, _SourceSession(session, ns),
                                    topic(reset_service) if reset_service else '', _ns)
        self.pause_client = (node.create_client(SetBool, topic(pause_service))
                             if pause_service else None)
        self.paused: bool | None = False    # None: unknown (a request went unanswered)
        self._pause_request = PendingRequest(PAUSE_RETRY)
        self.pauses = 0
        self.policy_waits = self.policy_wait_timeouts = 0   # on-policy updates awaited
        self._awaited_version, self._awaited_since = -1, 0.0
        self._wait_abandoned = False   # the awaited version's wait timed out (reported once)
        # A floating base's state is three streams: a joint state waits for its imu and base
        # twist (published before it), not only for the command that answers it.
        base = ('imu', 'base_twist') if observes_base(session.spec) else ()
        self.reorder = ReorderBuffer(('joint_states', 'commands', *base))

    # --- ordering: convert, then release in publish order ----------------------------------
    def _push(self, stream: str, info: dict[str, int], item: Any) -> None:
        now = _ns()
        self.reorder.push(stream, info.get('source_timestamp') or now, item, now)
        self.release(now, finished=False)

    def release(self, now: int, finished: bool) -> None:
        """Hand the events due to the session; request a reset if an episode ended."""
        session, ns = self.session, self.ns
        for stream, (source, item) in self.reorder.pop_ready(now):
            if stream == 'joint_states':
                stamp, names, position, velocity = item
                session.joint_state(stamp, names, position, velocity, source, ns)
            elif stream == 'commands':
                session.command(item, source, ns)
            elif stream == 'explore_sample':
                session.explore_sample(item, ns)
            elif stream == 'goal_pose':
                session.goal(item[0], item[1], source, ns)
            elif stream == 'imu':
                session.imu(*item, source, ns)
            elif stream == 'base_twist':
                session.base_twist(*item, source, ns)
            else:
                session.cmd_vel(item, source, ns)
        if not finished and session.needs_reset(ns):
            self.resets.request()

    # --- subscriptions ---------------------------------------------------------------------
    def _on_joint_state(self, msg: JointState, info: dict[str, int]) -> None:
        try:
            position, velocity, _ = self.joints.extract(msg)
        except JointStateError as exc:
            self.session.count_bad('bad_joint_state')
            self.node.get_logger().warn(f'{self.ns or "."}: {exc}', throttle_duration_sec=5.0)
            return
        source = info.get('source_timestamp') or _ns()
        self._push('joint_states', info, (source, (stamp_to_sec(msg.header.stamp), msg.name,
                                                   position, velocity)))

    def _on_command(self, msg: Float64MultiArray, info: dict[str, int]) -> None:
        self._push_action_array('commands', 'command', msg, info)

    def _on_sample(self, msg: Float64MultiArray, info: dict[str, int]) -> None:
        self._push_action_array('explore_sample', 'explore_sample', msg, info)

    def _push_action_array(self, stream: str, what: str, msg: Float64MultiArray,
                           info: dict[str, int]) -> None:
        """One value per action (a command or a sample), or ``bad_<what>`` counted."""
        try:
            values = command_to_array(msg, self.session.spec.action_dim)
        except ValueError as exc:
            self.session.count_bad(f'bad_{what}')
            self.node.get_logger().warn(f'ignored {what}: {exc}', throttle_duration_sec=5.0)
            return
        self._push(stream, info, (info.get('source_timestamp') or _ns(), values))

    def _on_goal(self, msg: PoseStamped, info: dict[str, int]) -> None:
        try:
            goal = pose_to_goal(msg)
        except ValueError as exc:
            self.node.get_logger().warn(str(exc))
            return
        self._push('goal_pose', info, (info.get('source_timestamp') or _ns(),
                                       (goal, stamp_to_sec(msg.header.stamp))))

    def _on_imu(self, msg: Imu, info: dict[str, int]) -> None:
        _, problems = imu_to_inputs(msg)
        if problems:
            self.session.count_bad('bad_imu')
            self.node.get_logger().warn(f'ignored imu: {"; ".join(problems)}',
                                        throttle_duration_sec=5.0)
            return
        q, w = msg.orientation, msg.angular_velocity
        self._push('imu', info, (info.get('source_timestamp') or _ns(), (
            stamp_to_sec(msg.header.stamp), (q.x, q.y, q.z, q.w), (w.x, w.y, w.z),
            msg.header.frame_id)))

    def _on_base_twist(self, msg: TwistStamped, info: dict[str, int]) -> None:
        _, problems = base_twist_to_inputs(msg)
        if problems:
            self.session.count_bad('bad_base_twist')
            self.node.get_logger().warn(f'ignored base_twist: {"; ".join(problems)}',
                                        throttle_duration_sec=5.0)
            return
        v, w = msg.twist.linear, msg.twist.angular
        self._push('base_twist', info, (info.get('source_timestamp') or _ns(), (
            stamp_to_sec(msg.header.stamp), (v.x, v.y, v.z), (w.x, w.y, w.z),
            msg.header.frame_id)))

    def _on_cmd_vel(self, msg: Twist, info: dict[str, int]) -> None:
        try:
            cmd = twist_to_cmd(msg)
        except ValueError as exc:
            self.node.get_logger().warn(str(exc))
            return
        self._push('cmd_vel', info, (info.get('source_timestamp') or _ns(), cmd))

    def _on_policy_status(self, msg: String) -> None:
        """Which artifact the source's policy node runs (its version tags the transitions)."""
        try:
            status = json.loads(msg.data)
            version, path = status.get('policy_version'), status.get('policy_path')
        except (ValueError, AttributeError):
            return  # not a policy node's status: the version stays unknown
        self.session.source_policy(self.ns, version if isinstance(version, str) else None,
                                   path if isinstance(path, str) else None)

    # --- backpressure ----------------------------------------------------------------------
    def awaits_policy(self, now: float) -> bool:
        """On-policy: the source's policy node has not yet reported the newest update.

        Its simulator should stand still meanwhile (what it would act is dropped as stale),
        for at most :data:`POLICY_WAIT` seconds per update: a policy node that never reports
        the artifact (it refused it, or reports no status) is then no longer waited for.
        """
        newest = self.session.stale_policy(self.ns)
        if newest < 0:
            return False
        if newest != self._awaited_version:
            self._awaited_version, self._awaited_since = newest, now
            self._wait_abandoned = False
            self.policy_waits += 1
        if self._wait_abandoned:
            return False
        if now - self._awaited_since <= POLICY_WAIT:
            return True
        self.policy_wait_timeouts += 1   # counted and reported once per abandoned wait
        self._wait_abandoned = True
        self.node.get_logger().warn(
            f'source {self.ns or "."}: its policy node has not reported policy {newest} for '
            f'{POLICY_WAIT} s; its transitions are dropped as stale until it does (see its '
            '~/status last_reload_error)')
        return False

    def pause(self, want: bool) -> None:
        """Pause (``want``) or resume the source's simulator, once per change.

        A request unanswered for :data:`PAUSE_RETRY` seconds is abandoned and the state becomes
        unknown, so the next call sends the wanted state again (``SetBool`` is idempotent): a
        service can apply a request and lose its response when it has not yet discovered a new
        client, and a lost "re-arm" would otherwise leave the robot disarmed for good.
        """
        if self.pause_client is None:
            return
        if self._pause_request.in_flight:
            if not self._pause_request.overdue():
                return
            self._pause_request.abandon()
            self.paused = None
        if want == self.paused or not self.pause_client.service_is_ready():
            return

        def done(fut: Any, paused: bool = want) -> None:
            try:
                ok = fut.result().success
            except Exception:  # noqa: BLE001 - retried on the next call
                ok = False
            if ok:
                self.paused = paused
                self.pauses += int(paused)
                if paused:   # silent by request: not expired (source_timeout) while paused
                    self.session.source_paused(self.ns, True)
        if not want:   # from the resume on, silence counts again (a dead bridge expires)
            self.session.source_paused(self.ns, False)
        self._pause_request.send(self.pause_client, SetBool.Request(data=not want), done)
