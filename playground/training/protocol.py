"""What the Session and the training worker say to each other.

Every request carries an ``id`` and is answered exactly once, with a reply of the same id: ``Built``
(a ``Configure`` that built), ``Applied`` (anything else that took effect) or ``Refused`` (nothing
changed, and why). Requests are handled in the order sent. Besides replies, the worker publishes
``Snapshot``s of the run, paced (see ``pacing``), and says when training stops by itself.

Every array that crosses the thread boundary is a read-only copy owned by the message, so neither
side can change what the other holds.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.spec import DataSpec, NetworkSpec, Problem, TrainingConfig


# --- requests --------------------------------------------------------------------------------
@dataclass(frozen=True)
class TrainedState:
    """A network as trained: what undo, saving and opening bring back."""

    weights: tuple  # ((kernel (n_in, n_out), bias (n_out,)), ...), read-only
    trainer_state: dict | None = None  # Trainer.state_dict(); None: a fresh optimizer at ``epoch``
    epoch: int = 0  # the epochs already trained, when there is no trainer state to say so


@dataclass(frozen=True)
class Configure:
    """Build the problem, network and trainer from these specs; with ``restore``, continue from that
    state instead of fresh weights from the seed."""

    id: int
    data: DataSpec
    network: NetworkSpec
    training: TrainingConfig
    restore: TrainedState | None = None


@dataclass(frozen=True)
class TableRead:
    """``data``'s CSV file as the import dialog has read it (a ``core.tables.Table``, used by one
    thread at a time): the build that follows takes it instead of reading the file again."""

    id: int
    data: DataSpec
    table: object


@dataclass(frozen=True)
class SetHyperparameter:
    """learning_rate, optimizer, batch_size, regularization or reg_rate; live, no rebuild."""

    id: int
    name: str
    value: object


@dataclass(frozen=True)
class SetWeight:
    """One weight typed or dragged on the diagram: ``kernel[row, column]`` of ``layer``, or its
    ``bias[row]`` when ``column`` is None. Live, no rebuild."""

    id: int
    layer: int
    row: int
    column: int | None
    value: float


@dataclass(frozen=True)
class Preview:
    """The outputs of other weights of this network (a past checkpoint), without changing it."""

    id: int
    epoch: int
    weights: tuple


@dataclass(frozen=True)
class Control:
    """'play', 'pause', 'step' (train until the epoch ends, then pause) or 'refresh' (a snapshot now)."""

    id: int
    action: str


# --- replies ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Built:
    """A Configure's answer: the problem as the views need it, sent once per build."""

    id: int
    specs: tuple  # (DataSpec, NetworkSpec, TrainingConfig) this was built from
    problem: Problem
    layers: tuple  # ((units, activation), ...) including the output layer
    loss: str
    extent: tuple | None  # 2-D data: (x_min, x_max, y_min, y_max) of the output view


@dataclass(frozen=True)
class Applied:
    id: int


@dataclass(frozen=True)
class Previewed:
    """A Preview's answer: what the views draw for those weights (as in ``Snapshot``); the gradients
    are those of a pass over (a sample of) the training set."""

    id: int
    epoch: int
    weights: tuple
    kernel_grads: tuple
    neuron_grads: tuple
    grid: np.ndarray | None
    predictions: tuple | None
    neuron_grids: tuple | None


@dataclass(frozen=True)
class Refused:
    id: int
    message: str


@dataclass(frozen=True)
class Snapshot:
    """What the views draw, and what the Session keeps of the run."""

    id: int  # counts every snapshot, so the window can say which one it painted
    generation: int  # the id of the Configure that built this run
    epoch: int
    steps: int
    steps_per_second: float
    running: bool
    weights: tuple  # ((kernel, bias), ...)
    trainer_state: dict  # Trainer.state_dict(), consistent with ``weights`` and ``epoch``
    kernel_grads: tuple  # smoothed |dJ/dW| per layer, (n_in, n_out)
    neuron_grads: tuple  # smoothed mean |dJ/dz| over the batch per layer, (n_out,)
    new_epochs: tuple = ()  # EpochStats since the previous snapshot of this generation
    penalty: float = 0.0
    grid: np.ndarray | None = None  # 2-D data: outputs over the input plane (GRID, GRID, n_outputs)
    predictions: tuple | None = None  # tables: (predicted, actual), target units or class indices
    neuron_grids: tuple | None = None  # 2-D data: per hidden layer, its drawn neurons' activations over
    # the input plane (GRID / 2, GRID / 2, len(shown_units(units))), with the outputs
    new_checkpoints: tuple = ()  # Checkpoint-like (epoch, weights, trainer_state) of each epoch since the last
    measured: object = None  # EpochStats of the weights as a typed or dragged weight left them, until an epoch ends

    @property
    def state(self) -> TrainedState:
        return TrainedState(self.weights, self.trainer_state, self.epoch)


SHOWN_PER_LAYER = 16  # neurons the diagram draws per layer (and the worker draws pictures of)


def shown_units(n: int) -> np.ndarray:
    """The units of an ``n``-unit layer that are drawn: all of them, or an evenly spaced sample."""
    return np.unique(np.linspace(0, n - 1, min(n, SHOWN_PER_LAYER)).round().astype(int))


def read_only(value):
    """A deep copy of ``value`` whose arrays cannot be written to."""
    if isinstance(value, np.ndarray):
        copy = value.copy()
        copy.setflags(write=False)
        return copy
    if isinstance(value, dict):
        return {key: read_only(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return tuple(read_only(item) for item in value)
    return value
