"""A trained model: a ``Network`` with the preprocessing that turns raw rows into its inputs and its
outputs into answers, and the settings it was trained with. ``core.io.load`` returns one.

``Model.predict`` keeps the ``Network`` contract (network inputs in, network outputs out);
``predict_rows`` and ``answers`` take raw rows as the user has them::

    model = io.load("iris.npz")
    model.predict_rows([[5.1, 3.5, 1.4, 0.2]])   # (1, 3) class probabilities
    model.answers([[5.1, 3.5, 1.4, 0.2]])        # ['setosa']
"""
from __future__ import annotations

import numpy as np

from .network import Network
from .preprocessing import Preprocessing
from .spec import TrainingConfig


class Model(Network):
    """``Model(n_inputs, layers, ..., preprocessing=None, training=None)``; without preprocessing,
    raw rows are the network's inputs and its outputs the answers."""

    def __init__(self, n_inputs: int, layers, seed=None, dtype=np.float64, weights=None,
                 preprocessing: Preprocessing | None = None, training: TrainingConfig | None = None):
        super().__init__(n_inputs, layers, seed=seed, dtype=dtype, weights=weights)
        if preprocessing is not None and (preprocessing.n_inputs, preprocessing.n_outputs) != (self.n_inputs,
                                                                                               self.n_outputs):
            raise ValueError(f"the preprocessing gives {preprocessing.n_inputs} inputs and reads "
                             f"{preprocessing.n_outputs} outputs; the network has {self.n_inputs} and {self.n_outputs}")
        self.preprocessing = preprocessing
        self.training = training

    @classmethod
    def of(cls, net: Network, preprocessing: Preprocessing | None = None,
           training: TrainingConfig | None = None) -> "Model":
        """A model with a copy of ``net``'s weights."""
        return cls(net.n_inputs, net.spec, seed=net.seed, dtype=net.dtype,
                   weights=[(layer.kernel, layer.bias) for layer in net.layers],
                   preprocessing=preprocessing, training=training)

    def copy(self) -> "Model":
        return Model.of(self, self.preprocessing, self.training)

    def predict_rows(self, rows) -> np.ndarray:
        """Raw rows (n_samples, n_columns) → (n_samples, n_outputs): values in the target's units
        (regression) or class probabilities, as the app shows them. Rows are a float array (text as
        codes, NaN for missing) or lists of Python values (text as text); see ``Preprocessing``."""
        pre = self.preprocessing
        if pre is None:
            return self.predict(rows)
        return pre.decode(self.predict(pre.encode(rows)))

    def answers(self, rows) -> np.ndarray:
        """One answer per raw row (n_samples,): its class name, or its value in the target's units."""
        outputs = self.predict_rows(rows)
        pre = self.preprocessing
        if pre is None or pre.task == "regression":
            return outputs[:, 0]
        return np.array(pre.class_names, dtype=object)[pre.labels(outputs)]

    def __repr__(self):
        task = f", task={self.preprocessing.task!r}" if self.preprocessing is not None else ""
        return f"Model(n_inputs={self.n_inputs}, layers={self.spec}{task})"
