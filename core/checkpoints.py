"""Checkpoints: the weights of past epochs, kept within a memory budget, to rewind a run and go back.

A ``CheckpointStore`` holds one network's weights at increasing epochs (0 for the weights before
training; epoch ``e`` for the weights after the e-th epoch), each optionally with the trainer's
``state_dict()`` so training continues from it exactly as it went on from there.

Keep policy. Every checkpoint is kept until the store holds more than ``budget`` bytes (or more than
``max_count`` checkpoints). Then, after each ``add``, the checkpoint whose removal leaves the smallest
gap in ``log(1 + epoch)`` goes, the earliest on a tie; the latest ``recent`` ones and the first are
spared while others remain. So the early epochs are kept one by one, later ones ever more thinly
(evenly spaced on a log-scaled epoch axis), plus the most recent few. A network larger than the
budget keeps its latest checkpoint alone.

Project files hold a store as a JSON document::

    {"format": "backprop-playground-checkpoints", "version": 1,
     "budget": 104857600, "recent": 10, "max_count": 2000,
     "dtype": "float64", "shapes": [[[2, 8], [8]], [[8, 1], [1]]],    # [kernel shape, bias shape] per layer
     "checkpoints": [{"epoch": 0, "weights": "<base64>", "trainer_state": null}, ...]}

``weights`` is base64 of every kernel and bias in turn (kernel_0, bias_0, kernel_1, ...; C order,
little-endian, in ``dtype``): exact and a third larger than the arrays themselves, where JSON number
lists take about three times more. A ``trainer_state`` is ``Trainer.state_dict()`` with each optimizer
buffer (``velocity``, ``m``, ``v``) written in the same way, or null. ``from_dict`` checks it all and
raises ``core.io.FormatError``.
"""
from __future__ import annotations

import base64
import binascii
import copy
import math
from dataclasses import dataclass

import numpy as np

from . import io, limits, optimizers
from .io import FormatError
from .network import Network
from .trainer import History, Trainer

FORMAT = "backprop-playground-checkpoints"
VERSION = 1
DEFAULT_BUDGET = 100 * 2**20
RECENT = 10
MAX_COUNT = 2_000
CLIMB_EPOCHS = 10  # a cost above CLIMB_FACTOR × its lowest for this many epochs has climbed for good
CLIMB_FACTOR = 10.0
# bytes of the Python objects around a checkpoint's arrays, counted in ``nbytes`` (measured with
# tracemalloc on CPython 3.11, rounded up)
CHECKPOINT_OVERHEAD = 256
ARRAY_OVERHEAD = 160
STATE_OVERHEAD = 768


@dataclass(frozen=True, eq=False)
class Checkpoint:
    """The weights ``((kernel (n_in, n_out), bias (n_out,)), ...)`` after ``epoch`` epochs, read-only,
    and the trainer's ``state_dict()`` then (optimizer buffers as read-only arrays) or None."""

    epoch: int
    weights: tuple
    trainer_state: dict | None = None

    @property
    def nbytes(self) -> int:
        """Memory held: the arrays and an estimate of the Python objects around them."""
        arrays = [a for pair in self.weights for a in pair]
        if self.trainer_state is not None:
            arrays += [a for buffer in _buffers(self.trainer_state["optimizer"]).values() for a in buffer]
        return (sum(a.nbytes + ARRAY_OVERHEAD for a in arrays) + CHECKPOINT_OVERHEAD
                + (STATE_OVERHEAD if self.trainer_state is not None else 0))


