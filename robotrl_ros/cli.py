# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The ``robotrl`` command line: train, evaluate, bring up a ROS graph.

Examples::

    robotrl train --task reach --algo sac --steps 20000 --seed 0 --out runs/reach_sac
    robotrl train --task reach --algo sac --steps 40000 --seed 0 --out runs/reach_sac --resume
    robotrl eval --policy runs/reach_sac --task reach --episodes 100 --seed 1
    robotrl train --task ee_reach --robot panda --algo sac --steps 100000 --out runs/panda
    robotrl eval --policy runs/panda --task ee_reach --robot panda --episodes 100
    MUJOCO_GL=egl robotrl eval --policy runs/panda --task ee_reach --video panda.mp4
    robotrl replay --mcap runs/graph/recording_0.mcap --task reach --out runs/offline
    robotrl up train_sim --set task:=reach
    robotrl export --policy runs/a1 --format onnx            # writes runs/a1/policy/policy.onnx
    robotrl ros2-control-config --policy runs/a1 --robot-description a1.urdf \
        --output a1_controllers.yaml

Exit codes: 0 success, 1 a run-time error (message on stderr, no traceback), 2 bad arguments,
130 interrupted (a checkpoint is saved; continue with ``--resume``).
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

EXIT_ERROR = 1
ROBOT_HELP = ('robot of a robot task (ee_reach, locomotion): a built-in name (a1, panda, ...) '
              'or a robot YAML path (default: the task\'s default robot)')
