# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Batched forward kinematics of a fixed-base chain, from the MuJoCo model of a robot.

Tasks compute rewards from *observed* joint positions, for a batch of robots in one NumPy call:
:class:`ChainKinematics` walks the bodies from the world to one link once, then evaluates the
link's position for ``(batch, n_joints)`` joint positions, exactly as MuJoCo's
``mj_kinematics`` places that body (hinge joints rotate about their anchor and axis, slide
joints translate; angles are relative to the joint's ``qpos0``).
"""

from __future__ import annotations

import mujoco
import numpy as np

_HINGE, _SLIDE = int(mujoco.mjtJoint.mjJNT_HINGE), int(mujoco.mjtJoint.mjJNT_SLIDE)


def _quat_to_mat(quat: np.ndarray) -> np.ndarray:
    w, x, y, z = quat / np.linalg.norm(quat)
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
                     [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
                     [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)]])


def _axis_angle(axis: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Rotation matrices (batch, 3, 3) about a unit ``axis`` by ``angle`` (batch,)."""
    x, y, z = axis
    k = np.array([[0.0, -z, y], [z, 0.0, -x], [-y, x, 0.0]])
    s, c = np.sin(angle)[:, None, None], np.cos(angle)[:, None, None]
    return np.eye(3) + s * k + (1 - c) * (k @ k)


class ChainKinematics:
    """Position of one link as a function of the commanded joints' positions.

    Args:
        model: A compiled MuJoCo model of a fixed-base robot.
        body: Body id of the link (e.g. the end effector).
        joint_names: The commanded joints, in the order of the joint position vectors given
            to :meth:`position`; other joints on the chain stay at ``qpos0``.

    Raises:
        ValueError: A free or ball joint on the chain (the base must be fixed).
    """

    def __init__(self, model: mujoco.MjModel, body: int, joint_names: tuple[str, ...]) -> None:
        column = {name: i for i, name in enumerate(joint_names)}
        chain = []
        while body > 0:
            chain.append(body)
            body = int(model.body_parentid[body])
        self._steps: list[tuple] = []
        for b in reversed(chain):
            joints = []
            for j in range(model.body_jntadr[b], model.body_jntadr[b] + model.body_jntnum[b]):
                kind = int(model.jnt_type[j])
                if kind not in (_HINGE, _SLIDE):
                    raise ValueError(f'ChainKinematics: joint {model.joint(j).name!r} on the '
                                     'chain is free or ball; the base must be fixed')
                joints.append((kind == _HINGE,
                               column.get(model.joint(j).name, -1),
                               float(model.qpos0[model.jnt_qposadr[j]]),
                               model.jnt_pos[j].copy(), model.jnt_axis[j].copy()))
            self._steps.append((model.body_pos[b].copy(), _quat_to_mat(model.body_quat[b]),
                                joints))
        self.n_joints = len(joint_names)

    def position(self, q: np.ndarray) -> np.ndarray:
        """World position of the link: ``(batch, 3)`` for ``q`` of shape ``(batch, n)``.

        A single configuration ``(n,)`` gives ``(3,)``.
        """
        q = np.asarray(q, dtype=np.float64)
        single = q.ndim == 1
        q = np.atleast_2d(q)
        if q.shape[1] != self.n_joints:
            raise ValueError(f'ChainKinematics: expected {self.n_joints} joint positions, got '
                             f'{q.shape[1]}')
        batch = q.shape[0]
        pos = np.zeros((batch, 3))
        rot = np.broadcast_to(np.eye(3), (batch, 3, 3)).copy()
        for body_pos, body_rot, joints in self._steps:
            pos = pos + rot @ body_pos
            rot = rot @ body_rot
            for hinge, column, ref, anchor, axis in joints:
                value = (q[:, column] if column >= 0 else np.zeros(batch)) - ref
                if hinge:
                    world_anchor = pos + rot @ anchor
                    rot = rot @ _axis_angle(axis, value)
                    pos = world_anchor - rot @ anchor
                else:
                    pos = pos + (rot @ axis) * value[:, None]
        return pos[0] if single else pos
