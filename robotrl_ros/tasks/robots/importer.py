# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Turn a robot (:class:`RobotConfig` over a URDF/xacro/MJCF description) into a MuJoCo model.

:func:`import_robot` compiles the description with ``mujoco.MjSpec`` and adds what simulating
the robot needs: a floor, a free joint for a floating base, one PD position servo per commanded
joint (``force = clip(kp (ctrl - q) - kd dq, ±effort)``, evaluated by MuJoCo inside its
integrator) and IMU sensors (``imu_gyro``, ``imu_accel``, ``imu_quat``) at ``imu_link``.
Nothing is cached: every call reads the description again.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase
from pathlib import Path

import mujoco
import numpy as np

from robotrl_ros.tasks.robots.config import RobotConfig, load_robot
from robotrl_ros.tasks.robots.description import (
    Description,
    UrdfJoint,
    parse_description,
    read_description,
)
from robotrl_ros.tasks.robots.resolve import DescriptionError

IMU_SITE = 'imu'
#: Sensor names -> MuJoCo sensor type, all at the ``imu`` site.
IMU_SENSORS = {'imu_gyro': mujoco.mjtSensor.mjSENS_GYRO,
               'imu_accel': mujoco.mjtSensor.mjSENS_ACCELEROMETER,
               'imu_quat': mujoco.mjtSensor.mjSENS_FRAMEQUAT}
FLOOR = 'floor'
#: How a description given as an XML string is named in messages.
ROBOT_DESCRIPTION = 'robot_description'
#: Model fields that :meth:`RobotModel.set_dynamics` scales (nominal copies are kept).
_SCALED = ('body_mass', 'body_inertia', 'geom_friction', 'dof_damping', 'actuator_gainprm',
           'actuator_biasprm', 'actuator_forcerange')
#: Gap left between the lowest collision geom and the floor in the initial state (m).
INITIAL_CLEARANCE = 0.002


@dataclass
class RobotModel:
    """A compiled robot and the addressing of its commanded joints.

    Attributes:
        config: The robot file it was built from.
        model: The MuJoCo model (``ctrl`` = joint position targets in :attr:`joint_names` order).
        joint_names: Commanded joints, in command order (= actuator order).
        qpos_adr: ``qpos`` index of each commanded joint.
        dof_adr: ``qvel`` index of each commanded joint.
        lower: Lower joint limits (``-inf`` for continuous joints).
        upper: Upper joint limits.
        effort_limit: Servo force limits (``inf`` = unlimited).
        velocity_limit: Joint velocity limits (``inf`` = none given).
        kp: Servo stiffness per joint.
        kd: Servo damping per joint.
        default_pose: Default joint positions.
        init_qpos: Initial ``qpos``: default pose, floating base just above the floor.
        base_body: Body id of ``base_link``.
        imu_body: Body id of ``imu_link`` (-1 when the robot has no IMU).
        feet_bodies: Body ids of ``feet``.
        ee_body: Body id of ``ee_link`` (-1 when none).
        notes: What the importer changed (dropped visual meshes).
        description_sha256: sha256 of the description text the model was built from
            (:attr:`Description.sha256`).
    """

    config: RobotConfig
    model: mujoco.MjModel
    joint_names: tuple[str, ...]
    qpos_adr: np.ndarray
    dof_adr: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    effort_limit: np.ndarray
    velocity_limit: np.ndarray
    kp: np.ndarray
    kd: np.ndarray
    default_pose: np.ndarray
    init_qpos: np.ndarray
    base_body: int
    imu_body: int
    feet_bodies: tuple[int, ...]
    ee_body: int
    notes: list[str] = field(default_factory=list)
    description_sha256: str = ''

    def __post_init__(self) -> None:
        self._nominal = {key: getattr(self.model, key).copy() for key in _SCALED}

    def set_dynamics(self, mass_scale: float = 1.0, friction_scale: float = 1.0,
                     gain_scale: float = 1.0) -> None:
        """Scale masses and inertias, friction and joint damping, and servo strength.

        Servo strength is the whole force law (kp, kd and force limit). Each scale multiplies
        the nominal value, so calls do not compound; ``set_const`` data is recomputed.
        """
        model, nominal = self.model, self._nominal
        model.body_mass[:] = nominal['body_mass'] * mass_scale
        model.body_inertia[:] = nominal['body_inertia'] * mass_scale
        model.geom_friction[:] = nominal['geom_friction'] * friction_scale
        model.dof_damping[:] = nominal['dof_damping'] * friction_scale
        for key in ('actuator_gainprm', 'actuator_biasprm', 'actuator_forcerange'):
            getattr(model, key)[:] = nominal[key] * gain_scale
        mujoco.mj_setConst(model, mujoco.MjData(model))

    def make_data(self) -> mujoco.MjData:
        """New simulation data in the initial state, servos holding the default pose."""
        data = mujoco.MjData(self.model)
        self.reset(data)
        return data

    def reset(self, data: mujoco.MjData) -> None:
        """Put ``data`` in the initial state (default pose, at rest) and hold that pose."""
        mujoco.mj_resetData(self.model, data)
        data.qpos[:] = self.init_qpos
        data.ctrl[:] = self.default_pose
        mujoco.mj_forward(self.model, data)

    def joint_position(self, data: mujoco.MjData) -> np.ndarray:
        """Commanded joints' positions (copy)."""
        return data.qpos[self.qpos_adr].copy()

    def joint_velocity(self, data: mujoco.MjData) -> np.ndarray:
        """Commanded joints' velocities (copy)."""
        return data.qvel[self.dof_adr].copy()

    def sensor(self, data: mujoco.MjData, name: str) -> np.ndarray:
        """Reading of a sensor by name (e.g. ``imu_gyro``), a copy."""
        sensor_id = self.model.sensor(name).id
        adr, dim = self.model.sensor_adr[sensor_id], self.model.sensor_dim[sensor_id]
        return data.sensordata[adr:adr + dim].copy()


