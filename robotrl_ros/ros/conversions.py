# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Conversions between ROS messages and NumPy, joints matched by *name*, never by index."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from builtin_interfaces.msg import Time
from geometry_msgs.msg import PoseStamped, Twist, TwistStamped
from sensor_msgs.msg import Imu, JointState
from std_msgs.msg import Float64MultiArray

from robotrl_ros.tasks.observation import projected_gravity
from robotrl_ros.util.finite import all_finite


class JointStateError(ValueError):
    """A JointState message cannot be used (missing joints, bad lengths, NaN, ...)."""


def stamp_to_sec(stamp: Time) -> float:
    """ROS time stamp to float seconds."""
    return float(stamp.sec) + 1e-9 * float(stamp.nanosec)


def sec_to_stamp(seconds: float) -> Time:
    """Float seconds to a ROS time stamp."""
    sec, nanosec = divmod(int(round(seconds * 1e9)), 1_000_000_000)  # 4.9999999999 -> 5.0
    return Time(sec=sec, nanosec=nanosec)


class JointStateSample(NamedTuple):
    """The fields of a JointState the policy node reads (arrays: float64, maybe views)."""

    stamp: float
    name: tuple[str, ...]
    position: np.ndarray
    velocity: np.ndarray
    effort: np.ndarray

    @classmethod
    def from_message(cls, msg: JointState) -> JointStateSample:
        """The sample of a deserialized message.

        Raises:
            JointStateError: A ``header.stamp.nanosec`` of one second or more.
        """
        if msg.header.stamp.nanosec >= 1_000_000_000:
            raise JointStateError(f'joint_states header.stamp.nanosec '
                                  f'{msg.header.stamp.nanosec} is not below 1e9')
        return cls(stamp_to_sec(msg.header.stamp), tuple(msg.name),
                   *(np.asarray(values, dtype=np.float64)
                     for values in (msg.position, msg.velocity, msg.effort)))


