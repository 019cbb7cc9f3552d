"""The network's output: a decision boundary over the input plane; for tables, predicted against actual
(regression) or a confusion matrix with each class's accuracy (classification)."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (QCheckBox, QHBoxLayout, QHeaderView, QLabel, QStackedWidget, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from playground.widgets import style

TABLE_ROWS = 10
VALUE_BUCKETS = 32  # regression targets are coloured in this many steps, one cached brush each


def grid_to_rgb(grid, task: str) -> np.ndarray:
    """(H, W, n_outputs) network outputs → (H, W, 3) uint8 colours, pale where the network is unsure."""
    if task == "multiclass":
        colours = np.array([style.class_colour(k) for k in range(grid.shape[2])], dtype=float)
        rgb = grid @ colours  # probabilities mix the class colours
        confidence = grid.max(axis=2, keepdims=True)
    else:
        value = grid[..., 0] if task == "binary" else (np.clip(grid[..., 0], -1, 1) + 1) / 2
        rgb = style.DIVERGING.map(np.clip(value, 0, 1).ravel(), mode="float")[:, :3].reshape(*value.shape, 3) * 255
        confidence = np.abs(value - 0.5)[..., None] * 2
        confidence = 0.5 + confidence / 2
    white = np.full(3, 255.0)
    faded = white + (rgb - white) * (0.25 + 0.55 * confidence)  # a background light enough to see the dots
    return np.clip(faded, 0, 255).astype(np.uint8)


class PlaneOutput(QWidget):
    """Heatmap of the output over the input plane, with the training (and test) points."""

    show_test_requested = Signal(bool)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.plot = pg.PlotWidget()
        self.plot.setAspectLocked(True)
        self.plot.setMenuEnabled(False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.train_points = pg.ScatterPlotItem(size=6, pen=pg.mkPen("w", width=1))
        self.test_points = pg.ScatterPlotItem(size=6, pen=pg.mkPen("k", width=1))
        self.plot.addItem(self.train_points)
        self.plot.addItem(self.test_points)
        self.show_test = QCheckBox("show test data")
        self.show_test.setToolTip("Draw the test points (outlined in black) as well as the training points")
        self.show_test.toggled.connect(self.show_test_requested)
        self.test_points.setVisible(False)
        self.task = "binary"
        self.shown_points = None  # the Problem whose points are drawn
        self.class_brushes = [pg.mkBrush(style.class_colour(k)) for k in range(len(style.CLASS_COLOURS))]
        colours = style.DIVERGING.map((np.arange(VALUE_BUCKETS) + 0.5) / VALUE_BUCKETS, mode="byte")
        self.value_brushes = [pg.mkBrush(*c) for c in colours]
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot)
        layout.addWidget(self.show_test)

    def set_show_test(self, on: bool) -> None:
        self.show_test.blockSignals(True)
        self.show_test.setChecked(on)
        self.show_test.blockSignals(False)
        self.test_points.setVisible(on)

    def set_problem(self, problem, extent) -> None:
        """Draw the problem's points; an architecture edit keeps the same data, and nothing is redrawn."""
        if problem is self.shown_points:
            return
        self.shown_points = problem
        self.task = problem.task
        self.extent = extent
        self.rect_pending = True
        x_min, x_max, y_min, y_max = extent
        self.plot.setRange(xRange=(x_min, x_max), yRange=(y_min, y_max), padding=0)
        for item, points, targets in ((self.train_points, problem.points_train, problem.Y_train),
                                      (self.test_points, problem.points_test, problem.Y_test)):
            item.setData(pos=points, brush=self._brushes(np.asarray(targets).ravel()))

    def _brushes(self, targets):
        """One brush per point, taken from a few cached ones (making 20,000 brushes froze the window)."""
        if self.task == "multiclass":
            palette = np.array(self.class_brushes, dtype=object)
            return palette[targets.astype(int) % len(palette)]
        values = targets if self.task == "binary" else (np.clip(targets, -1, 1) + 1) / 2
        buckets = np.minimum((np.clip(values, 0, 1) * VALUE_BUCKETS).astype(int), VALUE_BUCKETS - 1)
        return np.array(self.value_brushes, dtype=object)[buckets]

    def set_grid(self, grid) -> None:
        first = self.image.image is None or self.image.image.shape[:2] != grid.shape[:2]
        self.image.setImage(grid_to_rgb(grid, self.task), autoLevels=False, levels=(0, 255))
        if first or self.rect_pending:  # the rect maps pixels to the plane; it needs the image's size
            self.rect_pending = False
            x_min, x_max, y_min, y_max = self.extent
            self.image.setRect(x_min, y_min, x_max - x_min, y_max - y_min)


