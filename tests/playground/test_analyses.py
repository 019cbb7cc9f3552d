"""From the window's menus and tabs: the gradient check, the loss landscape, pictures and the animation."""
import imageio.v3 as iio
import numpy as np
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QFileDialog, QMessageBox

from playground.ui.animation_export import AnimationChoices, AnimationDialog
from window_helpers import train

WAIT = 30000


def test_train_check_gradients_reports_excellent_on_a_correct_network(qtbot, window):
    train(qtbot, window, 5)
    analyses = window.analyses
    with qtbot.waitSignal(analyses.gradcheck_jobs.finished, timeout=WAIT):
        window.menu.check_gradients.trigger()
    assert analyses.gradcheck.isVisible()
    table = analyses.gradcheck.view.table
    readings = [table.item(row, 2).text() for row in range(table.rowCount())]
    errors = [float(table.item(row, 1).text()) for row in range(table.rowCount())]
    assert readings == ["excellent"] * 3 and max(errors) < 1e-7
    analyses.gradcheck.close()


def test_the_landscape_tab_draws_the_cost_around_the_weights_with_its_centre_the_cost_now(qtbot, window):
    session = window.session
    train(qtbot, window, 20)
    view = window.analyses.landscape
    window.output_tabs.setCurrentWidget(view)
    view.resolution.setCurrentIndex(view.resolution.findData(21))
    with qtbot.waitSignal(window.analyses.landscape_jobs.finished, timeout=WAIT):
        view.compute.click()
    net, problem = session.current_network(), session.built.problem
    trainer = session.training.build(net, problem)
    cost, _ = trainer.evaluate(net.check_inputs(problem.X_train), trainer.targets(problem.Y_train))
    assert view.drawn.centre_cost == cost
    np.testing.assert_array_equal(view.drawn.path[-1], [0.0, 0.0])  # the weights now are the plane's origin


def test_file_export_picture_writes_the_network_and_the_window(qtbot, window, tmp_path, monkeypatch):
    train(qtbot, window, 2)
    for action, name in ((window.menu.export_views[0], "network.png"), (window.menu.export_window, "window.png")):
        monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, n=name, **k: (str(tmp_path / n), ""))
        action.trigger()
        image = QImage(str(tmp_path / name))
        assert not image.isNull() and image.width() > 200
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "cost.svg"), ""))
    window.menu.export_views[2].trigger()
    assert "<svg" in (tmp_path / "cost.svg").read_text()
    said = []  # a landscape not computed yet: said, and no picture of empty axes
    monkeypatch.setattr(QMessageBox, "information", lambda parent, title, text: said.append(text))
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "landscape.png"), ""))
    window.menu.export_views[3].trigger()
    assert "compute it first" in said[0] and not (tmp_path / "landscape.png").exists()


def test_file_export_training_animation_writes_the_frames_asked_for(qtbot, window, tmp_path, monkeypatch):
    train(qtbot, window, 30)
    monkeypatch.setattr(AnimationDialog, "ask",
                        staticmethod(lambda *a, **k: AnimationChoices(width=320, height=240, fps=8, frames=6)))
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "run"), ""))
    with qtbot.waitSignal(window.analyses.animation.finished, timeout=WAIT):
        window.menu.export_animation.trigger()
    assert iio.imread(tmp_path / "run.gif", index=None).shape[:3] == (6, 240, 320)
