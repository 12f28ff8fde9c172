# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Learning benchmark: robotrl_ros vs Stable-Baselines3, same tasks, budgets, seeds, machine.

Both libraries train on the same environments (``robotrl_ros.tasks.registry.make_env``) for the
same number of env steps with the same hyperparameters (ours from ``config/hparams``, mapped to
SB3's names: network sizes, learning rates, batch sizes, discount, rollout shape, reward scale,
observation normalization). Each trained policy is then evaluated deterministically on the same
seeded episodes. Reported: final return (mean ± std over seeds), wall-clock of training, env
steps/s.

Usage::

    python benchmarks/learning.py                                  # the full matrix (hours)
    python benchmarks/learning.py --only sac:reach,ppo:pendulum --seeds 2
    python benchmarks/learning.py --only sac:reach --steps 10000 --libs ours
    python benchmarks/learning.py --only ppo:locomotion --seeds 2 --episodes 10 \
        --out benchmarks/results/learning_locomotion_2026-12-05   # the A1 row of issue 19

Ours trains ``locomotion`` through the training loop's robot batch (``LocomotionEnvBatch``, what
``robotrl train`` uses); SB3 steps 32 separate ``LocomotionEnv`` in its ``DummyVecEnv``.

Results are merged (by library, algo, task, seed, steps) into
``benchmarks/results/learning.json`` and the table is rewritten in ``learning.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from robotrl_ros.tasks.registry import make_env  # noqa: E402
from robotrl_ros.training.config import load_config  # noqa: E402
from robotrl_ros.training.evaluate import agent_policy, evaluate  # noqa: E402
from robotrl_ros.training.experiment import train_run  # noqa: E402
from robotrl_ros.util.threads import limit_threads  # noqa: E402

RESULTS = ROOT / 'benchmarks' / 'results'
OUT = RESULTS / 'learning'   # results path without suffix (--out)
# name -> (algo, task, default env steps)
MATRIX: dict[str, tuple[str, str, int]] = {
    'sac:reach': ('sac', 'reach', 20_000),
    'ppo:reach': ('ppo', 'reach', 100_000),
    'sac:pendulum': ('sac', 'gym:Pendulum-v1', 20_000),
    'ppo:pendulum': ('ppo', 'gym:Pendulum-v1', 200_000),
    'sac:reacher': ('sac', 'reacher', 20_000),       # Reacher-v5 as a robot task
    'ppo:reacher': ('ppo', 'reacher', 200_000),
    'dqn:cartpole': ('dqn', 'gym:CartPole-v1', 50_000),
    'ppo:quadruped': ('ppo', 'quadruped', 1_000_000),
    'sac:ee_reach': ('sac', 'ee_reach', 100_000),        # Franka Panda (default robot)
    'ppo:locomotion': ('ppo', 'locomotion', 1_000_000),  # Unitree A1 (default robot)
}


def train_ours(algo: str, task: str, steps: int, seed: int) -> tuple[float, object]:
    """Train with the ``robotrl train`` pipeline; returns (seconds, deterministic policy)."""
    with tempfile.TemporaryDirectory(prefix='bench_') as out:
        started = time.perf_counter()
        result = train_run(task, algo, steps, seed, Path(out) / 'run')
        seconds = time.perf_counter() - started
    return seconds, agent_policy(result.agent)


# --- Stable-Baselines3 with our hyperparameters ----------------------------------------------
def _scaled(task: str, scale: float):
    import gymnasium as gym
    env = make_env(task)
    return env if scale == 1.0 else gym.wrappers.TransformReward(env, lambda r: r * scale)


def _activation(name: str):
    return {'tanh': torch.nn.Tanh, 'relu': torch.nn.ReLU, 'elu': torch.nn.ELU}[name]


