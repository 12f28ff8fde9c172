# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""One online training session: pairing + learner + recorder + artifacts.

:class:`OnlineSession` is everything the trainer node does, minus ROS: the node converts
messages and calls the stream-side methods from its callbacks; a worker thread owns the learner
(learning, fsync, checkpoints, exports). Callbacks never wait for a gradient step.

Run directory layout: ``transitions.log`` (fsynced transitions), ``online_checkpoint.pt``,
``policies/policy_<updates>`` (published artifacts, the newest few kept), ``policy/`` (final
artifact), ``recording_<time>.mcap`` (with ``record_mcap``) and ``summary.json``.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from robotrl_ros.agents.registry import make_agent
from robotrl_ros.tasks.registry import make_task
from robotrl_ros.tasks.robots.given import on_given_robot, task_robot
from robotrl_ros.training.config import load_config
from robotrl_ros.training.online.base_signals import DEFAULT_TOLERANCE, BaseSignalMatcher
from robotrl_ros.training.online.learner import ON_POLICY, OnlineLearner
from robotrl_ros.training.online.offline import train_from_recording
from robotrl_ros.training.online.pairing import Transition, TransitionPairer
from robotrl_ros.training.online.recording import McapRecorder
from robotrl_ros.training.online.sources import PolicyVersions, SourceSet
from robotrl_ros.training.online.store import StorageError, init_agent_state

PUBLISHED_DIR = 'policies'
FINAL_DIR = 'policy'
KEEP_PUBLISHED = 3


@dataclass
class SessionConfig:
    """Settings of a session (the trainer node's parameters).

    Attributes:
        task: Task name (``make_task``).
        algo: Algorithm name (``make_agent``).
        output_dir: Run directory; an existing one is resumed.
        seed: Agent seed.
        config: Hyperparameter YAML overriding ``config/hparams/<task>_<algo>.yaml`` ('' = none).
        total_steps: Stop after this many transitions (0 = never).
        use_resets: Episodes end through a reset service (simulation).
        init_policy: Run directory (or checkpoint file) whose agent state starts a fresh run.
        record_mcap: Record the observed streams to ``recording_<time>.mcap``.
        mcap_flush_period: Most seconds a recorded message waits to be on disk (fsync):
            a crash loses at most this much of the recording.
        replay_mcap: Train offline from this recording first (then go on live, if any).
        robot: Robot of a task on any robot: built-in name or robot YAML path ('' = default).
        robot_description: The robot's URDF/MJCF XML ('' = the robot file's description).
        imu_tolerance: Largest stamp offset (s) between a joint state and the ``imu`` /
            ``base_twist`` samples paired with it (:mod:`.base_signals`).
        topics: Topic names for the recording.
        sources: Namespaces of the robots or simulators feeding the session (:mod:`.sources`);
            ``('',)`` = the single relative source.
        source_timeout: Seconds of silence after which a source leaves the rollout (0 = never).
    """

    task: str = 'reach'
    algo: str = 'sac'
    output_dir: str = 'runs/trainer'
    seed: int = 0
    config: str = ''
    total_steps: int = 0
    use_resets: bool = True
    init_policy: str = ''
    record_mcap: bool = False
    mcap_flush_period: float = 1.0
    replay_mcap: str = ''
    robot: str = ''
    robot_description: str = ''
    imu_tolerance: float = DEFAULT_TOLERANCE
    topics: dict[str, str] = field(default_factory=lambda: {
        'joint_states': '/joint_states', 'commands': '/forward_position_controller/commands',
        'goal_pose': '/goal_pose', 'cmd_vel': '/cmd_vel', 'resets': '/trainer_node/resets',
        'imu': '/imu', 'base_twist': '/base_twist'})
    sources: tuple[str, ...] = ('',)
    source_timeout: float = 0.0


