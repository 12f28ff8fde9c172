# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""trainer_node: learn a policy from what is observed on the ROS graph, in sim or on a robot.

Subscribes ``joint_states``, the command topic the policy node publishes (it explores),
``goal_pose`` / ``cmd_vel``, and for a floating base ``imu`` and ``base_twist`` (each joint
state gets the samples nearest its stamp, within ``imu_tolerance``); pairs them into transitions
whose reward and termination the task computes from the observed states (``TransitionPairer``);
learns online (``OnlineLearner``: SAC and DQN from a replay buffer, PPO and REINFORCE from
rollouts); ends simulated episodes through
``reset_service``; publishes each improved policy as an artifact directory (exported aside,
fsynced, renamed) and announces its path on ``policy_updates``. Every transition is logged and
fsynced before ``~/status`` reports it as stored; checkpoints are atomic, so a restart with the
same ``output_dir`` resumes after any crash. Learning runs in a worker thread, one update per
lock acquisition, so subscription callbacks are never starved. Messages are handled in the
order their publishers sent them (``ReorderBuffer``), not in the executor's topic order.

Fleet: with ``robot_namespaces``, the same topics are read under each namespace, one robot or
simulator graph each (:mod:`robotrl_ros.ros.trainer_sources`), with its own pairing, episodes
and resets, all feeding one learner; a robot silent for ``source_timeout`` leaves the rollout
and rejoins when it speaks again (docs/fleet.md).

Example (with ``sim_bridge`` in lockstep and ``policy_node`` with ``explore: true``)::

    trainer_node --ros-args -p task:=reach -p algo:=sac -p output_dir:=runs/graph
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any, NoReturn

from std_msgs.msg import String

from robotrl_ros.nodes.trainer_node_params import TRAINER_NODE_PARAMETERS
from robotrl_ros.ros.artifact_transport import ArtifactPublisher
from robotrl_ros.ros.diagnostics import DiagnosticsPublisher, trainer_node_checks
from robotrl_ros.ros.node_runner import RunnableNode, exit_process, run_node
from robotrl_ros.ros.params import declare_parameters
from robotrl_ros.ros.qos import COMMAND_QOS
from robotrl_ros.ros.status import status_message
from robotrl_ros.ros.trainer_sources import SourceStreams, source_topic
from robotrl_ros.training.online.session import OnlineSession, SessionConfig
from robotrl_ros.training.online.sources import check_namespaces
from robotrl_ros.training.online.store import StorageError
from robotrl_ros.util.threads import limit_threads

SYNC_PERIOD = 0.2          # s between fsyncs of the transition log
CHECKPOINT_PERIOD = 30.0   # s between checkpoints
PAUSE_ABOVE = 50           # backlog (transitions not yet learned from) that pauses the graph
RESUME_BELOW = 10          # backlog at which it resumes


