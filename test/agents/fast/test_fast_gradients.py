# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The fast (NumPy) backend equals the torch losses: MLP passes, acting, PPO, DQN and SAC.

Every gradient is compared with autograd on the torch loss function of the algorithm's module
(``ppo_loss``, ``dqn_td_loss``, ``sac_critic_loss``, ``sac_actor_loss``, ``sac_alpha_loss``).
"""

import numpy as np
import pytest
import torch

from robotrl_ros.agents.buffers import RolloutMinibatch
from robotrl_ros.agents.dqn import DQN, dqn_td_loss, dqn_td_target
from robotrl_ros.agents.fast.mlp import FlatGrads, NumpyMLP, numpy_normalize
from robotrl_ros.agents.fast.sac import (
    SquashedSample,
    actor_gradients,
    alpha_gradient,
    critic_gradients,
    soft_td_target,
)
from robotrl_ros.agents.networks import EnsembleMLP, ObsNormalizer, mlp
from robotrl_ros.agents.ppo import PPO, _minibatch_normalized, ppo_loss
from robotrl_ros.agents.sac import (
    SAC,
    sac_actor_loss,
    sac_alpha_loss,
    sac_critic_loss,
    sac_td_target,
)


def _random(rng, *shape, scale=1.0):
    return (scale * rng.normal(size=shape)).astype(np.float32)


@pytest.mark.parametrize('activation', ['tanh', 'relu', 'elu'])
def test_numpy_mlp_forward_and_backward_equal_autograd(activation):
    torch.manual_seed(0)
    net = mlp(5, 3, (16, 16), activation)
    fast = NumpyMLP(net)
    x = _random(np.random.default_rng(0), 32, 5, scale=3.0)
    out, cache = fast.forward(x)
    grad_out = _random(np.random.default_rng(1), 32, 3)
    x_t = torch.from_numpy(x)
    (net(x_t) * torch.from_numpy(grad_out)).sum().backward()
    grads = [np.empty_like(p.detach().numpy()) for p in net.parameters()]
    fast.backward(cache, grad_out, grads)
    np.testing.assert_allclose(out, net(x_t).detach().numpy(), atol=1e-5)
    np.testing.assert_allclose(fast(x), out, atol=1e-6)
    for got, param in zip(grads, net.parameters(), strict=True):
        np.testing.assert_allclose(got, param.grad.numpy(), atol=1e-4, rtol=1e-4)


def test_numpy_ensemble_forward_backward_and_input_gradient_equal_autograd():
    torch.manual_seed(0)
    net = EnsembleMLP(2, 5, 1, (16, 16), 'relu')
    fast = NumpyMLP(net)
    x = _random(np.random.default_rng(0), 32, 5)
    x_t = torch.from_numpy(x).requires_grad_(True)
    grad_out = _random(np.random.default_rng(1), 2, 32, 1)
    (net(x_t) * torch.from_numpy(grad_out)).sum().backward()
    out, cache = fast.forward(x)
    grads = [np.empty_like(p.detach().numpy()) for p in net.parameters()]
    grad_input = fast.backward(cache, grad_out, grads, input_grad=True)
    np.testing.assert_allclose(out, net(x_t).detach().numpy(), atol=1e-5)
    np.testing.assert_allclose(grad_input.sum(0), x_t.grad.numpy(), atol=1e-5)
    for got, param in zip(grads, net.parameters(), strict=True):
        np.testing.assert_allclose(got, param.grad.numpy(), atol=1e-5, rtol=1e-4)
    assert fast.backward(cache, grad_out) is None     # frozen: no parameter gradients


def test_numpy_mlp_shares_the_torch_weights():
    torch.manual_seed(0)
    net = mlp(4, 2, (8,))
    fast = NumpyMLP(net)
    x = _random(np.random.default_rng(0), 3, 4)
    with torch.no_grad():
        net[0].weight.add_(0.5)                    # an optimizer step is in place ...
    net.load_state_dict(mlp(4, 2, (8,)).state_dict())   # ... and so is load_state_dict
    np.testing.assert_allclose(fast(x), net(torch.from_numpy(x)).detach().numpy(), atol=1e-6)


def test_numpy_mlp_rejects_other_layers():
    with pytest.raises(TypeError, match='unsupported layer'):
        NumpyMLP(torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Softplus()))
    with pytest.raises(TypeError, match='unsupported layer'):
        NumpyMLP(torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.ELU(alpha=0.5)))
    with pytest.raises(TypeError, match='float32'):
        NumpyMLP(torch.nn.Sequential(torch.nn.Linear(2, 2).double()))


def test_numpy_normalize_equals_the_module():
    norm = ObsNormalizer(4, clip=2.0)
    norm.set_stats(torch.tensor([0.0, 1.0, -1.0, 5.0]), torch.tensor([1.0, 0.01, 4.0, 1e-6]))
    obs = _random(np.random.default_rng(0), 10, 4, scale=3.0)
    np.testing.assert_allclose(numpy_normalize(norm, obs),
                               norm(torch.from_numpy(obs)).numpy(), atol=1e-5)
    assert numpy_normalize(ObsNormalizer(4, enabled=False), obs) is obs


def test_flat_grads_clip_like_clip_grad_norm():
    params = [torch.nn.Parameter(torch.zeros(3, 2)), torch.nn.Parameter(torch.zeros(2))]
    grads = FlatGrads(params)
    grads.views[0][...] = 3.0
    grads.views[1][...] = 4.0
    grads.install()
    total = np.sqrt(6 * 9 + 2 * 16)
    grads.clip_norm(1.0)
    assert params[0].grad.data_ptr() == grads.flat.data_ptr()
    np.testing.assert_allclose(params[0].grad.numpy(), 3.0 / (total + 1e-6), rtol=1e-6)
    grads.clip_norm(100.0)   # below the limit: unchanged
    np.testing.assert_allclose(params[1].grad.numpy(), 4.0 / (total + 1e-6), rtol=1e-6)


def _minibatch(agent, rng, size=48, clamped=False):
    obs = _random(rng, size, agent.obs_dim)
    with torch.no_grad():
        mean = agent.policy(torch.from_numpy(obs)).numpy()
    actions = (mean + 0.6 * rng.normal(size=mean.shape)).astype(np.float32)
    if clamped:     # executed actions, as the graph observes them: many at a bound
        actions = np.clip(mean + 1.5 * rng.normal(size=mean.shape), -1.0, 1.0).astype(
            np.float32)
    with torch.no_grad():
        logprob = agent.policy.log_prob_entropy(torch.from_numpy(obs),
                                                torch.from_numpy(actions))[0].numpy()
        values = agent.critic(torch.from_numpy(obs))[:, 0].numpy()
    # Old log-probs and values shifted so that ratios and value errors fall on both sides of
    # the clip range.
    return RolloutMinibatch(obs=obs, actions=actions,
                            old_logprobs=(logprob + rng.uniform(-0.5, 0.5, size)).astype(
                                np.float32),
                            old_values=(values + rng.uniform(-0.5, 0.5, size)).astype(
                                np.float32),
                            advantages=_random(rng, size), returns=_random(rng, size))


def _ppo_loss(agent, mb):
    cfg = agent.config
    return ppo_loss(agent.policy, agent.critic, mb, cfg.clip_coef, cfg.clip_value_loss,
                    cfg.vf_coef, cfg.ent_coef)


def _fast_gradients(agent, mb):
    cfg = agent.config
    return agent._fast.gradients(mb, cfg.clip_coef, cfg.clip_value_loss, cfg.vf_coef,
                                 cfg.ent_coef, cfg.max_grad_norm)


@pytest.mark.parametrize('config, clamped', [
    ({}, False),
    ({'clip_value_loss': False, 'ent_coef': 0.01, 'activation': 'relu'}, False),
    ({'ent_coef': 0.05, 'activation': 'elu', 'vf_coef': 2.0, 'clip_coef': 0.1}, False),
    ({'bounded_mean': False, 'activation': 'elu'}, False),
    ({}, True),
    ({'bounded_mean': False, 'activation': 'elu'}, True),
])
def test_numpy_minibatch_gradient_equals_autograd(config, clamped):
    agent = PPO(5, 3, config={'max_grad_norm': 1e9, 'hidden_sizes': (32, 32), **config}, seed=1)
    with torch.no_grad():
        agent.policy.log_std[0] = 2.5       # beyond LOG_STD_MAX: the clamp has no gradient
    mb = _minibatch(agent, np.random.default_rng(0), clamped=clamped)
    if clamped:     # the clamped-tail score is exercised
        assert 0.1 < np.mean(np.abs(mb.actions) == 1.0) < 0.9
    terms = _ppo_loss(agent, mb)
    params = agent._fast.grads.params
    expected = torch.autograd.grad(terms.loss, params)
    torch_losses = torch.stack([terms.policy_loss, terms.value_loss, terms.entropy]).detach()
    assert all(g.abs().sum() > 0 for g in expected[:6])
    losses, ratio, _ = _fast_gradients(agent, mb)
    assert 0 < np.mean(np.abs(ratio - 1) > agent.config.clip_coef) < 1   # both regimes hit
    np.testing.assert_allclose(losses, torch_losses.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ratio, terms.ratio.detach().numpy(), rtol=1e-5)
    for param, want in zip(params, expected, strict=True):
        assert param.grad is not None
        np.testing.assert_allclose(param.grad.numpy(), want.numpy(), rtol=1e-4, atol=1e-6)
    assert agent._fast.grads.views[6][0] == 0.0     # log_std[0] is clamped


def test_numpy_minibatch_gradient_is_clipped_like_torch():
    agent = PPO(5, 2, config={'max_grad_norm': 0.05}, seed=2)
    mb = _minibatch(agent, np.random.default_rng(3))
    agent._torch_gradients(mb)         # autograd on ppo_loss, then clip_grad_norm
    params = agent._fast.grads.params
    expected = [p.grad.clone() for p in params]
    _fast_gradients(agent, mb)
    total = np.sqrt(sum(float((p.grad ** 2).sum()) for p in params))
    assert total == pytest.approx(0.05, rel=1e-4)
    for param, want in zip(params, expected, strict=True):
        np.testing.assert_allclose(param.grad.numpy(), want.numpy(), rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize('bounded_mean', [True, False])
def test_numpy_act_samples_like_torch(bounded_mean):
    agent = PPO(4, 2, config={'bounded_mean': bounded_mean}, seed=0)
    agent.policy.normalizer.set_stats(torch.tensor([1.0, 0, 0, 2]), torch.tensor([4.0, 1, 1, 9]))
    obs = _random(np.random.default_rng(0), 6, 4)
    generator_state = agent.rng.torch.get_state()
    action = agent.act(obs)
    _, _, raw, logprob = agent._last_sample
    agent.rng.torch.set_state(generator_state)
    with torch.no_grad():
        obs_n = agent.policy.normalizer(torch.from_numpy(obs))
        want_raw, want_logprob = agent.policy.sample_unclamped(obs_n, agent.rng.torch)
    np.testing.assert_allclose(raw, want_raw.numpy(), atol=1e-5)
    np.testing.assert_allclose(logprob, want_logprob.numpy(), atol=1e-5)
    np.testing.assert_array_equal(action, np.clip(raw, -1, 1))
    assert action.dtype == np.float32


def test_update_matches_the_autograd_path():
    """Whole rollouts and updates through either backend end at the same losses and weights.

    Adam divides by the gradient's scale, so float32 rounding differences stay tiny.
    """
    agents = [PPO(4, 2, config={'n_steps': 8, 'n_minibatches': 2, 'n_epochs': 3,
                                'backend': backend}, seed=0)
              for backend in ('fast', 'torch')]     # torch: the reference (autograd) path
    assert agents[1]._fast is None
    rng = np.random.default_rng(0)
    metrics = []
    for agent in agents:
        rng = np.random.default_rng(0)
        for _ in range(8):
            obs = _random(rng, 5, 4)
            agent.observe(obs, agent.act(obs), rng.normal(size=5), _random(rng, 5, 4),
                          rng.random(5) < 0.1, np.zeros(5, bool))
        metrics.append(agent.update())
    for key in metrics[1]:
        assert metrics[0][key] == pytest.approx(metrics[1][key], rel=1e-3, abs=1e-5), key
    for fast, ref in zip(agents[0]._params, agents[1]._params, strict=True):
        np.testing.assert_allclose(fast.detach().numpy(), ref.detach().numpy(), atol=1e-4)


def test_minibatch_normalization_equals_per_minibatch_torch():
    adv = _random(np.random.default_rng(0), 23)
    got = _minibatch_normalized(adv, 5)     # four minibatches of 5 and one of 3
    for start in range(0, 23, 5):
        chunk = torch.from_numpy(adv[start:start + 5])
        want = (chunk - chunk.mean()) / (chunk.std() + 1e-8)
        np.testing.assert_allclose(got[start:start + 5], want.numpy(), atol=1e-6)
    single = _minibatch_normalized(adv[:11], 5)     # a last minibatch of one stays as is
    assert single[10] == adv[10]


def _dqn_reference_gradients(agent, batch):
    """Autograd on the package's DQN TD loss (``dqn_td_target``, ``dqn_td_loss``)."""
    cfg = agent.config
    target = dqn_td_target(agent.q_net, agent.target_net, torch.from_numpy(batch['rewards']),
                           torch.from_numpy(batch['next_obs']),
                           torch.from_numpy(batch['terminated']), cfg.gamma, cfg.double_dqn)
    loss, _ = dqn_td_loss(agent.q_net, torch.from_numpy(batch['obs']),
                          torch.from_numpy(batch['actions']), target, cfg.huber_delta)
    grads = torch.autograd.grad(loss, list(agent.q_net.parameters()))
    return float(loss.detach()), [g.numpy() for g in grads]


