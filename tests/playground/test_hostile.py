"""No input can hurt the window: a bad project leaves the open one exactly as it was, and quitting while
the worker is busy exits cleanly at once."""
import json
import os
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from core.project import load_project, save_project
from core.spec import DataSpec, NetworkSpec, TrainingConfig
from window_helpers import WAIT, train


def _project_doc(tmp_path, **changes):
    path = tmp_path / "template.json"
    save_project(path, DataSpec(), NetworkSpec(), TrainingConfig())
    doc = json.loads(path.read_text())
    for section, values in changes.items():
        doc[section].update(values)
    return doc


def _bad_projects(tmp_path):
    """(file name, writer) of projects that must be refused, each in its own way."""
    fifo = tmp_path / "data.fifo"
    os.mkfifo(fifo)
    wrong_weights = tmp_path / "weights-for-iris.json"
    from core import Network
    save_project(wrong_weights, DataSpec(), NetworkSpec(hidden=[[4, "tanh"], [2, "tanh"]]), TrainingConfig(),
                 net=Network(4, [(4, "tanh"), (2, "tanh"), (1, "sigmoid")], seed=0))
    doc = json.loads(wrong_weights.read_text())  # weights of 4 inputs for the circle's 2
    return {
        "seed.json": _project_doc(tmp_path, data={"seed": 2**31}),
        "batch.json": _project_doc(tmp_path, training={"batch_size": 2**31}),
        "points.json": _project_doc(tmp_path, data={"n_samples": 99_999_999_999}),
        "noise.json": _project_doc(tmp_path, data={"noise": 1e300}),
        "keys.json": {**_project_doc(tmp_path), **{f"key{i}": i for i in range(100_000)}},
        "source.json": _project_doc(tmp_path, data={"source": "x" * 5_000_000}),
        "fifo.json": _project_doc(tmp_path, data={"source": "csv", "csv_path": str(fifo), "target": "y"}),
        "zero.json": _project_doc(tmp_path, data={"source": "csv", "csv_path": "/dev/zero", "target": "y"}),
        "weights.json": doc,
    }


def test_a_refused_project_leaves_the_open_one_untouched_and_ctrl_s_writes_the_original(qtbot, window, tmp_path,
                                                                                      dialogs):
    session = window.session
    mine = tmp_path / "mine.json"
    session.set_units(0, 5)
    train(qtbot, window, 4)
    assert window.files.write(mine)
    saved = mine.read_text()
    weights = [k.copy() for k, _ in session.snapshot.weights]
    specs = session.specs
    for name, doc in _bad_projects(tmp_path).items():
        path = tmp_path / name
        path.write_text(json.dumps(doc))
        shown = len(dialogs.shown)
        started = time.monotonic()
        if window.files.open(path):  # passed the file's own checks: the build refuses it
            qtbot.waitUntil(lambda: not session.busy, timeout=WAIT)
            message = window.message.text()
        else:
            message = dialogs.shown[-1]
        assert time.monotonic() - started < 20, name
        assert len(dialogs.shown) > shown or window.message.isVisible(), name
        assert len(message) < 400, (name, len(message))
        assert session.project_path == str(mine) and "mine.json" in window.windowTitle(), name
        assert session.specs == specs, name
        for kernel, before in zip((k for k, _ in session.snapshot.weights), weights):
            np.testing.assert_array_equal(kernel, before)
    window.menu.save_project.trigger()  # Ctrl+S writes the original, as it was
    assert json.loads(mine.read_text()) == json.loads(saved)
    assert load_project(mine).network.hidden == ((5, "tanh"), (2, "tanh"))


QUIT = textwrap.dedent("""
    import os, sys, time
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication
    app = QApplication([])
    from core.spec import DataSpec
    from playground.app import finish
    from playground.ui.main_window import MainWindow
    window = MainWindow(recovery_folder=sys.argv[1])
    window.show()
    session = window.session

    def busy():
        if sys.argv[2] == "load":
            session.set_data(DataSpec(source="csv", csv_path=sys.argv[3], target="y"))
            QTimer.singleShot(100, quit)  # reading and preparing the file takes about half a second
        else:  # 2-3000-3000-1: its first pass over the plane takes seconds, and cannot be interrupted
            for layer in range(2):
                session.set_units(layer, 3000)
            session.play()
            poll.timeout.connect(lambda: not session.busy and session.snapshot is None and quit())
            poll.start(20)

    def quit():
        poll.stop()
        session.mark_saved()
        working = session.busy or session.running or session.snapshot is None
        print("quitting", time.monotonic(), working, flush=True)
        window.close()

    poll = QTimer()

    QTimer.singleShot(800, busy)
    status = app.exec()
    print("window closed", time.monotonic(), len(session.network.hidden) and session.network.hidden[0][0], flush=True)
    sys.exit(finish(status))
""")


@pytest.mark.parametrize("busy", ["load", "epoch"])
def test_quitting_while_the_worker_is_busy_exits_cleanly_within_two_seconds(tmp_path, busy):
    big = tmp_path / "big.csv"
    if busy == "load":
        rng = np.random.default_rng(0)
        rows = rng.normal(size=(600_000, 8))
        with open(big, "w") as f:
            f.write(",".join(f"x{i}" for i in range(8)) + ",y\n")
            np.savetxt(f, np.column_stack([rows, rows[:, 0] > 0]), fmt="%.6f", delimiter=",")
    env = {**os.environ, "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    done = subprocess.run([sys.executable, "-c", QUIT, str(tmp_path / "recovery"), busy, str(big)], env=env,
                          capture_output=True, text=True, timeout=120)
    ended = time.monotonic()  # the same clock as the child's (CLOCK_MONOTONIC)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = dict(line.split(" ", 1) for line in done.stdout.splitlines() if line.startswith(("quitting", "window")))
    assert "quitting" in lines and "window" in lines, done.stdout
    quitting, working = lines["quitting"].split()
    assert working == "True", "the worker was not busy when the window closed"
    closed, units = lines["window"].split()[1:]
    assert busy == "load" or units == "3000"
    assert float(closed) - float(quitting) < 2.0  # the window is gone
    assert ended - float(quitting) < 2.5  # and so is the process, interpreter and all
    assert "Destroyed while thread" not in done.stderr and "Traceback" not in done.stderr
