# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Offscreen frames of an imported robot (MuJoCo's renderer), with markers such as a goal.

Headless machines need an OpenGL platform chosen before MuJoCo is imported: run with
``MUJOCO_GL=egl`` (GPU or Mesa EGL) or ``MUJOCO_GL=osmesa``. Without one,
:class:`RobotRenderer` raises :class:`RenderError` saying so.
"""

from __future__ import annotations

from collections.abc import Sequence

import mujoco
import numpy as np

from robotrl_ros.tasks.robots.importer import RobotModel

CAMERA_AZIMUTH = 135.0
CAMERA_ELEVATION = -20.0
#: Camera distance in units of the model's extent (``model.stat.extent``).
CAMERA_DISTANCE = 1.1
#: Shaft width of drawn arrows (m).
ARROW_WIDTH = 0.015


class RenderError(RuntimeError):
    """Offscreen rendering is not available (no OpenGL platform)."""


class RobotRenderer:
    """Renders frames of a robot, the camera following its base.

    Args:
        robot: The imported robot.
        width: Frame width in pixels.
        height: Frame height in pixels.

    Raises:
        RenderError: No OpenGL platform (set ``MUJOCO_GL=egl`` or ``osmesa``).
    """

    def __init__(self, robot: RobotModel, width: int = 320, height: int = 240) -> None:
        self.robot = robot
        try:
            self._renderer = mujoco.Renderer(robot.model, height, width)
        except Exception as exc:  # mujoco.FatalError or a GL library error
            raise RenderError(
                'offscreen rendering needs an OpenGL platform: run with MUJOCO_GL=egl '
                f'(or MUJOCO_GL=osmesa) set before Python starts ({exc})') from exc
        self.camera = mujoco.MjvCamera()
        self.camera.type = mujoco.mjtCamera.mjCAMERA_FREE
        self.camera.azimuth, self.camera.elevation = CAMERA_AZIMUTH, CAMERA_ELEVATION
        self.camera.distance = CAMERA_DISTANCE * float(robot.model.stat.extent)

    def render(self, data: mujoco.MjData,
               markers: Sequence[tuple[np.ndarray, float, Sequence[float]]] = (),
               arrows: Sequence[tuple[np.ndarray, np.ndarray, Sequence[float]]] = ()
               ) -> np.ndarray:
        """One RGB frame ``(height, width, 3)`` uint8 of ``data``.

        Args:
            data: The simulation state.
            markers: Spheres to draw, ``(position, radius, rgba)`` (a goal); they do not
                collide.
            arrows: Arrows to draw, ``(start, vector, rgba)`` (a velocity command); an arrow
                shorter than 1 mm is skipped.
        """
        base = self.robot.base_body
        self.camera.lookat[:] = data.xpos[base] if self.robot.config.floating \
            else self.robot.model.stat.center
        self._renderer.update_scene(data, camera=self.camera)
        scene = self._renderer.scene
        for position, radius, rgba in markers:
            if scene.ngeom >= scene.maxgeom:
                break
            mujoco.mjv_initGeom(scene.geoms[scene.ngeom], mujoco.mjtGeom.mjGEOM_SPHERE,
                                np.array([radius, 0.0, 0.0]), np.asarray(position, float),
                                np.eye(3).reshape(-1), np.asarray(rgba, np.float32))
            scene.ngeom += 1
        for start, vector, rgba in arrows:
            start, vector = np.asarray(start, float), np.asarray(vector, float)
            if scene.ngeom >= scene.maxgeom or np.linalg.norm(vector) < 1e-3:
                continue
            geom = scene.geoms[scene.ngeom]
            mujoco.mjv_initGeom(geom, mujoco.mjtGeom.mjGEOM_ARROW, np.zeros(3), np.zeros(3),
                                np.eye(3).reshape(-1), np.asarray(rgba, np.float32))
            mujoco.mjv_connector(geom, mujoco.mjtGeom.mjGEOM_ARROW, ARROW_WIDTH, start,
                                 start + vector)
            scene.ngeom += 1
        return self._renderer.render().copy()

    def close(self) -> None:
        """Release the GL context."""
        self._renderer.close()
