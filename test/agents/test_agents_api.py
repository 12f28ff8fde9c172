# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The shared Agent API for all five algorithms: resume, seeding, bad input, TorchScript export."""

import numpy as np
import pytest
import torch

from robotrl_ros.agents.base import Agent
from robotrl_ros.agents.checks import all_finite, obs_batch
from robotrl_ros.agents.registry import EnvInfo, algo_names, make_agent
from robotrl_ros.tasks.registry import make_env

TINY = [16]
# algo -> (task, small config so a few hundred steps exercise buffers and updates)
SETUPS = {
    'q_learning': ('gridworld', {'bins': [8, 8], 'exploration_steps': 200}),
    'dqn': ('reach_discrete', {'learning_starts': 40, 'batch_size': 16, 'hidden_sizes': TINY,
                               'target_update_interval': 5, 'exploration_steps': 100,
                               'updates_per_step': 0.25}),
    'reinforce': ('reach', {'batch_episodes': 2, 'hidden_sizes': TINY}),
    'ppo': ('reach', {'n_steps': 16, 'n_epochs': 2, 'n_minibatches': 2, 'hidden_sizes': TINY}),
    'sac': ('reach', {'learning_starts': 40, 'batch_size': 16, 'hidden_sizes': TINY,
                      'updates_per_step': 0.25}),
    'ppo_discrete': ('reach_discrete', {'n_steps': 16, 'n_epochs': 2, 'hidden_sizes': TINY}),
    'reinforce_discrete': ('reach_discrete', {'batch_episodes': 2, 'hidden_sizes': TINY}),
}
# The agents with a fast (NumPy) backend, run on the torch backend (autograd on their losses).
SETUPS.update({f'{name}_torch': (SETUPS[name][0], {**SETUPS[name][1], 'backend': 'torch'})
               for name in ('dqn', 'ppo', 'sac', 'ppo_discrete')})
N_ENVS = 2


def build(name, seed=0, **overrides):
    task, config = SETUPS[name]
    env = make_env(task)
    algo = name.removesuffix('_torch').removesuffix('_discrete')
    return make_agent(algo, env, {**config, **overrides}, seed)


class Rollout:
    """N_ENVS seeded envs driven by one agent (the in-process training loop, minimal)."""

    def __init__(self, name, seed):
        self.envs = [make_env(SETUPS[name][0]) for _ in range(N_ENVS)]
        self.obs = np.stack([e.reset(seed=seed + i)[0] for i, e in enumerate(self.envs)])

    def run(self, agent, steps):
        actions, metrics = [], []
        for _ in range(steps):
            action = agent.act(self.obs)
            out = [env.step(a) for env, a in zip(self.envs, action, strict=True)]
            next_obs = np.stack([o[0] for o in out])
            agent.observe(self.obs, action, [o[1] for o in out], next_obs,
                          [o[2] for o in out], [o[3] for o in out])
            if agent.ready():
                metrics.append(agent.update())
            self.obs = next_obs
            for i, (env, o) in enumerate(zip(self.envs, out, strict=True)):
                if o[2] or o[3]:
                    self.obs[i] = env.reset()[0]
            actions.append(np.asarray(action))
        return np.stack(actions), metrics


def assert_same_state(a, b, where='state'):
    if isinstance(a, torch.Tensor):   # NaN marks a stored action not scored yet (PPO)
        assert a.dtype == b.dtype and a.shape == b.shape, where
        assert torch.equal(a, b) or torch.allclose(a, b, rtol=0, atol=0, equal_nan=True), where
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for key in a:
            assert_same_state(a[key], b[key], f'{where}.{key}')
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same_state(x, y, f'{where}[{i}]')
    elif isinstance(a, np.ndarray):
        assert np.array_equal(a, b), where
    else:
        assert a == b, where


def test_every_algorithm_is_registered():
    assert algo_names() == ['dqn', 'ppo', 'q_learning', 'reinforce', 'sac']


@pytest.mark.parametrize('name', list(SETUPS))
def test_agent_trains_and_reports_finite_metrics(name):
    agent = build(name)
    assert isinstance(agent, Agent)
    _, metrics = Rollout(name, seed=0).run(agent, 220)
    assert metrics, f'{name} never became ready in 220 steps'
    for m in metrics:
        assert all(np.isfinite(v) for v in m.values()), m


@pytest.mark.parametrize('name', list(SETUPS))
def test_save_load_resumes_identically(name, tmp_path):
    agent = build(name, seed=0)
    Rollout(name, seed=0).run(agent, 150)              # mid-episode, buffers partly full
    agent.save(tmp_path / 'agent.pt')
    restored = build(name, seed=123)                     # different seed: everything must load
    restored.load(tmp_path / 'agent.pt')
    assert_same_state(agent.state_dict(), restored.state_dict())
    actions_a, metrics_a = Rollout(name, seed=7).run(agent, 120)
    actions_b, metrics_b = Rollout(name, seed=7).run(restored, 120)
    assert np.array_equal(actions_a, actions_b)
    assert metrics_a == metrics_b and metrics_a, 'training must continue identically'
    assert_same_state(agent.state_dict(), restored.state_dict())


