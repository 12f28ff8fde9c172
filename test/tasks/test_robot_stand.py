# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Every built-in robot stands (floating base) or holds its default pose (fixed base) for 5 s.

The test of the importer's whole output: gains, limits, joint mapping, inertias, collision
geometry and the initial placement on the floor. Starts from the default pose perturbed by up to
0.05 rad, with the servos commanding the default pose.
"""

import mujoco
import numpy as np
import pytest

from robotrl_ros.tasks.robots import builtin_robots, import_robot

SIM_SECONDS = 5.0
CHECK_EVERY = 0.05          # seconds between checks of the state
PERTURBATION = 0.05         # rad, uniform, on each commanded joint
#: Floating base: height band relative to the initial height, and the least cos(tilt).
HEIGHT_BAND = (0.6, 1.1)
MIN_UPRIGHT = 0.95
#: Fixed base: the largest joint error from the default pose after the first second.
MAX_HOLD_ERROR = 0.1


def perturbed_start(robot, seed):
    data = robot.make_data()
    rng = np.random.default_rng(seed)
    q = robot.default_pose + rng.uniform(-PERTURBATION, PERTURBATION, len(robot.default_pose))
    data.qpos[robot.qpos_adr] = np.clip(q, robot.lower, robot.upper)
    mujoco.mj_forward(robot.model, data)
    return data


@pytest.mark.parametrize('name', builtin_robots())
def test_builtin_robot_stands_or_holds_its_default_pose(name):
    robot = import_robot(name)
    model = robot.model
    data = perturbed_start(robot, seed=0)
    height0 = data.xpos[robot.base_body][2]
    steps = max(1, round(CHECK_EVERY / model.opt.timestep))
    worst_error = 0.0
    while data.time < SIM_SECONDS:
        mujoco.mj_step(model, data, nstep=steps)
        assert np.all(np.isfinite(data.qpos)) and np.all(np.isfinite(data.qvel)), \
            f'{name}: simulation diverged at t={data.time:.2f}'
        error = np.abs(robot.joint_position(data) - robot.default_pose).max()
        if robot.config.floating:
            height = data.xpos[robot.base_body][2]
            upright = data.xmat[robot.base_body][8]     # z axis of the base, world z component
            assert HEIGHT_BAND[0] * height0 <= height <= HEIGHT_BAND[1] * height0, \
                f'{name}: base height {height:.3f} m left the band around {height0:.3f} m ' \
                f'at t={data.time:.2f}'
            assert upright >= MIN_UPRIGHT, f'{name}: base tilted (cos {upright:.3f}) at ' \
                f't={data.time:.2f}'
        elif data.time >= 1.0:
            worst_error = max(worst_error, error)
    # Settled: at rest at the end, not oscillating.
    assert np.abs(robot.joint_velocity(data)).max() < 0.05, f'{name}: still moving'
    if robot.config.floating:
        feet_z = data.xpos[list(robot.feet_bodies), 2]
        assert np.all(feet_z < 0.1 * height0 + 0.03), f'{name}: not standing on its feet'
    else:
        assert worst_error < MAX_HOLD_ERROR, f'{name}: joint error {worst_error:.3f} rad'


def test_the_builtin_set_covers_legs_and_arms():
    names = set(builtin_robots())
    assert {'a1', 'mini_cheetah', 'laikago', 'panda', 'iiwa', 'xarm6'} <= names
