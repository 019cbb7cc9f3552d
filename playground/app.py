"""Start the window: ``run()`` is what the ``playground`` command calls."""
from __future__ import annotations

import gc
import sys

from PySide6.QtWidgets import QApplication


def run(project_path=None) -> int:
    from playground.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Backprop Playground")
    app.setOrganizationName("Backprop Playground")  # where QSettings keeps the recent projects
    window = MainWindow()
    window.show()
    # The ~70,000 objects of the modules and the window mostly live as long as the app: keep
    # them out of full collections, which paused the UI thread for 25 ms while training.
    gc.freeze()
    if project_path:
        window.open_project(project_path)
    return app.exec()
