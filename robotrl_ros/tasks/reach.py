# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The point-mass reaching task: move a 3-D point mass to a target.

State: position and velocity (3-D each), exposed as three prismatic joints ``x``, ``y``, ``z``.
Action: 3-D acceleration in [-1, 1]. Dynamics per step: ``v = clip(v + 0.1 a, ±0.5)``,
``p = p + 0.1 v``. Reward ``-|p - target|``, plus 10 and termination within 0.1 of the target;
truncation after 100 steps. Start uniform in [-1, 1]^3; the target is fixed or sampled there.
The observation contains the target so one policy serves any goal.

``reach_last_action`` is ``reach`` with the previous action appended to the observation (the
policy node feeds back its own last command, the trainer reads it from the command topic).
With action latency (sim-to-real) the delayed command is part of the state.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from robotrl_ros.tasks.base import Task, TaskEnv
from robotrl_ros.tasks.observation import RobotState
from robotrl_ros.tasks.spec import ObsTerm, TaskSpec

JOINTS = ('x', 'y', 'z')
DT = 0.1
ACCEL_GAIN = 0.1
MAX_SPEED = 0.5
SUCCESS_RADIUS = 0.1
SUCCESS_BONUS = 10.0
WORKSPACE = 1.0
# Velocity damping per step per unit of friction above nominal (friction_scale 1 = none).
FRICTION_DAMPING = 0.1


def _spec(name: str, discrete: bool, last_action: bool = False) -> TaskSpec:
    table = tuple(itertools.product((-1.0, 0.0, 1.0), repeat=3)) if discrete else ()
    history = (ObsTerm('last_action', 3),) if last_action else ()
    return TaskSpec(
        name=name,
        joint_names=JOINTS,
        observation=(ObsTerm('joint_pos', 3), ObsTerm('joint_vel', 3, scale=2.0),
                     ObsTerm('goal_position', 3), ObsTerm('goal_delta', 3), *history),
        action_scale=(1.0,) * 3,
        action_offset=(0.0,) * 3,
        command_lower=(-1.0,) * 3,
        command_upper=(1.0,) * 3,
        velocity_limits=(MAX_SPEED,) * 3,
        control_period=DT,
        command_interface='acceleration',
        command_input='goal_pose',
        max_episode_steps=100,
        discrete_actions=table,
    )


REACH_SPEC = _spec('reach', discrete=False)
REACH_DISCRETE_SPEC = _spec('reach_discrete', discrete=True)
REACH_LAST_ACTION_SPEC = _spec('reach_last_action', discrete=False, last_action=True)


class ReachTask(Task):
    """Reward and termination of the reaching task, from observed positions only.

    Args:
        discrete: The 27-action discrete variant.
        last_action: Append the previous action to the observation (``reach_last_action``).
    """

    def __init__(self, discrete: bool = False, last_action: bool = False) -> None:
        if discrete and last_action:
            raise ValueError('reach: last_action is only available for the continuous task')
        self.spec = (REACH_DISCRETE_SPEC if discrete else
                     REACH_LAST_ACTION_SPEC if last_action else REACH_SPEC)

    def reward(self, state: RobotState, action: np.ndarray,
               next_state: RobotState) -> tuple[float, bool, bool]:
        """``-distance``; ``+10`` and terminated within ``SUCCESS_RADIUS`` of the goal."""
        if next_state.goal is None:
            raise ValueError('reach: no goal received yet (goal_pose)')
        distance = float(np.linalg.norm(np.asarray(next_state.position) - next_state.goal[:3]))
        success = distance < SUCCESS_RADIUS
        return -distance + (SUCCESS_BONUS if success else 0.0), success, success

    def sample_goal(self, rng: np.random.Generator) -> np.ndarray:
        """Uniform target in the workspace cube."""
        return rng.uniform(-WORKSPACE, WORKSPACE, size=3)


class ReachEnv(TaskEnv):
    """Simulated point mass for :class:`ReachTask`.

    Args:
        goal: Fixed target; sampled per episode when None.
        discrete: Use the 27-action discrete variant (each axis -1, 0 or +1).
        last_action: Observe the previous action too (``reach_last_action``).
        accel_gain: Multiplies the commanded acceleration (1.0 nominal; randomized for sim2real).

    :meth:`set_dynamics` maps randomization onto the point mass: the acceleration gain becomes
    ``accel_gain * gain_scale / mass_scale`` and each step scales the velocity by
    ``1 - FRICTION_DAMPING * (friction_scale - 1)`` before adding the acceleration.
    """

    def __init__(self, goal: np.ndarray | None = None, discrete: bool = False,
                 accel_gain: float = 1.0, last_action: bool = False) -> None:
        super().__init__(ReachTask(discrete, last_action), goal)
        self.accel_gain = float(accel_gain)
        self._nominal_accel_gain = self.accel_gain
        self.damping = 0.0
        self.position = np.zeros(3)
        self.velocity = np.zeros(3)

    def _sim_reset(self, rng: np.random.Generator, options: dict[str, Any]) -> None:
        start = options.get('start')
        self.position = (np.asarray(start, dtype=np.float64) if start is not None
                         else rng.uniform(-WORKSPACE, WORKSPACE, size=3))
        self.velocity = np.zeros(3)

    def _sim_apply(self, command: np.ndarray) -> None:
        accel = self.accel_gain * np.asarray(command, dtype=np.float64)
        velocity = self.velocity * (1.0 - self.damping) if self.damping else self.velocity
        self.velocity = np.clip(velocity + ACCEL_GAIN * accel, -MAX_SPEED, MAX_SPEED)
        self.position = self.position + DT * self.velocity

    def _sim_joint_state(self) -> tuple[np.ndarray, np.ndarray, None]:
        return self.position, self.velocity, None

    def set_dynamics(self, mass_scale: float = 1.0, friction_scale: float = 1.0,
                     gain_scale: float = 1.0) -> None:
        """Heavier mass or lower gain: weaker acceleration; more friction: velocity damping."""
        self.accel_gain = self._nominal_accel_gain * gain_scale / mass_scale
        self.damping = FRICTION_DAMPING * (friction_scale - 1.0)
