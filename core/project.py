"""Project files (.json): what to train on, what to build, how to train, and optionally the result.

Version 3, the current layout::

    {"format": "backprop-playground-project", "version": 3,
     "data": {DataSpec fields}, "network": {NetworkSpec fields}, "training": {TrainingConfig fields},
     "weights": a core.io weights document (optional; with the preprocessing, so the weights
                answer raw rows as they did when saved),
     "history": {"train_loss": [...], "test_loss": [...], "train_accuracy": [...], "test_accuracy": [...],
                 "test_epoch": [...]}
                (optional; accuracies are null for regression; test figures are those of the epochs
                 numbered in test_epoch, 1 for the first; without it, of every epoch from the first),
     "trainer_state": Trainer.state_dict() with arrays as lists (optional: the optimizer's state, the
                      shuffling and an unfinished epoch, so training continues exactly where it stopped),
     "checkpoints": a core.checkpoints document: the weights at past epochs (optional),
     "runs": [{"label": "...", "data": {...}, "network": {...}, "training": {...}, "history": {...},
               "weights": {...}}, ...]
             (optional; pinned runs, at most core.runs.MAX_RUNS, each section as above)}

A project keeps at most ``MAX_SAVED_CHECKPOINT_BYTES`` of checkpoints: a larger store is saved
thinned by its own rule, so the file stays within what ``load_project`` reads.

A CSV dataset's ``csv_path`` is stored relative to the project file's folder (with ``/``) when the
file lies inside that folder, so the two can move together; it is made absolute again on loading.

Version 2 is version 3 without ``checkpoints`` and ``runs``; version 1 also lacks ``trainer_state``.
Version 0, the first layout, kept every setting at the top level: the dataset's ``source`` was
called ``"dataset"`` and one ``"seed"`` served data, weights and shuffling alike. ``migrate``
upgrades it. Every problem is reported as ``core.io.FormatError``.
"""
from __future__ import annotations

import math
import os
import reprlib
import typing
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

from . import activations, datasets, io
from .checkpoints import CheckpointStore
from .io import FormatError
from .network import MAX_UNITS, Network
from .runs import MAX_RUNS, PinnedRun
from .spec import DataSpec, NetworkSpec, TrainingConfig, from_dict, to_dict
from .trainer import History, Trainer, json_ready

FORMAT = "backprop-playground-project"
VERSION = 3
MAX_SAVED_CHECKPOINT_BYTES = 128 * 2**20  # base64 makes it 171 MiB of the io.MAX_FILE_BYTES a file may hold
SECTIONS = {"data": DataSpec, "network": NetworkSpec, "training": TrainingConfig}


@dataclass
class Project:
    data: DataSpec = field(default_factory=DataSpec)
    network: NetworkSpec = field(default_factory=NetworkSpec)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    weights: Network | None = None  # the trained network, if the project kept it
    history: History | None = None
    trainer_state: dict | None = None  # Trainer.state_dict(), to continue exactly where the run stopped
    checkpoints: CheckpointStore | None = None
    runs: tuple = ()  # PinnedRun, oldest first


def save_project(path, data: DataSpec, network: NetworkSpec, training: TrainingConfig,
                 net: Network | None = None, history: History | None = None, trainer_state: dict | None = None, *,
                 checkpoints: CheckpointStore | None = None, runs=()) -> None:
    """Write a project file atomically. ValueError for non-finite weights or history, more than
    ``MAX_RUNS`` runs, or a file too large to open again (nothing is written then); OSError."""
    path = Path(path)
    if len(runs) > MAX_RUNS:
        raise ValueError(f"{len(runs)} pinned runs; a project keeps at most {MAX_RUNS}")
    doc = {"format": FORMAT, "version": VERSION, **_settings(data, network, training, path.parent)}
    if net is not None:
        doc["weights"] = io.network_to_dict(net)
    if history is not None:
        doc["history"] = asdict(history)
    if trainer_state is not None:
        doc["trainer_state"] = json_ready(trainer_state)
    if checkpoints is not None:
        doc["checkpoints"] = checkpoints.copy(budget=MAX_SAVED_CHECKPOINT_BYTES).to_dict()
    if runs:
        doc["runs"] = [{"label": run.label, **_settings(run.data, run.network, run.training, path.parent),
                        "history": asdict(run.history), "weights": io.network_to_dict(run.weights)} for run in runs]
    text = (io.dump_json(doc) + "\n").encode("utf-8")
    if len(text) > io.MAX_FILE_BYTES:
        raise ValueError(f"the project would take {len(text) / 2**20:,.0f} MiB, more than the "
                         f"{io.MAX_FILE_BYTES // 2**20} MiB a project may hold: "
                         "pin fewer runs or lower the checkpoint budget")
    io.atomic_write(path, text)


def _settings(data: DataSpec, network: NetworkSpec, training: TrainingConfig, folder: Path) -> dict:
    if data.csv_path:
        data = replace(data, csv_path=_relative(data.csv_path, folder))
    return {"data": to_dict(data), "network": to_dict(network), "training": to_dict(training)}


