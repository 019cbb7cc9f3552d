"""One state for the app: edits apply at once, every edit undoes, and undo brings back what was trained."""
import numpy as np
import pytest
from PySide6.QtCore import Qt

from core import Network
from core.spec import DataSpec
from playground.training import worker as worker_module
from window_helpers import WAIT, settled, train


def test_three_quick_clicks_on_plus_add_three_layers(qtbot, window):
    session = window.session
    for _ in range(3):
        qtbot.mouseClick(window.diagram.add_layer, Qt.LeftButton)
    assert len(window.diagram.header_widgets) == 5  # drawn at once, from the Session's specs
    settled(qtbot, session)
    assert len(session.built.layers) == 6 and len(session.network.hidden) == 5


def test_cross_then_plus_on_the_layer_that_is_left_works(qtbot, window):
    session = window.session
    qtbot.mouseClick(window.diagram.header_widgets[0].remove, Qt.LeftButton)
    assert len(window.diagram.header_widgets) == 1  # the headers follow at once, never stale
    qtbot.mouseClick(window.diagram.header_widgets[0].plus, Qt.LeftButton)
    settled(qtbot, session)
    assert session.built.layers == ((3, "tanh"), (1, "sigmoid"))
    assert not window.message.isVisible()


def test_architecture_seed_and_precision_edits_never_read_the_data_again(qtbot, window, monkeypatch):
    session = window.session
    prepared = []
    real_prepare = worker_module.prepare
    monkeypatch.setattr(worker_module, "prepare",
                        lambda spec, **kwargs: prepared.append(spec) or real_prepare(spec, **kwargs))
    drawn_points = []
    points = window.output.plane.train_points
    real_set_data = points.setData
    monkeypatch.setattr(points, "setData", lambda *a, **k: drawn_points.append(1) or real_set_data(*a, **k))
    session.add_layer()
    session.set_units(0, 7)
    session.set_activation(1, "relu")
    session.set_seed(3)
    session.set_precision("float32")
    session.reset()
    settled(qtbot, session)
    assert session.built.layers[0] == (7, "tanh") and session.built.specs[1].dtype == "float32"
    assert prepared == [] and drawn_points == []  # no data read, no point redrawn
    session.set_data(DataSpec(source="xor"))
    settled(qtbot, session)
    assert len(prepared) == 1 and drawn_points


def _trained_state(session):
    snapshot = session.snapshot
    return ([np.array(k) for k, _ in snapshot.weights], session.history.to_history(), snapshot.epoch,
            [np.array(m) for m in snapshot.trainer_state["optimizer"]["m"]])


def _assert_same(a, b):
    weights_a, history_a, epoch_a, moments_a = a
    weights_b, history_b, epoch_b, moments_b = b
    assert epoch_a == epoch_b and history_a == history_b
    for x, y in zip(weights_a + moments_a, weights_b + moments_b):
        np.testing.assert_array_equal(x, y)


def test_plus_after_long_training_then_undo_brings_the_trained_network_back_exactly(qtbot, window):
    session = window.session
    session.set_hyperparameter("optimizer", "adam")
    train(qtbot, window, 40)
    trained = _trained_state(session)
    qtbot.mouseClick(window.diagram.add_layer, Qt.LeftButton)
    settled(qtbot, session)
    assert session.snapshot.epoch == 0 and len(session.history) == 0  # a fresh network for the new layer
    assert window.menu.undo.text() == "Undo add layer"
    train(qtbot, window, 4)
    after = _trained_state(session)
    window.menu.undo.trigger()
    settled(qtbot, session)
    assert len(session.network.hidden) == 2
    _assert_same(_trained_state(session), trained)
    assert window.menu.redo.text() == "Redo add layer"
    window.menu.redo.trigger()
    settled(qtbot, session)
    assert len(session.network.hidden) == 3
    _assert_same(_trained_state(session), after)  # and redo brings back what the new layer had learnt


