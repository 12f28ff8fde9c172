# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""``locomotion``: a floating-base robot follows ``cmd_vel`` on flat ground, on any robot file.

Built-in default ``a1``. Actions are joint position targets around the default pose
(``command = default_pose + ACTION_SCALE * action``, clamped to the joint limits), held by the
robot's PD servos for one control period (:data:`CONTROL_PERIOD`).

Observation, from what a real robot measures: joint positions relative to the default pose,
joint velocities, the base's linear velocity (the state estimate, ``base_twist`` on a robot),
the IMU's projected gravity and angular velocity, the command ``(vx, vy, wz)`` and the last
action. Without the base velocity the policy cannot see its own tracking error. The reward,
legged_gym style, sums weighted terms (:data:`REWARD_WEIGHTS`, overridable per env; each term
times the control period):
``tracking_lin_vel`` ``exp(-|v_xy - cmd_xy|^2 / TRACKING_SIGMA)``, ``tracking_ang_vel``
(same on yaw rate), ``lin_vel_z`` ``v_z^2``, ``ang_vel_xy`` ``|w_xy|^2``, ``orientation``
``|g_xy|^2``, ``torques`` ``|tau|^2`` (the PD law on the observed state), ``action_rate``
``|a - a_prev|^2``, ``termination`` 1 on the step the robot falls (weight 0 by default, as in
legged_gym), ``feet_air_time`` ``sum(air_time - 0.5 s)`` over the feet that land, while the
command asks to move (legged_gym's; weight 0 by default; simulation only: it reads foot contacts,
:mod:`~robotrl_ros.tasks.feet_air_time`); the base velocity is ``base_lin_vel``
(``base_twist`` on a robot). An episode terminates when the base tilts more than
:data:`FALL_TILT`. A step succeeds when the planar velocity is within
:data:`SUCCESS_SPEED_ERROR` of the command and the robot stands.

All of it is computed for a batch of robots in one NumPy call (:meth:`observe_batch`,
:meth:`reward_batch`); :meth:`observe` and :meth:`reward` are the batch-of-one case.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import mujoco
import numpy as np

from robotrl_ros.tasks.base import Task, TaskEnv
from robotrl_ros.tasks.feet_air_time import FeetAirTime, feet_in_contact
from robotrl_ros.tasks.observation import RobotState
from robotrl_ros.tasks.robots import RobotModel, import_robot
from robotrl_ros.tasks.spec import ObsTerm, TaskSpec

NAME = 'locomotion'
DEFAULT_ROBOT = 'a1'
CONTROL_PERIOD = 0.02
MAX_EPISODE_STEPS = 1000
ACTION_SCALE = 0.25
JOINT_VEL_SCALE = 0.05
ANG_VEL_SCALE = 0.25
LIN_VEL_SCALE = 2.0
#: Default command ranges ``[low, high]`` of vx, vy (m/s) and yaw rate (rad/s).
CMD_RANGES = ((0.0, 0.8), (0.0, 0.0), (0.0, 0.0))
TRACKING_SIGMA = 0.25
REWARD_WEIGHTS = {'tracking_lin_vel': 1.0, 'tracking_ang_vel': 0.5, 'lin_vel_z': -2.0,
                  'ang_vel_xy': -0.05, 'orientation': -1.0, 'torques': -2e-4,
                  'action_rate': -0.01, 'termination': 0.0, 'feet_air_time': 0.0}
#: Air time (s) a landing foot must exceed to earn ``feet_air_time``; commands slower than
#: ``FEET_AIR_MIN_COMMAND`` (m/s) earn none (standing still).
FEET_AIR_TARGET, FEET_AIR_MIN_COMMAND = 0.5, 0.1
FALL_TILT = np.deg2rad(60.0)
SUCCESS_SPEED_ERROR = 0.25
START_NOISE = 0.05
IMU_KEYS = ('projected_gravity', 'base_ang_vel', 'base_lin_vel')


def _robot(robot: str | Path | RobotModel) -> RobotModel:
    model = robot if isinstance(robot, RobotModel) else import_robot(robot)
    if not model.config.floating:
        raise ValueError(f'{NAME}: robot {model.config.name!r} has a fixed base; locomotion '
                         'needs a floating-base robot')
    return model


