# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""What a task exposes to the rest of the stack: joint names, observation layout, action meaning.

A :class:`TaskSpec` is all that a policy node, trainer node or policy artifact needs to turn
observed joint states (plus a goal or velocity command) into an observation vector, and a
policy action into motor commands. It is plain data so it can be written to ``policy.yaml``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from robotrl_ros.tasks.kinematics import ChainPosition, KinematicChain

#: Observation terms computed from the spec's ``kinematic_chain`` (end-effector position).
CHAIN_TERMS = ('ee_position', 'ee_goal_delta')
#: Most control steps one observation term may span (:attr:`ObsTerm.history`).
MAX_HISTORY = 64


@dataclass(frozen=True)
class ObsTerm:
    """One slice of the observation vector.

    Attributes:
        name: Term kind, a key of ``robotrl_ros.tasks.observation.OBS_TERMS``
            (e.g. ``joint_pos``, ``joint_vel``, ``goal_position``, ``cmd_vel``, ``last_action``).
        size: Number of entries of the term at one control step.
        scale: Multiplier applied after the term is computed.
        history: Control steps of this term in the observation, newest first (1: the current
            one only). The term contributes ``size * history`` entries; the older steps come
            from :class:`~robotrl_ros.tasks.observation_history.ObservationHistory`.
    """

    name: str
    size: int
    scale: float = 1.0
    history: int = 1

    def __post_init__(self) -> None:
        if isinstance(self.history, bool) or not isinstance(self.history, int) \
                or not 1 <= self.history <= MAX_HISTORY:
            raise ValueError(f'observation term {self.name!r}: history must be an integer in '
                             f'[1, {MAX_HISTORY}], got {self.history!r}')


