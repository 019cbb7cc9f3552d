"""A multilayer perceptron: a stack of Dense layers, forward and backward."""
from __future__ import annotations

import numpy as np

from . import activations, limits, losses
from .layers import Dense


class Network:
    """``Network(n_inputs=2, layers=[(8, "tanh"), (1, "sigmoid")], seed=0)``.

    ``layers`` lists ``(units, activation)`` from the first hidden layer to the output.
    The same seed gives the same initial weights. Sizes are bounded by ``core.limits``
    (``check_network``): ValueError, before anything is allocated, for a larger network.
    """

    def __init__(self, n_inputs: int, layers, seed=None, dtype=np.float64, weights=None):
        """``weights`` ``[(kernel, bias), ...]``, if given, are copied instead of drawn from ``seed``."""
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.float32, np.float64):
            raise ValueError(f"dtype must be float32 or float64, not {self.dtype}")
        layers = list(layers)
        if not layers:
            raise ValueError("a network needs at least one layer (the output layer)")
        limits.check_network([n_inputs] + [units for units, _ in layers])
        self.n_inputs = int(n_inputs)
        spec = [(int(units), activations.canonical_name(act)) for units, act in layers]
        for _, act in spec[:-1]:
            if act == "softmax":
                raise ValueError("softmax is for the output layer only")
        self.seed = seed
        sizes = [self.n_inputs] + [units for units, _ in spec]
        if weights is None:
            rng = np.random.default_rng(seed)
            self.layers = [Dense(n_in, units, act, rng, self.dtype) for n_in, (units, act) in zip(sizes, spec)]
        else:
            weights = list(weights)
            if len(weights) != len(spec):
                raise ValueError(f"expected weights for {len(spec)} layers, got {len(weights)}")
            self.layers = [Dense(n_in, units, act, dtype=self.dtype, kernel=kernel, bias=bias)
                           for n_in, (units, act), (kernel, bias) in zip(sizes, spec, weights)]

    # --- structure -------------------------------------------------------------
    @property
    def spec(self) -> list[tuple[int, str]]:
        """``[(units, activation), ...]`` as passed to the constructor."""
        return [(layer.units, layer.activation.name) for layer in self.layers]

    @property
    def n_outputs(self) -> int:
        return self.layers[-1].units

    @property
    def parameters(self) -> list[np.ndarray]:
        """[kernel_0, bias_0, kernel_1, ...], the live arrays."""
        return [p for layer in self.layers for p in (layer.kernel, layer.bias)]

    def get_weights(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """Copies of ``[(kernel, bias), ...]``."""
        return [(layer.kernel.copy(), layer.bias.copy()) for layer in self.layers]

    def set_weights(self, weights) -> None:
        """Load ``[(kernel, bias), ...]``; shapes must match this network."""
        weights = list(weights)
        if len(weights) != len(self.layers):
            raise ValueError(f"expected weights for {len(self.layers)} layers, got {len(weights)}")
        for i, (layer, (kernel, bias)) in enumerate(zip(self.layers, weights)):
            kernel, bias = np.asarray(kernel), np.asarray(bias)
            if kernel.shape != layer.kernel.shape or bias.shape != layer.bias.shape:
                raise ValueError(f"layer {i}: expected kernel {layer.kernel.shape} and bias {layer.bias.shape}, "
                                 f"got {kernel.shape} and {bias.shape}")
        for layer, (kernel, bias) in zip(self.layers, weights):
            layer.kernel[...] = kernel
            layer.bias[...] = bias

    def copy(self) -> "Network":
        return Network(self.n_inputs, self.spec, seed=self.seed, dtype=self.dtype,
                       weights=[(layer.kernel, layer.bias) for layer in self.layers])

    def __repr__(self):
        return f"Network(n_inputs={self.n_inputs}, layers={self.spec})"

    # --- maths -----------------------------------------------------------------
    def forward(self, X):
        """X (n_samples, n_inputs) → output (n_samples, n_outputs); caches every layer's z and a."""
        a = X
        for layer in self.layers:
            a = layer.forward(a)
        return a

    def predict(self, X):
        """Output (n_samples, n_outputs) for X (n_samples, n_inputs)."""
        X = self.check_inputs(X)
        return self.forward(X).copy()

    def backward(self, grad_z_out) -> None:
        """Backpropagate dJ/dz of the output layer; each layer keeps its d_kernel, d_bias, grad_z."""
        grad_a = self.layers[-1].backward(grad_z=grad_z_out, need_grad_in=len(self.layers) > 1)
        for i in range(len(self.layers) - 2, -1, -1):
            grad_a = self.layers[i].backward(grad_a, need_grad_in=i > 0)

    def loss_and_gradients(self, X, Y, loss="mse"):
        """Data loss (mean over the batch) and ``[(d_kernel, d_bias), ...]`` per layer."""
        loss_fn = self.check_loss(loss)
        X = self.check_inputs(X)
        Y = loss_fn.targets(Y, self.n_outputs).astype(self.dtype, copy=False)
        value = self.forward_loss(X, Y, loss_fn)
        self.backward(loss_fn.grad_z(self.layers[-1], Y))
        return value, [(layer.d_kernel, layer.d_bias) for layer in self.layers]

    def forward_loss(self, X, Y, loss_fn) -> float:
        out = self.layers[-1]
        self.forward(X)
        return loss_fn.value(out.z, out.a, Y)

    # --- validation ------------------------------------------------------------
    def check_loss(self, loss) -> losses.Loss:
        loss_fn = losses.get(loss)
        loss_fn.check_output(self.layers[-1].activation, self.n_outputs)
        return loss_fn

    def check_inputs(self, X):
        X = np.asarray(X, dtype=self.dtype)
        if X.ndim == 1:
            X = X.reshape(1, -1)
        if X.ndim != 2 or X.shape[1] != self.n_inputs:
            raise ValueError(f"expected inputs of shape (n_samples, {self.n_inputs}), got {X.shape}")
        return X
