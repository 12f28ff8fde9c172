# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Record what the trainer observes as MCAP with ROS 2 message encoding.

Files hold real ``sensor_msgs/msg/JointState``, ``std_msgs/msg/Float64MultiArray``,
``geometry_msgs/msg/PoseStamped``, ``geometry_msgs/msg/Twist``, and for a floating base
``sensor_msgs/msg/Imu`` and ``geometry_msgs/msg/TwistStamped`` messages (CDR, with their
``ros2msg`` definitions), so ``ros2 bag info`` and Foxglove open them. Episode boundaries are a
``std_msgs/msg/String`` topic ``<node>/resets`` holding ``{"request": true}`` when a reset is
requested and ``{"episode": k, "stamp": t}`` when the bridge answered.
Messages are plain dicts here: this module does not import ROS.

A recording survives a crash: the writer closes a chunk and fsyncs the file at least every
``flush_period`` seconds (a background thread does it when no message comes), so a file cut by
SIGKILL or a power loss holds every message written more than one period before; MCAP readers
want the summary that only :meth:`McapRecorder.close` writes, and
:func:`robotrl_ros.training.online.mcap_recovery.recover_mcap` rewrites such a cut file into a
complete one. :mod:`robotrl_ros.training.online.recording_replay` reads recordings back.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from mcap_ros2.writer import Writer

from robotrl_ros.util.durable import fsync_dir

_SEP = '=' * 80 + '\n'
_TIME = 'int32 sec\nuint32 nanosec\n'
_HEADER = f'builtin_interfaces/Time stamp\nstring frame_id\n{_SEP}MSG: builtin_interfaces/Time\n'
_VEC3 = 'float64 x\nfloat64 y\nfloat64 z\n'

JOINT_STATE = 'sensor_msgs/msg/JointState'
FLOAT64_ARRAY = 'std_msgs/msg/Float64MultiArray'
POSE_STAMPED = 'geometry_msgs/msg/PoseStamped'
TWIST = 'geometry_msgs/msg/Twist'
STRING = 'std_msgs/msg/String'
IMU = 'sensor_msgs/msg/Imu'
TWIST_STAMPED = 'geometry_msgs/msg/TwistStamped'
_TWIST_DEF = f'Vector3 linear\nVector3 angular\n{_SEP}MSG: geometry_msgs/Vector3\n{_VEC3}'
#: Topics recorded only when their messages come (floating bases), with default names.
OPTIONAL_TOPICS = {'imu': '/imu', 'base_twist': '/base_twist'}

#: Full ``ros2msg`` definitions (with dependencies) of the recorded types.
MSGDEFS = {
    JOINT_STATE: ('std_msgs/Header header\nstring[] name\nfloat64[] position\n'
                  'float64[] velocity\nfloat64[] effort\n'
                  f'{_SEP}MSG: std_msgs/Header\n{_HEADER}{_TIME}'),
    FLOAT64_ARRAY: ('MultiArrayLayout layout\nfloat64[] data\n'
                    f'{_SEP}MSG: std_msgs/MultiArrayLayout\n'
                    'MultiArrayDimension[] dim\nuint32 data_offset\n'
                    f'{_SEP}MSG: std_msgs/MultiArrayDimension\n'
                    'string label\nuint32 size\nuint32 stride\n'),
    POSE_STAMPED: ('std_msgs/Header header\nPose pose\n'
                   f'{_SEP}MSG: std_msgs/Header\n{_HEADER}{_TIME}'
                   f'{_SEP}MSG: geometry_msgs/Pose\nPoint position\nQuaternion orientation\n'
                   f'{_SEP}MSG: geometry_msgs/Point\n{_VEC3}'
                   f'{_SEP}MSG: geometry_msgs/Quaternion\n'
                   'float64 x 0\nfloat64 y 0\nfloat64 z 0\nfloat64 w 1\n'),
    TWIST: _TWIST_DEF,
    STRING: 'string data\n',
    IMU: ('std_msgs/Header header\ngeometry_msgs/Quaternion orientation\n'
          'float64[9] orientation_covariance\ngeometry_msgs/Vector3 angular_velocity\n'
          'float64[9] angular_velocity_covariance\ngeometry_msgs/Vector3 linear_acceleration\n'
          'float64[9] linear_acceleration_covariance\n'
          f'{_SEP}MSG: std_msgs/Header\n{_HEADER}{_TIME}'
          f'{_SEP}MSG: geometry_msgs/Quaternion\n'
          'float64 x 0\nfloat64 y 0\nfloat64 z 0\nfloat64 w 1\n'
          f'{_SEP}MSG: geometry_msgs/Vector3\n{_VEC3}'),
    TWIST_STAMPED: ('std_msgs/Header header\nTwist twist\n'
                    f'{_SEP}MSG: std_msgs/Header\n{_HEADER}{_TIME}'
                    f'{_SEP}MSG: geometry_msgs/Twist\n{_TWIST_DEF}'),
}


