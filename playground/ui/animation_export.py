"""The training as an animated GIF or MP4, for slides: the output view at chosen checkpoints beside (or
above) a cost curve that grows, one frame per checkpoint.

Frames are drawn on the GUI thread, one per turn of the event loop so the window stays responsive (Qt
draws widgets on that thread only), then encoded by ``playground.animation.write_animation`` on a
background job. Pieces:

- ``pick_frames(epochs, count)``: which checkpoints become frames (no Qt);
- ``cost_curves(history)``: the run's cost curves, copied, for the growing plot;
- ``OutputPictures(built)``: the output view's picture for given weights, drawn by the app's own view;
- ``FrameRenderer``: one frame, the picture and the curve up to its epoch, at an exact size;
- ``AnimationExport``: draws every frame, then encodes; ``AnimationDialog`` asks for size, rate,
  frame count and format; ``AnimationProgress`` shows how far an export is.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pyqtgraph as pg
import shiboken6
from PySide6.QtCore import QObject, QRect, QRectF, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QProgressDialog,
                               QSpinBox)

from core import Network
from core.io import atomic_file
from playground.animation import MAX_FPS, SUFFIXES, write_animation
from playground.training.jobs import JobRunner
from playground.training.worker import encoded_grid, network_outputs
from playground.ui.pictures import plot_view
from playground.widgets import style
from playground.widgets.output_view import OutputView

SIZES = ((480, 360), (640, 480), (800, 600), (1280, 720), (1920, 1080))  # even: an MP4 needs it
TITLE_HEIGHT = 40  # pixels of a frame above the picture and the curves
MAX_FRAMES = 1000
MAX_BYTES = 512 * 2**20  # frames held in memory until encoded: (frames × width × height × 3) bytes


# --- which checkpoints -----------------------------------------------------------------------------
def pick_frames(epochs, count: int) -> list[int]:
    """The indices of the checkpoints that become ``count`` frames, given their increasing ``epochs``.

    The first and the last always; between them, for evenly spaced epochs, the nearest checkpoint not
    taken yet, so the run plays at an even pace where checkpoints are dense and takes their neighbours
    where they are thinned. Every checkpoint when there are no more than ``count``."""
    epochs = np.asarray(epochs, dtype=float)
    if count < 2:
        raise ValueError(f"an animation needs at least 2 frames, got {count}")
    if len(epochs) <= count:
        return list(range(len(epochs)))
    free = np.ones(len(epochs), dtype=bool)
    free[[0, -1]] = False
    for target in np.linspace(epochs[0], epochs[-1], count)[1:-1]:
        distance = np.where(free, np.abs(epochs - target), np.inf)
        free[int(distance.argmin())] = False  # the earliest of equally near ones
    return np.flatnonzero(~free).tolist()


def cost_curves(history) -> dict:
    """``{"train": (epochs, costs), "test": (epochs, costs)}``, copies of a ``RunHistory``'s curves
    (each (n,)); "test" only if the test set was evaluated."""
    epochs = np.array(history["epoch"])
    curves = {"train": (epochs, np.array(history["train_loss"]))}
    if len(history["test_loss"]):
        curves["test"] = (epochs[history["test_epoch"].astype(int) - 1], np.array(history["test_loss"]))
    return curves


# --- pictures of the output ------------------------------------------------------------------------
class OutputPictures:
    """``pictures(weights)`` → the output view's picture (height, width, 3) uint8 for those weights: the
    decision boundary with the training points, predicted against actual, or the confusion matrix,
    drawn offscreen by an ``OutputView`` of its own. ``built`` is the Session's ``Built``; for frames,
    make the pictures ``picture_side`` pixels wide and high."""

    def __init__(self, built, width: int = 480, height: int = 480):
        self.problem = built.problem
        self.grid_inputs = encoded_grid(built.problem, built.extent) if built.problem.is_plane else None
        self.net = Network(built.problem.n_inputs, built.layers, dtype=built.specs[1].dtype)
        self.view = OutputView()
        for control in (self.view.plane.show_test, self.view.plane.draw, self.view.tabular.table,
                        self.view.tabular.scores):  # the plots alone fill the picture
            control.hide()
        _offscreen(self.view, width, height)
        self.view.set_problem(built)

    def __call__(self, weights) -> np.ndarray:
        self.net.set_weights(weights)
        grid, predictions, _ = network_outputs(self.net, self.problem, self.grid_inputs)
        self.view.show_snapshot(SimpleNamespace(grid=grid, predictions=predictions))
        page = self.view.currentWidget()
        plot = plot_view(page)  # the plot without its check box; a table whole
        return to_pixels((plot if plot is not None else page).grab().toImage())

    def close(self) -> None:
        _delete(self.view)


def to_pixels(image: QImage) -> np.ndarray:
    """A QImage → (height, width, 3) uint8 RGB array (a copy)."""
    image = image.convertToFormat(QImage.Format_RGB888)
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    return rows[:, :3 * image.width()].reshape(image.height(), image.width(), 3).copy()


def _delete(widget) -> None:
    """Destroy a widget of no parent now, on this (the GUI) thread: left to Python's garbage collector,
    it could be destroyed on whichever thread collects, which deadlocks Qt."""
    widget.close()
    shiboken6.delete(widget)


def _offscreen(widget, width, height):
    """Lay ``widget`` out at ``width`` × ``height`` as if shown, without showing it."""
    widget.setAttribute(Qt.WA_DontShowOnScreen)
    widget.resize(width, height)
    widget.show()
    return widget


# --- one frame -------------------------------------------------------------------------------------
def is_wide(width: int, height: int) -> bool:
    """Frames this wide have the picture beside the curves; narrower ones have it above them."""
    return width >= 1.2 * height


def picture_side(width: int, height: int) -> int:
    """The side in pixels of the square a frame of ``width`` × ``height`` gives the picture: draw
    pictures at this size, so that their text is neither shrunk nor blown up."""
    if is_wide(width, height):
        return max(int(min(width / 2, height - TITLE_HEIGHT)), 16)
    return max(int(min(width, 0.6 * (height - TITLE_HEIGHT))), 16)


class FrameRenderer:
    """Draws frames of ``width`` × ``height`` pixels: the picture of an epoch beside (wide frames) or
    above the cost curves up to that epoch. The axes hold the whole run from the first frame on, so
    only the curve moves. ``curves`` as ``cost_curves`` gives them; ``last_epoch``: the last frame's."""

    def __init__(self, width: int, height: int, curves: dict, last_epoch: int, log_scale: bool = False):
        self.width, self.height, self.curves = width, height, curves
        self.widget = pg.GraphicsLayoutWidget()
        wide = is_wide(width, height)
        self.title = self.widget.addLabel("", row=0, col=0, colspan=2 if wide else 1, size="12pt")
        self.picture_box = self.widget.addViewBox(row=1, col=0, lockAspect=True, enableMouse=False, invertY=True)
        self.picture = pg.ImageItem(axisOrder="row-major")
        self.picture_box.addItem(self.picture)
        self.cost = self.widget.addPlot(row=1 if wide else 2, col=1 if wide else 0)
        self.cost.setMenuEnabled(False)
        self.cost.setMouseEnabled(False, False)
        self.cost.setLabel("bottom", "epoch")
        self.cost.setLabel("left", "cost")
        for side in ("left", "bottom"):
            self.cost.getAxis(side).enableAutoSIPrefix(False)
        self.cost.addLegend(offset=(-10, 10))
        self.cost.setLogMode(y=log_scale)
        self.lines = {name: self.cost.plot(pen=pg.mkPen(colour, width=2), name=name)
                      for name, colour in (("train", style.BLUE), ("test", style.ORANGE)) if name in curves}
        self.cost.setXRange(0, max(last_epoch, 1), padding=0.02)
        costs = np.concatenate([c[(e <= last_epoch) & np.isfinite(c)] for e, c in curves.values()] + [np.ones(0)])
        if len(costs) and log_scale:
            positive = costs[costs > 0]
            low, high = (np.log10(positive.min()), np.log10(positive.max())) if len(positive) else (-1.0, 0.0)
            self.cost.setYRange(low, high, padding=0.05)
        elif len(costs):
            self.cost.setYRange(0, costs.max() or 1.0, padding=0.05)
        layout = self.widget.ci.layout
        if wide:
            layout.setColumnStretchFactor(0, 1)
            layout.setColumnStretchFactor(1, 1)
        else:
            layout.setRowStretchFactor(1, 3)  # as ``picture_side`` assumes
            layout.setRowStretchFactor(2, 2)
        _offscreen(self.widget, width, height)

    def render(self, epoch: int, picture) -> np.ndarray:
        """The frame (height, width, 3) uint8 of ``epoch``; ``picture`` an (h, w, 3) uint8 array or a
        callable returning one."""
        image = np.asarray(picture() if callable(picture) else picture)
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f"the picture of epoch {epoch} is not an (height, width, 3) uint8 array: "
                             f"{image.dtype} of shape {image.shape}")
        self.picture.setImage(image, autoLevels=False, levels=(0, 255))
        self.picture_box.autoRange(padding=0)
        for name, line in self.lines.items():
            epochs, costs = self.curves[name]
            shown = epochs <= epoch
            line.setData(epochs[shown], costs[shown])
        train_epochs, train_costs = self.curves["train"]
        now = train_costs[train_epochs == epoch]
        self.title.setText(f"epoch {epoch:,}" + (f" · train cost {now[0]:.4g}" if len(now) else ""))
        frame = QImage(self.width, self.height, QImage.Format_RGB32)
        frame.fill(Qt.white)
        painter = QPainter(frame)
        try:
            self.widget.render(painter, QRectF(0, 0, self.width, self.height), QRect(0, 0, self.width, self.height))
        finally:
            painter.end()
        return to_pixels(frame)

    def close(self) -> None:
        _delete(self.widget)