def locomotion_spec(robot: RobotModel, obs_history: dict[str, int] | None = None) -> TaskSpec:
    """TaskSpec of ``locomotion`` on ``robot``.

    Args:
        robot: The floating-base robot.
        obs_history: Control steps per observation term (``ObsTerm.history``), e.g.
            ``{'last_action': 3}``; terms not named span the current step only.

    Raises:
        ValueError: ``obs_history`` names a term the observation does not have, or a bad count.
    """
    n = len(robot.joint_names)
    terms = (ObsTerm('joint_pos_rel', n), ObsTerm('joint_vel', n, JOINT_VEL_SCALE),
             ObsTerm('base_lin_vel', 3, LIN_VEL_SCALE), ObsTerm('projected_gravity', 3),
             ObsTerm('base_ang_vel', 3, ANG_VEL_SCALE), ObsTerm('cmd_vel', 3),
             ObsTerm('last_action', n))
    obs_history = dict(obs_history or {})
    unknown = set(obs_history) - {term.name for term in terms}
    if unknown:
        raise ValueError(f'{NAME}: obs_history names unknown term(s) {sorted(unknown)}; the '
                         f'observation has {", ".join(term.name for term in terms)}')
    return TaskSpec(
        name=NAME,
        joint_names=robot.joint_names,
        observation=tuple(replace(term, history=obs_history.get(term.name, 1))
                          for term in terms),
        action_scale=(ACTION_SCALE,) * n,
        action_offset=tuple(float(v) for v in robot.default_pose),
        command_lower=tuple(float(v) for v in robot.lower),
        command_upper=tuple(float(v) for v in robot.upper),
        velocity_limits=tuple(float(v) for v in robot.velocity_limit),
        control_period=CONTROL_PERIOD,
        command_interface='position',
        command_input='cmd_vel',
        max_episode_steps=MAX_EPISODE_STEPS,
    )


