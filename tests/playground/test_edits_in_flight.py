"""What a person does while the worker is still busy with the last thing they asked for.

Each test is a sequence once found to leave the window and the worker disagreeing: a setting changed
while paused and then saved, undone or trained from; a save, an undo or a weight typed while a
project opens; a change the worker refuses. Exceptions raised in Qt slots fail a test (pytest-qt)."""
import json
import time

import numpy as np

from core import runs
from core.project import load_project
from core.spec import DataSpec
from playground.training import worker as worker_module
from playground.training.protocol import Refused, SetHyperparameter
from window_helpers import WAIT, settled, train


def _worker(session):
    return session.worker_thread.worker


def _refusals(session):
    notices = []
    session.notice.connect(lambda text: text and notices.append(text))
    return notices


def test_optimizer_changed_while_paused_survives_undo_of_a_later_edit(qtbot, window):
    s = window.session
    train(qtbot, window, 5)
    s.set_hyperparameter("optimizer", "adam")  # paused: no snapshot carries Adam's state yet
    notices = _refusals(s)
    s.add_layer()
    settled(qtbot, s)
    train(qtbot, window, 3)
    s.undo()  # the trained two-layer run comes back, with the optimizer the window shows
    settled(qtbot, s)
    assert not notices
    assert s.training.optimizer == "adam"
    assert _worker(s).trainer.optimizer.name == "adam"
    assert _worker(s).generation == s.generation


def test_train_from_a_checkpoint_taken_before_the_optimizer_changed(qtbot, window):
    s = window.session
    train(qtbot, window, 5)
    s.set_hyperparameter("optimizer", "adam")
    train(qtbot, window, s.snapshot.epoch + 5)
    notices = _refusals(s)
    s.train_from(2)  # epoch 2 was trained with SGD
    settled(qtbot, s)
    assert not notices
    assert s.snapshot.epoch == 2
    assert len(s.runs) == 1
    assert _worker(s).trainer.optimizer.name == s.training.optimizer


def test_project_saved_after_a_paused_optimizer_change_opens_cleanly(qtbot, window, tmp_path):
    s = window.session
    train(qtbot, window, 5)
    s.set_hyperparameter("optimizer", "adam")
    path = tmp_path / "p.json"
    s.save_project(path)
    assert json.loads(path.read_text())["training"]["optimizer"] == "adam"
    notices = _refusals(s)
    s.open_project(load_project(path), str(path))
    settled(qtbot, s)
    assert not notices
    assert _worker(s).trainer.optimizer.name == "adam"


def test_save_pressed_while_a_project_opens_does_not_overwrite_the_one_before(qtbot, window, tmp_path):
    s = window.session
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    train(qtbot, window, 2)
    window.files.write(str(a))
    s.set_data(DataSpec(source="xor"))
    settled(qtbot, s)
    s.save_project(b)
    s.open_project(load_project(a), str(a))
    settled(qtbot, s)
    s.open_project(load_project(b), str(b))
    window.files.save()  # Ctrl+S while b is still being built
    settled(qtbot, s)
    assert json.loads(a.read_text())["data"]["source"] == "circle"
    assert s.data.source == "xor"


def test_save_right_after_undo_keeps_the_trained_weights(qtbot, window, tmp_path):
    s = window.session
    train(qtbot, window, 20)
    s.add_layer()
    settled(qtbot, s)
    s.undo()
    path = tmp_path / "p.json"
    window.files.write(str(path))  # at once, before the worker has answered the undo
    doc = json.loads(path.read_text())
    assert "weights" in doc
    assert load_project(path).network.hidden == s.network.hidden


def _saved_project(qtbot, window, tmp_path):
    s = window.session
    s.set_data(DataSpec(source="xor"))
    s.add_layer()
    settled(qtbot, s)
    train(qtbot, window, 3)
    path = tmp_path / "p.json"
    s.save_project(path)
    s.undo()
    s.undo()
    settled(qtbot, s)
    return path


def test_undo_while_a_project_opens_leaves_window_and_worker_agreeing(qtbot, window, tmp_path):
    s = window.session
    path = _saved_project(qtbot, window, tmp_path)
    s.add_layer()
    settled(qtbot, s)
    s.open_project(load_project(path), str(path))
    s.undo()  # Ctrl+Z while the project is being opened
    settled(qtbot, s)
    assert _worker(s).generation == s.generation
    assert [layer.units for layer in _worker(s).net.layers[:-1]] == [units for units, _ in s.network.hidden]
    train(qtbot, window, s.snapshot.epoch + 1)
    assert _worker(s).trainer.epoch == s.snapshot.epoch


