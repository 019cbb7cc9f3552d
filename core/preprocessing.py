"""Preprocessing: raw rows in the user's units → network inputs, network outputs → answers.

It is fitted on the training split and travels with every exported model, so a file answers raw
rows the way the app does. In order, ``encode`` does:

1. missing cells (NaN) get their column's fill value (mean, median or most frequent of the
   training split), or are refused when the column has none;
2. 2-D sets: the feature map over the two raw columns (``x1``, ``x1^2``, ``sin_x1`` …);
   tables: each text column becomes one 0/1 input per category (one-hot; an unseen category is
   all zeros), numbers stay as they are;
3. standardisation ``(x − mean) / std`` per input, if it was fitted with ``standardize``.

Raw inputs are ``(n_samples, n_columns)``: a float array in which a text column holds integer codes
into its ``categories`` and a missing cell is NaN, or rows of Python values in which text columns
hold their text. Regression targets are standardised the same way (``target_mean``, ``target_std``)
when ``standardize`` is on, and ``decode`` brings outputs back to the target's units.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from . import datasets, limits
from .datasets import Column, Dataset, DatasetError

MISSING_POLICIES = ("refuse", "drop", "mean", "median", "mode")  # drop happens when reading; the rest here


@dataclass(frozen=True)
class Preprocessing:
    columns: tuple  # Column per raw input, in the order rows give them
    task: str  # "regression", "binary" or "multiclass"
    target_name: str = "y"
    class_names: tuple | None = None  # classification: the name of each class index
    feature_map: tuple | None = None  # 2-D sets: datasets.FEATURES keys computed from the two raw columns
    fill: tuple | None = None  # per column: the value a missing cell takes (a number or a category), or None
    input_mean: tuple | None = None  # per network input; None: inputs are not standardised
    input_std: tuple | None = None
    target_mean: float | None = None  # regression targets, when standardised
    target_std: float | None = None

    # --- fitting ----------------------------------------------------------------------------
    @classmethod
    def fit(cls, train: Dataset, feature_map=None, standardize: bool = True,
            missing: str = "refuse") -> "Preprocessing":
        """Fit on the training split: fill values for ``missing`` ('mean', 'median', 'mode'; 'refuse'
        and 'drop' fill nothing), then the standardisation of the encoded inputs and, for regression,
        of the targets."""
        if missing not in MISSING_POLICIES:
            raise DatasetError(f"unknown missing-value policy {missing!r}; expected one of {', '.join(MISSING_POLICIES)}")
        columns = tuple(train.columns) or tuple(Column(name) for name in train.feature_names)
        fill = None
        if missing in ("mean", "median", "mode"):
            fill = tuple(_fill_value(column, train.X[:, i], missing) for i, column in enumerate(columns))
            if None in fill:
                name = columns[fill.index(None)].name
                raise DatasetError(f"column {name!r} has no values in the training split to fill its missing cells from")
        classes = tuple(train.class_names) if train.class_names is not None else None
        base = cls(columns, train.task, train.target_name, classes,
                   tuple(feature_map) if feature_map is not None else None, fill)
        if not standardize:
            return base
        inputs = base._unscaled(train.X)
        mean, std = inputs.mean(axis=0), inputs.std(axis=0)
        std = np.where(std > 0, std, 1.0)  # a constant input stays put
        scaled = replace(base, input_mean=tuple(mean.tolist()), input_std=tuple(std.tolist()))
        if train.task != "regression":
            return scaled
        y = np.asarray(train.y, dtype=float)
        target_std = float(y.std()) if len(y) and y.std() > 0 else 1.0
        return replace(scaled, target_mean=float(y.mean()) if len(y) else 0.0, target_std=target_std)

    # --- shapes -----------------------------------------------------------------------------
    @property
    def input_names(self) -> list:
        """The network's inputs: feature map keys, column names, or ``column=category`` per category."""
        if self.feature_map is not None:
            return list(self.feature_map)
        names = []
        for column in self.columns:
            names += [f"{column.name}={c}" for c in column.categories] if column.categories else [column.name]
        return names

    @property
    def n_inputs(self) -> int:
        return len(self.input_names)

    @property
    def n_outputs(self) -> int:
        return len(self.class_names) if self.task == "multiclass" else 1

    @property
    def standardized(self) -> bool:
        return self.input_mean is not None

    # --- inputs -----------------------------------------------------------------------------
    def raw_array(self, rows) -> np.ndarray:
        """Raw rows as the float array ``encode`` works on (n_samples, n_columns): text looked up in
        its column's categories (an unseen one becomes −1), missing cells NaN."""
        if isinstance(rows, np.ndarray) and rows.dtype.kind in "fiub":
            X = rows.astype(float)
            X = X.reshape(1, -1) if X.ndim == 1 else X
        else:
            rows = [list(row) for row in rows]
            X = np.full((len(rows), len(self.columns)), np.nan)
            for r, row in enumerate(rows):
                if len(row) != len(self.columns):
                    raise ValueError(f"row {r + 1} has {len(row)} values; the model takes {len(self.columns)}: "
                                     f"{', '.join(c.name for c in self.columns)}")
                for c, (column, cell) in enumerate(zip(self.columns, row)):
                    X[r, c] = _raw_cell(column, cell)
        if X.ndim != 2 or X.shape[1] != len(self.columns):
            raise ValueError(f"expected raw inputs of shape (n_samples, {len(self.columns)}), got {X.shape}")
        return X

    def encode(self, rows) -> np.ndarray:
        """Raw rows → network inputs (n_samples, n_inputs)."""
        X = self._unscaled(self.raw_array(rows))
        if self.input_mean is not None:
            X = (X - np.asarray(self.input_mean)) / np.asarray(self.input_std)
        return X

    def _unscaled(self, X) -> np.ndarray:
        X = self._filled(X)
        if self.feature_map is not None:
            return datasets.feature_map(X, self.feature_map)
        parts = []
        for i, column in enumerate(self.columns):
            if column.categories:  # one-hot; a code outside the categories (unseen text) is all zeros
                parts.append(X[:, i, None] == np.arange(len(column.categories))[None, :])
            else:
                parts.append(X[:, i, None])
        return np.hstack(parts).astype(float) if parts else np.zeros((len(X), 0))

    def _filled(self, X) -> np.ndarray:
        missing = np.isnan(X)
        if not missing.any():
            return X
        X = X.copy()
        for i in np.flatnonzero(missing.any(axis=0)):
            value = None if self.fill is None else self.fill[i]
            if value is None:
                row = int(np.flatnonzero(missing[:, i])[0]) + 1
                raise ValueError(f"row {row}: column {self.columns[i].name!r} is missing, and this model "
                                 "was trained without filling missing values")
            code = self.columns[i].categories.index(value) if self.columns[i].categories else value
            X[missing[:, i], i] = code
        return X

    # --- targets and outputs ---------------------------------------------------------------
    def encode_targets(self, y) -> np.ndarray:
        """Targets as the network learns them: standardised (n, 1) for regression, else as given."""
        if self.task != "regression":
            return np.asarray(y)
        y = np.asarray(y, dtype=float).reshape(-1, 1)
        return (y - self.target_mean) / self.target_std if self.target_mean is not None else y

    def decode(self, outputs) -> np.ndarray:
        """Network outputs (n_samples, n_outputs) → target units (regression) or probabilities."""
        outputs = np.asarray(outputs)
        if self.task == "regression" and self.target_mean is not None:
            return outputs * self.target_std + self.target_mean
        return outputs

    def labels(self, outputs) -> np.ndarray:
        """Class index per sample (n_samples,) from probabilities: argmax, or the 0.5 threshold."""
        outputs = np.asarray(outputs)
        if self.task == "multiclass":
            return outputs.argmax(axis=1)
        return (outputs[:, 0] > 0.5).astype(np.int64)

    def differences(self, other: "Preprocessing") -> list:
        """How rows would be read differently by ``other`` than by this: one short phrase per
        difference (columns, their categories, the target and its classes, missing-cell fills,
        scaling); empty when both read every row alike."""
        said = []
        names, other_names = [c.name for c in self.columns], [c.name for c in other.columns]
        if names != other_names:
            said.append(f"columns {_names(names)} instead of {_names(other_names)}")
        elif [c.categories for c in self.columns] != [c.categories for c in other.columns]:
            said.append("other categories in its text columns")
        if self.feature_map != other.feature_map:
            said.append(f"the features {_names(self.feature_map or ())} instead of {_names(other.feature_map or ())}")
        if (self.task, self.target_name) != (other.task, other.target_name):
            said.append(f"{self.task} of {self.target_name!r} instead of {other.task} of {other.target_name!r}")
        elif self.class_names != other.class_names:
            said.append(f"the classes {_names(self.class_names or ())} instead of {_names(other.class_names or ())}")
        if self.fill != other.fill:
            said.append("other values for missing cells")
        scaling = ("input_mean", "input_std", "target_mean", "target_std")
        if not said and any(not _same(getattr(self, k), getattr(other, k)) for k in scaling):
            said.append("inputs scaled with another split's means and deviations" if self.standardized
                        and other.standardized else "inputs " + ("standardised" if self.standardized else "as they are")
                        + " instead of " + ("standardised" if other.standardized else "as they are"))
        return said

    # --- files ------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """A JSON-ready document; ``from_dict`` reads it back."""
        return {"columns": [{"name": c.name, **({"categories": list(c.categories)} if c.categories else {})}
                            for c in self.columns],
                "task": self.task, "target_name": self.target_name,
                "class_names": None if self.class_names is None else list(self.class_names),
                "feature_map": None if self.feature_map is None else list(self.feature_map),
                "fill": None if self.fill is None else list(self.fill),
                "input_mean": _list(self.input_mean), "input_std": _list(self.input_std),
                "target_mean": self.target_mean, "target_std": self.target_std}

    @classmethod
    def from_dict(cls, doc) -> "Preprocessing":
        """Checked before it is built; ValueError (FormatError from the file readers) naming what is wrong."""
        if not isinstance(doc, dict):
            raise ValueError(f"preprocessing must be an object, got {type(doc).__name__}")
        known = {"columns", "task", "target_name", "class_names", "feature_map", "fill", "input_mean", "input_std",
                 "target_mean", "target_std"}
        unknown = sorted(set(doc) - known)
        if unknown:
            raise ValueError(f"unknown preprocessing keys {_short(unknown)}")
        entries = doc.get("columns")
        if not isinstance(entries, list) or not entries:
            raise ValueError("preprocessing.columns must be a non-empty list")
        columns = tuple(_column(entry, i) for i, entry in enumerate(entries))
        task = doc.get("task")
        if task not in datasets.TASKS:
            raise ValueError(f"preprocessing.task must be one of {', '.join(datasets.TASKS)}, got {_short(task)}")
        target_name = doc.get("target_name", "y")
        if not isinstance(target_name, str):
            raise ValueError(f"preprocessing.target_name must be text, got {_short(target_name)}")
        classes = doc.get("class_names")
        if task == "regression":
            if classes is not None:
                raise ValueError("a regression has no class names")
        elif not (isinstance(classes, list) and all(isinstance(c, str) for c in classes)
                  and len(classes) == len(set(classes)) >= 2 and (task == "multiclass" or len(classes) == 2)):
            raise ValueError(f"preprocessing.class_names must list the distinct classes, got {_short(classes)}")
        feature_map = doc.get("feature_map")
        if feature_map is not None:
            if not isinstance(feature_map, list) or not feature_map or not all(
                    isinstance(f, str) and f in datasets.FEATURES for f in feature_map):
                raise ValueError(f"preprocessing.feature_map must list some of {', '.join(datasets.FEATURES)}, "
                                 f"got {_short(feature_map)}")
            if len(columns) != 2 or any(c.categories for c in columns):
                raise ValueError("a feature map takes two numeric columns")
        fill = doc.get("fill")
        if fill is not None:
            if not isinstance(fill, list) or len(fill) != len(columns):
                raise ValueError(f"preprocessing.fill must have one value per column, got {_short(fill)}")
            for column, value in zip(columns, fill):
                ok = value in column.categories if column.categories else value is None or _finite(value)
                if not ok and value is not None:
                    raise ValueError(f"fill value {_short(value)} does not suit column {column.name!r}")
        result = cls(columns, task, target_name, tuple(classes) if classes is not None else None,
                     tuple(feature_map) if feature_map is not None else None,
                     tuple(fill) if fill is not None else None)
        mean, std = doc.get("input_mean"), doc.get("input_std")
        if (mean is None) != (std is None):
            raise ValueError("preprocessing needs both input_mean and input_std, or neither")
        if mean is not None:
            n = result.n_inputs
            for name, values in (("input_mean", mean), ("input_std", std)):
                if not (isinstance(values, list) and len(values) == n and all(_finite(v) for v in values)):
                    raise ValueError(f"preprocessing.{name} must hold {n} finite numbers, got {_short(values)}")
            if any(v <= 0 for v in std):
                raise ValueError("preprocessing.input_std must be positive")
            result = replace(result, input_mean=tuple(map(float, mean)), input_std=tuple(map(float, std)))
        target_mean, target_std = doc.get("target_mean"), doc.get("target_std")
        if target_mean is not None or target_std is not None:
            if task != "regression" or not (_finite(target_mean) and _finite(target_std) and target_std > 0):
                raise ValueError(f"preprocessing.target_mean and target_std must be finite numbers (std > 0) "
                                 f"for a regression, got {_short(target_mean)} and {_short(target_std)}")
            result = replace(result, target_mean=float(target_mean), target_std=float(target_std))
        return result


