# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""LeanAdam: bit-identical to torch.optim.Adam(fused=True), including state and resume."""

import copy

import pytest
import torch

from robotrl_ros.agents.optim import LeanAdam


def _net(seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.Tanh(), torch.nn.Linear(16, 2))


def _train(net, optimizer, steps, seed=1, lr_at=None):
    generator = torch.Generator().manual_seed(seed)
    for i in range(steps):
        if lr_at is not None and i == lr_at:
            optimizer.param_groups[0]['lr'] = 1e-4
        x = torch.randn(32, 6, generator=generator)
        loss = net(x).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def _same(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    return all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))


@pytest.mark.parametrize('kwargs', [{}, {'weight_decay': 0.01, 'betas': (0.8, 0.95),
                                         'eps': 1e-6}])
def test_updates_and_state_are_bit_identical_to_torch_adam(kwargs):
    ours, reference = _net(), _net()
    lean = LeanAdam(ours.parameters(), lr=3e-3, **kwargs)
    adam = torch.optim.Adam(reference.parameters(), lr=3e-3, fused=True, **kwargs)
    _train(ours, lean, 25, lr_at=10)
    _train(reference, adam, 25, lr_at=10)
    assert _same(ours, reference)
    for mine, theirs in zip(lean.state_dict()['state'].values(),
                            adam.state_dict()['state'].values(), strict=True):
        assert all(torch.equal(mine[k], theirs[k]) for k in ('step', 'exp_avg', 'exp_avg_sq'))


def test_resume_from_a_state_dict_continues_exactly():
    net = _net()
    lean = LeanAdam(net.parameters(), lr=1e-3)
    _train(net, lean, 5)
    saved_net, saved_opt = copy.deepcopy(net.state_dict()), copy.deepcopy(lean.state_dict())
    _train(net, lean, 5, seed=2)

    resumed = _net(seed=3)
    resumed.load_state_dict(saved_net)
    other = LeanAdam(resumed.parameters(), lr=1e-3)
    # load_state_dict keeps the given tensors (as torch.optim.Adam does): give each a copy.
    other.load_state_dict(copy.deepcopy(saved_opt))   # written by LeanAdam, read back
    _train(resumed, other, 5, seed=2)
    assert _same(net, resumed)

    reference = _net(seed=3)
    reference.load_state_dict(saved_net)
    adam = torch.optim.Adam(reference.parameters(), lr=1e-3, fused=True)
    adam.load_state_dict(copy.deepcopy(saved_opt))    # ... and by torch.optim.Adam
    _train(reference, adam, 5, seed=2)
    assert _same(net, reference)


def test_parameters_without_a_gradient_are_left_alone():
    net = _net()
    lean = LeanAdam(net.parameters(), lr=1e-2)
    _train(net, lean, 2)
    frozen = net[2].weight.detach().clone()
    net[2].weight.requires_grad_(False)
    _train(net, lean, 3)
    assert torch.equal(net[2].weight, frozen)
    assert lean.state[net[2].weight]['step'].item() == 2


def test_options_outside_the_short_path_use_torch_adam():
    ours, reference = _net(), _net()
    lean = LeanAdam(ours.parameters(), lr=1e-2, amsgrad=True)
    adam = torch.optim.Adam(reference.parameters(), lr=1e-2, amsgrad=True, fused=True)
    assert not lean._lean
    _train(ours, lean, 5)
    _train(reference, adam, 5)
    assert _same(ours, reference)


def test_step_is_not_wrapped_by_the_profiler_hook():
    """LeanAdam.step skips the profiler record that torch wraps optimizer steps in (~50 us)."""
    params = [torch.nn.Parameter(torch.ones(3))]
    optimizer = LeanAdam(params, lr=0.1)
    assert not getattr(LeanAdam.step, 'hooked', False)
    params[0].grad = torch.ones(3)
    optimizer.step()    # the first step initializes the state through torch's Adam.step
    with torch.autograd.profiler.profile() as prof:
        optimizer.step()
    assert not any('Optimizer.step#' in event.name for event in prof.function_events)
    assert torch.all(params[0] < 0.85)
    stock = torch.optim.Adam([torch.nn.Parameter(torch.ones(3))], lr=0.1)
    assert getattr(type(stock).step, 'hooked', False)   # what the check above would catch
