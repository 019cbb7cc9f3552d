"""Retake the README's screenshots of the real window: ``xvfb-run -a -s "-screen 0 3840x2160x24"
python docs/screenshots.py [NAME ...]`` (all of them by default), written to docs/NAME.png.

Each scenario sets the window up as a person would (clicks go through the Session's intents),
trains for a few seconds and grabs the window.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEventLoop
from PySide6.QtWidgets import QApplication

from core.spec import DataSpec

DOCS = Path(__file__).resolve().parent


def wait(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        QCoreApplication.processEvents(QEventLoop.AllEvents, 50)


def settle(session) -> None:
    while session.busy or session.snapshot is None:
        wait(0.1)


def train(session, seconds: float) -> None:
    session.play()
    wait(seconds)
    session.pause()
    wait(0.5)


def default(window):
    """The window as it opens, after a few seconds of training on the circle."""
    window.resize(1400, 860)
    train(window.session, 4)


def eight_layers_1280x720(window):
    """A small screen and a deep network: the diagram scrolls, every panel keeps its room."""
    window.resize(1280, 720)
    session = window.session
    session.set_data(DataSpec(source="spiral", noise=0.1))
    for _ in range(6):
        session.add_layer()
    for layer in range(8):
        session.set_units(layer, 6)
    session.set_hyperparameter("optimizer", "adam")
    session.set_hyperparameter("learning_rate", 0.01)
    settle(session)
    train(session, 6)


def zoom_150(window):
    """Text and diagram at 150 %, for a projector."""
    window.resize(1600, 1000)
    window.session.set_view(zoom=1.5)
    train(window.session, 4)


SCENARIOS = {"screenshot": default, "screenshot-1280x720": eight_layers_1280x720, "screenshot-zoom150": zoom_150}


def main(names) -> int:
    from playground.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Backprop Playground screenshots")  # settings of its own, not the user's
    for name in names or SCENARIOS:
        window = MainWindow(recovery_folder=Path("/tmp/backprop-playground-screenshots"))
        window.show()
        settle(window.session)
        SCENARIOS[name](window)
        window.grab().save(str(DOCS / f"{name}.png"))
        print(f"docs/{name}.png", window.width(), "x", window.height())
        window.session.mark_saved()
        window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
