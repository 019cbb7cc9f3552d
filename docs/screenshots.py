"""Retake the README's screenshots of the real window: ``xvfb-run -a -s "-screen 0 3840x2160x24"
python docs/screenshots.py [NAME ...]`` (all of them by default), written to docs/NAME.png.

Each scenario sets the window up as a person would (through the Session's intents and the window's
own widgets), trains for a few seconds and grabs the window.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEventLoop, QSettings
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


def spiral(window, hidden=(8, 8), optimizer="adam", rate=0.01):
    """The two-arm spiral with sin features, a network that learns it in seconds."""
    session = window.session
    session.set_data(DataSpec(source="spiral", noise=0.05, features=("x1", "x2", "sin_x1", "sin_x2")))
    settle(session)
    while len(session.network.hidden) < len(hidden):
        session.add_layer()
    for layer, units in enumerate(hidden):
        session.set_units(layer, units)
    session.set_hyperparameter("optimizer", optimizer)
    session.set_hyperparameter("learning_rate", rate)
    settle(session)


def eight_layers_1280x720(window):
    """A small screen and a deep network: the diagram scrolls, every panel keeps its room."""
    window.resize(1280, 720)
    session = window.session
    for _ in range(6):
        session.add_layer()
    session.set_hyperparameter("optimizer", "adam")
    session.set_hyperparameter("learning_rate", 0.01)
    settle(session)
    train(session, 4)


def zoom_150(window):
    """Text and diagram at 150 %, for a 1920×1080 projector."""
    window.resize(1920, 1080)
    window.session.set_view(zoom=1.5)
    train(window.session, 4)


def pictures(window):
    """Each hidden neuron drawn as what it computes over the plane, as the spiral is learnt."""
    window.resize(1500, 900)
    spiral(window)
    train(window.session, 3)


def trace(window):
    """One sample followed backward: each neuron shows its ∂J/∂z, the layer reached and its formula."""
    window.resize(1500, 900)
    spiral(window, hidden=(6, 4))
    train(window.session, 3)
    session = window.session
    session.set_trace(sample=("train", 40), mode="backward")
    session.step_trace(1)
    session.step_trace(1)
    wait(0.5)


def past(window):
    """Looking back: the timeline at epoch 20 shows the network and its boundary as they were."""
    window.resize(1500, 900)
    spiral(window)
    train(window.session, 3)
    session = window.session
    session.view_epoch(20)
    wait(1.0)


def runs(window):
    """SGD against Adam on the spiral: the first run pinned, the second drawn over it."""
    window.resize(1500, 900)
    session = window.session
    session.set_data(DataSpec(source="spiral", noise=0.1))
    settle(session)
    for layer in range(2):
        session.set_units(layer, 8)
    settle(session)
    train(session, 5)
    session.pin_run()
    session.set_hyperparameter("optimizer", "adam")
    session.set_hyperparameter("learning_rate", 0.01)
    session.reset()
    settle(session)
    train(session, 5)
    window.output_tabs.setCurrentWidget(window.runs_panel)
    wait(0.5)


def landscape(window):
    """The cost around the weights now, along the two directions training moved most, with its path."""
    window.resize(1500, 900)
    spiral(window)
    train(window.session, 3)
    view = window.analyses.landscape
    window.output_tabs.setCurrentWidget(view)
    view.compute.click()
    while window.analyses.landscape_jobs.running:
        wait(0.2)
    wait(0.5)


SCENARIOS = {"screenshot-1280x720": eight_layers_1280x720, "screenshot-zoom150": zoom_150,
             "screenshot-pictures": pictures, "screenshot-trace": trace, "screenshot-past": past,
             "screenshot-runs": runs, "screenshot-landscape": landscape}


def main(names) -> int:
    from playground.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Backprop Playground screenshots")  # settings of its own, not the user's
    for name in names or SCENARIOS:
        QSettings().clear()  # each scenario starts from the defaults (zoom 100 % …)
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
