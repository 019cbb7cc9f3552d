"""Pinned runs: finished runs kept to compare later runs with, labelled by what differs between them.

A ``PinnedRun`` holds its settings (the three specs), its cost history and its final weights.
``describe_differences`` names each run by the settings that tell it from the others ("Adam, lr 0.01"
vs "SGD, lr 0.03"); ``compare`` reads the runs at one epoch; ``export_csv`` writes every history.
"""
from __future__ import annotations

import copy
import csv
import io as text_io
from dataclasses import dataclass, fields
from pathlib import Path

from . import activations, datasets, losses, optimizers
from .io import atomic_write
from .network import Network
from .spec import DataSpec, NetworkSpec, TrainingConfig
from .trainer import History

MAX_RUNS = 8
DEFAULT_TARGET_COST = 0.1  # the cost runs are timed to reach, until the user sets another
CSV_COLUMNS = ("run", "epoch", "train_loss", "train_accuracy", "test_loss", "test_accuracy")


@dataclass(frozen=True, eq=False)
class PinnedRun:
    """A run kept for comparison: copies of its history and final weights, taken when it is made.

    ``label`` is the user's own name for it, "" when none was given (show
    ``describe_differences`` then); ``shown`` whether its curves are drawn."""

    data: DataSpec
    network: NetworkSpec
    training: TrainingConfig
    history: History
    weights: Network
    label: str = ""
    shown: bool = True

    def __post_init__(self):
        object.__setattr__(self, "history", copy.deepcopy(self.history))
        object.__setattr__(self, "weights", self.weights.copy())

    def shown_as(self, shown: bool) -> "PinnedRun":
        """The same run, drawn or not (it shares this one's copies: neither is ever changed)."""
        other = copy.copy(self)
        object.__setattr__(other, "shown", bool(shown))
        return other


def pin(runs: tuple, run: PinnedRun) -> tuple:
    """``runs`` with ``run`` added last; ValueError when ``MAX_RUNS`` are pinned already."""
    if len(runs) >= MAX_RUNS:
        raise ValueError(f"{len(runs)} runs are pinned already, the most there can be; unpin one first")
    return (*runs, run)


# --- labels -----------------------------------------------------------------------------------
def describe_differences(runs) -> list[str]:
    """A short label for each run saying how its settings differ from the others', e.g.
    ``["Adam, lr 0.01", "SGD, lr 0.03"]``. Runs are anything with ``data``, ``network`` and
    ``training`` specs (a PinnedRun, a Project). Runs with the same settings get "(2)", "(3)" after
    their label; a run with nothing to tell it apart is "same settings"."""
    described = [_described_settings(run) for run in runs]
    order = {name: i for i, name in enumerate(_DESCRIBE)}  # those that matter most first
    names = sorted({name for d in described for name in d}, key=lambda name: (order.get(name, len(order)), name))
    differing = [name for name in names if len({d.get(name) for d in described}) > 1]
    labels = [", ".join(d[name] for name in differing if name in d) or "same settings" for d in described]
    seen: dict[str, int] = {}
    numbered = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        numbered.append(label if seen[label] == 1 else f"{label} ({seen[label]})")
    return numbered


def _described_settings(run) -> dict:
    """Each setting of a run as a label shows it, keyed by (section, field); settings that do not
    apply to the run's data or regularization are left out."""
    values = {(section, f.name): getattr(getattr(run, section), f.name)
              for section in ("data", "network", "training") for f in fields(getattr(run, section))}
    if run.data.source != "csv":
        del values["data", "csv_path"], values["data", "target"]
    if run.data.is_plane:  # standardisation is for tables
        del values["data", "standardize"]
    else:  # the tables' own columns and rows
        del values["data", "features"], values["data", "n_samples"], values["data", "noise"]
    if run.training.regularization is None:
        del values["training", "reg_rate"]
    return {key: _DESCRIBE.get(key, lambda v: f"{key[1].replace('_', ' ')} {v}")(value) for key, value in values.items()}


def _hidden(layers) -> str:
    if not layers:
        return "no hidden layer"
    names = {activations.get(act).label for _, act in layers}
    if len(names) == 1:
        return f"{'-'.join(str(units) for units, _ in layers)} {names.pop()}"
    return "-".join(f"{units} {activations.get(act).label}" for units, act in layers)


def _source(name: str) -> str:
    if name in datasets.PLANE_SETS:
        return datasets.PLANE_SETS[name][0]
    return "CSV file" if name == "csv" else name.replace("_", " ").capitalize()


