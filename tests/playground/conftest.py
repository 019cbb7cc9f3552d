import gc

import pytest
from PySide6.QtWidgets import QMessageBox

from playground.training.jobs import JobRunner
from playground.training.worker import WorkerThread
from window_helpers import settled

class Dialogs:
    """Stands in for modal message boxes: records what they said and gives the answer a test chose."""

    def __init__(self):
        self.shown = []
        self.answer = QMessageBox.Discard

    def warning(self, parent, title, text, *args, **kwargs):
        self.shown.append(text)
        return QMessageBox.Ok

    def question(self, parent, title, text, *args, **kwargs):
        self.shown.append(text)
        return self.answer


@pytest.fixture(autouse=True)
def dialogs(monkeypatch, tmp_path):
    """No test may block on a modal dialog; settings and recovery files go to a temporary folder."""
    from PySide6.QtCore import QSettings, QStandardPaths

    fake = Dialogs()
    monkeypatch.setattr(QMessageBox, "warning", fake.warning)
    monkeypatch.setattr(QMessageBox, "question", fake.question)
    QSettings.setDefaultFormat(QSettings.IniFormat)
    QSettings.setPath(QSettings.IniFormat, QSettings.UserScope, str(tmp_path / "settings"))
    QStandardPaths.setTestModeEnabled(True)  # the recovery folder is a test one, never the user's
    return fake


@pytest.fixture(autouse=True)
def no_thread_left_running():
    """Fail any test that leaves a training or job thread running (and stop it, so others are unaffected).

    Then collect the test's garbage here, on the GUI thread, rather than leave it to a timer of a
    later test: a closed window's widgets are held in reference cycles, and must die on this thread."""
    yield
    gc.collect()
    alive = [t for t in list(WorkerThread.instances) if t.thread.isRunning()]
    for t in alive:
        t.close()
    jobs = [runner for runner in list(JobRunner.instances) if runner.thread_running]
    for runner in jobs:
        runner.close()
    assert not alive, f"{len(alive)} training thread(s) left running"
    assert not jobs, f"job thread(s) left running: {', '.join(runner.name for runner in jobs)}"


@pytest.fixture
def window(qtbot, tmp_path):
    from playground.ui.main_window import MainWindow

    win = MainWindow(recovery_folder=tmp_path / "recovery")
    qtbot.addWidget(win)
    win.show()
    settled(qtbot, win.session)
    yield win
    win.session.undo_stack.setClean()
    win.session.saved_marker = win.session.marker()  # closing must not ask to save
    win.close()
