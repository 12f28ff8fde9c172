# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""``ee_reach``: move a fixed-base arm's ``ee_link`` to a goal position, on any robot file.

The seed's reaching MDP on a real arm (built-in default ``panda``). Actions are joint position
targets around the default pose (``command = default_pose + scale * action``, clamped to the
joint limits; ``scale`` = :data:`ACTION_SCALE` rad, or half the joint range if smaller), held
by the robot's PD servos for one control period (:data:`CONTROL_PERIOD`).

Observation: joint positions relative to the default pose, joint velocities
(x :data:`VELOCITY_SCALE`), the goal (x, y, z), the goal relative to the end effector
(``ee_goal_delta``) and the last action: the terms of ``build_observation``, so the policy node
computes the same vector. The end-effector position comes from forward kinematics of the
*observed* joint positions (the spec's ``kinematic_chain``, plain data that ``policy.yaml``
carries to the robot), so the same code observes and scores a simulator's or a real robot's
transitions. Reward: ``-distance - RATE_WEIGHT |a - a_prev|^2 - LIMIT_WEIGHT * proximity``
(proximity: per joint, how far into the outer 10 % of its range, 0..1, summed), plus
:data:`SUCCESS_BONUS` when the end effector is within :data:`SUCCESS_RADIUS`, which ends the
episode. Goals are the end effector's positions at random joint positions within the action's
reach of the default pose, at least :data:`MIN_GOAL_HEIGHT` above the floor: every goal is
reachable.

Observation, reward and termination are computed for a batch of robots in one NumPy call
(:meth:`EEReachTask.observe_batch`, :meth:`EEReachTask.reward_batch`); :meth:`observe` and
:meth:`reward` are the batch-of-one case.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mujoco
import numpy as np

from robotrl_ros.tasks.base import Task, TaskEnv
from robotrl_ros.tasks.observation import RobotState
from robotrl_ros.tasks.robots import RobotModel, import_robot
from robotrl_ros.tasks.robots.kinematics import chain_from_model
from robotrl_ros.tasks.spec import ObsTerm, TaskSpec

NAME = 'ee_reach'
DEFAULT_ROBOT = 'panda'
CONTROL_PERIOD = 0.05
MAX_EPISODE_STEPS = 50
ACTION_SCALE = 1.0
VELOCITY_SCALE = 0.1
SUCCESS_RADIUS = 0.05
SUCCESS_BONUS = 10.0
RATE_WEIGHT = 0.01
LIMIT_WEIGHT = 0.1
MIN_GOAL_HEIGHT = 0.1
#: Fraction of a joint's half range, from its middle, where the limit penalty starts.
LIMIT_MARGIN = 0.9
START_NOISE = 0.05


def _robot(robot: str | Path | RobotModel) -> RobotModel:
    model = robot if isinstance(robot, RobotModel) else import_robot(robot)
    if model.config.floating:
        raise ValueError(f'{NAME}: robot {model.config.name!r} has a floating base; ee_reach '
                         'needs a fixed-base arm')
    if model.ee_body < 0:
        raise ValueError(f'{NAME}: robot {model.config.name!r} has no ee_link '
                         f'({model.config.where})')
    return model


def ee_reach_spec(robot: RobotModel) -> TaskSpec:
    """TaskSpec of ``ee_reach`` on ``robot``."""
    n = len(robot.joint_names)
    half_range = np.where(np.isfinite(robot.upper - robot.lower),
                          (robot.upper - robot.lower) / 2, np.inf)
    scale = np.minimum(ACTION_SCALE, half_range)
    return TaskSpec(
        name=NAME,
        joint_names=robot.joint_names,
        observation=(ObsTerm('joint_pos_rel', n), ObsTerm('joint_vel', n, VELOCITY_SCALE),
                     ObsTerm('goal_position', 3), ObsTerm('ee_goal_delta', 3),
                     ObsTerm('last_action', n)),
        action_scale=tuple(float(s) for s in scale),
        action_offset=tuple(float(v) for v in robot.default_pose),
        command_lower=tuple(float(v) for v in robot.lower),
        command_upper=tuple(float(v) for v in robot.upper),
        velocity_limits=tuple(float(v) for v in robot.velocity_limit),
        control_period=CONTROL_PERIOD,
        command_interface='position',
        command_input='goal_pose',
        max_episode_steps=MAX_EPISODE_STEPS,
        kinematic_chain=chain_from_model(robot.model, robot.ee_body, robot.joint_names),
    )


