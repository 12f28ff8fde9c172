# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Pure building blocks of the agents: returns/GAE, buffers, normalization, configs, networks."""

import numpy as np
import pytest
import torch

from robotrl_ros.agents.buffers import ReplayBuffer, RolloutBuffer
from robotrl_ros.agents.config import build_config
from robotrl_ros.agents.networks import EnsembleMLP, clip_grad_norm, mlp, soft_update
from robotrl_ros.agents.normalization import RunningMeanStd
from robotrl_ros.agents.policies import GaussianPolicy, clamped_log_prob
from robotrl_ros.agents.ppo import PPOConfig
from robotrl_ros.agents.q_learning import QLearning, QLearningConfig
from robotrl_ros.agents.returns import discounted_returns, gae
from robotrl_ros.agents.schedules import UpdateCredit, linear_schedule

REWARDS = np.array([1.0, 2.0, 3.0])
VALUES = np.array([0.5, 1.0, 1.5])
NEXT_VALUES = np.array([1.0, 1.5, 2.0])
NO = np.array([False, False, False])


def test_discounted_returns_by_hand():
    assert discounted_returns(REWARDS, NO, 0.9) == pytest.approx([5.23, 4.7, 3.0])
    # episode ends after step 0: the reward-to-go does not leak across the boundary
    assert discounted_returns(REWARDS, [True, False, False], 0.9) == pytest.approx(
        [1.0, 4.7, 3.0])
    # bootstrap value after the last step
    assert discounted_returns(REWARDS, NO, 0.9, last_value=10.0) == pytest.approx(
        [12.52, 12.8, 12.0])


def test_gae_terminated_does_not_bootstrap():
    adv, ret = gae(REWARDS, VALUES, NEXT_VALUES, [False, False, True], NO, 0.9, 0.8)
    # delta2 = 3 - 1.5; delta1 = 2 + .9*1.5 - 1; delta0 = 1 + .9*1 - .5; gamma*lam = .72
    assert adv == pytest.approx([1.4 + 0.72 * 3.43, 3.43, 1.5])
    assert ret == pytest.approx(adv + VALUES)


def test_gae_truncated_bootstraps_from_next_value():
    adv, _ = gae(REWARDS, VALUES, NEXT_VALUES, NO, [False, False, True], 0.9, 0.8)
    # delta2 = 3 + .9*2 - 1.5 = 3.3 (bootstrapped although the episode ended)
    assert adv == pytest.approx([1.4 + 0.72 * 4.726, 4.726, 3.3])


def test_gae_trace_stops_at_episode_end_either_way():
    term, _ = gae(REWARDS, VALUES, NEXT_VALUES, [True, False, False], NO, 0.9, 0.8)
    trunc, _ = gae(REWARDS, VALUES, NEXT_VALUES, NO, [True, False, False], 0.9, 0.8)
    assert term[0] == pytest.approx(1.0 - 0.5)            # no bootstrap, no trace
    assert trunc[0] == pytest.approx(1.0 + 0.9 * 1.0 - 0.5)  # bootstrap, no trace
    assert term[1:] == pytest.approx(trunc[1:])


def test_gae_lambda_one_equals_discounted_returns_minus_values():
    adv, ret = gae(REWARDS, VALUES, NEXT_VALUES, [False, False, True], NO, 0.9, 1.0)
    assert ret == pytest.approx(discounted_returns(REWARDS, [False, False, True], 0.9))


def test_gae_is_batched_over_envs():
    two = np.stack([REWARDS, REWARDS], 1)
    adv, _ = gae(two, np.stack([VALUES] * 2, 1), np.stack([NEXT_VALUES] * 2, 1),
                 np.stack([[False, False, True], NO], 1), np.stack([NO, [False, False, True]],
                                                                   1), 0.9, 0.8)
    assert adv[:, 0] == pytest.approx([1.4 + 0.72 * 3.43, 3.43, 1.5])
    assert adv[:, 1] == pytest.approx([1.4 + 0.72 * 4.726, 4.726, 3.3])


def test_gae_rejects_mismatched_shapes_and_bad_gamma():
    with pytest.raises(ValueError, match='values has shape'):
        gae(REWARDS, VALUES[:2], NEXT_VALUES, NO, NO, 0.9, 0.8)
    with pytest.raises(ValueError, match='gamma and lam'):
        gae(REWARDS, VALUES, NEXT_VALUES, NO, NO, 1.5, 0.8)


