"""Plain specs the app edits and the CLI reads: what to build, how to train, which data.

``DataSpec`` → ``prepare`` → ``Problem`` (arrays ready to train on);
``NetworkSpec.build(problem)`` → ``Network``; ``TrainingConfig.build(net, problem)`` → ``Trainer``.

Each spec's ``check()`` holds its settings to ``core.limits`` (the ranges the window's fields show);
``prepare`` and ``build`` check before they allocate anything. ``prepare`` takes ``should_stop`` and
ends with ``Cancelled`` when it turns true (see ``core.limits``).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import numpy as np

from . import activations, datasets, limits, losses, optimizers, tables
from .limits import Cancelled  # noqa: F401 - what prepare raises on request, importable from here
from .network import Network
from .preprocessing import Preprocessing
from .trainer import FULL_BATCH, REGULARIZATIONS, Trainer

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
    target: str | None = None  # CSV: the column to predict; None: the last that is not a row index or constant
    task: str | None = None  # None: inferred from the target; else one of tables.TASK_CHOICES
    standardize: bool = True  # tables: inputs and regression targets to mean 0, std 1 (off: raw, as the lessons)
    points: tuple = ()  # the drawn set: ((x1, x2, label), ...), each label a value when task is "regression"
    header: bool | None = None  # CSV: whether the first row names the columns; None: detected
    delimiter: str | None = None  # CSV: None: detected among , ; tab |
    feature_columns: tuple | None = None  # CSV: columns to learn from; None: all but the target and the unticked
    missing: str = "refuse"  # CSV: missing cells: 'refuse', 'drop' the rows, or fill with 'mean', 'median', 'mode'
    csv_fingerprint: str | None = None  # CSV: tables.fingerprint of the file when the choices were made

    def __post_init__(self):
        for name in ("features", "feature_columns"):  # a project's JSON lists; other types are refused by checks
            if isinstance(getattr(self, name), list):
                object.__setattr__(self, name, tuple(getattr(self, name)))
        if isinstance(self.points, (list, tuple)):
            object.__setattr__(self, "points", tuple(tuple(p) if isinstance(p, list) else p for p in self.points))

    @property
    def is_plane(self) -> bool:
        return self.source in datasets.PLANE_SETS or self.source == datasets.DRAWN

    def check(self) -> None:
        """DatasetError unless every setting is one the window can show, within ``core.limits``."""
        error = datasets.DatasetError
        sources = (*datasets.PLANE_SETS, *datasets.TABLES, "csv", datasets.DRAWN)
        if not isinstance(self.source, str) or self.source not in sources:
            raise error(f"unknown dataset {limits.excerpt(self.source)}; expected one of {', '.join(sources)}")
        limits.check_int(self.n_samples, "n_samples", limits.SAMPLES, error)
        limits.check_number(self.noise, "noise", limits.NOISE, error)
        limits.check_number(self.test_fraction, "test_fraction", limits.TEST_FRACTION, error)
        limits.check_int(self.seed, "the data seed", limits.SEED, error)
        datasets.check_features(self.features)
        if self.csv_path is not None:
            limits.check_text(self.csv_path, "csv_path", limits.MAX_PATH_CHARS, error)
        if self.target is not None:
            limits.check_text(self.target, "target", limits.MAX_NAME_CHARS, error)
        if self.task is not None and self.task not in tables.TASK_CHOICES:
            raise error(f"unknown task {limits.excerpt(self.task)}; expected one of {', '.join(tables.TASK_CHOICES)}")
        if not isinstance(self.standardize, bool):
            raise error(f"standardize must be true or false, got {limits.excerpt(self.standardize)}")
        self._check_csv_choices()
        if self.points:
            datasets.from_points(self.points, self.task)  # checks them

    def _check_csv_choices(self) -> None:
        error = datasets.DatasetError
        if self.header not in (None, True, False):
            raise error(f"header must be true, false or null, got {limits.excerpt(self.header)}")
        if self.missing not in tables.MISSING_POLICIES:
            raise error(f"unknown missing-value policy {limits.excerpt(self.missing)}; expected one of "
                        f"{', '.join(tables.MISSING_POLICIES)}")
        if self.delimiter is not None and not (isinstance(self.delimiter, str) and len(self.delimiter) == 1
                                               and self.delimiter not in "\"\r\n"):
            raise error(f"the delimiter must be one character other than a quote or a line end, "
                        f"got {limits.excerpt(self.delimiter)}")
        columns = self.feature_columns
        if columns is not None:
            if not isinstance(columns, tuple) or not columns or len(columns) > limits.MAX_INPUTS:
                raise error(f"feature_columns must list 1 to {limits.MAX_INPUTS:,} column names, "
                            f"got {limits.excerpt(columns)}")
            for name in columns:
                limits.check_text(name, "a feature column", limits.MAX_NAME_CHARS, error)
        if self.csv_fingerprint is not None:
            limits.check_text(self.csv_fingerprint, "csv_fingerprint", limits.MAX_NAME_CHARS, error)


@dataclass(frozen=True)
class NetworkSpec:
    """Hidden layers as ``(units, activation)`` pairs; the output layer follows the problem.

    Activation names are stored canonical (``"ReLU"`` and ``"relu"`` are one spec)."""

    hidden: tuple = ((4, "tanh"), (2, "tanh"))
    output_activation: str | None = None  # None: the problem's natural one
    seed: int = 0
    dtype: str = "float64"

    def __post_init__(self):
        # malformed layers, and more than can be valid, are left for the checks to name
        if isinstance(self.hidden, (list, tuple)):
            hidden = self.hidden if len(self.hidden) > limits.MAX_HIDDEN_LAYERS else map(_layer, self.hidden)
            object.__setattr__(self, "hidden", tuple(hidden))
        if isinstance(self.output_activation, str):
            object.__setattr__(self, "output_activation", activations.canonical_name(self.output_activation))

    def check(self) -> None:
        """ValueError unless every setting is one the window can show, within ``core.limits``
        (the network's size on its data is checked by ``layers``)."""
        if not isinstance(self.hidden, tuple) or len(self.hidden) > limits.MAX_HIDDEN_LAYERS:
            raise ValueError(f"hidden must be a list of at most {limits.MAX_HIDDEN_LAYERS} layers, "
                             f"got {limits.excerpt(self.hidden)}")
        for i, layer in enumerate(self.hidden):
            if not (isinstance(layer, tuple) and len(layer) == 2 and isinstance(layer[1], str)):
                raise ValueError(f"hidden layer {i} must be [units, activation], got {limits.excerpt(layer)}")
            limits.check_int(layer[0], f"hidden layer {i} units", (1, limits.MAX_UNITS))
            if activations.canonical_name(layer[1]) == "softmax":
                raise ValueError(f"hidden layer {i}: softmax is for the output layer only")
        if self.output_activation is not None:
            activations.canonical_name(self.output_activation)
        limits.check_int(self.seed, "the network seed", limits.SEED)
        if self.dtype not in ("float32", "float64"):
            raise ValueError(f"dtype must be 'float32' or 'float64', got {limits.excerpt(self.dtype)}")

    def layers(self, problem: "Problem") -> list[tuple[int, str]]:
        """``[(units, activation), ...]`` on ``problem``, the output layer last; ValueError unless the
        network and one pass of the larger data split through it are within ``core.limits``."""
        self.check()
        output = self.output_activation or OUTPUT_FOR_TASK[problem.task][0]
        layers = [(int(u), str(a)) for u, a in self.hidden] + [(problem.n_outputs, output)]
        sizes = [problem.n_inputs] + [units for units, _ in layers]
        limits.check_network(sizes)
        limits.check_pass(max(len(problem.X_train), len(problem.X_test)), sizes)
        return layers

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

    def check(self) -> None:
        """ValueError unless every setting is one the window can show, within ``core.limits``."""
        limits.check_number(self.learning_rate, "learning_rate", limits.LEARNING_RATE, above_low=True)
        _check_name(self.optimizer, "optimizer", optimizers.OPTIMIZERS)
        low, high = limits.BATCH_SIZE
        if self.batch_size != FULL_BATCH and (isinstance(self.batch_size, bool) or not isinstance(
                self.batch_size, (int, np.integer)) or not low <= self.batch_size <= high):
            raise ValueError(f"batch_size must be a positive integer or {FULL_BATCH!r} (at most {high:,}), "
                             f"got {limits.excerpt(self.batch_size)}")
        if self.regularization not in (None, ""):
            _check_name(self.regularization, "regularization", [r for r in REGULARIZATIONS if r] + ["none"])
        limits.check_number(self.reg_rate, "reg_rate", limits.REG_RATE)
        if self.loss is not None:
            losses.canonical_name(self.loss)
        limits.check_int(self.seed, "the training seed", limits.SEED)

    def loss_for(self, problem: "Problem") -> str:
        return self.loss or OUTPUT_FOR_TASK[problem.task][1]

    def build(self, net: Network, problem: "Problem") -> Trainer:
        """A trainer that scores accuracy by the problem's task, whatever the loss."""
        self.check()
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
    summary: str = ""  # tables: one line on what was read and what is learnt

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


def prepare(spec: DataSpec, should_stop=None, progress=None, table=None) -> Problem:
    """Generate or load, split, and fit the preprocessing on the training split: the feature map
    (2-D sets) or the filling of missing cells, encoding and standardisation (tables).

    DatasetError for settings out of ``core.limits`` (checked first) or data that cannot be used;
    ``Cancelled`` as soon as ``should_stop()`` turns true (checked between steps of at most ~0.2 s).
    A CSV file is read with ``progress(fraction)`` (see ``tables.read_table``), unless ``table`` gives
    it as already read (with the spec's header and delimiter).
    """
    spec.check()
    limits.check_stop(should_stop)
    if spec.source == datasets.DRAWN:
        data = datasets.from_points(spec.points, spec.task)
    elif spec.is_plane:
        data = datasets.make_plane(spec.source, spec.n_samples, spec.noise, spec.seed)
    elif spec.source == "csv":
        if not spec.csv_path:
            raise datasets.DatasetError("no CSV file chosen")
        if table is None:
            table = tables.read_table(spec.csv_path, spec.header, spec.delimiter, progress, should_stop)
        data = table.dataset(spec.target, spec.feature_columns, spec.task, spec.missing)
    else:
        data = datasets.load_table(spec.source)
    limits.check_stop(should_stop)
    train, test = datasets.train_test_split(data, spec.test_fraction, spec.seed)
    if len(train.X) == 0:
        raise datasets.DatasetError(f"no training data left: {len(data.X)} rows with {spec.test_fraction:.0%} "
                                    "kept for testing")
    limits.check_stop(should_stop)
    if spec.is_plane:  # the 2-D sets are drawn in their own units, as TensorFlow Playground's
        pre = Preprocessing.fit(train, feature_map=spec.features, standardize=False)
        X_train = pre.encode(train.X)
        limits.check_stop(should_stop)
        return Problem(X_train, train.y, pre.encode(test.X), test.y, pre, points_train=train.X, points_test=test.X)
    missing = spec.missing if spec.source == "csv" else "refuse"
    pre = Preprocessing.fit(train, standardize=spec.standardize, missing=missing)
    limits.check_stop(should_stop)
    X_train, Y_train = pre.encode(train.X), pre.encode_targets(train.y)
    limits.check_stop(should_stop)
    return Problem(X_train, Y_train, pre.encode(test.X), pre.encode_targets(test.y), pre, summary=data.summary)


def _check_name(value, what: str, names) -> None:
    if not isinstance(value, str) or len(value) > limits.MAX_NAME_CHARS or value.strip().lower() not in names:
        raise ValueError(f"unknown {what} {limits.excerpt(value)}; expected one of {', '.join(names)}")


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
        raise ValueError(f"unknown {cls.__name__} settings {limits.excerpt(unknown)}; "
                         f"expected some of {', '.join(sorted(known))}")
    return cls(**values)