def train_sb3(algo: str, task: str, steps: int, seed: int, config,
              library_defaults: bool = False) -> tuple[float, object]:
    """Train SB3's ``algo``; returns (seconds, policy).

    With ``library_defaults`` SB3 runs out of the box (its own default hyperparameters, e.g.
    SAC with 256x256 networks); otherwise our config is mapped to SB3's arguments.
    """
    from stable_baselines3 import DQN, PPO, SAC
    from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

    from robotrl_ros.agents.registry import make_agent
    agent_cfg = make_agent(algo, make_env(task), config.agent, seed).config  # fills defaults
    hidden = list(agent_cfg.hidden_sizes)
    scale = agent_cfg.reward_scale
    norm = None
    if library_defaults:
        cls = {'sac': SAC, 'ppo': PPO, 'dqn': DQN}[algo]
        model = cls('MlpPolicy', make_env(task), seed=seed, device='cpu')
    elif algo == 'sac':
        model = SAC('MlpPolicy', _scaled(task, scale), learning_rate=agent_cfg.actor_lr,
                    buffer_size=agent_cfg.buffer_size, learning_starts=agent_cfg.learning_starts,
                    batch_size=agent_cfg.batch_size, tau=agent_cfg.tau, gamma=agent_cfg.gamma,
                    train_freq=1, gradient_steps=max(1, round(agent_cfg.updates_per_step)),
                    # SB3's 'auto' starts the temperature at 1.0; ours starts at `alpha`
                    ent_coef=f'auto_{agent_cfg.alpha}' if agent_cfg.autotune else agent_cfg.alpha,
                    target_entropy=('auto' if agent_cfg.target_entropy is None
                                    else agent_cfg.target_entropy),
                    policy_kwargs={'net_arch': hidden}, seed=seed, device='cpu')
    elif algo == 'ppo':
        venv = DummyVecEnv([lambda: _scaled(task, scale)] * config.n_envs)
        if agent_cfg.normalize_obs:
            venv = norm = VecNormalize(venv, norm_obs=True, norm_reward=False, clip_obs=1e6)
        batch = agent_cfg.n_steps * config.n_envs // agent_cfg.n_minibatches
        model = PPO('MlpPolicy', venv, n_steps=agent_cfg.n_steps, batch_size=batch,
                    n_epochs=agent_cfg.n_epochs, learning_rate=agent_cfg.learning_rate,
                    gamma=agent_cfg.gamma, gae_lambda=agent_cfg.gae_lambda,
                    clip_range=agent_cfg.clip_coef,
                    clip_range_vf=agent_cfg.clip_coef if agent_cfg.clip_value_loss else None,
                    ent_coef=agent_cfg.ent_coef,
                    vf_coef=0.5 * agent_cfg.vf_coef,  # SB3: plain MSE; ours: 0.5 * MSE
                    max_grad_norm=agent_cfg.max_grad_norm, target_kl=agent_cfg.target_kl,
                    policy_kwargs={'net_arch': {'pi': hidden, 'vf': hidden},
                                   'activation_fn': _activation(agent_cfg.activation),
                                   'log_std_init': agent_cfg.init_log_std},
                    seed=seed, device='cpu')
    elif algo == 'dqn':
        model = DQN('MlpPolicy', _scaled(task, scale), learning_rate=agent_cfg.learning_rate,
                    buffer_size=agent_cfg.buffer_size, learning_starts=agent_cfg.learning_starts,
                    batch_size=agent_cfg.batch_size, gamma=agent_cfg.gamma,
                    train_freq=max(1, round(1 / agent_cfg.updates_per_step)), gradient_steps=1,
                    # SB3 counts env steps between target updates, ours gradient steps
                    target_update_interval=round(agent_cfg.target_update_interval
                                                 / agent_cfg.updates_per_step),
                    tau=agent_cfg.tau, exploration_initial_eps=agent_cfg.eps_start,
                    exploration_final_eps=agent_cfg.eps_end,
                    exploration_fraction=min(1.0, agent_cfg.exploration_steps / steps),
                    max_grad_norm=agent_cfg.max_grad_norm,
                    policy_kwargs={'net_arch': hidden}, seed=seed, device='cpu')
    else:
        raise ValueError(f'no SB3 reference for {algo!r}')
    started = time.perf_counter()
    model.learn(total_timesteps=steps)
    seconds = time.perf_counter() - started

    def policy(obs):
        obs = np.asarray(obs, dtype=np.float32)
        if norm is not None:
            obs = norm.normalize_obs(obs)
        return model.predict(obs, deterministic=True)[0]
    return seconds, policy


