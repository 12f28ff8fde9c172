# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Sim-to-real on ``reach_last_action`` with shifted simulators standing in for the real robot.

The issue's shift (masses +-30 %, friction +-50 %, 1-3 steps of action latency, observation
noise) is evaluated two ways: ``shifted``, the tasks' ``SHIFTED`` preset (every episode draws
from those ranges), and ``worst``, one fixed robot at the hardest corner of the same ranges
(mass +30 %, friction -50 %, 3 steps of latency): a real robot is one instance, not a
distribution. ``harsh`` (3-5 steps of latency, beyond the issue's ranges) is evaluated too.
The task is ``reach`` with the previous action in the observation (the delayed command is part
of the state; it helps most on the worst-case robot, see the report's findings). Measured:

1. Robustness: a policy trained with domain randomization (``DR_TRAIN``, covering the shift) and
   one trained on the nominal simulator (same task, steps and seed), each evaluated on nominal,
   shifted, worst-case and harsh dynamics. Target: the DR policy keeps >= 90 % of its nominal
   success; the nominal one loses clearly more.
2. Fine-tuning through the graph: starting from the nominal policy (``init_policy``), the
   trainer node learns on the worst-case robot (sim bridge, lockstep, ``dr_*`` parameters)
   until the policy's success there recovers its nominal success (within 5 %). Reported:
   minutes of "real" interaction (transitions x control period) and wall-clock.

    .venv/bin/python benchmarks/sim2real.py [--steps 40000] [--finetune-steps 20000]
    .venv/bin/python benchmarks/sim2real.py --stage robustness      # train + evaluate only
    .venv/bin/python benchmarks/sim2real.py --stage finetune --reuse DIR  # add fine-tuning

Writes benchmarks/results/sim2real.json and .md.

The A1 row (``--task locomotion``, issue 16) runs the same measurements on the Unitree A1's
``locomotion`` task with PPO: friction x0.5-1.5, mass +-20 %, motor strength +-20 % and 1-2
control periods of latency (``shifted``), and ``worst``, the corner of those ranges where the
nominal policy succeeds least (searched at run time, every corner evaluated). Success is the
task's (planar speed within 0.25 m/s of the command at the episode's end, not fallen); falls
are reported too. Training 12M steps again with DR does not fit a benchmark run, so the DR
policy continues a finished nominal run (``--init-run``, a warm start) with randomization::

    .venv/bin/python benchmarks/sim2real.py --task locomotion --init-run RUN --steps 2000000
      --config HPARAMS.yaml [--continue-nominal] [--finetune-budget-s 420]

The fine-tune's trainer node scores transitions with the nominal run's reward: its ``config``
parameter is the run's ``config.yaml`` (``env:`` reward options, ``agent:`` settings) with the
fine-tune's overrides on top (:func:`finetune_config`). A DR run kept as snapshots
(``step_<N>/policy``) is chosen from on validation episodes, not the report's seed::

    .venv/bin/python benchmarks/sim2real.py --task locomotion --stage select-dr
      --dr-snapshots SNAPSHOTS --episodes 20 [--init-run RUN]   # writes SNAPSHOTS/selection.json

With ``--init-run`` the selection validates on the nominal policy's worst-case corner too.
    .venv/bin/python benchmarks/sim2real.py --task locomotion --init-run RUN
      --dr-run SNAPSHOTS/step_<N> --config HPARAMS.yaml

Writes benchmarks/results/sim2real_a1.json and .md. The fine-tune's "real" minutes are its
transitions times the task's control period (0.02 s for the A1).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import gymnasium as gym
import torch
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / 'benchmarks'))

from _dr_selection import select, selection_of  # noqa: E402
from _sim2real_report import markdown  # noqa: E402
from _sim2real_setup import (  # noqa: E402
    EVAL_SEED,
    REACH,
    TASK,
    VALIDATION_SEED,
    Setup,
    finetune_config,
    setup_for,
)

from robotrl_ros.graphs.artifact_watcher import ArtifactWatcher  # noqa: E402
from robotrl_ros.graphs.train_run import GraphConfig, random_domain, run_graph  # noqa: E402
from robotrl_ros.policy.artifact import load_artifact  # noqa: E402
from robotrl_ros.tasks.registry import make_env  # noqa: E402
from robotrl_ros.training.config import load_config  # noqa: E402
from robotrl_ros.training.evaluate import (  # noqa: E402
    artifact_env_kwargs,
    artifact_policy,
    check_compatible,
    evaluate_artifact,
)
from robotrl_ros.training.evaluate import evaluate as run_episodes  # noqa: E402
from robotrl_ros.training.experiment import train_run  # noqa: E402
from robotrl_ros.util.threads import limit_threads  # noqa: E402

