# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Wall-clock to 95 % success on ``reach``: through the ROS graph vs the same agent in-process.

Graph: sim_bridge (lockstep, auto_reset) + policy_node (explore) + trainer_node, three
processes; every artifact the trainer publishes is evaluated here (deterministic policy, fixed
evaluation seeds) and the time it was *published* counts. In-process: the same agent and
hyperparameters (config/hparams/reach_<algo>.yaml) in the training loop, evaluated every
``--eval-every`` steps with evaluation time excluded. Both stop at the target or the budget.

    .venv/bin/python benchmarks/train_graph.py [--algo sac] [--budget-s 600] [--target 0.95]

Writes benchmarks/results/train_graph.json and .md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from robotrl_ros.agents.registry import make_agent  # noqa: E402
from robotrl_ros.graphs.artifact_watcher import ArtifactWatcher  # noqa: E402
from robotrl_ros.graphs.train_run import GraphConfig, random_domain, run_graph  # noqa: E402
from robotrl_ros.tasks.registry import make_env  # noqa: E402
from robotrl_ros.training.config import load_config  # noqa: E402
from robotrl_ros.training.evaluate import agent_policy, evaluate  # noqa: E402
from robotrl_ros.training.loop import Callback, LoopState, run, start_state  # noqa: E402
from robotrl_ros.training.vec_env import make_env_batch  # noqa: E402
from robotrl_ros.util.threads import limit_threads  # noqa: E402

RESULTS = ROOT / 'benchmarks' / 'results'
TASK = 'reach'
EVAL_SEED = 10_000


def load() -> list[float]:
    """1/5/15-minute load averages (the machine is shared: report the contention)."""
    return [round(v, 2) for v in os.getloadavg()]


class EvalEvery(Callback):
    """Evaluate the agent every ``every`` steps; time spent evaluating is not training time."""

    def __init__(self, agent, every: int, episodes: int, target: float, budget_s: float):
        self.agent, self.every, self.episodes = agent, every, episodes
        self.target, self.budget_s = target, budget_s
        self.started = time.perf_counter()
        self.eval_s = 0.0
        self.curve: list[dict] = []
        self.reached: dict | None = None

    def train_s(self) -> float:
        """Seconds of training so far (evaluation excluded)."""
        return time.perf_counter() - self.started - self.eval_s

    def on_step(self, state: LoopState) -> None:  # noqa: D102
        if state.step % self.every:
            return
        t0 = time.perf_counter()
        result = evaluate(agent_policy(self.agent), make_env(TASK), self.episodes, EVAL_SEED)
        self.eval_s += time.perf_counter() - t0
        point = {'steps': state.step, 'train_s': round(self.train_s(), 1),
                 'success': result.success_rate, 'return': round(result.mean_return, 2)}
        self.curve.append(point)
        print(f'  in-process {point}', flush=True)
        if self.reached is None and result.success_rate >= self.target:
            self.reached = point

    def stop(self) -> bool:
        """Target reached or budget spent."""
        return self.reached is not None or self.train_s() > self.budget_s


def in_process(algo: str, args: argparse.Namespace) -> dict:
    config = load_config(TASK, algo)
    envs = make_env_batch(TASK, config.n_envs, config.env)
    agent = make_agent(algo, envs.envs[0], config.agent, args.seed)
    callback = EvalEvery(agent, args.eval_every, args.episodes, args.target, args.budget_s)
    state = run(agent, envs, args.max_steps, start_state(envs, args.seed), [callback],
                callback.stop)
    best = max(callback.curve, key=lambda p: p['success'], default=None)
    return {'reached': callback.reached, 'steps': state.step,
            'train_s': round(callback.train_s(), 1), 'best': best, 'curve': callback.curve,
            'steps_per_s': round(state.step / max(callback.train_s(), 1e-9), 1)}


