"""Start the window: ``run()`` is what the ``playground`` command calls."""
from __future__ import annotations

import sys

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QApplication


class SpaceTogglesPlay(QObject):
    """Space means play/pause wherever the focus is in the main window (a focused button must not eat it)."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window

    def eventFilter(self, obj, event):
        if (event.type() == QEvent.KeyPress and event.key() == Qt.Key_Space
                and event.modifiers() == Qt.NoModifier and not event.isAutoRepeat()
                and QApplication.activeWindow() is self.window and QApplication.activePopupWidget() is None):
            self.window.toggle_play()
            return True
        return False


def run(project_path=None) -> int:
    from playground.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Backprop Playground")
    window = MainWindow()
    app.installEventFilter(SpaceTogglesPlay(window))
    window.show()
    if project_path:
        window.open_project(project_path)
    return app.exec()