# --- the export ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AnimationChoices:
    width: int = 640
    height: int = 480
    fps: float = 10
    frames: int = 60
    suffix: str = ".gif"  # or ".mp4"
    log_scale: bool = False

    def check(self) -> None:
        """ValueError for a choice the encoder or the memory cannot take."""
        if self.suffix not in SUFFIXES:
            raise ValueError(f"unknown format {self.suffix!r}; expected one of {', '.join(SUFFIXES)}")
        if not 0 < self.fps <= MAX_FPS[self.suffix]:
            raise ValueError(f"the frame rate must be above 0 and at most {MAX_FPS[self.suffix]} for "
                             f"{self.suffix}, got {self.fps!r}")
        if not (16 <= self.width <= 3840 and 16 <= self.height <= 2160):
            raise ValueError(f"a frame of {self.width}×{self.height} pixels is too small or too large; "
                             "16×16 to 3840×2160")
        if self.suffix == ".mp4" and (self.width % 2 or self.height % 2):
            raise ValueError(f"an MP4 needs an even width and height, got {self.width}×{self.height}")
        if not 2 <= self.frames <= MAX_FRAMES:
            raise ValueError(f"the number of frames must be from 2 to {MAX_FRAMES}, got {self.frames}")
        if self.frames * self.width * self.height * 3 > MAX_BYTES:
            raise ValueError(f"{self.frames} frames of {self.width}×{self.height} need more than "
                             f"{MAX_BYTES // 2**20} MiB; choose fewer frames or a smaller size")


