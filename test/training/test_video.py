# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Evaluation videos: frames of robot tasks with the goal/command drawn, valid MP4 and GIF."""

import os
import subprocess
import sys
import textwrap

import pytest
from doubles.no_gl import render_error_without_gl

from robotrl_ros.tasks.registry import make_env
from robotrl_ros.training.video import EpisodeVideo, check_video_path

# Renders one episode of each robot task (zero actions) into FILE, then reads the file back and
# prints: frames, mean frame std, fraction of goal-green pixels, fraction of velocity-blue ones.
SCRIPT = textwrap.dedent('''
    import sys
    import imageio_ffmpeg
    import numpy as np
    from robotrl_ros.tasks.registry import make_env
    from robotrl_ros.training.evaluate import evaluate
    from robotrl_ros.training.video import EpisodeVideo

    task, path, episodes, kwargs = sys.argv[1], sys.argv[2], int(sys.argv[3]), eval(sys.argv[4])
    env = make_env(task, **kwargs)
    video = EpisodeVideo(env, path, width=160, height=128)
    zero = np.zeros(env.action_space.shape)
    evaluate(lambda obs: zero, env, episodes=episodes, seed=0, task=task,
             frame_hook=video.capture, hooked_episodes=1)
    video.close()
    reader = imageio_ffmpeg.read_frames(path)
    meta = next(reader)
    w, h = meta['size']
    frames = np.array([np.frombuffer(f, np.uint8).reshape(h, w, 3) for f in reader]).astype(int)
    r, g, b = frames[..., 0], frames[..., 1], frames[..., 2]
    green = np.mean((g > 150) & (r < 120) & (b < 120))
    blue = np.mean((b > 150) & (r < 120) & (g < 150))
    print(video.frames, len(frames), round(float(frames.std(axis=(1, 2, 3)).mean()), 1),
          float(green), float(blue), round(video.fps, 1))
''')


def _render(task, path, episodes, **kwargs):
    env = dict(os.environ, MUJOCO_GL='egl')
    proc = subprocess.run([sys.executable, '-c', SCRIPT, task, str(path), str(episodes),
                           repr(kwargs)],
                          env=env, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0 and 'OpenGL platform' in proc.stderr:
        pytest.skip(f'no EGL here: {proc.stderr.strip().splitlines()[-1]}')
    assert proc.returncode == 0, proc.stderr
    written, read, std, green, blue, fps = proc.stdout.split()
    return int(written), int(read), float(std), float(green), float(blue), float(fps)


@pytest.mark.parametrize('suffix', ['.mp4', '.gif'])
def test_ee_reach_episode_video_shows_the_arm_and_its_goal(tmp_path, suffix):
    path = tmp_path / f'panda{suffix}'
    written, read, std, green, _, fps = _render('ee_reach', path, 2, robot='panda')
    # The first of two episodes: 50 steps at 20 Hz, every step rendered (plus the reset frame).
    assert written == 51 and read == written and fps == 20.0
    assert std > 10, 'blank frames'
    assert green > 2e-4, 'goal sphere not drawn'     # none of the scene is green otherwise
    assert path.stat().st_size > 1000


def test_locomotion_video_draws_the_command_arrow(tmp_path):
    path = tmp_path / 'a1.mp4'
    written, read, std, green, blue, fps = _render('locomotion', path, 1, robot='a1',
                                                   goal=[0.8, 0.0, 0.0])
    # 1000 steps at 50 Hz, every 2nd step rendered: 25 frames/s.
    assert written == 501 and read == written and fps == 25.0
    assert std > 10 and green > 1e-3, 'robot or command arrow missing'


def test_bad_video_paths_and_tasks_without_a_robot_are_refused(tmp_path):
    with pytest.raises(ValueError, match=r'must end in \.mp4 or \.gif'):
        check_video_path(tmp_path / 'clip.avi')
    with pytest.raises(ValueError, match='does not exist'):
        check_video_path(tmp_path / 'missing' / 'clip.mp4')
    with pytest.raises(ValueError, match="robot tasks .*'reach' has no robot model"):
        EpisodeVideo(make_env('reach'), tmp_path / 'clip.mp4')
    assert not (tmp_path / 'clip.mp4').exists()


def test_without_a_gl_platform_the_error_says_what_to_set(tmp_path):
    script = f'''
        from robotrl_ros.tasks.registry import make_env
        from robotrl_ros.tasks.robots.render import RenderError
        from robotrl_ros.training.video import EpisodeVideo
        try:
            EpisodeVideo(make_env('ee_reach'), {str(tmp_path / 'clip.mp4')!r})
        except RenderError as exc:
            print('RenderError', exc)
    '''
    assert 'MUJOCO_GL=egl' in render_error_without_gl(script)