class LocomotionTask(Task):
    """Velocity tracking reward and fall termination from observed joint and IMU signals.

    Args:
        robot: A floating-base robot (name, robot YAML path or model).
        cmd_ranges: ``[[vx_lo, vx_hi], [vy_lo, vy_hi], [wz_lo, wz_hi]]`` sampled per episode.
        reward_weights: Overrides of :data:`REWARD_WEIGHTS` (unknown names are an error).
        obs_history: Control steps per observation term (see :func:`locomotion_spec`).
    """

    def __init__(self, robot: str | Path | RobotModel = DEFAULT_ROBOT,
                 cmd_ranges: Any = CMD_RANGES,
                 reward_weights: dict[str, float] | None = None,
                 obs_history: dict[str, int] | None = None) -> None:
        self.robot = _robot(robot)
        self.spec = locomotion_spec(self.robot, obs_history)
        self.cmd_ranges = np.asarray(cmd_ranges, dtype=np.float64)
        if self.cmd_ranges.shape != (3, 2) or np.any(self.cmd_ranges[:, 0] >
                                                     self.cmd_ranges[:, 1]):
            raise ValueError(f'{NAME}: cmd_ranges must be three [low, high] pairs (vx, vy, '
                             f'wz), got {cmd_ranges!r}')
        unknown = set(reward_weights or {}) - set(REWARD_WEIGHTS)
        if unknown:
            raise ValueError(f'{NAME}: unknown reward term(s) {sorted(unknown)}; known: '
                             f'{", ".join(REWARD_WEIGHTS)}')
        self.weights = {**REWARD_WEIGHTS, **(reward_weights or {})}
        self._effort = np.where(np.isfinite(self.robot.effort_limit),
                                self.robot.effort_limit, np.inf)

    @property
    def uses_feet_contacts(self) -> bool:
        """Whether the reward needs the simulator's foot contacts (``feet_air_time`` weighted)."""
        return self.weights['feet_air_time'] != 0.0

    def observe_batch(self, position: np.ndarray, velocity: np.ndarray, lin_vel: np.ndarray,
                      gravity: np.ndarray, ang_vel: np.ndarray, cmd_vel: np.ndarray,
                      last_action: np.ndarray | None = None) -> np.ndarray:
        """Frames ``(batch, frame_dim)`` (float32) for ``(batch, ...)`` inputs.

        One control step of every term: the observations unless the spec has history terms.
        """
        position = np.atleast_2d(np.asarray(position, dtype=np.float64))
        batch = position.shape[0]
        if last_action is None:
            last_action = np.zeros_like(position)
        parts = (position - self.spec._arrays['offset'],
                 JOINT_VEL_SCALE * np.atleast_2d(velocity),
                 LIN_VEL_SCALE * np.broadcast_to(np.atleast_2d(lin_vel), (batch, 3)),
                 np.broadcast_to(np.atleast_2d(gravity), (batch, 3)),
                 ANG_VEL_SCALE * np.broadcast_to(np.atleast_2d(ang_vel), (batch, 3)),
                 np.broadcast_to(np.atleast_2d(cmd_vel), (batch, 3)),
                 np.atleast_2d(last_action))
        return np.concatenate(parts, axis=1).astype(np.float32)

    def reward_terms(self, position: np.ndarray, velocity: np.ndarray, action: np.ndarray,
                     last_action: np.ndarray | None, lin_vel: np.ndarray, ang_vel: np.ndarray,
                     gravity: np.ndarray, cmd_vel: np.ndarray,
                     feet_air: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Each reward term ``(batch,)``, unweighted (see the module docstring).

        ``feet_air`` ``(batch, n_feet)``: the air time of each foot that landed this step, 0 for
        the others (:class:`~robotrl_ros.tasks.feet_air_time.FeetAirTime`); None (no contacts
        known) gives ``feet_air_time`` 0.
        """
        position, velocity = np.atleast_2d(position), np.atleast_2d(velocity)
        action = np.atleast_2d(np.asarray(action, dtype=np.float64))
        previous = np.zeros_like(action) if last_action is None else np.atleast_2d(last_action)
        lin_vel, ang_vel = np.atleast_2d(lin_vel), np.atleast_2d(ang_vel)
        gravity, cmd_vel = np.atleast_2d(gravity), np.atleast_2d(cmd_vel)
        arrays = self.spec._arrays
        target = np.clip(arrays['offset'] + arrays['scale'] * np.clip(action, -1, 1),
                         arrays['lower'], arrays['upper'])
        torque = np.clip(self.robot.kp * (target - position) - self.robot.kd * velocity,
                         -self._effort, self._effort)
        lin_error = np.sum((lin_vel[:, :2] - cmd_vel[:, :2]) ** 2, axis=1)
        fallen = gravity[:, 2] > -np.cos(FALL_TILT)
        air = np.zeros(len(position))
        if feet_air is not None:
            feet_air = np.atleast_2d(feet_air)
            moving = np.linalg.norm(cmd_vel[:, :2], axis=1) > FEET_AIR_MIN_COMMAND
            air = np.sum((feet_air - FEET_AIR_TARGET) * (feet_air > 0), axis=1) * moving
        return {
            'tracking_lin_vel': np.exp(-lin_error / TRACKING_SIGMA),
            'tracking_ang_vel': np.exp(-(ang_vel[:, 2] - cmd_vel[:, 2]) ** 2 / TRACKING_SIGMA),
            'lin_vel_z': lin_vel[:, 2] ** 2,
            'ang_vel_xy': np.sum(ang_vel[:, :2] ** 2, axis=1),
            'orientation': np.sum(gravity[:, :2] ** 2, axis=1),
            'torques': np.sum(torque ** 2, axis=1),
            'action_rate': np.sum((action - previous) ** 2, axis=1),
            'termination': fallen.astype(np.float64),
            'feet_air_time': air,
        }

    def reward_batch(self, position: np.ndarray, velocity: np.ndarray, action: np.ndarray,
                     last_action: np.ndarray | None, lin_vel: np.ndarray, ang_vel: np.ndarray,
                     gravity: np.ndarray, cmd_vel: np.ndarray,
                     feet_air: np.ndarray | None = None
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(reward, terminated, success)`` arrays ``(batch,)``; states after the action.

        Raises:
            ValueError: ``feet_air_time`` is weighted but no ``feet_air`` was given (transitions
                observed on ROS topics carry no foot contacts).
        """
        if feet_air is None and self.uses_feet_contacts:
            raise ValueError(f'{NAME}: reward term feet_air_time needs foot contacts, which only '
                             'a simulator gives; set its weight to 0 to score transitions '
                             'observed on topics')
        terms = self.reward_terms(position, velocity, action, last_action, lin_vel, ang_vel,
                                  gravity, cmd_vel, feet_air)
        reward = CONTROL_PERIOD * sum(self.weights[k] * v for k, v in terms.items())
        fallen = terms['termination'] > 0
        speed_error = np.sqrt(np.sum((np.atleast_2d(lin_vel)[:, :2]
                                      - np.atleast_2d(cmd_vel)[:, :2]) ** 2, axis=1))
        return reward, fallen, (speed_error < SUCCESS_SPEED_ERROR) & ~fallen

    @staticmethod
    def _imu(state: RobotState, key: str) -> np.ndarray:
        value = (state.imu or {}).get(key)
        if value is None:
            source = 'base_twist' if key == 'base_lin_vel' else 'imu'
            raise ValueError(f'{NAME}: needs {key!r} ({source}), which has not been received')
        return np.asarray(value, dtype=np.float64)

    def observe(self, state: RobotState) -> np.ndarray:
        """Frame of one robot (the batch-of-one case of :meth:`observe_batch`)."""
        if state.cmd_vel is None:
            raise ValueError(f'{NAME}: no velocity command received yet (cmd_vel)')
        return self.observe_batch(state.position, state.velocity,
                                  self._imu(state, 'base_lin_vel'),
                                  self._imu(state, 'projected_gravity'),
                                  self._imu(state, 'base_ang_vel'), state.cmd_vel,
                                  state.last_action)[0]

    def reward(self, state: RobotState, action: np.ndarray,
               next_state: RobotState) -> tuple[float, bool, bool]:
        """Score one transition (the batch-of-one case of :meth:`reward_batch`)."""
        if next_state.cmd_vel is None:
            raise ValueError(f'{NAME}: no velocity command received yet (cmd_vel)')
        reward, fallen, success = self.reward_batch(
            next_state.position, next_state.velocity, action, state.last_action,
            self._imu(next_state, 'base_lin_vel'), self._imu(next_state, 'base_ang_vel'),
            self._imu(next_state, 'projected_gravity'), next_state.cmd_vel,
            next_state.feet_air)
        return float(reward[0]), bool(fallen[0]), bool(success[0])

    def sample_goal(self, rng: np.random.Generator) -> np.ndarray:
        """A velocity command ``(vx, vy, wz)`` uniform in :attr:`cmd_ranges`."""
        return rng.uniform(self.cmd_ranges[:, 0], self.cmd_ranges[:, 1])


class LocomotionEnv(TaskEnv):
    """MuJoCo simulation of :class:`LocomotionTask` on an imported floating-base robot.

    Args:
        robot: Built-in robot name or robot YAML path.
        goal: Fixed command ``(vx, vy, wz)``; sampled per episode when None.
        cmd_ranges: Command ranges (see :class:`LocomotionTask`).
        reward_weights: Reward weight overrides.
        obs_history: Control steps per observation term (see :func:`locomotion_spec`).
    """

    def __init__(self, robot: str | Path = DEFAULT_ROBOT, goal: np.ndarray | None = None,
                 cmd_ranges: Any = CMD_RANGES,
                 reward_weights: dict[str, float] | None = None,
                 obs_history: dict[str, int] | None = None) -> None:
        task = LocomotionTask(robot, cmd_ranges, reward_weights, obs_history)
        super().__init__(task, goal)
        self.robot = task.robot
        self.data = self.robot.make_data()
        self.frame_skip = max(1, round(CONTROL_PERIOD / float(self.robot.model.opt.timestep)))
        self._air = (FeetAirTime(1, len(self.robot.feet_bodies), CONTROL_PERIOD)
                     if task.uses_feet_contacts else None)
        self._landed: np.ndarray | None = None

    def _sim_reset(self, rng: np.random.Generator, options: dict[str, Any]) -> None:
        robot = self.robot
        robot.reset(self.data)
        noise = rng.uniform(-START_NOISE, START_NOISE, len(robot.default_pose))
        self.data.qpos[robot.qpos_adr] = np.clip(robot.default_pose + noise, robot.lower,
                                                 robot.upper)
        mujoco.mj_forward(robot.model, self.data)
        if self._air is not None:
            self._air.reset()
            self._landed = np.zeros(len(robot.feet_bodies))

    def _sim_apply(self, command: np.ndarray) -> None:
        self.data.ctrl[:] = command
        mujoco.mj_step(self.robot.model, self.data, nstep=self.frame_skip)
        if self._air is not None:
            contact = feet_in_contact(self.robot.model, self.data, self.robot.feet_bodies)
            self._landed = self._air.update(contact[None])[0]

    def robot_state(self) -> RobotState:
        """The observable state, plus the feet's landings when the reward needs them."""
        state = super().robot_state()
        if self._landed is not None:
            state.feet_air = self._landed.copy()
        return state

    def set_dynamics(self, mass_scale: float = 1.0, friction_scale: float = 1.0,
                     gain_scale: float = 1.0) -> None:
        """Scale masses, friction and servo strength (:meth:`RobotModel.set_dynamics`)."""
        self.robot.set_dynamics(mass_scale, friction_scale, gain_scale)

    def _sim_joint_state(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        robot = self.robot
        return (robot.joint_position(self.data), robot.joint_velocity(self.data),
                self.data.actuator_force.copy())

    def _sim_imu(self) -> dict[str, np.ndarray]:
        # Everything in the IMU's frame (imu_link), as a robot's IMU and state estimator give.
        rotation = self.data.xmat[self.robot.imu_body].reshape(3, 3)    # world from IMU
        ang_vel = self.robot.sensor(self.data, 'imu_gyro')
        world_lin_vel = self.data.qvel[0:3]                     # free joint: world frame
        return {'projected_gravity': rotation.T @ np.array([0.0, 0.0, -1.0]),
                'base_ang_vel': ang_vel, 'base_lin_vel': rotation.T @ world_lin_vel}

    def base_height(self) -> float:
        """Height of the base above the floor (m)."""
        return float(self.data.xpos[self.robot.base_body][2])