def _stamp(seconds: float) -> dict[str, int]:
    sec, nanosec = divmod(int(round(seconds * 1e9)), 1_000_000_000)
    return {'sec': sec, 'nanosec': nanosec}


def seconds_of(stamp: Any) -> float:
    """Seconds of a ``builtin_interfaces/Time`` message (``sec``, ``nanosec``)."""
    return float(stamp.sec) + 1e-9 * float(stamp.nanosec)


class McapRecorder:
    """Write the trainer's input streams to an MCAP file that survives a crash.

    Thread-safe. A background thread flushes, so writers never wait for an fsync. A failed
    write, flush or fsync (a full disk) is raised as :class:`OSError` from the call that hit
    it, or from the next write when the background flush hit it; the recorder then accepts no
    more messages and :meth:`close` only closes the file (cut after the last complete chunk:
    :func:`~robotrl_ros.training.online.mcap_recovery.recover_mcap` makes it readable).

    Args:
        path: Output ``.mcap`` file (parent directories are created).
        topics: Topic names to record under: keys ``joint_states``, ``commands``, ``goal_pose``,
            ``cmd_vel``, ``resets``, and optionally ``imu``, ``base_twist``
            (:data:`OPTIONAL_TOPICS` otherwise).
        flush_period: Seconds a message may wait to be on disk, at most (> 0): chunks are
            flushed with fsync every half period, so the fsync itself has the other half.
        clock: Monotonic clock in seconds (tests).
        background: Run the flush thread. Without it (tests) each write flushes when due, and
            :meth:`flush_if_due` covers pauses in the stream.
    """

    def __init__(self, path: str | Path, topics: dict[str, str], flush_period: float = 1.0, *,
                 clock: Callable[[], float] = time.monotonic, background: bool = True) -> None:
        missing = {'joint_states', 'commands', 'goal_pose', 'cmd_vel', 'resets'} - set(topics)
        if missing:
            raise ValueError(f'McapRecorder: topic name(s) missing for {sorted(missing)}')
        if not flush_period > 0:
            raise ValueError(f'mcap_flush_period must be > 0 seconds, got {flush_period}')
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.topics = {**OPTIONAL_TOPICS, **topics}
        self.flush_period = float(flush_period)
        self._clock = clock
        self._lock = threading.Lock()
        self._file = open(self.path, 'wb')
        self._writer = Writer(self._file, chunk_size=64 * 1024)
        # mcap_ros2's Writer wraps mcap's, whose flush() ends the open chunk (pinned versions).
        self._chunks = self._writer._writer
        self._schemas = {name: self._writer.register_msgdef(name, text)
                         for name, text in MSGDEFS.items()}
        self._file.flush()        # magic and header on disk: even an empty recording opens
        os.fsync(self._file.fileno())
        fsync_dir(self.path.parent)
        self.count = 0
        self.flushed = 0          # messages in chunks that are on disk (fsynced)
        self.error: OSError | None = None
        self.closed = False
        self._flush_interval = self.flush_period / 2
        self._last_flush = clock()
        self._stop = threading.Event()
        self._thread = None
        if background:
            self._thread = threading.Thread(target=self._flush_forever, daemon=True,
                                            name=f'mcap-flush {self.path.name}')
            self._thread.start()

    def _flush_forever(self) -> None:
        # Flushing every half period, checked every eighth: a message's time to disk is at most
        # five eighths of a period plus the fsync.
        while not self._stop.wait(self._flush_interval / 4):
            try:
                self.flush_if_due()
            except OSError:
                return  # kept in self.error: the next write raises it

    def flush_if_due(self) -> bool:
        """Flush (with fsync) if messages are pending and half a period passed since the last.

        Returns:
            Whether a flush happened.
        """
        return self._flush(if_due=True)

    def flush(self) -> None:
        """End the open chunk, write it and fsync the file now."""
        self._flush(if_due=False)

    def _flush(self, if_due: bool) -> bool:
        with self._lock:
            if if_due and (self.closed or self.error is not None or self.count == self.flushed
                           or self._clock() - self._last_flush < self._flush_interval):
                return False
            self._check()
            try:
                self._chunks.flush()          # the open chunk, written to the file
            except OSError as exc:
                self.error = exc
                raise
            pending, fd = self.count, self._file.fileno()
            self._last_flush = self._clock()
        try:
            os.fsync(fd)                      # outside the lock: writers never wait for the disk
        except OSError as exc:
            with self._lock:
                self.error = self.error or exc
            raise
        with self._lock:
            self.flushed = max(self.flushed, pending)
        return True

    def _check(self) -> None:
        if self.error is not None:
            # The first error again (the recording stopped there), naming the file.
            raise OSError(self.error.errno, self.error.strerror or str(self.error),
                          str(self.path))
        if self.closed:
            raise ValueError(f'recording {self.path} is closed')

    def _write(self, key: str, schema: str, message: dict[str, Any], log_time: int) -> None:
        with self._lock:
            self._check()
            try:
                self._writer.write_message(self.topics[key], self._schemas[schema], message,
                                           log_time=log_time, publish_time=log_time,
                                           sequence=self.count)
            except OSError as exc:
                self.error = exc
                raise
            self.count += 1
        if self._thread is None:              # no flush thread: the writes flush when due
            self.flush_if_due()

    def joint_state(self, stamp: float, names: Sequence[str], position: Sequence[float],
                    velocity: Sequence[float], log_time: int) -> None:
        """Record a ``joint_states`` message (``log_time``: receipt time, ns)."""
        self._write('joint_states', JOINT_STATE, {
            'header': {'stamp': _stamp(stamp), 'frame_id': ''}, 'name': list(names),
            'position': [float(v) for v in position], 'velocity': [float(v) for v in velocity],
            'effort': []}, log_time)

    def command(self, values: Sequence[float], log_time: int) -> None:
        """Record a command message."""
        self._write('commands', FLOAT64_ARRAY, {
            'layout': {'dim': [], 'data_offset': 0}, 'data': [float(v) for v in values]},
            log_time)

    def goal(self, goal: Sequence[float], stamp: float, log_time: int) -> None:
        """Record a ``goal_pose`` message."""
        x, y, z = (float(v) for v in goal[:3])
        self._write('goal_pose', POSE_STAMPED, {
            'header': {'stamp': _stamp(stamp), 'frame_id': 'world'},
            'pose': {'position': {'x': x, 'y': y, 'z': z},
                     'orientation': {'x': 0.0, 'y': 0.0, 'z': 0.0, 'w': 1.0}}}, log_time)

    def cmd_vel(self, cmd: Sequence[float], log_time: int) -> None:
        """Record a ``cmd_vel`` message (vx, vy, wz)."""
        vx, vy, wz = (float(v) for v in cmd[:3])
        self._write('cmd_vel', TWIST, {'linear': {'x': vx, 'y': vy, 'z': 0.0},
                                       'angular': {'x': 0.0, 'y': 0.0, 'z': wz}}, log_time)

    def imu(self, stamp: float, orientation_xyzw: Sequence[float],
            angular_velocity: Sequence[float], frame_id: str, log_time: int) -> None:
        """Record an ``imu`` message (linear acceleration marked unavailable)."""
        x, y, z, w = (float(v) for v in orientation_xyzw[:4])
        wx, wy, wz = (float(v) for v in angular_velocity[:3])
        self._write('imu', IMU, {
            'header': {'stamp': _stamp(stamp), 'frame_id': frame_id},
            'orientation': {'x': x, 'y': y, 'z': z, 'w': w}, 'orientation_covariance': [0.0] * 9,
            'angular_velocity': {'x': wx, 'y': wy, 'z': wz},
            'angular_velocity_covariance': [0.0] * 9,
            'linear_acceleration': {'x': 0.0, 'y': 0.0, 'z': 0.0},
            'linear_acceleration_covariance': [-1.0] + [0.0] * 8}, log_time)

    def base_twist(self, stamp: float, linear: Sequence[float], angular: Sequence[float],
                   frame_id: str, log_time: int) -> None:
        """Record a ``base_twist`` message (base-frame linear and angular velocity)."""
        vx, vy, vz = (float(v) for v in linear[:3])
        wx, wy, wz = (float(v) for v in angular[:3])
        self._write('base_twist', TWIST_STAMPED, {
            'header': {'stamp': _stamp(stamp), 'frame_id': frame_id},
            'twist': {'linear': {'x': vx, 'y': vy, 'z': vz},
                      'angular': {'x': wx, 'y': wy, 'z': wz}}}, log_time)

    def reset_request(self, log_time: int) -> None:
        """Record that a reset was requested (nothing pairs until the boundary is known)."""
        self._write('resets', STRING, {'data': json.dumps({'request': True})}, log_time)

    def reset(self, episode: int, stamp: float, log_time: int,
              command: Sequence[float] | None = None) -> None:
        """Record an episode boundary (the new episode's first stamp, and its goal if known)."""
        data: dict[str, Any] = {'episode': episode, 'stamp': stamp}
        if command is not None:
            data['goal'] = [float(v) for v in command]
        self._write('resets', STRING, {'data': json.dumps(data)}, log_time)

    def close(self) -> None:
        """Finish the file (index and summary), fsync and close it; a second call does nothing.

        After an error the file is only closed (no summary:
        :func:`~robotrl_ros.training.online.mcap_recovery.recover_mcap` reads it).

        Raises:
            OSError: If finishing the file fails now (the file is closed all the same).
        """
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        with self._lock:
            if self.closed:
                return
            self.closed = True
            try:
                if self.error is None:
                    self._writer.finish()
                    self._file.flush()
                    os.fsync(self._file.fileno())
                    self.flushed = self.count
            except OSError as exc:
                self.error = exc
                raise
            finally:
                try:
                    self._file.close()
                except OSError:
                    pass  # the buffered tail that failed to write: already reported
