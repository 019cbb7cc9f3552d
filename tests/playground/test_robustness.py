"""The window and the worker stay in agreement when things go wrong."""
import time

import numpy as np
import pytest
from PySide6.QtCore import Qt

from core.project import save_project
from core.spec import DataSpec, NetworkSpec, TrainingConfig
from window_helpers import WAIT, pause, settled, train


def test_a_project_that_cannot_be_built_changes_nothing(qtbot, window, tmp_path):
    session = window.session
    data = tmp_path / "data.csv"
    data.write_text("a,b,y\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(40)))
    project = tmp_path / "p.json"
    save_project(project, DataSpec(source="csv", csv_path=str(data), target="y"), NetworkSpec(hidden=[[3, "relu"]]),
                 TrainingConfig(), net=None)
    data.unlink()  # the project's data has gone
    session.add_layer()
    settled(qtbot, session)
    assert window.files.open(project)
    qtbot.waitUntil(window.message.isVisible, timeout=WAIT)
    assert "data.csv" in window.message.text() and "Nothing was changed" in window.message.text()
    assert session.project_path is None and session.data.source == "circle" and len(session.network.hidden) == 3
    assert "p.json" not in window.windowTitle() and session.undo_stack.count() == 1
    session.add_layer()  # the next build must not receive the failed project's follow-up
    settled(qtbot, session)
    assert len(session.built.layers) == 5 and not window.message.isVisible()


def test_a_project_refused_while_training_leaves_it_training(qtbot, window, tmp_path):
    session = window.session
    project = tmp_path / "gone.json"
    save_project(project, DataSpec(source="csv", csv_path=str(tmp_path / "gone.csv"), target="y"), NetworkSpec(),
                 TrainingConfig(), net=None)
    session.play()
    qtbot.waitUntil(lambda: session.running and session.snapshot.epoch > 0, timeout=WAIT)
    assert window.files.open(project)
    qtbot.waitUntil(lambda: "Cannot open" in window.message.text(), timeout=WAIT)
    assert window.message.text().startswith("Cannot open gone.json:")  # the name, not the whole path
    qtbot.waitUntil(lambda: session.running, timeout=WAIT)
    epoch = session.snapshot.epoch
    qtbot.waitUntil(lambda: session.snapshot.epoch > epoch, timeout=WAIT)
    pause(qtbot, window)


def test_a_refused_rebuild_is_undone_and_the_window_shows_what_trains(qtbot, window, tmp_path):
    session = window.session
    session.set_hyperparameter("learning_rate", 0.3)
    train(qtbot, window, 3)
    trained = [k.copy() for k, _ in session.snapshot.weights]
    broken = tmp_path / "broken.csv"
    broken.write_text("a,b,y\n1,2,0\n3,NA,1\n5,4,0\n7,6,1\n")  # a missing cell, and no policy chosen for one
    window.files.load_csv(str(broken), target="y")
    qtbot.waitUntil(window.message.isVisible, timeout=WAIT)
    settled(qtbot, session)
    assert "line 3, column 'b'" in window.message.text()
    assert session.data.source == "circle" and session.built.problem.task == "binary"
    assert session.training.learning_rate == 0.3 and window.training_controls.learning_rate.currentText() == "0.3"
    assert session.undo_stack.undoText() == "set learning rate 0.3"  # the refused edit left no trace
    for kernel, before in zip((k for k, _ in session.snapshot.weights), trained):
        np.testing.assert_array_equal(kernel, before)  # the trained network is back, not a fresh one


def test_no_training_data_left_is_refused(qtbot, window, tmp_path):
    session = window.session
    tiny = tmp_path / "tiny.csv"
    tiny.write_text("a,y\n1,0\n2,1\n")
    window.data_controls.test_percent.setValue(90)  # applies to the circle first
    settled(qtbot, session)
    assert session.built.specs[0].test_fraction == 0.9
    window.files.load_csv(str(tiny), target="y")
    qtbot.waitUntil(window.message.isVisible, timeout=WAIT)
    settled(qtbot, session)
    assert "no training data left" in window.message.text()
    assert session.built.problem.task == "binary" and session.data.source == "circle"


def test_edits_made_after_a_refused_one_are_undone_with_it(qtbot, window, tmp_path):
    """A CSV that cannot be read, and quick edits already on their way: the window ends showing what
    trains, and says that the later edits went with the refused one."""
    session = window.session
    broken = tmp_path / "broken.csv"
    broken.write_text("a,y\n1,0\n3\n2,0\n")  # a row of one cell
    window.files.load_csv(str(broken), target="y")
    session.set_data(DataSpec(source="xor"))
    session.add_layer()
    qtbot.waitUntil(window.message.isVisible, timeout=WAIT)
    settled(qtbot, session)
    assert session.data.source == "circle" and len(session.network.hidden) == 2
    assert session.built.specs[0].source == "circle" and len(session.built.layers) == 3
    assert [w[0].shape for w in session.snapshot.weights] == window.diagram._kernel_shapes()
    assert "broken.csv" in window.message.text() and "edits made after it" in window.message.text()
    assert session.undo_stack.count() == 0


def test_a_followed_sample_survives_a_change_of_data(qtbot, window):
    session = window.session
    window.output_tabs.setCurrentWidget(window.chain_rule)
    session.set_trace(sample=("train", 200))
    assert session.trace is not None and "Hidden layer 1" in window.chain_rule.text.toPlainText()
    session.set_data(DataSpec(source="iris", test_fraction=0.3))  # 105 training rows: no row 201 any more
    settled(qtbot, session)
    assert session.trace is None and "Pick a sample" in window.chain_rule.text.toPlainText()
    assert not window.trace_bar.isVisible() and not window.message.isVisible()
    session.set_trace(sample=("train", 3))
    assert "Hidden layer 1" in window.chain_rule.text.toPlainText()
    assert window.chain_rule.index.maximum() == len(session.built.problem.X_train)


def test_play_after_step_and_reset_keeps_training(qtbot, window):
    session = window.session
    window.menu.step.trigger()
    qtbot.waitUntil(lambda: session.snapshot.epoch == 1 and not session.snapshot.running, timeout=WAIT)
    session.reset()
    settled(qtbot, session)
    assert session.snapshot.epoch == 0
    session.play()
    qtbot.waitUntil(lambda: session.snapshot.epoch >= 3, timeout=WAIT)
    assert session.running
    pause(qtbot, window)


def test_settings_from_a_project_show_even_when_not_in_the_lists(qtbot, window, tmp_path):
    project = tmp_path / "odd.json"
    save_project(project, DataSpec(), NetworkSpec(), TrainingConfig(regularization="l2", reg_rate=0.005,
                                                                   batch_size=250))
    window.files.open(project)
    qtbot.waitUntil(lambda: window.session.project_path == str(project), timeout=WAIT)
    assert window.training_controls.reg_rate.currentText() == "0.005"
    assert window.training_controls.batch_size.currentText() == "250"


@pytest.mark.parametrize("field, typed, shown, message", [
    ("learning_rate", "fast", "0.03", "learning_rate must be a number, got 'fast'"),
    ("batch_size", "many", "10", "batch_size must be a positive integer or 'all', got 'many'"),
])
def test_text_that_is_no_number_is_refused_with_a_message_and_put_back(qtbot, window, field, typed, shown, message):
    box = getattr(window.training_controls, field)
    box.setCurrentText(typed)
    box.lineEdit().editingFinished.emit()
    qtbot.waitUntil(lambda: message in window.message.text(), timeout=WAIT)
    assert box.currentText() == shown and str(getattr(window.session.training, field)) == shown
    assert not window.session.undo_stack.canUndo()


def test_an_absurd_learning_rate_is_refused_and_shown_as_before(qtbot, window):
    box = window.training_controls.learning_rate
    box.setCurrentText("5000")
    box.lineEdit().editingFinished.emit()
    assert window.message.isVisible() and "learning_rate" in window.message.text()
    assert box.currentText() == "0.03" and window.session.training.learning_rate == 0.03
    assert window.session.undo_stack.count() == 0


def test_a_numeric_target_can_be_made_regression(qtbot, window, tmp_path):
    session = window.session
    rooms = tmp_path / "rooms.csv"
    rooms.write_text("area,rooms\n" + "".join(f"{20 + 7 * i},{1 + i % 8}\n" for i in range(60)))
    window.files.load_csv(str(rooms), target="rooms")
    settled(qtbot, session)
    assert session.built.problem.task == "multiclass"  # at most 10 whole numbers: read as classes
    task = window.data_controls.task
    task.setCurrentIndex(task.findData("regression"))
    task.activated.emit(task.currentIndex())
    settled(qtbot, session)
    assert session.built.problem.task == "regression" and session.built.layers[-1] == (1, "linear")


def test_a_wide_table_is_drawn_with_a_sample_of_its_inputs(qtbot, window, tmp_path):
    session = window.session
    wide = tmp_path / "wide.csv"
    rng = np.random.default_rng(0)
    header = ",".join(f"f{i}" for i in range(40)) + ",y\n"
    wide.write_text(header + "".join(",".join(f"{v:.3f}" for v in rng.normal(size=40)) + f",{i % 2}\n"
                                      for i in range(100)))
    window.files.load_csv(str(wide), target="y")
    settled(qtbot, session)
    assert session.built.problem.n_inputs == 40
    texts = [label.text() for label in window.diagram.labels]
    assert "f0" in texts and "f39" in texts and "16 of 40 shown" in texts  # sampled names, and a count
    assert len([t for t in texts if t.startswith("f")]) <= 16


def test_space_in_the_diagram_count_does_not_type(qtbot, window):
    session = window.session
    count = window.diagram.header_widgets[0].count
    count.setFocus()
    qtbot.keyClick(count, Qt.Key_Space)
    qtbot.waitUntil(lambda: session.running, timeout=WAIT)
    pause(qtbot, window)
    assert count.value() == 4


def test_a_file_the_csv_reader_chokes_on_is_a_clear_message(qtbot, window, tmp_path):
    huge = tmp_path / "huge.csv"
    huge.write_bytes(b"a,y\n" + b"1,0\n" * 80_000 + b"2,\0\n")  # binary beyond the first bytes looked at
    window.files.load_csv(str(huge), target="y")
    qtbot.waitUntil(window.message.isVisible, timeout=WAIT)
    settled(qtbot, window.session)
    assert "huge.csv" in window.message.text() and window.session.data.source == "circle"


def test_the_task_box_is_for_csv_files_only(qtbot, window):
    window.session.set_data(DataSpec(source="house_prices"))
    assert not window.data_controls.task.isEnabled()  # at once: the controls show the Session's specs


def test_typed_learning_rates_do_not_pile_up_in_the_list(qtbot, window):
    box = window.training_controls.learning_rate
    count = box.count()
    for text in ("5000", "abc", "-1"):
        box.setCurrentText(text)
        qtbot.keyClick(box.lineEdit(), Qt.Key_Return)
    assert box.currentText() == "0.03"
    assert box.count() == count and window.session.training.learning_rate == 0.03


def test_a_training_crash_is_reported_as_such(qtbot, window, monkeypatch):
    from core import Trainer

    def broken(self, X, Y):
        raise RuntimeError("out of cheese")

    monkeypatch.setattr(Trainer, "step", broken)
    window.session.play()
    qtbot.waitUntil(window.message.isVisible, timeout=WAIT)
    text = window.message.text()
    assert "Training paused: training stopped: RuntimeError: out of cheese" in text
    assert "cannot be used" not in text and "Nothing was changed" not in text


def test_slow_drawing_is_done_less_often_so_training_keeps_its_time(qtbot, window, monkeypatch):
    """On a slow machine every frame costs more: the window then draws fewer of them, not a
    bigger share of the time (the trainer waits while the window paints)."""
    frame_seconds = 0.04
    drawn = []
    draw = window.draw_snapshot

    def slow_draw(snapshot):
        draw(snapshot)
        time.sleep(frame_seconds)
        drawn.append(snapshot)

    monkeypatch.setattr(window, "draw_snapshot", slow_draw)
    window.session.play()
    qtbot.waitUntil(lambda: len(drawn) >= 3, timeout=WAIT)
    start, before = time.perf_counter(), len(drawn)
    qtbot.wait(2000)
    frames, elapsed = len(drawn) - before, time.perf_counter() - start
    qtbot.waitUntil(lambda: len(drawn) > before + frames, timeout=WAIT)  # still live
    pause(qtbot, window)
    assert frames * frame_seconds / elapsed < 0.25  # at 30 frames a second it would be all the time


def test_a_run_stops_at_the_most_epochs_a_project_keeps_and_still_saves(qtbot, window, tmp_path, monkeypatch):
    from core import limits
    from core.project import load_project

    session = window.session
    monkeypatch.setattr(limits, "MAX_EPOCHS", 40)  # the worker reads the limit as it trains
    session.play()
    qtbot.waitUntil(lambda: "the most a project keeps" in window.message.text(), timeout=WAIT)
    # stopped, and its last snapshot in (the stop is said before that snapshot arrives)
    qtbot.waitUntil(lambda: not session.running and not session.snapshot.running, timeout=WAIT)
    assert session.snapshot.epoch == 40 == len(session.history)
    assert "40 epochs, the most a project keeps" in window.message.text()
    session.save_project(tmp_path / "full.json")
    assert len(load_project(tmp_path / "full.json").history.train_loss) == 40
    session.play()  # at the limit, play says why instead of training
    qtbot.wait(300)
    assert not session.running and session.snapshot.epoch == 40
    session.train_from(10)  # an earlier epoch: training goes on from there
    settled(qtbot, session)
    train(qtbot, window, 12)
    assert 12 <= session.snapshot.epoch <= 40
