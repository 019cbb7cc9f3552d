"""Plain specs the app edits and the CLI reads: what to build, how to train, which data.

``DataSpec`` → ``prepare`` → ``Problem`` (arrays ready to train on);
``NetworkSpec.build(problem)`` → ``Network``; ``TrainingConfig.build(net, problem)`` → ``Trainer``.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import numpy as np

from . import activations, datasets, losses
from .network import Network
from .preprocessing import Preprocessing
from .trainer import Trainer

OUTPUT_FOR_TASK = {"regression": ("linear", "mse"), "binary": ("sigmoid", "bce"), "multiclass": ("softmax", "cross_entropy")}


@dataclass(frozen=True)
class DataSpec:
    """Which data: a 2-D set (``source`` in datasets.PLANE_SETS), a bundled table, or 'csv'.

    Frozen and hashable: edit with ``dataclasses.replace``; the app caches prepared data per spec."""

    source: str = "circle"
    n_samples: int = 500
    noise: float = 0.0
    test_fraction: float = 0.5
    seed: int = 0
    features: tuple = ("x1", "x2")  # 2-D sets only
    csv_path: str | None = None
    target: str | None = None
    task: str | None = None  # None: inferred from the target
    standardize: bool = True  # tables: inputs and regression targets to mean 0, std 1 (off: raw, as the lessons)
    points: tuple = ()  # the drawn set: ((x1, x2, label), ...)

    def __post_init__(self):
        if isinstance(self.features, (list, tuple)):  # a project's JSON list; other types are refused by checks
            object.__setattr__(self, "features", tuple(self.features))
        if isinstance(self.points, (list, tuple)):
            object.__setattr__(self, "points", tuple(tuple(p) if isinstance(p, list) else p for p in self.points))

    @property
    def is_plane(self) -> bool:
        return self.source in datasets.PLANE_SETS or self.source == datasets.DRAWN


@dataclass(frozen=True)
class NetworkSpec:
    """Hidden layers as ``(units, activation)`` pairs; the output layer follows the problem.

    Activation names are stored canonical (``"ReLU"`` and ``"relu"`` are one spec)."""

    hidden: tuple = ((4, "tanh"), (2, "tanh"))
    output_activation: str | None = None  # None: the problem's natural one
    seed: int = 0
    dtype: str = "float64"

    def __post_init__(self):
        if isinstance(self.hidden, (list, tuple)):  # malformed layers are left for the checks to name
            object.__setattr__(self, "hidden", tuple(_layer(layer) for layer in self.hidden))
        if isinstance(self.output_activation, str):
            object.__setattr__(self, "output_activation", activations.canonical_name(self.output_activation))

    def layers(self, problem: "Problem") -> list[tuple[int, str]]:
        output = self.output_activation or OUTPUT_FOR_TASK[problem.task][0]
        return [(int(u), str(a)) for u, a in self.hidden] + [(problem.n_outputs, output)]

    def build(self, problem: "Problem") -> Network:
        return Network(problem.n_inputs, self.layers(problem), seed=self.seed, dtype=np.dtype(self.dtype))


@dataclass(frozen=True)
class TrainingConfig:
    """How to train. ``batch_size`` is a number of samples or ``"all"`` (full-batch gradient descent)."""

    learning_rate: float = 0.03
    optimizer: str = "sgd"
    batch_size: int | str = 10
    regularization: str | None = None
    reg_rate: float = 0.0
    loss: str | None = None  # None: the problem's natural one
    seed: int = 0

    def __post_init__(self):
        if isinstance(self.batch_size, str):  # " All " and "all" are one spec; other words are left for the checks
            object.__setattr__(self, "batch_size", self.batch_size.strip().lower())
        if isinstance(self.loss, str):  # "half_mse" and "half_squared_error" are one spec
            object.__setattr__(self, "loss", losses.canonical_name(self.loss))

    def loss_for(self, problem: "Problem") -> str:
        return self.loss or OUTPUT_FOR_TASK[problem.task][1]

    def build(self, net: Network, problem: "Problem") -> Trainer:
        """A trainer that scores accuracy by the problem's task, whatever the loss."""
        return Trainer(net, loss=self.loss_for(problem), optimizer=self.optimizer,
                       learning_rate=self.learning_rate, batch_size=self.batch_size,
                       regularization=self.regularization, reg_rate=self.reg_rate, seed=self.seed,
                       task=problem.task)