class _Cancelled(Exception):
    pass


def encode(path, frames, fps, stop: threading.Event):
    """A job: write ``frames`` to ``path`` with ``write_animation``; returns ``path``. ``stop`` set
    meanwhile ends it without touching ``path`` (a GIF's last step, Pillow writing every frame, cannot be
    stopped, but what it wrote is thrown away)."""
    yield 0.0

    def until_stopped():
        for frame in frames:
            if stop.is_set():
                raise _Cancelled
            yield frame

    with atomic_file(path) as tmp:  # renamed over ``path`` only if not cancelled meanwhile
        write_animation(tmp, until_stopped(), fps)
        if stop.is_set():
            raise _Cancelled
    return str(path)


class AnimationExport(QObject):
    """``start(path, frames, curves, choices)`` draws the frames, one per turn of the event loop, then
    encodes them on a background job. ``frames``: ``[(epoch, picture), ...]``, each picture an (h, w, 3)
    uint8 array or a callable returning one (called on the GUI thread, when its frame is drawn)."""

    progress = Signal(float, str)  # the share of the frames drawn (1 while encoding), and what is being done
    finished = Signal(str)  # the file written
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.runner = JobRunner("animation", parent=self)
        self.runner.finished.connect(self._on_encoded)
        self.runner.failed.connect(self._on_failed)
        self.runner.cancelled.connect(self.cancelled)
        self.timer = QTimer(self)
        self.timer.setInterval(0)
        self.timer.timeout.connect(self._draw_next)
        self.renderer = None
        self.owned = ()
        self.stop = threading.Event()

    @property
    def busy(self) -> bool:
        return self.renderer is not None or self.runner.running

    def start(self, path, frames, curves: dict, choices: AnimationChoices, owned=()) -> None:
        """ValueError at once for bad choices or no frames; otherwise progress, then finished or failed.
        ``owned``: objects to ``close()`` once the frames are drawn or drawing stops (the
        ``OutputPictures`` the pictures come from)."""
        choices.check()
        if Path(path).suffix.lower() != choices.suffix:
            raise ValueError(f"the file {Path(path).name[:80]!r} does not end in {choices.suffix}")
        if len(frames) < 1:
            raise ValueError("no checkpoints to make frames of: train first")
        self.cancel()
        self.path, self.choices, self.frames, self.drawn, self.owned = Path(path), choices, list(frames), [], owned
        self.renderer = FrameRenderer(choices.width, choices.height, curves, self.frames[-1][0], choices.log_scale)
        self.stop = threading.Event()
        self.timer.start()

    @Slot()
    def cancel(self) -> None:
        """Stop drawing or encoding; the file is not written. ``cancelled`` follows."""
        if self.renderer is not None:
            self._stop_drawing()
            self.cancelled.emit()
        elif self.runner.running:
            self.stop.set()
            self.runner.cancel()

    def close(self) -> bool:
        self.stop.set()
        if self.renderer is not None:
            self._stop_drawing()
        return self.runner.close()

    @Slot()
    def _draw_next(self):
        epoch, picture = self.frames[len(self.drawn)]
        try:
            self.drawn.append(self.renderer.render(epoch, picture))
        except Exception as error:  # noqa: BLE001 - a picture that cannot be drawn ends the export, with why
            self._stop_drawing()
            self.failed.emit(f"frame of epoch {epoch} could not be drawn: {error}")
            return
        n = len(self.frames)
        self.progress.emit(len(self.drawn) / n, f"Drawing frame {len(self.drawn)} of {n}")
        if len(self.drawn) == n:
            drawn = self.drawn
            self._stop_drawing()
            self.progress.emit(1.0, f"Encoding {n} frames as {self.choices.suffix[1:].upper()}")
            self.runner.start(encode(self.path, drawn, self.choices.fps, self.stop))

    def _stop_drawing(self):
        self.timer.stop()
        if self.renderer is not None:
            self.renderer.close()
        for thing in self.owned:
            thing.close()
        self.renderer, self.drawn, self.owned = None, [], ()

    @Slot(object)
    def _on_encoded(self, path):
        self.finished.emit(path)

    @Slot(str)
    def _on_failed(self, message):
        self.failed.emit(f"the animation could not be written: {message}")


