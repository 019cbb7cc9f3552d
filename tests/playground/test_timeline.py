"""Going back in time and comparing runs: checkpoints, the timeline, training from a checkpoint,
pinned runs, and going back after a divergence."""
import csv

import numpy as np
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QFileDialog

from core import Network
from core.project import load_project
from core.spec import DataSpec
from playground.training.worker import GRID, grid_points
from window_helpers import WAIT, pause, settled, train


def _wait_preview(qtbot, session, epoch):
    qtbot.waitUntil(lambda: session.preview is not None and session.preview.epoch == epoch, timeout=WAIT)


def test_every_epoch_is_a_checkpoint_at_first_and_the_timeline_offers_them(qtbot, window):
    session = window.session
    train(qtbot, window, 30)
    epoch = session.snapshot.epoch
    session.step()  # to the end of the epoch under way: the snapshot is then that checkpoint
    qtbot.waitUntil(lambda: not session.snapshot.running and session.snapshot.epoch == epoch + 1, timeout=WAIT)
    assert session.checkpoints.epochs == list(range(session.snapshot.epoch + 1))  # 0, then every epoch
    assert window.timeline.slider.maximum() == len(session.checkpoints) - 1
    np.testing.assert_array_equal(session.checkpoints.latest.weights[0][0], session.snapshot.weights[0][0])


def test_scrubbing_to_a_checkpoint_shows_exactly_its_weights(qtbot, window):
    session = window.session
    train(qtbot, window, 30)
    window.timeline.slider.setValue(10)  # what dragging to epoch 10 does
    assert session.viewing == 10
    _wait_preview(qtbot, session, 10)
    checkpoint = session.checkpoints.at(10)
    for (kernel, _), (expected, _) in zip(session.shown().weights, checkpoint.weights):
        np.testing.assert_array_equal(kernel, expected)
    net = Network(2, session.built.layers, weights=checkpoint.weights)  # the output view draws that network
    inputs = session.built.problem.preprocessing.encode(grid_points(window.output.plane.extent, GRID))
    np.testing.assert_array_equal(session.shown().grid, net.predict(inputs).reshape(GRID, GRID, -1))
    assert window.diagram.snapshot is session.shown() and window.epoch_label.text().startswith("epoch 10")
    assert window.loss_plot.markers[0].isVisible() and window.loss_plot.markers[0].value() == 10
    figures = session.history.to_history()  # the readout gives the figures of epoch 10, not the latest
    assert window.loss_plot.readout.text().startswith(f"train cost {figures.train_loss[9]:.3g} "
                                                      f"({figures.train_accuracy[9]:.1%})")
    window.timeline.live.click()
    assert session.viewing is None and not window.loss_plot.markers[0].isVisible()
    assert window.loss_plot.readout.text().startswith(f"train cost {figures.train_loss[-1]:.3g}")


def test_releasing_the_timeline_while_training_returns_to_the_live_run(qtbot, window):
    session = window.session
    train(qtbot, window, 10)
    session.play()
    qtbot.waitUntil(lambda: session.running, timeout=WAIT)
    window.timeline.slider.setValue(3)
    assert session.viewing == 3
    window.timeline.released.emit()
    assert session.viewing is None
    session.pause()


def test_train_from_here_goes_back_and_trains_on(qtbot, window):
    session = window.session
    train(qtbot, window, 30)
    window.timeline.slider.setValue(10)
    epoch = session.viewing
    window.timeline.train_here.click()
    qtbot.waitUntil(lambda: session.running, timeout=WAIT)
    pause(qtbot, window)
    assert session.viewing is None and len(session.runs) == 1 and session.history.to_history().train_loss[:epoch] \
        == session.runs[0].history.train_loss[:epoch]  # from that epoch on, the same run's own past


