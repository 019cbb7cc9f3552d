"""The cost curve: train and test cost per epoch, live, with accuracy below for classification."""
from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from core.trainer import EpochStats, History
from playground.widgets import style

REDRAW_HZ = 5  # a cost curve looks live at 5 frames a second, and each frame costs the trainer time


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

    def clear(self) -> None:
        self.size = 0


class LossPlot(QWidget):
    """``add_epochs(stats)`` appends EpochStats; ``clear()`` starts again."""

    def __init__(self, parent=None):
        super().__init__(parent)
        # the test set may be evaluated every few epochs only (Trainer.test_every): as in a History,
        # "test_epoch" holds the 1-based position, among the epochs shown, of each epoch tested
        self.series = {key: GrowingSeries() for key in ("epoch", "train", "train_acc", "test_epoch", "test", "test_acc")}
        self.last_tested = None  # the latest EpochStats with test figures, for the readout
        self.graphics = pg.GraphicsLayoutWidget()
        self.cost = self.graphics.addPlot(row=0, col=0)
        self.accuracy = self.graphics.addPlot(row=1, col=0)
        self.cost.setLabel("left", "cost")
        self.accuracy.setLabel("left", "accuracy")
        self.accuracy.setLabel("bottom", "epoch")
        self.accuracy.setXLink(self.cost)
        self.accuracy.setYRange(0, 1.02, padding=0)
        self.graphics.ci.layout.setRowStretchFactor(0, 3)
        self.curves = {}
        self.cost.addLegend(offset=(-10, 10))
        for plot in (self.cost, self.accuracy):
            # no grid: a grid makes every axis repaint with each new point, which costs more than the curves
            plot.setClipToView(True)
            plot.setDownsampling(auto=True, mode="peak")
            for side in ("left", "bottom"):
                plot.getAxis(side).enableAutoSIPrefix(False)
        for key, plot, pen, name in (("train", self.cost, style.TRAIN_PEN, "train"),
                                     ("test", self.cost, style.TEST_PEN, "test"),
                                     ("train_acc", self.accuracy, style.TRAIN_PEN, "train"),
                                     ("test_acc", self.accuracy, style.TEST_PEN, "test")):
            self.curves[key] = plot.plot(pen=pen, name=name, autoDownsampleFactor=1.0)
        self.log_scale = QCheckBox("log scale")
        self.log_scale.setToolTip("Show the cost on a logarithmic axis")
        self.log_scale.toggled.connect(self._set_log_scale)
        self.readout = QLabel("")
        self.readout.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)  # new text must not relayout the plots
        bar = QHBoxLayout()
        bar.addWidget(self.readout, 1)
        bar.addWidget(self.log_scale)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.graphics)
        self.show_accuracy(True)
        self.dirty = False
        self.last_redraw = 0.0
        # Ranges grow in steps instead of following every point: a moving range regenerates the
        # axes, which costs more than drawing the curves.
        for plot in (self.cost, self.accuracy):
            plot.disableAutoRange()
        self.x_bound = self.y_bound = 0.0

    def show_accuracy(self, visible: bool) -> None:
        self.accuracy.setVisible(visible)
        self.cost.setLabel("bottom", None if visible else "epoch")

    def clear(self) -> None:
        for series in self.series.values():
            series.clear()
        self.last_tested = None
        self._redraw()
        self.readout.setText("")

    def add_epochs(self, stats_list) -> None:
        if not stats_list:
            return
        shown = self.series["epoch"].size
        self.series["epoch"].extend([s.epoch for s in stats_list])
        self.series["train"].extend([s.train_loss for s in stats_list])
        last = stats_list[-1]
        if last.train_accuracy is not None:
            self.series["train_acc"].extend([s.train_accuracy for s in stats_list])
        tested = [s for s in stats_list if s.test_loss is not None]
        if tested:
            self.series["test_epoch"].extend([shown + i + 1 for i, s in enumerate(stats_list) if s.test_loss is not None])
            self.last_tested = tested[-1]
            self.series["test"].extend([s.test_loss for s in tested])
            if self.last_tested.test_accuracy is not None:
                self.series["test_acc"].extend([s.test_accuracy for s in tested])
        self.dirty = True
        self.readout.setText(_readout(last, self.last_tested))

    def add_history(self, history) -> None:
        """Show a saved run's curves (a core History)."""
        n = len(history.train_loss)
        train_accuracy = history.train_accuracy if len(history.train_accuracy) == n else [None] * n
        test_accuracy = history.test_accuracy or [None] * len(history.test_loss)
        tests = {epoch: figures for epoch, *figures in zip(history.test_epoch, history.test_loss, test_accuracy)}
        self.add_epochs([EpochStats(i + 1, loss, accuracy, *tests.get(i + 1, (None, None)))
                         for i, (loss, accuracy) in enumerate(zip(history.train_loss, train_accuracy))])
        self._redraw()

    def history(self) -> History:
        """The curves as a core History, to save with a project (accuracies None for regression)."""
        values = lambda key, n: self.series[key].values.tolist() if self.series[key].size else [None] * n
        n_train, n_test = self.series["train"].size, self.series["test"].size
        return History(values("train", 0), values("test", 0), values("train_acc", n_train),
                       values("test_acc", n_test), self.series["test_epoch"].values.astype(int).tolist())

    @property
    def n_points(self) -> int:
        return self.series["train"].size

    def redraw_if_due(self, force: bool = False) -> None:
        """Redraw new points, at most REDRAW_HZ times a second unless ``force``d (e.g. when paused)."""
        if self.dirty and (force or time.perf_counter() - self.last_redraw >= 1.0 / REDRAW_HZ):
            self._redraw()

    def _redraw(self) -> None:
        self.dirty = False
        self.last_redraw = time.perf_counter()
        epochs = self.series["epoch"].values
        test_epochs = epochs[self.series["test_epoch"].values.astype(int) - 1]
        for key, curve in self.curves.items():
            values = self.series[key].values
            curve.setData((test_epochs if key.startswith("test") else epochs)[: len(values)], values)
        self._grow_ranges()

    def _grow_ranges(self) -> None:
        last = float(self.series["epoch"].values[-1]) if self.n_points else 0.0
        if last > self.x_bound or self.x_bound > 4 * max(last, 10):  # grown past, or data was cleared
            self.x_bound = max(10.0, 1.5 * last)
            self.cost.setXRange(0, self.x_bound, padding=0)
        if self.log_scale.isChecked():
            return  # the log axis follows the data (see _set_log_scale)
        costs = [self.series[k].values for k in ("train", "test") if self.series[k].size]
        top = max((float(np.nanmax(c)) for c in costs), default=1.0)
        if top > self.y_bound or (not self.n_points):
            self.y_bound = 1.1 * top if np.isfinite(top) and top > 0 else 1.0
            self.cost.setYRange(0, self.y_bound, padding=0)

    def _set_log_scale(self, on: bool) -> None:
        self.cost.setLogMode(y=on)
        if on:
            self.cost.enableAutoRange(y=True)
        else:
            self.cost.disableAutoRange()
            self.y_bound = 0.0
            self._grow_ranges()


def _readout(stats, tested=None) -> str:
    """'train cost 0.0123 (99.2 %) · test cost 0.0141 (98.8 %)': short enough for a narrow panel;
    the test figures are those of ``tested``, the latest epoch that evaluated the test set."""
    def part(name, cost, accuracy):
        return f"{name} cost {cost:.3g}" + (f" ({accuracy:.1%})" if accuracy is not None else "")
    parts = [part("train", stats.train_loss, stats.train_accuracy)]
    if tested is not None:
        parts.append(part("test", tested.test_loss, tested.test_accuracy) +
                     (f" at epoch {tested.epoch:,}" if tested.epoch != stats.epoch else ""))
    return " · ".join(parts)


if __name__ == "__main__":
    def feed(plot, tick):
        epochs = range(tick * 50 + 1, tick * 50 + 51)
        plot.add_epochs([EpochStats(e, 1 / e ** 0.5, 1 - 1 / e ** 0.3, 1.2 / e ** 0.5, 1 - 1.1 / e ** 0.3)
                         for e in epochs])
        plot.redraw_if_due()

    style.preview(LossPlot, feed)
