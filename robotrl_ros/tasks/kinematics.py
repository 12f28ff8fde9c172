# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Pure forward kinematics shared by simulated tasks and observation terms.

The graph (policy and trainer nodes) thus computes exactly what the simulator's task computes:
the Reacher's planar two-link tip, and :class:`KinematicChain`, the forward kinematics of one
link of any fixed-base robot as plain data (exported to ``policy.yaml``, no MuJoCo needed).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

# Reacher-v5 (gymnasium/envs/mujoco/assets/reacher.xml): body1 at 0.1 along link0, fingertip
# at 0.11 along link1.
REACHER_LINK_LENGTHS = (0.1, 0.11)


def planar_two_link_tip(q: np.ndarray, lengths: tuple[float, float] = REACHER_LINK_LENGTHS
                        ) -> np.ndarray:
    """(x, y) of the tip of a planar 2-link arm with joint angles ``q[..., :2]`` (rad)."""
    q = np.asarray(q, dtype=np.float64)
    if q.ndim == 1:     # one configuration: scalar math, no array overhead
        a0, a01 = float(q[0]), float(q[0] + q[1])
        return np.array([lengths[0] * math.cos(a0) + lengths[1] * math.cos(a01),
                         lengths[0] * math.sin(a0) + lengths[1] * math.sin(a01)])
    angles = np.empty(q.shape[:-1] + (2,))
    angles[..., 0] = q[..., 0]
    angles[..., 1] = q[..., 0] + q[..., 1]
    links = np.asarray(lengths, dtype=np.float64)
    tip = np.empty(q.shape[:-1] + (2,))
    tip[..., 0] = (links * np.cos(angles)).sum(axis=-1)
    tip[..., 1] = (links * np.sin(angles)).sum(axis=-1)
    return tip


#: Most links a :class:`KinematicChain` may have (a chain read from a file is bounded).
MAX_CHAIN_LINKS = 64
#: Most joints on one link of a chain.
MAX_LINK_JOINTS = 6
#: Largest offset (m) a chain may hold: nothing in a robot arm is this far from its parent.
MAX_OFFSET = 100.0
JOINT_KINDS = ('hinge', 'slide')


def _quat_to_mat(quat: np.ndarray) -> np.ndarray:
    w, x, y, z = quat / np.linalg.norm(quat)
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
                     [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
                     [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)]])


def _skew(axis: np.ndarray) -> np.ndarray:
    x, y, z = axis
    return np.array([[0.0, -z, y], [z, 0.0, -x], [-y, x, 0.0]])


@dataclass(frozen=True)
class ChainJoint:
    """One joint of a :class:`KinematicChain`, in its link's frame.

    Attributes:
        name: The joint's name (one of the task's ``joint_names``).
        type: ``hinge`` (rotates about ``axis`` through ``anchor``) or ``slide`` (translates
            along ``axis``).
        axis: Unit axis (x, y, z) in the link's frame.
        anchor: A point on a hinge's axis (x, y, z), in the link's frame.
        ref: Joint position at which the link has its rest pose (MuJoCo's ``qpos0``).
    """

    name: str
    type: str
    axis: tuple[float, float, float]
    anchor: tuple[float, float, float] = (0.0, 0.0, 0.0)
    ref: float = 0.0


@dataclass(frozen=True)
class ChainLink:
    """One link of a :class:`KinematicChain`: its rest pose in the parent's frame, its joints.

    Attributes:
        pos: Position (x, y, z) of the link's frame in its parent's frame.
        quat: Orientation (w, x, y, z) of the link's frame in its parent's frame.
        joints: Joints between the parent and this link, applied in order.
    """

    pos: tuple[float, float, float]
    quat: tuple[float, float, float, float] = (1.0, 0.0, 0.0, 0.0)
    joints: tuple[ChainJoint, ...] = ()


