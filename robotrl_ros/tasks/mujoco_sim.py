# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""A thin MuJoCo model/data holder shared by the MuJoCo tasks.

Loads a model shipped inside the ``gymnasium`` package (no downloads), maps actuated joint names
to ``qpos``/``qvel`` addresses, and scales dynamics for domain randomization relative to the
nominal model (so repeated calls do not compound).
"""

from __future__ import annotations

from pathlib import Path

import gymnasium
import mujoco
import numpy as np

ASSETS = Path(gymnasium.__file__).resolve().parent / 'envs' / 'mujoco' / 'assets'
#: Model fields holding a PD servo's force law (gains, bias, limit): what gain_scale scales.
SERVO_FORCE_LAW = ('actuator_gainprm', 'actuator_biasprm', 'actuator_forcerange')


class MujocoSim:
    """Model, data and joint addressing of one MuJoCo simulation.

    Args:
        xml: File name in Gymnasium's MuJoCo assets (e.g. ``reacher.xml``) or a path.
        frame_skip: Physics steps per control period.

    Attributes:
        joint_names: Names of the actuated joints, in actuator order.
        qpos_adr: ``qpos`` index of each actuated joint.
        dof_adr: ``qvel`` index of each actuated joint.
        gear: Nominal actuator gear of each actuated joint.
    """

    _servos = False     # class default: a simulation pickled before use_pd_servos existed

    def __init__(self, xml: str, frame_skip: int) -> None:
        path = Path(xml) if Path(xml).is_absolute() else ASSETS / xml
        if not path.is_file():
            raise ValueError(f'MuJoCo model {path} not found')
        self.model = mujoco.MjModel.from_xml_path(str(path))
        self.data = mujoco.MjData(self.model)
        self.frame_skip = int(frame_skip)
        joint_ids = [int(j) for j in self.model.actuator_trnid[:, 0]]
        self.joint_names = tuple(self.model.joint(j).name for j in joint_ids)
        self.qpos_adr = np.array([self.model.jnt_qposadr[j] for j in joint_ids])
        self.dof_adr = np.array([self.model.jnt_dofadr[j] for j in joint_ids])
        self.gear = self.model.actuator_gear[:, 0].copy()
        self._nominal = {
            'body_mass': self.model.body_mass.copy(),
            'body_inertia': self.model.body_inertia.copy(),
            'geom_friction': self.model.geom_friction.copy(),
            'dof_damping': self.model.dof_damping.copy(),
            'actuator_gear': self.model.actuator_gear.copy(),
        }

    @property
    def has_pd_servos(self) -> bool:
        """Whether :meth:`use_pd_servos` turned the motors into position servos."""
        return self._servos

    @property
    def dt(self) -> float:
        """Control period in seconds (``timestep * frame_skip``)."""
        return float(self.model.opt.timestep) * self.frame_skip

    def joint_position(self) -> np.ndarray:
        """Actuated joint positions (copy)."""
        return self.data.qpos[self.qpos_adr].copy()

    def joint_velocity(self) -> np.ndarray:
        """Actuated joint velocities (copy)."""
        return self.data.qvel[self.dof_adr].copy()

    def use_pd_servos(self, kp: float, kd: float) -> None:
        """Turn the motors into joint PD position servos that MuJoCo evaluates itself.

        ``ctrl`` becomes the joint position target, and the joints receive
        ``gain_scale * clip(kp (ctrl - q) - kd dq, -gear, gear)``, with ``gear`` the motor's
        nominal gear (kept in :attr:`gear` as the torque limit) and ``gain_scale`` that of
        :meth:`set_dynamics` (1 when nominal). MuJoCo evaluates the law wherever its integrator
        evaluates forces (every RK4 stage; implicitly in the damping with ``implicitfast``): the
        PD loop of a position-controlled robot, in C, one ``mj_step`` call per control period.
        """
        model = self.model
        model.actuator_gaintype[:] = mujoco.mjtGain.mjGAIN_FIXED
        model.actuator_gainprm[:] = 0.0
        model.actuator_gainprm[:, 0] = kp
        model.actuator_biastype[:] = mujoco.mjtBias.mjBIAS_AFFINE
        model.actuator_biasprm[:] = 0.0
        model.actuator_biasprm[:, 1:3] = (-kp, -kd)
        model.actuator_forcelimited[:] = 1
        model.actuator_forcerange[:] = np.stack([-self.gear, self.gear], axis=1)
        model.actuator_ctrllimited[:] = 0
        model.actuator_gear[:, 0] = 1.0     # a gear would scale q and dq inside the PD law
        for key in ('actuator_gear', *SERVO_FORCE_LAW):
            self._nominal[key] = getattr(model, key).copy()
        self._servos = True

    def joint_torque(self) -> np.ndarray:
        """Torque each actuator applied at the last physics step (copy)."""
        return self.data.actuator_force * self.model.actuator_gear[:, 0]

    def reset(self, qpos: np.ndarray, qvel: np.ndarray, ctrl: np.ndarray | None = None) -> None:
        """Set the full state (and optionally ``ctrl``), then recompute derived quantities."""
        mujoco.mj_resetData(self.model, self.data)
        self.data.qpos[:] = qpos
        self.data.qvel[:] = qvel
        if ctrl is not None:
            self.data.ctrl[:] = ctrl
        mujoco.mj_forward(self.model, self.data)

    def step(self, ctrl: np.ndarray, n: int | None = None) -> None:
        """Hold ``ctrl`` for ``n`` physics steps (default ``frame_skip``)."""
        self.data.ctrl[:] = ctrl
        mujoco.mj_step(self.model, self.data, nstep=self.frame_skip if n is None else n)

    def set_dynamics(self, mass_scale: float = 1.0, friction_scale: float = 1.0,
                     gain_scale: float = 1.0) -> None:
        """Scale masses and inertias, contact friction and joint damping, and actuator strength.

        Actuator strength is the gear of a motor, or the whole force law (gains and force
        limit) of a PD servo (:meth:`use_pd_servos`).
        """
        nominal, model = self._nominal, self.model
        model.body_mass[:] = nominal['body_mass'] * mass_scale
        model.body_inertia[:] = nominal['body_inertia'] * mass_scale
        model.geom_friction[:] = nominal['geom_friction'] * friction_scale
        model.dof_damping[:] = nominal['dof_damping'] * friction_scale
        if self._servos:    # scale the servo's whole force law, limit included
            for key in SERVO_FORCE_LAW:
                getattr(model, key)[:] = nominal[key] * gain_scale
        else:
            model.actuator_gear[:] = nominal['actuator_gear'] * gain_scale
        # Masses changed: recompute derived constants (e.g. body_subtreemass, dof_invweight0).
        mujoco.mj_setConst(model, self.data)