def _mjcf_joints(spec: mujoco.MjSpec, path: Path) -> list[UrdfJoint]:
    """Hinge and slide joints of an MJCF description, limits in SI units (compiled)."""
    model = _compile(spec, path, [])
    movable = (int(mujoco.mjtJoint.mjJNT_HINGE), int(mujoco.mjtJoint.mjJNT_SLIDE))
    joints = []
    for j in range(model.njnt):
        if model.jnt_type[j] in movable:
            lower, upper = model.jnt_range[j] if model.jnt_limited[j] else (-math.inf, math.inf)
            body = model.body(model.jnt_bodyid[j])
            joints.append(UrdfJoint(model.joint(j).name, 'revolute', '', body.name,
                                    float(lower), float(upper)))
    return joints


def per_joint(config: RobotConfig, key: str, names: list[str], default: float) -> np.ndarray:
    """One value per joint from a {name or pattern: value} setting (exact names win).

    Raises:
        DescriptionError: A name or pattern of the setting matches no joint.
    """
    mapping: dict[str, float] = getattr(config, key)
    values = np.full(len(names), default, dtype=np.float64)
    exact = {k: v for k, v in mapping.items() if k in names}
    for pattern, value in mapping.items():
        hits = [i for i, name in enumerate(names) if fnmatchcase(name, pattern)]
        if not hits:
            raise DescriptionError(f'{config.where}: {key}: {pattern!r} matches no movable '
                                   f'joint; joints: {", ".join(names)}')
        values[hits] = value
    for name, value in exact.items():
        values[names.index(name)] = value
    return values


def _check_links(config: RobotConfig, bodies: list[str]) -> None:
    wanted = {'base_link': [config.base_link], 'imu_link': [config.imu_link],
              'ee_link': [config.ee_link], 'feet': list(config.feet)}
    for key, links in wanted.items():
        for link in links:
            if link and link not in bodies:
                raise DescriptionError(f'{config.where}: {key}: {link!r} is not a link of the '
                                       f'description; links: {", ".join(bodies)}')


