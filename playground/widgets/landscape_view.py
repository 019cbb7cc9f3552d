"""The loss landscape: the cost over a plane of weight space through the current weights, with the
path training took projected onto it.

``landscape_job`` (no Qt) builds the computation from what the Session holds, as a generator for a
``playground.training.jobs.JobRunner``; ``LandscapeView`` asks for it (``compute_requested``) and draws
what the runner reports: the rows as they come, the result, or the picture before when cancelled.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from core.landscape import Landscape, axis, extents, landscape, pca_plane, random_plane
from playground.widgets import style
from playground.widgets.fields import choice_combo
from playground.widgets.labels import ElidedLabel

PLANES = (("principal directions", "pca"), ("random directions", "random"))
RESOLUTIONS = (21, 41, 61, 81)  # grid points along each side; odd, so the current weights are a point
SPANS = (0.5, 1.0, 2.0, 4.0)  # times the default reach: the path with a margin, or ±1 for random directions
MAX_PATH_POINTS = 500  # checkpoints the principal directions are taken from (evenly spread over the kept ones)
CONTOURS = 10  # contour lines, evenly spaced in log cost
COLOUR_MAP = "viridis"


@dataclass(frozen=True)
class LandscapeOptions:
    plane: str = "pca"  # "pca" (principal directions of the checkpoints' path) or "random"
    resolution: int = 41  # points along each side of the grid (odd)
    span: float = 1.0  # times the default reach
    seed: int = 0  # of the random directions


@dataclass(frozen=True, eq=False)
class LandscapeResult:
    """What the view draws. ``grid.costs`` (len(ys), len(xs)) is NaN in the rows not computed yet;
    ``path`` (n_points, 2) is where the checkpoints (oldest first) and last the current weights fall on
    the plane, the current weights at (0, 0); ``axis_labels`` name the two directions."""

    grid: Landscape
    path: np.ndarray
    axis_labels: tuple
    options: LandscapeOptions
    epoch: int | None = None  # of the current weights, if known

    @property
    def centre_cost(self) -> float:
        """The cost at the current weights, the middle of the grid (NaN until that row is computed):
        the trainer's cost on the training set, or on a sample of ``core.landscape.MAX_SAMPLES`` rows
        of a larger one."""
        costs = self.grid.costs
        return float(costs[len(self.grid.ys) // 2, len(self.grid.xs) // 2])


def landscape_job(network_copy, checkpoints, X, Y, loss, options: LandscapeOptions, epoch=None):
    """The generator a ``JobRunner`` runs: yields ``(fraction, LandscapeResult)`` after each row of the
    grid and returns the complete ``LandscapeResult``.

    ``network_copy``: a ``core.Network`` with the current weights (``Session.current_network()``), not
    the one being trained; ``checkpoints``: the run's checkpoints, oldest first (any objects with
    ``weights``); X (n_samples, n_inputs) and Y: the training set as the trainer sees it; ``loss``: the
    trainer's loss name. What is captured is taken now, on the caller's thread; the principal
    directions (an SVD) and the grid are computed when the job runs. A ValueError raised then (a path
    too short for principal directions) says what to do instead.
    """
    current = network_copy.get_weights()
    path = [checkpoint.weights for checkpoint in checkpoints]
    if len(path) > MAX_PATH_POINTS:
        path = [path[i] for i in np.unique(np.linspace(0, len(path) - 1, MAX_PATH_POINTS).round().astype(int))]
    if not path or not _same_weights(path[-1], current):
        path.append(current)
    if options.plane not in {value for _, value in PLANES}:
        raise ValueError(f"unknown plane {options.plane!r}; expected one of {', '.join(v for _, v in PLANES)}")

    def run():
        yield 0.0, None
        if options.plane == "pca":
            plane = pca_plane(path, current)
            labels = tuple(f"PC{i + 1} ({100 * share:.0f} % of the path's variance)"
                           for i, share in enumerate(plane.explained))
        else:
            plane = random_plane(current, options.seed)
            labels = ("random direction 1", "random direction 2")
        xy = plane.project(path)
        # the path's reach, or Li et al.'s [−1, 1]: filter-normalised directions are the weights' own scale
        reach = np.array(extents(xy)) if options.plane == "pca" else np.ones(2)
        xs, ys = (axis(r * options.span, options.resolution) for r in reach)
        result = None
        for grid in landscape(network_copy, loss, X, Y, plane, xs, ys):
            result = LandscapeResult(grid, xy, labels, options, epoch)
            yield grid.progress, result
        return result

    return run()


def _same_weights(a, b) -> bool:
    return all(np.array_equal(x, y) for pa, pb in zip(a, b) for x, y in zip(pa, pb))


class LandscapeView(QWidget):
    """Choose a plane, a resolution and a span; *Compute* emits ``compute_requested(LandscapeOptions)``.

    ``attach(runner)`` draws what a ``JobRunner`` reports; call ``show_started()`` once its job is
    started. The view keeps the last complete result, the picture it goes back to when a computation
    is cancelled or fails."""

    compute_requested = Signal(object)  # LandscapeOptions
    cancel_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.result = None  # the last complete LandscapeResult, drawn unless a computation is under way
        self.drawn = None  # the result drawn now (complete or partial)
        self.plane = choice_combo(PLANES, "Which plane of weight space to draw: the two directions in which "
                                  "training moved most (the principal directions of its checkpoints), or two "
                                  "random ones scaled to the weights (filter-normalised, as in Li et al. 2018)",
                                  keyboard=False)

        self.resolution = choice_combo([(f"{n} × {n}", n) for n in RESOLUTIONS],
                                       "Points along each side of the grid: each one is a forward pass over the data",
                                       keyboard=False)
        self.resolution.setCurrentIndex(RESOLUTIONS.index(LandscapeOptions.resolution))
        self.span = choice_combo([(f"{s:g}×", s) for s in SPANS], "How far the grid reaches: times the path's reach "
                                 "(principal directions) or times ±1 (random)", keyboard=False)
        self.span.setCurrentIndex(SPANS.index(LandscapeOptions.span))
        for combo in (self.plane, self.resolution, self.span):  # each as wide as its longest choice, no wider
            combo.setSizeAdjustPolicy(QComboBox.AdjustToContents)
        self.compute = QPushButton("Compute")
        self.compute.setToolTip("Compute the cost over the plane, around the current weights")
        self.cancel = QPushButton("Cancel")
        self.cancel.setToolTip("Stop computing; the picture before stays")
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.setMaximumWidth(160)
        for button in (self.compute, self.cancel):
            button.setFocusPolicy(Qt.NoFocus)  # Space stays play/pause
        self.compute.clicked.connect(lambda: self.compute_requested.emit(self.options()))
        self.cancel.clicked.connect(self.cancel_requested)
        self._set_busy(False)

        self.plot = pg.PlotWidget()
        self.plot.setMenuEnabled(False)
        self.plot.setLabel("bottom", "direction 1")
        self.plot.setLabel("left", "direction 2")
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setColorMap(pg.colormap.get(COLOUR_MAP))
        self.plot.addItem(self.image)
        self.colour_bar = pg.ColorBarItem(values=(0, 1), colorMap=pg.colormap.get(COLOUR_MAP), interactive=False,
                                          label="log₁₀ cost", width=14)
        self.colour_bar.setImageItem(self.image, insert_in=self.plot.getPlotItem())
        self.contours = []
        for _ in range(CONTOURS):
            contour = pg.IsocurveItem(pen=pg.mkPen(255, 255, 255, 110, width=1), axisOrder="row-major")
            contour.setParentItem(self.image)  # in the image's pixels
            contour.setPos(0.5, 0.5)  # a pixel's value belongs to its centre
            self.contours.append(contour)
        self.plot.addLegend(offset=(10, 10), brush=(255, 255, 255, 190))
        self.path_line = self.plot.plot(pen=pg.mkPen(255, 255, 255, width=1.5), symbol="o", symbolSize=4,
                                        symbolBrush=(255, 255, 255), symbolPen=None, name="path (checkpoints)")
        self.start_marker = pg.ScatterPlotItem(symbol="o", size=11, brush=pg.mkBrush(*style.ORANGE),
                                               pen=pg.mkPen("w", width=1.5), name="start")
        self.end_marker = pg.ScatterPlotItem(symbol="star", size=16, brush=pg.mkBrush(230, 40, 40),
                                             pen=pg.mkPen("w", width=1), name="centre: the weights it was computed at")
        for marker in (self.start_marker, self.end_marker):
            marker.setZValue(10)
            self.plot.addItem(marker)  # and to the legend, by its name
        self.readout = ElidedLabel()
        self.hover = ElidedLabel()
        self.hover.setStyleSheet("color: #666")
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #a3261a")
        self.message.hide()
        self.plot.scene().sigMouseMoved.connect(self._hovered)

        bar = QHBoxLayout()
        for widget in (QLabel("plane"), self.plane, self.resolution, QLabel("span"), self.span, self.compute,
                       self.progress, self.cancel):
            bar.addWidget(widget)
        bar.addStretch()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.message)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.readout)
        layout.addWidget(self.hover)

    def options(self) -> LandscapeOptions:
        return LandscapeOptions(self.plane.currentData(), self.resolution.currentData(), self.span.currentData())

    def attach(self, runner) -> None:
        """Draw what ``runner`` (a JobRunner running ``landscape_job``s) reports; Cancel cancels it."""
        runner.progress.connect(self.show_progress)
        runner.finished.connect(self.show_result)
        runner.failed.connect(self.show_failed)
        runner.cancelled.connect(self.show_cancelled)
        self.cancel_requested.connect(runner.cancel)

    # --- what the runner says ----------------------------------------------------------------
    @Slot()
    def show_started(self) -> None:
        self.message.hide()
        self.progress.setValue(0)
        self._set_busy(True)

    @Slot(float, object)
    def show_progress(self, fraction: float, partial) -> None:
        """A computation's progress; ``partial`` (a LandscapeResult with the rows so far) is drawn."""
        self.progress.setValue(round(1000 * fraction))
        if partial is not None:
            self._draw(partial)

    @Slot(object)
    def show_result(self, result: LandscapeResult) -> None:
        self.result = result
        self._set_busy(False)
        self._draw(result)

    @Slot()
    def show_cancelled(self) -> None:
        self._set_busy(False)
        self._draw(self.result)

    @Slot(str)
    def show_failed(self, message: str) -> None:
        self._set_busy(False)
        self.message.setText(f"The landscape could not be computed: {message}")
        self.message.show()
        self._draw(self.result)

    # --- drawing ------------------------------------------------------------------------------
    def _set_busy(self, busy: bool) -> None:
        self.progress.setVisible(busy)
        self.cancel.setVisible(busy)

    def _draw(self, result: LandscapeResult | None) -> None:
        self.drawn = result
        if result is None:
            self.image.clear()
            for item in (self.path_line, self.start_marker, self.end_marker):
                item.setData([], [])
            for contour in self.contours:
                contour.setData(None)
            self.readout.setText("")
            return
        grid = result.grid
        logs = _log_costs(grid.costs)
        finite = logs[np.isfinite(logs)]
        low, high = (float(finite.min()), float(finite.max())) if len(finite) else (0.0, 1.0)
        high = high if high > low else low + 1e-9
        logs[np.isposinf(logs)] = high  # overflowed far from the centre: as high as drawn
        self.image.setImage(logs, autoLevels=False, levels=(low, high))
        self.colour_bar.setLevels((low, high))
        xs, ys = grid.xs, grid.ys
        dx, dy = xs[1] - xs[0], ys[1] - ys[0]
        self.image.setRect(xs[0] - dx / 2, ys[0] - dy / 2, dx * len(xs), dy * len(ys))
        complete = grid.rows_done == len(ys)
        levels = np.linspace(low, high, CONTOURS + 2)[1:-1]
        for contour, level in zip(self.contours, levels):  # drawn once complete: rows to come would cut them
            contour.setData(np.nan_to_num(logs, nan=high) if complete else None, level=level)
        path = result.path
        self.path_line.setData(path[:, 0], path[:, 1])
        self.start_marker.setData([path[0, 0]], [path[0, 1]])
        self.end_marker.setData([0.0], [0.0])
        self.plot.setLabel("bottom", result.axis_labels[0])
        self.plot.setLabel("left", result.axis_labels[1])
        self.plot.setRange(xRange=(xs[0] - dx / 2, xs[-1] + dx / 2), yRange=(ys[0] - dy / 2, ys[-1] + dy / 2),
                           padding=0)
        centre = result.centre_cost
        # the weights of that epoch, which training has since left: "Compute" draws the run as it is now
        at = f", the weights of epoch {result.epoch:,}" if result.epoch is not None else ""
        self.readout.setText(f"cost at the centre{at}: {centre:.6g}" if np.isfinite(centre)
                             else f"cost at the centre{at}: computing…")

    def _hovered(self, scene_pos) -> None:
        result = self.drawn
        if result is None or not self.plot.plotItem.vb.sceneBoundingRect().contains(scene_pos):
            self.hover.setText("")
            return
        point = self.plot.plotItem.vb.mapSceneToView(scene_pos)
        grid = result.grid
        j, i = int(np.abs(grid.xs - point.x()).argmin()), int(np.abs(grid.ys - point.y()).argmin())
        cost = grid.costs[i, j]
        value = "not computed yet" if np.isnan(cost) else f"{cost:.6g}"
        self.hover.setText(f"cost at ({grid.xs[j]:.3g}, {grid.ys[i]:.3g}): {value}")