_DESCRIBE = {  # (section, field): the value as shown in a label
    ("training", "optimizer"): lambda v: optimizers.create(v).label,
    ("training", "learning_rate"): lambda v: f"lr {v:g}",
    ("training", "batch_size"): lambda v: "full batch" if v == "all" else f"batch {v}",
    ("training", "regularization"): lambda v: {None: "no regularization", "l1": "L1", "l2": "L2"}.get(v, str(v)),
    ("training", "reg_rate"): lambda v: f"regularization rate {v:g}",
    ("training", "loss"): lambda v: losses.get(v).label if v else "default loss",
    ("training", "seed"): lambda v: f"shuffling seed {v}",
    ("network", "hidden"): _hidden,
    ("network", "output_activation"): lambda v: f"{activations.get(v).label} output" if v else "default output",
    ("network", "seed"): lambda v: f"weights seed {v}",
    ("network", "dtype"): str,
    ("data", "source"): _source,
    ("data", "n_samples"): lambda v: f"{v} points",
    ("data", "noise"): lambda v: f"noise {v:.0%}",
    ("data", "test_fraction"): lambda v: f"{v:.0%} test",
    ("data", "seed"): lambda v: f"data seed {v}",
    ("data", "features"): lambda v: "inputs " + " ".join(datasets.FEATURES[f][0] for f in v),
    ("data", "csv_path"): lambda v: Path(v).name if v else "no file",
    ("data", "target"): lambda v: f"target {v}" if v else "last column",
    ("data", "task"): lambda v: v or "task inferred",
    ("data", "standardize"): lambda v: "standardised" if v else "raw values",
}


# --- comparison -------------------------------------------------------------------------------
@dataclass(frozen=True)
class EpochFigures:
    """One run's figures at an epoch (None where the run has none): the train figures of that
    epoch, the latest test figures at or before it (taken at ``test_epoch``), and the first epoch
    whose train cost reached the target cost."""

    train_loss: float | None = None
    train_accuracy: float | None = None
    test_loss: float | None = None
    test_accuracy: float | None = None
    test_epoch: int | None = None
    epochs_to_target: int | None = None


def compare(histories, epoch: int, target_cost: float | None = None) -> list[EpochFigures]:
    """Each history's figures at ``epoch`` (1 for the first), for runs side by side. A run that has
    not reached ``epoch`` has no figures but may have reached the target."""
    return [_figures(history, epoch, target_cost) for history in histories]


def epochs_to_reach(history: History, target_cost: float) -> int | None:
    """The first epoch whose train cost is at most ``target_cost``, or None."""
    return next((i + 1 for i, cost in enumerate(history.train_loss) if cost <= target_cost), None)


def _figures(history: History, epoch: int, target_cost) -> EpochFigures:
    reached = None if target_cost is None else epochs_to_reach(history, target_cost)
    if not 1 <= epoch <= len(history.train_loss):
        return EpochFigures(epochs_to_target=reached)
    tested = [i for i, e in enumerate(history.test_epoch) if e <= epoch]
    t = tested[-1] if tested else None
    return EpochFigures(history.train_loss[epoch - 1], _at(history.train_accuracy, epoch - 1),
                        _at(history.test_loss, t), _at(history.test_accuracy, t),
                        None if t is None else history.test_epoch[t], reached)


def _at(series, i):
    return series[i] if i is not None and i < len(series) else None


# --- CSV --------------------------------------------------------------------------------------
def export_csv(path, histories, labels) -> None:
    """Write the histories to a CSV file atomically, in long format: a header ``run, epoch,
    train_loss, train_accuracy, test_loss, test_accuracy``, then a row per run and epoch; empty cells
    where a figure is missing (no accuracy in regression, test figures at their epochs only)."""
    histories, labels = list(histories), list(labels)
    if len(histories) != len(labels):
        raise ValueError(f"{len(histories)} runs but {len(labels)} labels")
    out = text_io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for history, label in zip(histories, labels):
        tested = {epoch: j for j, epoch in enumerate(history.test_epoch)}
        for i, loss in enumerate(history.train_loss):
            j = tested.get(i + 1)
            figures = (loss, _at(history.train_accuracy, i), _at(history.test_loss, j), _at(history.test_accuracy, j))
            writer.writerow([label, i + 1, *(_cell(v) for v in figures)])
    atomic_write(Path(path), out.getvalue().encode("utf-8"))


def _cell(value) -> str:
    """A float written to read back exactly; empty for None."""
    return "" if value is None else repr(float(value))