def test_replay_buffer_wraps_around_and_keeps_the_newest():
    buf = ReplayBuffer(5, obs_dim=2, action_shape=(), action_dtype=np.int64)
    for start in (0, 3, 6):                        # batches of 3: 9 transitions into 5 slots
        ids = np.arange(start, start + 3)
        buf.add(np.stack([ids, ids], 1), ids, ids, np.stack([ids, ids], 1) + 1, ids % 2)
    assert len(buf) == 5 and buf.pos == 4
    assert sorted(buf.rewards.tolist()) == [4, 5, 6, 7, 8]
    assert buf.rewards.tolist() == [5, 6, 7, 8, 4]             # slots 0..3 overwritten
    batch = buf.sample(64, np.random.default_rng(0))
    assert set(batch['rewards'].tolist()) <= {4, 5, 6, 7, 8}
    assert np.all(batch['actions'] == batch['rewards'])          # rows stay aligned
    assert np.all(batch['next_obs'][:, 0] == batch['obs'][:, 0] + 1)


def test_replay_buffer_state_round_trip_and_errors():
    buf = ReplayBuffer(4, obs_dim=1)
    buf.add(np.ones((3, 1)), np.ones(3), np.arange(3), np.ones((3, 1)), np.zeros(3))
    state = buf.state_dict()
    assert isinstance(state['obs'], torch.Tensor)
    other = ReplayBuffer(4, obs_dim=1)
    other.load_state_dict(state)
    assert (other.pos, other.size) == (3, 3)
    assert other.rewards.tolist() == [0, 1, 2, 0]
    with pytest.raises(ValueError, match='obs: checkpoint shape'):
        ReplayBuffer(8, obs_dim=1).load_state_dict(state)
    with pytest.raises(ValueError, match='empty replay buffer'):
        ReplayBuffer(2, obs_dim=1).sample(1, np.random.default_rng(0))
    with pytest.raises(ValueError, match='capacity must be > 0'):
        ReplayBuffer(0, obs_dim=1)


def test_rollout_buffer_fills_and_rejects_a_changed_env_count():
    buf = RolloutBuffer(2, obs_dim=1, action_shape=(1,))
    step = {k: np.zeros(3) for k in ('logprobs', 'values', 'next_values', 'rewards',
                                     'terminated', 'truncated')}
    buf.add(obs=np.zeros((3, 1)), actions=np.zeros((3, 1)), **step)
    with pytest.raises(ValueError, match='holds 3 envs'):
        buf.add(obs=np.zeros((2, 1)), actions=np.zeros((2, 1)), **step)
    buf.add(obs=np.zeros((3, 1)), actions=np.zeros((3, 1)), **step)
    assert buf.full
    with pytest.raises(RuntimeError, match='full'):
        buf.add(obs=np.zeros((3, 1)), actions=np.zeros((3, 1)), **step)


def test_running_mean_std_matches_numpy_over_batches():
    data = np.random.default_rng(1).normal(3.0, 2.0, size=(1000, 4))
    rms = RunningMeanStd((4,), epsilon=0.0 + 1e-12)
    for chunk in np.array_split(data, 7):
        rms.update(chunk)
    assert rms.mean == pytest.approx(data.mean(0), rel=1e-6)
    assert rms.var == pytest.approx(data.var(0), rel=1e-6)
    restored = RunningMeanStd((4,))
    restored.load_state_dict(rms.state_dict())
    assert restored.normalize(data[:2]) == pytest.approx(rms.normalize(data[:2]))


def test_config_defaults_overrides_and_coercion():
    cfg = build_config(PPOConfig, {'learning_rate': 1, 'hidden_sizes': [32]}, 'ppo')
    assert cfg.learning_rate == 1.0 and isinstance(cfg.learning_rate, float)
    assert cfg.hidden_sizes == (32,) and cfg.n_steps == PPOConfig().n_steps
    assert build_config(PPOConfig, {'target_kl': None}, 'ppo').target_kl is None
    assert build_config(QLearningConfig, {'low': [0, 1]}, 'q').low == (0.0, 1.0)


