"""The Dense layer: ``z = x @ kernel + bias``, ``a = f(z)``, and its backward pass."""
from __future__ import annotations

import numpy as np

from . import activations


class Dense:
    """A fully connected layer with ``kernel`` (n_in, units) and ``bias`` (units,).

    ``forward`` caches what ``backward`` needs; ``backward`` sets ``d_kernel``,
    ``d_bias`` and ``grad_z`` (dJ/dz, (n_samples, units)) and returns dJ/da_prev.
    """

    def __init__(self, n_in: int, units: int, activation: str = "linear", rng=None, dtype=np.float64,
                 kernel=None, bias=None):
        """Seeded random weights from ``rng``, or copies of the given ``kernel`` and ``bias``."""
        self.activation = activations.get(activation)
        if kernel is None:
            rng = np.random.default_rng(rng)
            fan = n_in / 2 if self.activation.he_init else (n_in + units) / 2
            limit = np.sqrt(3.0 / fan)  # He uniform √(6/n_in) or Glorot uniform √(6/(n_in+n_out))
            kernel = rng.uniform(-limit, limit, size=(n_in, units))
            bias = np.zeros(units)
        self.kernel = np.array(kernel, dtype=dtype)
        self.bias = np.array(bias, dtype=dtype)
        if self.kernel.shape != (n_in, units) or self.bias.shape != (units,):
            raise ValueError(f"expected kernel {(n_in, units)} and bias {(units,)}, "
                             f"got {self.kernel.shape} and {self.bias.shape}")
        self.x = self.z = self.a = self.grad_z = self.d_kernel = self.d_bias = None  # set by forward/backward

    @property
    def units(self) -> int:
        return self.kernel.shape[1]

    @property
    def n_in(self) -> int:
        return self.kernel.shape[0]

    def forward(self, x):
        """x (n_samples, n_in) → a (n_samples, units)."""
        self.x = x
        self.z = x @ self.kernel + self.bias  # z = xW + b
        self.a = self.activation.forward(self.z)  # a = f(z)
        return self.a

    def backward(self, grad_a=None, grad_z=None, need_grad_in=True):
        """From dJ/da (or dJ/dz directly, for fused output losses) to dJ/da_prev."""
        if grad_z is None:
            grad_z = self.activation.backward(self.z, self.a, grad_a)  # dJ/dz = dJ/da · f'(z)
        self.grad_z = grad_z
        self.d_kernel = self.x.T @ grad_z  # dJ/dW = xᵀ · dJ/dz
        self.d_bias = grad_z.sum(axis=0)  # dJ/db = Σ dJ/dz
        return grad_z @ self.kernel.T if need_grad_in else None  # dJ/da_prev = dJ/dz · Wᵀ

    def __repr__(self):
        return f"Dense({self.units}, {self.activation.name!r})"
