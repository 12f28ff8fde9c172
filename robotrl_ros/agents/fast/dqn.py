# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""DQN's fast backend: the TD target and the TD loss's exact gradient in NumPy (see :mod:`.mlp`).

The loss is defined in torch in :mod:`robotrl_ros.agents.dqn` (``dqn_td_target``,
``dqn_td_loss``); ``test/agents/fast/test_fast_gradients.py`` checks this gradient against
autograd on it. With ``e = Q(s, a) - target`` over a batch of ``B``::

    huber (delta > 0):  loss = mean(0.5 e^2 if |e| < delta else delta (|e| - delta / 2))
                        dloss/dQ(s, a) = clamp(e, -delta, delta) / B
    squared (delta 0):  loss = mean(e^2),  dloss/dQ(s, a) = 2 e / B

and zero for the actions not taken.
"""

from __future__ import annotations

import numpy as np

from robotrl_ros.agents.fast.mlp import NumpyMLP


def td_target(q_net: NumpyMLP, target_net: NumpyMLP, batch: dict[str, np.ndarray],
              gamma: float, double_dqn: bool) -> np.ndarray:
    """``r + γ (1 - done) Q'(s', a*)``, ``a*`` the online (double DQN) or the target's argmax."""
    next_q_target = target_net(batch['next_obs'])
    rows = np.arange(len(next_q_target))
    if double_dqn:
        next_q = next_q_target[rows, q_net(batch['next_obs']).argmax(-1)]
    else:
        next_q = next_q_target.max(-1)
    return batch['rewards'] + gamma * (1.0 - batch['terminated']) * next_q


def td_gradients(q_net: NumpyMLP, batch: dict[str, np.ndarray], target: np.ndarray,
                 huber_delta: float, grads: list[np.ndarray]) -> tuple[float, np.ndarray]:
    """Write d(td_loss)/d(Q-network parameters) into ``grads``; return the loss and ``Q(s, a)``.

    Args:
        q_net: The online Q-network.
        batch: Replay minibatch (``obs``, ``actions``).
        target: TD targets ``[B]``.
        huber_delta: Huber threshold (0: squared error).
        grads: Output arrays in parameter order (weight, bias per layer), overwritten.
    """
    rows = np.arange(len(target))
    q_all, cache = q_net.forward(batch['obs'])
    q = q_all[rows, batch['actions']]
    error = q - target
    if huber_delta > 0:   # F.huber_loss and its gradient
        small = np.abs(error) < huber_delta
        loss = np.where(small, 0.5 * error * error,
                        huber_delta * (np.abs(error) - 0.5 * huber_delta)).mean()
        grad_q = np.clip(error, -huber_delta, huber_delta)
    else:                 # F.mse_loss
        loss = (error * error).mean()
        grad_q = 2.0 * error
    grad_out = np.zeros_like(q_all)
    grad_out[rows, batch['actions']] = grad_q / len(target)
    q_net.backward(cache, grad_out, grads)
    return float(loss), q
