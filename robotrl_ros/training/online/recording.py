# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Record what the trainer observes as MCAP with ROS 2 message encoding, and read it back.

Files hold real ``sensor_msgs/msg/JointState``, ``std_msgs/msg/Float64MultiArray``,
``geometry_msgs/msg/PoseStamped`` and ``geometry_msgs/msg/Twist`` messages (CDR, with their
``ros2msg`` definitions), so ``ros2 bag info`` and Foxglove open them. Episode boundaries are a
``std_msgs/msg/String`` topic ``<node>/resets`` holding ``{"request": true}`` when a reset is
requested and ``{"episode": k, "stamp": t}`` when the bridge answered.
Messages are plain dicts here: this module does not import ROS.

:func:`read_events` turns a recording (ours or a ``ros2 bag record`` MCAP) back into the
trainer's input events in log-time order; :func:`replay_transitions` pairs them offline.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from mcap_ros2.reader import read_ros2_messages
from mcap_ros2.writer import Writer

from robotrl_ros.training.online.pairing import Transition, TransitionPairer

_SEP = '=' * 80 + '\n'
_TIME = 'int32 sec\nuint32 nanosec\n'
_HEADER = f'builtin_interfaces/Time stamp\nstring frame_id\n{_SEP}MSG: builtin_interfaces/Time\n'
_VEC3 = 'float64 x\nfloat64 y\nfloat64 z\n'

JOINT_STATE = 'sensor_msgs/msg/JointState'
FLOAT64_ARRAY = 'std_msgs/msg/Float64MultiArray'
POSE_STAMPED = 'geometry_msgs/msg/PoseStamped'
TWIST = 'geometry_msgs/msg/Twist'
STRING = 'std_msgs/msg/String'

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
    TWIST: f'Vector3 linear\nVector3 angular\n{_SEP}MSG: geometry_msgs/Vector3\n{_VEC3}',
    STRING: 'string data\n',
}


def _stamp(seconds: float) -> dict[str, int]:
    sec, nanosec = divmod(int(round(seconds * 1e9)), 1_000_000_000)
    return {'sec': sec, 'nanosec': nanosec}


def _seconds(stamp: Any) -> float:
    return float(stamp.sec) + 1e-9 * float(stamp.nanosec)


class McapRecorder:
    """Write the trainer's input streams to an MCAP file.

    Args:
        path: Output ``.mcap`` file (parent directories are created).
        topics: Topic names to record under: keys ``joint_states``, ``commands``, ``goal_pose``,
            ``cmd_vel``, ``resets``.
    """

    def __init__(self, path: str | Path, topics: dict[str, str]) -> None:
        missing = {'joint_states', 'commands', 'goal_pose', 'cmd_vel', 'resets'} - set(topics)
        if missing:
            raise ValueError(f'McapRecorder: topic name(s) missing for {sorted(missing)}')
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.topics = dict(topics)
        self._file = open(self.path, 'wb')
        self._writer = Writer(self._file, chunk_size=64 * 1024)
        self._schemas = {name: self._writer.register_msgdef(name, text)
                         for name, text in MSGDEFS.items()}
        self.count = 0

    def _write(self, key: str, schema: str, message: dict[str, Any], log_time: int) -> None:
        self._writer.write_message(self.topics[key], self._schemas[schema], message,
                                   log_time=log_time, publish_time=log_time, sequence=self.count)
        self.count += 1

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
        """Finish the file (index and summary) and close it."""
        self._writer.finish()
        self._file.close()


@dataclass(frozen=True)
class Event:
    """One input of the trainer: ``kind`` is joint_state, command, goal, cmd_vel or reset."""

    kind: str
    stamp: float = 0.0
    names: tuple[str, ...] = ()
    position: np.ndarray | None = None
    velocity: np.ndarray | None = None
    values: Any = None  # numbers (np.ndarray); a reset's goal as recorded (unvalidated)


def read_events(path: str | Path) -> Iterator[Event]:
    """Trainer input events of a recording in log-time order, recognized by message type.

    Raises:
        ValueError: If the file is not a readable MCAP recording.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f'replay_mcap: no such file {path}')
    try:
        for item in read_ros2_messages(str(path)):
            yield from _event(item.schema.name, item.channel.topic, item.ros_msg)
    except Exception as exc:  # noqa: BLE001 - mcap raises its own error types
        raise ValueError(f'replay_mcap: {path} is not a readable MCAP recording: {exc}') from exc


def _event(schema: str, topic: str, msg: Any) -> Iterator[Event]:
    if schema == JOINT_STATE:
        yield Event('joint_state', _seconds(msg.header.stamp), tuple(msg.name),
                    np.asarray(msg.position, np.float64), np.asarray(msg.velocity, np.float64))
    elif schema == FLOAT64_ARRAY:
        yield Event('command', values=np.asarray(msg.data, np.float64))
    elif schema == POSE_STAMPED:
        p = msg.pose.position
        yield Event('goal', _seconds(msg.header.stamp), values=np.array([p.x, p.y, p.z]))
    elif schema == TWIST:
        yield Event('cmd_vel', values=np.array([msg.linear.x, msg.linear.y, msg.angular.z]))
    elif schema == STRING and topic.endswith('resets'):
        data = json.loads(msg.data)
        if 'stamp' in data:
            # The goal as recorded: the pairer validates it, as it does a live reset reply.
            yield Event('reset', stamp=float(data['stamp']), values=data.get('goal'))
        else:
            yield Event('reset_request')


def replay_transitions(path: str | Path, pairer: TransitionPairer) -> Iterator[Transition]:
    """Pair a recording offline: the same rules as live, reset boundaries from the file."""
    joints = pairer.spec.joint_names
    for event in read_events(path):
        if event.kind == 'joint_state':
            missing = [j for j in joints if j not in event.names]
            if missing:
                raise ValueError(f'replay_mcap: joint_states lacks joint(s) {missing}')
            order = [event.names.index(j) for j in joints]
            velocity = (event.velocity[order] if len(event.velocity) else np.zeros(len(order)))
            tr = pairer.on_joint_state(event.stamp, event.position[order], velocity)
            if tr is not None:
                yield tr
        elif event.kind == 'command':
            try:
                pairer.on_command(event.values)
            except ValueError:
                pairer.dropped['bad_command'] += 1
        elif event.kind == 'goal':
            pairer.on_goal(event.values, event.stamp)
        elif event.kind == 'cmd_vel':
            pairer.on_cmd_vel(event.values)
        elif event.kind == 'reset_request':
            pairer.begin_reset()
        else:
            if not pairer.awaiting_reset:
                pairer.begin_reset()
            pairer.on_reset(event.stamp, event.values)
