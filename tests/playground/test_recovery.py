"""Nothing lost to a crash: the recovery file is written, offered back after kill -9, removed on a clean quit."""
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
from PySide6.QtWidgets import QMessageBox

from core.project import load_project
from playground.app import offer_recovery
from playground.session.recovery import orphans
from window_helpers import WAIT, settled, train


def _autosave(qtbot, window):
    assert window.autosaver.save_if_needed()
    window.autosaver.wait()
    assert window.autosaver.error is None


def test_unsaved_work_is_written_to_the_recovery_file_and_a_clean_quit_removes_it(qtbot, window):
    session, autosaver = window.session, window.autosaver
    assert not autosaver.save_if_needed()  # nothing unsaved: nothing written
    session.set_hyperparameter("optimizer", "adam")
    train(qtbot, window, 4)
    _autosave(qtbot, window)
    project = load_project(autosaver.path)
    assert project.training.optimizer == "adam" and len(project.history.train_loss) == session.snapshot.epoch
    np.testing.assert_array_equal(project.weights.layers[0].kernel, session.snapshot.weights[0][0])
    assert project.trainer_state["optimizer"]["t"] == session.snapshot.trainer_state["optimizer"]["t"]
    assert not autosaver.save_if_needed()  # unchanged since: not written again
    window.session.mark_saved()
    window.close()
    assert not autosaver.path.exists() and not list(autosaver.folder.glob("*.json"))


def test_saving_removes_the_recovery_file_so_a_crash_after_it_offers_nothing_stale(qtbot, window, tmp_path):
    session, autosaver = window.session, window.autosaver
    train(qtbot, window, 3)
    _autosave(qtbot, window)
    assert autosaver.path.exists()
    window.files.write(str(tmp_path / "saved.json"))
    assert not session.is_modified()
    assert not autosaver.path.exists() and not list(autosaver.folder.glob("*.json"))
    train(qtbot, window, session.snapshot.epoch + 2)  # new work after the save is kept again
    _autosave(qtbot, window)
    assert autosaver.path.exists()


def test_the_work_of_a_window_that_died_is_offered_and_restored(qtbot, window, tmp_path, dialogs):
    session = window.session
    session.set_units(0, 6)
    train(qtbot, window, 3)
    _autosave(qtbot, window)
    saved = load_project(window.autosaver.path)
    dead = window.autosaver.folder / "session-999999999.json"  # a process that no longer exists
    window.autosaver.path.rename(dead)
    meta = window.autosaver.folder / "session-999999999.meta.json"
    (window.autosaver.folder / f"{window.autosaver.path.stem}.meta.json").rename(meta)
    meta.write_text(json.dumps({"project_path": str(tmp_path / "mine.json"), "written": time.time(),
                                "pid": 999999999}))
    found = orphans(window.autosaver.folder)
    assert [r.path for r in found] == [dead] and found[0].project_path == str(tmp_path / "mine.json")

    session.reset()
    settled(qtbot, session)
    dialogs.answer = QMessageBox.Yes
    assert offer_recovery(window, found)
    assert "did not close properly" in dialogs.shown[-1] and "mine.json" in dialogs.shown[-1]
    qtbot.waitUntil(lambda: session.project_path == str(tmp_path / "mine.json"), timeout=WAIT)
    settled(qtbot, session)
    assert session.built.layers[0] == (6, "tanh") and session.is_modified()  # restored work is unsaved work
    np.testing.assert_array_equal(session.snapshot.weights[0][0], saved.weights.layers[0].kernel)
    assert not dead.exists() and not orphans(window.autosaver.folder)


def test_declining_the_offer_deletes_the_kept_work(qtbot, window, dialogs):
    train(qtbot, window, 2)
    _autosave(qtbot, window)
    dead = window.autosaver.folder / "session-999999998.json"
    window.autosaver.path.rename(dead)
    (window.autosaver.folder / f"{window.autosaver.path.stem}.meta.json").unlink()
    dialogs.answer = QMessageBox.No
    assert not offer_recovery(window, orphans(window.autosaver.folder))
    assert not dead.exists()


APP = textwrap.dedent("""
    import os, sys
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication
    app = QApplication([])
    app.setApplicationName("Backprop Playground")
    from playground.ui.main_window import MainWindow
    window = MainWindow(recovery_folder=sys.argv[1])
    window.autosaver.timer.setInterval(200)
    window.show()
    QTimer.singleShot(300, window.session.play)
    def report():
        snapshot = window.session.snapshot
        if window.autosaver.path.exists() and snapshot is not None and snapshot.epoch > 20:
            print("saved", flush=True)
    timer = QTimer()
    timer.timeout.connect(report)
    timer.start(100)
    app.exec()
""")


def test_kill_9_while_training_then_the_next_start_restores_the_work(qtbot, window, tmp_path, dialogs):
    folder = tmp_path / "killed"
    env = {**os.environ, "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    app = subprocess.Popen([sys.executable, "-c", APP, str(folder)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, env=env)
    try:
        deadline = time.monotonic() + 60
        while app.stdout.readline().strip() != "saved":
            assert app.poll() is None and time.monotonic() < deadline, app.stderr.read()
        time.sleep(0.5)  # training and autosaving go on
        app.send_signal(signal.SIGKILL)
    finally:
        app.kill()
        app.wait()
    found = orphans(folder)
    assert len(found) == 1 and found[0].path.name == f"session-{app.pid}.json"
    kept = found[0].load()
    assert kept.weights is not None and len(kept.history.train_loss) > 20

    dialogs.answer = QMessageBox.Yes
    assert offer_recovery(window, found)
    session = window.session
    qtbot.waitUntil(lambda: not session.busy and session.snapshot is not None
                    and len(session.history) == len(kept.history.train_loss), timeout=WAIT)
    np.testing.assert_array_equal(session.snapshot.weights[-1][0], kept.weights.layers[-1].kernel)
    assert session.is_modified() and session.project_path is None


def test_a_recovery_copy_that_cannot_be_written_is_said_once(qtbot, window, monkeypatch):
    from playground.session import recovery

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(recovery, "save_project", full)
    session, autosaver = window.session, window.autosaver
    notices = []
    session.notice.connect(notices.append)
    train(qtbot, window, 2)
    assert autosaver.save_if_needed()
    autosaver.wait()
    train(qtbot, window, session.snapshot.epoch + 1)
    autosaver.save_if_needed()  # the next tick says what went wrong
    autosaver.wait()
    autosaver.save_if_needed()
    said = [n for n in notices if "recovery copy" in n]
    assert len(said) == 1 and "No space left" in said[0]
