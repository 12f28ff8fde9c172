# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Reading a recording back as the trainer's input events, and pairing it offline.

:func:`read_events` turns a recording (ours or a ``ros2 bag record`` MCAP) into the trainer's
input events in log-time order, recognized by message type; :func:`replay_transitions` pairs
them with the live rules (:class:`robotrl_ros.training.online.pairing.TransitionPairer`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from mcap_ros2.reader import read_ros2_messages

from robotrl_ros.training.online.base_signals import DEFAULT_TOLERANCE, BaseSignalMatcher
from robotrl_ros.training.online.pairing import Transition, TransitionPairer
from robotrl_ros.training.online.recording import (
    FLOAT64_ARRAY,
    IMU,
    JOINT_STATE,
    POSE_STAMPED,
    STRING,
    TWIST,
    TWIST_STAMPED,
    seconds_of,
)


@dataclass(frozen=True)
class Event:
    """One input of the trainer.

    ``kind`` is joint_state, command, goal, cmd_vel, imu (``values``: quaternion x, y, z, w and
    angular velocity), base_twist (``values``: linear velocity), reset or reset_request.
    """

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
        yield Event('joint_state', seconds_of(msg.header.stamp), tuple(msg.name),
                    np.asarray(msg.position, np.float64), np.asarray(msg.velocity, np.float64))
    elif schema == FLOAT64_ARRAY:
        yield Event('command', values=np.asarray(msg.data, np.float64))
    elif schema == POSE_STAMPED:
        p = msg.pose.position
        yield Event('goal', seconds_of(msg.header.stamp), values=np.array([p.x, p.y, p.z]))
    elif schema == IMU:
        q, w = msg.orientation, msg.angular_velocity
        yield Event('imu', seconds_of(msg.header.stamp),
                    values=(np.array([q.x, q.y, q.z, q.w]), np.array([w.x, w.y, w.z])))
    elif schema == TWIST_STAMPED:
        v = msg.twist.linear
        yield Event('base_twist', seconds_of(msg.header.stamp), values=np.array([v.x, v.y, v.z]))
    elif schema == TWIST:
        yield Event('cmd_vel', values=np.array([msg.linear.x, msg.linear.y, msg.angular.z]))
    elif schema == STRING and topic.endswith('resets'):
        data = json.loads(msg.data)
        if 'stamp' in data:
            # The goal as recorded: the pairer validates it, as it does a live reset reply.
            yield Event('reset', stamp=float(data['stamp']), values=data.get('goal'))
        else:
            yield Event('reset_request')


def replay_transitions(path: str | Path, pairer: TransitionPairer,
                       imu_tolerance: float = DEFAULT_TOLERANCE) -> Iterator[Transition]:
    """Pair a recording offline: the same rules as live, reset boundaries from the file.

    ``imu`` and ``base_twist`` samples are paired with joint states as live
    (:class:`BaseSignalMatcher` with ``imu_tolerance``).
    """
    joints = pairer.spec.joint_names
    base = BaseSignalMatcher(imu_tolerance)
    for event in read_events(path):
        if event.kind == 'joint_state':
            missing = [j for j in joints if j not in event.names]
            if missing:
                raise ValueError(f'replay_mcap: joint_states lacks joint(s) {missing}')
            order = [event.names.index(j) for j in joints]
            velocity = (event.velocity[order] if len(event.velocity) else np.zeros(len(order)))
            tr = pairer.on_joint_state(event.stamp, event.position[order], velocity,
                                       base.match(event.stamp))
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
        elif event.kind == 'imu':
            base.on_imu(event.stamp, *event.values)
        elif event.kind == 'base_twist':
            base.on_base_twist(event.stamp, event.values)
        elif event.kind == 'reset_request':
            pairer.begin_reset()
        else:
            if not pairer.awaiting_reset:
                pairer.begin_reset()
            pairer.on_reset(event.stamp, event.values)
