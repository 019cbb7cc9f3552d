"""The window and the worker stay in agreement when things go wrong."""
import time

import numpy as np
import pytest
from PySide6.QtCore import Qt

from core.project import save_project
from core.spec import DataSpec, NetworkSpec, TrainingConfig

WAIT = 10000


def test_a_project_that_cannot_be_built_changes_nothing(qtbot, window, tmp_path):
    data = tmp_path / "data.csv"
    data.write_text("a,b,y\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(40)))
    project = tmp_path / "p.json"
    save_project(project, DataSpec(source="csv", csv_path=str(data), target="y"), NetworkSpec(hidden=[[3, "relu"]]),
                 TrainingConfig(), net=None)
    data.unlink()  # the project's data has gone
    assert window.open_project(project)
    qtbot.waitUntil(window.message.isVisible, timeout=WAIT)
    assert "data.csv" in window.message.text()
    assert window.project_path is None and window.data.source == "circle"
    assert "p.json" not in window.windowTitle()
    window.add_layer()  # the next build must not receive the failed project's follow-up
    qtbot.waitUntil(lambda: len(window.info.network_layers) == 4, timeout=WAIT)
    assert not window.message.isVisible()


def test_a_failed_rebuild_shows_the_live_settings_in_force(qtbot, window, tmp_path):
    window.on_hyperparameter("learning_rate", 0.3)
    broken = tmp_path / "broken.csv"
    broken.write_text("a,y\n1,0\nx,1\n")
    window.load_csv(str(broken), target="y")
    qtbot.waitUntil(window.message.isVisible, timeout=WAIT)
    assert window.training.learning_rate == 0.3
    assert window.training_controls.learning_rate.currentText() == "0.3"


def test_no_training_data_left_is_refused(qtbot, window, tmp_path):
    tiny = tmp_path / "tiny.csv"
    tiny.write_text("a,y\n1,0\n2,1\n")
    window.data_controls.test_percent.setValue(90)  # applies to the circle first
    qtbot.waitUntil(lambda: window.info.specs[0].test_fraction == 0.9, timeout=WAIT)
    window.load_csv(str(tiny), target="y")
    qtbot.waitUntil(window.message.isVisible, timeout=WAIT)
    assert "no training data left" in window.message.text()
    assert window.info.problem.task == "binary" and window.data.source == "circle"


def test_the_chain_rule_tab_survives_a_change_of_data(qtbot, window):
    window.output_tabs.setCurrentWidget(window.chain_rule)
    window.chain_rule.sample.setValue(200)
    window.on_data_changed(DataSpec(source="iris", test_fraction=0.3))
    qtbot.waitUntil(lambda: window.info.problem.task == "multiclass" and window.snapshot is not None, timeout=WAIT)
    qtbot.waitUntil(lambda: "Hidden layer 1" in window.chain_rule.text.toPlainText()
                    and "setosa" not in window.message.text(), timeout=WAIT)
    assert window.chain_rule.sample.maximum() == len(window.info.problem.X_train) - 1


def test_play_after_step_and_reset_keeps_training(qtbot, window):
    window.step_action.trigger()
    qtbot.waitUntil(lambda: window.snapshot.epoch == 1 and not window.snapshot.running, timeout=WAIT)
    window.reset()
    qtbot.waitUntil(lambda: window.snapshot.epoch == 0, timeout=WAIT)
    window.toggle_play()
    qtbot.waitUntil(lambda: window.snapshot.epoch >= 3, timeout=WAIT)
    assert window.running
    window.toggle_play()
    qtbot.waitUntil(lambda: not window.running, timeout=WAIT)


def test_settings_from_a_project_show_even_when_not_in_the_lists(qtbot, window, tmp_path):
    project = tmp_path / "odd.json"
    save_project(project, DataSpec(), NetworkSpec(), TrainingConfig(regularization="l2", reg_rate=0.005,
                                                                   batch_size=250))
    window.open_project(project)
    qtbot.waitUntil(lambda: window.project_path == str(project), timeout=WAIT)
    assert window.training_controls.reg_rate.currentText() == "0.005"
    assert window.training_controls.batch_size.value() == 250


def test_text_that_is_no_number_is_put_back_in_the_learning_rate(qtbot, window):
    box = window.training_controls.learning_rate
    box.setCurrentText("fast")
    box.lineEdit().editingFinished.emit()
    assert box.currentText() == "0.03" and window.training.learning_rate == 0.03


def test_an_absurd_learning_rate_is_refused_and_shown_as_before(qtbot, window):
    box = window.training_controls.learning_rate
    box.setCurrentText("5000")
    box.lineEdit().editingFinished.emit()
    qtbot.waitUntil(window.message.isVisible, timeout=WAIT)
    assert "learning_rate" in window.message.text()
    assert box.currentText() == "0.03" and window.training.learning_rate == 0.03


def test_a_numeric_target_can_be_made_regression(qtbot, window, tmp_path):
    rooms = tmp_path / "rooms.csv"
    rooms.write_text("area,rooms\n" + "".join(f"{20 + 7 * i},{1 + i % 8}\n" for i in range(60)))
    window.load_csv(str(rooms), target="rooms")
    qtbot.waitUntil(lambda: window.info.specs[0].source == "csv", timeout=WAIT)
    assert window.info.problem.task == "multiclass"  # at most 10 whole numbers: read as classes
    task = window.data_controls.task
    task.setCurrentIndex(task.findData("regression"))
    task.activated.emit(task.currentIndex())
    qtbot.waitUntil(lambda: window.info.problem.task == "regression", timeout=WAIT)
    assert window.info.network_layers[-1] == (1, "linear")


def test_a_wide_table_is_drawn_with_a_sample_of_its_inputs(qtbot, window, tmp_path):
    wide = tmp_path / "wide.csv"
    rng = np.random.default_rng(0)
    header = ",".join(f"f{i}" for i in range(40)) + ",y\n"
    wide.write_text(header + "".join(",".join(f"{v:.3f}" for v in rng.normal(size=40)) + f",{i % 2}\n"
                                      for i in range(100)))
    window.load_csv(str(wide), target="y")
    qtbot.waitUntil(lambda: window.info.problem.n_inputs == 40, timeout=WAIT)
    texts = [label.text() for label in window.diagram.labels]
    assert "f0" in texts and "f39" in texts and "16 of 40 shown" in texts  # sampled names, and a count
    assert len([t for t in texts if t.startswith("f")]) <= 16


def test_space_in_the_diagram_count_does_not_type(qtbot, window):
    count = window.diagram.header_widgets[0].count
    count.setFocus()
    qtbot.keyClick(count, Qt.Key_Space)
    qtbot.waitUntil(lambda: window.running, timeout=WAIT)
    window.toggle_play()
    qtbot.waitUntil(lambda: not window.running, timeout=WAIT)
    assert count.value() == 4


def test_quick_successive_edits_end_with_the_window_showing_what_trains(qtbot, window, tmp_path):
    window.load_csv(str(tmp_path / "missing.csv"), target="y")  # refused by the worker...
    window.on_data_changed(DataSpec(source="xor"))  # ...while these are already on their way
    window.add_layer()
    qtbot.waitUntil(lambda: not window.on_built and window.info.specs[0].source == "xor"
                    and len(window.info.network_layers) == 4 and window.snapshot is not None, timeout=WAIT)
    assert window.data.source == "xor" and len(window.network.hidden) == 3
    assert [w[0].shape for w in window.snapshot.weights] == window.diagram._kernel_shapes()


def test_a_file_the_csv_reader_chokes_on_is_a_clear_message(qtbot, window, tmp_path):
    huge = tmp_path / "huge.csv"
    huge.write_text("a,y\n" + "1," + "x" * 200_000 + "\n2,1\n")
    window.load_csv(str(huge), target="y")
    qtbot.waitUntil(window.message.isVisible, timeout=WAIT)
    assert "huge.csv" in window.message.text() and not window.on_built


def test_the_task_box_is_for_csv_files_only(qtbot, window):
    window.on_data_changed(DataSpec(source="house_prices"))
    qtbot.waitUntil(lambda: window.info.specs[0].source == "house_prices", timeout=WAIT)
    assert not window.data_controls.task.isEnabled()


def test_typed_learning_rates_do_not_pile_up_in_the_list(qtbot, window):
    box = window.training_controls.learning_rate
    count = box.count()
    for text in ("5000", "abc", "-1"):
        box.setCurrentText(text)
        qtbot.keyClick(box.lineEdit(), Qt.Key_Return)
    qtbot.waitUntil(lambda: box.currentText() == "0.03", timeout=WAIT)  # the worker refused -1
    assert box.count() == count and window.training.learning_rate == 0.03


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
    window.toggle_play()
    qtbot.waitUntil(lambda: len(drawn) >= 3, timeout=WAIT)
    start, before = time.perf_counter(), len(drawn)
    qtbot.wait(2000)
    frames, elapsed = len(drawn) - before, time.perf_counter() - start
    qtbot.waitUntil(lambda: len(drawn) > before + frames, timeout=WAIT)  # still live
    window.toggle_play()
    qtbot.waitUntil(lambda: not window.running, timeout=WAIT)
    assert frames * frame_seconds / elapsed < 0.25  # at 30 frames a second it would be all the time


def test_one_slow_frame_does_not_slow_the_views_down():
    from playground.worker import TrainingWorker

    worker = TrainingWorker()
    for _ in range(20):
        worker.view_drawn(0.01)
    typical = worker.frame_seconds
    worker.view_drawn(0.5)  # a resize or a tab switch
    assert typical == pytest.approx(0.01, rel=0.1)
    assert worker.frame_seconds < 2 * typical
    for _ in range(20):  # a machine that really got slower is followed
        worker.view_drawn(0.08)
    assert worker.frame_seconds == pytest.approx(0.08, rel=0.1)
