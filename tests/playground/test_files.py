"""Export and import weights, save and open projects, from the window."""
import numpy as np
import pytest
from PySide6.QtWidgets import QFileDialog, QMessageBox

from core import Network, io
from core.project import load_project

WAIT = 10000


def _train_a_little(qtbot, win, epochs=5):
    win.toggle_play()
    qtbot.waitUntil(lambda: win.snapshot.epoch >= epochs, timeout=WAIT)
    win.toggle_play()
    qtbot.waitUntil(lambda: not win.snapshot.running, timeout=WAIT)


@pytest.mark.parametrize("suffix", [".npz", ".json", ".safetensors"])
def test_exported_weights_load_back_and_predict_the_same(qtbot, window, tmp_path, monkeypatch, suffix):
    _train_a_little(qtbot, window)
    path = tmp_path / f"model{suffix}"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), ""))
    window.export_weights()
    exported = io.load(path)
    X = window.info.problem.X_test
    np.testing.assert_allclose(exported.predict(X), window.current_network().predict(X))


def test_export_onnx_runs_in_onnx_runtime(qtbot, window, tmp_path, monkeypatch):
    ort = pytest.importorskip("onnxruntime")
    path = tmp_path / "model.onnx"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), ""))
    window.export_weights()
    X = window.info.problem.X_test
    out = ort.InferenceSession(str(path)).run(None, {"input": X})[0]
    np.testing.assert_allclose(out, window.current_network().predict(X), atol=1e-6)


def test_importing_weights_of_the_same_architecture_replaces_them(qtbot, window, tmp_path):
    other = Network(2, window.info.network_layers, seed=123)
    io.save(other, tmp_path / "other.npz")
    assert window.load_weights(tmp_path / "other.npz")
    qtbot.waitUntil(lambda: np.array_equal(window.snapshot.weights[0][0], other.layers[0].kernel), timeout=WAIT)


def test_importing_another_architecture_asks_then_adopts_it(qtbot, window, tmp_path, dialogs):
    other = Network(2, [(8, "relu"), (1, "sigmoid")], seed=5)
    io.save(other, tmp_path / "wide.safetensors")
    dialogs.answer = QMessageBox.Yes
    assert window.load_weights(tmp_path / "wide.safetensors")
    assert "2-8-1 (relu, sigmoid; float64)" in dialogs.shown[-1] and "2-4-2-1" in dialogs.shown[-1]
    qtbot.waitUntil(lambda: window.info.network_layers == [(8, "relu"), (1, "sigmoid")], timeout=WAIT)
    qtbot.waitUntil(lambda: np.array_equal(window.snapshot.weights[0][0], other.layers[0].kernel), timeout=WAIT)
    dialogs.answer = QMessageBox.Discard  # so closing the window does not keep it open


def test_importing_weights_for_other_inputs_is_refused_with_the_shapes(window, tmp_path, dialogs):
    io.save(Network(5, [(3, "tanh"), (1, "sigmoid")], seed=0), tmp_path / "five.json")
    layers = window.info.network_layers
    assert not window.load_weights(tmp_path / "five.json")
    assert "5 inputs" in dialogs.shown[-1] and "needs 2" in dialogs.shown[-1]
    assert window.info.network_layers == layers


def test_a_broken_weights_file_shows_why_and_changes_nothing(window, tmp_path, dialogs):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"PK\x03\x04 definitely not a zip")
    before = [k.copy() for k, _ in window.snapshot.weights]
    assert not window.load_weights(bad)
    assert "bad.npz" in dialogs.shown[-1]
    for kernel, old in zip((k for k, _ in window.snapshot.weights), before):
        np.testing.assert_array_equal(kernel, old)


def test_a_saved_project_opens_with_its_settings_weights_and_history(qtbot, window, tmp_path):
    window.set_units(0, 6)
    qtbot.waitUntil(lambda: window.info.network_layers[0] == (6, "tanh"), timeout=WAIT)
    window.on_hyperparameter("learning_rate", 0.1)
    _train_a_little(qtbot, window, epochs=8)
    qtbot.waitUntil(lambda: window.loss_plot.n_points == window.snapshot.epoch, timeout=WAIT)
    path = tmp_path / "circle.json"
    assert window._write_project(path)
    assert not window.is_modified() and "circle.json" in window.windowTitle()
    weights = [k.copy() for k, _ in window.snapshot.weights]
    epochs = window.snapshot.epoch

    window.on_data_changed(type(window.data)(source="xor"))  # something else in between
    qtbot.waitUntil(lambda: window.data.source == "xor" and window.info.specs[0].source == "xor", timeout=WAIT)
    assert window.open_project(path)
    qtbot.waitUntil(lambda: window.info.specs[0].source == "circle" and window.snapshot.epoch == epochs,
                    timeout=WAIT)
    assert window.info.network_layers[0] == (6, "tanh") and window.training.learning_rate == 0.1
    for kernel, saved in zip((k for k, _ in window.snapshot.weights), weights):
        np.testing.assert_array_equal(kernel, saved)
    assert window.loss_plot.n_points == epochs


