"""The network's output: a decision boundary over the input plane; for tables, predicted against actual
(regression) or a confusion matrix with each class's accuracy (classification).

Click a point (or a table row) to follow that sample's chain rule; in draw mode, clicks on the plane
add points of your own and a right click erases one."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (QButtonGroup, QCheckBox, QDoubleSpinBox, QHBoxLayout, QHeaderView, QLabel, QRadioButton,
                               QStackedWidget, QTableWidget, QTableWidgetItem, QToolButton, QVBoxLayout, QWidget)

from core.datasets import DRAWN_VALUE_RANGE
from core.metrics import regression_scores
from playground.widgets import style
from playground.widgets.diagram_overlays import LUT

TABLE_ROWS = 10
MAX_POINTS_DRAWN = 2000  # predicted-vs-actual points drawn (of the rows scored): a fair sample, the split is shuffled
VALUE_BUCKETS = 32  # regression targets are coloured in this many steps, one cached brush each
PICK_PX = 10  # a click picks the nearest point this close
ERASE_SHARE = 0.04  # a right click erases the nearest drawn point within this share of the plane's width


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


class Ring:
    """The ring around the sample followed on a plot; ``at`` (0 or 1, 2) is where it is drawn."""

    def __init__(self, plot):
        self.item = pg.ScatterPlotItem(size=16, pen=pg.mkPen("#111", width=2.5), brush=pg.mkBrush(0, 0, 0, 0))
        self.item.setZValue(20)
        plot.addItem(self.item)
        self.at = np.zeros((0, 2))

    def show(self, at) -> None:
        """Ring the point ``at`` ((1, 2), in the plot's coordinates), or none (empty)."""
        self.at = np.asarray(at, dtype=float).reshape(-1, 2)
        self.item.setData(pos=self.at)


def nearest(box, points, scene_pos) -> tuple[int, float]:
    """(index, distance in pixels) of the point (n, 2), in ``box``'s view coordinates, nearest a click."""
    origin, unit = box.mapViewToScene(pg.Point(0, 0)), box.mapViewToScene(pg.Point(1, 1))
    scene = np.column_stack([origin.x() + points[:, 0] * (unit.x() - origin.x()),
                             origin.y() + points[:, 1] * (unit.y() - origin.y())])
    distance = np.hypot(scene[:, 0] - scene_pos.x(), scene[:, 1] - scene_pos.y())
    i = int(distance.argmin())
    return i, float(distance[i])


class PlaneOutput(QWidget):
    """Heatmap of the output over the input plane, with the training (and test) points."""

    show_test_requested = Signal(bool)
    sample_picked = Signal(str, int)  # "train" or "test", and the row: the sample to follow
    point_drawn = Signal(float, float, float)  # x1, x2 and the class (or, for a regression, the value) drawn
    point_erased = Signal(float, float, float)  # x1, x2 and the radius to erase the nearest drawn point within

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
        self.ring = Ring(self.plot)
        self.neuron = pg.ImageItem(axisOrder="row-major")  # a hidden neuron's picture, while it is hovered
        self.neuron.setZValue(1)
        self.neuron.setVisible(False)
        self.plot.addItem(self.neuron)
        self.caption = QLabel()
        self.draw = QToolButton()
        self.draw.setText("✎ Draw")
        self.draw.setCheckable(True)
        self.draw.setFocusPolicy(Qt.NoFocus)
        self.draw.setToolTip("Draw your own data: click adds a point of the chosen class (or value), Shift+click "
                             "one of the other class (the opposite value), right click erases a point. Off: a click "
                             "picks a sample to follow.")
        self.task = "binary"
        self.classes = QButtonGroup(self)
        self.class_buttons = []
        for k, name in enumerate(("orange", "blue", "green")):
            button = QRadioButton(name)
            button.setFocusPolicy(Qt.NoFocus)
            button.setChecked(k == 1)
            button.setToolTip(f"Draw class {k} ({name})")
            self.classes.addButton(button, k)
            self.class_buttons.append(button)
        self.value = QDoubleSpinBox()  # what a regression's point drawn is worth
        self.value.setRange(-DRAWN_VALUE_RANGE, DRAWN_VALUE_RANGE)
        self.value.setSingleStep(0.1)
        self.value.setDecimals(2)
        self.value.setValue(DRAWN_VALUE_RANGE)
        self.value.setPrefix("value ")
        self.value.setFocusPolicy(Qt.ClickFocus)
        self.value.setToolTip("The value of the points drawn (Shift+click: its opposite)")
        self.draw.toggled.connect(self._drawing_changed)
        self._drawing_changed(False)
        self.plot.scene().sigMouseClicked.connect(self._clicked)
        self.shown_points = None  # the Problem whose points are drawn
        self.class_brushes = [pg.mkBrush(style.class_colour(k)) for k in range(len(style.CLASS_COLOURS))]
        colours = style.DIVERGING.map((np.arange(VALUE_BUCKETS) + 0.5) / VALUE_BUCKETS, mode="byte")
        self.value_brushes = [pg.mkBrush(*c) for c in colours]
        bar = QHBoxLayout()
        bar.addWidget(self.show_test)
        bar.addStretch()
        bar.addWidget(self.draw)
        for button in self.class_buttons:
            bar.addWidget(button)
        bar.addWidget(self.value)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.caption)
        layout.addWidget(self.plot)
        layout.addLayout(bar)

    def _drawing_changed(self, on: bool):
        regression = self.task == "regression"
        for button in self.class_buttons:
            button.setVisible(on and not regression)
        self.value.setVisible(on and regression)
        self.plot.setCursor(Qt.CrossCursor if on else Qt.ArrowCursor)

    def _clicked(self, event):
        """Draw mode: add or erase a point. Otherwise: pick the nearest point to follow its chain rule."""
        if self.shown_points is None or not self.plot.sceneBoundingRect().contains(event.scenePos()):
            return
        at = self.plot.getViewBox().mapSceneToView(event.scenePos())
        if self.draw.isChecked():
            if event.button() == Qt.RightButton:
                x_min, x_max = self.extent[:2]
                self.point_erased.emit(at.x(), at.y(), ERASE_SHARE * (x_max - x_min))
            elif event.button() == Qt.LeftButton:
                other = bool(event.modifiers() & Qt.ShiftModifier)  # the other class, or the opposite value
                if self.task == "regression":
                    label = -self.value.value() if other else self.value.value()
                else:
                    label = self.classes.checkedId()
                    label = (0 if label != 0 else 1) if other else label
                self.point_drawn.emit(at.x(), at.y(), label)
            event.accept()
            return
        if event.button() != Qt.LeftButton:
            return
        best = None
        for split, points, item in (("train", self.shown_points.points_train, self.train_points),
                                    ("test", self.shown_points.points_test, self.test_points)):
            if len(points) and item.isVisible():
                i, distance = nearest(self.plot.getViewBox(), points, event.scenePos())
                if distance <= PICK_PX and (best is None or distance < best[0]):
                    best = (distance, split, i)
        if best is not None:
            event.accept()
            self.sample_picked.emit(best[1], best[2])

    def mark(self, sample) -> None:
        """Ring the sample followed (("train" | "test", row)), or nothing (None)."""
        if sample is None or self.shown_points is None:
            self.ring.show(())
            return
        split, row = sample
        points = self.shown_points.points_train if split == "train" else self.shown_points.points_test
        self.ring.show(points[row:row + 1])

    def show_neuron(self, grid, caption: str = "") -> None:
        """A hidden neuron's activation over the plane (n, n) over the output, or the output again (None)."""
        if grid is None:
            self.neuron.setVisible(False)
            self.caption.setText("")
            return
        top = max(float(np.abs(grid).max()), 1e-12)
        self.neuron.setImage(LUT[np.clip(((grid / top + 1) * 127.5).astype(int), 0, 255)], autoLevels=False,
                             levels=(0, 255))
        x_min, x_max, y_min, y_max = self.extent
        self.neuron.setRect(x_min, y_min, x_max - x_min, y_max - y_min)
        self.neuron.setVisible(True)
        self.caption.setText(caption)

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
        self._drawing_changed(self.draw.isChecked())  # classes, or a value, to draw
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


