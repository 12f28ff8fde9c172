# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Batched forward kinematics of a fixed-base chain, from the MuJoCo model of a robot.

Tasks compute rewards from *observed* joint positions, for a batch of robots in one NumPy call:
:func:`chain_from_model` walks the bodies from the world to one link once and writes them as a
plain-data :class:`~robotrl_ros.tasks.kinematics.KinematicChain` (what ``policy.yaml`` carries
to the robot), and :class:`ChainKinematics` evaluates the link's position for
``(batch, n_joints)`` joint positions, exactly as MuJoCo's ``mj_kinematics`` places that body
(hinge joints rotate about their anchor and axis, slide joints translate; angles are relative
to the joint's ``qpos0``).
"""

from __future__ import annotations

import mujoco
import numpy as np

from robotrl_ros.tasks.kinematics import ChainJoint, ChainLink, KinematicChain

_HINGE, _SLIDE = int(mujoco.mjtJoint.mjJNT_HINGE), int(mujoco.mjtJoint.mjJNT_SLIDE)


def _floats(values: np.ndarray) -> tuple[float, ...]:
    return tuple(float(v) for v in values)


def chain_from_model(model: mujoco.MjModel, body: int,
                     joint_names: tuple[str, ...]) -> KinematicChain:
    """The kinematic chain from the world to ``body`` as plain data.

    Joints on the chain that are not in ``joint_names`` stay at ``qpos0`` (where they do not
    move their body), so they are left out.

    Raises:
        ValueError: A free or ball joint on the chain (the base must be fixed).
    """
    commanded = set(joint_names)
    chain = []
    link = body
    while link > 0:
        chain.append(link)
        link = int(model.body_parentid[link])
    links = []
    for b in reversed(chain):
        joints = []
        for j in range(model.body_jntadr[b], model.body_jntadr[b] + model.body_jntnum[b]):
            kind = int(model.jnt_type[j])
            name = model.joint(j).name
            if kind not in (_HINGE, _SLIDE):
                raise ValueError(f'ChainKinematics: joint {name!r} on the chain is free or '
                                 'ball; the base must be fixed')
            if name in commanded:
                joints.append(ChainJoint(
                    name=name, type='hinge' if kind == _HINGE else 'slide',
                    axis=_floats(model.jnt_axis[j]), anchor=_floats(model.jnt_pos[j]),
                    ref=float(model.qpos0[model.jnt_qposadr[j]])))
        links.append(ChainLink(pos=_floats(model.body_pos[b]), quat=_floats(model.body_quat[b]),
                               joints=tuple(joints)))
    return KinematicChain(link=model.body(body).name, links=tuple(links))


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
        self.chain = chain_from_model(model, body, joint_names)
        self._position = self.chain.evaluator(tuple(joint_names))
        self.n_joints = len(joint_names)

    def position(self, q: np.ndarray) -> np.ndarray:
        """World position of the link: ``(batch, 3)`` for ``q`` of shape ``(batch, n)``.

        A single configuration ``(n,)`` gives ``(3,)``.
        """
        return self._position.position(q)
