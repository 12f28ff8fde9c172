# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Offscreen frames of every built-in robot show the robot (EGL, headless)."""

import os
import subprocess
import sys
import textwrap

import pytest
from doubles.no_gl import render_error_without_gl

SCRIPT = textwrap.dedent('''
    import numpy as np
    from robotrl_ros.tasks.robots import builtin_robots, import_robot
    from robotrl_ros.tasks.robots.render import RobotRenderer

    for name in builtin_robots():
        robot = import_robot(name)
        data = robot.make_data()
        renderer = RobotRenderer(robot, 160, 120)
        frame = renderer.render(data)
        tip = robot.ee_body if robot.ee_body >= 0 else robot.base_body
        goal = data.xpos[tip] + [0.0, 0.0, 0.2]
        marked = renderer.render(data, markers=[(goal, 0.05, (1, 0, 0, 1))])
        robot_geoms = robot.model.geom_bodyid > 0
        robot.model.geom_rgba[robot_geoms, 3] = 0.0        # the robot made invisible
        empty = renderer.render(data)
        renderer.close()
        seen = np.mean(np.abs(frame.astype(int) - empty.astype(int)).max(axis=2) > 30)
        marker = np.mean(np.abs(marked.astype(int) - frame.astype(int)).max(axis=2) > 30)
        print(name, frame.shape, round(float(frame.std()), 1), round(float(seen), 3),
              round(float(marker), 4))
''')


def test_every_builtin_robot_is_visible_in_its_frames():
    env = dict(os.environ, MUJOCO_GL='egl')
    proc = subprocess.run([sys.executable, '-c', SCRIPT], env=env, capture_output=True,
                          text=True, timeout=300)
    if proc.returncode != 0 and 'OpenGL platform' in proc.stderr:
        pytest.skip(f'no EGL here: {proc.stderr.strip().splitlines()[-1]}')
    assert proc.returncode == 0, proc.stderr
    rows = [line.split() for line in proc.stdout.strip().splitlines()]
    assert len(rows) >= 6
    for name, _, _, _, std, seen, marker in rows:
        assert float(std) > 5, f'{name}: blank frame'
        assert float(seen) > 0.02, f'{name}: robot covers {seen} of the frame'
        assert float(marker) > 0.001, f'{name}: goal marker not drawn'


def test_without_a_gl_platform_the_error_says_what_to_set():
    script = '''
        from robotrl_ros.tasks.robots import import_robot
        from robotrl_ros.tasks.robots.render import RenderError, RobotRenderer
        try:
            RobotRenderer(import_robot('panda'))
        except RenderError as exc:
            print('RenderError', exc)
    '''
    assert 'MUJOCO_GL=egl' in render_error_without_gl(script)
