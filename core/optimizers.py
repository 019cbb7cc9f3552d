"""Optimizers with PyTorch's update formulas. ``update`` changes the parameters in place."""
from __future__ import annotations

import numpy as np


class Optimizer:
    name = ""
    label = ""

    def update(self, params, grads, lr: float) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    name, label = "sgd", "SGD"

    def update(self, params, grads, lr):
        for p, g in zip(params, grads):
            p -= lr * g  # p ← p − lr·g


class Momentum(Optimizer):
    name, label = "momentum", "Momentum"

    def __init__(self, mu: float = 0.9):
        self.mu = mu
        self.velocity = None

    def update(self, params, grads, lr):
        if self.velocity is None:
            self.velocity = [np.zeros_like(p) for p in params]
        for p, g, v in zip(params, grads, self.velocity):
            v *= self.mu
            v += g  # v ← μv + g
            p -= lr * v  # p ← p − lr·v


class Adam(Optimizer):
    name, label = "adam", "Adam"

    def __init__(self, betas=(0.9, 0.999), eps: float = 1e-8):
        self.beta1, self.beta2 = betas
        self.eps = eps
        self.t = 0
        self.m = self.v = None

    def update(self, params, grads, lr):
        if self.m is None:
            self.m = [np.zeros_like(p) for p in params]
            self.v = [np.zeros_like(p) for p in params]
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        step_size = lr / (1.0 - b1 ** self.t)  # bias correction of m folded into the step, as torch
        root_correction2 = np.sqrt(1.0 - b2 ** self.t)
        for p, g, m, v in zip(params, grads, self.m, self.v):
            m *= b1
            m += (1.0 - b1) * g  # m ← β₁m + (1−β₁)g
            v *= b2
            v += (1.0 - b2) * (g * g)  # v ← β₂v + (1−β₂)g²
            p -= step_size * (m / (np.sqrt(v) / root_correction2 + self.eps))


OPTIMIZERS = {cls.name: cls for cls in (SGD, Momentum, Adam)}


def create(name) -> Optimizer:
    key = str(name).strip().lower()
    if key not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; expected one of {', '.join(OPTIMIZERS)}")
    return OPTIMIZERS[key]()
