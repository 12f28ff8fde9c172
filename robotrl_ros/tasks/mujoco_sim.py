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
    def dt(self) -> float:
        """Control period in seconds (``timestep * frame_skip``)."""
        return float(self.model.opt.timestep) * self.frame_skip

    def joint_position(self) -> np.ndarray:
        """Actuated joint positions (copy)."""
        return self.data.qpos[self.qpos_adr].copy()

    def joint_velocity(self) -> np.ndarray:
        """Actuated joint velocities (copy)."""
        return self.data.qvel[self.dof_adr].copy()

    def reset(self, qpos: np.ndarray, qvel: np.ndarray) -> None:
        """Set the full state and recompute derived quantities."""
        mujoco.mj_resetData(self.model, self.data)
        self.data.qpos[:] = qpos
        self.data.qvel[:] = qvel
        mujoco.mj_forward(self.model, self.data)

    def step(self, ctrl: np.ndarray, n: int | None = None) -> None:
        """Hold ``ctrl`` for ``n`` physics steps (default ``frame_skip``)."""
        self.data.ctrl[:] = ctrl
        mujoco.mj_step(self.model, self.data, nstep=self.frame_skip if n is None else n)

    def set_dynamics(self, mass_scale: float = 1.0, friction_scale: float = 1.0,
                     gain_scale: float = 1.0) -> None:
        """Scale masses and inertias, contact friction and joint damping, and actuator gears."""
        nominal, model = self._nominal, self.model
        model.body_mass[:] = nominal['body_mass'] * mass_scale
        model.body_inertia[:] = nominal['body_inertia'] * mass_scale
        model.geom_friction[:] = nominal['geom_friction'] * friction_scale
        model.dof_damping[:] = nominal['dof_damping'] * friction_scale
        model.actuator_gear[:] = nominal['actuator_gear'] * gain_scale
        # Masses changed: recompute derived constants (e.g. body_subtreemass, dof_invweight0).
        mujoco.mj_setConst(model, self.data)
