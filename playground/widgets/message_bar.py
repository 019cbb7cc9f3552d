"""A message the user should read, above the diagram, with an action to take when there is one."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget


class MessageBar(QWidget):
    action_taken = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("message")
        self.setStyleSheet("#message { background: #fde8e6; border-radius: 4px; } QLabel { color: #a3261a; }")
        self.setAttribute(Qt.WA_StyledBackground)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.button = QPushButton()
        self.button.setFocusPolicy(Qt.NoFocus)
        self.button.clicked.connect(self.action_taken)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.button)
        self.show_message("")

    def text(self) -> str:
        return self.label.text()

    def show_message(self, text: str) -> None:
        """Show ``text`` (without an action); "" hides the bar."""
        self.label.setText(text)
        self.button.hide()
        self.setVisible(bool(text))

    def offer(self, action: str) -> None:
        """Add a button for what can be done about the message shown."""
        self.button.setText(action)
        self.button.show()
