# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""One online training session: pairing + learner + recorder + artifacts.

:class:`OnlineSession` is everything the trainer node does, minus ROS: the node converts
messages and calls the stream-side methods from its callbacks; a worker thread owns the learner
(learning, fsync, checkpoints, exports). Callbacks never wait for a gradient step.

Run directory layout: ``transitions.log`` (fsynced transitions), ``online_checkpoint.pt``,
``policies/policy_<updates>`` (published artifacts, the newest few kept: :mod:`.published`),
``policy/`` (final artifact), ``recording_<time>.mcap`` (with ``record_mcap``; one per source
of a fleet: :mod:`.session_recording`) and ``summary.json``.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from robotrl_ros.agents.registry import make_agent
from robotrl_ros.tasks.registry import make_task, task_options
from robotrl_ros.tasks.robots.given import on_given_robot, task_robot
from robotrl_ros.training.config import load_config
from robotrl_ros.training.online.base_signals import BaseSignalMatcher
from robotrl_ros.training.online.learner import ON_POLICY, OnlineLearner
from robotrl_ros.training.online.offline import train_from_recording
from robotrl_ros.training.online.pairing import Transition, TransitionPairer
from robotrl_ros.training.online.published import PublishedArtifacts
from robotrl_ros.training.online.recording import McapRecorder
from robotrl_ros.training.online.session_config import SessionConfig
from robotrl_ros.training.online.session_recording import SourceRecordings
from robotrl_ros.training.online.sources import PolicyVersions, SourceSet
from robotrl_ros.training.online.storage_failure import StorageFailure
from robotrl_ros.training.online.store import StorageError, init_agent_state

#: The session and, importable from here too, its settings and the initial-state loader.
__all__ = ['OnlineSession', 'SessionConfig', 'init_agent_state']