@dataclass
class Problem:
    """Data ready to train on: network inputs (n, n_inputs); targets (n,) or (n, n_outputs)."""

    X_train: np.ndarray
    Y_train: np.ndarray
    X_test: np.ndarray
    Y_test: np.ndarray
    preprocessing: Preprocessing  # raw rows → these inputs, outputs → answers; travels with exports
    points_train: np.ndarray | None = None  # the raw 2-D points, for drawing (2-D sets only)
    points_test: np.ndarray | None = None

    @property
    def task(self) -> str:
        return self.preprocessing.task

    @property
    def input_names(self) -> list:
        return self.preprocessing.input_names

    @property
    def target_name(self) -> str:
        return self.preprocessing.target_name

    @property
    def class_names(self):
        return self.preprocessing.class_names

    @property
    def n_inputs(self) -> int:
        return self.X_train.shape[1]

    @property
    def n_outputs(self) -> int:
        return self.preprocessing.n_outputs

    @property
    def is_plane(self) -> bool:
        return self.points_train is not None

    def to_target_units(self, Y):
        """Network outputs or targets (n, 1) back in the target's own units."""
        return self.preprocessing.decode(Y)


def prepare(spec: DataSpec) -> Problem:
    """Generate or load, split, and fit the preprocessing on the training split: the feature map
    (2-D sets) or the encoding and standardisation (tables)."""
    if spec.source == datasets.DRAWN:
        data = datasets.from_points(spec.points)
    elif spec.is_plane:
        data = datasets.make_plane(spec.source, spec.n_samples, spec.noise, spec.seed)
    elif spec.source == "csv":
        if not spec.csv_path:
            raise datasets.DatasetError("no CSV file chosen")
        data = datasets.load_csv(spec.csv_path, spec.target, spec.task)
    else:
        data = datasets.load_table(spec.source)
    train, test = datasets.train_test_split(data, spec.test_fraction, spec.seed)
    if len(train.X) == 0:
        raise datasets.DatasetError(f"no training data left: {len(data.X)} rows with {spec.test_fraction:.0%} "
                                    "kept for testing")
    if spec.is_plane:  # the 2-D sets are drawn in their own units, as TensorFlow Playground's
        pre = Preprocessing.fit(train, feature_map=spec.features, standardize=False)
        return Problem(pre.encode(train.X), train.y, pre.encode(test.X), test.y, pre,
                       points_train=train.X, points_test=test.X)
    pre = Preprocessing.fit(train, standardize=spec.standardize)
    return Problem(pre.encode(train.X), pre.encode_targets(train.y), pre.encode(test.X), pre.encode_targets(test.y),
                   pre)


def _layer(layer):
    """``[units, "ReLU"]`` → ``(units, "relu")``; anything else unchanged, for the checks to refuse."""
    if isinstance(layer, (list, tuple)) and len(layer) == 2 and isinstance(layer[1], str):
        return (layer[0], activations.canonical_name(layer[1]))
    return tuple(layer) if isinstance(layer, list) else layer


def to_dict(spec) -> dict:
    """The spec as JSON-ready values (tuples become lists)."""
    return _lists(asdict(spec))


def _lists(value):
    if isinstance(value, dict):
        return {key: _lists(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_lists(item) for item in value]
    return value


def from_dict(cls, values: dict):
    """Build a spec from a dict, refusing unknown keys with a clear message."""
    if not isinstance(values, dict):
        raise ValueError(f"{cls.__name__} must be an object, got {type(values).__name__}")
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"unknown {cls.__name__} settings {unknown}; expected some of {sorted(known)}")
    return cls(**values)
