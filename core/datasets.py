"""Datasets: TensorFlow Playground's 2-D sets, the CS231n spiral, bundled tables and CSV files.

A ``Dataset`` holds raw features ``X`` (n_samples, n_features) and targets ``y``
(n_samples,): floats for regression, 0/1 for binary, class indices for multi-class.
CSV files are read by ``core.tables``.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from . import limits

RESOURCES = Path(__file__).resolve().parent.parent / "resources"
TABLES = {"house_prices": RESOURCES / "datasets" / "house_prices.csv",
          "iris": RESOURCES / "datasets" / "iris.csv"}
TASKS = ("regression", "binary", "multiclass")
MISSING_TOKENS = ("", "na", "nan", "n/a", "#n/a", "null", "none", "?")  # cells that mean "no value", lower-cased


class DatasetError(ValueError):
    """Data that cannot be used, with a one-line message naming the file, line and column."""

    def __init__(self, message=""):
        super().__init__(limits.one_line(message))


@dataclass(frozen=True)
class Column:
    """A raw input column. Dataset.X holds a number column as it is, a text column as integer codes
    into ``categories`` (which the network sees one-hot), and NaN for a missing cell."""

    name: str
    categories: tuple = ()  # empty for a number column


@dataclass
class Dataset:
    """Raw inputs ``X`` (n_samples, n_columns), see ``Column``; targets ``y`` (n_samples,)."""

    X: np.ndarray
    y: np.ndarray
    feature_names: list
    target_name: str = "y"
    task: str = "binary"
    class_names: list | None = None
    name: str = ""
    columns: tuple = ()  # Column per column of X; empty means all numbers, named by feature_names
    summary: str = ""  # tables: one line on what was read and what is learnt

    def __post_init__(self):
        if not self.columns:
            self.columns = tuple(Column(name) for name in self.feature_names)

    def subset(self, index) -> "Dataset":
        return replace(self, X=self.X[index], y=self.y[index])


# --- TensorFlow Playground's 2-D sets (same generators, labels 1/−1 mapped to 1/0) ---------
def _circle(n, noise, rng):
    radius = 5.0
    inner = rng.uniform(0, radius * 0.5, n // 2)
    outer = rng.uniform(radius * 0.7, radius, n - n // 2)
    r = np.concatenate([inner, outer])
    angle = rng.uniform(0, 2 * np.pi, n)
    X = np.column_stack([r * np.sin(angle), r * np.cos(angle)])
    jitter = rng.uniform(-radius, radius, (n, 2)) * noise
    y = (np.hypot(*(X + jitter).T) < radius * 0.5).astype(float)  # label from the noisy point
    return X, y


def _xor(n, noise, rng):
    X = rng.uniform(-5, 5, (n, 2))
    X += np.where(X > 0, 0.3, -0.3)  # keep points off the axes
    jitter = rng.uniform(-5, 5, (n, 2)) * noise
    noisy = X + jitter
    return X, (noisy[:, 0] * noisy[:, 1] >= 0).astype(float)


def _gaussian(n, noise, rng):
    spread = np.sqrt(0.5 + (4 - 0.5) * noise)  # variance from 0.5 to 4 with noise
    half = n // 2
    positive = rng.normal(2, spread, (half, 2))
    negative = rng.normal(-2, spread, (n - half, 2))
    return np.vstack([positive, negative]), np.r_[np.ones(half), np.zeros(n - half)]


def _spiral(n, noise, rng):
    half = n // 2
    parts = []
    for delta, count in ((0.0, half), (np.pi, n - half)):
        i = np.arange(count)
        r = i / count * 5
        t = 1.75 * i / count * 2 * np.pi + delta
        parts.append(np.column_stack([r * np.sin(t), r * np.cos(t)]) + rng.uniform(-1, 1, (count, 2)) * noise)
    return np.vstack(parts), np.r_[np.ones(half), np.zeros(n - half)]


def _reg_plane(n, noise, rng):
    X = rng.uniform(-6, 6, (n, 2))
    noisy = X + rng.uniform(-6, 6, (n, 2)) * noise
    return X, np.clip(noisy.sum(axis=1) / 10, -1, 1)  # x + y scaled from [−10, 10] to [−1, 1]


def _reg_gauss(n, noise, rng):
    X = rng.uniform(-6, 6, (n, 2))
    noisy = X + rng.uniform(-6, 6, (n, 2)) * noise
    centres = np.array([[-4, 2.5], [0, 2.5], [4, 2.5], [-4, -2.5], [0, -2.5], [4, -2.5]])
    signs = np.array([1, -1, 1, -1, 1, -1])
    dist = np.sqrt(((noisy[:, None, :] - centres[None]) ** 2).sum(axis=2))  # linalg.norm's sums, 10x faster
    labels = signs * np.clip(1 - dist / 2, 0, 1)  # each bump falls from 1 to 0 over distance 2
    return X, labels[np.arange(n), np.abs(labels).argmax(axis=1)]  # the bump strongest in |value|


def _spiral3(n, noise, rng):
    """CS231n's spiral: ``n // 3`` points per class, 3 arms, radius 0 to 1, angle noise 0.2·(1 + noise)."""
    per_class = max(n // 3, 1)
    parts, labels = [], []
    for k in range(3):
        r = np.linspace(0.0, 1, per_class)
        t = np.linspace(k * 4, (k + 1) * 4, per_class) + rng.standard_normal(per_class) * 0.2 * (1 + noise)
        parts.append(np.column_stack([r * np.sin(t), r * np.cos(t)]))
        labels.append(np.full(per_class, k))
    return np.vstack(parts), np.concatenate(labels)


PLANE_SETS = {  # name: (label, generator, task)
    "circle": ("Circle", _circle, "binary"),
    "xor": ("Exclusive or", _xor, "binary"),
    "gaussian": ("Two Gaussians", _gaussian, "binary"),
    "spiral": ("Spiral", _spiral, "binary"),
    "spiral3": ("Spiral, 3 classes (CS231n)", _spiral3, "multiclass"),
    "reg_plane": ("Plane (regression)", _reg_plane, "regression"),
    "reg_gauss": ("Gaussians (regression)", _reg_gauss, "regression"),
}


DRAWN = "drawn"  # a 2-D set drawn by hand, point by point
MAX_DRAWN_POINTS = 100_000
DRAWN_VALUE_RANGE = 1.0  # a drawn regression's values, as the 2-D regression sets' (−1 to 1)


def from_points(points, task: str | None = None) -> Dataset:
    """A 2-D set drawn by hand from ``points`` ``((x1, x2, label), ...)``: labels 0 and 1 are two
    classes (binary), up to 2 three (multi-class); with ``task`` "regression" each label is the value
    to predict there (from −DRAWN_VALUE_RANGE to +DRAWN_VALUE_RANGE)."""
    if len(points) > MAX_DRAWN_POINTS:
        raise DatasetError(f"{len(points):,} drawn points; at most {MAX_DRAWN_POINTS:,}")
    try:
        array = np.array(points, dtype=float).reshape(-1, 3)
    except (TypeError, ValueError):
        raise DatasetError(f"drawn points must be (x1, x2, label) triples, got {_short(points)}") from None
    labels = array[:, 2]
    if not np.isfinite(array).all():
        raise DatasetError("drawn points need finite coordinates and labels")
    if len(array) < 2:
        raise DatasetError(f"{len(array)} drawn point{'s' * (len(array) != 1)}: draw at least 2 (click the output view)")
    if task == "regression":
        if np.abs(labels).max() > DRAWN_VALUE_RANGE:
            raise DatasetError(f"drawn values must be from {-DRAWN_VALUE_RANGE:g} to {DRAWN_VALUE_RANGE:g}")
        return Dataset(array[:, :2], labels, ["x1", "x2"], "value", "regression", None, DRAWN)
    if not np.isin(labels, (0, 1, 2)).all():
        raise DatasetError("drawn points need a label of 0, 1 or 2")
    if labels.max(initial=0) <= 1:
        return Dataset(array[:, :2], labels, ["x1", "x2"], "label", "binary", ["class 0", "class 1"], DRAWN)
    return Dataset(array[:, :2], labels.astype(np.int64), ["x1", "x2"], "label", "multiclass",
                   ["class 0", "class 1", "class 2"], DRAWN)


def make_plane(name: str, n_samples: int = 500, noise: float = 0.0, seed=0) -> Dataset:
    """One of the 2-D sets; ``noise`` from 0 to 0.5 as TensorFlow Playground's 0–50 %.
    Sizes and ranges as ``core.limits`` (``SAMPLES``, ``NOISE``, ``SEED``)."""
    if name not in PLANE_SETS:
        raise DatasetError(f"unknown dataset {limits.excerpt(name)}; expected one of {', '.join(PLANE_SETS)}")
    n_samples = limits.check_int(n_samples, "n_samples", limits.SAMPLES, DatasetError)
    noise = limits.check_number(noise, "noise", limits.NOISE, DatasetError)
    seed = limits.check_int(seed, "the data seed", limits.SEED, DatasetError)
    label, generate, task = PLANE_SETS[name]
    X, y = generate(n_samples, noise, np.random.default_rng(seed))
    classes = {"binary": ["class 0", "class 1"], "multiclass": ["class 0", "class 1", "class 2"]}.get(task)
    if task == "multiclass":
        y = y.astype(np.int64)
    return Dataset(X, y, ["x1", "x2"], "label" if task != "regression" else "value", task, classes, name)


# --- input features for the 2-D sets --------------------------------------------------------
FEATURES = {  # name: (label, function of x1, x2)
    "x1": ("X₁", lambda a, b: a),
    "x2": ("X₂", lambda a, b: b),
    "x1^2": ("X₁²", lambda a, b: a * a),
    "x2^2": ("X₂²", lambda a, b: b * b),
    "x1x2": ("X₁X₂", lambda a, b: a * b),
    "sin_x1": ("sin(X₁)", lambda a, b: np.sin(a)),
    "sin_x2": ("sin(X₂)", lambda a, b: np.sin(b)),
}


def check_features(features) -> None:
    """DatasetError unless ``features`` names some of ``FEATURES``, each once."""
    if not isinstance(features, (list, tuple)) or not 1 <= len(features) <= len(FEATURES):
        raise DatasetError(f"input features must be a list of 1 to {len(FEATURES)} of {', '.join(FEATURES)}; "
                           f"got {limits.excerpt(features)}")
    unknown = [f for f in features if not isinstance(f, str) or f not in FEATURES]
    if unknown:
        raise DatasetError(f"unknown input features {limits.excerpt(unknown)}; expected some of {', '.join(FEATURES)}")
    if len(set(features)) != len(features):
        raise DatasetError(f"input features are repeated in {limits.excerpt(list(features))}")


def feature_map(X, features) -> np.ndarray:
    """(n_samples, 2) points → (n_samples, len(features)) inputs, e.g. ``["x1", "x2", "x1x2"]``."""
    check_features(features)
    return np.column_stack([FEATURES[f][1](X[:, 0], X[:, 1]) for f in features])


# --- splitting and scaling ------------------------------------------------------------------
def train_test_split(data: Dataset, test_fraction: float = 0.5, seed=0) -> tuple[Dataset, Dataset]:
    """Shuffle with ``seed`` and cut; the test part may be empty (fraction 0)."""
    limits.check_number(test_fraction, "the test fraction", limits.TEST_FRACTION, DatasetError)
    order = np.random.default_rng(seed).permutation(len(data.X))
    n_test = int(round(len(order) * test_fraction))
    return data.subset(order[n_test:]), data.subset(order[:n_test])


# --- tables ---------------------------------------------------------------------------------
def load_table(name: str) -> Dataset:
    """A bundled table: 'house_prices' (regression) or 'iris' (3 classes)."""
    if name not in TABLES:
        raise DatasetError(f"unknown table {limits.excerpt(name)}; expected one of {', '.join(TABLES)}")
    from . import tables  # (tables imports this module)

    return tables.read_table(TABLES[name]).dataset(name=name)


def _short(value) -> str:
    import reprlib
    return reprlib.repr(value)
