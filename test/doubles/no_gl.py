# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Running a script in a process that has no OpenGL platform configured."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

GL_VARIABLES = ('MUJOCO_GL', 'DISPLAY', 'WAYLAND_DISPLAY')


def render_error_without_gl(script: str) -> str:
    """Run ``script`` without MUJOCO_GL/DISPLAY; the RenderError line it printed.

    The script prints ``RenderError <message>`` when it catches one. Skips the test where a
    default OpenGL platform exists (then nothing fails to render).
    """
    env = {k: v for k, v in os.environ.items() if k not in GL_VARIABLES}
    proc = subprocess.run([sys.executable, '-c', textwrap.dedent(script)], env=env,
                          capture_output=True, text=True, timeout=300)
    if 'RenderError' not in proc.stdout:
        pytest.skip('a default OpenGL platform is available here')
    return proc.stdout