class EEReachTask(Task):
    """Observation, reward and termination of ``ee_reach`` from observed joint positions.

    Args:
        robot: A fixed-base robot with an ``ee_link`` (name, robot YAML path or model).
    """

    def __init__(self, robot: str | Path | RobotModel = DEFAULT_ROBOT) -> None:
        self.robot = _robot(robot)
        self.spec = ee_reach_spec(self.robot)
        self.kinematics = self.spec.ee_kinematics
        lower, upper = self.robot.lower, self.robot.upper
        finite = np.isfinite(lower) & np.isfinite(upper)
        self._mid = np.where(finite, (lower + upper) / 2, 0.0)
        self._half = np.where(finite, (upper - lower) / 2, np.inf)

    def ee_position(self, position: np.ndarray) -> np.ndarray:
        """End-effector position(s) for joint positions ``(n,)`` or ``(batch, n)``."""
        return self.kinematics.position(position)

    def observe_batch(self, position: np.ndarray, velocity: np.ndarray, goal: np.ndarray,
                      last_action: np.ndarray | None = None) -> np.ndarray:
        """Observations ``(batch, obs_dim)`` (float32) for ``(batch, ...)`` inputs."""
        position = np.atleast_2d(np.asarray(position, dtype=np.float64))
        batch = position.shape[0]
        goal = np.broadcast_to(np.asarray(goal, dtype=np.float64).reshape(-1, 3), (batch, 3))
        if last_action is None:
            last_action = np.zeros_like(position)
        parts = (position - self.spec._arrays['offset'],
                 VELOCITY_SCALE * np.atleast_2d(velocity), goal,
                 goal - self.kinematics.position(position), np.atleast_2d(last_action))
        return np.concatenate(parts, axis=1).astype(np.float32)

    def reward_batch(self, next_position: np.ndarray, action: np.ndarray,
                     last_action: np.ndarray | None, goal: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(reward, terminated, success)`` arrays ``(batch,)`` for one transition each."""
        next_position = np.atleast_2d(np.asarray(next_position, dtype=np.float64))
        action = np.atleast_2d(np.asarray(action, dtype=np.float64))
        previous = np.zeros_like(action) if last_action is None else np.atleast_2d(last_action)
        goal = np.asarray(goal, dtype=np.float64).reshape(-1, 3)
        distance = np.linalg.norm(self.kinematics.position(next_position) - goal, axis=1)
        rate = np.sum((action - previous) ** 2, axis=1)
        depth = (np.abs(next_position - self._mid) - LIMIT_MARGIN * self._half) / \
            ((1 - LIMIT_MARGIN) * self._half)
        proximity = np.sum(np.clip(depth, 0.0, 1.0), axis=1)
        success = distance < SUCCESS_RADIUS
        reward = -distance - RATE_WEIGHT * rate - LIMIT_WEIGHT * proximity \
            + SUCCESS_BONUS * success
        return reward, success.copy(), success

    def observe(self, state: RobotState) -> np.ndarray:
        """Observation of one robot (the batch-of-one case of :meth:`observe_batch`)."""
        if state.goal is None:
            raise ValueError(f'{NAME}: no goal received yet (goal_pose)')
        return self.observe_batch(state.position, state.velocity, state.goal,
                                  state.last_action)[0]

    def reward(self, state: RobotState, action: np.ndarray,
               next_state: RobotState) -> tuple[float, bool, bool]:
        """Score one transition (the batch-of-one case of :meth:`reward_batch`)."""
        if next_state.goal is None:
            raise ValueError(f'{NAME}: no goal received yet (goal_pose)')
        reward, terminated, success = self.reward_batch(
            next_state.position, action, state.last_action, next_state.goal)
        return float(reward[0]), bool(terminated[0]), bool(success[0])

    def sample_goal(self, rng: np.random.Generator) -> np.ndarray:
        """A reachable goal: the end effector at random joint positions near the default."""
        spec = self.spec._arrays
        for _ in range(100):
            q = spec['offset'] + spec['scale'] * rng.uniform(-1.0, 1.0, len(spec['offset']))
            goal = self.kinematics.position(np.clip(q, spec['lower'], spec['upper']))
            if goal[2] >= MIN_GOAL_HEIGHT:
                return goal
        return self.kinematics.position(spec['offset'])


class EEReachEnv(TaskEnv):
    """MuJoCo simulation of :class:`EEReachTask` on an imported robot.

    Args:
        robot: Built-in robot name or robot YAML path (a fixed-base arm with ``ee_link``).
        goal: Fixed (x, y, z) goal; sampled per episode when None.
    """

    def __init__(self, robot: str | Path = DEFAULT_ROBOT,
                 goal: np.ndarray | None = None) -> None:
        task = EEReachTask(robot)
        super().__init__(task, goal)
        self.robot = task.robot
        self.data = self.robot.make_data()
        timestep = float(self.robot.model.opt.timestep)
        self.frame_skip = max(1, round(CONTROL_PERIOD / timestep))

    def _sim_reset(self, rng: np.random.Generator, options: dict[str, Any]) -> None:
        robot = self.robot
        robot.reset(self.data)
        q = robot.default_pose + rng.uniform(-START_NOISE, START_NOISE, len(robot.default_pose))
        if 'qpos' in options:
            q = np.asarray(options['qpos'], dtype=np.float64)
        self.data.qpos[robot.qpos_adr] = np.clip(q, robot.lower, robot.upper)
        self.data.ctrl[:] = self.data.qpos[robot.qpos_adr]
        mujoco.mj_forward(robot.model, self.data)

    def _sim_apply(self, command: np.ndarray) -> None:
        self.data.ctrl[:] = command
        mujoco.mj_step(self.robot.model, self.data, nstep=self.frame_skip)

    def set_dynamics(self, mass_scale: float = 1.0, friction_scale: float = 1.0,
                     gain_scale: float = 1.0) -> None:
        """Scale masses, friction and servo strength (:meth:`RobotModel.set_dynamics`)."""
        self.robot.set_dynamics(mass_scale, friction_scale, gain_scale)

    def _sim_joint_state(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        robot = self.robot
        return (robot.joint_position(self.data), robot.joint_velocity(self.data),
                self.data.actuator_force.copy())

    def ee_position(self) -> np.ndarray:
        """MuJoCo's end-effector body position (for checks against the task's kinematics)."""
        mujoco.mj_kinematics(self.robot.model, self.data)
        return self.data.xpos[self.robot.ee_body].copy()
