# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Learning proofs: each agent solves its task with a small, fixed budget and fixed seeds.

Budgets (env steps; wall-clock measured on one core of the CI machine, see the agents report):
Q-learning 6k gridworld steps; DQN 40k reach_discrete steps; PPO 150k reach steps over 8
envs; SAC 15k reach steps; REINFORCE 40k reach steps over 8 envs. Success = ``is_success`` at
episode end of the deterministic policy, over 50 evaluation episodes with seeds never used in
training. The torch backend of DQN, PPO and SAC (autograd on their loss functions) gets a
shorter budget: its mean return must rise by more than 50.
"""

import time

import numpy as np
import pytest

from robotrl_ros.agents.registry import make_agent
from robotrl_ros.tasks.registry import make_env

EVAL_SEED = 100_000


@pytest.fixture(autouse=True)
def _report_cpu_seconds(request, record_property):
    """Record the CPU time each learning test used (``-s`` prints it; junit-xml keeps it)."""
    start = time.process_time()
    yield
    used = time.process_time() - start
    record_property('cpu_seconds', round(used, 1))
    print(f'\n{request.node.name}: {used:.1f} CPU s')


def train(agent, task, steps, n_envs=1, seed=0, **env_kwargs):
    """Minimal batched training loop (the real one lives in robotrl_ros.training)."""
    envs = [make_env(task, **env_kwargs) for _ in range(n_envs)]
    obs = np.stack([env.reset(seed=seed + i)[0] for i, env in enumerate(envs)])
    for _ in range(0, steps, n_envs):
        action = agent.act(obs)
        out = [env.step(a) for env, a in zip(envs, action, strict=True)]
        next_obs = np.stack([o[0] for o in out])
        agent.observe(obs, action, [o[1] for o in out], next_obs, [o[2] for o in out],
                      [o[3] for o in out])
        if agent.ready():
            agent.update()
        obs = next_obs
        for i, (env, o) in enumerate(zip(envs, out, strict=True)):
            if o[2] or o[3]:
                obs[i] = env.reset()[0]


def evaluate(agent, task, episodes=50, seed=EVAL_SEED):
    """Success rate and mean return of the deterministic policy on fresh seeds."""
    env = make_env(task)
    successes, returns = 0, []
    for k in range(episodes):
        obs, _ = env.reset(seed=seed + k)
        done, total, info = False, 0.0, {}
        while not done:
            obs, reward, terminated, truncated, info = env.step(
                agent.act(obs[None], deterministic=True)[0])
            total += reward
            done = terminated or truncated
        successes += bool(info['is_success'])
        returns.append(total)
    return successes / episodes, float(np.mean(returns))


def test_q_learning_finds_the_shortest_gridworld_path():
    env = make_env('gridworld')
    agent = make_agent('q_learning', env, {'bins': [env.n_rows, env.n_cols]}, seed=0)
    train(agent, 'gridworld', steps=6000)
    obs, _ = env.reset(seed=1)
    done, length = False, 0
    while not done:
        obs, _, terminated, truncated, _ = env.step(agent.act(obs[None], deterministic=True)[0])
        length += 1
        done = terminated or truncated
    assert terminated, 'greedy policy never reached the goal'
    assert length == env.shortest_path_length()


@pytest.mark.parametrize('algo, task, steps, n_envs, config', [
    ('dqn', 'reach_discrete', 40_000, 1, {}),
    ('ppo', 'reach', 150_000, 8, {}),
    ('sac', 'reach', 15_000, 1, {}),
])
def test_agent_reaches_90_percent_success(algo, task, steps, n_envs, config):
    agent = make_agent(algo, make_env(task), config, seed=0)
    train(agent, task, steps, n_envs)
    success, mean_return = evaluate(agent, task)
    assert success >= 0.9, f'{algo} on {task}: success {success:.2f}, return {mean_return:.1f}'


def test_reinforce_clearly_improves_mean_return():
    agent = make_agent('reinforce', make_env('reach'), {}, seed=0)
    before_success, before = evaluate(agent, 'reach', episodes=20)
    train(agent, 'reach', 40_000, n_envs=8)
    after_success, after = evaluate(agent, 'reach', episodes=20)
    assert after > before + 50.0, f'mean return {before:.1f} -> {after:.1f}'
    assert after_success > before_success


@pytest.mark.parametrize('algo, task, steps, n_envs', [
    ('dqn', 'reach_discrete', 15_000, 1),
    ('ppo', 'reach', 80_000, 8),
    ('sac', 'reach', 5_000, 1),
])
def test_torch_backend_learns_through_the_torch_losses(algo, task, steps, n_envs):
    """``backend: torch`` (autograd on the algorithm file's losses) learns; a short budget."""
    agent = make_agent(algo, make_env(task), {'backend': 'torch'}, seed=0)
    assert agent.config.backend == 'torch'
    _, before = evaluate(agent, task, episodes=20)
    train(agent, task, steps, n_envs)
    success, after = evaluate(agent, task, episodes=20)
    assert after > before + 50.0, f'{algo} torch backend: mean return {before:.1f} -> {after:.1f}'
    if algo == 'dqn':
        assert success >= 0.8, f'dqn torch backend: success {success:.2f}'