class SampleRows(QTableWidget):
    """The first rows of the split the predictions are of, predicted beside actual: a click on one
    follows that sample's chain rule, and the sample followed is selected."""

    sample_picked = Signal(str, int)

    def __init__(self, parent=None):
        super().__init__(0, 2, parent)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.Stretch)
        self.verticalHeader().setVisible(False)
        self.setEditTriggers(QTableWidget.NoEditTriggers)
        self.setSelectionBehavior(QTableWidget.SelectRows)
        self.setSelectionMode(QTableWidget.SingleSelection)
        self.setMaximumWidth(260)
        self.split = "test"  # the predictions' rows: "test", or "train" when there is no test set
        self.followed = None
        self.cellClicked.connect(lambda row, _: self.sample_picked.emit(self.split, row))

    def set_problem(self, problem, name: str) -> None:
        self.split = "test" if len(problem.X_test) else "train"
        self.setHorizontalHeaderLabels([f"predicted {name}", f"actual {name}"])

    def set_rows(self, predicted, actual, text) -> None:
        """The first TABLE_ROWS of (predicted, actual), each written by ``text(value)``."""
        rows = min(TABLE_ROWS, len(actual))
        self.setRowCount(rows)
        for row in range(rows):
            for col, value in enumerate((predicted[row], actual[row])):
                self.setItem(row, col, QTableWidgetItem(text(value)))
        self.mark(self.followed)

    def mark(self, sample) -> None:
        """Select the row of the sample followed (("train" | "test", row)) if it is listed, else none."""
        self.followed = sample
        if sample is not None and sample[0] == self.split and sample[1] < self.rowCount():
            self.selectRow(sample[1])
        else:
            self.clearSelection()


