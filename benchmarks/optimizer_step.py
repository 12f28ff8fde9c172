# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Process CPU time of an optimizer step: torch.optim.Adam(fused=True) against LeanAdam.

Two measurements, each alternating the two optimizers round by round so that machine noise hits
both alike: ``step()`` and ``zero_grad()`` alone on a 12 -> 64 -> 64 -> 6 MLP (gradients fixed),
and a whole SAC gradient step on ``reach`` (batch 128, the project's hyperparameters) with its
three optimizers (critics, actor, temperature) of one kind or the other. Figures: process CPU
microseconds per call, min and median over rounds. Results go to
benchmarks/results/optimizer_step.{json,md}.

Usage::

    .venv/bin/python benchmarks/optimizer_step.py [--rounds 12]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault('OMP_NUM_THREADS', '1')

import numpy as np  # noqa: E402
import torch  # noqa: E402
from _results import write_results  # noqa: E402 (benchmarks/ is the script's directory)

from robotrl_ros.agents.optim import LeanAdam  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / 'benchmarks' / 'results'
KINDS = ('torch Adam(fused=True)', 'LeanAdam')


def _optimizer(kind: str, params, lr: float) -> torch.optim.Optimizer:
    if kind == 'LeanAdam':
        return LeanAdam(params, lr=lr)
    return torch.optim.Adam(params, lr=lr, fused=True)


def _sac_agent(kind: str):
    from robotrl_ros.agents.registry import make_agent
    from robotrl_ros.tasks.registry import make_env
    from robotrl_ros.training.config import load_config

    env = make_env('reach')
    agent = make_agent('sac', env, load_config('reach', 'sac').agent, 0)
    cfg = agent.config
    agent.q_optimizer = _optimizer(kind, agent.q.parameters(), cfg.critic_lr)
    agent.actor_optimizer = _optimizer(kind, agent.actor.parameters(), cfg.actor_lr)
    agent.alpha_optimizer = _optimizer(kind, [agent.log_alpha], cfg.alpha_lr)
    rng = np.random.default_rng(0)
    for _ in range(2000):
        obs = rng.normal(size=(1, env.observation_space.shape[0])).astype(np.float32)
        agent.observe(obs, rng.uniform(-1, 1, (1, 3)).astype(np.float32), np.array([-1.0]),
                      obs, np.array([False]), np.array([False]))
    return agent


def _timed(call: Callable[[], object], n: int) -> float:
    start = time.process_time()
    for _ in range(n):
        call()
    return (time.process_time() - start) / n * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--rounds', type=int, default=12)
    parser.add_argument('--out', default=str(RESULTS / 'optimizer_step'),
                        help='results path without suffix (.json and .md are written)')
    args = parser.parse_args()
    torch.set_num_threads(1)
    load_start = os.getloadavg()[0]
    calls: dict[str, dict[str, Callable[[], object]]] = {}
    for kind in KINDS:
        torch.manual_seed(0)
        net = torch.nn.Sequential(torch.nn.Linear(12, 64), torch.nn.ReLU(),
                                  torch.nn.Linear(64, 64), torch.nn.ReLU(),
                                  torch.nn.Linear(64, 6))
        opt = _optimizer(kind, net.parameters(), 1e-3)
        net(torch.randn(128, 12)).pow(2).mean().backward()
        opt.step()   # state initialised

        def step(opt=opt, net=net) -> None:
            for p in net.parameters():
                if p.grad is None:
                    p.grad = torch.full_like(p, 1e-3)
            opt.step()

        agent = _sac_agent(kind)
        calls[kind] = {'step(), 64x64 MLP': step, 'zero_grad(), 64x64 MLP': opt.zero_grad,
                       'SAC gradient step, reach, batch 128': agent._gradient_step}
    cases = list(calls[KINDS[0]])
    repeats = {'SAC gradient step, reach, batch 128': 100}
    samples = {kind: {case: [] for case in cases} for kind in KINDS}
    for round_ in range(args.rounds):
        for case in cases:
            order = KINDS if round_ % 2 == 0 else KINDS[::-1]
            for kind in order:
                samples[kind][case].append(_timed(calls[kind][case], repeats.get(case, 1000)))
    rows = [{'case': case, **{f'{kind} min_us': min(samples[kind][case]) for kind in KINDS},
             **{f'{kind} median_us': float(np.median(samples[kind][case])) for kind in KINDS}}
            for case in cases]
    record = {'date': time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime()),
              'machine': f'{platform.machine()} {os.cpu_count()} CPUs',
              'torch': torch.__version__, 'rounds': args.rounds,
              'load_1min': [load_start, os.getloadavg()[0]], 'rows': rows}
    lines = ['# optimizer_step: torch Adam(fused=True) vs LeanAdam', '',
             f'Process CPU us per call, min / median over {args.rounds} alternating rounds; '
             f'{record["date"]}, {record["machine"]}, torch {torch.__version__}, 1 thread, '
             f'1-min load {load_start:.1f} -> {record["load_1min"][1]:.1f}.', '',
             '| case | torch Adam(fused=True) | LeanAdam |', '|---|---|---|']
    for row in rows:
        cells = [f'{row[f"{kind} min_us"]:.1f} / {row[f"{kind} median_us"]:.1f}' for kind in KINDS]
        lines.append(f'| {row["case"]} | {cells[0]} | {cells[1]} |')
    write_results(args.out, record, lines)


if __name__ == '__main__':
    main()