class CheckpointStore:
    """Checkpoints of one network at increasing epochs, thinned to stay within ``budget`` bytes.

    Not thread-safe: one owner adds and reads (in the app, the session). Its checkpoints are
    immutable and may be handed to any thread."""

    def __init__(self, budget: int = DEFAULT_BUDGET, recent: int = RECENT, max_count: int = MAX_COUNT):
        self.recent = _positive(recent, "recent")
        self.max_count = _positive(max_count, "max_count")
        self._checkpoints: list[Checkpoint] = []
        self._epochs = np.zeros(0, dtype=np.int64)
        self._nbytes = 0
        self.budget = budget

    @property
    def budget(self) -> int:
        """Bytes the checkpoints may hold; lowering it thins them at once."""
        return self._budget

    @budget.setter
    def budget(self, value) -> None:
        self._budget = _positive(value, "budget")
        self._thin()

    # --- reading ----------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._checkpoints)

    def __iter__(self):
        """The checkpoints, oldest first."""
        return iter(list(self._checkpoints))

    @property
    def epochs(self) -> list[int]:
        return self._epochs.tolist()

    @property
    def nbytes(self) -> int:
        return self._nbytes

    @property
    def latest(self) -> Checkpoint:
        if not self._checkpoints:
            raise LookupError("no checkpoints yet")
        return self._checkpoints[-1]

    def at(self, epoch: int) -> Checkpoint:
        """The checkpoint of exactly ``epoch``; KeyError if there is none."""
        i = int(np.searchsorted(self._epochs, epoch))
        if i == len(self._epochs) or self._epochs[i] != epoch:
            raise KeyError(f"no checkpoint at epoch {epoch}")
        return self._checkpoints[i]

    def nearest(self, epoch) -> Checkpoint:
        """The checkpoint closest to ``epoch``, the earlier of two as close; LookupError if empty."""
        if not self._checkpoints:
            raise LookupError("no checkpoints yet")
        i = int(np.searchsorted(self._epochs, epoch))  # the first at or after epoch
        if i == len(self._epochs) or (i > 0 and epoch - self._epochs[i - 1] <= self._epochs[i] - epoch):
            i -= 1
        return self._checkpoints[i]

    def at_or_before(self, epoch) -> Checkpoint | None:
        """The latest checkpoint no later than ``epoch``, or None."""
        i = int(np.searchsorted(self._epochs, epoch, side="right"))
        return self._checkpoints[i - 1] if i else None

    # --- changing ---------------------------------------------------------------------------
    def add(self, epoch: int, weights, trainer_state: dict | None = None) -> None:
        """Keep copies of ``weights`` ``[(kernel, bias), ...]`` (and of ``trainer_state``, a
        ``Trainer.state_dict()``) as of ``epoch``, later than every checkpoint held; then thin.

        ValueError for an earlier epoch, non-finite weights, or another network's shapes."""
        epoch = _count(epoch, "epoch")
        if len(self._epochs) and epoch <= self._epochs[-1]:
            raise ValueError(f"checkpoint epochs must increase: epoch {epoch} after {self._epochs[-1]} "
                             "(truncate_after an earlier epoch to train from there)")
        weights = _frozen_weights(weights)
        if self._checkpoints:
            _check_same_network(weights, self._checkpoints[0].weights)
        state = None if trainer_state is None else _frozen_state(trainer_state, weights)
        checkpoint = Checkpoint(epoch, weights, state)
        self._checkpoints.append(checkpoint)
        self._epochs = np.append(self._epochs, epoch)
        self._nbytes += checkpoint.nbytes
        self._thin()

    def truncate_after(self, epoch) -> list[Checkpoint]:
        """Drop the checkpoints later than ``epoch`` (to train from there) and return them. A ``copy()``
        taken before is the undo."""
        i = int(np.searchsorted(self._epochs, epoch, side="right"))
        dropped = self._checkpoints[i:]
        del self._checkpoints[i:]
        self._epochs = self._epochs[:i].copy()
        self._nbytes -= sum(c.nbytes for c in dropped)
        return dropped

    def copy(self, budget: int | None = None) -> "CheckpointStore":
        """An independent store of the same checkpoints (whose arrays are shared: they are read-only),
        thinned to ``budget`` if that is given and lower."""
        other = CheckpointStore(self._budget, self.recent, self.max_count)
        other._checkpoints, other._epochs, other._nbytes = list(self._checkpoints), self._epochs.copy(), self._nbytes
        if budget is not None:
            other.budget = min(budget, self._budget)
        return other

    def _thin(self) -> None:
        while len(self._checkpoints) > 1 and (self._nbytes > self._budget or len(self._checkpoints) > self.max_count):
            i = self._victim()
            self._nbytes -= self._checkpoints.pop(i).nbytes
            self._epochs = np.delete(self._epochs, i)

    def _victim(self) -> int:
        """Index of the checkpoint to drop: of those neither first nor recent, the one leaving the
        smallest gap in log(1 + epoch); then the oldest recent one but the first; never the latest."""
        n = len(self._checkpoints)
        ordinary = n - min(self.recent, n - 1) - 1  # indices 1 .. ordinary are neither first nor recent
        if ordinary >= 1:
            log_epochs = np.log1p(self._epochs[:ordinary + 2].astype(np.float64))
            return 1 + int(np.argmin(log_epochs[2:] - log_epochs[:-2]))
        return 1 if n > 2 else 0

    # --- project files ----------------------------------------------------------------------
    def to_dict(self) -> dict:
        """The JSON document described in the module's docstring."""
        first = self._checkpoints[0].weights if self._checkpoints else ()
        return {"format": FORMAT, "version": VERSION, "budget": self._budget, "recent": self.recent,
                "max_count": self.max_count, "dtype": first[0][0].dtype.name if first else None,
                "shapes": [[list(kernel.shape), list(bias.shape)] for kernel, bias in first],
                "checkpoints": [_checkpoint_to_dict(c) for c in self._checkpoints]}

    @classmethod
    def from_dict(cls, doc) -> "CheckpointStore":
        """The inverse of ``to_dict``; FormatError for anything else."""
        if not isinstance(doc, dict):
            raise FormatError(f"checkpoints must be a JSON object, got {type(doc).__name__}")
        io.check_version(doc, FORMAT, VERSION)
        unknown = sorted(set(doc) - {"format", "version", "budget", "recent", "max_count", "dtype", "shapes",
                                     "checkpoints"})
        if unknown:
            raise FormatError(f"checkpoints: unknown keys {unknown}")
        try:
            store = cls(doc.get("budget"), doc.get("recent"), doc.get("max_count"))
        except ValueError as error:
            raise FormatError(f"checkpoints: {error}") from None
        entries = doc.get("checkpoints")
        if not isinstance(entries, list):
            raise FormatError(f"checkpoints.checkpoints must be a list, got {_short(entries)}")
        if entries:
            reader = _Reader(doc.get("dtype"), doc.get("shapes"))
            for i, entry in enumerate(entries):
                try:
                    epoch, weights, state = reader.checkpoint(entry)
                    store.add(epoch, weights, state)
                except ValueError as error:  # FormatError too
                    raise FormatError(f"checkpoint {i}: {error}") from None
        return store