class TableOutput(QWidget):
    """Regression: predicted vs actual, a scatter with the ideal diagonal and a table of sample rows
    (a click on a point or a row follows that sample's chain rule), with the RMSE and R² in the
    target's own units."""

    sample_picked = Signal(str, int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.plot = pg.PlotWidget()
        self.plot.setMenuEnabled(False)
        self.plot.setLabel("bottom", "actual")
        self.plot.setLabel("left", "predicted")
        self.diagonal = self.plot.plot(pen=pg.mkPen((150, 150, 150), width=1, style=pg.QtCore.Qt.DashLine))
        self.scatter = pg.ScatterPlotItem(size=6, brush=pg.mkBrush(*style.BLUE, 160), pen=None)
        self.plot.addItem(self.scatter)
        self.ring = Ring(self.plot)
        self.plot.scene().sigMouseClicked.connect(self._clicked)
        self.points = np.zeros((0, 2))  # (actual, predicted) as drawn
        self.table = SampleRows()
        self.table.sample_picked.connect(self.sample_picked)
        self.scores = QLabel()
        self.split_rows = 0  # rows of the split the predictions are of
        self.scores.setToolTip("On the test set (the training set when there is none), in the target's own units: "
                               "the cost is computed on standardised targets, these are not")
        views = QHBoxLayout()
        views.addWidget(self.plot, 1)
        views.addWidget(self.table)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.scores)
        layout.addLayout(views, 1)

    def set_problem(self, problem) -> None:
        name = problem.target_name
        self.target_name = name
        self.split_rows = len(problem.X_test) or len(problem.X_train)
        self.table.set_problem(problem, name)
        self.plot.setLabel("bottom", f"actual {name}")
        self.plot.setLabel("left", f"predicted {name}")

    def set_predictions(self, predicted, actual) -> None:
        scores = regression_scores(predicted, actual)
        split = "test" if self.table.split == "test" else "training"
        rows = f"{len(actual):,} rows" if len(actual) == self.split_rows else \
            f"the first {len(actual):,} of {self.split_rows:,} rows"
        self.scores.setText(f"{split} RMSE {scores.rmse:.4g} {self.target_name} · R² {scores.r2:.3f}  "
                            f"<span style='color:#666'>({rows})</span>")
        self.points = np.column_stack([actual, predicted])[:MAX_POINTS_DRAWN]
        self.scatter.setData(self.points[:, 0], self.points[:, 1])
        low, high = float(min(actual.min(), predicted.min())), float(max(actual.max(), predicted.max()))
        self.diagonal.setData([low, high], [low, high])
        self.table.set_rows(predicted, actual, lambda value: f"{value:,.2f}")
        self.mark(self.table.followed)

    def mark(self, sample) -> None:
        """Ring the sample followed on the scatter and select its row, where they are drawn."""
        self.table.mark(sample)
        shown = sample is not None and sample[0] == self.table.split
        self.ring.show(self.points[sample[1]:sample[1] + 1] if shown else ())

    def _clicked(self, event):
        """Pick the point nearest the click to follow its chain rule."""
        if event.button() != Qt.LeftButton or not len(self.points) \
                or not self.plot.sceneBoundingRect().contains(event.scenePos()):
            return
        i, distance = nearest(self.plot.getViewBox(), self.points, event.scenePos())
        if distance <= PICK_PX:
            event.accept()
            self.sample_picked.emit(self.table.split, i)


