# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The ``robotrl`` command line: train -> artifact -> eval round trips and bad input."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from doubles.test_training_doubles import build_tiny

from robotrl_ros import cli
from robotrl_ros.tasks import registry
from robotrl_ros.tasks.reach import ReachEnv
from robotrl_ros.training import experiment

BIN = Path(sys.executable).parent


@pytest.fixture
def tiny(monkeypatch):
    monkeypatch.setattr(experiment, 'build_agent', build_tiny)


def _config(tmp_path, data=None):
    path = tmp_path / 'cfg.yaml'
    path.write_text(yaml.safe_dump(data or {'log_every': 100, 'n_envs': 2}))
    return str(path)


def _train_args(tmp_path, *extra, task='reach', algo='tiny', steps=400):
    return ['train', '--task', task, '--algo', algo, '--steps', str(steps), '--seed', '0',
            '--out', str(tmp_path / 'run'), '--config', _config(tmp_path), '--quiet', *extra]


def test_train_then_eval_prints_one_json_line(tmp_path, tiny, capsys):
    assert cli.main(_train_args(tmp_path)) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary['steps'] == 400 and summary['policy'] == str(tmp_path / 'run' / 'policy')
    for policy in (tmp_path / 'run', tmp_path / 'run' / 'policy'):  # run dir or artifact dir
        assert cli.main(['eval', '--policy', str(policy), '--task', 'reach', '--episodes', '3',
                         '--seed', '5']) == 0
        lines = capsys.readouterr().out.strip().splitlines()
        assert len(lines) == 1
        result = json.loads(lines[0])
        assert list(result) == ['task', 'episodes', 'mean_return', 'std_return', 'success_rate']
        assert result['task'] == 'reach' and result['episodes'] == 3
        assert -400 < result['mean_return'] < 20 and result['std_return'] >= 0
        assert 0.0 <= result['success_rate'] <= 1.0


def test_eval_is_deterministic_for_a_seed(tmp_path, tiny, capsys):
    assert cli.main(_train_args(tmp_path)) == 0
    capsys.readouterr()
    outs = []
    for seed in ('1', '1', '2'):
        cli.main(['eval', '--policy', str(tmp_path / 'run'), '--task', 'reach',
                  '--episodes', '2', '--seed', seed])
        outs.append(json.loads(capsys.readouterr().out)['mean_return'])
    assert outs[0] == outs[1] != outs[2]


def test_resume_continues_to_the_new_total(tmp_path, tiny, capsys):
    assert cli.main(_train_args(tmp_path, steps=200)) == 0
    assert cli.main(_train_args(tmp_path, '--resume', steps=400)) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1])['steps'] == 400


def test_init_policy_starts_a_new_run_from_a_finished_one(tmp_path, tiny, capsys):
    assert cli.main(_train_args(tmp_path, steps=200)) == 0
    warm = ['--init-policy', str(tmp_path / 'run')]
    args = _train_args(tmp_path, *warm, steps=100)
    args[args.index('--out') + 1] = str(tmp_path / 'warm')
    assert cli.main(args) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1])['steps'] == 100
    summary = json.loads((tmp_path / 'warm' / 'summary.json').read_text())
    assert summary['init_policy'] == str(tmp_path / 'run')
    assert cli.main(_train_args(tmp_path, '--resume', *warm, steps=400)) == 1
    assert 'cannot be combined with --resume' in capsys.readouterr().err


@pytest.mark.parametrize('argv_change,message', [
    ({'--task': 'nope'}, "unknown task 'nope'"),
    ({'--algo': 'nope'}, "unknown algorithm 'nope'"),
])
def test_unknown_task_or_algo_exits_1_with_message(tmp_path, tiny, capsys, argv_change,
                                                   message):
    args = _train_args(tmp_path)
    for flag, value in argv_change.items():
        args[args.index(flag) + 1] = value
    assert cli.main(args) == 1
    err = capsys.readouterr().err
    assert err.startswith('robotrl: error:') and message in err and 'Traceback' not in err