# --- dialogs -----------------------------------------------------------------------------------------
class AnimationDialog(QDialog):
    """Size, frame rate, number of frames (at most the checkpoints there are) and format."""

    def __init__(self, checkpoints: int, choices: AnimationChoices | None = None, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Export the training as an animation")
        choices = choices or AnimationChoices()
        self.frame_size = QComboBox()
        for width, height in SIZES:
            self.frame_size.addItem(f"{width} × {height}")
        chosen = (choices.width, choices.height)
        self.frame_size.setCurrentIndex(SIZES.index(chosen) if chosen in SIZES else 1)
        self.format = QComboBox()
        self.format.addItem("animated GIF (loops; slides, web pages)", ".gif")
        self.format.addItem("MP4 video (H.264; smaller, sharper)", ".mp4")
        self.format.setCurrentIndex(max(self.format.findData(choices.suffix), 0))
        self.fps = QSpinBox()
        self.fps.setSuffix(" frames/s")
        self.frames = QSpinBox()
        self.frames.setRange(min(2, checkpoints), max(min(checkpoints, MAX_FRAMES), 2))
        self.frames.setValue(min(choices.frames, checkpoints))
        self.frames.setToolTip(f"Spread over the run, first and last epochs included; {checkpoints} checkpoints "
                               "are kept")
        self.log_scale = QCheckBox("log-scale cost")
        self.log_scale.setChecked(choices.log_scale)
        self.length = QLabel()
        self.format.currentIndexChanged.connect(self._limit_fps)
        self._limit_fps()
        self.fps.setValue(round(choices.fps))
        for field in (self.fps, self.frames):
            field.valueChanged.connect(self._show_length)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.buttons.button(QDialogButtonBox.Ok).setEnabled(checkpoints >= 2)
        form = QFormLayout(self)
        form.addRow("Size", self.frame_size)
        form.addRow("Format", self.format)
        form.addRow("Frame rate", self.fps)
        form.addRow("Frames", self.frames)
        form.addRow("", self.log_scale)
        form.addRow("Length", self.length)
        form.addRow(self.buttons)
        self._show_length()

    def choices(self) -> AnimationChoices:
        width, height = SIZES[self.frame_size.currentIndex()]
        return AnimationChoices(width, height, self.fps.value(), self.frames.value(), self.format.currentData(),
                                self.log_scale.isChecked())

    def _limit_fps(self):
        self.fps.setRange(1, min(MAX_FPS[self.format.currentData()], 60))

    def _show_length(self):
        self.length.setText(f"{self.frames.value() / self.fps.value():.1f} s")

    @staticmethod
    def ask(parent, checkpoints: int, choices: AnimationChoices | None = None) -> AnimationChoices | None:
        dialog = AnimationDialog(checkpoints, choices, parent)
        chosen = dialog.choices() if dialog.exec() == QDialog.Accepted else None
        dialog.deleteLater()
        return chosen


class AnimationProgress(QProgressDialog):
    """Shows an ``AnimationExport``'s progress (a busy bar while encoding); Cancel cancels it; closes
    itself when the export ends."""

    def __init__(self, export: AnimationExport, parent=None):
        super().__init__("Drawing frames", "Cancel", 0, 1000, parent)
        self.setWindowTitle("Exporting the animation")
        self.setAttribute(Qt.WA_DeleteOnClose)  # one per export
        self.setMinimumDuration(0)
        self.setAutoClose(False)
        self.setAutoReset(False)
        self.canceled.connect(export.cancel)
        export.progress.connect(self.show_progress)
        for signal in (export.finished, export.failed, export.cancelled):
            signal.connect(self.close)

    @Slot(float, str)
    def show_progress(self, fraction: float, text: str) -> None:
        self.setLabelText(text)
        if text.startswith("Encoding"):
            self.setRange(0, 0)  # the encoder says nothing until it is done
        else:
            self.setValue(round(1000 * fraction))