@pytest.mark.parametrize('name', list(SETUPS))
def test_on_policy_agents_name_their_partial_rollout_in_their_state(name):
    """A warm start drops the state under ``rollout_state_key``: it must be a real key."""
    agent = build(name)
    on_policy = agent.name in ('reinforce', 'ppo')
    assert (agent.rollout_state_key is not None) == on_policy
    if on_policy:
        Rollout(name, seed=0).run(agent, 5)             # a rollout in progress
        assert agent.rollout_state_key in agent.state_dict()


@pytest.mark.parametrize('name', list(SETUPS))
def test_same_seed_same_run_other_seed_other_run(name):
    runs = [Rollout(name, seed=3).run(build(name, seed=s), 120)[0] for s in (5, 5, 6)]
    assert np.array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[0], runs[2])


@pytest.mark.parametrize('name', list(SETUPS))
def test_policy_module_scripts_and_matches_act(name, tmp_path):
    agent = build(name)
    rollout = Rollout(name, seed=0)
    rollout.run(agent, 150)
    gaussian = not agent.discrete and not name.startswith('sac')
    if gaussian:   # wide: its samples leave [-1, 1] (checked below)
        with torch.no_grad():
            agent.policy.log_std.fill_(2.0)
    scripted = torch.jit.script(agent.policy_module())
    scripted.save(str(tmp_path / 'policy.pt'))
    loaded = torch.jit.load(str(tmp_path / 'policy.pt'))
    obs = np.concatenate([rollout.obs, rollout.obs + 0.3]).astype(np.float32)
    expected = agent.act(obs, deterministic=True)
    torch.manual_seed(0)
    with torch.no_grad():
        got = loaded(torch.from_numpy(obs)).numpy()
        explored = loaded.explore(torch.from_numpy(obs)).numpy()
    assert got.shape == explored.shape == expected.shape
    if agent.discrete:
        assert got.dtype == np.int64 and np.array_equal(got, expected)
        n_actions = len(rollout.envs[0].task_spec.discrete_actions)
        assert explored.dtype == np.int64
        assert explored.min() >= 0 and explored.max() < n_actions
    else:
        assert np.allclose(got, expected, atol=1e-6)
        assert np.all(np.abs(got) <= 1.0) and np.all(np.isfinite(explored))
        if gaussian:   # the sample before the clamp (the artifact clamps it, and keeps it
            assert np.abs(explored).max() > 1.0   # for the trainer: explore_sample)
        else:          # SAC's squashed sample
            assert np.all(np.abs(explored) <= 1.0)


@pytest.mark.parametrize('name', ['ppo', 'sac', 'dqn'])
def test_policy_module_exports_as_a_deployable_artifact(name, tmp_path):
    from robotrl_ros.policy.artifact import load_artifact
    from robotrl_ros.policy.export import export_artifact
    agent = build(name)
    rollout = Rollout(name, seed=0)
    rollout.run(agent, 60)
    spec = rollout.envs[0].task_spec
    export_artifact(agent.policy_module(), spec, tmp_path / 'policy', algorithm=name,
                    provenance={'test': True})
    artifact = load_artifact(tmp_path / 'policy', allow_torchscript=True)   # explore: TorchScript
    action = agent.act(rollout.obs, deterministic=True)
    if agent.discrete:
        action = np.asarray(spec.discrete_actions)[action]
    assert np.allclose(artifact.act(rollout.obs), action, atol=1e-6)
    assert artifact.has_explore


@pytest.mark.parametrize('name', list(SETUPS))
def test_nan_and_malformed_input_is_rejected_with_a_clear_message(name):
    agent = build(name)
    rollout = Rollout(name, seed=0)
    obs = rollout.obs.copy()
    action = agent.act(obs)
    ok = dict(obs=obs, action=action, reward=np.zeros(N_ENVS), next_obs=obs,
              terminated=np.zeros(N_ENVS, bool), truncated=np.zeros(N_ENVS, bool))
    bad_obs = obs.copy()
    bad_obs[1, 0] = np.nan
    with pytest.raises(ValueError, match=r'obs contains NaN/Inf \(env index \[1\]\)'):
        agent.act(bad_obs)
    with pytest.raises(ValueError, match='reward contains NaN'):
        agent.observe(**{**ok, 'reward': np.array([0.0, np.nan])})
    with pytest.raises(ValueError, match='next_obs contains NaN'):
        agent.observe(**{**ok, 'next_obs': bad_obs})
    with pytest.raises(ValueError, match=r'obs must have shape \[n_envs, '):
        agent.act(obs[:, :-1])
    with pytest.raises(ValueError, match='reward must have 2 entries'):
        agent.observe(**{**ok, 'reward': np.zeros(3)})
    if agent.discrete:
        with pytest.raises(ValueError, match='action index out of range'):
            agent.observe(**{**ok, 'action': np.array([0, 999])})
    else:
        with pytest.raises(ValueError, match='action contains NaN'):
            agent.observe(**{**ok, 'action': np.full_like(action, np.nan)})
    agent.observe(**ok)                                   # still usable afterwards