class JointIndex:
    """Maps JointState messages onto a fixed joint order by name, caching the permutation.

    Args:
        joint_names: The wanted joint order (e.g. the policy's command order).
    """

    def __init__(self, joint_names: Sequence[str]) -> None:
        self.joint_names = tuple(joint_names)
        self._cache_key: tuple[str, ...] | None = None
        self._perm: np.ndarray | None = None

    def missing(self, names: Sequence[str]) -> list[str]:
        """Joints of ours that ``names`` lacks."""
        present = set(names)
        return [j for j in self.joint_names if j not in present]

    def _permutation(self, names: Sequence[str]) -> np.ndarray | None:
        """Message index of each of our joints; None when the message lists exactly ours."""
        key = tuple(names)
        if key != self._cache_key:
            if len(set(key)) != len(key):
                raise JointStateError(f'joint_states lists a joint twice: {list(key)}')
            missing = self.missing(key)
            if missing:
                raise JointStateError(f'joint_states lacks joint(s) {missing} '
                                      f'(got {list(key)})')
            lookup = {name: i for i, name in enumerate(key)}
            self._perm = None if key == self.joint_names else \
                np.array([lookup[j] for j in self.joint_names], dtype=np.intp)
            self._cache_key = key
        return self._perm

    def extract(self, msg: JointState | JointStateSample,
                require_velocity: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Return ``(position, velocity, effort_or_None)`` in our joint order.

        Raises:
            JointStateError: Missing joints, array lengths that do not match ``name``, or
                non-finite values in the joints we use.
        """
        n = len(msg.name)
        if len(msg.position) != n:
            raise JointStateError(f'joint_states has {n} names but {len(msg.position)} '
                                  'positions')
        if len(msg.velocity) not in (0, n) or (require_velocity and len(msg.velocity) != n):
            raise JointStateError(f'joint_states has {n} names but {len(msg.velocity)} '
                                  'velocities')
        if len(msg.effort) not in (0, n):
            raise JointStateError(f'joint_states has {n} names but {len(msg.effort)} efforts')
        perm = self._permutation(msg.name)
        position = _gather(msg.position, perm)
        velocity = (_gather(msg.velocity, perm) if len(msg.velocity)
                    else np.zeros(len(self.joint_names)))
        effort = _gather(msg.effort, perm) if len(msg.effort) else None
        if not (all_finite(position) and all_finite(velocity)):
            raise JointStateError('joint_states contains NaN/Inf for a used joint')
        return position, velocity, effort


def _gather(values: Sequence[float], perm: np.ndarray | None) -> np.ndarray:
    """``values[perm]`` as a new float64 array (never a view of the message)."""
    if perm is None:
        return np.array(values, dtype=np.float64)
    return np.asarray(values, dtype=np.float64)[perm]   # indexing copies


def make_joint_state(names: Sequence[str], position: np.ndarray, velocity: np.ndarray,
                     effort: np.ndarray | None = None, stamp: float = 0.0,
                     frame_id: str = '') -> JointState:
    """Build a JointState message."""
    msg = JointState()
    msg.header.stamp = sec_to_stamp(stamp)
    msg.header.frame_id = frame_id
    msg.name = list(names)
    msg.position = [float(v) for v in position]
    msg.velocity = [float(v) for v in velocity]
    msg.effort = [] if effort is None else [float(v) for v in effort]
    return msg


def make_command(values: np.ndarray) -> Float64MultiArray:
    """Command message in the controller's joint order (forward_command_controller style)."""
    return Float64MultiArray(data=[float(v) for v in values])


def command_to_array(msg: Float64MultiArray, expected: int) -> np.ndarray:
    """Validate and convert a command message.

    Raises:
        ValueError: Wrong length or non-finite entries.
    """
    data = np.asarray(msg.data, dtype=np.float64)
    if data.shape[0] != expected:
        raise ValueError(f'command has {data.shape[0]} entries, expected {expected}')
    if not np.all(np.isfinite(data)):
        raise ValueError(f'command contains NaN/Inf: {data.tolist()}')
    return data


def pose_to_goal(msg: PoseStamped) -> np.ndarray:
    """Goal position (x, y, z) from a PoseStamped; raises ValueError when not finite."""
    p = msg.pose.position
    goal = np.array([p.x, p.y, p.z], dtype=np.float64)
    if not np.all(np.isfinite(goal)):
        raise ValueError(f'goal_pose contains NaN/Inf: {goal.tolist()}')
    return goal


def goal_to_pose(goal: np.ndarray, stamp: float = 0.0, frame_id: str = 'world') -> PoseStamped:
    """PoseStamped at ``goal`` (x, y, z), identity orientation."""
    msg = PoseStamped()
    msg.header.stamp = sec_to_stamp(stamp)
    msg.header.frame_id = frame_id
    msg.pose.position.x, msg.pose.position.y, msg.pose.position.z = (
        float(goal[0]), float(goal[1]), float(goal[2]) if len(goal) > 2 else 0.0)
    msg.pose.orientation.w = 1.0
    return msg


def twist_to_cmd(msg: Twist) -> np.ndarray:
    """Velocity command (vx, vy, wz) from a Twist; raises ValueError when not finite."""
    cmd = np.array([msg.linear.x, msg.linear.y, msg.angular.z], dtype=np.float64)
    if not np.all(np.isfinite(cmd)):
        raise ValueError(f'cmd_vel contains NaN/Inf: {cmd.tolist()}')
    return cmd


def cmd_to_twist(cmd: np.ndarray) -> Twist:
    """Twist from (vx, vy, wz)."""
    msg = Twist()
    msg.linear.x, msg.linear.y, msg.angular.z = float(cmd[0]), float(cmd[1]), float(cmd[2])
    return msg


def gravity_to_quaternion(projected_gravity: np.ndarray) -> np.ndarray:
    """A base orientation ``(x, y, z, w)`` whose gravity, seen from the base, is as given.

    Simulators that expose only the projected gravity (``R^T (0, 0, -1)``) publish this
    zero-yaw orientation on ``imu``; a reader recovers exactly ``projected_gravity`` from it.
    It is the shortest rotation taking the (normalized) projected gravity onto ``(0, 0, -1)``.
    """
    g = np.asarray(projected_gravity, dtype=np.float64)
    g = g / np.linalg.norm(g)
    down = np.array([0.0, 0.0, -1.0])
    w = 1.0 + float(g @ down)
    if w < 1e-9:  # upside down: any half turn about a horizontal axis
        return np.array([1.0, 0.0, 0.0, 0.0])
    quat = np.array([*np.cross(g, down), w])
    return quat / np.linalg.norm(quat)


def imu_to_inputs(msg: Imu) -> tuple[dict[str, np.ndarray], list[str]]:
    """The observation inputs an Imu carries, and what is wrong with those it cannot give.

    Returns:
        ``{'projected_gravity': ..., 'base_ang_vel': ...}`` (the valid ones) and the problems
        (a non-finite or zero orientation quaternion, a non-finite angular velocity).
    """
    values, problems = {}, []
    q = msg.orientation
    quat = np.array([q.x, q.y, q.z, q.w])
    if np.all(np.isfinite(quat)) and float(quat @ quat) > 1e-12:
        values['projected_gravity'] = projected_gravity(quat)
    else:
        problems.append(f'imu orientation is not a valid quaternion: {quat.tolist()}')
    w = msg.angular_velocity
    rate = np.array([w.x, w.y, w.z])
    if np.all(np.isfinite(rate)):
        values['base_ang_vel'] = rate
    else:
        problems.append(f'base_ang_vel contains NaN/Inf: {rate.tolist()}')
    return values, problems


def base_twist_to_inputs(msg: TwistStamped) -> tuple[dict[str, np.ndarray], list[str]]:
    """``{'base_lin_vel': ...}`` from a base TwistStamped, or the problem (not finite)."""
    v = msg.twist.linear
    velocity = np.array([v.x, v.y, v.z])
    if np.all(np.isfinite(velocity)):
        return {'base_lin_vel': velocity}, []
    return {}, [f'base_lin_vel contains NaN/Inf: {velocity.tolist()}']


def make_imu(projected_gravity: np.ndarray, angular_velocity: np.ndarray, stamp: float = 0.0,
             frame_id: str = 'base') -> Imu:
    """sensor_msgs/Imu with orientation from the projected gravity and the base angular rate.

    Linear acceleration is marked unavailable (``linear_acceleration_covariance[0] = -1``).
    """
    msg = Imu()
    msg.header.stamp = sec_to_stamp(stamp)
    msg.header.frame_id = frame_id
    x, y, z, w = gravity_to_quaternion(projected_gravity)
    msg.orientation.x, msg.orientation.y, msg.orientation.z, msg.orientation.w = x, y, z, w
    msg.angular_velocity.x, msg.angular_velocity.y, msg.angular_velocity.z = (
        float(v) for v in angular_velocity[:3])
    msg.linear_acceleration_covariance[0] = -1.0
    return msg


def make_twist_stamped(linear: np.ndarray, angular: np.ndarray, stamp: float = 0.0,
                       frame_id: str = 'base') -> TwistStamped:
    """geometry_msgs/TwistStamped of base-frame linear and angular velocity."""
    msg = TwistStamped()
    msg.header.stamp = sec_to_stamp(stamp)
    msg.header.frame_id = frame_id
    msg.twist.linear.x, msg.twist.linear.y, msg.twist.linear.z = (float(v) for v in linear[:3])
    msg.twist.angular.x, msg.twist.angular.y, msg.twist.angular.z = (
        float(v) for v in angular[:3])
    return msg
