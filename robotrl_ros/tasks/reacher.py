# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Gymnasium's MuJoCo Reacher-v5 (a planar 2-link arm) as a robot task.

Joints ``joint0``, ``joint1`` (names from the MuJoCo model), commanded in joint torque (N m,
``command_interface='effort'``): ``command = gear * action`` with the model's gear (200), so an
action in [-1, 1] is exactly Reacher-v5's control. The observation is Reacher-v5's, built from
joint states and the goal only: ``cos q``, ``sin q``, goal (x, y), ``dq`` and the forward
kinematics term ``fingertip - goal``. The reward is Reacher-v5's, ``-|fingertip - goal| -
CONTROL_WEIGHT |a|^2``, with the fingertip from forward kinematics of the observed joint angles
(Gymnasium's code uses a control weight of 1; its docstring says 0.1). Episodes last 50 steps and
never terminate; ``is_success`` says whether the fingertip is within ``SUCCESS_RADIUS``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from robotrl_ros.tasks.base import Task, TaskEnv
from robotrl_ros.tasks.kinematics import planar_two_link_tip
from robotrl_ros.tasks.mujoco_sim import MujocoSim
from robotrl_ros.tasks.observation import RobotState
from robotrl_ros.tasks.spec import ObsTerm, TaskSpec

XML = 'reacher.xml'
FRAME_SKIP = 2
CONTROL_WEIGHT = 1.0
SUCCESS_RADIUS = 0.02
GOAL_RADIUS = 0.2
MAX_JOINT_SPEED = 50.0      # rad/s, informational for safety layers


def reacher_spec(joint_names: tuple[str, ...] = ('joint0', 'joint1'),
                 gear: tuple[float, ...] = (200.0, 200.0), dt: float = 0.02) -> TaskSpec:
    """TaskSpec of the reacher (defaults are the values of Gymnasium's reacher.xml)."""
    n = len(joint_names)
    return TaskSpec(
        name='reacher',
        joint_names=tuple(joint_names),
        observation=(ObsTerm('joint_pos_cos', n), ObsTerm('joint_pos_sin', n),
                     ObsTerm('goal_position', 2), ObsTerm('joint_vel', n),
                     ObsTerm('reacher_fingertip_delta', 2)),
        action_scale=tuple(float(g) for g in gear),
        action_offset=(0.0,) * n,
        command_lower=tuple(-float(g) for g in gear),
        command_upper=tuple(float(g) for g in gear),
        velocity_limits=(MAX_JOINT_SPEED,) * n,
        control_period=float(dt),
        command_interface='effort',
        command_input='goal_pose',
        max_episode_steps=50,
    )


class ReacherTask(Task):
    """Reacher-v5's reward from observed joint angles and the goal."""

    def __init__(self, spec: TaskSpec | None = None) -> None:
        self.spec = spec if spec is not None else reacher_spec()

    def reward(self, state: RobotState, action: np.ndarray,
               next_state: RobotState) -> tuple[float, bool, bool]:
        """``-distance - CONTROL_WEIGHT |a|^2``; never terminates; success within 2 cm."""
        if next_state.goal is None:
            raise ValueError('reacher: no goal received yet (goal_pose)')
        tip, goal = planar_two_link_tip(next_state.position), next_state.goal
        distance = math.hypot(tip[0] - goal[0], tip[1] - goal[1])
        action = np.asarray(action, dtype=np.float64).reshape(-1)
        control = CONTROL_WEIGHT * float(action @ action)
        return -distance - control, False, distance < SUCCESS_RADIUS

    def sample_goal(self, rng: np.random.Generator) -> np.ndarray:
        """Reacher-v5's goal: uniform in the square of half-width 0.2, rejected outside r=0.2."""
        while True:
            goal = rng.uniform(-GOAL_RADIUS, GOAL_RADIUS, size=2)
            if np.linalg.norm(goal) < GOAL_RADIUS:
                return goal


class ReacherEnv(TaskEnv):
    """MuJoCo simulation of :class:`ReacherTask` (Gymnasium's reacher.xml, RK4, dt 0.02 s).

    Args:
        goal: Fixed (x, y) goal; sampled per episode like Reacher-v5 when None.
    """

    def __init__(self, goal: np.ndarray | None = None) -> None:
        self.sim = MujocoSim(XML, FRAME_SKIP)
        spec = reacher_spec(self.sim.joint_names, tuple(self.sim.gear), self.sim.dt)
        super().__init__(ReacherTask(spec), goal)
        model = self.sim.model
        self._target_adr = np.array([model.jnt_qposadr[model.joint(n).id]
                                     for n in ('target_x', 'target_y')])

    def _sim_reset(self, rng: np.random.Generator, options: dict[str, Any]) -> None:
        model = self.sim.model
        qpos = model.qpos0 + rng.uniform(-0.1, 0.1, size=model.nq)
        qvel = rng.uniform(-0.005, 0.005, size=model.nv)
        if 'qpos' in options:
            qpos[self.sim.qpos_adr] = np.asarray(options['qpos'], dtype=np.float64)
        # The target's slide joints have ref = its body offset, so qpos = world (x, y).
        qpos[self._target_adr] = np.asarray(self.goal, dtype=np.float64)[:2]
        qvel[self._target_adr] = 0.0
        self.sim.reset(qpos, qvel)

    def _sim_apply(self, command: np.ndarray) -> None:
        # ctrl is torque / nominal gear; a randomized gear then scales the delivered torque.
        self.sim.step(np.asarray(command, dtype=np.float64) / self.sim.gear)

    def _sim_joint_state(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        effort = self.sim.data.ctrl * self.sim.model.actuator_gear[:, 0]
        return self.sim.joint_position(), self.sim.joint_velocity(), effort.copy()

    def set_dynamics(self, mass_scale: float = 1.0, friction_scale: float = 1.0,
                     gain_scale: float = 1.0) -> None:
        """Scale link masses, joint damping and actuator gear."""
        self.sim.set_dynamics(mass_scale, friction_scale, gain_scale)

    def fingertip(self) -> np.ndarray:
        """MuJoCo's fingertip body position (x, y) after forward kinematics (for checks)."""
        import mujoco

        mujoco.mj_kinematics(self.sim.model, self.sim.data)
        return self.sim.data.body('fingertip').xpos[:2].copy()