RESULTS = ROOT / 'benchmarks' / 'results'


class _FallCounter(gym.Wrapper):
    """Counts the episodes that ended by termination (a fall), not by the time limit."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self.terminated = 0

    def step(self, action: Any) -> tuple[Any, ...]:  # noqa: D102
        result = self.env.step(action)
        self.terminated += bool(result[2])
        return result


def evaluate(artifact_dir: Path, randomization: dict | None, episodes: int,
             setup: Setup = REACH, seed: int = EVAL_SEED) -> dict:
    """Success and return (and falls, for locomotion) on nominal (None) or shifted dynamics."""
    kwargs = dict(setup.env) if randomization is None else {**setup.env,
                                                             'randomization': randomization}
    # Trained by this benchmark (or given to it as a trusted run): TorchScript may be loaded
    # where the export kept no NumPy program.
    artifact = load_artifact(artifact_dir, allow_torchscript=True)
    if setup.task != 'locomotion':
        result = evaluate_artifact(artifact, setup.task, episodes, seed, env_kwargs=kwargs)
        return {'success': result.success_rate, 'return': round(result.mean_return, 2)}
    env = make_env(setup.task, **artifact_env_kwargs(artifact, kwargs))
    try:
        check_compatible(artifact, env, setup.task)
        counter = _FallCounter(env)
        result = run_episodes(artifact_policy(artifact, env), counter, episodes, seed,
                              setup.task)
    finally:
        env.close()
    return {'success': result.success_rate, 'return': round(result.mean_return, 2),
            'falls': round(counter.terminated / episodes, 3)}


def corner_robots(ranges: dict[str, Any]) -> list[dict[str, Any]]:
    """Every corner of ``ranges`` (each [lo, hi] range fixed at one end) as a robot."""
    names = [k for k, v in ranges.items() if isinstance(v, list) and v[0] != v[1]]
    robots = []
    for ends in itertools.product((0, 1), repeat=len(names)):
        robot = dict(ranges)
        for name, end in zip(names, ends, strict=True):
            robot[name] = [ranges[name][end]] * 2
        robots.append(robot)
    return robots


def find_worst(artifact_dir: Path, setup: Setup, episodes: int) -> tuple[dict, list[dict]]:
    """The corner of ``setup.corners`` where the policy succeeds least, and every corner's score.

    Ties go to more falls, then to the lower return.
    """
    scored = []
    for robot in corner_robots(setup.corners or {}):
        result = evaluate(artifact_dir, robot, episodes, setup)
        scored.append({'robot': robot, **result})
        print(f'  corner {robot}: {result}', flush=True)
    worst = min(scored, key=lambda c: (c['success'], -c.get('falls', 0.0), c['return']))
    return worst['robot'], scored


def train(setup: Setup, steps: int, out: Path, randomization: dict | None, seed: int,
          config_file: Path | None = None, init_run: Path | None = None,
          budget_s: float | None = None) -> dict:
    """In-process training (nominal or randomized simulator); returns timing and the run dir.

    With ``init_run`` the run starts from that run's agent (a continuation for ``steps``).
    With ``budget_s`` it stops cleanly after that much wall-clock (the steps it made are
    reported).
    """
    config = load_config(setup.task, setup.algo, config_file)
    config.env.update(setup.env)
    if randomization is not None:
        config.env['randomization'] = randomization
    started = time.perf_counter()

    def over_budget() -> bool:
        return budget_s is not None and time.perf_counter() - started > budget_s
    result = train_run(setup.task, setup.algo, steps, seed, out, config=config,
                       tensorboard=False, init_policy=init_run, should_stop=over_budget,
                       progress=sys.stdout)
    info = {'run_dir': str(out), 'artifact': str(result.artifact),
            'train_s': round(time.perf_counter() - started, 1)}
    if result.stopped_early:
        info['stopped_by_budget_s'] = budget_s
    if init_run is not None:
        info['continued_from'] = str(init_run)
        info['continued_steps'] = result.state.step
    return info


def finetune(setup: Setup, init_run: Path, args: argparse.Namespace, out: Path,
             target: float, shifted: dict) -> dict:
    """Fine-tune through the graph on the shifted sim; evaluate each published artifact."""
    shifted = {'mass_scale': [1.0, 1.0], 'friction_scale': [1.0, 1.0], 'latency_steps': [0, 0],
               'obs_noise_std': 0.0, **shifted}
    bridge = {'dr_mass_scale': shifted['mass_scale'], 'dr_friction_scale':
              shifted['friction_scale'], 'dr_latency_steps': shifted['latency_steps'],
              'dr_obs_noise_std': shifted['obs_noise_std']}
    if 'gain_scale' in shifted:
        bridge['dr_gain_scale'] = shifted['gain_scale']
    run_config_path = init_run / 'config.yaml'
    run_config = (yaml.safe_load(run_config_path.read_text()) or {}
                  if run_config_path.is_file() else {})
    trainer_config = finetune_config(run_config, setup.finetune_hparams)
    hparams = ''
    if trainer_config:
        hparams = str(out.parent / 'finetune_hparams.yaml')
        Path(hparams).write_text(yaml.safe_dump(trainer_config, sort_keys=False))
    watcher = ArtifactWatcher(out, setup.task, target, args.eval_period, args.finetune_episodes,
                              EVAL_SEED, env_kwargs={**setup.env, 'randomization': shifted})
    cfg = GraphConfig(task=setup.task, algo=setup.algo, output_dir=str(out),
                      total_steps=args.finetune_steps, seed=args.seed + 1,
                      timeout_s=args.finetune_budget_s, init_policy=str(init_run),
                      publish_period=args.publish_period, bridge=bridge,
                      domain_id=args.domain_id, config=hparams,
                      robot=setup.env.get('robot', ''))
    result = run_graph(cfg, progress=sys.stdout, should_stop=watcher)
    for point in watcher.curve:
        print(f'  fine-tune {point}', flush=True)
    final = (evaluate(result.artifact, shifted, args.episodes, setup) if result.artifact
             else None)
    reached = watcher.reached
    transitions = (reached or {}).get('transitions') or result.summary.get('transitions', 0)
    # Robot time counts what the robot acted, with what the learner then dropped as acted by
    # an older policy (on-policy), not only what it learned from.
    acted = ((reached or {}).get('acted') or result.summary.get('accepted') or transitions)
    period = load_artifact(init_run / 'policy').spec.control_period
    return {'reached': reached, 'final_on_shifted': final, 'curve': watcher.curve,
            'wall_s': round(result.wall_time_s, 1),
            'transitions': transitions, 'acted_transitions': acted,
            'real_minutes': round(acted * period / 60.0, 2),
            'control_period_s': period,
            'hparams': setup.finetune_hparams,
            # trainer_node's `config`: the nominal run's reward and agent settings + hparams.
            'trainer_config': trainer_config,
            'trainer_reward': (f'the nominal run\'s (config.yaml env: {trainer_config["env"]})'
                               if trainer_config.get('env') else 'task defaults'),
            'pairing': result.summary.get('pairing')}


def evaluate_policy(key: str, artifact: Path, robots: dict, episodes: int,
                    setup: Setup) -> dict:
    """A policy's nominal and per-robot results and the share of nominal success it keeps."""
    info: dict[str, Any] = {'nominal': evaluate(artifact, None, episodes, setup)}
    base = info['nominal']['success'] or 1e-9
    info['kept'] = {}
    for name, robot in robots.items():
        info[name] = evaluate(artifact, robot, episodes, setup)
        info['kept'][name] = round(info[name]['success'] / base, 3)
    print(f'  {key}: {info}', flush=True)
    return info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--task', default=TASK,
                        help='locomotion: the A1 row (sim2real_a1.*); else the reach row')
    parser.add_argument('--algo', default=None, help='default: the row\'s (sac / ppo)')
    parser.add_argument('--steps', type=int, default=None,
                        help='training steps per policy; with --init-run, the DR continuation')
    parser.add_argument('--config', type=Path, default=None,
                        help='training hyperparameters YAML (as robotrl train --config)')
    parser.add_argument('--init-run', type=Path, default=None,
                        help='a finished nominal run: it is the nominal policy, and the DR '
                             'policy continues it with domain randomization for --steps')
    parser.add_argument('--dr-run', type=Path, default=None,
                        help='a finished DR run (e.g. robotrl train --init-policy with '
                             'env.randomization) to evaluate as the DR policy instead of training '
                             'one; its summary.json (steps, init_policy) goes to the report')
    parser.add_argument('--continue-nominal', action='store_true',
                        help='with --init-run: also continue it --steps on the nominal sim '
                             '(the fair comparison to the DR continuation)')
    parser.add_argument('--train-budget-s', type=float, default=None,
                        help='wall-clock limit of each training run (it then stops cleanly; '
                             'the report gives the steps it made)')
    parser.add_argument('--finetune-on', choices=('harsh', 'shifted', 'worst'), default='worst',
                        help='the "real robot" the nominal policy is fine-tuned on')
    parser.add_argument('--finetune-steps', type=int, default=None)
    parser.add_argument('--finetune-budget-s', type=float, default=420.0)
    parser.add_argument('--finetune-episodes', type=int, default=None,
                        help='episodes per evaluation during the fine-tune (default --episodes)')
    parser.add_argument('--publish-period', type=float, default=3.0,
                        help='seconds between the trainer\'s published policies')
    parser.add_argument('--eval-period', type=float, default=10.0)
    parser.add_argument('--episodes', type=int, default=None)
    parser.add_argument('--corner-episodes', type=int, default=10,
                        help='episodes per corner in the worst-case search (A1 row)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--reuse', type=Path, default=None,
                        help='directory with nominal_policy/ and dr_policy/ run directories '
                             'trained with these arguments: evaluate them instead of training')
    parser.add_argument('--dr-snapshots', type=Path, default=None,
                        help='with --stage select-dr: folder of a DR run\'s step_<N>/policy '
                             'snapshots; writes its selection.json (--dr-run then names the '
                             'chosen one, and the report shows the selection)')
    parser.add_argument('--validation-seed', type=int, default=VALIDATION_SEED,
                        help='seed of the select-dr evaluations (not the report\'s)')
    parser.add_argument('--stage', choices=('all', 'robustness', 'finetune', 'select-dr'),
                        default='all',
                        help='robustness: train and evaluate only; finetune: add the fine-tuning '
                             'run to the existing results (needs --reuse); select-dr: choose '
                             'the DR policy among --dr-snapshots on the nominal and shifted '
                             'simulators (validation seed, --episodes each)')
    parser.add_argument('--notes', default='', help='findings paragraph for the report')
    parser.add_argument('--report-only', action='store_true',
                        help='rewrite the .md from the existing .json and exit')
    parser.add_argument('--results', type=Path, default=RESULTS,
                        help='directory of the .json/.md results (default benchmarks/results)')
    parser.add_argument('--domain-id', type=int, default=random_domain(),
                        help='ROS_DOMAIN_ID of the graph (default: random, to stay apart from '
                             'other graphs on a shared machine)')
    args = parser.parse_args(argv)
    setup = setup_for(args.task, args.algo)
    if args.config is not None:
        # Env settings of the training config (e.g. reward weights) apply to every evaluation.
        env = {k: v for k, v in load_config(setup.task, setup.algo, args.config).env.items()
               if k != 'randomization'}
        setup = replace(setup, env={**setup.env, **env})
    args.steps = args.steps or setup.steps
    args.episodes = args.episodes or setup.episodes
    args.finetune_steps = args.finetune_steps or setup.finetune_steps
    args.finetune_episodes = args.finetune_episodes or args.episodes
    if args.continue_nominal and args.init_run is None:
        parser.error('--continue-nominal needs --init-run')
    json_path = args.results / f'{setup.results}.json'
    md_path = json_path.with_suffix('.md')
    limit_threads(1)
    if args.stage == 'select-dr':
        if args.dr_snapshots is None:
            parser.error('--stage select-dr needs --dr-snapshots')
        worst = None
        if args.init_run is not None and setup.corners is not None:
            # The nominal policy's worst corner, found as the robustness stage will find it.
            print('worst-case search on the corners of the shift ...', flush=True)
            worst, _ = find_worst(args.init_run / 'policy', setup, args.corner_episodes)
        selection = select(
            args.dr_snapshots,
            lambda artifact, robot: evaluate(artifact, robot, args.episodes, setup,
                                             args.validation_seed),
            setup.robots['shifted'], args.validation_seed, args.episodes, worst)
        print(f'chosen: step {selection["chosen_step"]} ({selection["chosen_dir"]})')
        return 0
    if args.report_only:
        report = json.loads(json_path.read_text())
        report['notes'] = args.notes or report.get('notes', '')
        json_path.write_text(json.dumps(report, indent=2))
        md_path.write_text(markdown(report))
        return 0
    report = {'algo': setup.algo, 'task': setup.task, 'steps': args.steps, 'seed': args.seed,
              'episodes': args.episodes, 'robots': dict(setup.robots),
              'dr_train': setup.dr_train, 'finetune_on': args.finetune_on, 'notes': args.notes,
              'load_before': [round(v, 2) for v in os.getloadavg()],
              'machine': f'{os.cpu_count()} CPUs, torch {torch.__version__}',
              'date_utc': time.strftime('%Y-%m-%d %H:%M', time.gmtime())}
    if setup.env:
        report['env'] = setup.env
    if args.stage == 'finetune':
        if args.reuse is None:
            parser.error('--stage finetune needs --reuse (the policies of the robustness stage)')
        report = {**json.loads(json_path.read_text()),
                  'finetune_on': args.finetune_on,
                  'finetune_load_before': [round(v, 2) for v in os.getloadavg()]}
    if args.finetune_on not in report['robots'] and args.finetune_on != 'worst':
        parser.error(f'--finetune-on {args.finetune_on}: this row has no such robot '
                     f'(robots: {sorted(report["robots"])})')
    keys = ['nominal_policy', 'dr_policy'] + (['nominal_continued'] if args.continue_nominal
                                              else [])
    work = Path(tempfile.mkdtemp(prefix='sim2real_'))
    try:
        for key in keys:
            if args.stage == 'finetune':
                if key == 'nominal_policy':
                    shutil.copytree(args.reuse / key, work / key)
                continue
            randomization = setup.dr_train if key == 'dr_policy' else None
            if args.reuse is not None:
                shutil.copytree(args.reuse / key, work / key)
                info = {'run_dir': str(args.reuse / key), 'reused': True,
                        'artifact': str(work / key / 'policy')}
            elif args.init_run is not None and key == 'nominal_policy':
                shutil.copytree(args.init_run, work / key)
                info = {'run_dir': str(args.init_run), 'artifact': str(work / key / 'policy')}
                report['init_run'] = str(args.init_run)
                report['nominal_steps'] = json.loads(
                    (args.init_run / 'summary.json').read_text())['steps']
            elif args.dr_run is not None and key == 'dr_policy':
                shutil.copytree(args.dr_run, work / key)
                info = {'run_dir': str(args.dr_run), 'artifact': str(work / key / 'policy')}
                report['dr_run'] = json.loads((args.dr_run / 'summary.json').read_text())
                report['dr_run']['run_dir'] = str(args.dr_run)
                report['dr_selection'] = selection_of(args.dr_run)
            else:
                print(f'training {key} ...', flush=True)
                info = train(setup, args.steps, work / key, randomization, args.seed,
                             args.config, args.init_run, args.train_budget_s)
                if key == 'dr_policy' and args.init_run is not None:
                    report['dr_continued_steps'] = info['continued_steps']
                    report['dr_continued_s'] = info['train_s']
            artifact = Path(info['artifact'])
            if key == 'nominal_policy' and setup.corners is not None:
                print('worst-case search on the corners of the shift ...', flush=True)
                worst, corners = find_worst(artifact, setup, args.corner_episodes)
                report['robots']['worst'] = worst
                report['corners'], report['corner_episodes'] = corners, args.corner_episodes
            info.update(evaluate_policy(key, artifact, report['robots'], args.episodes, setup))
            report[key] = info
        if args.stage != 'robustness':
            print(f'fine-tuning the nominal policy through the graph on the {args.finetune_on} '
                  'robot ...', flush=True)
            # "Recovered": within 5 % of the nominal success (evaluation noise).
            target = 0.95 * report['nominal_policy']['nominal']['success']
            report['finetune'] = finetune(setup, work / 'nominal_policy', args,
                                          work / 'finetune', target,
                                          report['robots'][args.finetune_on])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    load_key = 'finetune_load_after' if args.stage == 'finetune' else 'load_after'
    report[load_key] = [round(v, 2) for v in os.getloadavg()]
    args.results.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(report, indent=2))
    md_path.write_text(markdown(report))
    print(markdown(report))
    return 0


if __name__ == '__main__':
    sys.exit(main())