def load_project(path) -> Project:
    """Read, migrate and check a project file. FormatError for a bad one; OSError if unreadable."""
    path = Path(path)
    try:
        return _project(migrate(io.parse_json(io.read_file(path), "project")), path.parent)
    except FormatError as error:
        raise FormatError(f"{path.name}: {error}") from None


def migrate(doc) -> dict:
    """Upgrade a project document of any known version to the current one (a new dict)."""
    if not isinstance(doc, dict):
        raise FormatError(f"a project must be a JSON object, got {type(doc).__name__}")
    version = io.check_version(doc, FORMAT, VERSION)
    if version == 0:
        doc = _from_version_0(doc)
    return {**doc, "version": VERSION}  # versions 1 and 2 lack only keys that later versions added


def _from_version_0(doc: dict) -> dict:
    flat = {key: value for key, value in doc.items() if key not in ("format", "version", "weights", "history")}
    if "dataset" in flat:
        flat["source"] = flat.pop("dataset")
    unknown = sorted(set(flat) - {f.name for cls in SECTIONS.values() for f in fields(cls)})
    if unknown:
        raise FormatError(f"unknown version 0 settings {unknown}")
    # each setting goes to the section that has the field; "seed" is in all three, as it served all three
    upgraded = {name: {f.name: flat[f.name] for f in fields(cls) if f.name in flat} for name, cls in SECTIONS.items()}
    extras = {key: doc[key] for key in ("weights", "history") if key in doc}
    return {"format": FORMAT, "version": 1, **upgraded, **extras}


# --- checks -----------------------------------------------------------------------------------
def _project(doc: dict, folder: Path) -> Project:
    unknown = sorted(set(doc) - {"format", "version", "weights", "history", "trainer_state", "checkpoints", "runs",
                                 *SECTIONS})
    if unknown:
        raise FormatError(f"unknown keys {unknown}")
    data, network, training = _sections(doc, folder)
    weights = _weights(doc["weights"], network) if doc.get("weights") is not None else None
    history = _history(doc["history"]) if doc.get("history") is not None else None
    state = doc.get("trainer_state")
    if state is not None and (weights is None or not isinstance(state, dict)):
        raise FormatError("trainer_state must be an object, and needs the weights it was saved with")
    checkpoints = None
    if doc.get("checkpoints") is not None:
        checkpoints = CheckpointStore.from_dict(doc["checkpoints"])
        _check_checkpoints(checkpoints, network, weights)
    return Project(data, network, training, weights, history, state, checkpoints,
                   _runs(doc.get("runs", []), folder))


def _sections(doc: dict, folder: Path) -> tuple[DataSpec, NetworkSpec, TrainingConfig]:
    """The three specs, checked, with a relative CSV path made absolute."""
    data, network, training = (_spec(cls, doc.get(name, {}), name) for name, cls in SECTIONS.items())
    _check_values(data, network, training)
    if data.csv_path and not os.path.isabs(data.csv_path):
        data = replace(data, csv_path=os.path.normpath(folder.absolute() / data.csv_path))
    return data, network, training


def _weights(doc, network: NetworkSpec) -> Network:
    weights = io.network_from_dict(doc)
    hidden = list(network.hidden)
    if weights.spec[:-1] != hidden or weights.dtype.name != network.dtype:
        raise FormatError(f"the weights ({weights.spec}, {weights.dtype}) do not match the network's "
                          f"hidden layers {hidden} and dtype {network.dtype}")
    return weights


def _check_checkpoints(store: CheckpointStore, network: NetworkSpec, weights: Network | None) -> None:
    if not len(store):
        return
    kept = store.latest.weights  # a store holds one network: any checkpoint's shapes are all of theirs
    shapes = [(k.shape, b.shape) for k, b in kept]
    hidden = [units for units, _ in network.hidden]
    if ([k.shape[1] for k, _ in kept[:-1]] != hidden or kept[0][0].dtype.name != network.dtype
            or (weights is not None and shapes != [(l.kernel.shape, l.bias.shape) for l in weights.layers])):
        raise FormatError(f"the checkpoints' layers {shapes} ({kept[0][0].dtype}) do not match the "
                          f"network's hidden layers {hidden} and dtype {network.dtype}")


def _runs(entries, folder: Path) -> tuple:
    if not isinstance(entries, list) or len(entries) > MAX_RUNS:
        raise FormatError(f"runs must be a list of at most {MAX_RUNS} pinned runs, got {reprlib.repr(entries)}")
    runs = []
    for i, entry in enumerate(entries):
        try:
            if not isinstance(entry, dict) or set(entry) != {"label", "history", "weights", *SECTIONS}:
                raise FormatError(f"expected label, {', '.join(SECTIONS)}, history and weights, "
                                  f"got {reprlib.repr(entry)}")
            if not isinstance(entry["label"], str):
                raise FormatError(f"label must be text, got {reprlib.repr(entry['label'])}")
            data, network, training = _sections(entry, folder)
            runs.append(PinnedRun(data, network, training, _history(entry["history"]),
                                  _weights(entry["weights"], network), entry["label"]))
        except FormatError as error:
            raise FormatError(f"run {i}: {error}") from None
    return tuple(runs)