class ConfusionOutput(QWidget):
    """Classification: how many test rows of each actual class got each predicted class, and each
    class's accuracy (the diagonal over the row); under it the first rows (a click on one follows
    that sample's chain rule)."""

    sample_picked = Signal(str, int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.title = QLabel()
        self.title.setWordWrap(True)
        self.table = QTableWidget(0, 0)
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.Stretch)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.Stretch)
        self.rows = SampleRows()
        self.rows.setMaximumWidth(16777215)  # under the matrix, which needs the width
        self.rows.sample_picked.connect(self.sample_picked)
        self.class_names = ()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.table, 3)
        layout.addWidget(self.rows, 2)

    def mark(self, sample) -> None:
        self.rows.mark(sample)

    def set_problem(self, problem) -> None:
        self.rows.set_problem(problem, problem.target_name)
        self.class_names = tuple(problem.class_names)
        k = len(self.class_names)
        self.table.setRowCount(k)
        self.table.setColumnCount(k + 1)
        self.table.setHorizontalHeaderLabels([f"→ {name}" for name in self.class_names] + ["accuracy"])
        self.table.setVerticalHeaderLabels(list(self.class_names))
        self.table.horizontalHeaderItem(k).setToolTip("Share of each actual class predicted right")
        split = "test" if self.rows.split == "test" else "training"
        self.title.setText(f"Actual {problem.target_name} (rows) against predicted (columns), {split} set")

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
        self.rows.set_rows(predicted, actual, lambda label: self.class_names[label])


class OutputView(QStackedWidget):
    """Switches between the plane heatmap, predicted vs actual and the confusion matrix with the problem."""

    sample_picked = Signal(str, int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.plane = PlaneOutput()
        self.tabular = TableOutput()
        self.confusion = ConfusionOutput()
        for view in (self.plane, self.tabular, self.confusion):
            self.addWidget(view)
        for view in (self.plane, self.tabular, self.confusion):
            view.sample_picked.connect(self.sample_picked)

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

    def mark(self, sample) -> None:
        """Mark the sample followed (("train" | "test", row)) where the view shown draws it; None: none."""
        self.currentWidget().mark(sample)

    def show_snapshot(self, snapshot) -> None:
        if snapshot.grid is not None:
            self.plane.set_grid(snapshot.grid)
        if snapshot.predictions is not None:
            self.currentWidget().set_predictions(*snapshot.predictions)


if __name__ == "__main__":
    from types import SimpleNamespace

    from core.spec import DataSpec, prepare
    from playground.training.worker import GRID, view_extent

    problem = prepare(DataSpec(source="spiral", noise=0.1))
    info = SimpleNamespace(problem=problem, extent=view_extent(problem))

    def feed(view, tick):
        if tick == 0:
            view.set_problem(info)
        xs, ys = np.meshgrid(np.linspace(-6, 6, GRID), np.linspace(-6, 6, GRID))
        p = 0.5 + 0.5 * np.sin(np.hypot(xs, ys) * 0.8 - np.arctan2(ys, xs) + tick * 0.1)
        view.show_snapshot(type("S", (), {"grid": p[..., None], "predictions": None})())

    style.preview(OutputView, feed)