def recovery_checkpoint(history: History, store: CheckpointStore, tolerance: float = 0.01) -> Checkpoint | None:
    """Where to go back to after a divergence: the checkpoint before the cost began to climb for good.

    The climb begins after epoch ``m``, the last epoch whose train cost was within ``tolerance``
    (relative) of the lowest train cost of the run: every later epoch cost more. Its weights are
    those the store holds at the start of epoch ``m`` or earlier (the latest checkpoint at or before
    epoch ``m − 1``), so nothing of the climb is in them. ``history.train_loss[i]`` is the cost of epoch
    ``i + 1`` of the store's epochs. None if the store has no checkpoint that early.
    """
    costs = np.array(history.train_loss, dtype=np.float64)
    costs[~np.isfinite(costs)] = np.inf
    if not len(costs) or not np.isfinite(costs).any():
        return store.at_or_before(0)
    lowest = costs.min()
    last_good = int(np.flatnonzero(costs <= lowest + abs(lowest) * tolerance)[-1]) + 1  # an epoch number
    return store.at_or_before(last_good - 1)


def has_climbed(train_loss, epochs: int = CLIMB_EPOCHS, factor: float = CLIMB_FACTOR) -> bool:
    """Whether a run's cost climbed for good without overflowing: each of its last ``epochs`` epochs cost
    more than ``factor`` times its lowest and more than its first (``train_loss``: one per epoch)."""
    costs = np.asarray(train_loss, dtype=np.float64)
    if len(costs) < 2 * epochs:
        return False
    recent = costs[-epochs:]
    lowest = np.nanmin(costs)
    return bool(np.all((recent > factor * lowest) & (recent > costs[0])))


