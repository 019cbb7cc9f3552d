"""The timeline under the cost plot: drag to any past epoch (the nearest checkpoint) and every view
shows the network as it was then; ← / → step from checkpoint to checkpoint."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSlider, QVBoxLayout, QWidget


class Timeline(QWidget):
    epoch_chosen = Signal(object)  # a checkpoint's epoch, or None for the live run
    released = Signal()  # the drag ended
    train_from_requested = Signal(int)  # go on training from this epoch's checkpoint

    def __init__(self, parent=None):
        super().__init__(parent)
        self.epochs = np.zeros(0, dtype=int)
        self.viewing = None
        self.slider = QSlider(Qt.Horizontal)
        self.slider.setToolTip("Drag to a past epoch: the diagram, the output and the trace show the network as "
                               "it was (the nearest checkpoint). ← / → step between checkpoints.")
        self.slider.setFocusPolicy(Qt.ClickFocus)  # Space stays play/pause
        self.label = QLabel()
        self.live = QPushButton("Live")
        self.live.setToolTip("Back to the network being trained now")
        self.train_here = QPushButton("Train from here")
        self.train_here.setToolTip("Go on training from the epoch shown; the epochs after it are kept as a "
                                   "pinned run (Edit → Undo brings the run back whole)")
        for button in (self.live, self.train_here):
            button.setFocusPolicy(Qt.NoFocus)
        buttons = QHBoxLayout()
        buttons.setSpacing(6)
        buttons.addWidget(self.label, 1)
        buttons.addWidget(self.live)
        buttons.addWidget(self.train_here)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.setSpacing(0)
        layout.addWidget(self.slider)
        layout.addLayout(buttons)
        self.slider.valueChanged.connect(self._moved)
        self.slider.installEventFilter(self)  # a click on the groove ends as a drag of the handle does
        self.live.clicked.connect(lambda: self.epoch_chosen.emit(None))
        self.train_here.clicked.connect(lambda: self.viewing is not None and self.train_from_requested.emit(self.viewing))
        self.set_checkpoints([], None)

    def set_checkpoints(self, epochs, viewing) -> None:
        """The epochs there are checkpoints of (each a slider position), and the one shown (None: live)."""
        self.epochs = np.asarray(epochs, dtype=int)
        self.viewing = viewing
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(len(self.epochs) - 1, 0))
        if viewing is None or not len(self.epochs):
            self.slider.setValue(self.slider.maximum())
        else:
            self.slider.setValue(int(np.searchsorted(self.epochs, viewing)))
        self.slider.blockSignals(False)
        self.setEnabled(len(self.epochs) > 1)
        last = int(self.epochs[-1]) if len(self.epochs) else 0
        self.label.setText("timeline: " + ("live" if viewing is None else f"epoch {viewing:,} of {last:,}"))
        self.live.setEnabled(viewing is not None)
        self.train_here.setEnabled(viewing is not None)

    def eventFilter(self, obj, event):
        if event.type() == QEvent.MouseButtonRelease:
            self.released.emit()
        return False

    def step(self, direction: int) -> None:
        """One checkpoint earlier (−1) or later (+1), as ← / → do: the live run comes after the latest
        checkpoint (which, while training, is some epochs behind it)."""
        if not self.isEnabled():
            return
        if self.viewing is None:
            if direction < 0:
                self.epoch_chosen.emit(int(self.epochs[-1]))
            return
        position = int(np.searchsorted(self.epochs, self.viewing)) + direction
        self.epoch_chosen.emit(None if position >= len(self.epochs) else int(self.epochs[max(position, 0)]))

    def _moved(self, position: int):
        if len(self.epochs):
            live = position == len(self.epochs) - 1 and not self.slider.isSliderDown()
            self.epoch_chosen.emit(None if live and self.viewing is None else int(self.epochs[position]))