def run_one(lib: str, algo: str, task: str, steps: int, seed: int, episodes: int) -> dict:
    """Train and evaluate one (library, algo, task, seed); returns the result record."""
    torch.manual_seed(seed)
    load_before = os.getloadavg()[0]
    cpu_before = time.process_time()
    if lib == 'ours':
        seconds, policy = train_ours(algo, task, steps, seed)
    else:
        seconds, policy = train_sb3(algo, task, steps, seed, load_config(task, algo),
                                    library_defaults=lib == 'sb3_default')
    cpu = time.process_time() - cpu_before
    env = make_env(task)
    evaluation = evaluate(policy, env, episodes, seed=10_000 + seed, task=task)
    env.close()
    return {'lib': lib, 'algo': algo, 'task': task, 'seed': seed, 'steps': steps,
            'train_s': round(seconds, 2), 'steps_per_s': round(steps / seconds, 1),
            'cpu_s': round(cpu, 2),
            'eval_episodes': episodes, 'eval_mean_return': evaluation.mean_return,
            'eval_std_return': evaluation.std_return, 'success_rate': evaluation.success_rate,
            'loadavg_1min': [round(load_before, 2), round(os.getloadavg()[0], 2)]}


def _key(run: dict) -> tuple:
    return run['lib'], run['algo'], run['task'], run['seed'], run['steps']


def merge(old: list[dict], new: list[dict]) -> list[dict]:
    """Runs of ``old`` not re-measured in ``new``, then ``new``."""
    fresh = {_key(r) for r in new}
    return [r for r in old if _key(r) not in fresh] + new


def _stats(values: list[float]) -> str:
    return f'{np.mean(values):.1f} ± {np.std(values):.1f}' if values else 'n/a'


LIB_NAMES = {'ours': 'robotrl_ros', 'sb3': 'SB3, our hyperparameters',
             'sb3_default': 'SB3, its defaults'}


def table(runs: list[dict]) -> str:
    """Markdown table: per (algo, task, steps) one row per library; SB3 rows compare to ours."""
    groups: dict[tuple, dict[str, list[dict]]] = {}
    for run in runs:
        groups.setdefault((run['algo'], run['task'], run['steps']), {}).setdefault(
            run['lib'], []).append(run)
    lines = ['| algo | task | steps | library | seeds | eval return | success | wall-clock (s) | '
             'CPU (s) | env steps/s | ours vs this row |', '|' + '---|' * 11]
    for (algo, task, steps), libs in sorted(groups.items()):
        ours = libs.get('ours', [])
        for lib in [lib for lib in LIB_NAMES if lib in libs]:
            rows = libs[lib]
            ret = [r['eval_mean_return'] for r in rows]
            secs = [r['train_s'] for r in rows]
            cpu = [r.get('cpu_s', np.nan) for r in rows]
            succ = [r['success_rate'] for r in rows if r['success_rate'] is not None]
            verdict = ''
            if lib != 'ours' and ours:
                ours_ret = np.mean([r['eval_mean_return'] for r in ours])
                ok = ours_ret >= np.mean(ret) - max(np.std(ret), 0.05 * abs(np.mean(ret)))
                wall = np.mean(secs) / np.mean([r['train_s'] for r in ours])
                cpu_x = np.mean(cpu) / np.mean([r.get('cpu_s', np.nan) for r in ours])
                target = 'met' if min(wall, cpu_x) >= 2 else 'missed'
                verdict = (f'return {"OK" if ok else "LOWER"} ({ours_ret - np.mean(ret):+.1f}); '
                           f'{wall:.1f}x wall, {cpu_x:.1f}x CPU (2x target {target})')
            lines.append(f'| {algo} | {task} | {steps} | {LIB_NAMES[lib]} | {len(rows)} | '
                         f'{_stats(ret)} | {f"{np.mean(succ):.0%}" if succ else "n/a"} | '
                         f'{_stats(secs)} | {_stats(cpu)} | '
                         f'{_stats([r["steps_per_s"] for r in rows])} | {verdict} |')
    return '\n'.join(lines)


def _load_runs(path: Path) -> list[dict]:
    return json.loads(path.read_text()).get('runs', []) if path.is_file() else []