def test_arrow_keys_step_through_checkpoints_wherever_the_focus_is_but_in_a_text_field(qtbot, window):
    from PySide6.QtTest import QTest
    session = window.session
    train(qtbot, window, 10)
    epochs = session.checkpoints.epochs
    window.diagram.view.setFocus()
    QTest.keyClick(window.diagram.view, Qt.Key_Left)
    assert session.viewing == epochs[-1]  # the latest checkpoint first
    QTest.keyClick(window.diagram.view, Qt.Key_Left)
    assert session.viewing == epochs[-2]
    QTest.keyClick(window.diagram.view, Qt.Key_Right)
    assert session.viewing == epochs[-1]
    QTest.keyClick(window.diagram.view, Qt.Key_Right)
    assert session.viewing is None  # after the latest: live
    field = window.training_controls.learning_rate.lineEdit()
    field.setFocus()
    field.setCursorPosition(2)
    QTest.keyClick(field, Qt.Key_Left)  # moves the text cursor, not the timeline
    assert field.cursorPosition() == 1 and session.viewing is None
    window.output_tabs.setCurrentWidget(window.runs_panel)
    table = window.runs_panel.table  # a table: the arrows move between its cells
    table.setFocus()
    table.setCurrentCell(0, 2)
    QTest.keyClick(table, Qt.Key_Left)
    assert table.currentColumn() == 1 and session.viewing is None