def test_weight_typed_while_a_project_opens_does_not_land_on_the_opened_weights(qtbot, window, tmp_path):
    s = window.session
    path = _saved_project(qtbot, window, tmp_path)
    project = load_project(path)
    saved = np.array(project.weights.get_weights()[0][0])
    s.open_project(project, str(path))
    s.set_weight(0, 0, 0, 123.0)
    settled(qtbot, s)
    qtbot.wait(200)
    np.testing.assert_array_equal(np.asarray(s.snapshot.weights[0][0]), saved)


def test_removing_the_traced_layer_moves_the_trace_back(qtbot, window):
    s = window.session
    train(qtbot, window, 2)
    s.set_trace(sample=("train", 0), mode="forward", layer=None)
    for _ in range(len(s.built.layers)):
        s.step_trace(1)  # trace stands on the output layer
    s.remove_layer()
    settled(qtbot, s)
    train(qtbot, window, s.snapshot.epoch + 1)
    assert s.trace is not None
    assert s.trace_state.layer is None or s.trace_state.layer < len(s.built.layers)


def test_refused_typed_edit_merged_with_the_one_before_returns_to_what_the_worker_has(qtbot, window, monkeypatch):
    s = window.session
    accept = worker_module.TrainingWorker._HANDLERS[SetHyperparameter]

    def refuse_half(self, request):
        if request.value == 0.5:
            return Refused(request.id, "stand-in refusal")
        return accept(self, request)

    monkeypatch.setitem(worker_module.TrainingWorker._HANDLERS, SetHyperparameter, refuse_half)
    s.set_hyperparameter("learning_rate", 0.1)
    s.set_hyperparameter("learning_rate", 0.5)  # typed on: merges with the edit before
    qtbot.waitUntil(lambda: s.training.learning_rate != 0.5, timeout=WAIT)
    qtbot.waitUntil(lambda: not s.pending, timeout=WAIT)  # the rate rolled back to has been applied too
    assert s.training.learning_rate == _worker(s).trainer.learning_rate


def test_weight_typed_before_a_refusal_arrives(qtbot, window, monkeypatch):
    s = window.session
    train(qtbot, window, 2)
    batch = s.training.batch_size

    def refuse_slowly(self, request):
        time.sleep(0.2)
        return Refused(request.id, "stand-in refusal")

    monkeypatch.setitem(worker_module.TrainingWorker._HANDLERS, SetHyperparameter, refuse_slowly)
    s.set_hyperparameter("batch_size", 32)
    s.set_weight(0, 0, 0, 1.5)
    qtbot.waitUntil(lambda: s.training.batch_size == batch, timeout=WAIT)
    settled(qtbot, s)
    assert _worker(s).trainer.batch_size == batch


def test_clicking_a_table_row_traces_it_when_there_is_no_test_split(qtbot, window):
    s = window.session
    s.set_data(DataSpec(source="house_prices", test_fraction=0.0))
    settled(qtbot, s)
    train(qtbot, window, 2)
    window.output.tabular.table.cellClicked.emit(0, 0)
    qtbot.waitUntil(lambda: s.trace is not None, timeout=WAIT)


def test_marker_of_a_past_epoch_goes_when_an_edit_starts_a_new_run(qtbot, window):
    s = window.session
    train(qtbot, window, 20)
    s.view_epoch(5)
    qtbot.waitUntil(lambda: s.preview is not None, timeout=WAIT)
    marker = window.loss_plot.markers[0]
    assert marker.isVisible()
    s.add_layer()
    settled(qtbot, s)
    train(qtbot, window, 2)
    assert not marker.isVisible()


def test_pinning_after_undoing_train_from_is_a_new_edit_and_loses_nothing(qtbot, window):
    s = window.session
    train(qtbot, window, 20)
    epochs = len(s.history)
    s.train_from(5)
    settled(qtbot, s)
    s.undo()  # the whole run is back
    settled(qtbot, s)
    for _ in range(runs.MAX_RUNS):
        s.pin_run()  # an edit of its own: the train-from undone can no longer be redone over it
    assert len(s.runs) == runs.MAX_RUNS and not s.undo_stack.canRedo()
    s.redo()
    settled(qtbot, s)
    assert len(s.runs) == runs.MAX_RUNS and len(s.history) == epochs
    for _ in range(runs.MAX_RUNS):
        s.undo()
    assert s.runs == () and len(s.history) == epochs