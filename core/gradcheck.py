"""Gradient checking: backprop's gradients against central finite differences in float64."""
from __future__ import annotations

import numpy as np


def numerical_gradients(net, X, Y, loss="mse", eps=1e-6):
    """[(d_kernel, d_bias), ...] by central differences ``(J(θ+ε) − J(θ−ε)) / 2ε``."""
    loss_fn = net.check_loss(loss)
    X = net.check_inputs(X)
    Y = loss_fn.targets(Y, net.n_outputs).astype(net.dtype)
    result = []
    for layer in net.layers:
        pair = []
        for param in (layer.kernel, layer.bias):
            grad = np.zeros_like(param)
            for index in np.ndindex(param.shape):
                saved = param[index]
                param[index] = saved + eps
                plus = net.forward_loss(X, Y, loss_fn)
                param[index] = saved - eps
                minus = net.forward_loss(X, Y, loss_fn)
                param[index] = saved
                grad[index] = (plus - minus) / (2 * eps)
            pair.append(grad)
        result.append(tuple(pair))
    return result


def relative_error(a, b) -> float:
    """‖a − b‖ / (‖a‖ + ‖b‖): 0 when equal, about 1 when unrelated (0 when both are zero)."""
    a, b = np.asarray(a, float).ravel(), np.asarray(b, float).ravel()
    scale = np.linalg.norm(a) + np.linalg.norm(b)
    return float(np.linalg.norm(a - b) / scale) if scale > 0 else 0.0


def check(net, X, Y, loss="mse", eps=1e-6) -> float:
    """The worst relative error between backprop's and the numerical gradients of every parameter."""
    if net.dtype != np.float64:
        raise ValueError("gradient checks need a float64 network")
    _, analytic = net.loss_and_gradients(X, Y, loss)
    analytic = [(k.copy(), b.copy()) for k, b in analytic]
    numeric = numerical_gradients(net, X, Y, loss, eps)
    return max(relative_error(a, n) for pa, pn in zip(analytic, numeric) for a, n in zip(pa, pn))
