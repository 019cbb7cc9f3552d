"""The cost curve: train and test cost per epoch, live, with accuracy below for classification;
pinned runs' curves dashed over them, and a line at the epoch the timeline shows.

It draws histories it does not own (the Session does) and keeps no figures of its own.
"""
from __future__ import annotations

import html
import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from playground.session.history import RunHistory
from playground.widgets import style
from playground.widgets.labels import ElidedLabel

REDRAW_HZ = 5  # a cost curve looks live at 5 frames a second, and each frame costs the trainer time
PINNED_TOP_EPOCHS = 10  # the cost axis reaches the highest of a pinned run's first epochs


class LossPlot(QWidget):
    """``set_history(history)`` to draw a run; ``redraw_if_due()`` after it grew."""

    log_scale_requested = Signal(bool)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.history = RunHistory()
        self.graphics = pg.GraphicsLayoutWidget()
        self.cost = self.graphics.addPlot(row=0, col=0)
        self.accuracy = self.graphics.addPlot(row=1, col=0)
        self.cost.setLabel("left", "cost")
        self.accuracy.setLabel("left", "accuracy")
        self.accuracy.setLabel("bottom", "epoch")
        self.accuracy.setXLink(self.cost)
        self.accuracy.setYRange(0, 1.02, padding=0)
        self.accuracy.getAxis("left").setTicks([[(0, "0"), (0.5, "0.5"), (1, "1")]])  # room for three, even zoomed
        self.graphics.ci.layout.setRowStretchFactor(0, 3)
        self.curves = {}
        self.legend = self.cost.addLegend(offset=(-10, 10))
        for plot in (self.cost, self.accuracy):
            # no grid: a grid makes every axis repaint with each new point, which costs more than the curves
            plot.setClipToView(True)
            plot.setDownsampling(auto=True, mode="peak")
            for side in ("left", "bottom"):
                plot.getAxis(side).enableAutoSIPrefix(False)
        for key, plot, pen, name in (("train_loss", self.cost, style.TRAIN_PEN, "train"),
                                     ("test_loss", self.cost, style.TEST_PEN, "test"),
                                     ("train_accuracy", self.accuracy, style.TRAIN_PEN, "train"),
                                     ("test_accuracy", self.accuracy, style.TEST_PEN, "test")):
            self.curves[key] = plot.plot(pen=pen, name=name, autoDownsampleFactor=1.0)
        self.log_scale = QCheckBox("log scale")
        self.log_scale.setToolTip("Show the cost on a logarithmic axis")
        self.log_scale.toggled.connect(self.log_scale_requested)
        self.readout = ElidedLabel()
        bar = QHBoxLayout()
        bar.addWidget(self.readout, 1)
        bar.addWidget(self.log_scale)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.graphics, 1)
        # the pinned runs are named under the plot, as many lines as they need, not over the curves
        self.runs_key = QLabel()
        self.runs_key.setWordWrap(True)  # between runs, never inside a label
        self.runs_key.setContentsMargins(6, 0, 6, 2)
        self.runs_key.setVisible(False)
        layout.addWidget(self.runs_key)
        self.show_accuracy(True)
        self.dirty = False
        self.last_redraw = 0.0
        self.run_curves = []  # (plot, curve) of the pinned runs
        self.runs_extent = (0, 0.0)  # their longest run and highest cost: the axes hold them too
        self.marked_epoch = None
        self.measured = None  # EpochStats after a weight edit, newer than the history's last
        self.markers = [pg.InfiniteLine(angle=90, pen=pg.mkPen((60, 60, 60), width=1, style=Qt.DotLine))
                        for _ in range(2)]
        for plot, line in zip((self.cost, self.accuracy), self.markers):
            line.setVisible(False)
            plot.addItem(line, ignoreBounds=True)
        # Ranges grow in steps instead of following every point: a moving range regenerates the
        # axes, which costs more than drawing the curves.
        for plot in (self.cost, self.accuracy):
            plot.disableAutoRange()
        self.x_bound = self.y_bound = 0.0

    def show_accuracy(self, visible: bool) -> None:
        self.accuracy.setVisible(visible)
        self.cost.setLabel("bottom", None if visible else "epoch")

    def set_history(self, history: RunHistory, replaced: bool) -> None:
        """Draw ``history`` (it grew, or with ``replaced`` it is another run's: the axes start over)."""
        self.history = history
        self.dirty = True
        if replaced:
            self.x_bound = self.y_bound = 0.0
            self.measured = None
            self._redraw()
        self._show_readout()

    def _show_readout(self) -> None:
        """The figures of the epoch looked at (the marker's), else of a weight just edited, else the latest."""
        if self.marked_epoch is not None:
            stats, tested = self.history.at(self.marked_epoch)
        elif self.measured is not None:
            stats, tested = self.measured, (self.measured if self.measured.test_loss is not None else None)
        else:
            stats, tested = self.history.last, self.history.last_tested
        prefix = "after the edit: " if self.marked_epoch is None and self.measured is not None else ""
        self.readout.setText(prefix + _readout(stats, tested) if stats is not None else "")

    def set_measured(self, stats) -> None:
        """Figures of the weights as a weight edit left them (EpochStats), shown until the next epoch's."""
        if stats is not self.measured:
            self.measured = stats
            self._show_readout()

    def set_runs(self, histories, labels, colours) -> None:
        """Pinned runs' train cost (and accuracy), dashed, each in its colour (RGB) with its label."""
        for plot, curve in self.run_curves:
            plot.removeItem(curve)
        self.run_curves = []
        self.runs_extent = (0, 0.0)
        for history, label, colour in zip(histories, labels, colours):
            pen = pg.mkPen(colour, width=1, style=Qt.DashLine)
            epochs = np.arange(1, len(history.train_loss) + 1)
            costs = np.asarray(history.train_loss, dtype=float)
            self.run_curves.append((self.cost, self.cost.plot(epochs, costs, pen=pen)))
            accuracy = np.array([np.nan if a is None else a for a in history.train_accuracy], dtype=float)
            if len(accuracy) == len(epochs) and np.isfinite(accuracy).any():
                self.run_curves.append((self.accuracy, self.accuracy.plot(epochs, accuracy, pen=pen)))
            # the axes hold a pinned run's start, not the blow-up of one that diverged
            start = costs[:PINNED_TOP_EPOCHS][np.isfinite(costs[:PINNED_TOP_EPOCHS])]
            top = float(start.max()) if len(start) else 0.0
            self.runs_extent = (max(self.runs_extent[0], len(epochs)), max(self.runs_extent[1], top))
        self.runs_key.setText("&nbsp;&nbsp; ".join(
            f"<span style='color: rgb{tuple(colour)}'>╌╌</span>&nbsp;{html.escape(label).replace(' ', '&nbsp;')}"
            for label, colour in zip(labels, colours)))
        self.runs_key.setVisible(bool(labels))
        self.x_bound = self.y_bound = 0.0
        self._grow_ranges()

    def set_marker(self, epoch) -> None:
        """A line at ``epoch`` (the one the timeline shows), or none; the readout gives its figures."""
        self.marked_epoch = epoch
        for line in self.markers:
            line.setVisible(epoch is not None)
            if epoch is not None:
                line.setValue(epoch)
        self._show_readout()

    def set_log_scale(self, on: bool) -> None:
        if self.log_scale.isChecked() != on:
            self.log_scale.blockSignals(True)
            self.log_scale.setChecked(on)
            self.log_scale.blockSignals(False)
        self._set_log_scale(on)

    def set_zoom(self, zoom: float) -> None:
        font = QFont()
        self.legend.setLabelTextSize(f"{font.pointSizeF():.1f}pt")
        for _, label in self.legend.items:
            label.setText(label.text, size=f"{font.pointSizeF():.1f}pt")
        for plot in (self.cost, self.accuracy):
            for side in ("left", "bottom"):
                plot.getAxis(side).setStyle(tickFont=font)
                plot.getAxis(side).label.setFont(font)

    def redraw_if_due(self, force: bool = False) -> None:
        """Redraw new points, at most REDRAW_HZ times a second unless ``force``d (e.g. when paused)."""
        if self.dirty and (force or time.perf_counter() - self.last_redraw >= 1.0 / REDRAW_HZ):
            self._redraw()

    def _redraw(self) -> None:
        self.dirty = False
        self.last_redraw = time.perf_counter()
        history = self.history
        epochs = history["epoch"]
        test_epochs = epochs[history["test_epoch"].astype(int) - 1]
        for key, curve in self.curves.items():
            values = history[key]
            curve.setData((test_epochs if key.startswith("test") else epochs)[: len(values)], values)
        self._grow_ranges()

    def _grow_ranges(self) -> None:
        n_points = len(self.history)
        last = max(float(self.history["epoch"][-1]) if n_points else 0.0, self.runs_extent[0])
        if last > self.x_bound or self.x_bound > 4 * max(last, 10):  # grown past, or data was cleared
            self.x_bound = max(10.0, 1.5 * last)
            self.cost.setXRange(0, self.x_bound, padding=0)
        if self.log_scale.isChecked():
            return  # the log axis follows the data (see _set_log_scale)
        # the highest finite cost: an overflowed test cost would otherwise reset the axis at every frame
        top = max(self.history.highest_cost, self.runs_extent[1])
        if top > self.y_bound or not n_points:
            self.y_bound = 1.1 * top if top > 0 else 1.0
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
    from core.trainer import EpochStats

    def feed(plot, tick):
        epochs = range(tick * 50 + 1, tick * 50 + 51)
        plot.history.extend([EpochStats(e, 1 / e ** 0.5, 1 - 1 / e ** 0.3, 1.2 / e ** 0.5, 1 - 1.1 / e ** 0.3)
                             for e in epochs])
        plot.set_history(plot.history, tick == 0)
        plot.redraw_if_due()

    style.preview(LossPlot, feed)