@pytest.mark.parametrize('overrides, message', [
    ({'learning_rat': 0.1},
     r"ppo: unknown config key 'learning_rat'; valid keys: .*learning_rate"),
    ({'n_steps': 2.5}, r"'n_steps' must be int, got 2.5"),
    ({'n_steps': True}, r"'n_steps' must be int"),
    ({'normalize_obs': 'yes'}, r"'normalize_obs' must be bool"),
    ({'learning_rate': '3e-4'}, r"'learning_rate' must be float"),
    ({'hidden_sizes': 64}, r"'hidden_sizes' must be a list of int"),
    ({'hidden_sizes': [64, 'a']}, r"'hidden_sizes' must be a list of int"),
    ({'target_kl': 'x'}, r"'target_kl' must be float"),
])
def test_config_rejects_bad_keys_and_types(overrides, message):
    with pytest.raises(ValueError, match=message):
        build_config(PPOConfig, overrides, 'ppo')


def test_linear_schedule_and_update_credit():
    assert [linear_schedule(1.0, 0.1, s, 10) for s in (0, 5, 10, 50)] == pytest.approx(
        [1.0, 0.55, 0.1, 0.1])
    assert linear_schedule(0.5, 0.1, 99, 0) == 0.5                 # 0 steps: constant
    credit = UpdateCredit(rate=0.25, warmup=4)
    credit.add(2, total=2)
    assert not credit.due()                                         # still warming up
    owed = []
    for total in range(3, 15):
        credit.add(1, total)
        owed.append(credit.take() if credit.due() else 0)
    assert owed == [0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0]              # one per four after warm-up
    credit = UpdateCredit(rate=2.5, warmup=0)
    credit.add(1, total=1)
    assert credit.take() == 2 and credit.credit == pytest.approx(0.5)


def test_q_learning_bins_continuous_values_and_clamps_outside():
    agent = QLearning(2, 3, config={'bins': [4, 2], 'low': [-1.0, 0.0], 'high': [1.0, 1.0]})
    obs = np.array([[-1.0, 0.0], [-0.49, 0.6], [0.99, 0.4], [5.0, 9.0], [-5.0, -9.0]])
    assert agent.state_index(obs.astype(np.float32)).tolist() == [0, 3, 6, 7, 0]
    with pytest.raises(ValueError, match='high > low'):
        QLearning(1, 2, config={'bins': [4], 'low': [1.0], 'high': [1.0]})
    with pytest.raises(ValueError, match="'low' and 'high' must both be empty"):
        QLearning(2, 2, config={'bins': [4, 4], 'low': [0.0]})
    with pytest.raises(ValueError, match='exceeds'):
        QLearning(3, 10, config={'bins': [1000, 1000, 1000]})


def test_ensemble_mlp_members_are_the_separate_mlps_it_replaces():
    torch.manual_seed(3)
    twin = EnsembleMLP(2, 5, 1, (16, 16), 'relu')
    torch.manual_seed(3)
    first, second = mlp(5, 1, (16, 16), 'relu'), mlp(5, 1, (16, 16), 'relu')
    x = torch.randn(7, 5)
    out = twin(x)
    assert out.shape == (2, 7, 1)
    torch.testing.assert_close(out[0], first(x))
    torch.testing.assert_close(out[1], second(x))
    out[1].sum().backward()                               # members do not share gradients
    assert twin.weights[0].grad[0].abs().sum() == 0 and twin.weights[0].grad[1].abs().sum() > 0


def test_clip_grad_norm_and_soft_update_match_the_torch_reference():
    torch.manual_seed(0)
    nets = [mlp(4, 2, (8,)), mlp(4, 2, (8,))]
    nets[1].load_state_dict(nets[0].state_dict())
    for net in nets:
        net(torch.randn(3, 4) * 10).pow(2).sum().backward()
    for p, q in zip(nets[0].parameters(), nets[1].parameters(), strict=True):
        q.grad = p.grad.clone()
    torch.nn.utils.clip_grad_norm_(nets[0].parameters(), 0.5)
    clip_grad_norm(list(nets[1].parameters()), 0.5)
    for p, q in zip(nets[0].parameters(), nets[1].parameters(), strict=True):
        torch.testing.assert_close(p.grad, q.grad)
    target, source = mlp(4, 2, (8,)), mlp(4, 2, (8,))
    expected = [0.9 * t + 0.1 * s for t, s in zip(target.parameters(), source.parameters(),
                                                  strict=True)]
    soft_update(target, source, 0.1)
    for t, e in zip(target.parameters(), expected, strict=True):
        torch.testing.assert_close(t.detach(), e.detach())


