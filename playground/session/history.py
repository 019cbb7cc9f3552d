"""The cost history of the run being trained: owned by the Session, drawn by the cost plot."""
from __future__ import annotations

import numpy as np

from core.trainer import EpochStats, History

SERIES = ("epoch", "train_loss", "train_accuracy", "test_epoch", "test_loss", "test_accuracy")


class GrowingSeries:
    """An append-only float buffer that doubles its capacity; ``values`` is a view, no copy."""

    def __init__(self, capacity: int = 1024):
        self._data = np.empty(capacity)
        self.size = 0

    def extend(self, values) -> None:
        values = np.asarray(values, dtype=float)
        needed = self.size + len(values)
        if needed > len(self._data):
            grown = np.empty(max(needed, 2 * len(self._data)))
            grown[: self.size] = self._data[: self.size]
            self._data = grown
        self._data[self.size:needed] = values
        self.size = needed

    @property
    def values(self) -> np.ndarray:
        return self._data[: self.size]


class RunHistory:
    """Figures per epoch, as ``core.trainer.History`` keeps them, in buffers a plot can draw from.

    ``test_epoch`` holds the 1-based position among the epochs of each test figure (the test set may
    be evaluated every few epochs only); accuracies are absent (size 0) for a regression.
    """

    def __init__(self):
        self.series = {name: GrowingSeries() for name in SERIES}
        self.last_tested = None  # the latest EpochStats with test figures, for the readout
        self.last = None  # the latest EpochStats
        self.highest_cost = 0.0  # the highest finite train or test cost, kept as epochs come: the plot's axis

    def __len__(self) -> int:
        return self.series["train_loss"].size

    def __getitem__(self, name: str) -> np.ndarray:
        return self.series[name].values

    def extend(self, stats_list) -> None:
        """Append EpochStats in order."""
        if not stats_list:
            return
        shown = len(self)
        self.series["epoch"].extend([s.epoch for s in stats_list])
        self.series["train_loss"].extend([s.train_loss for s in stats_list])
        if stats_list[-1].train_accuracy is not None:
            self.series["train_accuracy"].extend([s.train_accuracy for s in stats_list])
        tested = [(shown + i + 1, s) for i, s in enumerate(stats_list) if s.test_loss is not None]
        if tested:
            self.series["test_epoch"].extend([position for position, _ in tested])
            self.series["test_loss"].extend([s.test_loss for _, s in tested])
            if tested[-1][1].test_accuracy is not None:
                self.series["test_accuracy"].extend([s.test_accuracy for _, s in tested])
            self.last_tested = tested[-1][1]
        self.last = stats_list[-1]
        costs = np.array([c for s in stats_list for c in (s.train_loss, s.test_loss) if c is not None], dtype=float)
        finite = costs[np.isfinite(costs)]
        if len(finite):
            self.highest_cost = max(self.highest_cost, float(finite.max()))

    def at(self, epoch: int):
        """``(EpochStats of epoch, the latest EpochStats with test figures up to it)`` for a 1-based
        ``epoch`` of this history; ``(None, None)`` for epoch 0 (no epoch finished yet)."""
        if not 1 <= epoch <= len(self):
            return None, None
        def accuracy(name, i):
            return float(self[name][i]) if self.series[name].size else None
        stats = EpochStats(epoch, float(self["train_loss"][epoch - 1]), accuracy("train_accuracy", epoch - 1))
        j = int(np.searchsorted(self["test_epoch"], epoch, side="right")) - 1
        tested = None if j < 0 else EpochStats(int(self["test_epoch"][j]), stats.train_loss, stats.train_accuracy,
                                               float(self["test_loss"][j]), accuracy("test_accuracy", j))
        return stats, tested

    def to_history(self) -> History:
        """A core History, to save with a project (accuracies None for a regression)."""
        def values(name, n):
            return self[name].tolist() if self.series[name].size else [None] * n
        return History(values("train_loss", 0), values("test_loss", 0),
                       values("train_accuracy", len(self)), values("test_accuracy", self.series["test_loss"].size),
                       self["test_epoch"].astype(int).tolist())

    @classmethod
    def from_history(cls, history: History | None) -> "RunHistory":
        run = cls()
        if history is None:
            return run
        n = len(history.train_loss)
        train_accuracy = history.train_accuracy if len(history.train_accuracy) == n else [None] * n
        test_accuracy = history.test_accuracy or [None] * len(history.test_loss)
        tests = {epoch: figures for epoch, *figures in zip(history.test_epoch, history.test_loss, test_accuracy)}
        run.extend([EpochStats(i + 1, loss, accuracy, *tests.get(i + 1, (None, None)))
                    for i, (loss, accuracy) in enumerate(zip(history.train_loss, train_accuracy))])
        return run

    def copy(self) -> "RunHistory":
        return RunHistory.from_history(self.to_history())