def test_finite_check_passes_huge_finite_values_and_catches_cancelling_infinities():
    huge = np.full((2, 3), 3e38, dtype=np.float32)         # finite; a float32 sum overflows
    assert obs_batch('ppo', huge, 3) is not None
    mixed = np.array([[np.inf, -np.inf, 0.0], [0.0, 0.0, 0.0]], dtype=np.float32)
    with pytest.raises(ValueError, match=r'obs contains NaN/Inf \(env index \[0\]\)'):
        obs_batch('ppo', mixed, 3)


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
def test_all_finite_is_exact_even_where_the_dot_product_overflows(dtype):
    assert all_finite(np.array([0.5, -2.0, 0.0], dtype=dtype))
    assert all_finite(np.array([np.finfo(dtype).max, -np.finfo(dtype).max], dtype=dtype))
    assert all_finite(np.zeros(0, dtype=dtype))
    for bad in (np.nan, np.inf, -np.inf):
        assert not all_finite(np.array([1.0, bad, 1e30], dtype=dtype))
    assert not all_finite(np.array([np.inf, -np.inf], dtype=dtype))


@pytest.mark.parametrize('name', ['q_learning', 'dqn', 'reinforce', 'ppo', 'sac'])
def test_unknown_config_key_names_it_and_lists_valid_keys(name):
    with pytest.raises(ValueError, match=rf"{name}: unknown config key 'nope'; valid keys: "):
        build(name, nope=1)
    with pytest.raises(ValueError, match=rf"{name}: config key 'gamma' must be float"):
        build(name, gamma='0.9')


@pytest.mark.parametrize('name', ['dqn', 'ppo', 'sac'])
def test_backend_key_defaults_to_fast_and_rejects_other_values(name):
    assert build(name).config.backend == 'fast'
    assert build(f'{name}_torch').config.backend == 'torch'
    with pytest.raises(ValueError, match=rf"{name}: config key 'backend' must be one of "
                                         r"'fast', 'torch', got 'gpu'"):
        build(name, backend='gpu')
    with pytest.raises(ValueError, match=rf"{name}: config key 'backend' must be str"):
        build(name, backend=1)


@pytest.mark.parametrize('name', ['q_learning', 'reinforce'])
def test_backend_key_is_unknown_where_there_is_no_fast_path(name):
    with pytest.raises(ValueError, match=rf"{name}: unknown config key 'backend'"):
        build(name, backend='torch')


def test_make_agent_rejects_bad_algo_action_type_and_env_info():
    reach, discrete = make_env('reach'), make_env('reach_discrete')
    with pytest.raises(ValueError, match="unknown algo 'a2c'; available: dqn, ppo"):
        make_agent('a2c', reach)
    with pytest.raises(ValueError, match='sac: needs continuous actions'):
        make_agent('sac', discrete)
    with pytest.raises(ValueError, match='dqn: needs discrete actions'):
        make_agent('dqn', reach)
    with pytest.raises(ValueError, match='q_learning: needs discrete actions'):
        make_agent('q_learning', reach)
    with pytest.raises(ValueError, match="q_learning: config key 'bins' must list"):
        make_agent('q_learning', EnvInfo(2, 4, True), {'bins': [8]})
    with pytest.raises(ValueError, match='expected a TaskSpec, a Gymnasium env or an EnvInfo'):
        make_agent('ppo', 12)
    with pytest.raises(ValueError, match='config must be a mapping'):
        make_agent('ppo', reach, ['n_steps', 8])
    with pytest.raises(ValueError, match="'baseline' must be one of"):
        make_agent('reinforce', reach, {'baseline': 'median'})


def test_make_agent_accepts_spec_env_and_env_info():
    env = make_env('reach_discrete')
    for source in (env, env.task_spec, EnvInfo(12, 27, True)):
        agent = make_agent('dqn', source, {'hidden_sizes': TINY})
        assert (agent.obs_dim, agent.n_actions) == (12, 27)


def test_q_learning_bins_default_to_the_grid_size():
    env = make_env('gridworld')
    agent = make_agent('q_learning', env)
    assert agent.q_table.shape == (env.n_rows * env.n_cols, 4)
    with pytest.raises(ValueError, match="'bins' must list a positive cell count"):
        make_agent('q_learning', env.task_spec)       # a spec does not know the grid size


def test_load_rejects_other_algorithms_and_corrupt_files(tmp_path):
    build('ppo').save(tmp_path / 'ppo.pt')
    with pytest.raises(ValueError, match="sac: checkpoint is for algorithm 'ppo'"):
        build('sac').load(tmp_path / 'ppo.pt')
    (tmp_path / 'junk.pt').write_bytes(b'not a checkpoint')
    with pytest.raises(ValueError, match='corrupt or not a robotrl checkpoint'):
        build('ppo').load(tmp_path / 'junk.pt')