def test_gaussian_log_prob_and_entropy_match_torch_distributions():
    torch.manual_seed(0)
    policy = GaussianPolicy(torch.nn.Identity(), mlp(3, 2, (8,)), 2, init_log_std=-0.3)
    obs, gen = torch.randn(5, 3), torch.Generator().manual_seed(1)
    with torch.no_grad():
        raw, logprob = policy.sample_unclamped(obs, gen)
        dist = torch.distributions.Normal(torch.tanh(policy.mean_net(obs)),
                                          policy.log_std.exp().expand(5, 2))
        torch.testing.assert_close(logprob, dist.log_prob(raw).sum(-1))
        scored, entropy = policy.log_prob_entropy(obs, raw)
    torch.testing.assert_close(scored, logprob)
    torch.testing.assert_close(entropy, dist.entropy().sum(-1))


def test_an_action_at_a_bound_is_scored_by_the_mass_clamped_onto_it():
    mean, log_std = torch.tensor([0.9, -0.7, 0.2]), torch.tensor([-1.0, -0.5, 0.0])
    samples = torch.clamp(mean + log_std.exp() * torch.randn(400_000, 3,
                                                             generator=torch.Generator()
                                                             .manual_seed(0)), -1.0, 1.0)
    at_upper = (samples == 1.0).float().mean(0)
    at_lower = (samples == -1.0).float().mean(0)
    upper = clamped_log_prob(torch.ones(3), mean, log_std).exp()
    lower = clamped_log_prob(-torch.ones(3), mean, log_std).exp()
    torch.testing.assert_close(upper, at_upper, atol=3e-3, rtol=0.0)
    torch.testing.assert_close(lower, at_lower, atol=3e-3, rtol=0.0)
    # Inside the bounds, and beyond them (in-process PPO scores its unclamped samples): the
    # Gaussian density.
    inside = torch.tensor([0.5, 1.3, -1.2])
    normal = torch.distributions.Normal(mean, log_std.exp())
    torch.testing.assert_close(clamped_log_prob(inside, mean, log_std), normal.log_prob(inside))


def test_the_policy_gradient_of_executed_actions_is_unbiased_with_the_clamped_score():
    """E[f(a) d/dmean log p(a)] over executed actions = d/dmean E[f(a)] (score function).

    With f(a) = a the right side is the derivative of the clamped Gaussian's mean. Scoring the
    executed (clamped) actions with the plain density, as the graph did, misses it by far
    for a mean near the bound.
    """
    from robotrl_ros.agents.policies import expected_clamped

    mean = torch.tensor([0.85], requires_grad=True)
    std = torch.tensor([0.4])
    (exact,) = torch.autograd.grad(expected_clamped(mean, std).sum(), mean)
    noise = torch.randn(1_000_000, 1, generator=torch.Generator().manual_seed(1))
    executed = torch.clamp(mean.detach() + std * noise, -1.0, 1.0)
    log_p = clamped_log_prob(executed, mean, std.log())[:, 0]
    (censored,) = torch.autograd.grad((log_p * executed[:, 0]).mean(), mean)
    plain = ((executed - mean.detach()) / std ** 2 * executed).mean()
    assert censored.item() == pytest.approx(exact.item(), abs=0.01)
    assert abs(plain.item() - exact.item()) > 0.1


def test_sac_temperature_step_equals_autograd_on_the_alpha_loss(monkeypatch):
    import robotrl_ros.agents.sac as sac_module
    from robotrl_ros.agents.optim import LeanAdam

    agent = sac_module.SAC(4, 2, False, config={'learning_starts': 0, 'batch_size': 16}, seed=0)
    rng = np.random.default_rng(0)
    for _ in range(64):
        obs = rng.normal(size=(1, 4)).astype(np.float32)
        agent.observe(obs, rng.uniform(-1, 1, (1, 2)).astype(np.float32), np.array([0.0]), obs,
                      np.array([False]), np.array([False]))
    # The same step by autograd on alpha_loss = -(log_alpha * (logprob + target)).mean(), fed
    # the log-probs the agent computes: its actor update is wrapped to record them.
    logprobs = []
    actor_gradients = sac_module.actor_gradients

    def recording(*args):
        loss, logprob = actor_gradients(*args)
        logprobs.append(torch.from_numpy(logprob.copy()))
        return loss, logprob

    monkeypatch.setattr(sac_module, 'actor_gradients', recording)
    reference = agent.log_alpha.detach().clone().requires_grad_(True)
    optimizer = LeanAdam([reference], lr=agent.config.alpha_lr)
    for _ in range(5):
        agent._gradient_step()
        loss = sac_module.sac_alpha_loss(reference, logprobs[-1], agent.target_entropy)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        torch.testing.assert_close(agent.log_alpha.detach(), reference.detach())
    # Entropy above the target (-2 for 2-D actions) at the start: the temperature goes down.
    assert agent.log_alpha.item() < np.log(agent.config.alpha)


