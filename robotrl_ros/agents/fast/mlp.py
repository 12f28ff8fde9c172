# Copyright 2026 robotrl_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The agents' small MLPs evaluated and differentiated in NumPy, on views of the torch weights.

A 64x64 MLP on a minibatch of 64 is a few microseconds of arithmetic per layer, and torch's
per-op dispatch and autograd bookkeeping cost several times that on a CPU. :class:`NumpyMLP`
runs the same network in NumPy: a forward pass for acting during rollouts, and a forward pass
with cached activations plus the exact backward pass for gradients (PPO's minibatch update, see
:mod:`robotrl_ros.agents.fast.ppo`).

The arrays *share memory* with the torch parameters (``Tensor.numpy()`` views), so they follow
every in-place update: optimizer steps, Polyak averaging, ``load_state_dict``. The torch modules
stay the source of truth (checkpoints, TorchScript export); results equal torch's up to float32
rounding (tested against autograd).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from robotrl_ros.agents.fast.activations import elu
from robotrl_ros.agents.networks import EnsembleMLP, ObsNormalizer

_F32 = np.float32


def _tanh_grad(grad: np.ndarray, out: np.ndarray) -> np.ndarray:
    return grad * (1.0 - out * out)


def _relu_grad(grad: np.ndarray, out: np.ndarray) -> np.ndarray:
    return grad * (out > 0.0)


def _elu_grad(grad: np.ndarray, out: np.ndarray) -> np.ndarray:
    # y = x for x > 0, exp(x) - 1 otherwise: dy/dx = 1 or exp(x) = y + 1, i.e. min(y + 1, 1)
    # (three in-place ops instead of np.where's four full passes).
    slope = out + _F32(1.0)
    np.minimum(slope, _F32(1.0), out=slope)
    slope *= grad
    return slope


# activation module -> (forward, backward from the activation's output)
_ACTIVATIONS = {
    nn.Tanh: (np.tanh, _tanh_grad),
    nn.ReLU: (lambda x: np.maximum(x, _F32(0.0)), _relu_grad),
    nn.ELU: (elu, _elu_grad),
}


class NumpyMLP:
    """Forward and backward passes of an agent's MLP in NumPy.

    Args:
        net: An :func:`~robotrl_ros.agents.networks.mlp` (``nn.Sequential`` of ``nn.Linear``
            layers with bias, each optionally followed by one Tanh, ReLU or ELU with default
            arguments) or an :class:`~robotrl_ros.agents.networks.EnsembleMLP`; float32, CPU.

    Raises:
        TypeError: For any other layer or layout (use torch for those networks).
    """

    def __init__(self, net: nn.Module) -> None:
        self.weights: list[np.ndarray] = []          # as ``x @ W``: [in, out] or [n, in, out]
        self.biases: list[np.ndarray] = []
        self.activations: list[tuple | None] = []    # after each linear layer
        self._torch_layout = not isinstance(net, EnsembleMLP)   # nn.Linear keeps [out, in]
        if isinstance(net, EnsembleMLP):
            activation = _activation(net.activation, net)
            for weight, bias in zip(net.weights, net.biases, strict=True):
                self.weights.append(weight.detach().numpy())
                self.biases.append(bias.detach().numpy())
                self.activations.append(activation)
            self.activations[-1] = None
            layers = len(self.weights)    # parameters(): every weight, then every bias
            self._grad_index = [(i, layers + i) for i in range(layers)]
        else:
            for layer in net:
                if isinstance(layer, nn.Linear) and layer.bias is not None:
                    self.weights.append(layer.weight.detach().numpy().T)
                    self.biases.append(layer.bias.detach().numpy())
                    self.activations.append(None)
                elif self.activations and self.activations[-1] is None:
                    self.activations[-1] = _activation(layer, net)
                else:
                    raise TypeError(f'NumpyMLP: unsupported layer {layer!r} in {net!r}')
            self._grad_index = [(2 * i, 2 * i + 1) for i in range(len(self.weights))]
        if not self.weights or any(w.dtype != _F32 for w in self.weights):
            raise TypeError(f'NumpyMLP: needs float32 linear layers, got {net!r}')

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """``net(x)`` for a float32 batch ``[B, in_dim]`` -> ``[B, out_dim]`` (``[n, B, out]``)."""
        return self.forward(x)[0]

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        """``(net(x), cache)``: the cache holds each layer's input and the output, for backward."""
        cache = [x]
        for weight, bias, activation in zip(self.weights, self.biases, self.activations,
                                            strict=True):
            x = x @ weight + bias
            if activation is not None:
                x = activation[0](x)
            cache.append(x)
        return x, cache

    def backward(self, cache: list[np.ndarray], grad_out: np.ndarray,
                 grads: Sequence[np.ndarray] | None = None,
                 input_grad: bool = False) -> np.ndarray | None:
        """Backpropagate dLoss/dOutput; write parameter gradients into ``grads``.

        Args:
            cache: From :meth:`forward`.
            grad_out: Gradient of the loss with respect to the output.
            grads: One array per parameter, in ``net.parameters()`` order (weight, bias, ...),
                overwritten; None for none (a frozen network).
            input_grad: Also return the gradient with respect to the input.

        Returns:
            The input gradient (``[n, B, in_dim]`` for an ensemble) if asked for, else None.
        """
        grad = grad_out
        for i in range(len(self.weights) - 1, -1, -1):
            activation = self.activations[i]
            if activation is not None:
                grad = activation[1](grad, cache[i + 1])
            if grads is not None:
                grad_weight = np.swapaxes(cache[i], -1, -2) @ grad
                weight_index, bias_index = self._grad_index[i]
                grads[weight_index][...] = grad_weight.T if self._torch_layout else grad_weight
                grads[bias_index][...] = grad.sum(-2).reshape(grads[bias_index].shape)
            if i or input_grad:
                grad = grad @ np.swapaxes(self.weights[i], -1, -2)
        return grad if input_grad else None