def through_graph(algo: str, args: argparse.Namespace, out: Path) -> dict:
    watcher = ArtifactWatcher(out, TASK, args.target, args.eval_period, args.episodes, EVAL_SEED)
    cfg = GraphConfig(task=TASK, algo=algo, output_dir=str(out), total_steps=args.max_steps,
                      seed=args.seed, timeout_s=args.budget_s, publish_period=args.publish_period,
                      domain_id=args.domain_id)
    result = run_graph(cfg, progress=sys.stdout, should_stop=watcher)
    summary = result.summary
    for point in watcher.curve:
        print(f'  graph {point}', flush=True)
    return {'reached': watcher.reached, 'wall_s': round(result.wall_time_s, 1),
            'transitions': summary.get('transitions'), 'updates': summary.get('updates'),
            'pairing': summary.get('pairing'), 'best': watcher.best(), 'curve': watcher.curve,
            'steps_per_s': round((summary.get('transitions') or 0) / result.wall_time_s, 1)}


def markdown(report: dict) -> str:
    g, p = report['graph'], report['in_process']
    gt = g['reached']['published_s'] if g['reached'] else None
    pt = p['reached']['train_s'] if p['reached'] else None
    lines = [
        f'# Train through the graph vs in-process ({report["algo"]} on reach, target '
        f'{report["target"]:.0%} success)', '',
        f'{report["machine"]}; load average before {report["load_before"]}, after '
        f'{report["load_after"]} (1/5/15 min; the 2 cores are shared with other work).', '',
        '| path | wall-clock to target (s) | env steps at target | best success '
        '| steps/s |', '|---|---|---|---|---|',
        f'| graph: sim_bridge + policy_node + trainer_node | '
        f'{gt if gt is not None else "not reached"} | '
        f'{g["reached"]["transitions"] if g["reached"] else "-"} | '
        f'{g["best"]["success"] if g["best"] else "-"} | {g["steps_per_s"]} |',
        f'| in-process training loop | {pt if pt is not None else "not reached"} | '
        f'{p["reached"]["steps"] if p["reached"] else "-"} | '
        f'{p["best"]["success"] if p["best"] else "-"} | {p["steps_per_s"]} |', '']
    if gt is not None and pt is not None:
        lines.append(f'Ratio graph / in-process wall-clock: **{gt / pt:.2f}**.')
    else:
        lines.append(f'Ratio: n/a (budget {report["budget_s"]} s, max {report["max_steps"]} '
                     'steps each).')
    lines += ['', 'Curves (success of the deterministic policy on 50 fixed evaluation '
              'episodes) are in train_graph.json.', '']
    return '\n'.join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--algo', default='sac')
    parser.add_argument('--target', type=float, default=0.95)
    parser.add_argument('--budget-s', type=float, default=600.0)
    parser.add_argument('--max-steps', type=int, default=60_000)
    parser.add_argument('--eval-every', type=int, default=2000, help='in-process eval period')
    parser.add_argument('--eval-period', type=float, default=10.0, help='graph eval period (s)')
    parser.add_argument('--publish-period', type=float, default=3.0,
                        help='seconds between policies the trainer publishes (the exploring '
                             'policy node reloads each)')
    parser.add_argument('--episodes', type=int, default=50)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--domain-id', type=int, default=random_domain(),
                        help='ROS_DOMAIN_ID of the graph (default: random, to stay apart from '
                             'other graphs on a shared machine)')
    parser.add_argument('--only', choices=('graph', 'in_process'), default=None)
    args = parser.parse_args(argv)
    limit_threads(1)
    np.random.seed(args.seed)
    report = {'algo': args.algo, 'target': args.target, 'budget_s': args.budget_s,
              'publish_period_s': args.publish_period,
              'max_steps': args.max_steps, 'load_before': load(),
              'machine': f'{platform.machine()}, {os.cpu_count()} CPUs, torch '
                         f'{torch.__version__}, 1 thread per process',
              'date_utc': time.strftime('%Y-%m-%d %H:%M', time.gmtime())}
    out = Path(tempfile.mkdtemp(prefix='train_graph_'))
    try:
        if args.only != 'in_process':
            print('graph run ...', flush=True)
            report['graph'] = through_graph(args.algo, args, out / 'graph')
        if args.only != 'graph':
            print('in-process run ...', flush=True)
            report['in_process'] = in_process(args.algo, args)
    finally:
        shutil.rmtree(out, ignore_errors=True)
    report['load_after'] = load()
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / 'train_graph.json').write_text(json.dumps(report, indent=2))
    if 'graph' in report and 'in_process' in report:
        (RESULTS / 'train_graph.md').write_text(markdown(report))
        print(markdown(report))
    return 0


if __name__ == '__main__':
    sys.exit(main())