class TableOutput(QWidget):
    """Regression: predicted vs actual, a scatter with the ideal diagonal and a table of sample rows."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.plot = pg.PlotWidget()
        self.plot.setLabel("bottom", "actual")
        self.plot.setLabel("left", "predicted")
        self.diagonal = self.plot.plot(pen=pg.mkPen((150, 150, 150), width=1, style=pg.QtCore.Qt.DashLine))
        self.scatter = pg.ScatterPlotItem(size=6, brush=pg.mkBrush(*style.BLUE, 160), pen=None)
        self.plot.addItem(self.scatter)
        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels(["predicted", "actual"])
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        self.table.setMaximumWidth(260)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.table)

    def set_problem(self, problem) -> None:
        name = problem.target_name
        self.plot.setLabel("bottom", f"actual {name}")
        self.plot.setLabel("left", f"predicted {name}")
        self.table.setHorizontalHeaderLabels([f"predicted {name}", f"actual {name}"])

    def set_predictions(self, predicted, actual) -> None:
        self.scatter.setData(actual, predicted)
        low, high = float(min(actual.min(), predicted.min())), float(max(actual.max(), predicted.max()))
        self.diagonal.setData([low, high], [low, high])
        rows = min(TABLE_ROWS, len(actual))
        self.table.setRowCount(rows)
        for row in range(rows):
            for col, value in enumerate((predicted[row], actual[row])):
                self.table.setItem(row, col, QTableWidgetItem(f"{value:,.2f}"))


class ConfusionOutput(QWidget):
    """Classification: how many test rows of each actual class got each predicted class, and each
    class's accuracy (the diagonal over the row)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.title = QLabel()
        self.table = QTableWidget(0, 0)
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.Stretch)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.Stretch)
        self.class_names = ()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.table, 1)

    def set_problem(self, problem) -> None:
        self.class_names = tuple(problem.class_names)
        k = len(self.class_names)
        self.table.setRowCount(k)
        self.table.setColumnCount(k + 1)
        self.table.setHorizontalHeaderLabels([f"→ {name}" for name in self.class_names] + ["accuracy"])
        self.table.setVerticalHeaderLabels(list(self.class_names))
        self.table.horizontalHeaderItem(k).setToolTip("Share of each actual class predicted right")
        self.title.setText(f"Actual {problem.target_name} (rows) against predicted (columns), test set")

    def set_predictions(self, predicted, actual) -> None:
        k = len(self.class_names)
        counts = np.bincount(actual * k + predicted, minlength=k * k)[: k * k].reshape(k, k)
        totals = counts.sum(axis=1)
        top = max(int(counts.max(initial=0)), 1)
        for row in range(k):
            for col in range(k):
                item = QTableWidgetItem(f"{counts[row, col]:,}")
                item.setTextAlignment(Qt.AlignCenter)
                shade = counts[row, col] / top  # right answers blue, wrong ones orange, by how many
                base = style.BLUE if row == col else style.ORANGE
                item.setBackground(QBrush(QColor(*[round(255 + (c - 255) * 0.6 * shade) for c in base])))
                self.table.setItem(row, col, item)
            accuracy = counts[row, row] / totals[row] if totals[row] else float("nan")
            item = QTableWidgetItem("–" if not totals[row] else f"{accuracy:.1%}")
            item.setTextAlignment(Qt.AlignCenter)
            self.table.setItem(row, k, item)
        self.counts = counts


class OutputView(QStackedWidget):
    """Switches between the plane heatmap, predicted vs actual and the confusion matrix with the problem."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.plane = PlaneOutput()
        self.tabular = TableOutput()
        self.confusion = ConfusionOutput()
        for view in (self.plane, self.tabular, self.confusion):
            self.addWidget(view)

    def set_problem(self, built) -> None:
        problem = built.problem
        if problem.is_plane:
            self.plane.set_problem(problem, built.extent)
            self.setCurrentWidget(self.plane)
        elif problem.task == "regression":
            self.tabular.set_problem(problem)
            self.setCurrentWidget(self.tabular)
        else:
            self.confusion.set_problem(problem)
            self.setCurrentWidget(self.confusion)

    def show_snapshot(self, snapshot) -> None:
        if snapshot.grid is not None:
            self.plane.set_grid(snapshot.grid)
        if snapshot.predictions is not None:
            self.currentWidget().set_predictions(*snapshot.predictions)


if __name__ == "__main__":
    from types import SimpleNamespace

    from core.spec import DataSpec, prepare
    from playground.training.worker import GRID, _extent

    problem = prepare(DataSpec(source="spiral", noise=0.1))
    info = SimpleNamespace(problem=problem, extent=_extent(problem))

    def feed(view, tick):
        if tick == 0:
            view.set_problem(info)
        xs, ys = np.meshgrid(np.linspace(-6, 6, GRID), np.linspace(-6, 6, GRID))
        p = 0.5 + 0.5 * np.sin(np.hypot(xs, ys) * 0.8 - np.arctan2(ys, xs) + tick * 0.1)
        view.show_snapshot(type("S", (), {"grid": p[..., None], "predictions": None})())

    style.preview(OutputView, feed)