def test_a_click_on_the_timelines_groove_while_training_returns_to_the_live_run(qtbot, window):
    session = window.session
    train(qtbot, window, 10)
    session.play()
    qtbot.waitUntil(lambda: session.running, timeout=WAIT)
    slider = window.timeline.slider
    qtbot.mouseClick(slider, Qt.LeftButton, pos=QPoint(4, slider.height() // 2))  # far left of the groove
    assert session.viewing is None
    session.pause()


def test_training_from_a_checkpoint_pins_the_abandoned_run_and_undo_brings_it_back(qtbot, window):
    session = window.session
    session.set_hyperparameter("optimizer", "adam")
    train(qtbot, window, 30)
    epochs = session.snapshot.epoch
    history = session.history.to_history()
    session.view_epoch(12)
    session.train_from(12)  # as the timeline's Train from here does, before it plays on
    settled(qtbot, session)
    checkpoint = session.checkpoints.at(12)
    assert session.snapshot.epoch == 12 and len(session.history) == 12
    for (kernel, _), (expected, _) in zip(session.snapshot.weights, checkpoint.weights):
        np.testing.assert_array_equal(kernel, expected)
    assert session.history.to_history() == history.up_to(12)
    assert len(session.runs) == 1 and session.runs[0].history == history  # nothing lost
    assert session.checkpoints.epochs[-1] == 12
    assert all(g.any() for g in session.snapshot.kernel_grads)  # coloured by its gradients before a step
    train(qtbot, window, 20)  # it goes on exactly as the run went from epoch 12
    np.testing.assert_allclose(session.history["train_loss"][:20], history.train_loss[:20], rtol=0, atol=1e-12)
    session.undo_stack.undo()
    settled(qtbot, session)
    assert session.snapshot.epoch == epochs and session.history.to_history() == history and session.runs == ()


def test_pinned_runs_are_compared_drawn_saved_and_exported(qtbot, window, tmp_path, monkeypatch):
    session = window.session
    train(qtbot, window, 15)
    window.runs_panel.pin.click()
    session.set_hyperparameter("optimizer", "adam")
    session.set_hyperparameter("learning_rate", 0.01)
    session.reset()
    settled(qtbot, session)
    train(qtbot, window, 10)
    window.output_tabs.setCurrentWidget(window.runs_panel)
    assert session.run_labels() == ["SGD, lr 0.03", "this run: Adam, lr 0.01"]
    assert len(window.loss_plot.run_curves) == 2 and window.loss_plot.runs_key.isVisible()  # cost and accuracy
    assert "SGD,&nbsp;lr&nbsp;0.03" in window.loss_plot.runs_key.text()  # named under the plot, unbroken
    table = window.runs_panel.table
    assert table.item(0, 0).text() == "SGD, lr 0.03" and table.rowCount() == 2
    pinned, epoch = session.runs[0].history.train_loss, len(session.history)  # compared at this run's epoch
    assert table.item(0, 1).text() == (f"{pinned[epoch - 1]:.4g}" if epoch <= len(pinned) else "–")
    assert table.item(1, 1).text() == f"{session.history['train_loss'][-1]:.4g}"
    table.item(0, 0).setCheckState(table.item(0, 0).checkState().__class__(0))  # unticked: not drawn
    assert not session.runs[0].shown and not window.loss_plot.run_curves
    window.runs_panel.target.setValue(0.25)
    assert session.target_cost == 0.25
    path = tmp_path / "runs.json"
    assert window.files.write(path)
    project = load_project(path)
    assert len(project.runs) == 1 and project.runs[0].history == session.runs[0].history
    assert not project.runs[0].shown and project.target_cost == 0.25  # hidden, and the target, as they were
    assert project.checkpoints is not None and project.checkpoints.epochs == session.checkpoints.epochs
    csv_path = tmp_path / "runs.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(csv_path), ""))
    window.runs_panel.export.click()
    rows = list(csv.DictReader(csv_path.open()))
    assert {row["run"] for row in rows} == {"SGD, lr 0.03", "this run: Adam, lr 0.01"}
    assert len(rows) == len(session.runs[0].history.train_loss) + len(session.history)
    session.set_data(DataSpec(source="xor"))
    window.runs_panel.target.setValue(0.5)
    settled(qtbot, session)
    assert window.files.open(path)
    qtbot.waitUntil(lambda: session.data.source == "circle" and not session.busy, timeout=WAIT)
    assert len(session.runs) == 1 and session.runs[0].history == project.runs[0].history
    assert not session.runs[0].shown and window.runs_panel.target.value() == 0.25


def test_after_a_divergence_the_app_offers_the_last_good_checkpoint(qtbot, window):
    session = window.session
    session.set_data(DataSpec(source="reg_plane", n_samples=200))
    settled(qtbot, session)
    train(qtbot, window, 20)
    good = len(session.history)
    session.set_hyperparameter("learning_rate", 2.0)  # the cost climbs through huge values for a few epochs
    session.play()  # (said as a climb first, perhaps, then as a divergence)
    qtbot.waitUntil(lambda: window.message.button.isVisible() and "diverged" in window.message.text(), timeout=WAIT)
    assert "diverged" in window.message.text() and window.message.button.text().startswith("Go back to epoch")
    epoch = window.recovery_epoch
    assert epoch <= good
    session.set_hyperparameter("learning_rate", 0.01)
    window.message.button.click()
    settled(qtbot, session)
    assert session.snapshot.epoch == epoch and np.isfinite(session.history["train_loss"]).all()
    assert len(session.runs) == 1  # the diverged run is kept, pinned
    pinned = np.asarray(session.runs[0].history.train_loss)
    assert pinned.max() > 1e6 * pinned[:10].max()
    top = window.loss_plot.cost.viewRange()[1][1]  # its blow-up does not flatten the live curve
    assert top < 10 * max(pinned[:10].max(), session.history["train_loss"].max())


def test_a_cost_that_climbs_for_good_without_overflowing_is_said_with_the_offer_to_go_back(qtbot, window):
    session = window.session
    train(qtbot, window, 10)
    good = len(session.history)
    session.set_hyperparameter("learning_rate", 1000.0)  # bce saturates: hundreds, never inf
    session.play()
    qtbot.waitUntil(lambda: window.message.button.isVisible(), timeout=WAIT)
    assert "climbed" in window.message.text() and session.running  # said, not stopped
    assert window.recovery_epoch <= good
    session.pause()


def test_the_checkpoint_memory_is_the_users_to_set_and_is_remembered(qtbot, window, monkeypatch, tmp_path):
    from PySide6.QtWidgets import QInputDialog

    from playground.ui.main_window import MainWindow
    session = window.session
    session.set_units(0, 300)
    session.set_units(1, 300)  # 2-300-300-1: 0.7 MB a checkpoint
    settled(qtbot, session)
    train(qtbot, window, 5)
    kept = len(session.checkpoints)
    assert kept >= 6 and session.checkpoints.nbytes > 4 * 2**20
    asked = {}

    def get_int(parent, title, label, value, low, high):
        asked.update(value=value, low=low, high=high, label=label)
        return 1, True  # MiB
    monkeypatch.setattr(QInputDialog, "getInt", get_int)
    window.menu.checkpoint_memory.trigger()
    assert asked["value"] == 100 and (asked["low"], asked["high"]) == (1, 4096)
    assert f"keeps {kept:,} checkpoints" in asked["label"]
    assert session.checkpoints.budget == 2**20 and session.checkpoints.nbytes <= 2**20
    assert 1 <= len(session.checkpoints) < kept and session.checkpoints.latest.epoch == session.snapshot.epoch
    assert window.timeline.slider.maximum() == len(session.checkpoints) - 1

    session.reset()  # a new run keeps the user's budget
    settled(qtbot, session)
    assert session.checkpoints.budget == 2**20
    window.close()
    again = MainWindow(recovery_folder=tmp_path / "again")
    qtbot.addWidget(again)
    try:
        assert again.session.checkpoints.budget == 2**20  # remembered like the window's other settings
    finally:
        again.session.close()


def test_unpinning_a_run_is_undone_and_with_eight_pinned_going_back_stays_offered(qtbot, window):
    session = window.session
    session.set_data(DataSpec(source="reg_plane", n_samples=200))
    settled(qtbot, session)
    train(qtbot, window, 20)
    panel = window.runs_panel
    window.output_tabs.setCurrentWidget(panel)
    assert not panel.unpin.isEnabled()  # nothing pinned, nothing selected
    for _ in range(8):
        panel.pin.click()
    assert len(session.runs) == 8 and session.undo_stack.undoText() == "pin this run"
    session.set_hyperparameter("learning_rate", 2.0)
    session.play()
    qtbot.waitUntil(lambda: window.message.button.isVisible() and "diverged" in window.message.text(), timeout=WAIT)
    session.set_hyperparameter("learning_rate", 0.01)
    epochs = len(session.history)
    window.message.button.click()  # eight runs pinned: the diverged run could not be kept, so not now
    assert len(session.history) == epochs and "8 runs are pinned" in window.message.text()
    assert window.message.button.isVisible() and window.recovery_epoch is not None
    panel.table.selectRow(2)
    assert panel.unpin.isEnabled()
    pinned = session.runs
    panel.unpin.click()
    assert len(session.runs) == 7 and pinned[2] not in session.runs
    assert session.undo_stack.undoText().startswith("unpin")
    session.undo()
    assert session.runs == pinned  # back, in its place
    session.redo()
    back_to = window.recovery_epoch
    window.message.button.click()  # now there is room for the diverged run
    settled(qtbot, session)
    assert len(session.runs) == 8 and len(session.history) == back_to < epochs


def test_undoing_a_pin_leaves_the_other_runs_shown_or_hidden_as_they_are_now(qtbot, window):
    session = window.session
    train(qtbot, window, 3)
    session.pin_run("A")
    session.reset()
    settled(qtbot, session)
    train(qtbot, window, 3)
    session.pin_run("B")
    session.show_run(session.runs[0], False)  # A hidden after B was pinned
    session.undo()  # unpins B
    assert [(run.label, run.shown) for run in session.runs] == [("A", False)]
    session.redo()
    assert [(run.label, run.shown) for run in session.runs] == [("A", False), ("B", True)]
    session.unpin_run(session.runs[0])
    session.show_run(session.runs[0], False)
    session.undo()  # A back in its place, hidden as it was; B as it is now
    assert [(run.label, run.shown) for run in session.runs] == [("A", False), ("B", False)]