class OnlineSession:
    """The trainer's state machine without ROS, shared by two threads.

    The *stream side* (subscription callbacks: :meth:`joint_state`, :meth:`command`, ...) pairs
    messages under a light lock and queues finished transitions; it never waits for learning.
    The *learning side* (one worker thread: :meth:`learn`, :meth:`publish`, :meth:`checkpoint`,
    :meth:`finish`) owns the learner: it moves queued transitions into the agent and the log,
    fsyncs, and runs the updates that are due.

    Args:
        cfg: Session settings.
        agent: Use this agent instead of building one from the hyperparameter files.
    """

    def __init__(self, cfg: SessionConfig, agent: Any = None) -> None:
        self.cfg = cfg
        hparams = load_config(cfg.task, cfg.algo, cfg.config or None)
        # The config's env section (e.g. reward_weights) applies to the reward scored here too.
        self.task = on_given_robot(make_task, cfg.task, cfg.robot, cfg.robot_description,
                                   **task_options(cfg.task, hparams.env))
        if getattr(self.task, 'uses_feet_contacts', False):
            raise ValueError(f'config {cfg.config}: reward term feet_air_time needs foot '
                             'contacts, which the topics do not carry; set its weight to 0 for '
                             'the trainer')
        self.spec = self.task.spec
        self.out = Path(cfg.output_dir)
        if agent is None:
            agent = make_agent(cfg.algo, self.spec, hparams.agent, cfg.seed)
        self.learner = OnlineLearner(agent, self.spec, self.out, algo=cfg.algo,
                                     robot=task_robot(self.task))
        self.resumed = self.learner.resume()
        self.initialized_from = None
        if cfg.init_policy and self.learner.counters['transitions'] == 0:
            self.initialized_from = init_agent_state(agent, cfg.init_policy)
        self.replayed: dict[str, Any] = {}
        if cfg.replay_mcap:
            self.replayed = train_from_recording(self.learner, cfg.replay_mcap, self.task,
                                                 cfg.imu_tolerance)
        #: PPO / REINFORCE: each rollout must come from the newest published policy.
        self.on_policy = cfg.algo in ON_POLICY
        self.sources = SourceSet(cfg.sources, self._new_pairer,
                                 lambda: BaseSignalMatcher(cfg.imu_tolerance),
                                 cfg.source_timeout,
                                 segments=self.on_policy and len(cfg.sources) > 1)
        self.versions = PolicyVersions(by_hash=len(cfg.sources) > 1)
        self.published = PublishedArtifacts(self.learner, self.out, self.versions,
                                            self._provenance)
        self.storage = StorageFailure(
            lambda: f'{self.learner.stored} transitions are stored in {self.out}')
        self.recordings = (SourceRecordings(self.out, cfg.recording_topics(),
                                            cfg.mcap_flush_period, self.storage.fail)
                           if cfg.record_mcap else None)
        self.lock = threading.Lock()          # stream side: pairers and recordings
        self.inbox: deque[Transition] = deque()
        self.accepted = self.learner.counters['transitions']
        self.bad: dict[str, int] = {}
        self._last_sync = 0.0
        self.drained = 0
        self.started = time.monotonic()
        self.last_command = -float('inf')

    def _new_pairer(self) -> TransitionPairer:
        pairer = TransitionPairer(self.task, use_resets=self.cfg.use_resets)
        if self.cfg.use_resets:
            pairer.begin_reset()  # nothing pairs before the first episode boundary
        return pairer

    @property
    def pairer(self) -> TransitionPairer:
        """The pairer of the first source (the only one of a single-robot trainer)."""
        return self.sources[self.cfg.sources[0]].pairer

    @property
    def failure(self) -> str | None:
        """The first storage failure (see :class:`StorageError`), or None."""
        return self.storage.message

    @property
    def recorder(self) -> McapRecorder | None:
        """The open recording of the first source (the only one of a single-robot trainer)."""
        recordings = self.recordings
        return None if recordings is None else recordings.recorders.get(self.cfg.sources[0])

    # --- stream side (subscription callbacks) ----------------------------------------------
    # ``source`` is the namespace the message came from ('' = the single relative source).
    def joint_state(self, stamp: float, names: Sequence[str], position: np.ndarray,
                    velocity: np.ndarray, log_time: int, source: str = '') -> None:
        """A joint state (positions/velocities in the spec's joint order)."""
        with self.lock:
            src = self.sources.heard(source)
            self._record(source, lambda rec: rec.joint_state(
                stamp, self.spec.joint_names, position, velocity, log_time))
            tr = src.pairer.on_joint_state(stamp, position, velocity, src.base.match(stamp))
            if tr is not None and not self._done():
                self.inbox.extend(self.sources.accept(src, tr))
                self.accepted += 1

    def imu(self, stamp: float, orientation_xyzw: np.ndarray, angular_velocity: np.ndarray,
            frame_id: str, log_time: int, source: str = '') -> None:
        """An ``imu`` sample (valid quaternion, finite rate): paired with joint states."""
        with self.lock:
            src = self.sources[source]
            self._record(source, lambda rec: rec.imu(stamp, orientation_xyzw, angular_velocity,
                                                     frame_id, log_time))
            src.base.on_imu(stamp, orientation_xyzw, angular_velocity)

    def base_twist(self, stamp: float, linear: np.ndarray, angular: np.ndarray, frame_id: str,
                   log_time: int, source: str = '') -> None:
        """A ``base_twist`` sample (finite): its linear velocity is paired with joint states."""
        with self.lock:
            src = self.sources[source]
            self._record(source, lambda rec: rec.base_twist(stamp, linear, angular, frame_id,
                                                            log_time))
            src.base.on_base_twist(stamp, linear)

    def command(self, command: np.ndarray, log_time: int, source: str = '') -> None:
        """A command on the command topic (validated length and finiteness)."""
        with self.lock:
            src = self.sources[source]
            self.last_command = time.monotonic()
            self._record(source, lambda rec: rec.command(command, log_time))
            src.pairer.on_command(command)

    def explore_sample(self, sample: np.ndarray, source: str = '') -> None:
        """The exploring policy's sample behind the next command (before its clamp)."""
        with self.lock:
            self.sources[source].pairer.on_sample(sample)

    def goal(self, goal: np.ndarray, stamp: float, log_time: int, source: str = '') -> None:
        """A ``goal_pose`` position."""
        with self.lock:
            src = self.sources[source]
            self._record(source, lambda rec: rec.goal(goal, stamp, log_time))
            src.pairer.on_goal(goal, stamp)

    def cmd_vel(self, cmd: np.ndarray, log_time: int, source: str = '') -> None:
        """A ``cmd_vel`` command (vx, vy, wz)."""
        with self.lock:
            src = self.sources[source]
            self._record(source, lambda rec: rec.cmd_vel(cmd, log_time))
            src.pairer.on_cmd_vel(cmd)

    def _record(self, source: str, write: Callable[[McapRecorder], None]) -> None:
        """Record a message of ``source`` (lock held); a failed write stops the session."""
        if self.recordings is not None:
            self.recordings.record(source, write)

    def count_bad(self, reason: str) -> None:
        """Count a message that could not be converted."""
        with self.lock:
            self.bad[reason] = self.bad.get(reason, 0) + 1

    # Episode resets of one source (``source``: its namespace), driven by EpisodeResets.
    def needs_reset(self, source: str = '') -> bool:
        """An episode ended and no reset was requested yet."""
        with self.lock:
            return self.sources[source].pairer.needs_reset

    def awaiting_reset(self, source: str = '') -> bool:
        """A reset was requested and its boundary is not known yet."""
        with self.lock:
            return self.sources[source].pairer.awaiting_reset

    def stop_using_resets(self, source: str = '') -> None:
        """The bridge resets episodes itself (``auto_reset``): pair without reset requests."""
        with self.lock:
            self.sources[source].pairer.stop_using_resets()

    def begin_reset(self, log_time: int, source: str = '') -> None:
        """A reset request is being sent."""
        with self.lock:
            self._record(source, lambda rec: rec.reset_request(log_time))
            self.sources[source].pairer.begin_reset()

    def end_reset(self, episode: int, stamp: float, log_time: int, command: Any = None,
                  source: str = '') -> None:
        """The bridge answered: the new episode starts at ``stamp`` with goal ``command``."""
        with self.lock:
            command = self.sources[source].pairer.on_reset(stamp, command)
            self._record(source, lambda rec: rec.reset(episode, stamp, log_time, command))

    # --- fleet: sources joining and leaving, the policy each runs ---------------------------
    def expire_sources(self) -> list[str]:
        """Drop sources silent for ``source_timeout`` from the rollout; the names that left."""
        with self.lock:
            left, released = self.sources.expire()
            self.inbox.extend(released)
        return left

    def source_paused(self, source: str, paused: bool) -> None:
        """The trainer paused (True) or resumes ``source``'s simulator (silent, not gone)."""
        with self.lock:
            self.sources.set_paused(source, paused)

    def source_policy(self, source: str, version: str | None, path: str | None) -> None:
        """The policy node of ``source`` reports running the artifact ``version`` / ``path``."""
        with self.lock:
            src = self.sources[source]
            src.policy_hash = version
            src.policy_version = self.versions.lookup(version, path)

    def stale_policy(self, source: str) -> int:
        """On-policy: the newest published version while ``source`` still runs an older one.

        Its transitions until its policy node reports the new artifact are dropped (see
        :meth:`PolicyVersions.too_old_for_on_policy`); the trainer pauses its simulator
        meanwhile. -1 when nothing is awaited (off-policy, up to date or an unknown policy).
        """
        if not self.on_policy:
            return -1
        with self.lock:
            running = self.sources[source].policy_version
        return self.versions.newest if self.versions.too_old_for_on_policy(running) else -1

    def holding_rollout(self) -> bool:
        """On-policy: a full rollout awaits its update, or the update is not yet published.

        What a simulator acts meanwhile would be dropped as stale: the trainer pauses it.
        """
        return self.on_policy and (self.learner.agent.ready() or self.published.improved())

    def _done(self) -> bool:
        total = self.cfg.total_steps
        return total > 0 and self.accepted >= total

    def done(self) -> bool:
        """``total_steps`` transitions have been accepted from the stream."""
        with self.lock:
            return self._done()

    # --- learning side (the worker thread) -------------------------------------------------
    def learn(self, sync_period: float = 0.2, chunk: int = 1) -> bool:
        """Ingest up to ``chunk`` queued transitions, fsync now and then, update if due.

        With ``chunk=1`` observe and update interleave exactly as in the in-process loop, so the
        agent sees the same sequence of data and gradient steps.

        Returns:
            Whether there was anything to do.
        """
        ingested = 0
        with self.storage.guard('writing the transition log'):
            while self.inbox and ingested < chunk:
                self._add(self.inbox.popleft())
                ingested += 1
            now = time.monotonic()
            if now - self._last_sync >= sync_period:
                self.learner.sync()
                self._last_sync = now
        return self.learner.train(1) > 0 or ingested > 0

    def _add(self, tr: Transition) -> None:
        """Learn from ``tr``, unless an on-policy agent updated since the policy that acted."""
        if self.on_policy and self.versions.too_old_for_on_policy(tr.policy_version):
            with self.lock:
                self.sources[tr.source].dropped_old_policy += 1
            return
        self.learner.add(tr)

    def backlog(self) -> int:
        """Transitions paired but not yet learned from."""
        return len(self.inbox)

    def checkpoint(self) -> None:
        """Atomic checkpoint of agent and counters (learning side)."""
        with self.storage.guard('writing a checkpoint'):
            self.learner.checkpoint()

    def improved(self) -> bool:
        """Whether the agent was updated since the last published artifact."""
        return self.published.improved()

    def publish(self) -> Path:
        """Export the current policy to ``policies/policy_<updates>`` (learning side)."""
        return self.published.publish()

    def finish(self, drain: bool = False) -> Path:
        """Final checkpoint, final artifact in ``policy/`` and ``summary.json`` (learning side).

        Args:
            drain: First learn from every queued transition and run every update still due
                (a busy trainer lags behind the graph), so the final policy had as many updates
                as in-process training would have done.
        """
        with self.storage.guard('writing the transition log'):
            while self.inbox:
                self._add(self.inbox.popleft())
        if drain:
            self.drained = self.learner.train(1_000_000)
        self.checkpoint()
        path = self.published.final()
        summary = {'task': self.cfg.task, 'algo': self.cfg.algo, **self.status()}
        (self.out / 'summary.json').write_text(json.dumps(summary, indent=2, sort_keys=True))
        return path

    def _provenance(self) -> dict[str, Any]:
        """Facts of a published artifact beside the learner's ``transitions`` (learned from).

        ``accepted_transitions`` counts what the robots acted, including what an on-policy
        learner then dropped as acted by an older policy: the robot time the artifact cost.
        """
        status = self.learner.status()
        with self.lock:
            accepted = self.accepted
        return {'task': self.cfg.task, 'seed': self.cfg.seed, 'accepted_transitions': accepted,
                'recent_return': status['recent_return'],
                'recent_success_rate': status['recent_success_rate'],
                'init_policy': str(self.initialized_from or '')}

    def status(self) -> dict[str, Any]:
        """Fields of ``~/status`` (counters read without stopping the learner)."""
        with self.lock:
            stream = {**self.sources.totals(), 'bad_messages': dict(self.bad),
                      'accepted': self.accepted, 'done': self._done(),
                      'sources': self.sources.status(), 'policy_version': self.versions.newest}
        return {**self.learner.status(), **stream, 'queued': len(self.inbox),
                'resumed_transitions': self.resumed,
                'replayed_transitions': self.replayed.get('transitions', 0),
                'wall_time_s': round(time.monotonic() - self.started, 1),
                'total_steps': self.cfg.total_steps, 'updates_drained_at_end': self.drained}

    def close(self) -> None:
        """Sync and close the log, finish and close the recording (after the worker stopped).

        Both are closed even when storage failed; a failure already raised by another method
        is not raised again.

        Raises:
            StorageError: If closing hits a new storage failure.
        """
        failed_before = self.failure is not None
        try:
            if not failed_before:
                while self.inbox:
                    self._add(self.inbox.popleft())
            self.learner.close()
        except OSError as exc:
            self.storage.fail('closing the transition log', exc)
        finally:
            with self.lock:
                if self.recordings is not None:
                    self.recordings.close()
        if self.failure is not None and not failed_before:
            raise StorageError(self.failure)
