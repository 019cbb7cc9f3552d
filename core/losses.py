"""Losses, mean-reduced over the batch like PyTorch's defaults.

Each loss gives its value and dJ/dz of the output layer. The squared errors start the chain
rule from dJ/dŷ (``grad_output``); the cross-entropies are fused with their output activation,
so their gradient is the stable ``(prediction − target) / n`` and never divides by a probability.
``formula`` is how the app writes that first derivative (dJ/dŷ, or dJ/dz when fused).
"""
from __future__ import annotations

import numpy as np

from . import limits
from .activations import Softmax, Sigmoid


class Loss:
    name = ""
    label = ""
    formula = ""  # dJ/dŷ as the app writes it (dJ/dz for a fused loss)
    output_activation = None  # the activation this loss is fused with, if any

    def check_output(self, activation, units: int) -> None:
        """Raise ValueError when this loss makes no sense on that output layer."""

    def targets(self, Y, units: int):
        """Y in the shape this loss compares against the output (n_samples, units).

        With several outputs, one label per sample is a class index, compared one-hot."""
        Y = np.asarray(Y)
        if units > 1 and (Y.ndim == 1 or Y.shape[1:] == (1,)):
            return one_hot(Y, units, self.name)
        Y = Y.reshape(-1, 1) if Y.ndim == 1 else Y
        if Y.ndim != 2 or Y.shape[1] != units:
            raise ValueError(f"loss {self.name!r} needs targets of shape (n_samples, {units}), got {Y.shape}")
        return Y

    def value(self, z, a, Y) -> float:
        raise NotImplementedError

    def grad_output(self, a, Y):
        """dJ/dŷ (n_samples, units), where the chain rule starts; fused losses start at dJ/dz instead."""
        raise NotImplementedError

    def grad_z(self, layer, Y):
        """dJ/dz of the output layer (n_samples, units)."""
        return layer.activation.backward(layer.z, layer.a, self.grad_output(layer.a, Y))  # dJ/dŷ ⊙ f'(z)


class SquaredError(Loss):
    def check_output(self, activation, units):
        if activation.name == "softmax" and units == 1:
            raise ValueError(f"a softmax over one output is always 1; use sigmoid or linear with loss {self.name!r}")


class MeanSquaredError(SquaredError):
    """mean over samples and outputs of (ŷ − y)², as torch.nn.MSELoss."""

    name, label, formula = "mse", "Mean squared error", "2(ŷ − y)/n"

    def value(self, z, a, Y):
        d = a - Y
        return float((d * d).sum()) / d.size  # .sum()/size: np.mean's Python wrapper costs a small step ~5 %

    def grad_output(self, a, Y):
        return (2.0 / Y.size) * (a - Y)  # dJ/dŷ = 2(ŷ − y)/n, n counting samples × outputs


class HalfSquaredError(SquaredError):
    """The lessons' cost C = ½‖y − a‖², averaged over samples: torch's MSELoss(reduction="sum") / 2n."""

    name, label, formula = "half_squared_error", "½ squared error", "(ŷ − y)/n"

    def value(self, z, a, Y):
        d = a - Y
        return 0.5 * float((d * d).sum()) / len(d)

    def grad_output(self, a, Y):
        return (a - Y) / len(Y)  # dJ/dŷ = (ŷ − y)/n: the lessons' dC/da = a − y, averaged


class BinaryCrossEntropy(Loss):
    """Binary cross-entropy on a sigmoid output, from the logits z (torch's BCEWithLogitsLoss)."""

    name, label, formula, output_activation = "bce", "Binary cross-entropy", "(ŷ − y)/n", Sigmoid

    def check_output(self, activation, units):
        if activation.name != "sigmoid":
            raise ValueError(f"loss 'bce' needs a sigmoid output layer, not {activation.name!r}")

    def value(self, z, a, Y):
        # −[y log σ(z) + (1−y) log(1−σ(z))] = max(z,0) − z·y + log(1 + e^−|z|)
        return float((np.maximum(z, 0.0) - z * Y + np.log1p(np.exp(-np.abs(z)))).sum()) / Y.size

    def grad_z(self, layer, Y):
        return (layer.a - Y) / Y.size  # (σ(z) − y)/N


class CrossEntropy(Loss):
    """Softmax + categorical cross-entropy (torch's CrossEntropyLoss); integer or one-hot labels."""

    name, label, formula, output_activation = "cross_entropy", "Cross-entropy", "(softmax(z) − y)/n", Softmax

    def check_output(self, activation, units):
        if activation.name != "softmax":
            raise ValueError(f"loss 'cross_entropy' needs a softmax output layer, not {activation.name!r}")
        if units < 2:
            raise ValueError("loss 'cross_entropy' needs at least 2 output units (one per class)")

    def targets(self, Y, units):
        Y = np.asarray(Y)
        if Y.ndim == 2 and Y.shape[1] == units and units > 1:
            return Y  # already one-hot (or soft labels)
        return one_hot(Y, units, self.name)

    def value(self, z, a, Y):
        shifted = z - z.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))  # log softmax, stable
        return -float((Y * log_probs).sum()) / len(Y)

    def grad_z(self, layer, Y):
        return (layer.a - Y) / len(Y)  # (softmax(z) − y)/n


def one_hot(labels, units: int, loss: str):
    """Class indices (n_samples,) → one-hot rows (n_samples, units)."""
    labels = np.asarray(labels).reshape(-1)
    classes = labels.astype(np.int64)
    if not np.array_equal(classes, labels) or classes.min(initial=0) < 0 or classes.max(initial=0) >= units:
        raise ValueError(f"{loss} labels must be integers in [0, {units}) or one-hot rows of {units}")
    return np.eye(units)[classes]


LOSSES = {cls.name: cls() for cls in (MeanSquaredError, HalfSquaredError, BinaryCrossEntropy, CrossEntropy)}
ALIASES = {"mean_squared_error": "mse", "half_mse": "half_squared_error", "half_squared": "half_squared_error",
           "binary_crossentropy": "bce", "categorical_crossentropy": "cross_entropy", "crossentropy": "cross_entropy"}


def canonical_name(name: str) -> str:
    """The stored name for ``name`` or one of its aliases; ValueError otherwise."""
    key = str(name)
    key = key.strip().lower() if len(key) <= limits.MAX_NAME_CHARS else ""  # no copies of a huge string
    key = ALIASES.get(key, key)
    if key not in LOSSES:
        raise ValueError(f"unknown loss {limits.excerpt(name)}; expected one of {', '.join(LOSSES)}")
    return key


def get(name) -> Loss:
    return name if isinstance(name, Loss) else LOSSES[canonical_name(name)]
