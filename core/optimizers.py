"""Optimizers with PyTorch's update formulas. ``update`` changes the parameters in place."""
from __future__ import annotations

import numpy as np

from . import limits


class Optimizer:
    name = ""
    label = ""
    buffers = ()  # names of the per-parameter state lists (None until the first update)

    def update(self, params, grads, lr: float) -> None:
        raise NotImplementedError

    def state_dict(self) -> dict:
        """``{"name", "t"?, buffer: [array copy per parameter] or None}``."""
        state = {"name": self.name}
        if hasattr(self, "t"):
            state["t"] = self.t
        for key in self.buffers:
            arrays = getattr(self, key)
            state[key] = None if arrays is None else [a.copy() for a in arrays]
        return state

    def load_state_dict(self, state: dict, params) -> None:
        """The inverse of ``state_dict`` (arrays or nested lists); buffers must match ``params``' shapes.
        ValueError otherwise, and nothing changes."""
        if state.get("name") != self.name:
            raise ValueError(f"optimizer state of {limits.excerpt(state.get('name'))}, not {self.name!r}")
        loaded = {}
        for key in self.buffers:
            lists = state.get(key)
            if lists is None:
                loaded[key] = None
                continue
            if not isinstance(lists, (list, tuple)) or len(lists) != len(params):
                raise ValueError(f"optimizer {key} must hold one array per parameter ({len(params)})")
            arrays = [np.array(values, dtype=p.dtype) for values, p in zip(lists, params)]
            if any(a.shape != p.shape or not np.isfinite(a).all() for a, p in zip(arrays, params)):
                raise ValueError(f"optimizer {key} does not match the parameters' shapes or is not finite")
            loaded[key] = arrays
        if hasattr(self, "t"):
            t = state.get("t")
            if isinstance(t, bool) or not isinstance(t, int) or t < 0:
                raise ValueError(f"optimizer step count must be a non-negative integer, got {limits.excerpt(t)}")
            self.t = t
        for key, arrays in loaded.items():
            setattr(self, key, arrays)


class SGD(Optimizer):
    name, label = "sgd", "SGD"

    def update(self, params, grads, lr):
        for p, g in zip(params, grads):
            p -= lr * g  # p ← p − lr·g


class Momentum(Optimizer):
    name, label = "momentum", "Momentum"
    buffers = ("velocity",)

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
    buffers = ("m", "v")

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
        raise ValueError(f"unknown optimizer {limits.excerpt(name)}; expected one of {', '.join(OPTIMIZERS)}")
    return OPTIMIZERS[key]()