def _fill_value(column: Column, values, policy: str):
    """The value a missing cell of ``column`` takes: its mean, median or most frequent value; text
    columns always take their most frequent category. None for a column with no values at all."""
    present = values[~np.isnan(values)]
    if not len(present):
        return None
    if column.categories:
        return column.categories[int(np.bincount(present.astype(np.int64)).argmax())]
    if policy == "mean":
        return float(present.mean())
    if policy == "median":
        return float(np.median(present))
    distinct, counts = np.unique(present, return_counts=True)
    return float(distinct[counts.argmax()])  # the smallest of the most frequent


def _raw_cell(column: Column, cell) -> float:
    """One cell of a row of Python values as ``raw_array`` stores it."""
    if cell is None or (isinstance(cell, float) and math.isnan(cell)):
        return np.nan
    if column.categories:
        text = str(cell).strip()
        if text.lower() in datasets.MISSING_TOKENS:
            return np.nan
        return float(column.categories.index(text)) if text in column.categories else -1.0
    if isinstance(cell, str):
        if cell.strip().lower() in datasets.MISSING_TOKENS:
            return np.nan
        try:
            return float(cell)
        except ValueError:
            raise ValueError(f"column {column.name!r} takes numbers, got {_short(cell)}") from None
    return float(cell)


def _column(entry, i) -> Column:
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or set(entry) - {"name", "categories"}:
        raise ValueError(f"preprocessing column {i} must be {{'name': text, 'categories': [text, …]}}, "
                         f"got {_short(entry)}")
    categories = entry.get("categories", [])
    if not (isinstance(categories, list) and all(isinstance(c, str) for c in categories)
            and len(set(categories)) == len(categories)):
        raise ValueError(f"column {entry['name']!r}: categories must be distinct texts, got {_short(categories)}")
    return Column(entry["name"], tuple(categories))


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _names(names, limit: int = 60) -> str:
    text = ", ".join(map(str, names)) or "none"
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _same(a, b) -> bool:
    """Equal figures, to the last few bits a float carries through a file."""
    if a is None or b is None:
        return a is b
    a, b = np.asarray(a, float), np.asarray(b, float)
    return a.shape == b.shape and np.allclose(a, b, rtol=1e-12, atol=0)


def _list(values):
    return None if values is None else list(values)


def _short(value) -> str:
    return limits.excerpt(value)