@dataclass(frozen=True)
class KinematicChain:
    """Forward kinematics of one link of a fixed-base robot, as plain data.

    What a policy node needs to compute end-effector observation terms from joint states
    without the robot's model (it is written to ``policy.yaml`` as ``kinematic_chain``).
    Placing links exactly as MuJoCo's ``mj_kinematics`` does: each link is placed at ``pos`` /
    ``quat`` in its parent's frame, then its joints move it (hinge angles and slide offsets
    relative to ``ref``).

    Attributes:
        link: Name of the link whose position the chain gives (e.g. the robot's ``ee_link``).
        links: Links from the base (first) to ``link`` (last).
    """

    link: str
    links: tuple[ChainLink, ...]

    @property
    def joint_names(self) -> tuple[str, ...]:
        """Names of the chain's joints, base first."""
        return tuple(joint.name for link in self.links for joint in link.joints)

    def evaluator(self, joint_names: tuple[str, ...]) -> ChainPosition:
        """Position function for joint position vectors ordered as ``joint_names``.

        Raises:
            ValueError: A joint of the chain is not in ``joint_names``.
        """
        return ChainPosition(self, joint_names)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (lists and numbers) for YAML/JSON."""
        return {'link': self.link, 'links': [
            {'pos': list(link.pos), 'quat': list(link.quat),
             'joints': [{'name': j.name, 'type': j.type, 'axis': list(j.axis),
                         'anchor': list(j.anchor), 'ref': j.ref} for j in link.joints]}
            for link in self.links]}

    @classmethod
    def from_dict(cls, data: Any, where: str = 'kinematic_chain') -> KinematicChain:
        """Read and check a chain from :meth:`to_dict` output (e.g. a file's ``where`` key).

        Raises:
            ValueError: Naming the key (``where.links[i].joints[j].axis`` ...) that is missing,
                unknown or malformed: bounded sizes, finite numbers, non-zero quaternions and
                unit-normalisable axes, known joint types, each joint once.
        """
        _keys(data, where, required=('link', 'links'), optional=())
        link = data['link']
        if not isinstance(link, str) or not link:
            raise ValueError(f'{where}.link: expected a non-empty name, got {link!r}')
        links = data['links']
        if not isinstance(links, list) or not 0 < len(links) <= MAX_CHAIN_LINKS:
            raise ValueError(f'{where}.links: expected a list of 1 to {MAX_CHAIN_LINKS} links, '
                             f'got {_short(links)}')
        out, seen = [], set()
        for i, item in enumerate(links):
            at = f'{where}.links[{i}]'
            _keys(item, at, required=('pos',), optional=('quat', 'joints'))
            quat = _numbers(item.get('quat', [1.0, 0.0, 0.0, 0.0]), 4, f'{at}.quat')
            if np.linalg.norm(quat) < 1e-6:
                raise ValueError(f'{at}.quat: must not be zero, got {list(quat)}')
            joints = item.get('joints', [])
            if not isinstance(joints, list) or len(joints) > MAX_LINK_JOINTS:
                raise ValueError(f'{at}.joints: expected a list of at most {MAX_LINK_JOINTS} '
                                 f'joints, got {_short(joints)}')
            parsed = []
            for k, joint in enumerate(joints):
                parsed.append(_joint(joint, f'{at}.joints[{k}]'))
                if parsed[-1].name in seen:
                    raise ValueError(f'{at}.joints[{k}].name: joint {parsed[-1].name!r} is on '
                                     'the chain twice')
                seen.add(parsed[-1].name)
            out.append(ChainLink(pos=_offset(item['pos'], f'{at}.pos'),
                                 quat=tuple(float(v) for v in quat), joints=tuple(parsed)))
        return cls(link=link, links=tuple(out))


class ChainPosition:
    """A :class:`KinematicChain` compiled for one joint order: ``(batch, n) -> (batch, 3)``.

    Args:
        chain: The chain.
        joint_names: Column order of the joint position vectors given to :meth:`position`.

    Raises:
        ValueError: A joint of the chain is not in ``joint_names``.
    """

    def __init__(self, chain: KinematicChain, joint_names: tuple[str, ...]) -> None:
        column = {name: i for i, name in enumerate(joint_names)}
        missing = [name for name in chain.joint_names if name not in column]
        if missing:
            raise ValueError(f'kinematic chain of {chain.link!r}: joint(s) {missing} are not '
                             f'among the joints {list(joint_names)}')
        self.n_joints = len(joint_names)
        # A program of homogeneous transforms: fixed 4x4 matrices (consecutive ones merged)
        # and joint motions; a hinge about an anchor is translate(anchor) rot translate(-anchor).
        steps: list[tuple] = []

        def fixed(matrix: np.ndarray) -> None:
            if steps and steps[-1][0] == 'fixed':
                steps[-1] = ('fixed', steps[-1][1] @ matrix)
            else:
                steps.append(('fixed', matrix))

        for link in chain.links:
            fixed(_transform(_quat_to_mat(np.asarray(link.quat)), np.asarray(link.pos)))
            for joint in link.joints:
                axis = np.asarray(joint.axis, dtype=np.float64) / np.linalg.norm(joint.axis)
                if joint.type == 'hinge':
                    anchor = np.asarray(joint.anchor, dtype=np.float64)
                    fixed(_transform(np.eye(3), anchor))
                    skew = np.zeros((4, 4))
                    skew[:3, :3] = _skew(axis)
                    steps.append(('hinge', column[joint.name], joint.ref, skew, skew @ skew))
                    fixed(_transform(np.eye(3), -anchor))
                else:
                    steps.append(('slide', column[joint.name], joint.ref, axis))
        self._steps = steps

    def position(self, q: np.ndarray) -> np.ndarray:
        """Position of the chain's link: ``(batch, 3)`` for ``q`` ``(batch, n)``.

        A single configuration ``(n,)`` gives ``(3,)``.
        """
        q = np.asarray(q, dtype=np.float64)
        single = q.ndim == 1
        q = np.atleast_2d(q)
        if q.ndim != 2 or q.shape[1] != self.n_joints:
            raise ValueError(f'kinematic chain: expected {self.n_joints} joint positions, got '
                             f'shape {q.shape[1:]}')
        if q.shape[0] == 1:     # one robot (the nodes, every env step): 2-D matrices
            pos = self._one(q[0])
            return pos if single else pos[None]
        batch = q.shape[0]
        eye = np.eye(4)
        t = np.broadcast_to(eye, (batch, 4, 4))
        for step in self._steps:
            if step[0] == 'fixed':
                t = t @ step[1]
            elif step[0] == 'hinge':
                _, col, ref, skew, skew2 = step
                value = q[:, col] - ref
                s, c = np.sin(value)[:, None, None], np.cos(value)[:, None, None]
                t = t @ (eye + s * skew + (1 - c) * skew2)
            else:
                _, col, ref, axis = step
                move = np.broadcast_to(eye, (batch, 4, 4)).copy()
                move[:, :3, 3] = (q[:, col] - ref)[:, None] * axis
                t = t @ move
        return t[:, :3, 3].copy()

    def _one(self, q: np.ndarray) -> np.ndarray:
        t = np.eye(4)
        for step in self._steps:
            if step[0] == 'fixed':
                t = t @ step[1]
            elif step[0] == 'hinge':
                _, col, ref, skew, skew2 = step
                value = float(q[col]) - ref
                t = t @ (_EYE4 + math.sin(value) * skew + (1 - math.cos(value)) * skew2)
            else:
                _, col, ref, axis = step
                t = t @ _transform(np.eye(3), (float(q[col]) - ref) * axis)
        return t[:3, 3].copy()


_EYE4 = np.eye(4)


def _transform(rot: np.ndarray, pos: np.ndarray) -> np.ndarray:
    out = np.eye(4)
    out[:3, :3] = rot
    out[:3, 3] = pos
    return out


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + '...'


def _keys(data: Any, where: str, required: tuple[str, ...], optional: tuple[str, ...]) -> None:
    if not isinstance(data, dict):
        raise ValueError(f'{where}: expected a mapping with keys {list(required + optional)}, '
                         f'got {_short(data)}')
    unknown = set(data) - set(required) - set(optional)
    if unknown:
        raise ValueError(f'{where}: unknown key(s) {sorted(map(str, unknown))}; known: '
                         f'{list(required + optional)}')
    missing = [key for key in required if key not in data]
    if missing:
        raise ValueError(f'{where}: missing key(s) {missing}')


def _numbers(value: Any, size: int, where: str) -> np.ndarray:
    if not isinstance(value, (list, tuple)) or len(value) != size:
        raise ValueError(f'{where}: expected a list of {size} numbers, got {_short(value)}')
    for i, v in enumerate(value):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise ValueError(f'{where}[{i}]: expected a finite number, got {_short(v)}')
    return np.asarray(value, dtype=np.float64)


def _offset(value: Any, where: str) -> tuple[float, float, float]:
    vector = _numbers(value, 3, where)
    if np.max(np.abs(vector)) > MAX_OFFSET:
        raise ValueError(f'{where}: offsets above {MAX_OFFSET} m are not a robot arm, got '
                         f'{list(vector)}')
    return tuple(float(v) for v in vector)


def _joint(data: Any, where: str) -> ChainJoint:
    _keys(data, where, required=('name', 'type', 'axis'), optional=('anchor', 'ref'))
    name, kind = data['name'], data['type']
    if not isinstance(name, str) or not name:
        raise ValueError(f'{where}.name: expected a non-empty joint name, got {_short(name)}')
    if kind not in JOINT_KINDS:
        raise ValueError(f'{where}.type: must be one of {list(JOINT_KINDS)}, got {_short(kind)}')
    axis = _numbers(data['axis'], 3, f'{where}.axis')
    if np.linalg.norm(axis) < 1e-6:
        raise ValueError(f'{where}.axis: must not be zero, got {list(axis)}')
    ref = data.get('ref', 0.0)
    if isinstance(ref, bool) or not isinstance(ref, (int, float)) or not math.isfinite(ref):
        raise ValueError(f'{where}.ref: expected a finite number, got {_short(ref)}')
    return ChainJoint(name=name, type=kind, axis=tuple(float(v) for v in axis),
                      anchor=_offset(data.get('anchor', [0.0, 0.0, 0.0]), f'{where}.anchor'),
                      ref=float(ref))
