"""Backprop made visible: the chain rule, layer by layer, for one sample.

Each ``LayerTrace`` holds one layer's forward values and the derivatives that flow through it,
in the lessons' notation: ``z = a_prev W + b``, ``a = f(z)``, ``dJ/dz = dJ/da ⊙ f'(z)``,
``dJ/dW = a_prevᵀ · dJ/dz``, ``dJ/db = dJ/dz``, ``dJ/da_prev = dJ/dz · Wᵀ``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .network import Network


@dataclass(frozen=True)
class LayerTrace:
    index: int  # 0 for the first hidden layer
    activation: str
    a_prev: np.ndarray  # (n_in,) the layer's input
    z: np.ndarray  # (units,)
    a: np.ndarray  # (units,)
    grad_a: np.ndarray | None  # (units,) upstream dJ/da; None where the loss is fused with f (dJ/dz given)
    local: np.ndarray | None  # (units,) f'(z) for elementwise f; None for softmax or a fused loss
    grad_z: np.ndarray  # (units,) dJ/dz
    d_kernel: np.ndarray  # (n_in, units) dJ/dW = a_prevᵀ · dJ/dz
    d_bias: np.ndarray  # (units,) dJ/db = dJ/dz
    grad_a_prev: np.ndarray  # (n_in,) dJ/da_prev = dJ/dz · Wᵀ


@dataclass(frozen=True)
class Trace:
    loss: float
    prediction: np.ndarray  # (n_outputs,)
    target: np.ndarray  # (n_outputs,) as the loss sees it (one-hot for classes)
    layers: list  # LayerTrace from the first hidden layer to the output
    formula: str = ""  # the loss's first derivative as written, e.g. "(ŷ − y)/n" (dJ/dz when fused)


def chain_rule(net: Network, x, y, loss) -> Trace:
    """The backward pass for one sample ``x`` (n_inputs,) with target ``y``, on a copy of ``net``."""
    net = net.copy()  # the caller's network keeps its caches
    loss_fn = net.check_loss(loss)
    X = net.check_inputs(np.asarray(x).reshape(1, -1))
    Y = loss_fn.targets(np.asarray(y).reshape(1, -1), net.n_outputs).astype(net.dtype)  # a class index → one-hot
    value, _ = net.loss_and_gradients(X, Y, loss_fn)
    traces = []
    for i, layer in enumerate(net.layers):
        is_output = i == len(net.layers) - 1
        fused = is_output and loss_fn.output_activation is not None
        if is_output:
            grad_a = None if fused else loss_fn.grad_output(layer.a, Y)  # dJ/dŷ, where the chain starts
        else:
            grad_a = net.layers[i + 1].grad_z @ net.layers[i + 1].kernel.T
        elementwise = layer.activation.name != "softmax" and not fused
        local = layer.activation.backward(layer.z, layer.a, np.ones_like(layer.z)) if elementwise else None
        traces.append(LayerTrace(
            index=i, activation=layer.activation.name, a_prev=layer.x[0].copy(), z=layer.z[0].copy(),
            a=layer.a[0].copy(), grad_a=None if grad_a is None else grad_a[0].copy(),
            local=None if local is None else local[0].copy(), grad_z=layer.grad_z[0].copy(),
            d_kernel=layer.d_kernel.copy(), d_bias=layer.d_bias.copy(),
            grad_a_prev=(layer.grad_z @ layer.kernel.T)[0]))
    return Trace(value, net.layers[-1].a[0].copy(), Y[0].copy(), traces, loss_fn.formula)