def test_bad_config_key_exits_1_naming_key_and_file(tmp_path, tiny, capsys):
    args = _train_args(tmp_path)
    bad = tmp_path / 'bad.yaml'
    bad.write_text('n_envz: 2\n')
    args[args.index('--config') + 1] = str(bad)
    assert cli.main(args) == 1
    err = capsys.readouterr().err
    assert "unknown key 'n_envz'" in err and str(bad) in err


def test_bad_agent_hyperparameter_exits_1_naming_key_and_file(tmp_path, capsys):
    bad = tmp_path / 'bad.yaml'
    bad.write_text('agent:\n  learning_rat: 0.1\n')
    args = ['train', '--task', 'reach', '--algo', 'sac', '--steps', '10', '--out',
            str(tmp_path / 'run'), '--config', str(bad), '--quiet']
    assert cli.main(args) == 1
    err = capsys.readouterr().err
    assert "unknown config key 'learning_rat'" in err and str(bad) in err
    assert 'Traceback' not in err


def test_unknown_algo_with_real_registry_lists_the_algorithms(tmp_path, capsys):
    args = ['train', '--task', 'reach', '--algo', 'a2c', '--steps', '10', '--out',
            str(tmp_path / 'run'), '--quiet']
    assert cli.main(args) == 1
    err = capsys.readouterr().err
    assert "unknown algorithm 'a2c'; available:" in err and 'sac' in err


def test_resume_without_checkpoint_and_rerun_into_existing_dir(tmp_path, tiny, capsys):
    assert cli.main(_train_args(tmp_path, '--resume')) == 1
    assert 'no checkpoint' in capsys.readouterr().err
    assert cli.main(_train_args(tmp_path)) == 0
    assert cli.main(_train_args(tmp_path)) == 1
    assert 'use --resume' in capsys.readouterr().err


class _NaNRewardReach(ReachEnv):
    def step(self, action):
        obs, reward, terminated, truncated, info = super().step(action)
        return obs, float('nan') if self.steps == 30 else reward, terminated, truncated, info


def test_nan_from_env_exits_1_with_message(tmp_path, tiny, capsys, monkeypatch):
    monkeypatch.setitem(registry.ENVS, 'nan_reach', lambda **kw: _NaNRewardReach(**kw))
    assert cli.main(_train_args(tmp_path, task='nan_reach')) == 1
    err = capsys.readouterr().err
    assert "numerical failure: task 'nan_reach': env 0 returned a non-finite reward" in err
    assert 'Traceback' not in err


def test_eval_errors(tmp_path, tiny, capsys):
    assert cli.main(['eval', '--policy', str(tmp_path / 'missing'), '--task', 'reach']) == 1
    assert 'not a directory' in capsys.readouterr().err
    assert cli.main(_train_args(tmp_path)) == 0
    capsys.readouterr()
    assert cli.main(['eval', '--policy', str(tmp_path / 'run'), '--task', 'gridworld']) == 1
    assert 'expects 12 observations' in capsys.readouterr().err