def _add_servo(spec: mujoco.MjSpec, name: str, kp: float, kd: float, effort: float,
               lower: float, upper: float) -> None:
    actuator = spec.add_actuator(name=name, target=name, trntype=mujoco.mjtTrn.mjTRN_JOINT)
    actuator.gaintype = mujoco.mjtGain.mjGAIN_FIXED
    actuator.biastype = mujoco.mjtBias.mjBIAS_AFFINE
    gain, bias = np.zeros(len(actuator.gainprm)), np.zeros(len(actuator.biasprm))
    gain[0], bias[1], bias[2] = kp, -kp, -kd
    actuator.gainprm, actuator.biasprm = gain, bias
    if math.isfinite(effort):
        actuator.forcelimited = mujoco.mjtLimited.mjLIMITED_TRUE
        actuator.forcerange = [-effort, effort]
    if math.isfinite(lower) and math.isfinite(upper):
        actuator.ctrllimited = mujoco.mjtLimited.mjLIMITED_TRUE
        actuator.ctrlrange = [lower, upper]
    else:
        actuator.ctrllimited = mujoco.mjtLimited.mjLIMITED_FALSE


def _add_imu(spec: mujoco.MjSpec, link: str) -> None:
    spec.body(link).add_site(name=IMU_SITE)
    for name, kind in IMU_SENSORS.items():
        spec.add_sensor(name=name, type=kind, objtype=mujoco.mjtObj.mjOBJ_SITE, objname=IMU_SITE)


def _load_spec(desc: Description) -> mujoco.MjSpec:
    try:
        if desc.kind == 'mjcf' and desc.path.is_file():
            return mujoco.MjSpec.from_file(str(desc.path))
        return mujoco.MjSpec.from_string(desc.xml)
    except Exception as exc:  # MuJoCo raises ValueError, RuntimeError...
        raise DescriptionError(f'{desc.path}: MuJoCo cannot parse the description: {exc}') \
            from exc


def _compile(spec: mujoco.MjSpec, path: Path, notes: list[str]) -> mujoco.MjModel:
    """Compile, turning MuJoCo's warnings into notes and its errors into DescriptionError."""
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            model = spec.compile()
    except Exception as exc:  # MuJoCo raises ValueError for bad models
        raise DescriptionError(f'{path}: MuJoCo cannot compile the robot: {exc}') from exc
    notes += [f'MuJoCo: {w.message}' for w in caught]
    return model


def _overlapping_links(model: mujoco.MjModel, qpos: np.ndarray) -> list[tuple[str, str]]:
    """Pairs of links whose collision geoms touch in the pose ``qpos``.

    Meshes that overlap by design (a hip motor inside the trunk) would fight the servos.
    """
    data = mujoco.MjData(model)
    data.qpos[:] = qpos
    mujoco.mj_forward(model, data)
    pairs = set()
    for contact in data.contact[:data.ncon]:
        first, second = (int(model.geom_bodyid[g]) for g in contact.geom)
        if first and second:
            pairs.add(tuple(sorted((model.body(first).name, model.body(second).name))))
    return sorted(pairs)


def _lift_onto_floor(model: mujoco.MjModel, qpos: np.ndarray) -> None:
    """Raise the free base so that the lowest collision geom clears the floor."""
    data = mujoco.MjData(model)
    data.qpos[:] = qpos
    mujoco.mj_forward(model, data)
    floor = model.geom(FLOOR).id
    lowest = math.inf
    for geom in range(model.ngeom):
        if geom == floor or model.geom_bodyid[geom] == 0 or \
                not (model.geom_contype[geom] or model.geom_conaffinity[geom]):
            continue
        lowest = min(lowest, mujoco.mj_geomDistance(model, data, geom, floor, 10.0, None))
    if math.isfinite(lowest):
        qpos[2] += INITIAL_CLEARANCE - lowest


