# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Adam for small networks: the fused CPU kernel without the per-call Python machinery.

For the 64x64 MLPs of SAC, DQN and PPO, ``torch.optim.Adam(fused=True).step()`` spends more time
in generic bookkeeping (hooks, profiler records, regrouping tensors by device and dtype on every
call) than in the update. :class:`LeanAdam` is that optimizer with a short ``step()``: it keeps the
state tensors in cached lists and calls the same kernel (``torch._fused_adam_``) directly, so
parameters, optimizer state and ``state_dict()`` are bit-identical to ``torch.optim.Adam``
(tested). Anything the short path does not cover (a closure, amsgrad, several parameter groups,
a missing gradient, the first step) goes through ``torch.optim.Adam.step``. Unlike torch's
optimizers its ``step()`` is not wrapped for the profiler and step hooks (see
``_patch_step_function``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch

_PLAIN = {'amsgrad': False, 'maximize': False, 'capturable': False, 'differentiable': False,
          'decoupled_weight_decay': False}


class LeanAdam(torch.optim.Adam):
    """``torch.optim.Adam(params, lr, fused=True, **kwargs)`` with a cheaper ``step()``.

    Args:
        params: Parameters to optimize.
        lr: Learning rate (may be changed in ``param_groups`` between steps).
        **kwargs: Any other ``torch.optim.Adam`` argument.
    """

    def __init__(self, params: Iterable[torch.nn.Parameter], lr: float, **kwargs: Any) -> None:
        super().__init__(params, lr=lr, fused=True, **kwargs)
        self._cache: tuple[list[torch.Tensor], ...] | None = None
        group = self.param_groups[0]
        self._lean = (hasattr(torch, '_fused_adam_') and len(self.param_groups) == 1
                      and all(group.get(key, value) == value for key, value in _PLAIN.items())
                      and not isinstance(group['lr'], torch.Tensor))

    def _patch_step_function(self) -> None:
        # torch.optim.Optimizer wraps every optimizer class's step() in a profiler record plus
        # step-hook dispatch, a large share of a small network's step. LeanAdam
        # keeps step() unwrapped, so register_step_pre_hook/post_hook hooks are not called.
        self._zero_grad_profile_name = f'Optimizer.zero_grad#{type(self).__name__}.zero_grad'

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Drop the gradients (``set_to_none=False``: zero them, as Adam does)."""
        if not (self._lean and set_to_none):
            super().zero_grad(set_to_none)
            return
        for p in self.param_groups[0]['params']:
            p.grad = None

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:
        """One Adam update of every parameter that has a gradient."""
        if closure is not None or not self._lean:
            return super().step(closure)
        group = self.param_groups[0]
        grads = [p.grad for p in group['params']]
        if self._cache is None or any(g is None for g in grads):
            result = super().step()   # initialises the state on the first step
            self._cache = self._state_lists()
            return result
        params, exp_avgs, exp_avg_sqs, steps = self._cache
        beta1, beta2 = group['betas']
        torch._foreach_add_(steps, 1)
        try:
            torch._fused_adam_(params, grads, exp_avgs, exp_avg_sqs, [], steps, amsgrad=False,
                               lr=group['lr'], beta1=beta1, beta2=beta2,
                               weight_decay=group['weight_decay'], eps=group['eps'],
                               maximize=False, grad_scale=None, found_inf=None)
        except TypeError:  # another torch's kernel signature: use the generic path from now on
            torch._foreach_sub_(steps, 1)
            self._lean = False
            return super().step()
        return None

    def _state_lists(self) -> tuple[list[torch.Tensor], ...] | None:
        params = self.param_groups[0]['params']
        states = [self.state.get(p, {}) for p in params]
        if not all({'step', 'exp_avg', 'exp_avg_sq'} <= state.keys() for state in states):
            return None   # some parameter has no state yet: the next step initialises it
        return (list(params), [s['exp_avg'] for s in states], [s['exp_avg_sq'] for s in states],
                [s['step'] for s in states])

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load as ``torch.optim.Adam`` does; the cached state lists are rebuilt."""
        super().load_state_dict(state_dict)
        self._cache = None

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group as ``torch.optim.Adam`` does (the short ``step()`` is then off)."""
        super().add_param_group(param_group)
        if len(self.param_groups) > 1:
            self._lean = False
