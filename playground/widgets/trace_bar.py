"""Under the diagram while a sample is followed: which pass, a step along it, an animation of the
whole pass, and the step's formula with its numbers."""
from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QButtonGroup, QHBoxLayout, QLabel, QPushButton, QRadioButton, QSlider, QTextBrowser,
                               QVBoxLayout, QWidget)

from playground.widgets.chain_rule import STYLE, step_html

SPEEDS = (2.0, 1.2, 0.7, 0.4, 0.2)  # seconds a step, slow to fast


def _button(text: str, tip: str) -> QPushButton:
    button = QPushButton(text)
    button.setToolTip(tip)
    button.setFocusPolicy(Qt.NoFocus)  # Space stays play/pause of training
    return button


class TraceBar(QWidget):
    """``show_trace`` to draw the state; the user's requests come out as signals."""

    mode_chosen = Signal(str)  # "forward" or "backward"
    step_requested = Signal(int)  # 1 one layer along the pass, −1 one back
    closed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.title = QLabel()
        self.modes = QButtonGroup(self)
        self.mode_buttons = {}
        for mode, tip in (("forward", "Each neuron shows its activation a = f(z)"),
                          ("backward", "Each neuron shows ∂J/∂z, the cost's derivative with respect to its z")):
            button = QRadioButton(mode)
            button.setToolTip(tip)
            button.setFocusPolicy(Qt.NoFocus)
            button.toggled.connect(lambda on, m=mode: on and self.mode_chosen.emit(m))
            self.modes.addButton(button)
            self.mode_buttons[mode] = button
        self.back = _button("◀", "One layer back along the pass")
        self.next = _button("▶", "One layer further along the pass")
        self.play = _button("▷ play", "Walk the whole pass, one layer at a time, at the speed set beside")
        self.play.setCheckable(True)
        self.speed = QSlider(Qt.Horizontal)
        self.speed.setRange(0, len(SPEEDS) - 1)
        self.speed.setValue(2)
        self.speed.setMaximumWidth(90)
        self.speed.setFocusPolicy(Qt.NoFocus)
        self.speed.setToolTip("Speed of the animation")
        self.close_button = _button("✕", "Stop following this sample")
        self.close_button.setFixedWidth(self.close_button.sizeHint().height())
        self.formula = QTextBrowser()
        self.formula.setMaximumHeight(170)
        self.back.clicked.connect(lambda: self.step_requested.emit(-1))
        self.next.clicked.connect(lambda: self.step_requested.emit(1))
        self.close_button.clicked.connect(self.closed)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._tick)
        self.play.toggled.connect(self._playing)
        self.speed.valueChanged.connect(lambda _: self.timer.setInterval(self._interval()))
        title = QHBoxLayout()
        title.addWidget(self.title, 1)
        title.addWidget(self.close_button)
        bar = QHBoxLayout()
        for widget in (self.mode_buttons["forward"], self.mode_buttons["backward"], self.back, self.next, self.play,
                       QLabel("speed"), self.speed):
            bar.addWidget(widget)
        bar.addStretch()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(title)
        layout.addLayout(bar)
        layout.addWidget(self.formula)
        self.at_end = False

    def _interval(self) -> int:
        return int(SPEEDS[self.speed.value()] * 1000)

    def _playing(self, on: bool):
        self.play.setText("❚❚ pause" if on else "▷ play")
        if on:
            if self.at_end:  # from the start again
                self.step_requested.emit(0)
            self.timer.start(self._interval())
        else:
            self.timer.stop()

    def _tick(self):
        if self.at_end:
            self.play.setChecked(False)
        else:
            self.step_requested.emit(1)

    def show_trace(self, trace, state) -> None:
        """The followed sample's ``trace`` (a core Trace) in ``state`` (a TraceState); hidden without one."""
        self.setVisible(trace is not None)
        if trace is None:
            self.play.setChecked(False)
            return
        split, row = state.sample
        self.title.setText(f"<b>Following sample {row + 1}</b> ({'training' if split == 'train' else 'test'})")
        button = self.mode_buttons[state.mode]
        button.blockSignals(True)
        button.setChecked(True)
        button.blockSignals(False)
        n = len(trace.layers)
        end = n - 1 if state.mode == "forward" else 0
        self.at_end = state.layer == end
        if state.layer is None:
            self.formula.setHtml("<p style='color:#666'>Step along the pass to see each layer's formula with its "
                                 "numbers; the diagram shows each neuron's value.</p>")
        else:
            self.formula.setHtml(STYLE + step_html(trace, state.layer, state.mode))