def test_robot_flag_trains_and_evaluates_on_that_robot(tmp_path, tiny, capsys):
    """--robot NAME|PATH picks the robot of a robot task, in train and in eval."""
    args = _train_args(tmp_path, '--robot', 'xarm6', task='ee_reach', steps=100)
    assert cli.main(args) == 0, capsys.readouterr().err
    capsys.readouterr()
    metadata = yaml.safe_load((tmp_path / 'run' / 'policy' / 'policy.yaml').read_text())
    assert metadata['joint_names'] == [f'joint{i}' for i in range(1, 7)]
    assert yaml.safe_load((tmp_path / 'run' / 'config.yaml').read_text())['env'] == {
        'robot': 'xarm6'}
    robot_file = tmp_path / 'my_xarm.yaml'      # a robot YAML path works as well as a name
    robot_file.write_text('description: xarm6\nbase: fixed\nee_link: link6\n'
                          'default_pose: {joint2: -0.3, joint3: -0.8, joint5: 1.1}\n')
    for robot in ('xarm6', str(robot_file)):
        assert cli.main(['eval', '--policy', str(tmp_path / 'run'), '--task', 'ee_reach',
                         '--robot', robot, '--episodes', '2']) == 0
        result = json.loads(capsys.readouterr().out)
        assert result['task'] == 'ee_reach' and result['episodes'] == 2
    # Without --robot the task's default robot (panda, 7 joints) does not fit: a clear error.
    assert cli.main(['eval', '--policy', str(tmp_path / 'run'), '--task', 'ee_reach']) == 1
    err = capsys.readouterr().err
    assert 'expects 24 observations' in err and 'choose the robot with --robot' in err
    # Same size, other joints (iiwa has 7 like panda): named.
    (tmp_path / 'b').mkdir()
    assert cli.main(_train_args(tmp_path / 'b', task='ee_reach', steps=50)) == 0
    capsys.readouterr()
    assert cli.main(['eval', '--policy', str(tmp_path / 'b' / 'run'), '--task', 'ee_reach',
                     '--robot', 'iiwa']) == 1
    err = capsys.readouterr().err
    assert "drives joints ['panda_joint1'" in err and 'lbr_iiwa_joint_1' in err


@pytest.mark.parametrize('task, robot, message', [
    ('ee_reach', 'nao', "unknown robot 'nao'; built-in robots: a1, "),
    ('ee_reach', 'missing/robot.yaml', 'robot file not found'),
    ('ee_reach', 'a1', "--robot a1: task 'ee_reach' needs a fixed-base robot, but 'a1'"),
    ('locomotion', 'panda', "--robot panda: task 'locomotion' needs a floating-base robot"),
    ('reach', 'panda', "--robot panda: task 'reach' has its own fixed model; robots apply to "
                       'ee_reach, locomotion'),
])
def test_bad_robot_exits_1_naming_it_in_train_and_eval(tmp_path, tiny, capsys, task, robot,
                                                      message):
    assert cli.main(_train_args(tmp_path, '--robot', robot, task=task)) == 1
    err = capsys.readouterr().err
    assert err.startswith('robotrl: error:') and message in err and 'Traceback' not in err
    assert not (tmp_path / 'run').exists()      # refused before anything was written
    assert cli.main(['eval', '--policy', str(tmp_path / 'run'), '--task', task,
                     '--robot', robot]) == 1
    err = capsys.readouterr().err
    assert message in err and 'Traceback' not in err


def test_eval_video_errors_exit_1_without_writing(tmp_path, tiny, capsys):
    """Frames and files are checked in test/training/test_video.py; here the CLI's refusals."""
    assert cli.main(_train_args(tmp_path)) == 0
    capsys.readouterr()
    for video, message in [('clip.avi', 'must end in .mp4 or .gif'),
                           ('no/clip.mp4', 'does not exist'),
                           ('clip.mp4', "renders robot tasks (ee_reach, locomotion); 'reach'")]:
        assert cli.main(['eval', '--policy', str(tmp_path / 'run'), '--task', 'reach',
                         '--video', str(tmp_path / video)]) == 1
        err = capsys.readouterr().err
        assert message in err and 'Traceback' not in err
        assert not (tmp_path / video).exists()


@pytest.mark.parametrize('argv', [
    ['train', '--task', 'reach', '--algo', 'sac', '--steps', '0', '--out', 'x'],
    ['train', '--task', 'reach', '--algo', 'sac', '--steps', 'ten', '--out', 'x'],
    ['train', '--algo', 'sac', '--steps', '10', '--out', 'x'],
    ['eval', '--policy', 'x', '--task', 'reach', '--episodes', '0'],
    ['export', '--policy', 'x', '--format', 'tflite'],
    ['export', '--policy', 'x'],
    ['ros2-control-config'],
    ['fly'],
])
def test_bad_arguments_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    assert exc.value.code == 2
    assert 'usage: robotrl' in capsys.readouterr().err


def test_up_without_runner_module_is_a_clear_error(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, 'robotrl_ros.graphs.up', None)
    assert cli.main(['up', 'train_sim']) == 1
    assert '"robotrl up" is not available' in capsys.readouterr().err


