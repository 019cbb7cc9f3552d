"""Start the window: ``run()`` is what the ``playground`` command calls."""
from __future__ import annotations

import gc
import os
import sys
import time

from PySide6.QtWidgets import QApplication, QMessageBox


def run(project_path=None) -> int:
    from playground.session.recovery import orphans
    from playground.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Backprop Playground")
    app.setOrganizationName("Backprop Playground")  # where QSettings and the recovery files live
    window = MainWindow()
    window.show()
    # The ~70,000 objects of the modules and the window mostly live as long as the app: keep
    # them out of full collections, which paused the UI thread for 25 ms while training.
    gc.freeze()
    if not offer_recovery(window, orphans()) and project_path:
        window.files.open(project_path)
    return finish(app.exec())


def finish(code: int) -> int:
    """The exit code, once the window has closed. A thread still in a step or a pass of a huge
    network (which cannot be interrupted) is not waited for: the process ends now, since all that
    is kept was written when the window closed (files are written whole or not at all)."""
    from playground.training import worker

    if worker.unfinished_threads():
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


def offer_recovery(window, found) -> bool:
    """Offer back the work of a window that did not quit cleanly; True if it is being restored."""
    for recovered in found:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(recovered.written))
        name = recovered.project_path or "an untitled project"
        answer = QMessageBox.question(
            window, "Backprop Playground",
            f"Backprop Playground did not close properly. Unsaved work on {name} from {when} was kept.\n\n"
            "Restore it? (No deletes it.)", QMessageBox.Yes | QMessageBox.No, QMessageBox.Yes)
        if answer != QMessageBox.Yes:
            recovered.discard()
            continue
        try:
            project = recovered.load()
        except (ValueError, OSError) as error:
            QMessageBox.warning(window, "Backprop Playground", f"The kept work cannot be read:\n\n{error}")
            recovered.discard()
            continue
        window.session.open_project(project, recovered.project_path, recovered=True)
        window.autosaver.folder.mkdir(parents=True, exist_ok=True)
        recovered.path.replace(window.autosaver.path)  # kept until this window saves or quits cleanly
        recovered.discard()
        return True
    return False
