"""Fields that take what is typed as typed: a value out of range is refused by whoever uses it, with
a message, never clipped or completed here."""
from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox


def choice_combo(items, tip: str = "", keyboard: bool = True) -> QComboBox:
    """A combo of (label, stored value) pairs. In the main window ``keyboard=False``: it never takes
    focus (Space is play/pause), and a long label elides instead of widening the panel."""
    combo = QComboBox()
    for label, value in items:
        combo.addItem(label, value)
    combo.setToolTip(tip)
    if not keyboard:
        combo.setFocusPolicy(Qt.NoFocus)
        combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(6)
    return combo


def typed_combo(items, tip: str) -> QComboBox:
    """A list of common values that also takes any typed one, as typed (no completion, no clipping)."""
    combo = QComboBox()
    combo.setEditable(True)
    combo.setInsertPolicy(QComboBox.NoInsert)  # typed values are not added to the list
    combo.setCompleter(None)  # "0" stays 0 (and is refused), not completed to 0.00001
    combo.addItems(items)
    combo.setToolTip(tip)
    return combo


class CountField(QDoubleSpinBox):
    """A whole number that shows whatever is typed (no digit dropped, no value clipped): ``entered``
    carries it to whoever decides whether it can be used."""

    entered = Signal(object)  # a Python int: a typed value may not fit 32 bits

    def __init__(self, tip: str, step: int = 1):
        super().__init__()
        self.setDecimals(0)
        self.setRange(-1e15, 1e15)
        self.setSingleStep(step)
        self.setKeyboardTracking(False)
        self.setGroupSeparatorShown(False)
        self.setToolTip(tip)
        self.valueChanged.connect(lambda value: self.entered.emit(int(value)))

    def show_value(self, value: int) -> None:
        self.blockSignals(True)
        self.setValue(value)
        self.blockSignals(False)

    def sizeHint(self) -> QSize:
        """Room for eight digits, not for the fifteen the range allows."""
        return QSize(self.fontMetrics().horizontalAdvance("99,999,999") + 28, super().sizeHint().height())

    def minimumSizeHint(self) -> QSize:
        return QSize(self.fontMetrics().horizontalAdvance("9999") + 16, super().minimumSizeHint().height())
