"""The chain rule of one sample, followed on the diagram: which sample, which pass, which layer.

``TraceState`` is plain data (frozen); the Session holds one, with the ``core.explain.Trace`` it
computes for the network shown. Walking a pass goes one layer at a time: forward from the first
hidden layer to the output, backward from the output to the first hidden layer.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core import explain

MODES = ("forward", "backward")


@dataclass(frozen=True)
class TraceState:
    sample: tuple | None = None  # ("train" | "test", index) of the sample followed, None: none
    mode: str = "backward"  # which pass the diagram shows: each neuron's a, or its dJ/dz
    layer: int | None = None  # the layer the walk has reached (0 for the first hidden layer), None: all

    def walk(self, n_layers: int, direction: int) -> "TraceState":
        """One layer further along the pass (``direction`` 1) or back (−1); from no layer the walk
        starts at the pass's first layer, and it stops at either end."""
        order = list(range(n_layers)) if self.mode == "forward" else list(range(n_layers - 1, -1, -1))
        if self.layer is None or self.layer not in order:
            return TraceState(self.sample, self.mode, order[0] if direction > 0 else order[-1])
        position = min(max(order.index(self.layer) + direction, 0), n_layers - 1)
        return TraceState(self.sample, self.mode, order[position])


def sample_of(problem, sample) -> tuple | None:
    """(network inputs (n_inputs,), target) of ``sample`` in ``problem``, or None if it has no such row."""
    split, index = sample
    X, Y = (problem.X_train, problem.Y_train) if split == "train" else (problem.X_test, problem.Y_test)
    if not 0 <= index < len(X):
        return None
    return X[index], np.asarray(Y)[index]


def compute(net, problem, loss: str, state: TraceState) -> explain.Trace | None:
    """The chain rule of the state's sample through ``net`` (a copy: its caches are not the trainer's)."""
    if state.sample is None or net is None:
        return None
    row = sample_of(problem, state.sample)
    if row is None:
        return None
    return explain.chain_rule(net, row[0], row[1], loss)