def test_opening_a_bad_project_shows_why_and_changes_nothing(window, tmp_path, dialogs):
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "backprop-playground-project", "version": 99}')
    assert not window.open_project(bad)
    assert "bad.json" in dialogs.shown[-1] and "version" in dialogs.shown[-1]
    assert window.project_path is None and window.data.source == "circle"


def test_unsaved_changes_prompt_on_quit_and_cancel_keeps_the_window(qtbot, window, dialogs):
    window.add_layer()
    assert window.is_modified() and window.windowTitle().endswith("*")
    dialogs.answer = QMessageBox.Cancel
    window.close()
    assert window.isVisible() and "unsaved changes" in dialogs.shown[-1]
    dialogs.answer = QMessageBox.Discard
    window.close()
    assert not window.isVisible()


def test_recent_projects_are_remembered(qtbot, window, tmp_path):
    path = tmp_path / "p.json"
    assert window._write_project(path)
    window._fill_recent_menu()
    assert [a.text() for a in window.recent_menu.actions()][0] == str(path.resolve())


def test_fast_training_tests_every_few_epochs_and_the_project_keeps_them_in_place(qtbot, window, tmp_path):
    """Epochs fly by faster than the cost plot is drawn: the test set is evaluated only every few
    epochs (and for an epoch stepped to), its points sit at their epochs on the plot, and a saved
    project keeps them there."""
    plot = window.loss_plot
    window.toggle_play()
    qtbot.waitUntil(lambda: 2 <= plot.series["test"].size < plot.n_points / 2, timeout=WAIT)
    window.toggle_play()
    qtbot.waitUntil(lambda: not window.snapshot.running, timeout=WAIT)
    stopped_at = window.snapshot.epoch
    window.step_action.trigger()  # one epoch more, shown whole: with its test figures
    qtbot.waitUntil(lambda: plot.n_points == stopped_at + 1 and not window.snapshot.running, timeout=WAIT)
    assert plot.series["test_epoch"].values[-1] == stopped_at + 1
    epochs = plot.series["epoch"].values.copy()
    tested = epochs[plot.series["test_epoch"].values.astype(int) - 1]
    assert "test cost" in plot.readout.text()
    test_curve = plot.curves["test"].getData()[0]
    np.testing.assert_array_equal(test_curve[-1], tested[-1])  # drawn at its epoch, not at its index

    path = tmp_path / "fast.json"
    assert window._write_project(path)
    window.reset()
    qtbot.waitUntil(lambda: window.loss_plot.n_points == 0, timeout=WAIT)
    assert window.open_project(path)
    qtbot.waitUntil(lambda: window.loss_plot.n_points == len(epochs), timeout=WAIT)
    np.testing.assert_array_equal(plot.series["epoch"].values[plot.series["test_epoch"].values.astype(int) - 1], tested)


def test_a_project_opened_while_training_continues_its_history_in_order(qtbot, window, tmp_path):
    _train_a_little(qtbot, window, epochs=5)
    qtbot.waitUntil(lambda: window.loss_plot.n_points == window.snapshot.epoch, timeout=WAIT)
    saved_epochs = window.snapshot.epoch
    path = tmp_path / "p.json"
    assert window._write_project(path)
    window.toggle_play()
    qtbot.waitUntil(lambda: window.running, timeout=WAIT)
    assert window.open_project(path)  # training stops: the saved run continues from its own epochs
    qtbot.waitUntil(lambda: not window.running and window.snapshot.epoch == saved_epochs, timeout=WAIT)
    _train_a_little(qtbot, window, epochs=saved_epochs + 5)
    qtbot.waitUntil(lambda: window.loss_plot.n_points == window.snapshot.epoch, timeout=WAIT)
    epochs = window.loss_plot.series["epoch"].values
    np.testing.assert_array_equal(epochs, np.arange(1, len(epochs) + 1))
    assert window._write_project(path)
    assert len(load_project(path).history.train_loss) == len(epochs)