def _new_recording_path(out: Path) -> Path:
    """``recording_<time>.mcap`` in ``out``, never an existing file.

    A restart within the same second after a crash must not truncate the recording it cut.
    """
    stem = f'recording_{time.strftime("%Y%m%d_%H%M%S")}'
    path, n = out / f'{stem}.mcap', 1
    while path.exists():
        path, n = out / f'{stem}_{n}.mcap', n + 1
    return path


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
        self.task = on_given_robot(make_task, cfg.task, cfg.robot, cfg.robot_description)
        self.spec = self.task.spec
        self.out = Path(cfg.output_dir)
        if agent is None:
            hparams = load_config(cfg.task, cfg.algo, cfg.config or None)
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
        self.sources = SourceSet(cfg.sources, self._new_pairer,
                                 lambda: BaseSignalMatcher(cfg.imu_tolerance),
                                 cfg.source_timeout,
                                 segments=cfg.algo in ON_POLICY and len(cfg.sources) > 1)
        self.versions = PolicyVersions(by_hash=len(cfg.sources) > 1)
        self.recorder = None
        if cfg.record_mcap:
            if len(cfg.sources) > 1:
                raise ValueError('record_mcap records one robot: not with several '
                                 f'robot_namespaces ({list(cfg.sources)})')
            self.recorder = McapRecorder(_new_recording_path(self.out), cfg.topics,
                                         cfg.mcap_flush_period)
        self.lock = threading.Lock()          # stream side: pairer and recorder
        self.inbox: deque[Transition] = deque()
        self.accepted = self.learner.counters['transitions']
        self.bad: dict[str, int] = {}
        self.published: list[Path] = []
        self._published_updates = -1
        self._last_sync = 0.0
        self.drained = 0
        self.started = time.monotonic()
        self.last_command = -float('inf')
        self.failure: str | None = None    # the first storage failure (see StorageError)

    def _new_pairer(self) -> TransitionPairer:
        pairer = TransitionPairer(self.task, use_resets=self.cfg.use_resets)
        if self.cfg.use_resets:
            pairer.begin_reset()  # nothing pairs before the first episode boundary
        return pairer

    @property
    def pairer(self) -> TransitionPairer:
        """The pairer of the first source (the only one of a single-robot trainer)."""
        return self.sources[self.cfg.sources[0]].pairer

    # --- stream side (subscription callbacks) ----------------------------------------------
    # ``source`` is the namespace the message came from ('' = the single relative source).
    def joint_state(self, stamp: float, names: Sequence[str], position: np.ndarray,
                    velocity: np.ndarray, log_time: int, source: str = '') -> None:
        """A joint state (positions/velocities in the spec's joint order)."""
        with self.lock:
            src = self.sources.heard(source)
            self._record(lambda rec: rec.joint_state(stamp, self.spec.joint_names, position,
                                                     velocity, log_time))
            tr = src.pairer.on_joint_state(stamp, position, velocity, src.base.match(stamp))
            if tr is not None and not self._done():
                self.inbox.extend(self.sources.accept(src, tr))
                self.accepted += 1

    def imu(self, stamp: float, orientation_xyzw: np.ndarray, angular_velocity: np.ndarray,
            frame_id: str, log_time: int, source: str = '') -> None:
        """An ``imu`` sample (valid quaternion, finite rate): paired with joint states."""
        with self.lock:
            src = self.sources[source]
            self._record(lambda rec: rec.imu(stamp, orientation_xyzw, angular_velocity,
                                             frame_id, log_time))
            src.base.on_imu(stamp, orientation_xyzw, angular_velocity)

    def base_twist(self, stamp: float, linear: np.ndarray, angular: np.ndarray, frame_id: str,
                   log_time: int, source: str = '') -> None:
        """A ``base_twist`` sample (finite): its linear velocity is paired with joint states."""
        with self.lock:
            src = self.sources[source]
            self._record(lambda rec: rec.base_twist(stamp, linear, angular, frame_id,
                                                    log_time))
            src.base.on_base_twist(stamp, linear)

    def command(self, command: np.ndarray, log_time: int, source: str = '') -> None:
        """A command on the command topic (validated length and finiteness)."""
        with self.lock:
            src = self.sources[source]
            self.last_command = time.monotonic()
            self._record(lambda rec: rec.command(command, log_time))
            src.pairer.on_command(command)

    def goal(self, goal: np.ndarray, stamp: float, log_time: int, source: str = '') -> None:
        """A ``goal_pose`` position."""
        with self.lock:
            src = self.sources[source]
            self._record(lambda rec: rec.goal(goal, stamp, log_time))
            src.pairer.on_goal(goal, stamp)

    def cmd_vel(self, cmd: np.ndarray, log_time: int, source: str = '') -> None:
        """A ``cmd_vel`` command (vx, vy, wz)."""
        with self.lock:
            src = self.sources[source]
            self._record(lambda rec: rec.cmd_vel(cmd, log_time))
            src.pairer.on_cmd_vel(cmd)

    def _record(self, write: Callable[[McapRecorder], None]) -> None:
        """Record a message (lock held); a failed write closes the recording, stops the session."""
        if self.recorder is None:
            return
        try:
            write(self.recorder)
        except OSError as exc:
            self._fail(f'recording to {self.recorder.path}', exc)
            self.recorder.close()   # after an error: closes the file, raises nothing
            self.recorder = None

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
            self._record(lambda rec: rec.reset_request(log_time))
            self.sources[source].pairer.begin_reset()

    def end_reset(self, episode: int, stamp: float, log_time: int, command: Any = None,
                  source: str = '') -> None:
        """The bridge answered: the new episode starts at ``stamp`` with goal ``command``."""
        with self.lock:
            command = self.sources[source].pairer.on_reset(stamp, command)
            self._record(lambda rec: rec.reset(episode, stamp, log_time, command))

    # --- fleet: sources joining and leaving, the policy each runs ---------------------------
    def expire_sources(self) -> list[str]:
        """Drop sources silent for ``source_timeout`` from the rollout; the names that left."""
        with self.lock:
            left, released = self.sources.expire()
            self.inbox.extend(released)
        return left

    def source_policy(self, source: str, version: str | None, path: str | None) -> None:
        """The policy node of ``source`` reports running the artifact ``version`` / ``path``."""
        with self.lock:
            src = self.sources[source]
            src.policy_hash = version
            src.policy_version = self.versions.lookup(version, path)

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
        with self._storage('writing the transition log'):
            while self.inbox and ingested < chunk:
                self._add(self.inbox.popleft())
                ingested += 1
            now = time.monotonic()
            if now - self._last_sync >= sync_period:
                self.learner.sync()
                self._last_sync = now
        return self.learner.train(1) > 0 or ingested > 0

    def _add(self, tr: Transition) -> None:
        """Learn from ``tr``, unless an on-policy agent updated twice since its policy."""
        if self.cfg.algo in ON_POLICY and self.versions.too_old_for_on_policy(tr.policy_version):
            with self.lock:
                self.sources[tr.source].dropped_old_policy += 1
            return
        self.learner.add(tr)

    def backlog(self) -> int:
        """Transitions paired but not yet learned from."""
        return len(self.inbox)

    def checkpoint(self) -> None:
        """Atomic checkpoint of agent and counters (learning side)."""
        with self._storage('writing a checkpoint'):
            self.learner.checkpoint()

    def improved(self) -> bool:
        """Whether the agent was updated since the last published artifact."""
        return self.learner.counters['updates'] != self._published_updates

    def publish(self) -> Path:
        """Export the current policy to ``policies/policy_<updates>`` (learning side)."""
        updates = self.learner.counters['updates']
        path = self.learner.export(self.out / PUBLISHED_DIR / f'policy_{updates:08d}',
                                   self._provenance())
        self._published_updates = updates
        self.versions.register(updates, path)
        self.published.append(path)
        for old in self.published[:-KEEP_PUBLISHED]:
            shutil.rmtree(old, ignore_errors=True)
        del self.published[:-KEEP_PUBLISHED]
        return path

    def finish(self, drain: bool = False) -> Path:
        """Final checkpoint, final artifact in ``policy/`` and ``summary.json`` (learning side).

        Args:
            drain: First learn from every queued transition and run every update still due
                (a busy trainer lags behind the graph), so the final policy had as many updates
                as in-process training would have done.
        """
        with self._storage('writing the transition log'):
            while self.inbox:
                self._add(self.inbox.popleft())
        if drain:
            self.drained = self.learner.train(1_000_000)
        self.checkpoint()
        path = self.learner.export(self.out / FINAL_DIR, self._provenance())
        self._published_updates = self.learner.counters['updates']
        summary = {'task': self.cfg.task, 'algo': self.cfg.algo, **self.status()}
        (self.out / 'summary.json').write_text(json.dumps(summary, indent=2, sort_keys=True))
        return path

    def _provenance(self) -> dict[str, Any]:
        status = self.learner.status()
        return {'task': self.cfg.task, 'seed': self.cfg.seed,
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

    # --- storage failures ------------------------------------------------------------------
    def _fail(self, what: str, exc: OSError) -> None:
        """Keep the first storage failure as a message saying what failed and what is kept."""
        if self.failure is None:
            self.failure = (
                f'{what} failed: {exc.strerror or exc} (errno {exc.errno}). The trainer stops; '
                f'{self.learner.stored} transitions are stored in {self.out} and the last '
                'checkpoint is kept: free the disk and restart with the same output_dir to '
                'resume')

    @contextmanager
    def _storage(self, what: str) -> Iterator[None]:
        """Turn an :class:`OSError` of ``what`` into a :class:`StorageError`.

        Once one happened it is raised at once: nothing is written after a failed write.
        """
        if self.failure is not None:
            raise StorageError(self.failure)
        try:
            yield
        except OSError as exc:
            self._fail(what, exc)
            raise StorageError(self.failure) from exc

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
            self._fail('closing the transition log', exc)
        finally:
            with self.lock:
                if self.recorder is not None:
                    try:
                        self.recorder.close()
                    except OSError as exc:
                        self._fail(f'finishing the recording {self.recorder.path}', exc)
                    self.recorder = None
        if self.failure is not None and not failed_before:
            raise StorageError(self.failure)