def _activation(layer: nn.Module, net: nn.Module) -> tuple:
    if type(layer) not in _ACTIVATIONS or (isinstance(layer, nn.ELU) and layer.alpha != 1.0):
        raise TypeError(f'NumpyMLP: unsupported layer {layer!r} in {net!r}')
    return _ACTIVATIONS[type(layer)]


def numpy_normalize(normalizer: ObsNormalizer, obs: np.ndarray) -> np.ndarray:
    """``normalizer(obs)`` in NumPy (float32), with its current statistics."""
    if not normalizer.enabled:
        return obs
    std = np.sqrt(normalizer.var.numpy() + _F32(1e-8))
    out = np.asarray((obs - normalizer.mean.numpy()) / std, dtype=_F32)
    clip = _F32(normalizer.clip)
    np.minimum(out, clip, out=out)      # np.clip without its Python-level dispatch
    return np.maximum(out, -clip, out=out)


class FlatGrads:
    """One float32 buffer holding the gradients of ``params`` (set as their ``.grad``).

    NumPy code writes gradients into :attr:`views`; a torch optimizer then reads them as the
    parameters' ``.grad`` without any copy.
    """

    def __init__(self, params: Sequence[nn.Parameter]) -> None:
        self.params = list(params)
        self.flat = torch.zeros(sum(p.numel() for p in self.params))
        self.tensors = list(torch.split(self.flat, [p.numel() for p in self.params]))
        self.tensors = [t.view_as(p) for t, p in zip(self.tensors, self.params, strict=True)]
        self.views = [t.numpy() for t in self.tensors]
        self.flat_view = self.flat.numpy()

    def install(self) -> None:
        """Make these buffers the parameters' ``.grad``."""
        for param, grad in zip(self.params, self.tensors, strict=True):
            param.grad = grad

    def clip_norm(self, max_norm: float) -> None:
        """Scale all gradients so that their global L2 norm is at most ``max_norm``."""
        total = float(np.sqrt(np.dot(self.flat_view, self.flat_view)))
        scale = max_norm / (total + 1e-6)
        if scale < 1.0:
            self.flat_view *= _F32(scale)