EDITS = {  # what a person changes: (edit, what must be different after it)
    "add layer": (lambda s: s.add_layer(), lambda s: len(s.network.hidden) == 3),
    "remove layer": (lambda s: s.remove_layer(0), lambda s: s.network.hidden == ((2, "tanh"),)),
    "neurons": (lambda s: s.set_units(1, 5), lambda s: s.network.hidden[1] == (5, "tanh")),
    "activation": (lambda s: s.set_activation(0, "relu"), lambda s: s.network.hidden[0] == (4, "relu")),
    "input feature": (lambda s: s.toggle_feature("sin_x1"), lambda s: "sin_x1" in s.data.features),
    "data set": (lambda s: s.set_data(DataSpec(source="spiral3")), lambda s: s.built.problem.task == "multiclass"),
    "noise": (lambda s: s.set_data(DataSpec(noise=0.3)), lambda s: s.data.noise == 0.3),
    "points": (lambda s: s.set_data(DataSpec(n_samples=300)), lambda s: len(s.built.problem.X_train) == 150),
    "data seed": (lambda s: s.set_data(DataSpec(seed=9)), lambda s: s.data.seed == 9),
    "test share": (lambda s: s.set_data(DataSpec(test_fraction=0.2)), lambda s: s.data.test_fraction == 0.2),
    "weights seed": (lambda s: s.set_seed(11), lambda s: s.network.seed == 11 and s.training.seed == 11),
    "precision": (lambda s: s.set_precision("float32"), lambda s: s.snapshot.weights[0][0].dtype == np.float32),
    "learning rate": (lambda s: s.set_hyperparameter("learning_rate", 0.3), lambda s: s.training.learning_rate == 0.3),
    "optimizer": (lambda s: s.set_hyperparameter("optimizer", "momentum"), lambda s: s.training.optimizer == "momentum"),
    "batch size": (lambda s: s.set_hyperparameter("batch_size", "all"), lambda s: s.training.batch_size == "all"),
    "regularization": (lambda s: s.set_hyperparameter("regularization", "l2"), lambda s: s.training.regularization == "l2"),
    "reg. rate": (lambda s: s.set_hyperparameter("reg_rate", 0.01), lambda s: s.training.reg_rate == 0.01),
    "imported weights": (lambda s: s.import_weights(Network(2, [(4, "tanh"), (2, "tanh"), (1, "sigmoid")], seed=99)),
                         lambda s: len(s.history) == 0 and s.snapshot.epoch == 0),
    "reset": (lambda s: s.reset(), lambda s: s.snapshot.epoch == 0),
}


@pytest.mark.parametrize("name", EDITS)
def test_every_kind_of_edit_undoes_to_the_trained_network_and_redoes(qtbot, window, name):
    edit, changed = EDITS[name]
    session = window.session
    session.set_hyperparameter("optimizer", "adam")
    train(qtbot, window, 3)
    specs, built_layers, trained = session.specs, session.built.layers, _trained_state(session)
    edit(session)
    settled(qtbot, session)
    assert changed(session) and session.specs != specs or name in ("imported weights", "reset")
    edited_specs = session.specs
    session.undo_stack.undo()
    settled(qtbot, session)
    assert session.specs == specs and session.built.layers == built_layers
    _assert_same(_trained_state(session), trained)
    assert window.training_controls.learning_rate.currentText() == "0.03"
    worker = session.worker_thread.worker  # a live setting reaches the worker after it is undone, without a rebuild
    qtbot.waitUntil(lambda: worker.trainer.learning_rate == session.training.learning_rate, timeout=WAIT)
    session.undo_stack.redo()
    settled(qtbot, session)
    assert session.specs == edited_specs and changed(session)


def test_consecutive_changes_of_one_setting_undo_in_one_step(qtbot, window):
    session = window.session
    for rate in (0.1, 0.3, 1.0):
        session.set_hyperparameter("learning_rate", rate)
    assert session.undo_stack.count() == 1 and session.undo_stack.undoText() == "set learning rate 1.0"
    session.undo_stack.undo()
    assert session.training.learning_rate == 0.03


def test_snapshot_arrays_are_read_only_copies(qtbot, window):
    session = window.session
    session.set_hyperparameter("optimizer", "adam")
    train(qtbot, window, 2)
    snapshot = session.snapshot
    kernel = snapshot.weights[0][0]
    with pytest.raises(ValueError, match="read-only"):
        kernel[0, 0] = 1.0
    live = session.worker_thread.worker.net.layers[0].kernel
    assert not np.shares_memory(kernel, live)
    assert all(not buffer.flags.writeable for buffer in snapshot.trainer_state["optimizer"]["m"])


def test_every_request_is_answered_once(qtbot, window, monkeypatch):
    session = window.session
    replies = []
    session.worker_thread.worker.replied.connect(lambda reply: replies.append(reply.id))
    sent = []
    session.request_sent.connect(lambda request: sent.append(request.id))
    session.add_layer()
    session.set_hyperparameter("learning_rate", 0.1)
    session.play()
    session.pause()
    session.set_hyperparameter("learning_rate", 5000.0)  # refused before it is sent
    session.step()
    qtbot.waitUntil(lambda: len(replies) >= len(sent) and not session.running, timeout=WAIT)
    qtbot.wait(100)
    assert sorted(replies) == sorted(sent) and len(set(replies)) == len(replies)


def test_a_run_history_gives_the_figures_of_any_epoch_with_the_latest_test_before_it():
    from core.trainer import History
    from playground.session.history import RunHistory

    history = RunHistory.from_history(History(train_loss=[0.9, 0.5, 0.3, 0.2], test_loss=[0.8, 0.4],
                                              train_accuracy=[0.5, 0.6, 0.7, 0.8], test_accuracy=[0.55, 0.75],
                                              test_epoch=[1, 3]))
    stats, tested = history.at(2)
    assert (stats.epoch, stats.train_loss, stats.train_accuracy) == (2, 0.5, 0.6)
    assert (tested.epoch, tested.test_loss, tested.test_accuracy) == (1, 0.8, 0.55)  # tested every other epoch
    stats, tested = history.at(4)
    assert (stats.train_loss, tested.epoch, tested.test_loss) == (0.2, 3, 0.4)
    assert history.at(0) == (None, None) and history.at(5) == (None, None)