def write_results(runs: list[dict], note: str) -> None:
    """Merge ``runs`` into ``learning.json`` and rewrite ``learning.md`` (table + conditions).

    The JSON file is re-read first, so concurrent invocations keep each other's runs.
    """
    OUT.parent.mkdir(parents=True, exist_ok=True)
    runs = merge(_load_runs(OUT.with_suffix('.json')), runs)
    meta = {'machine': f'{platform.machine()} {os.cpu_count()} CPUs, {platform.system()}',
            'torch': torch.__version__, 'torch_threads': torch.get_num_threads(), 'note': note}
    (OUT.with_suffix('.json')).write_text(json.dumps({'meta': meta, 'runs': runs}, indent=1))
    text = ['# Learning benchmark: robotrl_ros vs Stable-Baselines3', '',
            'Same envs (`make_env`), same env-step budget, same hyperparameters (ours from '
            '`config/hparams`, mapped to SB3), same evaluation episodes (deterministic policy, '
            f'{runs[0]["eval_episodes"] if runs else "?"} episodes per seed). Return = mean over '
            'seeds of each seed\'s mean evaluation return (± std over seeds). Wall-clock = '
            'training only, including our checkpoint/metrics/artifact export (SB3: `learn()` '
            'only); CPU s = process CPU time of the training (less sensitive to other load '
            'on the machine than wall-clock).', '',
            f'Machine: {meta["machine"]}; torch {meta["torch"]}, 1 thread per process.', '',
            f'Conditions: {note}', '', table(runs), '',
            '"return OK": our mean return >= that row\'s mean - max(its std over seeds, 5% of '
            '|its mean|). "Nx wall/CPU":'
            ' that row\'s training time / ours. Target: equal return at <= half of SB3\'s time.',
            'Per-run records (with 1-min load average before/after each run): '
            f'{OUT.with_suffix(".json").name}.']
    OUT.with_suffix('.md').write_text('\n'.join(text) + '\n')


def main(argv: list[str] | None = None) -> int:
    """Run the selected benchmarks and write the results."""
    global OUT
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--only', default=','.join(MATRIX),
                        help=f'comma-separated subset of: {", ".join(MATRIX)}')
    parser.add_argument('--seeds', type=int, default=3, help='number of seeds (default 3)')
    parser.add_argument('--first-seed', type=int, default=0,
                        help='seeds run are FIRST..FIRST+N-1 (default 0): add seeds to a row')
    parser.add_argument('--steps', type=int, default=0, help='override every env-step budget')
    parser.add_argument('--episodes', type=int, default=20, help='evaluation episodes per seed')
    parser.add_argument('--libs', default='ours,sb3',
                        help='comma-separated: ours, sb3 (our hyperparameters), sb3_default '
                             "(SB3's own defaults); default ours,sb3")
    parser.add_argument('--note', default='',
                        help='free text about CPU contention etc., appended to the recorded '
                             'conditions (earlier findings are kept)')
    parser.add_argument('--out', type=Path, default=OUT,
                        help='results path without suffix (.json is merged into, .md rewritten)')
    parser.add_argument('--report', action='store_true',
                        help='only rewrite learning.md from learning.json (no training)')
    args = parser.parse_args(argv)
    OUT = args.out
    limit_threads(1)
    # Both libraries' torch optimizers import torch._dynamo on first use (~1-2.5 s here). The
    # process imports it before any timed run, so it is not charged to whichever runs first.
    import torch._dynamo  # noqa: F401
    names = [n.strip() for n in args.only.split(',') if n.strip()]
    unknown = [n for n in names if n not in MATRIX]
    if unknown:
        parser.error(f'unknown benchmark(s) {unknown}; choose from {", ".join(MATRIX)}')
    libs = [lib for lib in LIB_NAMES if lib in args.libs.split(',')]
    if args.report:
        old = _load_runs(OUT.with_suffix('.json'))
        meta = json.loads((OUT.with_suffix('.json')).read_text())['meta']
        write_results(old, f"{meta.get('note', '')} {args.note}".strip())
        print(table(old))
        return 0
    new: list[dict] = []
    for name in names:
        algo, task, steps = MATRIX[name]
        steps = args.steps or steps
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            for lib in libs:
                run = run_one(lib, algo, task, steps, seed, args.episodes)
                new.append(run)
                print(json.dumps(run), flush=True)
                write_results(new, _default_note(run, args.note))
    print(table(_load_runs(OUT.with_suffix('.json'))))
    return 0


def _default_note(run: dict, note: str = '') -> str:
    """Recorded conditions + ``note`` + a line about the latest run (keeps earlier findings)."""
    path = OUT.with_suffix('.json')
    previous = json.loads(path.read_text())['meta'].get('note', '') if path.is_file() else ''
    previous = previous.split(' Latest run:')[0]
    if note and note not in previous:
        previous = f'{previous} {note}'
    load = ', '.join(f'{v:.2f}' for v in os.getloadavg())
    return (f'{previous} Latest run: {run["lib"]} {run["algo"]} on {run["task"]}, load average '
            f'(1/5/15 min) {load} on {os.cpu_count()} CPUs.').strip()


if __name__ == '__main__':
    sys.exit(main())