@dataclass(frozen=True)
class TaskSpec:
    """Static description of a task's robot interface.

    Attributes:
        name: Task name (``reach``, ``reach_discrete``, ``gridworld``, ``reacher``, ``quadruped``).
        joint_names: Joint names in command (= action) order.
        observation: Ordered observation terms; their sizes add up to ``obs_dim``.
        action_scale: Per-joint scale: ``command = action_offset + action_scale * action``.
        action_offset: Per-joint offset (the default joint positions for position targets).
        command_lower: Per-joint lower command limit.
        command_upper: Per-joint upper command limit.
        velocity_limits: Per-joint absolute joint velocity limit (informational for safety).
        control_period: Seconds between two actions.
        command_interface: What a command means to the robot: ``position``, ``velocity``,
            ``effort`` or ``acceleration``.
        command_input: Which user command the task follows: ``goal_pose``, ``cmd_vel`` or ``none``.
        max_episode_steps: Steps before an episode is truncated.
        discrete_actions: For discrete-action tasks, the table mapping an action index to a
            continuous action row; empty for continuous tasks.
        kinematic_chain: Forward kinematics of the end effector (fixed-base arms), needed by
            the ``ee_position`` and ``ee_goal_delta`` observation terms; None otherwise.
    """

    name: str
    joint_names: tuple[str, ...]
    observation: tuple[ObsTerm, ...]
    action_scale: tuple[float, ...]
    action_offset: tuple[float, ...]
    command_lower: tuple[float, ...]
    command_upper: tuple[float, ...]
    velocity_limits: tuple[float, ...]
    control_period: float
    command_interface: str = 'position'
    command_input: str = 'none'
    max_episode_steps: int = 1000
    discrete_actions: tuple[tuple[float, ...], ...] = field(default_factory=tuple)
    kinematic_chain: KinematicChain | None = None

    def __post_init__(self) -> None:
        n = len(self.joint_names)
        for attr in ('action_scale', 'action_offset', 'command_lower', 'command_upper',
                     'velocity_limits'):
            if len(getattr(self, attr)) != n:
                raise ValueError(f'TaskSpec {self.name!r}: {attr} has {len(getattr(self, attr))} '
                                 f'entries, expected one per joint ({n})')
        if self.command_input not in ('goal_pose', 'cmd_vel', 'none'):
            raise ValueError(f'TaskSpec {self.name!r}: command_input must be goal_pose, cmd_vel '
                             f'or none, got {self.command_input!r}')
        if self.control_period <= 0:
            raise ValueError(f'TaskSpec {self.name!r}: control_period must be > 0')
        needs_chain = sorted({t.name for t in self.observation} & set(CHAIN_TERMS))
        if needs_chain and self.kinematic_chain is None:
            raise ValueError(f'TaskSpec {self.name!r}: observation term(s) {needs_chain} need '
                             'a kinematic_chain')
        if self.kinematic_chain is not None:
            self.ee_kinematics     # noqa: B018 (checks the chain's joints are the spec's)

    @cached_property
    def ee_kinematics(self) -> ChainPosition:
        """Forward kinematics of ``kinematic_chain`` for joint positions in spec order.

        Raises:
            ValueError: The spec has no kinematic chain, or the chain has a joint that is not
                among ``joint_names``.
        """
        if self.kinematic_chain is None:
            raise ValueError(f'TaskSpec {self.name!r}: no kinematic_chain')
        try:
            return self.kinematic_chain.evaluator(self.joint_names)
        except ValueError as exc:
            raise ValueError(f'TaskSpec {self.name!r}: {exc}') from exc

    @cached_property
    def obs_dim(self) -> int:
        """Length of the observation vector (every term times its history)."""
        return sum(term.size * term.history for term in self.observation)

    @cached_property
    def frame_dim(self) -> int:
        """Length of one control step's frame (every term once); ``obs_dim`` without history."""
        return sum(term.size for term in self.observation)

    @property
    def has_history(self) -> bool:
        """Whether a term spans more than the current control step."""
        return any(term.history > 1 for term in self.observation)

    @property
    def action_dim(self) -> int:
        """Length of a continuous action (one per joint)."""
        return len(self.joint_names)

    @property
    def is_discrete(self) -> bool:
        """Whether the policy picks an index into ``discrete_actions``."""
        return len(self.discrete_actions) > 0

    @cached_property
    def _arrays(self) -> dict[str, np.ndarray]:
        # float64 copies of the per-joint tuples, built once (hot path of every env step).
        scale = np.asarray(self.action_scale, dtype=np.float64)
        return {'scale': scale, 'inv_scale': 1.0 / np.where(scale == 0.0, 1.0, scale),
                'offset': np.asarray(self.action_offset, dtype=np.float64),
                'lower': np.asarray(self.command_lower, dtype=np.float64),
                'upper': np.asarray(self.command_upper, dtype=np.float64)}

    def action_to_command(self, action: np.ndarray) -> np.ndarray:
        """Map a continuous action in [-1, 1] to a motor command clamped to the limits."""
        arr = self._arrays
        action = np.minimum(np.maximum(np.asarray(action, dtype=np.float64), -1.0), 1.0)
        return np.minimum(np.maximum(arr['offset'] + arr['scale'] * action, arr['lower']),
                          arr['upper'])

    def command_to_action(self, command: np.ndarray) -> np.ndarray:
        """Invert :meth:`action_to_command` (used by a trainer observing commands)."""
        arr = self._arrays
        action = (np.asarray(command, dtype=np.float64) - arr['offset']) * arr['inv_scale']
        return np.minimum(np.maximum(action, -1.0), 1.0)

    def discrete_index(self, action: np.ndarray) -> int:
        """Return the index of the ``discrete_actions`` row nearest to a continuous action."""
        table = np.asarray(self.discrete_actions)
        return int(np.argmin(np.sum((table - np.asarray(action)) ** 2, axis=1)))

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (lists and numbers) for YAML/JSON."""
        data = asdict(self)
        data['joint_names'] = list(self.joint_names)
        data['observation'] = [asdict(term) for term in self.observation]
        for key in ('action_scale', 'action_offset', 'command_lower', 'command_upper',
                    'velocity_limits'):
            data[key] = [float(v) for v in data[key]]
        data['discrete_actions'] = [list(map(float, row)) for row in self.discrete_actions]
        data['kinematic_chain'] = (None if self.kinematic_chain is None
                                   else self.kinematic_chain.to_dict())
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TaskSpec:
        """Build a spec from :meth:`to_dict` output; unknown or missing keys raise ValueError."""
        known = set(cls.__dataclass_fields__)
        unknown = set(data) - known
        if unknown:
            raise ValueError(f'task spec: unknown field(s) {sorted(unknown)}')
        try:
            obs = tuple(ObsTerm(**term) for term in data['observation'])
            kwargs = dict(data, observation=obs)
            for key in ('joint_names', 'action_scale', 'action_offset', 'command_lower',
                        'command_upper', 'velocity_limits'):
                kwargs[key] = tuple(data[key])
            kwargs['discrete_actions'] = tuple(tuple(r) for r in data.get('discrete_actions', ()))
            chain = data.get('kinematic_chain')
            kwargs['kinematic_chain'] = None if chain is None else KinematicChain.from_dict(chain)
            return cls(**kwargs)
        except KeyError as exc:
            raise ValueError(f'task spec: missing field {exc.args[0]!r}') from exc
        except TypeError as exc:
            raise ValueError(f'task spec: {exc}') from exc