def test_console_script_round_trip_with_a_real_agent(tmp_path):
    """The installed ``robotrl`` script: SAC on reach for a few hundred steps, then eval."""
    env = dict(os.environ, OMP_NUM_THREADS='1')
    cfg = _config(tmp_path, {'log_every': 100, 'agent': {'learning_starts': 100,
                                                         'batch_size': 32}})
    train = subprocess.run([str(BIN / 'robotrl'), 'train', '--task', 'reach', '--algo', 'sac',
                            '--steps', '300', '--seed', '1', '--out', str(tmp_path / 'run'),
                            '--config', cfg], capture_output=True, text=True, env=env,
                           timeout=120)
    assert train.returncode == 0, train.stderr
    assert '300/300 steps' in train.stderr  # plain progress lines when not a terminal
    ev = subprocess.run([str(BIN / 'robotrl'), 'eval', '--policy', str(tmp_path / 'run'),
                         '--task', 'reach', '--episodes', '2', '--seed', '0'],
                        capture_output=True, text=True, env=env, timeout=120)
    assert ev.returncode == 0, ev.stderr
    result = json.loads(ev.stdout)
    assert result['episodes'] == 2 and result['task'] == 'reach'
    metadata = yaml.safe_load((tmp_path / 'run' / 'policy' / 'policy.yaml').read_text())
    assert metadata['algorithm'] == 'sac'


def test_robotrl_up_handles_ctrl_c_before_any_heavy_import():
    # `robotrl up` installs its stop handlers in up.main(): importing the CLI must not first
    # spend seconds importing torch, during which Ctrl-C would be a KeyboardInterrupt.
    code = ('import sys, robotrl_ros.cli, robotrl_ros.graphs.up; '
            'print(sorted(m for m in ("torch", "rclpy", "mujoco") if m in sys.modules))')
    proc = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == '[]', proc.stdout + proc.stderr


def test_export_onnx_and_controller_config_from_a_run_directory(tmp_path, tiny, capsys):
    pytest.importorskip('onnx')
    assert cli.main(_train_args(tmp_path)) == 0
    capsys.readouterr()
    run = tmp_path / 'run'
    assert cli.main(['export', '--policy', str(run), '--format', 'onnx']) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    line = json.loads(out[0])
    assert line['out'] == str(run / 'policy' / 'policy.onnx') and line['opset'] == 17
    files = yaml.safe_load((run / 'policy' / 'policy.yaml').read_text())['files']
    assert files['policy.onnx'] == {'sha256': line['sha256']}
    assert cli.main(['ros2-control-config', '--policy', str(run)]) == 0
    data = yaml.safe_load(capsys.readouterr().out)
    assert data['forward_position_controller']['ros__parameters']['joints'] == ['x', 'y', 'z']
    target = tmp_path / 'controllers.yaml'
    assert cli.main(['ros2-control-config', '--policy', str(run), '--output', str(target)]) == 0
    assert yaml.safe_load(target.read_text()) == data
    assert str(target) in capsys.readouterr().err


def test_export_and_controller_config_errors_exit_1_naming_the_culprit(tmp_path, capsys):
    assert cli.main(['export', '--policy', str(tmp_path / 'none'), '--format', 'onnx']) == 1
    assert 'policy.yaml: cannot read' in capsys.readouterr().err
    urdf = tmp_path / 'r.urdf'
    urdf.write_text('<robot name="r"><link name="a"/></robot>')
    from robotrl_ros.policy.synthetic import make_synthetic_artifact
    policy = make_synthetic_artifact(tmp_path / 'p', n_joints=2, hidden=(4,))
    assert cli.main(['ros2-control-config', '--policy', str(policy), '--robot-description',
                     str(urdf), '--output', str(tmp_path / 'c.yaml')]) == 1
    err = capsys.readouterr().err
    assert "['joint_0', 'joint_1']" in err and 'Traceback' not in err
    assert not (tmp_path / 'c.yaml').exists()