def _log_costs(costs) -> np.ndarray:
    """log₁₀ of costs (len(ys), len(xs)); a cost of 0 (a perfect fit) as the smallest positive one."""
    positive = costs[np.isfinite(costs) & (costs > 0)]
    floor = positive.min() if len(positive) else 1.0
    with np.errstate(invalid="ignore"):
        return np.log10(np.where(costs > 0, costs, np.where(np.isnan(costs), np.nan, floor)))


if __name__ == "__main__":
    from core.checkpoints import CheckpointStore
    from core.spec import DataSpec, NetworkSpec, TrainingConfig, prepare
    from playground.training.jobs import JobRunner

    problem = prepare(DataSpec(source="spiral", noise=0.1))
    net = NetworkSpec(hidden=((8, "tanh"), (8, "tanh"))).build(problem)
    trainer = TrainingConfig(optimizer="adam", learning_rate=0.01).build(net, problem)
    store = CheckpointStore()
    store.add(0, net.get_weights())
    trainer.fit(problem.X_train, problem.Y_train, 150, callback=lambda s: store.add(s.epoch, net.get_weights()))

    app = pg.mkQApp("Preview")
    view = LandscapeView()
    runner = JobRunner("landscape")
    view.attach(runner)

    def compute(options):
        runner.start(landscape_job(net.copy(), list(store), problem.X_train, problem.Y_train, trainer.loss.name,
                                   options, epoch=trainer.epoch))
        view.show_started()

    view.compute_requested.connect(compute)
    view.resize(800, 600)
    view.show()
    compute(view.options())
    app.exec()
    runner.close()