def import_robot(robot: RobotConfig | str | Path,
                 robot_description: str | None = None) -> RobotModel:
    """Build the MuJoCo model of a robot (a config, a built-in's name or a robot YAML path).

    Args:
        robot: The robot file (its ``description`` is read unless ``robot_description`` is
            given).
        robot_description: The description's XML itself (URDF or MJCF), as
            robot_state_publisher takes it; relative mesh paths are taken from the current
            directory, ``package://`` ones resolved as usual.

    Raises:
        RobotConfigError: Bad robot file.
        DescriptionError: Description not found or not importable, a joint or link the
            description lacks, a missing collision mesh; each names the file and the culprit.
    """
    config = robot if isinstance(robot, RobotConfig) else load_robot(robot)
    if robot_description is None:
        desc = read_description(config)
    else:
        desc = parse_description(robot_description, Path.cwd() / ROBOT_DESCRIPTION)
    spec = _load_spec(desc)
    for actuator in list(spec.actuators):
        spec.delete(actuator)
    movable = desc.actuated_joints if desc.kind == 'urdf' else _mjcf_joints(spec, desc.path)
    movable_names = [j.name for j in movable]
    for name in config.joints:
        if name not in movable_names:
            raise DescriptionError(f'{config.where}: joints: {name!r} is not a movable joint '
                                   f'of {desc.path}; movable joints: {", ".join(movable_names)}')
    names = list(config.joints) or movable_names
    if not names:
        raise DescriptionError(f'{desc.path}: the description has no movable joint')
    info = [movable[movable_names.index(n)] for n in names]
    bodies = [b.name for b in spec.bodies if b.name != 'world']
    root = desc.root_link or spec.worldbody.first_body().name
    base_link = config.base_link or root
    _check_links(replace(config, base_link=base_link), bodies)
    imu_link = config.imu_link or (base_link if config.floating else '')

    lower = np.array([j.lower for j in info])
    upper = np.array([j.upper for j in info])
    effort = _override(per_joint(config, 'effort_limit', names, math.nan),
                       [j.effort for j in info])
    velocity = _override(per_joint(config, 'velocity_limit', names, math.nan),
                         [j.velocity for j in info])
    kp = per_joint(config, 'kp', names, 0.0)
    kd = per_joint(config, 'kd', names, 0.0)
    armature = per_joint(config, 'armature', names, 0.0)
    default_pose = np.clip(per_joint(config, 'default_pose', names, 0.0), lower, upper)

    spec.option.timestep = config.timestep
    spec.option.integrator = mujoco.mjtIntegrator.mjINT_IMPLICITFAST
    spec.worldbody.add_geom(name=FLOOR, type=mujoco.mjtGeom.mjGEOM_PLANE, size=[0, 0, 0.05])
    spec.worldbody.add_light(name='top', pos=[0, 0, 4], dir=[0, 0, -1],
                             type=mujoco.mjtLightType.mjLIGHT_DIRECTIONAL)
    if config.floating:
        spec.body(root).add_freejoint(name='base')
    for i, name in enumerate(names):
        spec.joint(name).armature = armature[i]
        _add_servo(spec, name, kp[i], kd[i], effort[i], lower[i], upper[i])
    if imu_link:
        _add_imu(spec, imu_link)
    notes = list(desc.notes)
    model = _compile(spec, desc.path, notes)
    qpos_adr = np.array([model.jnt_qposadr[model.joint(n).id] for n in names])
    init_qpos = model.qpos0.copy()
    init_qpos[qpos_adr] = default_pose
    overlapping = _overlapping_links(model, init_qpos)
    if overlapping:
        for first, second in overlapping:
            spec.add_exclude(bodyname1=first, bodyname2=second)
        notes.append('self-collision off between links that overlap in the default pose: '
                     + ', '.join(f'{a}/{b}' for a, b in overlapping))
        model = _compile(spec, desc.path, [])
    if config.floating:
        _lift_onto_floor(model, init_qpos)
    return RobotModel(
        config=config, model=model, joint_names=tuple(names), qpos_adr=qpos_adr,
        dof_adr=np.array([model.jnt_dofadr[model.joint(n).id] for n in names]),
        lower=lower, upper=upper, effort_limit=effort, velocity_limit=velocity, kp=kp, kd=kd,
        default_pose=default_pose, init_qpos=init_qpos, base_body=model.body(base_link).id,
        imu_body=model.body(imu_link).id if imu_link else -1,
        feet_bodies=tuple(model.body(f).id for f in config.feet),
        ee_body=model.body(config.ee_link).id if config.ee_link else -1, notes=notes,
        description_sha256=desc.sha256)


def _override(values: np.ndarray, described: list[float]) -> np.ndarray:
    """The robot file's values where it gives one (not NaN), else the description's."""
    return np.where(np.isnan(values), np.asarray(described, dtype=np.float64), values)