@pytest.mark.parametrize('config', [{}, {'double_dqn': False, 'huber_delta': 0.0},
                                    {'huber_delta': 0.5}])
def test_dqn_gradient_equals_autograd(config):
    agent = DQN(4, 3, config={'max_grad_norm': 1e9, 'batch_size': 64, 'learning_starts': 0,
                              **config}, seed=0)
    rng = np.random.default_rng(0)
    agent.observe(_random(rng, 200, 4), rng.integers(0, 3, 200), 3 * rng.normal(size=200),
                  _random(rng, 200, 4), rng.random(200) < 0.2, np.zeros(200, bool))
    with torch.no_grad():
        for param in agent.target_net.parameters():   # a target that differs from the online net
            param.add_(0.1 * torch.randn_like(param))
    state = agent.rng.np.bit_generator.state
    loss, want = _dqn_reference_gradients(agent, agent.buffer.sample(64, agent.rng.np))
    agent.rng.np.bit_generator.state = state
    metrics = agent._gradient_step()
    assert metrics['td_loss'] == pytest.approx(loss, rel=1e-5)
    for param, expected in zip(agent.q_net.parameters(), want, strict=True):
        np.testing.assert_allclose(param.grad.numpy(), expected, rtol=1e-4, atol=1e-6)


def test_dqn_acts_greedily_with_the_current_weights():
    agent = DQN(4, 5, seed=0)
    obs = _random(np.random.default_rng(0), 7, 4)
    with torch.no_grad():
        agent.q_net[-1].bias.copy_(torch.tensor([0, 0, 50.0, 0, 0]))
    np.testing.assert_array_equal(agent.act(obs, deterministic=True), np.full(7, 2))
    np.testing.assert_array_equal(agent.act(obs, deterministic=True),
                                  agent.policy(torch.from_numpy(obs)).numpy())


