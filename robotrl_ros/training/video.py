# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Video of evaluation episodes: offscreen frames of a robot task, written as MP4 or GIF.

:class:`EpisodeVideo` renders a robot task's env (``ee_reach``, ``locomotion``: any env with
``robot`` and ``data``) with MuJoCo's renderer (:class:`RobotRenderer`) and streams the frames
to ``ffmpeg`` (the ``imageio-ffmpeg`` wheel's binary): H.264 for ``.mp4``, a palette GIF for
``.gif``. The scene shows what the policy is asked to do: the goal of ``ee_reach`` as a green
sphere; the velocity command of ``locomotion`` as a green arrow from the base (its length is the
commanded planar speed) beside a blue arrow of the base's measured planar velocity.

Headless machines need ``MUJOCO_GL=egl`` (or ``osmesa``) set before Python starts; without an
OpenGL platform :class:`~robotrl_ros.tasks.robots.render.RenderError` says so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from robotrl_ros.tasks.robots.render import RobotRenderer

VIDEO_SUFFIXES = ('.mp4', '.gif')
#: Frames per second aimed at: every k-th control step is rendered, k = round(1 / (fps dt)).
TARGET_FPS = 25
GOAL_RGBA = (0.1, 0.9, 0.1, 0.8)
COMMAND_RGBA = (0.1, 0.9, 0.1, 1.0)
VELOCITY_RGBA = (0.1, 0.3, 1.0, 1.0)
GOAL_RADIUS = 0.03
#: Height of the command arrows above the base (m).
ARROW_LIFT = 0.15
#: Colours of a GIF's palette (fewer: smaller files).
GIF_COLORS = 64


def check_video_path(path: str | Path) -> Path:
    """The video file to write; its suffix picks the format.

    Raises:
        ValueError: A suffix other than ``.mp4`` or ``.gif``, or a missing parent directory.
    """
    path = Path(path)
    if path.suffix.lower() not in VIDEO_SUFFIXES:
        raise ValueError(f'--video {path}: the file must end in {" or ".join(VIDEO_SUFFIXES)}')
    if not path.parent.is_dir():
        raise ValueError(f'--video {path}: directory {path.parent} does not exist')
    return path


def _frame_writer(path: Path, width: int, height: int, fps: float) -> Any:
    """A started ``imageio_ffmpeg.write_frames`` generator for ``path``."""
    import imageio_ffmpeg

    if path.suffix.lower() == '.gif':
        palette = (f'split[a][b];[a]palettegen=max_colors={GIF_COLORS}:stats_mode=diff[p];'
                   '[b][p]paletteuse=dither=bayer')
        writer = imageio_ffmpeg.write_frames(str(path), (width, height), fps=fps, codec='gif',
                                             pix_fmt_out='pal8', macro_block_size=1,
                                             output_params=['-filter_complex', palette],
                                             ffmpeg_log_level='error')
    else:
        writer = imageio_ffmpeg.write_frames(str(path), (width, height), fps=fps,
                                             codec='libx264', pix_fmt_out='yuv420p',
                                             quality=6, macro_block_size=8,
                                             ffmpeg_log_level='error')
    writer.send(None)
    return writer


class EpisodeVideo:
    """Renders a robot env's episodes into one video file.

    Call :meth:`capture` after each reset and each step of the episodes to record, then
    :meth:`close`.

    Args:
        env: A robot task env (has ``robot``, ``data``, ``goal`` and ``task_spec``).
        path: ``.mp4`` or ``.gif`` file (see :func:`check_video_path`).
        width: Frame width in pixels.
        height: Frame height in pixels.

    Raises:
        ValueError: The env is not a robot task, or a bad path.
        RenderError: No OpenGL platform.
    """

    def __init__(self, env: Any, path: str | Path, width: int = 320, height: int = 240) -> None:
        self.path = check_video_path(path)
        if not (hasattr(env, 'robot') and hasattr(env, 'data')):
            name = getattr(getattr(env, 'task_spec', None), 'name', type(env).__name__)
            raise ValueError(f'--video renders robot tasks (ee_reach, locomotion); {name!r} has '
                             'no robot model to render')
        self.env = env
        dt = float(env.task_spec.control_period)
        self.stride = max(1, round(1.0 / (TARGET_FPS * dt)))
        self.fps = 1.0 / (self.stride * dt)
        self.renderer = RobotRenderer(env.robot, width, height)
        self._writer = _frame_writer(self.path, width, height, self.fps)
        self.frames = 0
        self._steps = 0

    def _markers(self) -> tuple[list, list]:
        env, goal = self.env, self.env.goal
        if goal is None:
            return [], []
        if env.task_spec.command_input == 'goal_pose':
            return [(np.asarray(goal, dtype=np.float64)[:3], GOAL_RADIUS, GOAL_RGBA)], []
        data, robot = env.data, env.robot
        start = data.xpos[robot.base_body] + [0.0, 0.0, ARROW_LIFT]
        yaw_axis = data.xmat[robot.base_body].reshape(3, 3)[:, 0]
        heading = np.arctan2(yaw_axis[1], yaw_axis[0])
        cos, sin = np.cos(heading), np.sin(heading)
        command = np.array([cos * goal[0] - sin * goal[1], sin * goal[0] + cos * goal[1], 0.0])
        velocity = np.array([data.qvel[0], data.qvel[1], 0.0])    # free joint: world frame
        return [], [(start, command, COMMAND_RGBA), (start, velocity, VELOCITY_RGBA)]

    def capture(self, reset: bool = False) -> None:
        """Render the env's current state (every ``stride``-th step; always after a reset)."""
        self._steps = 0 if reset else self._steps + 1
        if self._steps % self.stride:
            return
        spheres, arrows = self._markers()
        frame = self.renderer.render(self.env.data, markers=spheres, arrows=arrows)
        self._writer.send(np.ascontiguousarray(frame))
        self.frames += 1

    def close(self) -> None:
        """Finish the file and release the renderer."""
        try:
            self._writer.close()
        finally:
            self.renderer.close()
