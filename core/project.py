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
               "weights": {...}, "shown": true}, ...]
             (optional; pinned runs, at most core.runs.MAX_RUNS, each section as above; "shown",
              optional, false for a run whose curves are hidden),
     "target_cost": the cost the runs are timed to reach (optional)}

A project keeps at most ``MAX_SAVED_CHECKPOINT_BYTES`` of checkpoints: a larger store is saved
thinned by its own rule, thinner still when the weights and pinned runs leave less room, so the file
stays within what ``load_project`` reads.

A CSV dataset's ``csv_path`` is stored relative to the project file's folder (with ``/``) when the
file lies inside that folder, so the two can move together; it is made absolute again on loading.

Version 2 is version 3 without ``checkpoints`` and ``runs``; version 1 also lacks ``trainer_state``.
Version 0, the first layout, kept every setting at the top level: the dataset's ``source`` was
called ``"dataset"`` and one ``"seed"`` served data, weights and shuffling alike. ``migrate``
upgrades it. Every problem with the file is reported as ``core.io.FormatError``.

Opening is all or nothing: ``open_project`` (or ``load_project`` then ``prepare_project``) checks
every setting against ``core.limits``, prepares the data and checks that the saved weights are those
of the network built on them, before anything adopts the project. ``save_project`` refuses to write
what loading would refuse.
"""
from __future__ import annotations

import math
import os
import typing
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

from . import activations, files, io, limits, losses
from .checkpoints import CheckpointStore
from .io import FormatError
from .network import Network
from .runs import MAX_RUNS, PinnedRun
from .spec import DataSpec, NetworkSpec, Problem, TrainingConfig, from_dict, prepare, to_dict
from .trainer import History, json_ready

FORMAT = "backprop-playground-project"
VERSION = 3
MAX_SAVED_CHECKPOINT_BYTES = 128 * 2**20  # base64 makes it 171 MiB of the 256 MiB a project file may hold
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
    target_cost: float | None = None  # the cost the runs are timed to reach


def save_project(path, data: DataSpec, network: NetworkSpec, training: TrainingConfig,
                 net: Network | None = None, history: History | None = None, trainer_state: dict | None = None, *,
                 checkpoints: CheckpointStore | None = None, runs=(), target_cost: float | None = None) -> None:
    """Write a project file atomically. ValueError for settings out of ``core.limits``, non-finite
    weights or history, more than ``MAX_RUNS`` runs, or a file too large to open again (nothing is
    written then); OSError if it cannot be written."""
    path = Path(path)
    if len(runs) > MAX_RUNS:
        raise ValueError(f"{len(runs)} pinned runs; a project keeps at most {MAX_RUNS}")
    for spec in (data, network, training, *(spec for run in runs for spec in (run.data, run.network, run.training))):
        spec.check()
    epochs = max(len(h.train_loss) for h in (history or History(), *(run.history for run in runs)))
    if epochs > limits.MAX_EPOCHS:
        raise ValueError(f"a history of {epochs:,} epochs; projects keep at most {limits.MAX_EPOCHS:,}")
    doc = {"format": FORMAT, "version": VERSION, **_settings(data, network, training, path.parent)}
    if net is not None:
        doc["weights"] = io.network_to_dict(net)
    if history is not None:
        doc["history"] = asdict(history)
    if trainer_state is not None:
        doc["trainer_state"] = json_ready(trainer_state)
    if runs:
        doc["runs"] = [{"label": run.label, **_settings(run.data, run.network, run.training, path.parent),
                        "history": asdict(run.history), "weights": io.network_to_dict(run.weights),
                        **({} if run.shown else {"shown": False})} for run in runs]
    if target_cost is not None:
        doc["target_cost"] = limits.check_number(target_cost, "the target cost", limits.TARGET_COST)
    text = _fitted_text(doc, checkpoints)
    io.check_loadable(text, ".json", "the project", "pin fewer runs or lower the checkpoint memory")
    io.atomic_write(path, text)


def _fitted_text(doc: dict, checkpoints: CheckpointStore | None) -> bytes:
    """``doc`` as a file's bytes, with ``checkpoints`` thinned as far as needed for the file to stay
    within what ``load_project`` reads: the settings, weights and pinned runs come first."""
    budget = MAX_SAVED_CHECKPOINT_BYTES
    for _ in range(3):
        if checkpoints is not None:
            store = checkpoints.copy(budget=budget)
            doc["checkpoints"] = store.to_dict()
        text = (io.dump_json(doc) + "\n").encode("utf-8")
        excess = len(text) - limits.MAX_FILE_BYTES[".json"]
        if checkpoints is None or excess <= 0 or len(store) <= 1:
            return text
        stored = len(io.dump_json(doc["checkpoints"]))  # their share of the text, for their share of memory
        budget = max(1, int(store.nbytes * (stored - excess) / stored * 0.95))
    return text


def _settings(data: DataSpec, network: NetworkSpec, training: TrainingConfig, folder: Path) -> dict:
    if data.csv_path:
        data = replace(data, csv_path=_relative(data.csv_path, folder))
    return {"data": to_dict(data), "network": to_dict(network), "training": to_dict(training)}


def load_project(path, should_stop=None) -> Project:
    """Read, migrate and check a project file: its settings within ``core.limits``, its weights and
    history well formed. FormatError for a bad or unreadable file; ``Cancelled`` on request."""
    data = files.read_file(path, limits.MAX_FILE_BYTES[".json"], FormatError, should_stop)
    with io.reading(path, "project"):
        return _project(migrate(io.parse_json(data, "project")), Path(path).parent)


def prepare_project(project: Project, should_stop=None) -> Problem:
    """The project's data, prepared, once everything in the project is known to work together.

    Before anything adopts a project: its data are prepared (a CSV file read), the network is checked
    on them against ``core.limits``, the loss against the output layer, and the saved weights must be
    those of that very network (inputs, layers, outputs, dtype). FormatError when the parts do not
    fit, DatasetError when the data cannot be prepared, ``Cancelled`` on request.
    """
    problem = prepare(project.data, should_stop)
    try:
        output_units, output = project.network.layers(problem)[-1]
        project.training.check()
        losses.get(project.training.loss_for(problem)).check_output(activations.get(output), output_units)
    except ValueError as error:
        raise FormatError(str(error)) from None
    if project.weights is not None:
        check_weights(project.weights, project.network, problem)
    return problem


def check_weights(weights: Network, network: NetworkSpec, problem: Problem) -> None:
    """FormatError unless ``weights`` are those of ``network`` built on ``problem``: the same inputs,
    layers (the output layer's units and activation included) and dtype."""
    layers = network.layers(problem)
    if (weights.n_inputs, weights.spec, weights.dtype.name) != (problem.n_inputs, layers, network.dtype):
        raise FormatError(f"the saved weights ({weights.n_inputs} inputs, layers {limits.excerpt(weights.spec)}, "
                          f"{weights.dtype}) do not fit the network on this data ({problem.n_inputs} inputs, "
                          f"layers {limits.excerpt(layers)}, {network.dtype})")


def open_project(path, should_stop=None) -> tuple[Project, Problem]:
    """``load_project`` then ``prepare_project``: a project that can be adopted whole, with its data
    prepared; FormatError or DatasetError (naming the file) if it cannot, ``Cancelled`` on request."""
    project = load_project(path, should_stop)
    try:
        return project, prepare_project(project, should_stop)
    except FormatError as error:
        raise FormatError(f"{files.file_name(path)}: {error}") from None


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
        raise FormatError(f"unknown version 0 settings {limits.excerpt(unknown)}")
    # each setting goes to the section that has the field; "seed" is in all three, as it served all three
    upgraded = {name: {f.name: flat[f.name] for f in fields(cls) if f.name in flat} for name, cls in SECTIONS.items()}
    extras = {key: doc[key] for key in ("weights", "history") if key in doc}
    return {"format": FORMAT, "version": 1, **upgraded, **extras}


# --- checks -----------------------------------------------------------------------------------
def _project(doc: dict, folder: Path) -> Project:
    unknown = sorted(set(doc) - {"format", "version", "weights", "history", "trainer_state", "checkpoints", "runs",
                                 "target_cost", *SECTIONS})
    if unknown:
        raise FormatError(f"unknown keys {limits.excerpt(unknown)}")
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
    target_cost = doc.get("target_cost")
    if target_cost is not None:
        target_cost = limits.check_number(target_cost, "target_cost", limits.TARGET_COST, FormatError)
    return Project(data, network, training, weights, history, state, checkpoints,
                   _runs(doc.get("runs", []), folder), target_cost)


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
        raise FormatError(f"the weights ({limits.excerpt(weights.spec)}, {weights.dtype}) do not match the "
                          f"network's hidden layers {limits.excerpt(hidden)} and dtype {network.dtype}")
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
        raise FormatError(f"runs must be a list of at most {MAX_RUNS} pinned runs, got {limits.excerpt(entries)}")
    runs = []
    for i, entry in enumerate(entries):
        try:
            needed = {"label", "history", "weights", *SECTIONS}
            if not isinstance(entry, dict) or not needed <= set(entry) <= needed | {"shown"}:
                raise FormatError(f"expected label, {', '.join(SECTIONS)}, history, weights and perhaps shown, "
                                  f"got {limits.excerpt(entry)}")
            if not isinstance(entry["label"], str):
                raise FormatError(f"label must be text, got {limits.excerpt(entry['label'])}")
            if not isinstance(entry.get("shown", True), bool):
                raise FormatError(f"shown must be true or false, got {limits.excerpt(entry['shown'])}")
            data, network, training = _sections(entry, folder)
            runs.append(PinnedRun(data, network, training, _history(entry["history"]),
                                  _weights(entry["weights"], network), entry["label"], entry.get("shown", True)))
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
            raise FormatError(f"{section}.{name} must be {hint}, got {limits.excerpt(value)}")
    return spec


def _is_a(value, kind) -> bool:
    if kind is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return value is None if kind is type(None) else isinstance(value, kind)


def _check_values(data: DataSpec, network: NetworkSpec, training: TrainingConfig) -> None:
    """Every setting within ``core.limits``, so a project that loads can be shown, built and trained."""
    try:
        data.check()
        network.check()
        training.check()
    except (ValueError, TypeError) as error:  # TypeError: an unhashable name, such as a list
        raise FormatError(str(error)) from None


def _history(values) -> History:
    if not isinstance(values, dict) or not set(values) <= {f.name for f in fields(History)}:
        raise FormatError(f"history must map {[f.name for f in fields(History)]} to lists, got {limits.excerpt(values)}")
    for name, series in values.items():
        if isinstance(series, list) and len(series) > limits.MAX_EPOCHS:
            raise FormatError(f"history.{name} has {len(series):,} epochs; projects keep at most {limits.MAX_EPOCHS:,}")
        if not isinstance(series, list) or not all(v is None or _is_a(v, float) for v in series):
            raise FormatError(f"history.{name} must be a list of finite numbers, got {limits.excerpt(series)}")
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
                          f"increasing from 1, got {limits.excerpt(epochs)}")
    return history


def _relative(csv_path: str, folder: Path) -> str:
    """``csv_path`` relative to ``folder`` (with '/') if the file lies inside it, else absolute."""
    csv_path, folder = Path(csv_path).absolute(), folder.absolute()
    return csv_path.relative_to(folder).as_posix() if csv_path.is_relative_to(folder) else str(csv_path)
