# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""MuJoCo quadruped (Gymnasium's Ant-v5 model) following a commanded base velocity.

Eight joints (names and order from the model's actuators). Actions are joint position targets
around the default pose, ``target = default + ACTION_SCALE * a``, clamped to the joint ranges.
Inside the simulator, PD servos (MuJoCo actuators, their damping integrated implicitly with
MuJoCo's ``implicitfast`` integrator instead of the Ant model's RK4) turn them into torques:
``tau = KP (target - q) - KD dq``, limited by the Ant's actuator gear.

The observation uses only what a real robot measures: joint positions relative to the default
pose, joint velocities, the ``cmd_vel`` command, the last action, and the IMU's projected gravity
and angular velocity. The reward also uses the base linear velocity (``base_twist`` on a robot):

    reward = TRACK_LIN_W exp(-|v_xy - cmd_xy|^2 / TRACK_SIGMA) + TRACK_YAW_W exp(-(w_z - cmd_wz)^2
             / TRACK_SIGMA) + ALIVE_W - ACTION_RATE_W |a - a_prev|^2 - TORQUE_W |tau|^2

with ``tau`` the PD torque estimated from the observed state and the action. An episode
terminates when the robot has fallen: the torso tilted more than ``FALL_TILT`` (projected
gravity), which every robot observes. A step counts as a success (``is_success``; the
episode's last step decides it for evaluation) when the planar velocity is within
``SUCCESS_SPEED_ERROR`` of the command and the robot has not fallen.
"""

from __future__ import annotations

import math
from typing import Any

import mujoco
import numpy as np

from robotrl_ros.tasks.base import Task, TaskEnv
from robotrl_ros.tasks.mujoco_sim import MujocoSim
from robotrl_ros.tasks.observation import RobotState
from robotrl_ros.tasks.spec import ObsTerm, TaskSpec

XML = 'ant.xml'
FRAME_SKIP = 5              # 5 x 10 ms physics steps: 20 Hz control
# Implicit in the servos' damping (KD) and joint damping: stable at a 10 ms physics step and
# cheaper than the Ant model's RK4 (benchmarks/task_speed.py).
INTEGRATOR = mujoco.mjtIntegrator.mjINT_IMPLICITFAST
KP, KD = 100.0, 12.0
ACTION_SCALE = 0.5          # rad per unit action
MAX_JOINT_SPEED = 20.0      # rad/s, informational for safety layers
CMD_VX_RANGE = (0.0, 1.0)   # m/s, sampled per episode
TRACK_SIGMA = 0.25
TRACK_LIN_W, TRACK_YAW_W, ALIVE_W = 1.0, 0.5, 0.25
ACTION_RATE_W, TORQUE_W = 0.05, 1e-5
FALL_TILT = np.deg2rad(60.0)
COS_FALL_TILT = float(np.cos(FALL_TILT))
SUCCESS_SPEED_ERROR = 0.25  # m/s: a step "succeeds" when tracking the command this closely
EPISODE_STEPS = 1000


def quadruped_spec(joint_names: tuple[str, ...], default_pose: np.ndarray,
                   lower: np.ndarray, upper: np.ndarray, dt: float) -> TaskSpec:
    """TaskSpec of the quadruped: position targets around ``default_pose``."""
    n = len(joint_names)
    return TaskSpec(
        name='quadruped',
        joint_names=tuple(joint_names),
        observation=(ObsTerm('joint_pos_rel', n), ObsTerm('joint_vel', n, scale=0.1),
                     ObsTerm('cmd_vel', 3), ObsTerm('last_action', n),
                     ObsTerm('projected_gravity', 3), ObsTerm('base_ang_vel', 3, scale=0.25)),
        action_scale=(ACTION_SCALE,) * n,
        action_offset=tuple(float(v) for v in default_pose),
        command_lower=tuple(float(v) for v in lower),
        command_upper=tuple(float(v) for v in upper),
        velocity_limits=(MAX_JOINT_SPEED,) * n,
        control_period=float(dt),
        command_interface='position',
        command_input='cmd_vel',
        max_episode_steps=EPISODE_STEPS,
    )


def _imu_signal(state: RobotState, key: str) -> np.ndarray:
    value = (state.imu or {}).get(key)
    if value is None:
        source = 'base_twist' if key == 'base_lin_vel' else 'imu'
        raise ValueError(f'quadruped: reward needs {key!r} ({source}), which has not been '
                         'received')
    return np.asarray(value, dtype=np.float64)


class QuadrupedTask(Task):
    """Velocity tracking reward and fall termination from observed signals."""

    def __init__(self, spec: TaskSpec, gear: np.ndarray) -> None:
        self.spec = spec
        self.gear = np.asarray(gear, dtype=np.float64)

    def pd_torque(self, state: RobotState, action: np.ndarray) -> np.ndarray:
        """Torque the PD servos apply at ``state`` for ``action`` (the law the sim runs)."""
        target = self.spec.action_to_command(action)
        tau = KP * (target - state.position) - KD * np.asarray(state.velocity)
        return np.minimum(np.maximum(tau, -self.gear), self.gear)

    def reward(self, state: RobotState, action: np.ndarray,
               next_state: RobotState) -> tuple[float, bool, bool]:
        """Tracking + alive - action rate - torque; terminated when fallen."""
        if next_state.cmd_vel is None:
            raise ValueError('quadruped: no velocity command received yet (cmd_vel)')
        cmd = np.asarray(next_state.cmd_vel, dtype=np.float64)
        lin = _imu_signal(next_state, 'base_lin_vel')
        ang = _imu_signal(next_state, 'base_ang_vel')
        gravity = _imu_signal(next_state, 'projected_gravity')
        action = np.asarray(action, dtype=np.float64).reshape(-1)
        rate = action if state.last_action is None else action - state.last_action
        torque = self.pd_torque(state, action)
        (vx, vy, _), (_, _, wz), (cx, cy, cw) = lin.tolist(), ang.tolist(), cmd.tolist()
        lin_error_sq = (vx - cx) ** 2 + (vy - cy) ** 2
        tracking = (TRACK_LIN_W * math.exp(-lin_error_sq / TRACK_SIGMA)
                    + TRACK_YAW_W * math.exp(-(wz - cw) ** 2 / TRACK_SIGMA))
        penalty = ACTION_RATE_W * float(rate @ rate) + TORQUE_W * float(torque @ torque)
        fallen = bool(gravity[2] > -COS_FALL_TILT)
        tracked = math.sqrt(lin_error_sq) < SUCCESS_SPEED_ERROR
        return tracking + ALIVE_W - penalty, fallen, tracked and not fallen

    def sample_goal(self, rng: np.random.Generator) -> np.ndarray:
        """Forward velocity command ``(vx, 0, 0)`` with ``vx`` uniform in ``CMD_VX_RANGE``."""
        return np.array([rng.uniform(*CMD_VX_RANGE), 0.0, 0.0])


def body_rotation(quat: np.ndarray) -> np.ndarray:
    """World-from-body rotation matrix of a quaternion ``(w, x, y, z)`` (MuJoCo order)."""
    w, x, y, z = np.asarray(quat, dtype=np.float64).tolist()   # Python floats: no array overhead
    norm = math.sqrt(w * w + x * x + y * y + z * z)
    w, x, y, z = w / norm, x / norm, y / norm, z / norm
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
        [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
        [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
    ])


def quadruped_task(sim: MujocoSim | None = None) -> QuadrupedTask:
    """The task (spec from the Ant model: joints, default pose, joint ranges), no simulation."""
    sim = MujocoSim(XML, FRAME_SKIP) if sim is None else sim
    model = sim.model
    default = np.asarray(model.numeric('init_qpos').data)[sim.qpos_adr]
    ranges = np.array([model.jnt_range[model.joint(n).id] for n in sim.joint_names])
    spec = quadruped_spec(sim.joint_names, default, ranges[:, 0], ranges[:, 1], sim.dt)
    return QuadrupedTask(spec, sim.gear)


class QuadrupedEnv(TaskEnv):
    """MuJoCo simulation of :class:`QuadrupedTask` on Gymnasium's Ant model.

    Args:
        goal: Fixed velocity command ``(vx, vy, wz)``; sampled per episode when None.
    """

    def __init__(self, goal: np.ndarray | None = None) -> None:
        self.sim = MujocoSim(XML, FRAME_SKIP)
        super().__init__(quadruped_task(self.sim), goal)
        self._configure_sim()
        self.default_pose = np.asarray(self.task_spec.action_offset)
        self._imu: dict[str, np.ndarray] | None = None

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._configure_sim()      # a checkpoint from before the servos has RK4 and motors

    def _configure_sim(self) -> None:
        """PD position servos and the implicit integrator on the Ant model."""
        if not self.sim.has_pd_servos:
            self.sim.use_pd_servos(KP, KD)
        self.sim.model.opt.integrator = INTEGRATOR

    def _sim_reset(self, rng: np.random.Generator, options: dict[str, Any]) -> None:
        model = self.sim.model
        qpos = model.qpos0.copy()
        n = len(self.default_pose)
        qpos[self.sim.qpos_adr] = self.default_pose + rng.uniform(-0.1, 0.1, n)
        qvel = 0.1 * rng.standard_normal(model.nv)
        self.sim.reset(qpos, qvel, ctrl=self.default_pose)    # the servos hold the default pose
        self._imu = None

    def _sim_apply(self, command: np.ndarray) -> None:
        # The PD servos (MujocoSim.use_pd_servos) track the target at the physics rate.
        self.sim.step(command)
        self._imu = None

    def _sim_joint_state(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self.sim.joint_position(), self.sim.joint_velocity(), self.sim.joint_torque()

    def _sim_imu(self) -> dict[str, np.ndarray]:
        if self._imu is None:       # computed once per physics state, never changed after
            qpos, qvel = self.sim.data.qpos, self.sim.data.qvel
            rot = body_rotation(qpos[3:7])
            self._imu = {
                'projected_gravity': -rot[2],           # R^T (0, 0, -1)
                'base_ang_vel': qvel[3:6].copy(),       # MuJoCo free joint: body frame already
                'base_lin_vel': rot.T @ qvel[0:3],
            }
            for value in self._imu.values():    # shared by every state read until the next step
                value.flags.writeable = False
        return dict(self._imu)

    def set_dynamics(self, mass_scale: float = 1.0, friction_scale: float = 1.0,
                     gain_scale: float = 1.0) -> None:
        """Scale body masses, ground friction and joint damping, and actuator strength."""
        self.sim.set_dynamics(mass_scale, friction_scale, gain_scale)

    def base_height(self) -> float:
        """Torso height above the ground (simulation only; not observed on a robot)."""
        return float(self.sim.data.qpos[2])
