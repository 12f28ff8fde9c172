# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""NumPy evaluation of plain-MLP policies: same actions as TorchScript, or not used at all."""

import numpy as np
import pytest
import torch
from doubles.policy_networks import ACTIVATIONS, NormalizedMLP

from robotrl_ros.policy.artifact import load_artifact
from robotrl_ros.policy.export import export_artifact
from robotrl_ros.policy.numpy_inference import compile_numpy, numpy_equivalent
from robotrl_ros.policy.synthetic import make_synthetic_artifact
from robotrl_ros.tasks.reach import REACH_DISCRETE_SPEC, REACH_SPEC


class WithSoftmax(torch.nn.Module):
    """An op the translator does not know: it must refuse, not guess."""

    def __init__(self) -> None:
        super().__init__()
        self.net = torch.nn.Linear(12, 3)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.net(obs), dim=-1)


@pytest.mark.parametrize('activation', ACTIVATIONS, ids=lambda a: repr(a))
def test_translation_matches_torchscript(activation):
    network = torch.jit.script(NormalizedMLP(activation).eval())
    run = compile_numpy(network, 12)
    assert run is not None
    assert numpy_equivalent(run, network, 12)
    obs = np.random.default_rng(0).normal(scale=3.0, size=(64, 12)).astype(np.float32)
    with torch.inference_mode():
        expected = network(torch.from_numpy(obs)).numpy()
    got = run(obs)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, expected, atol=1e-6, rtol=1e-5)


def test_unknown_op_is_refused():
    assert compile_numpy(torch.jit.script(WithSoftmax().eval()), 12) is None


def test_a_wrong_translation_is_detected():
    network = torch.jit.script(NormalizedMLP(torch.nn.ReLU()).eval())
    run = compile_numpy(network, 12)

    def off_by_a_bit(obs: np.ndarray) -> np.ndarray:
        return run(obs) + np.float32(1e-3)

    assert not numpy_equivalent(off_by_a_bit, network, 12)
    assert not numpy_equivalent(lambda obs: run(obs)[:, :2], network, 12)   # wrong shape

    def raises(obs: np.ndarray) -> np.ndarray:
        raise RuntimeError('boom')

    assert not numpy_equivalent(raises, network, 12)


def test_synthetic_artifact_runs_on_numpy_with_the_same_actions(tmp_path):
    artifact = load_artifact(make_synthetic_artifact(tmp_path / 'policy'), allow_torchscript=True)
    assert artifact.backend == 'numpy'
    obs = np.random.default_rng(1).normal(size=(8, artifact.spec.obs_dim)).astype(np.float32)
    with torch.inference_mode():
        expected = artifact._torchscript.network(torch.from_numpy(obs)).numpy().astype(np.float64)
    np.testing.assert_allclose(artifact.act(obs), expected, atol=1e-6)
    np.testing.assert_allclose(artifact.act(obs[0]), expected[0], atol=1e-6)
    assert artifact.act(obs[0]).dtype == np.float64