def test_limit_threads_caps_torch_and_blas():
    from threadpoolctl import threadpool_info

    from robotrl_ros.util.threads import limit_threads

    try:
        assert limit_threads(2)
        assert torch.get_num_threads() == 2
        assert {pool['num_threads'] for pool in threadpool_info()
                if pool['user_api'] == 'blas'} == {2}
    finally:
        limit_threads(1)
    assert {pool['num_threads'] for pool in threadpool_info() if pool['user_api'] == 'blas'} == {1}
    with pytest.raises(ValueError, match='at least one thread'):
        limit_threads(0)


def _sac_with_data(seed=0):
    agent = SAC(5, 2, config={'learning_starts': 0, 'batch_size': 32}, seed=seed)
    rng = np.random.default_rng(seed)
    agent.observe(_random(rng, 100, 5), rng.uniform(-1, 1, (100, 2)), rng.normal(size=100),
                  _random(rng, 100, 5), rng.random(100) < 0.2, np.zeros(100, bool))
    with torch.no_grad():
        agent.actor.net[-1].bias[2] = -6.0   # log std of action 0 below LOG_STD_MIN: clamped
        for param in agent.q_target.parameters():
            param.add_(0.1 * torch.randn_like(param))
    return agent, agent.buffer.sample(32, np.random.default_rng(1))