class TrainerNode(RunnableNode):
    """ROS front end of an :class:`OnlineSession` (parameters: :mod:`.trainer_node_params`)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__('trainer_node', **kwargs)
        self.params = p = declare_parameters(self, TRAINER_NODE_PARAMETERS, self._apply_changes)
        namespaces = tuple(p['robot_namespaces']) or ('',)
        check_namespaces(list(namespaces))   # before their topic names are resolved
        self.session = OnlineSession(SessionConfig(
            task=p['task'], algo=p['algo'], output_dir=p['output_dir'], seed=p['seed'],
            config=p['config'], total_steps=p['total_steps'], use_resets=bool(p['reset_service']),
            init_policy=p['init_policy'], record_mcap=p['record_mcap'],
            mcap_flush_period=p['mcap_flush_period'], replay_mcap=p['replay_mcap'],
            robot=p['robot'], robot_description=p['robot_description'],
            imu_tolerance=p['imu_tolerance'], sources=namespaces,
            source_timeout=p['source_timeout'] if p['robot_namespaces'] else 0.0,
            source_topics={ns: self._recorded_topics(ns, p['command_topic'])
                           for ns in namespaces}))
        self.lock = self.session.lock
        self.updates_pub = self.create_publisher(String, 'policy_updates', COMMAND_QOS)
        self.artifacts_pub = (ArtifactPublisher(self) if p['publish_policy_artifacts']
                              else None)   # the artifact's bytes, for other machines
        self.status_pub = self.create_publisher(String, '~/status', 10)
        self.diagnostics = DiagnosticsPublisher(self, trainer_node_checks, p['task'])
        # One robot or simulator graph per namespace: its own pairing, episodes and resets.
        self.sources = [SourceStreams(self, self.session, ns, p['command_topic'],
                                      p['reset_service'], p['pause_service'])
                        for ns in namespaces]
        self._latest_path: str | None = None
        #: Distinct artifacts announced, per transport (``~/status``).
        self.published_counts = dict.fromkeys(('policy_updates',) + (
            ('policy_artifacts',) if self.artifacts_pub is not None else ()), 0)
        self._subscribers = 0
        if p['pause_service']:
            self.create_timer(0.02, self._on_backpressure_timer)
        self.create_timer(SYNC_PERIOD, self._on_sync_timer)
        self.status_timer = self.create_timer(p['status_period'], self._on_status_timer)
        self._running = True
        self.finished = False
        self.failure: str | None = None
        self._worker = threading.Thread(target=self._learn_forever, name='learner', daemon=True)
        self._worker.start()
        self.get_logger().info(
            f'trainer_node: {p["algo"]} on {p["task"]}, output_dir {p["output_dir"]}, '
            f'resumed {self.session.resumed}, replayed '
            f'{self.session.replayed.get("transitions", 0)} transitions, '
            f'resets via {p["reset_service"] or "(none: real robot)"}')

    def _recorded_topics(self, ns: str, command_topic: str) -> dict[str, str]:
        """The full names of source ``ns``'s topics, as its recording names them.

        The trainer's reset log ``~/resets`` is recorded as ``<ns>/<node name>/resets``.
        """
        def topic(name: str) -> str:
            return self.resolve_topic_name(source_topic(ns, name))
        return {'joint_states': topic('joint_states'), 'commands': topic(command_topic),
                'goal_pose': topic('goal_pose'), 'cmd_vel': topic('cmd_vel'),
                'imu': topic('imu'), 'base_twist': topic('base_twist'),
                'resets': (topic(f'{self.get_name()}/resets') if ns else
                           self.resolve_topic_name('~/resets'))}

    def _apply_changes(self, changes: dict[str, Any]) -> None:
        """Dynamic parameters: publish_period is read by the learning loop on its next pass."""
        if 'status_period' in changes:
            self.destroy_timer(self.status_timer)
            self.status_timer = self.create_timer(changes['status_period'],
                                                  self._on_status_timer)

    # --- timers and the learning thread ----------------------------------------------------
    def _on_sync_timer(self) -> None:
        now = time.time_ns()
        for source in self.sources:
            source.release(now, self.finished)  # events held for a stream that went quiet
            if not self.finished:
                source.resets.tick()
        for name in self.session.expire_sources():
            self.get_logger().warn(f'source {name or "."} silent for source_timeout: dropped '
                                   'from the rollout until it speaks again')
        subscribers = self.updates_pub.get_subscription_count()
        if subscribers > self._subscribers and self._latest_path is not None:
            self.updates_pub.publish(String(data=self._latest_path))  # a late policy node
        self._subscribers = subscribers

    def status(self) -> dict[str, Any]:
        """The fields of ``~/status``: the session's, backpressure and published artifacts."""
        published = dict(self.published_counts)
        return {**self.session.status(), 'paused': any(s.paused for s in self.sources),
                'pauses': sum(s.pauses for s in self.sources),
                'policy_waits': sum(s.policy_waits for s in self.sources),
                'policy_wait_timeouts': sum(s.policy_wait_timeouts for s in self.sources),
                'artifacts_published': published['policy_updates'],
                'artifacts_published_by_transport': published}

    def _on_status_timer(self) -> None:
        status = self.status()
        self.status_pub.publish(status_message(status))
        self.diagnostics.publish({**status, 'failure': self.failure or self.session.failure})

    def _on_backpressure_timer(self) -> None:
        """Simulation only: pause the simulator (``pause_service``) while learning lags behind.

        In lockstep the graph then stands still (the policy's answer to the last state waits in
        the bridge), so the agent learns from data of its current
        policy at the in-process update-to-data ratio, and the CPU goes to learning. An
        on-policy learner's sources also stand still from a full rollout until their policy
        nodes report the updated artifact: the next rollout is acted by it, as in process.
        """
        backlog, now = self.session.backlog(), time.monotonic()
        updating = self.session.holding_rollout()
        for source in self.sources:
            lagging = (updating or backlog > PAUSE_ABOVE
                       or (source.paused and backlog > RESUME_BELOW))
            awaiting = source.awaits_policy(now)   # also while lagging: a wait counts from now
            source.pause(not self.finished and (lagging or awaiting))

    # --- the learning thread: owns the learner ---------------------------------------------
    def _announce(self, path: Path) -> None:
        """Announce ``path`` (again: a policy node may have missed it); count a new artifact."""
        latest, self._latest_path = self._latest_path, str(path.resolve())
        if self.context.ok():  # not while shutting down after SIGINT/SIGTERM
            self.updates_pub.publish(String(data=self._latest_path))
            published = dict(self.published_counts)
            published['policy_updates'] += self._latest_path != latest
            if self.artifacts_pub is not None and self.artifacts_pub.publish(path):
                published['policy_artifacts'] += 1   # an unchanged one is not sent again
            self.published_counts = published   # one assignment: the status timer reads it

    def _learn_forever(self) -> None:
        try:
            self._learn_loop()
        except Exception as exc:  # noqa: BLE001 - reported, then the node exits with 1
            if not self.context.ok():
                return  # the context went away under a publish: a normal shutdown
            self.failure = f'{type(exc).__name__}: {exc}'
            self.get_logger().error(f'learning thread failed: {self.failure}')
            self.finished = True

    def _learn_loop(self) -> None:
        last_publish, last_checkpoint = -float('inf'), time.monotonic()
        while self._running:
            busy = self.session.learn(SYNC_PERIOD)
            now = time.monotonic()
            # An on-policy update is published at once: its policy acts the next rollout.
            if (now - last_publish >= self.params.publish_period
                    or (self.session.on_policy and self.session.improved())):
                last_publish = now
                if self.session.improved():
                    try:
                        self._announce(self.session.publish())
                    except (OSError, ValueError) as exc:
                        self.get_logger().error(f'artifact export failed, keeping the previous '
                                                f'one: {exc}')
                elif (self._latest_path is not None
                      and now - self.session.last_command > self.params.publish_period):
                    # Nobody is commanding: a policy node may have missed the announcement.
                    self._announce(Path(self._latest_path))
            if now - last_checkpoint >= CHECKPOINT_PERIOD:
                last_checkpoint = now
                self.session.checkpoint()
            if self.session.done() and not self.session.inbox:
                self._finish()
                return
            if not busy:
                time.sleep(0.005)

    def _finish(self) -> None:
        """total_steps reached: catch up on due updates, final checkpoint and artifact."""
        path = self.session.finish(drain=True)
        self._announce(path)
        if self.context.ok():
            self.status_pub.publish(status_message(self.status()))
        self.get_logger().info(f'trainer_node: total_steps reached; final policy {path}')
        self.finished = True

    def done(self) -> bool:
        """total_steps reached, or the learning thread failed."""
        return self.finished

    def exit_code(self) -> int:
        """1 when the learning thread failed, else 0."""
        return 1 if self.failure else 0

    def close(self) -> None:
        """Stop the learning thread; keep what was learned (checkpoint + policy/).

        A storage failure (disk full, a failed sync) is logged and makes the exit code 1; the
        transition log and the recording are closed all the same.
        """
        self._running = False
        if self._worker.is_alive():
            self._worker.join()
        try:
            if not self.finished:
                self.session.finish()
        except StorageError as exc:
            self._storage_failed(exc)
        finally:
            try:
                self.session.close()
            except StorageError as exc:
                self._storage_failed(exc)

    def _storage_failed(self, exc: StorageError) -> None:
        self.failure = self.failure or f'StorageError: {exc}'
        self.get_logger().error(f'trainer_node: {exc}')


def main(args: list[str] | None = None) -> NoReturn:
    """Run until SIGINT/SIGTERM or total_steps (exit 0), a bad parameter (2) or a failure (1).

    The checkpoint and the final policy are saved on every way out but a bad parameter.
    """
    # Small networks: more threads only contend with the executor.
    limit_threads(1)
    exit_process(run_node(TrainerNode, 'trainer_node', args, bounded_stop=True))


if __name__ == '__main__':
    main()
