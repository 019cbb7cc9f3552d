"""A label that elides what does not fit (the tooltip has it whole) instead of clipping it or
widening the window."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QLabel, QSizePolicy


class ElidedLabel(QLabel):
    """``elide``: where the dots go (Qt.ElideMiddle keeps both ends of a path). ``tip``: a tooltip
    shown always (by default the text itself, when it does not fit)."""

    def __init__(self, text: str = "", parent=None, elide=Qt.ElideRight):
        super().__init__(text, parent)
        self.elide, self.tip = elide, ""
        self.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)  # new text never relayouts the window

    def setText(self, text: str, tip: str | None = None) -> None:
        super().setText(text)
        self.tip = self.tip if tip is None else tip
        self.setToolTip(self.tip or (text if self.fontMetrics().horizontalAdvance(text) > self.width() else ""))

    def paintEvent(self, event):
        painter = QPainter(self)
        shown = self.fontMetrics().elidedText(self.text(), self.elide, self.contentsRect().width())
        painter.drawText(self.contentsRect(), int(self.alignment()) | Qt.AlignVCenter, shown)

    def resizeEvent(self, event):
        super().resizeEvent(event)
        self.setText(self.text())