def _spec(cls, values, section: str):
    """A spec dataclass from its section, each value of its field's JSON type."""
    try:
        spec = from_dict(cls, values)
    except ValueError as error:
        raise FormatError(f"{section}: {error}") from None
    for name, hint in typing.get_type_hints(cls).items():
        value = getattr(spec, name)
        if not any(_is_a(value, kind) for kind in typing.get_args(hint) or (hint,)):
            raise FormatError(f"{section}.{name} must be {hint}, got {value!r}")
    return spec


def _is_a(value, kind) -> bool:
    if kind is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return value is None if kind is type(None) else isinstance(value, kind)


def _check_values(data: DataSpec, network: NetworkSpec, training: TrainingConfig) -> None:
    """Names, layer sizes and hyperparameters, so a project that loads can be built and trained."""
    try:
        sources = {*datasets.PLANE_SETS, *datasets.TABLES, "csv", datasets.DRAWN}
        if data.source not in sources:
            raise ValueError(f"unknown dataset {data.source!r}; expected one of {', '.join(sorted(sources))}")
        if data.points:
            datasets.from_points(data.points)  # checks them
        unknown = [f for f in data.features if f not in datasets.FEATURES]
        if unknown or not data.features:
            raise ValueError(f"unknown or no input features {unknown}; expected some of {', '.join(datasets.FEATURES)}")
        if data.task not in (None, *datasets.TASKS):
            raise ValueError(f"unknown task {data.task!r}; expected one of {', '.join(datasets.TASKS)}")
        if min(data.seed, network.seed, training.seed) < 0:
            raise ValueError("seeds must be non-negative")
        _check_hidden(network)
        # the trainer's own checks, on a one-weight stand-in network
        Trainer(Network(1, [(1, "linear")]), "mse", training.optimizer, training.learning_rate,
                training.batch_size, training.regularization, training.reg_rate, training.seed)
    except (ValueError, TypeError) as error:  # TypeError: an unhashable name, such as a list
        raise FormatError(str(error)) from None


def _check_hidden(network: NetworkSpec) -> None:
    if len(network.hidden) > io.MAX_LAYERS:
        raise ValueError(f"{len(network.hidden)} hidden layers; the limit is {io.MAX_LAYERS}")
    for i, layer in enumerate(network.hidden):
        if not (isinstance(layer, tuple) and len(layer) == 2 and type(layer[0]) is int
                and 1 <= layer[0] <= MAX_UNITS and isinstance(layer[1], str)):
            raise ValueError(f"hidden layer {i} must be [units from 1 to {MAX_UNITS}, activation], got {layer!r}")
        if activations.canonical_name(layer[1]) == "softmax":
            raise ValueError(f"hidden layer {i}: softmax is for the output layer only")
    units = [units for units, _ in network.hidden]
    if sum(a * b for a, b in zip(units, units[1:])) > io.MAX_PARAMETERS:
        raise ValueError(f"the hidden layers {units} hold more than {io.MAX_PARAMETERS:,} parameters")
    if network.output_activation is not None:
        activations.canonical_name(network.output_activation)
    if network.dtype not in ("float32", "float64"):
        raise ValueError(f"dtype must be 'float32' or 'float64', got {network.dtype!r}")


def _history(values) -> History:
    if not isinstance(values, dict) or not set(values) <= {f.name for f in fields(History)}:
        raise FormatError(f"history must map {[f.name for f in fields(History)]} to lists, got {reprlib.repr(values)}")
    for name, series in values.items():
        if not isinstance(series, list) or not all(v is None or _is_a(v, float) for v in series):
            raise FormatError(f"history.{name} must be a list of finite numbers, got {reprlib.repr(series)}")
    history = History(**values)
    for accuracy, loss in (("train_accuracy", "train_loss"), ("test_accuracy", "test_loss")):
        if len(getattr(history, accuracy)) not in (0, len(getattr(history, loss))):
            raise FormatError(f"history.{accuracy} must have a value (or null) for each of {loss}")
    if "test_epoch" not in values:  # written before tests could skip epochs: one per epoch
        history.test_epoch = list(range(1, len(history.test_loss) + 1))
    epochs = history.test_epoch
    if (len(epochs) != len(history.test_loss) or not all(_is_a(e, int) for e in epochs)
            or any(a >= b for a, b in zip([0] + epochs, epochs)) or epochs[-1:] > [len(history.train_loss)]):
        raise FormatError(f"history.test_epoch must number the epochs of the {len(history.test_loss)} test figures, "
                          f"increasing from 1, got {reprlib.repr(epochs)}")
    return history


def _relative(csv_path: str, folder: Path) -> str:
    """``csv_path`` relative to ``folder`` (with '/') if the file lies inside it, else absolute."""
    csv_path, folder = Path(csv_path).absolute(), folder.absolute()
    return csv_path.relative_to(folder).as_posix() if csv_path.is_relative_to(folder) else str(csv_path)