EXIT_INTERRUPTED = 130


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f'expected an integer, got {text!r}') from None
    if value < 1:
        raise argparse.ArgumentTypeError(f'must be >= 1, got {value}')
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``robotrl`` and its subcommands."""
    from robotrl_ros.training.online.replay import add_arguments as add_replay_arguments

    parser = argparse.ArgumentParser(
        prog='robotrl', description='Train robot policies with RL, evaluate and deploy them.')
    sub = parser.add_subparsers(dest='command', required=True, metavar='COMMAND')

    train = sub.add_parser('train', help='train a policy and export it to OUT/policy')
    train.add_argument('--task', required=True, help='task name, e.g. reach, gym:Pendulum-v1')
    train.add_argument('--robot', default=None, metavar='NAME|PATH', help=ROBOT_HELP)
    train.add_argument('--algo', required=True,
                       help='algorithm: q_learning, dqn, reinforce, ppo or sac')
    train.add_argument('--steps', type=_positive_int, required=True,
                       help='total environment steps (a resumed run continues up to this total)')
    train.add_argument('--seed', type=int, default=0, help='random seed (default 0)')
    train.add_argument('--out', required=True, type=Path, help='run directory to write')
    train.add_argument('--config', type=Path, default=None,
                       help='YAML overriding the config/hparams/<task>_<algo>.yaml defaults')
    train.add_argument('--resume', action='store_true',
                       help='continue the run in OUT from its last checkpoint')
    train.add_argument('--init-policy', type=Path, default=None, metavar='RUN_DIR',
                       help='warm start: a new run starting from this run\'s agent (weights, '
                            'optimizer, observation normalizer), e.g. to continue a nominal '
                            'policy with domain randomization (--config env.randomization)')
    train.add_argument('--threads', type=_positive_int, default=1,
                       help='torch and BLAS CPU threads (default 1: fastest for small MLPs)')
    train.add_argument('--quiet', action='store_true', help='no progress output')

    evaluate = sub.add_parser('eval', help='evaluate a policy artifact; prints one JSON line')
    evaluate.add_argument('--policy', required=True, type=Path,
                          help='artifact directory, or a run directory holding policy/')
    evaluate.add_argument('--task', required=True, help='task to evaluate on')
    evaluate.add_argument('--robot', default=None, metavar='NAME|PATH', help=ROBOT_HELP)
    evaluate.add_argument('--episodes', type=_positive_int, default=10,
                          help='episodes to run (default 10)')
    evaluate.add_argument('--seed', type=int, default=0, help='seed of the first reset')
    evaluate.add_argument('--allow-torchscript', action='store_true',
                          help='load a TorchScript-only artifact (bring-your-own, discrete '
                          'policies): its code runs; only for files you trust')
    evaluate.add_argument('--video', type=Path, default=None, metavar='FILE.mp4|FILE.gif',
                          help='render the first episodes offscreen into this file (robot '
                               'tasks; headless: set MUJOCO_GL=egl)')
    evaluate.add_argument('--video-episodes', type=_positive_int, default=1,
                          help='episodes rendered into --video (default 1)')

    replay = sub.add_parser('replay', help='train offline from an MCAP recording of the graph '
                            '(trainer_node record_mcap); prints one JSON line')
    add_replay_arguments(replay)

    recover = sub.add_parser('mcap-recover', help='rewrite a recording cut short by a crash '
                             'into a complete MCAP file; prints one JSON line')
    recover.add_argument('path', type=Path, help='the cut recording')
    recover.add_argument('--out', type=Path, default=None,
                         help='output file (default <name>.recovered.mcap next to PATH)')

    export = sub.add_parser('export', help='write an artifact\'s network in another format '
                            '(ONNX) beside policy.yaml; prints one JSON line')
    export.add_argument('--policy', required=True, type=Path,
                        help='artifact directory, or a run directory holding policy/')
    export.add_argument('--format', required=True, choices=['onnx'],
                        help='onnx: policy.onnx (obs -> action in [-1, 1], docs/deploy.md)')

    controllers = sub.add_parser('ros2-control-config', help='write the ros2_control '
                                 'controller_manager YAML for an artifact (joint order, '
                                 'interface, update rate)')
    controllers.add_argument('--policy', required=True, type=Path,
                             help='artifact directory, or a run directory holding policy/')
    controllers.add_argument('--robot-description', type=Path, default=None, metavar='FILE',
                             help='URDF (or .xacro) of the robot: every artifact joint must '
                                  'be in it')
    controllers.add_argument('--output', type=Path, default=None, metavar='FILE',
                             help='file to write (default: stdout)')

    # Listed for --help only: main() hands everything after "up" to the up runner untouched.
    sub.add_parser('up', help='start a ROS graph (train_sim, deploy, sim_eval); '
                   'see "robotrl up --help"')
    return parser


def _error(message: str) -> int:
    print(f'robotrl: error: {message}', file=sys.stderr)
    return EXIT_ERROR


def _json_number(value: float | None) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def cmd_train(args: argparse.Namespace) -> int:
    """``robotrl train``."""
    from robotrl_ros.tasks.registry import robot_env_kwargs
    from robotrl_ros.training.config import load_config
    from robotrl_ros.training.experiment import train_run
    from robotrl_ros.util.threads import limit_threads

    limit_threads(args.threads)
    config = load_config(args.task, args.algo, args.config)
    config.env.update(robot_env_kwargs(args.task, args.robot))
    stop = {'requested': False}

    def request_stop(signum: int, frame: object) -> None:
        if stop['requested']:  # second Ctrl-C: give up immediately
            raise KeyboardInterrupt
        stop['requested'] = True
        print('\nrobotrl: stopping after this step (Ctrl-C again to abort)...',
              file=sys.stderr)

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        result = train_run(args.task, args.algo, args.steps, args.seed, args.out,
                           config=config, resume=args.resume, init_policy=args.init_policy,
                           progress=None if args.quiet else sys.stderr,
                           should_stop=lambda: stop['requested'])
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    state = result.state
    print(json.dumps({'out': str(result.run_dir), 'steps': state.step,
                      'episodes': state.episodes,
                      'recent_return': _json_number(state.mean_recent_return()),
                      'steps_per_s': round(state.step / max(state.wall_time, 1e-9), 1),
                      'policy': str(result.artifact) if result.artifact else None}))
    if result.stopped_early:
        print(f'robotrl: interrupted at step {state.step}; checkpoint saved, continue with '
              f'--resume', file=sys.stderr)
        return EXIT_INTERRUPTED
    return 0


def resolve_policy_dir(path: Path) -> Path:
    """Accept an artifact directory or a run directory that holds ``policy/``."""
    if (path / 'policy.yaml').is_file() or not (path / 'policy').is_dir():
        return path
    return path / 'policy'


def cmd_eval(args: argparse.Namespace) -> int:
    """``robotrl eval``: prints exactly one JSON line on stdout."""
    from robotrl_ros.policy.artifact import load_artifact
    from robotrl_ros.tasks.registry import robot_env_kwargs
    from robotrl_ros.training.evaluate import evaluate_artifact

    env_kwargs = robot_env_kwargs(args.task, args.robot)
    artifact = load_artifact(resolve_policy_dir(args.policy),
                             allow_torchscript=args.allow_torchscript)
    result = evaluate_artifact(artifact, args.task, args.episodes, args.seed, env_kwargs,
                               video=args.video, video_episodes=args.video_episodes)
    print(json.dumps(result.to_dict()))
    if args.video is not None:
        print(f'robotrl: video of {min(args.video_episodes, args.episodes)} episode(s) written '
              f'to {args.video}', file=sys.stderr)
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    """``robotrl replay``: offline training from a recording; prints one JSON line."""
    from robotrl_ros.training.online.replay import run_replay

    print(json.dumps(run_replay(args)))
    return 0


def cmd_mcap_recover(args: argparse.Namespace) -> int:
    """``robotrl mcap-recover``: prints one JSON line (output, messages kept, complete)."""
    from robotrl_ros.training.online.mcap_recovery import recover_mcap

    recovery = recover_mcap(args.path, args.out)
    print(json.dumps({'out': str(recovery.path), 'messages': recovery.messages,
                      'complete': recovery.complete}))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """``robotrl export``: prints one JSON line (the file written, its format)."""
    from robotrl_ros.policy.artifact import sha256_hex
    from robotrl_ros.policy.onnx_export import OPSET, export_onnx

    path = export_onnx(resolve_policy_dir(args.policy))
    print(json.dumps({'out': str(path), 'format': args.format, 'opset': OPSET,
                      'sha256': sha256_hex(path.read_bytes())}))
    return 0


def cmd_ros2_control_config(args: argparse.Namespace) -> int:
    """``robotrl ros2-control-config``: the YAML on stdout or in ``--output``."""
    from robotrl_ros.policy.ros2_control_config import write_controller_config
    from robotrl_ros.util.durable import atomic_write_bytes

    text = write_controller_config(resolve_policy_dir(args.policy), args.robot_description)
    if args.output is None:
        sys.stdout.write(text)
    else:
        atomic_write_bytes(args.output, text.encode())
        print(f'robotrl: controller configuration written to {args.output}', file=sys.stderr)
    return 0


def cmd_up(argv: list[str]) -> int:
    """``robotrl up``: hand the remaining arguments to :mod:`robotrl_ros.graphs.up`."""
    try:
        up = importlib.import_module('robotrl_ros.graphs.up')
    except ModuleNotFoundError as exc:
        if exc.name != 'robotrl_ros.graphs.up':
            raise
        return _error('"robotrl up" is not available: robotrl_ros.graphs.up is not '
                      'installed in this build')
    return int(up.main(argv) or 0)


COMMANDS = {'train': cmd_train, 'eval': cmd_eval, 'replay': cmd_replay,
            'mcap-recover': cmd_mcap_recover, 'export': cmd_export,
            'ros2-control-config': cmd_ros2_control_config}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``robotrl`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ['up']:   # before the heavy imports: up handles Ctrl-C from its start
        try:
            return cmd_up(argv[1:])
        except KeyboardInterrupt:   # Ctrl-C before up's handlers: nothing was started
            return 0
    from robotrl_ros.tasks.robots.render import RenderError
    from robotrl_ros.training.checkpoints import CheckpointError

    try:
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except KeyboardInterrupt:
        print('robotrl: aborted', file=sys.stderr)
        return EXIT_INTERRUPTED
    except FloatingPointError as exc:
        return _error(f'numerical failure: {exc}')
    except (ValueError, CheckpointError, FileNotFoundError, RenderError) as exc:
        return _error(str(exc))


if __name__ == '__main__':
    sys.exit(main())
