# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Build observation vectors from observed robot state, identically in sim and on the robot.

Simulated tasks, the policy node and the trainer node all call :func:`build_observation`, so an
observation is computed from the same inputs (joint states + goal/command) everywhere. It
builds one control step (a frame); terms spanning several steps are stacked by
:mod:`robotrl_ros.tasks.observation_history`.
End-effector terms (``ee_position``, ``ee_goal_delta``) use the forward kinematics the spec
carries (``TaskSpec.kinematic_chain``, plain data from ``policy.yaml`` on the robot).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from robotrl_ros.tasks.kinematics import planar_two_link_tip
from robotrl_ros.tasks.spec import ObsTerm, TaskSpec


def projected_gravity(quat_xyzw: np.ndarray) -> np.ndarray:
    """Gravity direction (0, 0, -1) expressed in the base frame of orientation ``quat_xyzw``."""
    x, y, z, w = (float(v) for v in quat_xyzw)
    norm = math.hypot(x, y, z, w)   # scalar math: called for every imu sample
    x, y, z, w = x / norm, y / norm, z / norm, w / norm
    # Third row of the rotation matrix R (world<-base), negated: R^T @ (0, 0, -1).
    return -np.array([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)])


@dataclass
class RobotState:
    """What can be observed of the robot at one instant, joints in the spec's order.

    Attributes:
        position: Joint positions, shape (n_joints,).
        velocity: Joint velocities, shape (n_joints,).
        goal: Goal position (x, y, z) from ``goal_pose``, or None.
        cmd_vel: Velocity command (vx, vy, wz) from ``cmd_vel``, or None.
        last_action: The previous action in [-1, 1], or None (treated as zeros).
        imu: Extra base/IMU signals keyed by term name (e.g. ``projected_gravity``), if any.
        stamp: Time of the measurement in seconds.
        feet_air: Simulation only: per foot, the air time of a landing in the last control
            period, else 0 (:mod:`~robotrl_ros.tasks.feet_air_time`); None on a robot.
    """

    position: np.ndarray
    velocity: np.ndarray
    goal: np.ndarray | None = None
    cmd_vel: np.ndarray | None = None
    last_action: np.ndarray | None = None
    imu: dict[str, np.ndarray] | None = None
    stamp: float = 0.0
    feet_air: np.ndarray | None = None


TermFn = Callable[[RobotState, TaskSpec, ObsTerm], np.ndarray]


def _require(value: np.ndarray | None, term: ObsTerm, source: str) -> np.ndarray:
    if value is None:
        raise ValueError(f'observation term {term.name!r} needs {source}, which has not been '
                         'received')
    return np.asarray(value, dtype=np.float64).reshape(-1)


def _joint_pos(state: RobotState, spec: TaskSpec, term: ObsTerm) -> np.ndarray:
    return np.asarray(state.position, dtype=np.float64)


def _joint_pos_rel(state: RobotState, spec: TaskSpec, term: ObsTerm) -> np.ndarray:
    return np.asarray(state.position, dtype=np.float64) - spec._arrays['offset']


def _goal_position(state: RobotState, spec: TaskSpec, term: ObsTerm) -> np.ndarray:
    return _require(state.goal, term, 'a goal (goal_pose)')[: term.size]


def _goal_delta(state: RobotState, spec: TaskSpec, term: ObsTerm) -> np.ndarray:
    goal = _require(state.goal, term, 'a goal (goal_pose)')[: term.size]
    return goal - np.asarray(state.position, dtype=np.float64)[: term.size]


def _ee_position(state: RobotState, spec: TaskSpec, term: ObsTerm) -> np.ndarray:
    return spec.ee_kinematics.position(np.asarray(state.position, dtype=np.float64))


def _ee_goal_delta(state: RobotState, spec: TaskSpec, term: ObsTerm) -> np.ndarray:
    goal = _require(state.goal, term, 'a goal (goal_pose)')[:3]
    return goal - spec.ee_kinematics.position(np.asarray(state.position, dtype=np.float64))


def _reacher_fingertip_delta(state: RobotState, spec: TaskSpec, term: ObsTerm) -> np.ndarray:
    goal = _require(state.goal, term, 'a goal (goal_pose)')[:2]
    return planar_two_link_tip(np.asarray(state.position, dtype=np.float64)) - goal


def _last_action(state: RobotState, spec: TaskSpec, term: ObsTerm) -> np.ndarray:
    if state.last_action is None:
        return np.zeros(term.size)
    return np.asarray(state.last_action, dtype=np.float64)


def _imu(state: RobotState, spec: TaskSpec, term: ObsTerm) -> np.ndarray:
    return _require((state.imu or {}).get(term.name), term, f'{term.name} (imu)')


OBS_TERMS: dict[str, TermFn] = {
    'joint_pos': _joint_pos,
    'joint_pos_rel': _joint_pos_rel,
    'joint_vel': lambda s, spec, t: np.asarray(s.velocity, dtype=np.float64),
    'joint_pos_cos': lambda s, spec, t: np.cos(np.asarray(s.position, dtype=np.float64)),
    'joint_pos_sin': lambda s, spec, t: np.sin(np.asarray(s.position, dtype=np.float64)),
    'goal_position': _goal_position,
    'goal_delta': _goal_delta,
    'reacher_fingertip_delta': _reacher_fingertip_delta,
    'ee_position': _ee_position,
    'ee_goal_delta': _ee_goal_delta,
    'cmd_vel': lambda s, spec, t: _require(s.cmd_vel, t, 'a velocity command (cmd_vel)'),
    'last_action': _last_action,
    'base_lin_vel': _imu,
    'base_ang_vel': _imu,
    'projected_gravity': _imu,
    'base_height': _imu,
}


def build_observation(spec: TaskSpec, state: RobotState) -> np.ndarray:
    """Concatenate the spec's observation terms computed from ``state``: one control step.

    This is the observation itself unless a term has ``history > 1``; then it is the frame
    that :class:`~robotrl_ros.tasks.observation_history.ObservationHistory` stacks.

    Args:
        spec: The task spec whose ``observation`` layout is followed.
        state: Observed robot state, joints in ``spec.joint_names`` order.

    Returns:
        float32 vector of length ``spec.frame_dim`` (``spec.obs_dim`` without history).

    Raises:
        ValueError: If a term is unknown, its input is missing, or its size does not match.
    """
    out = np.empty(spec.frame_dim, dtype=np.float32)
    start = 0
    for term in spec.observation:
        fn = OBS_TERMS.get(term.name)
        if fn is None:
            raise ValueError(f'unknown observation term {term.name!r}; known: '
                             f'{sorted(OBS_TERMS)}')
        value = np.asarray(fn(state, spec, term), dtype=np.float64)
        if value.size != term.size:
            raise ValueError(f'observation term {term.name!r} has {value.size} entries, '
                             f'layout says {term.size}')
        end = start + term.size
        flat = value if value.ndim == 1 else value.reshape(-1)
        # float64 math, then one cast to float32 on assignment (as concatenate + astype did)
        out[start:end] = flat * term.scale if term.scale != 1.0 else flat
        start = end
    return out
