"""The network's output: a decision boundary over the input plane, or predicted vs actual for tables."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import (QCheckBox, QHBoxLayout, QHeaderView, QStackedWidget, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from playground.widgets import style

TABLE_ROWS = 10


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
        self.show_test.toggled.connect(self.test_points.setVisible)
        self.test_points.setVisible(False)
        self.task = "binary"
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot)
        layout.addWidget(self.show_test)

    def set_problem(self, problem, extent) -> None:
        self.task = problem.task
        self.extent = extent
        self.rect_pending = True
        x_min, x_max, y_min, y_max = extent
        self.plot.setRange(xRange=(x_min, x_max), yRange=(y_min, y_max), padding=0)
        for item, points, targets in ((self.train_points, problem.points_train, problem.Y_train),
                                      (self.test_points, problem.points_test, problem.Y_test)):
            item.setData(pos=points, brush=self._brushes(np.asarray(targets).ravel()))

    def _brushes(self, targets):
        if self.task == "multiclass":
            return [pg.mkBrush(style.class_colour(t)) for t in targets.astype(int)]
        values = targets if self.task == "binary" else (np.clip(targets, -1, 1) + 1) / 2
        colours = style.DIVERGING.map(np.clip(values, 0, 1), mode="byte")
        return [pg.mkBrush(*c) for c in colours]

    def set_grid(self, grid) -> None:
        first = self.image.image is None or self.image.image.shape[:2] != grid.shape[:2]
        self.image.setImage(grid_to_rgb(grid, self.task), autoLevels=False, levels=(0, 255))
        if first or self.rect_pending:  # the rect maps pixels to the plane; it needs the image's size
            self.rect_pending = False
            x_min, x_max, y_min, y_max = self.extent
            self.image.setRect(x_min, y_min, x_max - x_min, y_max - y_min)


class TableOutput(QWidget):
    """Predicted vs actual: a scatter with the ideal diagonal, and a table of sample rows."""

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
        self.class_names = None
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.table)

    def set_problem(self, problem) -> None:
        self.class_names = problem.class_names
        name = problem.target_name
        self.plot.setLabel("bottom", f"actual {name}")
        self.plot.setLabel("left", f"predicted {name}")
        self.table.setHorizontalHeaderLabels([f"predicted {name}", f"actual {name}"])

    def set_predictions(self, predicted, actual) -> None:
        if self.class_names:
            # jitter classes a little so the counts of each (actual, predicted) pair are visible
            jitter = np.random.default_rng(0).uniform(-0.15, 0.15, (2, len(actual)))
            self.scatter.setData(actual + jitter[0], predicted + jitter[1])
            top = len(self.class_names) - 0.5
            self.diagonal.setData([-0.5, top], [-0.5, top])
            text = lambda v: self.class_names[int(v)]
        else:
            self.scatter.setData(actual, predicted)
            low, high = float(min(actual.min(), predicted.min())), float(max(actual.max(), predicted.max()))
            self.diagonal.setData([low, high], [low, high])
            text = lambda v: f"{v:,.2f}"
        rows = min(TABLE_ROWS, len(actual))
        self.table.setRowCount(rows)
        for row in range(rows):
            for col, value in enumerate((predicted[row], actual[row])):
                self.table.setItem(row, col, QTableWidgetItem(text(value)))


class OutputView(QStackedWidget):
    """Switches between the plane heatmap and the table view with the problem."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.plane = PlaneOutput()
        self.tabular = TableOutput()
        self.addWidget(self.plane)
        self.addWidget(self.tabular)

    def set_problem(self, info) -> None:
        if info.problem.is_plane:
            self.plane.set_problem(info.problem, info.extent)
            self.setCurrentWidget(self.plane)
        else:
            self.tabular.set_problem(info.problem)
            self.setCurrentWidget(self.tabular)

    def show_snapshot(self, snapshot) -> None:
        if snapshot.grid is not None:
            self.plane.set_grid(snapshot.grid)
        if snapshot.predictions is not None:
            self.tabular.set_predictions(*snapshot.predictions)


if __name__ == "__main__":
    from core.spec import DataSpec, prepare
    from playground.worker import GRID, ProblemInfo, _extent

    problem = prepare(DataSpec(source="spiral", noise=0.1))
    info = ProblemInfo(0, (), problem, [], "bce", _extent(problem))

    def feed(view, tick):
        if tick == 0:
            view.set_problem(info)
        xs, ys = np.meshgrid(np.linspace(-6, 6, GRID), np.linspace(-6, 6, GRID))
        p = 0.5 + 0.5 * np.sin(np.hypot(xs, ys) * 0.8 - np.arctan2(ys, xs) + tick * 0.1)
        view.show_snapshot(type("S", (), {"grid": p[..., None], "predictions": None})())

    style.preview(OutputView, feed)
