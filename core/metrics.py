"""Scores shown beside the cost, in the units people read them in."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np


class RegressionScores(NamedTuple):
    rmse: float  # root mean squared error, in the target's units
    r2: float  # coefficient of determination: 1 − SS_res / SS_tot; NaN when the targets do not vary


def regression_scores(predicted, actual) -> RegressionScores:
    """RMSE and R² of ``predicted`` against ``actual``, both (n_samples,) or (n_samples, 1) in the
    target's units (``Problem.to_target_units``); NaN for no samples."""
    predicted = np.asarray(predicted, dtype=float).reshape(-1)
    actual = np.asarray(actual, dtype=float).reshape(-1)
    if predicted.shape != actual.shape:
        raise ValueError(f"predicted {predicted.shape} and actual {actual.shape} values differ in number")
    if not len(actual):
        return RegressionScores(float("nan"), float("nan"))
    residual = float(np.sum((predicted - actual) ** 2))
    spread = float(np.sum((actual - actual.mean()) ** 2))
    r2 = 1.0 - residual / spread if spread > 0 else float("nan")
    return RegressionScores(float(np.sqrt(residual / len(actual))), r2)