# --- helpers ----------------------------------------------------------------------------------
def _frozen_weights(weights) -> tuple:
    """Read-only copies of ``[(kernel, bias), ...]``, checked to be one network's finite float weights."""
    pairs = []
    for i, pair in enumerate(weights):
        try:
            kernel, bias = (_frozen_array(a) for a in pair)
        except (TypeError, ValueError):
            raise ValueError(f"layer {i}: expected a (kernel, bias) pair, got {_short(pair)}") from None
        if kernel.dtype not in (np.float32, np.float64) or bias.dtype != kernel.dtype:
            raise ValueError(f"layer {i}: weights must be float32 or float64 arrays, "
                             f"got {kernel.dtype} and {bias.dtype}")
        if kernel.ndim != 2 or bias.shape != kernel.shape[1:] or (pairs and pairs[-1][0].shape[1] != kernel.shape[0]):
            raise ValueError(f"layer {i}: kernel {kernel.shape} and bias {bias.shape} do not fit the layers before")
        if not (np.isfinite(kernel).all() and np.isfinite(bias).all()):
            raise ValueError(f"layer {i}: the weights have NaN or infinite values")
        kernel.flags.writeable = bias.flags.writeable = False
        pairs.append((kernel, bias))
    if not pairs:
        raise ValueError("no weights: a network has at least one layer")
    return tuple(pairs)


def _frozen_array(values, dtype=None) -> np.ndarray:
    """An array no one can change: a read-only array owning its data as it is, else a copy."""
    if (isinstance(values, np.ndarray) and not values.flags.writeable and values.flags.owndata
            and dtype in (None, values.dtype)):
        return values
    return np.array(values, dtype=dtype, copy=True)


def _check_same_network(weights, first) -> None:
    shapes = [(k.shape, b.shape, k.dtype) for k, b in weights]
    expected = [(k.shape, b.shape, k.dtype) for k, b in first]
    if shapes != expected:
        raise ValueError(f"weights of another network ({_short(shapes)}, not {_short(expected)}); "
                         "a store holds one network: start a new one")


def _frozen_state(state: dict, weights: tuple) -> dict:
    """A copy of a trainer's ``state_dict()`` with its optimizer buffers as read-only arrays."""
    try:
        optimizer = dict(state["optimizer"])
        names = optimizers.create(optimizer["name"]).buffers
        # the buffers become new arrays below; deep-copying their lists first would cost more than training
        state = {key: copy.deepcopy(value) for key, value in state.items() if key != "optimizer"}
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"not a trainer's state ({error!s:.200})") from None
    params = [p for pair in weights for p in pair]
    for name in names:
        if optimizer.get(name) is None:
            continue
        try:
            arrays = [_frozen_array(values, p.dtype) for values, p in zip(optimizer[name], params)]
        except (TypeError, ValueError):
            arrays = []
        if len(arrays) != len(params) or any(a.shape != p.shape for a, p in zip(arrays, params)):
            raise ValueError(f"the optimizer's {name} does not match the weights' shapes")
        for a in arrays:
            a.flags.writeable = False
        optimizer[name] = arrays
    state["optimizer"] = optimizer
    return state


def _buffers(optimizer: dict) -> dict:
    return {name: optimizer[name] for name in optimizers.create(optimizer["name"]).buffers
            if optimizer.get(name) is not None}


def _encode(arrays) -> str:
    """base64 of the arrays in turn, C order, little-endian."""
    return base64.b64encode(b"".join(a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes() for a in arrays)
                            ).decode("ascii")


def _checkpoint_to_dict(checkpoint: Checkpoint) -> dict:
    state = checkpoint.trainer_state
    if state is not None:
        optimizer = dict(state["optimizer"])
        optimizer.update({name: _encode(arrays) for name, arrays in _buffers(optimizer).items()})
        state = dict(state, optimizer=optimizer)
    return {"epoch": checkpoint.epoch, "weights": _encode(a for pair in checkpoint.weights for a in pair),
            "trainer_state": state}