@pytest.mark.parametrize('desired_kl, direction', [(1e-9, 'down'), (10.0, 'up')])
def test_ppo_adaptive_learning_rate_follows_the_kl(desired_kl, direction):
    from robotrl_ros.agents.ppo import LR_BOUNDS
    from robotrl_ros.agents.registry import make_agent
    from robotrl_ros.tasks.registry import make_env

    env = make_env('reach')
    agent = make_agent('ppo', env, {'n_steps': 16, 'n_epochs': 2, 'learning_rate': 1e-3,
                                    'desired_kl': desired_kl}, seed=0)
    obs = np.zeros((1, env.observation_space.shape[0]), dtype=np.float32)
    rates = []
    for _ in range(3):
        while not agent.ready():
            action = agent.act(obs)
            agent.observe(obs, action, np.ones(1), obs, np.zeros(1, bool), np.zeros(1, bool))
        rates.append(agent.update()['learning_rate'])
    if direction == 'down':   # every minibatch moved the policy more than twice the desired KL
        assert rates[0] < 1e-3 and rates[2] < rates[0] and rates[2] >= LR_BOUNDS[0]
    else:                     # far below half of it: up to the upper bound, never past it
        assert rates[0] > 1e-3 and rates[2] == pytest.approx(LR_BOUNDS[1])
    constant = make_agent('ppo', env, {'n_steps': 16, 'learning_rate': 1e-3}, seed=0)
    while not constant.ready():
        constant.observe(obs, constant.act(obs), np.ones(1), obs, np.zeros(1, bool),
                         np.zeros(1, bool))
    assert constant.update()['learning_rate'] == 1e-3


def test_ppo_linear_mean_keeps_its_gradient_at_the_bound_and_exports_clamped():
    """``bounded_mean: false``: the mean is the network's output (SB3, CleanRL, rsl_rl)."""
    from robotrl_ros.agents.ppo import PPO
    from robotrl_ros.policy.numpy_inference import compile_numpy, numpy_equivalent

    obs = torch.zeros(1, 3)
    for bounded in (True, False):
        agent = PPO(3, 2, config={'bounded_mean': bounded, 'hidden_sizes': [8]}, seed=0)
        last = agent.policy.mean_net[-1]
        with torch.no_grad():
            last.bias[:] = torch.tensor([4.0, -4.0])     # a mean far beyond the action bound
            last.weight.zero_()
        logprob, _ = agent.policy.log_prob_entropy(obs, torch.tensor([[0.0, 0.0]]))
        grad = torch.autograd.grad(logprob.sum(), last.bias)[0]
        if bounded:     # tanh saturated: the mean cannot come back from the bound
            assert grad.abs().max() < 0.01
        else:           # pulled back towards the sampled action, full strength
            assert grad[0] < -1.0 and grad[1] > 1.0
        action = agent.act(obs.numpy(), deterministic=True)
        np.testing.assert_allclose(action, [[1.0, -1.0]], atol=1e-3)
        scripted = torch.jit.freeze(torch.jit.script(agent.policy_module().eval()))
        assert torch.equal(scripted(obs), agent.policy(obs))
        run = compile_numpy(scripted, 3)
        assert run is not None and numpy_equivalent(run, scripted, 3)
        assert set(agent.state_dict()['policy']) == {'normalizer.mean', 'normalizer.var',
                                                     'log_std', *(
                                                         f'mean_net.{k}' for k in
                                                         agent.policy.mean_net.state_dict())}