def test_unsupported_networks_keep_torchscript(tmp_path):
    class Argmax(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = torch.nn.Linear(REACH_DISCRETE_SPEC.obs_dim, 27)

        def forward(self, obs: torch.Tensor) -> torch.Tensor:
            return torch.softmax(self.net(obs), dim=-1).argmax(dim=-1)   # softmax: unknown

    discrete = load_artifact(export_artifact(Argmax(), REACH_DISCRETE_SPEC, tmp_path / 'd',
                                             algorithm='dqn'), allow_torchscript=True)
    assert discrete.backend == 'torchscript'
    assert discrete.act(np.zeros(REACH_DISCRETE_SPEC.obs_dim)).shape == (3,)

    class Softmax(WithSoftmax):
        pass

    softmax = load_artifact(export_artifact(Softmax(), REACH_SPEC, tmp_path / 's',
                                            algorithm='x'), allow_torchscript=True)
    assert softmax.backend == 'torchscript'


def test_explore_stays_stochastic_on_a_numpy_artifact(tmp_path):
    class Gaussian(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = torch.nn.Linear(REACH_SPEC.obs_dim, 3)

        def forward(self, obs: torch.Tensor) -> torch.Tensor:
            return torch.tanh(self.net(obs))

        @torch.jit.export
        def explore(self, obs: torch.Tensor) -> torch.Tensor:
            mean = self.net(obs)
            return torch.tanh(mean + torch.randn_like(mean))

    artifact = load_artifact(export_artifact(Gaussian(), REACH_SPEC, tmp_path / 'g',
                                             algorithm='sac'), allow_torchscript=True)
    assert artifact.backend == 'numpy'
    obs = np.zeros(REACH_SPEC.obs_dim)
    assert not np.allclose(artifact.explore(obs), artifact.explore(obs))
    np.testing.assert_allclose(artifact.act(obs), artifact.act(obs))


@pytest.mark.parametrize('algo,task', [('ppo', 'reach'), ('sac', 'reach'), ('reinforce', 'reach'),
                                       ('ppo', 'reach_last_action')])
def test_trained_agents_export_numpy_runnable_policies(tmp_path, algo, task):
    from robotrl_ros.agents.registry import make_agent
    from robotrl_ros.tasks.registry import make_env

    env = make_env(task)
    agent = make_agent(algo, env, {}, 0)
    artifact = load_artifact(export_artifact(agent.policy_module(), env.task_spec,
                                             tmp_path / 'p', algorithm=algo))
    assert artifact.backend == 'numpy'


class Residual(torch.nn.Module):
    """Values read twice (x feeds two ops, h feeds the skip): no op may overwrite them."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(1)
        self.register_buffer('scale', torch.rand(12) + 0.5)
        self.a = torch.nn.Linear(12, 12)
        self.b = torch.nn.Linear(12, 12)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        x = obs * self.scale
        h = torch.tanh(self.a(x))
        return torch.tanh(self.b(h) + h + x)[:, :3]


def test_in_place_ops_never_overwrite_the_input_or_a_value_read_twice():
    network = torch.jit.script(Residual().eval())
    run = compile_numpy(network, 12)
    assert run is not None and 'out=' in run.source   # some ops do run in place
    obs = np.random.default_rng(2).normal(size=(5, 12)).astype(np.float32)
    before = obs.copy()
    with torch.inference_mode():
        expected = network(torch.from_numpy(before)).numpy()
    np.testing.assert_allclose(run(obs), expected, atol=1e-6)
    np.testing.assert_array_equal(obs, before)
    np.testing.assert_allclose(run(obs[:1]), expected[:1], atol=1e-6)   # and again, batch 1


def test_normalization_scale_is_folded_into_the_first_layer(tmp_path):
    artifact = load_artifact(make_synthetic_artifact(tmp_path / 'policy'), allow_torchscript=True)
    network, obs_dim = artifact._torchscript.network, artifact.spec.obs_dim
    folded = compile_numpy(network, obs_dim)
    plain = compile_numpy(network, obs_dim, fold_scales=False)
    # (obs - mean) / std -> linear: the division is gone, the rest is op for op the same.
    assert folded.source.count('\n') == plain.source.count('\n') - 1
    assert numpy_equivalent(folded, network, obs_dim) and numpy_equivalent(plain, network, obs_dim)
    assert '.dot(' in folded.source and 'index' not in folded.source


class Bounded(torch.nn.Module):
    def __init__(self, low: float, high: float) -> None:
        super().__init__()
        self.net = torch.nn.Linear(12, 3)
        self.low, self.high = low, high

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return torch.clamp(torch.tanh(self.net(obs)), self.low, self.high)


@pytest.mark.parametrize('low,high,bounds,kept', [(-1.0, 1.0, (-1.0, 1.0), False),
                                                  (-5.0, 5.0, (-1.0, 1.0), False),
                                                  (-2.0, 0.5, (-1.0, 0.5), True)])
def test_output_range_is_known_and_redundant_clamps_are_dropped(low, high, bounds, kept):
    network = torch.jit.script(Bounded(low, high).eval())
    run = compile_numpy(network, 12)
    assert run.bounds == bounds
    assert ('op' in run.source.splitlines()[-2]) == kept   # the clamp's line
    assert numpy_equivalent(run, network, 12)
    assert compile_numpy(torch.jit.script(torch.nn.Linear(12, 3).eval()), 12).bounds is None


def test_artifact_skips_its_own_clamp_only_for_a_proven_range(tmp_path):
    bounded = load_artifact(make_synthetic_artifact(tmp_path / 'a'))   # tanh, clamp(-1, 1)
    assert bounded._numpy_in_range
    obs = np.full(bounded.spec.obs_dim, 1e3)
    assert np.all(np.abs(bounded.act(obs)) <= 1.0)
    unbounded = load_artifact(export_artifact(torch.nn.Linear(REACH_SPEC.obs_dim, 3), REACH_SPEC,
                                              tmp_path / 'b', algorithm='x'),
                              allow_torchscript=True)
    assert unbounded.backend == 'numpy'    # export adds clamp(-1, 1): a proven range again
    network = unbounded._torchscript.network
    unbounded._numpy_in_range = False      # as for a graph whose range is unknown
    big = np.full(REACH_SPEC.obs_dim, 1e3)
    with torch.inference_mode():
        raw = network(torch.from_numpy(big[None].astype(np.float32))).numpy()[0]
    np.testing.assert_array_equal(unbounded.act(big), np.clip(raw, -1, 1))


def test_float_times_int_arrays_promote_as_torch_does():
    """float32 * int64 stays float32 (NumPy alone would compute in float64)."""
    from robotrl_ros.policy.numpy_program import program_from_data

    description = {'format': 'numpy_program', 'steps': [['aten::mul', [0, 1], 2],
                                                         ['aten::floor', [2], 3]],
                   'constants': {}, 'result': 3}
    bins = np.array([3, 7, 11], dtype=np.int64)
    run = program_from_data(description, {'v1': bins}).compile(3)
    obs = np.random.default_rng(0).uniform(-2, 2, size=(4096, 3)).astype(np.float32)
    expected = torch.floor(torch.from_numpy(obs) * torch.from_numpy(bins)).numpy()
    assert expected.dtype == np.float32
    np.testing.assert_array_equal(run(obs), expected)
    assert 'cast0_1' in run.source   # the constant was cast once, when compiled


def test_erf_matches_the_error_function_in_the_input_dtype():
    """The expected-action head's ``aten::erf``: vectorized, within float32 rounding."""
    import math

    from robotrl_ros.policy.numpy_ops import OPS

    erf = OPS['aten::erf'].fn
    x = np.concatenate([np.linspace(-6.0, 6.0, 20001), [np.inf, -np.inf, 0.0]])
    for dtype in (np.float32, np.float64):
        values = x.astype(dtype)
        got = erf(values)
        assert got.dtype == dtype
        np.testing.assert_allclose(got, [math.erf(v) for v in values.astype(np.float64)],
                                   atol=2e-7, rtol=0)
        into = values.copy()
        assert erf(into, out=into) is into
        np.testing.assert_array_equal(into, got)
    assert np.isnan(erf(np.array([np.nan], np.float32)))[0]