class _Reader:
    """Decodes the checkpoints of a document whose dtype and shapes were checked once."""

    def __init__(self, dtype, shapes):
        if dtype not in ("float32", "float64"):
            raise FormatError(f"checkpoints.dtype must be 'float32' or 'float64', got {_short(dtype)}")
        if not isinstance(shapes, list) or not 1 <= len(shapes) <= limits.MAX_HIDDEN_LAYERS + 1 or not all(
                isinstance(s, list) and len(s) == 2 and all(isinstance(d, list) for d in s) for s in shapes):
            raise FormatError("checkpoints.shapes must list [kernel shape, bias shape] per layer, "
                              f"got {_short(shapes)}")
        n_inputs = shapes[0][0][0] if len(shapes[0][0]) == 2 else None
        layers = []
        for i, (kernel, bias) in enumerate(shapes):
            units = kernel[1] if len(kernel) == 2 else None
            n_in = layers[-1] if layers else n_inputs
            if not (len(kernel) == 2 and all(type(d) is int and d >= 1 for d in kernel + bias)
                    and kernel[0] == n_in and bias == [units]):
                raise FormatError(f"checkpoints.shapes: layer {i} has kernel {_short(kernel)} and bias "
                                  f"{_short(bias)}, which do not fit the layers before")
            layers.append(units)
        limits.check_network([n_inputs] + layers, lambda message: FormatError(f"checkpoints.shapes: {message}"))
        self.dtype = np.dtype(dtype)
        self.shapes = [shape for kernel, bias in shapes for shape in (tuple(kernel), tuple(bias))]
        # a trainer of this shape checks the states, as it would when loading them
        self.trainer = Trainer(Network(n_inputs, [(units, "linear") for units in layers], seed=0, dtype=self.dtype))

    def arrays(self, text, what: str) -> list:
        """The arrays of ``self.shapes`` from ``_encode``'s text."""
        if not isinstance(text, str):
            raise FormatError(f"{what} must be a base64 string, got {_short(text)}")
        try:
            data = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError) as error:
            raise FormatError(f"{what} is not valid base64 ({error})") from None
        sizes = [math.prod(shape) for shape in self.shapes]
        if len(data) != sum(sizes) * self.dtype.itemsize:
            raise FormatError(f"{what} holds {len(data):,} bytes; the shapes need {sum(sizes) * self.dtype.itemsize:,}")
        flat = np.frombuffer(data, dtype=self.dtype.newbyteorder("<")).astype(self.dtype)
        if not np.isfinite(flat).all():
            raise FormatError(f"{what} has NaN or infinite values")
        ends = np.cumsum(sizes)
        return [part.reshape(shape) for part, shape in zip(np.split(flat, ends[:-1]), self.shapes)]

    def checkpoint(self, entry) -> tuple:
        if not isinstance(entry, dict) or set(entry) != {"epoch", "weights", "trainer_state"}:
            raise FormatError(f"expected an object with epoch, weights and trainer_state, got {_short(entry)}")
        epoch = _count(entry["epoch"], "epoch")
        arrays = self.arrays(entry["weights"], "weights")
        weights = list(zip(arrays[::2], arrays[1::2]))
        state = entry["trainer_state"]
        if state is not None:
            state = self.state(state)
        return epoch, weights, state

    def state(self, state) -> dict:
        if not isinstance(state, dict) or not isinstance(state.get("optimizer"), dict):
            raise FormatError(f"trainer_state must be a trainer's state object, got {_short(state)}")
        optimizer = dict(state["optimizer"])
        try:
            self.trainer.optimizer = optimizer.get("name")
        except ValueError as error:
            raise FormatError(f"trainer_state: {error}") from None
        for name in self.trainer.optimizer.buffers:
            if optimizer.get(name) is not None:
                optimizer[name] = self.arrays(optimizer[name], f"trainer_state.optimizer.{name}")
        state = dict(state, optimizer=optimizer)
        try:
            self.trainer.load_state_dict(state)
        except ValueError as error:
            raise FormatError(str(error)) from None
        return state


def _count(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{what} must be a non-negative integer, got {_short(value)}")
    return int(value)


def _positive(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{what} must be a positive integer, got {_short(value)}")
    return int(value)


def _short(value) -> str:
    return limits.excerpt(value)
