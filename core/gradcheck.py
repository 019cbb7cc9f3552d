"""Gradient checking: backprop's gradients against central finite differences in float64.

``check`` compares every parameter at once. ``steps`` is what the app's *Check gradients* runs: a
generator that compares a sample of each layer's parameters one at a time, so that a worker can
interleave it with other work or stop it, and ends with a ``Report`` giving each layer's relative
error and what it means in plain words.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from .network import Network

# (errors below this, reading, what it means); relative errors of backprop against central differences
READINGS = (
    (1e-7, "excellent", "backprop and finite differences agree to rounding error"),
    (1e-4, "good", "fine where ReLU-like kinks are crossed; too large for smooth activations"),
    (1e-2, "doubtful", "probably a bug, unless many units sit on a kink"),
    (math.inf, "wrong", "backprop's gradient is wrong"),
)


def reading(error: float) -> tuple[str, str]:
    """(word, meaning) for a relative error: excellent below 1e-7 … wrong from 1e-2 (and when not a number)."""
    return next(((word, meaning) for bound, word, meaning in READINGS if error < bound), READINGS[-1][1:])


def _difference(net, param, index, X, Y, loss_fn, eps) -> float:
    """(J(θ + ε) − J(θ − ε)) / 2ε for one entry of ``param``, which is left as it was."""
    saved = param[index]
    param[index] = saved + eps
    plus = net.forward_loss(X, Y, loss_fn)
    param[index] = saved - eps
    minus = net.forward_loss(X, Y, loss_fn)
    param[index] = saved
    return (plus - minus) / (2 * eps)


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
                grad[index] = _difference(net, param, index, X, Y, loss_fn, eps)
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


# --- the per-layer report, in steps --------------------------------------------------------------
@dataclass(frozen=True)
class LayerCheck:
    index: int  # 0 for the first hidden layer
    kernel_error: float  # relative error of the compared kernel entries
    bias_error: float
    compared: int  # entries of kernel and bias compared

    @property
    def error(self) -> float:
        """The larger of the kernel's and the bias's relative error."""
        return max(self.kernel_error, self.bias_error)

    @property
    def reading(self) -> str:
        return reading(self.error)[0]

    @property
    def meaning(self) -> str:
        return reading(self.error)[1]


@dataclass(frozen=True)
class Report:
    layers: tuple  # LayerCheck, from the first hidden layer to the output
    n_samples: int  # training samples the cost was measured on

    @property
    def error(self) -> float:
        return max(layer.error for layer in self.layers)

    @property
    def reading(self) -> str:
        return reading(self.error)[0]


@dataclass(frozen=True)
class Progress:
    done: int  # entries compared so far
    total: int
    report: Report | None = None  # set on the last step only


def steps(net: Network, X, Y, loss="mse", n_samples=4, max_entries=64, eps=1e-6, seed=0) -> Iterator[Progress]:
    """Compare backprop with central differences layer by layer, one parameter entry per step.

    Works on a float64 copy of ``net`` (the caller's network is never touched) and ``n_samples``
    rows of ``X`` (n_samples, n_inputs) and ``Y`` drawn with ``seed``; each kernel and bias
    compares at most ``max_entries`` entries, drawn with the same seed. Each layer's error is the
    relative error ‖backprop − numerical‖ / (‖backprop‖ + ‖numerical‖) of its kernel or of its
    bias, whichever is larger. The last ``Progress`` carries the ``Report``; stop early by no
    longer iterating.
    """
    net = Network(net.n_inputs, net.spec, dtype=np.float64, weights=net.get_weights())
    loss_fn = net.check_loss(loss)
    X = net.check_inputs(X)
    Y = loss_fn.targets(Y, net.n_outputs).astype(np.float64)
    if len(X) != len(Y) or len(X) == 0:
        raise ValueError(f"need as many targets as samples (got {len(X)} samples, {len(Y)} targets)")
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(len(X), size=min(int(n_samples), len(X)), replace=False))
    X, Y = X[rows], Y[rows]
    _, grads = net.loss_and_gradients(X, Y, loss_fn)
    plans = []  # per layer: (param, backprop's gradient of the entries compared, their flat indices) for kernel, bias
    for layer, layer_grads in zip(net.layers, grads):
        plan = []
        for param, grad in zip((layer.kernel, layer.bias), layer_grads):
            chosen = np.arange(param.size)
            if param.size > max_entries:
                chosen = np.sort(rng.choice(param.size, size=max_entries, replace=False))
            plan.append((param, grad.ravel()[chosen], chosen))
        plans.append(plan)
    total, done = sum(len(chosen) for plan in plans for *_, chosen in plan), 0
    checks = []
    for i, plan in enumerate(plans):
        errors = []
        for param, analytic, chosen in plan:
            numeric = np.empty(len(chosen))
            for k, flat in enumerate(chosen):
                numeric[k] = _difference(net, param, np.unravel_index(flat, param.shape), X, Y, loss_fn, eps)
                done += 1
                if done < total:
                    yield Progress(done, total)
            errors.append(relative_error(analytic, numeric))
        checks.append(LayerCheck(i, errors[0], errors[1], sum(len(chosen) for *_, chosen in plan)))
    yield Progress(total, total, Report(tuple(checks), len(rows)))


def report(net: Network, X, Y, loss="mse", **options) -> Report:
    """Run ``steps`` to the end (for scripts and tests)."""
    for progress in steps(net, X, Y, loss, **options):
        if progress.report is not None:
            return progress.report