def test_sac_squashed_sample_equals_torch_rsample():
    agent, batch = _sac_with_data()
    sample = SquashedSample(agent._actor_np, batch['obs'], torch.Generator().manual_seed(5))
    with torch.no_grad():
        action, logprob = agent.actor.rsample(torch.from_numpy(batch['obs']),
                                              torch.Generator().manual_seed(5))
    np.testing.assert_allclose(sample.action, action.numpy(), atol=1e-6)
    np.testing.assert_allclose(sample.logprob, logprob.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(agent.act(batch['obs'], deterministic=True),
                               agent.actor(torch.from_numpy(batch['obs'])).detach().numpy(),
                               atol=1e-6)


def test_sac_critic_gradient_equals_autograd():
    agent, batch = _sac_with_data()
    target = _random(np.random.default_rng(2), 32)
    obs_action = np.concatenate([batch['obs'], batch['actions']], 1)
    loss, q = sac_critic_loss(agent.q, torch.from_numpy(batch['obs']),
                              torch.from_numpy(batch['actions']), torch.from_numpy(target))
    want = torch.autograd.grad(loss, list(agent.q.parameters()))
    got_loss, q_mean = critic_gradients(agent._q_np, obs_action, target, agent._q_grads.views)
    assert got_loss == pytest.approx(float(loss.detach()), rel=1e-5)
    assert q_mean == pytest.approx(float(q[0].mean().detach()), abs=1e-6)
    for got, expected in zip(agent._q_grads.views, want, strict=True):
        np.testing.assert_allclose(got, expected.numpy(), rtol=1e-4, atol=1e-6)


def test_sac_actor_gradient_equals_autograd():
    agent, batch = _sac_with_data()
    obs, alpha = batch['obs'], 0.3
    loss, logprob = sac_actor_loss(agent.actor, agent.q, torch.from_numpy(obs), alpha,
                                   torch.Generator().manual_seed(7))
    want = torch.autograd.grad(loss, list(agent.actor.parameters()))
    got_loss, got_logprob = actor_gradients(agent._actor_np, agent._q_np, obs, alpha,
                                            torch.Generator().manual_seed(7),
                                            agent._actor_grads.views)
    assert got_loss == pytest.approx(float(loss.detach()), rel=1e-5)
    np.testing.assert_allclose(got_logprob, logprob.detach().numpy(), rtol=1e-5, atol=1e-5)
    for got, expected in zip(agent._actor_grads.views, want, strict=True):
        np.testing.assert_allclose(got, expected.numpy(), rtol=1e-4, atol=1e-6)
    assert np.all(agent._actor_grads.views[-1][2] == 0.0)     # the clamped log std
    assert np.any(agent._actor_grads.views[-1][3] != 0.0)


def test_sac_td_target_equals_torch():
    agent, batch = _sac_with_data()
    alpha, gamma = 0.3, 0.9
    got = soft_td_target(agent._actor_np, agent._q_target_np, batch['rewards'],
                         batch['next_obs'], batch['terminated'], gamma, alpha,
                         torch.Generator().manual_seed(3))
    want = sac_td_target(agent.actor, agent.q_target, torch.from_numpy(batch['rewards']),
                         torch.from_numpy(batch['next_obs']),
                         torch.from_numpy(batch['terminated']), gamma, alpha,
                         torch.Generator().manual_seed(3))
    assert got.dtype == np.float32 and got.shape == (32,)
    assert batch['terminated'].any() and not batch['terminated'].all()
    np.testing.assert_allclose(got, want.numpy(), rtol=1e-5, atol=1e-5)


def test_sac_alpha_gradient_equals_autograd():
    logprob = _random(np.random.default_rng(0), 32, scale=2.0)
    log_alpha = torch.tensor(-0.7, requires_grad=True)
    loss = sac_alpha_loss(log_alpha, torch.from_numpy(logprob), -2.0)
    (want,) = torch.autograd.grad(loss, [log_alpha])
    got = alpha_gradient(logprob, -2.0)
    assert got.shape == log_alpha.shape
    assert float(got) == pytest.approx(float(want), rel=1e-6)


def _fill(agent, n=300, seed=0):
    rng = np.random.default_rng(seed)
    discrete = agent.name == 'dqn'
    actions = (rng.integers(0, agent.n_actions, n) if discrete
               else rng.uniform(-1, 1, (n, agent.action_dim)))
    agent.observe(_random(rng, n, agent.obs_dim), actions, rng.normal(size=n),
                  _random(rng, n, agent.obs_dim), rng.random(n) < 0.2, np.zeros(n, bool))


@pytest.mark.parametrize('algo, config', [
    ('sac', {'policy_frequency': 2}),
    ('dqn', {'target_update_interval': 3}),
    ('dqn', {'double_dqn': False, 'huber_delta': 0.0, 'tau': 0.5, 'max_grad_norm': 0.1,
             'target_update_interval': 2}),
])
def test_gradient_steps_equal_between_backends(algo, config):
    """Several whole steps (targets, losses, optimizers, target nets) on either backend agree."""
    cls, obs_dim, act_dim = (SAC, 5, 2) if algo == 'sac' else (DQN, 4, 3)
    agents = [cls(obs_dim, act_dim, algo == 'dqn', seed=0,
                  config={'learning_starts': 0, 'batch_size': 32, 'backend': backend, **config})
              for backend in ('fast', 'torch')]
    metrics = []
    for agent in agents:
        _fill(agent)
        metrics.append([agent._gradient_step() for _ in range(6)])
    for fast, ref in zip(*metrics, strict=True):
        assert fast.keys() == ref.keys()
        for key in ref:
            assert fast[key] == pytest.approx(ref[key], rel=1e-4, abs=1e-5), key
    assert 'actor_loss' in metrics[0][1] or algo == 'dqn'
    states = [agent.state_dict() for agent in agents]
    initial = cls(obs_dim, act_dim, algo == 'dqn', seed=0, config=config).state_dict()
    for name in ('q', 'q_target', 'actor', 'log_alpha', 'q_net', 'target_net'):
        if name in states[0]:
            fast, ref, start = (torch.nn.utils.parameters_to_vector(
                [state[name]] if name == 'log_alpha' else state[name].values())
                for state in (*states, initial))
            assert not torch.equal(fast, start), f'{name} did not learn'
            torch.testing.assert_close(fast, ref, rtol=1e-4, atol=1e-5)
    obs = _random(np.random.default_rng(9), 8, obs_dim)
    np.testing.assert_allclose(agents[0].act(obs, deterministic=True),
                               agents[1].act(obs, deterministic=True), atol=1e-5)