def test_expected_clamped_is_the_mean_of_the_clamped_gaussian():
    from robotrl_ros.agents.policies import expected_clamped

    mean = torch.tensor([-3.0, -1.0, -0.9, -0.3, 0.0, 0.5, 0.95, 1.0, 2.0], dtype=torch.float64)
    std = torch.tensor([0.3, 0.2, 0.5, 0.1, 1.0, 0.4, 0.05, 0.3, 0.6], dtype=torch.float64)
    noise = torch.randn(200_000, len(mean), generator=torch.Generator().manual_seed(0),
                        dtype=torch.float64)
    sampled = torch.clamp(mean + std * noise, -1.0, 1.0).mean(0)
    torch.testing.assert_close(expected_clamped(mean, std), sampled, atol=3e-3, rtol=0)
    # Far from the bounds it is the mean; at a bound it is pulled inside.
    inside = expected_clamped(torch.tensor([0.4]), torch.tensor([0.01]))
    torch.testing.assert_close(inside, torch.tensor([0.4]))
    assert expected_clamped(torch.tensor([1.0]), torch.tensor([0.3])) < 0.9


def test_ppo_expected_action_is_the_executed_actions_mean_in_every_export():
    """``expected_action``: a saturated tanh mean acts at what its clamped samples average."""
    from robotrl_ros.agents.policies import expected_clamped
    from robotrl_ros.agents.ppo import PPO
    from robotrl_ros.policy.numpy_inference import compile_numpy, numpy_equivalent

    obs = torch.zeros(1, 3)
    plain = PPO(3, 2, config={'hidden_sizes': [8]}, seed=0)
    agent = PPO(3, 2, config={'expected_action': True, 'hidden_sizes': [8]}, seed=0)
    for each in (plain, agent):
        last = each.policy.mean_net[-1]
        with torch.no_grad():
            last.bias[:] = torch.tensor([4.0, 0.2])     # one mean saturated, one inside
            last.weight.zero_()
            each.policy.log_std[:] = torch.tensor([-1.0, -3.0])
    want = expected_clamped(torch.tanh(torch.tensor([[4.0, 0.2]])),
                            torch.exp(torch.tensor([-1.0, -3.0])))
    action = agent.act(obs.numpy(), deterministic=True)
    np.testing.assert_allclose(action, want.numpy(), atol=1e-6)
    assert action[0, 0] < 0.9 and abs(action[0, 1] - np.tanh(0.2)) < 1e-3
    np.testing.assert_allclose(plain.act(obs.numpy(), deterministic=True),
                               np.tanh([[4.0, 0.2]]), atol=1e-6)
    # Training acts the same: the samples do not depend on the option.
    np.testing.assert_array_equal(agent.act(obs.numpy()), plain.act(obs.numpy()))
    scripted = torch.jit.freeze(torch.jit.script(agent.policy_module().eval()))
    torch.testing.assert_close(scripted(obs), agent.policy(obs))
    run = compile_numpy(scripted, 3)
    assert run is not None and numpy_equivalent(run, scripted, 3)


def test_ppo_scores_executed_actions_once_per_rollout_as_per_transition_would():
    """Graph transitions (actions the agent did not sample) are scored at update(), batched.

    The log-probabilities the update uses equal those of the networks when each transition
    came in, bound-clamped actions and normalized observations included.
    """
    from robotrl_ros.agents.ppo import PPO

    agent = PPO(3, 2, config={'n_steps': 6, 'n_minibatches': 1, 'n_epochs': 1,
                              'hidden_sizes': [8]}, seed=0)
    rng = np.random.default_rng(0)
    expected = []
    for _ in range(6):
        obs = rng.normal(size=(2, 3)).astype(np.float32) * 5.0
        action = np.clip(rng.normal(size=(2, 2)) * 1.5, -1.0, 1.0).astype(np.float32)
        with torch.no_grad():   # what the networks give as the transition comes in
            obs_n = agent.policy.normalizer(torch.from_numpy(obs))
            expected.append(agent.policy.log_prob_entropy(obs_n, torch.from_numpy(action))[0])
        agent.observe(obs, action, np.ones(2, np.float32), obs, np.zeros(2, bool),
                      np.zeros(2, bool))
    assert np.isnan(agent.buffer.data['logprobs']).all()    # nothing scored per transition
    assert (np.abs(agent.buffer.data['actions']) == 1.0).any()
    used = []
    gradients = agent._fast.gradients if agent._fast is not None else agent._torch_gradients

    def spy(mb, *args):
        used.append(mb.old_logprobs.copy())
        return gradients(mb, *args)

    if agent._fast is not None:
        agent._fast.gradients = spy
    else:
        agent._torch_gradients = spy
    agent.update()
    np.testing.assert_allclose(np.sort(np.concatenate(used)),
                               np.sort(torch.cat(expected).numpy()), rtol=1e-5, atol=1e-5)
