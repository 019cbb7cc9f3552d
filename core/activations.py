"""Activation functions, each with its forward formula and local derivative side by side.

The backward pass of every activation is the chain rule's middle step:
``dJ/dz = dJ/da * f'(z)`` (elementwise; softmax uses its Jacobian instead).
Arrays are ``(n_samples, n_units)``.
"""
from __future__ import annotations

import numpy as np

from . import limits


class Activation:
    """``a = f(z)``; ``backward`` turns the upstream ``dJ/da`` into ``dJ/dz``."""

    name = ""
    label = ""  # how the app shows it
    he_init = False  # ReLU-like units keep variance with He initialisation

    def forward(self, z):
        raise NotImplementedError

    def backward(self, z, a, grad_a):
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}()"


class Linear(Activation):
    name, label = "linear", "Linear"

    def forward(self, z):
        return z  # a = z

    def backward(self, z, a, grad_a):
        return grad_a  # da/dz = 1


class Sigmoid(Activation):
    name, label = "sigmoid", "Sigmoid"

    def forward(self, z):
        # 0.5·(1 + tanh(z/2)) equals 1/(1+e^-z) and never overflows
        return 0.5 * (1.0 + np.tanh(0.5 * z))

    def backward(self, z, a, grad_a):
        return grad_a * a * (1.0 - a)  # σ' = σ(1 − σ)


class Tanh(Activation):
    name, label = "tanh", "Tanh"

    def forward(self, z):
        return np.tanh(z)

    def backward(self, z, a, grad_a):
        return grad_a * (1.0 - a * a)  # tanh' = 1 − tanh²


class ReLU(Activation):
    name, label, he_init = "relu", "ReLU", True

    def forward(self, z):
        return np.maximum(z, 0.0)

    def backward(self, z, a, grad_a):
        return grad_a * (z > 0)  # 1 for z > 0, else 0 (0 at z = 0, as torch)


class LeakyReLU(Activation):
    name, label, he_init = "leaky_relu", "Leaky ReLU", True
    slope = 0.01

    def forward(self, z):
        return np.where(z > 0, z, self.slope * z)

    def backward(self, z, a, grad_a):
        return grad_a * np.where(z > 0, 1.0, self.slope)  # 1 or slope


class ELU(Activation):
    name, label, he_init = "elu", "ELU", True
    alpha = 1.0

    def forward(self, z):
        return np.where(z > 0, z, self.alpha * np.expm1(np.minimum(z, 0.0)))

    def backward(self, z, a, grad_a):
        return grad_a * np.where(z > 0, 1.0, a + self.alpha)  # α·eᶻ = a + α for z ≤ 0


class Softplus(Activation):
    name, label, he_init = "softplus", "Softplus", True

    def forward(self, z):
        return np.logaddexp(0.0, z)  # log(1 + eᶻ), stable for large |z|

    def backward(self, z, a, grad_a):
        return grad_a * (0.5 * (1.0 + np.tanh(0.5 * z)))  # softplus' = σ(z)


class Swish(Activation):
    name, label, he_init = "swish", "Swish (SiLU)", True

    def forward(self, z):
        return z * (0.5 * (1.0 + np.tanh(0.5 * z)))  # z·σ(z)

    def backward(self, z, a, grad_a):
        s = 0.5 * (1.0 + np.tanh(0.5 * z))
        return grad_a * (s + a * (1.0 - s))  # σ + z·σ(1 − σ) = σ + a(1 − σ)


class Softmax(Activation):
    """Over the last axis; output layer only."""

    name, label = "softmax", "Softmax"

    def forward(self, z):
        e = np.exp(z - z.max(axis=-1, keepdims=True))  # shift so exp never overflows
        return e / e.sum(axis=-1, keepdims=True)

    def backward(self, z, a, grad_a):
        # Jacobian-vector product: dJ/dz_i = a_i (dJ/da_i − Σ_j dJ/da_j a_j)
        return a * (grad_a - (grad_a * a).sum(axis=-1, keepdims=True))


ACTIVATIONS = {cls.name: cls() for cls in (Linear, Sigmoid, Tanh, ReLU, LeakyReLU, ELU, Softplus, Swish, Softmax)}
ALIASES = {"identity": "linear", "logistic": "sigmoid", "silu": "swish"}


def canonical_name(name: str) -> str:
    """The stored name for ``name`` or one of its aliases; ValueError otherwise."""
    key = str(name)
    key = key.strip().lower() if len(key) <= limits.MAX_NAME_CHARS else ""  # no copies of a huge string
    key = ALIASES.get(key, key)
    if key not in ACTIVATIONS:
        raise ValueError(f"unknown activation {limits.excerpt(name)}; expected one of {', '.join(ACTIVATIONS)}")
    return key


def get(name: str) -> Activation:
    return ACTIVATIONS[canonical_name(name)]
