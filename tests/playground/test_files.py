"""Export and import weights, save and open projects, from the window."""
import json
from dataclasses import replace

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox

from core import Network, io
from core.project import load_project, save_project
from core.spec import DataSpec, NetworkSpec, TrainingConfig, prepare
from window_helpers import WAIT, pause, settled, train


@pytest.mark.parametrize("suffix", [".npz", ".json", ".safetensors"])
def test_an_exported_model_answers_raw_points_as_the_app_does(qtbot, window, tmp_path, monkeypatch, suffix):
    session = window.session
    session.toggle_feature("x1^2")  # the feature map travels with the model
    train(qtbot, window, 5)
    path = tmp_path / f"model{suffix}"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), ""))
    window.menu.export.trigger()
    exported = io.load(path)
    problem = session.built.problem
    np.testing.assert_allclose(exported.predict_rows(problem.points_test),
                               session.current_network().predict(problem.X_test), rtol=0, atol=1e-12)


def test_an_exported_onnx_model_runs_on_raw_points_in_onnx_runtime(qtbot, window, tmp_path, monkeypatch):
    ort = pytest.importorskip("onnxruntime")
    path = tmp_path / "model.onnx"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), ""))
    window.menu.export.trigger()
    problem = window.session.built.problem
    out = ort.InferenceSession(str(path)).run(["output"], {"input": problem.points_test})[0]
    np.testing.assert_allclose(out, window.session.current_network().predict(problem.X_test), atol=1e-6)


def test_export_as_pytorch_script_writes_the_script_and_its_weights(qtbot, window, tmp_path, monkeypatch):
    path = tmp_path / "model.py"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "model"), ""))
    window.menu.export_script.trigger()
    assert path.exists() and (tmp_path / "model.safetensors").exists()
    compile(path.read_text(), str(path), "exec")
    net = io.load(tmp_path / "model.safetensors")
    np.testing.assert_array_equal(net.layers[0].kernel, window.session.snapshot.weights[0][0])


def test_a_pytorch_written_file_imports_once_its_activations_are_chosen(qtbot, window, tmp_path, monkeypatch):
    from safetensors.numpy import save_file

    from playground.ui import files
    session = window.session
    weights = Network(2, [(4, "tanh"), (2, "tanh"), (1, "sigmoid")], seed=7).get_weights()
    tensors = {}
    for index, (kernel, bias) in zip((0, 2, 4), weights):  # Linear, Tanh, Linear, Tanh, Linear, Sigmoid
        tensors[f"{index}.weight"], tensors[f"{index}.bias"] = np.ascontiguousarray(kernel.T), bias
    save_file(tensors, str(tmp_path / "torch.safetensors"))
    asked = []
    monkeypatch.setattr(files, "ask_activations",
                        lambda parent, name, layers: asked.append(layers) or ["tanh", "tanh", "sigmoid"])
    assert window.files.import_weights(tmp_path / "torch.safetensors")
    assert [(n_in, n_out) for n_in, n_out, _ in asked[0]] == [(2, 4), (4, 2), (2, 1)]
    settled(qtbot, session)
    np.testing.assert_array_equal(session.snapshot.weights[1][0], weights[1][0])


def test_importing_weights_of_the_same_architecture_replaces_them(qtbot, window, tmp_path):
    session = window.session
    other = Network(2, session.built.layers, seed=123)
    io.save(other, tmp_path / "other.npz")
    assert window.files.import_weights(tmp_path / "other.npz")
    settled(qtbot, session)
    np.testing.assert_array_equal(session.snapshot.weights[0][0], other.layers[0].kernel)


def test_importing_another_architecture_asks_then_adopts_it_and_other_data_still_opens(qtbot, window, tmp_path,
                                                                                       dialogs):
    session = window.session
    other = Network(2, [(8, "relu"), (1, "sigmoid")], seed=5)
    io.save(other, tmp_path / "wide.safetensors")
    dialogs.answer = QMessageBox.Yes
    assert window.files.import_weights(tmp_path / "wide.safetensors")
    assert "2-8-1 (relu, sigmoid; float64)" in dialogs.shown[-1] and "2-4-2-1" in dialogs.shown[-1]
    settled(qtbot, session)
    assert session.built.layers == ((8, "relu"), (1, "sigmoid"))
    np.testing.assert_array_equal(session.snapshot.weights[0][0], other.layers[0].kernel)
    session.set_data(DataSpec(source="iris"))  # the imported output layer does not stick to other data
    settled(qtbot, session)
    assert session.built.problem.task == "multiclass" and session.built.layers[-1] == (3, "softmax")
    assert not window.message.isVisible()


def test_an_imported_output_layer_does_not_stick_to_another_csv(qtbot, window, tmp_path):
    session = window.session
    rng = np.random.default_rng(0)
    for name, labels in (("prices.csv", None), ("three.csv", ["a", "b", "c"])):
        rows = [f"{x:.3f},{y:.3f},{labels[i % 3] if labels else f'{x + y:.3f}'}"
                for i, (x, y) in enumerate(rng.normal(size=(60, 2)))]
        (tmp_path / name).write_text("x,y,label\n" + "\n".join(rows) + "\n")
    session.set_data(DataSpec(source="csv", csv_path=str(tmp_path / "prices.csv")))
    settled(qtbot, session)
    session.import_weights(Network(2, [(3, "relu"), (1, "tanh")], seed=1), adopt=True)
    settled(qtbot, session)
    assert session.built.layers[-1] == (1, "tanh")  # kept for this file
    session.set_data(DataSpec(source="csv", csv_path=str(tmp_path / "three.csv")))
    settled(qtbot, session)
    assert session.built.problem.task == "multiclass" and session.built.layers[-1] == (3, "softmax")


@pytest.mark.parametrize("answer", [QMessageBox.Yes, QMessageBox.No])
def test_weights_trained_on_other_data_are_imported_only_if_the_user_agrees(qtbot, window, tmp_path, dialogs, answer):
    session = window.session
    session.set_data(DataSpec(source="iris", test_fraction=0.5))
    settled(qtbot, session)
    elsewhere = prepare(DataSpec(source="iris", test_fraction=0.2))  # same columns, another split's scaling
    other = Network(4, session.built.layers, seed=3)
    io.save(other, tmp_path / "iris.npz", preprocessing=elsewhere.preprocessing)
    before = np.array(session.snapshot.weights[0][0])
    dialogs.answer = answer
    assert window.files.import_weights(tmp_path / "iris.npz") == (answer == QMessageBox.Yes)
    assert "trained on other data" in dialogs.shown[-1] and "another split" in dialogs.shown[-1]
    settled(qtbot, session)
    expected = other.layers[0].kernel if answer == QMessageBox.Yes else before
    np.testing.assert_array_equal(session.snapshot.weights[0][0], expected)


def test_weights_exported_from_the_same_data_import_without_a_question(qtbot, window, tmp_path, dialogs):
    session = window.session
    session.set_data(DataSpec(source="iris"))
    settled(qtbot, session)
    io.save(session.current_network(), tmp_path / "same.npz", preprocessing=session.built.problem.preprocessing)
    assert window.files.import_weights(tmp_path / "same.npz")
    assert not dialogs.shown


def test_importing_weights_for_other_inputs_is_refused_with_the_shapes(window, tmp_path, dialogs):
    io.save(Network(5, [(3, "tanh"), (1, "sigmoid")], seed=0), tmp_path / "five.json")
    layers = window.session.built.layers
    assert not window.files.import_weights(tmp_path / "five.json")
    assert "5 inputs" in dialogs.shown[-1] and "needs 2" in dialogs.shown[-1]
    assert window.session.built.layers == layers


def test_a_broken_weights_file_shows_why_and_changes_nothing(window, tmp_path, dialogs):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"PK\x03\x04 definitely not a zip")
    before = [k.copy() for k, _ in window.session.snapshot.weights]
    assert not window.files.import_weights(bad)
    assert "bad.npz" in dialogs.shown[-1]
    for kernel, old in zip((k for k, _ in window.session.snapshot.weights), before):
        np.testing.assert_array_equal(kernel, old)


def test_a_saved_project_opens_with_its_settings_weights_and_history(qtbot, window, tmp_path):
    session = window.session
    session.set_units(0, 6)
    session.set_hyperparameter("learning_rate", 0.1)
    settled(qtbot, session)
    train(qtbot, window, 8)
    path = tmp_path / "circle.json"
    assert window.files.write(path)
    assert not session.is_modified() and "circle.json" in window.windowTitle()
    weights = [k.copy() for k, _ in session.snapshot.weights]
    history = session.history.to_history()

    session.set_data(DataSpec(source="xor"))  # something else in between
    settled(qtbot, session)
    assert window.files.open(path)
    qtbot.waitUntil(lambda: session.project_path == str(path), timeout=WAIT)
    settled(qtbot, session)
    assert session.built.layers[0] == (6, "tanh") and session.training.learning_rate == 0.1
    for kernel, saved in zip((k for k, _ in session.snapshot.weights), weights):
        np.testing.assert_array_equal(kernel, saved)
    assert session.history.to_history() == history and session.snapshot.epoch == len(history.train_loss)
    assert not session.is_modified() and session.undo_stack.count() == 0


def test_an_opened_project_continues_exactly_as_if_never_closed(qtbot, window, tmp_path):
    """The optimizer's state, the shuffling and an unfinished epoch are saved: the same costs follow."""
    session = window.session
    session.set_hyperparameter("optimizer", "adam")
    session.set_hyperparameter("batch_size", 7)
    train(qtbot, window, 3)  # paused wherever the slice ended, likely mid-epoch
    path = tmp_path / "p.json"
    assert window.files.write(path)

    def step_three():
        for _ in range(3):
            epoch = session.snapshot.epoch
            session.step()
            qtbot.waitUntil(lambda: session.snapshot.epoch == epoch + 1 and not session.snapshot.running,
                            timeout=WAIT)
        return session.history["train_loss"][-3:].tolist(), [k.copy() for k, _ in session.snapshot.weights]

    costs, weights = step_three()
    assert window.files.open(path)
    qtbot.waitUntil(lambda: len(session.history) == len(load_project(path).history.train_loss)
                    and not session.busy and session.snapshot is not None, timeout=WAIT)
    assert step_three()[0] == costs
    for kernel, expected in zip((k for k, _ in session.snapshot.weights), weights):
        np.testing.assert_array_equal(kernel, expected)


def test_opening_a_bad_project_shows_why_and_changes_nothing(window, tmp_path, dialogs):
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "backprop-playground-project", "version": 99}')
    assert not window.files.open(bad)
    assert "bad.json" in dialogs.shown[-1] and "version" in dialogs.shown[-1]
    assert window.session.project_path is None and window.session.data.source == "circle"


def test_a_project_with_activations_written_as_people_write_them_opens(qtbot, window, tmp_path):
    session = window.session
    path = tmp_path / "relu.json"
    save_project(path, DataSpec(source="xor"), NetworkSpec(hidden=[[5, "relu"], [3, "swish"]]), TrainingConfig())
    doc = json.loads(path.read_text())
    doc["network"]["hidden"] = [[5, "ReLU"], [3, "silu"]]
    path.write_text(json.dumps(doc))
    assert window.files.open(path)
    qtbot.waitUntil(lambda: session.project_path == str(path), timeout=WAIT)
    settled(qtbot, session)
    assert session.built.layers[:2] == ((5, "relu"), (3, "swish"))
    assert [h.activation.currentData() for h in window.diagram.header_widgets] == ["relu", "swish"]
    train(qtbot, window, 2)


def test_a_projects_finer_noise_and_test_share_are_shown_and_kept_as_they_are(qtbot, window, tmp_path):
    session = window.session
    path = tmp_path / "fine.json"
    save_project(path, DataSpec(source="spiral", noise=0.123, test_fraction=0.255), NetworkSpec(), TrainingConfig())
    assert window.files.open(path)
    qtbot.waitUntil(lambda: session.project_path == str(path), timeout=WAIT)
    settled(qtbot, session)
    controls = window.data_controls
    assert (controls.noise_label.text(), controls.test_label.text()) == ("Noise 12.3 %", "Test data 25.5 %")
    again = tmp_path / "again.json"
    assert window.files.write(again)
    assert (load_project(again).data.noise, load_project(again).data.test_fraction) == (0.123, 0.255)


def test_saving_during_a_rebuild_writes_what_is_built_and_the_file_opens(qtbot, window, tmp_path):
    session = window.session
    train(qtbot, window, 3)
    session.add_layer()  # the rebuild is on its way when Save is pressed
    path = tmp_path / "during.json"
    assert window.files.write(path)
    project = load_project(path)
    assert [units for units, _ in project.weights.spec[:-1]] == [4, 2, 2]  # the new network's weights
    assert len(project.network.hidden) == 3
    assert window.files.open(path)
    qtbot.waitUntil(lambda: session.project_path == str(path) and not session.busy, timeout=WAIT)
    assert not window.message.isVisible()


def test_unsaved_changes_and_unsaved_training_prompt_on_quit(qtbot, window, dialogs):
    session = window.session
    train(qtbot, window, 2)  # training alone is work that would be lost
    assert session.is_modified() and window.windowTitle().endswith("*")
    dialogs.answer = QMessageBox.Cancel
    window.close()
    assert window.isVisible() and "unsaved changes" in dialogs.shown[-1]
    session.add_layer()
    dialogs.answer = QMessageBox.Discard
    window.close()
    assert not window.isVisible()


def test_recent_projects_are_remembered(qtbot, window, tmp_path):
    path = tmp_path / "p.json"
    assert window.files.write(path)
    window.menu.fill_recent_menu()
    assert [a.text() for a in window.menu.recent_menu.actions()][0] == str(path.resolve())


def test_fast_training_tests_every_few_epochs_and_the_project_keeps_them_in_place(qtbot, window, tmp_path):
    """Epochs fly by faster than the cost plot is drawn: the test set is evaluated only every few
    epochs (and for an epoch stepped to), its points sit at their epochs on the plot, and a saved
    project keeps them there."""
    session = window.session
    history = session.history
    session.play()
    qtbot.waitUntil(lambda: 2 <= len(session.history["test_loss"]) < len(session.history) / 2, timeout=WAIT)
    pause(qtbot, window)
    stopped_at = session.snapshot.epoch
    window.menu.step.trigger()  # one epoch more, shown whole: with its test figures
    qtbot.waitUntil(lambda: len(session.history) == stopped_at + 1 and not session.snapshot.running, timeout=WAIT)
    history = session.history
    assert history["test_epoch"][-1] == stopped_at + 1
    tested = history["epoch"][history["test_epoch"].astype(int) - 1]
    assert "test cost" in window.loss_plot.readout.text()
    window.loss_plot.redraw_if_due(force=True)
    np.testing.assert_array_equal(window.loss_plot.curves["test_loss"].xData, tested)  # drawn at their epochs

    path = tmp_path / "fast.json"
    assert window.files.write(path)
    session.reset()
    settled(qtbot, session)
    assert len(session.history) == 0
    assert window.files.open(path)
    qtbot.waitUntil(lambda: len(session.history) == stopped_at + 1, timeout=WAIT)
    np.testing.assert_array_equal(session.history["epoch"][session.history["test_epoch"].astype(int) - 1], tested)


def test_a_project_opened_while_training_continues_its_history_in_order(qtbot, window, tmp_path):
    session = window.session
    train(qtbot, window, 5)
    saved_epochs = session.snapshot.epoch
    path = tmp_path / "p.json"
    assert window.files.write(path)
    session.play()
    qtbot.waitUntil(lambda: session.running, timeout=WAIT)
    assert window.files.open(path)  # training stops: the saved run continues from its own epochs
    qtbot.waitUntil(lambda: not session.running and not session.busy and session.snapshot is not None
                    and session.snapshot.epoch == saved_epochs, timeout=WAIT)
    train(qtbot, window, saved_epochs + 5)
    epochs = session.history["epoch"]
    np.testing.assert_array_equal(epochs, np.arange(1, len(epochs) + 1))
    assert window.files.write(path)
    assert len(load_project(path).history.train_loss) == len(epochs)


def test_open_data_and_a_dropped_csv_go_through_the_import_dialog(qtbot, window, tmp_path, monkeypatch):
    from PySide6.QtCore import QMimeData, QPoint, QPointF, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDropEvent
    from PySide6.QtWidgets import QApplication

    from playground.ui import files
    session = window.session
    table = tmp_path / "rooms.csv"
    table.write_text("area,rooms,price\n" + "".join(f"{20 + 7 * i},{1 + i % 5},{50 + 3 * i}\n" for i in range(60)))
    asked = []

    def dialog(path, spec, parent):
        asked.append(path)
        return DataSpec(source="csv", csv_path=str(path), target="price", feature_columns=("area",),
                        task="regression"), None  # None: the dialog's reading was not finished

    monkeypatch.setattr(files, "choose_csv", dialog)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(table), ""))
    window.menu.open_data.trigger()
    settled(qtbot, session)
    assert asked == [str(table)] and session.built.problem.input_names == ["area"]
    assert session.data.csv_fingerprint  # kept, to tell later whether the file changed
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(table))])
    enter = QDragEnterEvent(QPoint(10, 10), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    QApplication.sendEvent(window, QDropEvent(QPointF(10, 10), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier))
    assert asked == [str(table)] * 2


def test_the_file_read_in_the_import_dialog_is_not_read_again_unless_it_changed(qtbot, window, tmp_path,
                                                                               monkeypatch):
    from core import tables
    session = window.session
    path = tmp_path / "rooms.csv"
    path.write_text("area,rooms,price\n" + "".join(f"{20 + 7 * i},{1 + i % 5},{50 + 3 * i}\n" for i in range(60)))
    table = tables.read_table(path)  # what the dialog read, and the file's fingerprint then
    spec = DataSpec(source="csv", csv_path=str(path), target="price", csv_fingerprint=tables.fingerprint(path))
    reads, read_table = [], tables.read_table
    monkeypatch.setattr(tables, "read_table", lambda *args, **kwargs: reads.append(args) or read_table(*args, **kwargs))
    window.files.use_csv(spec, table)
    settled(qtbot, session)
    assert reads == [] and session.data.csv_path == str(path)
    assert len(session.built.problem.X_train) + len(session.built.problem.X_test) == 60

    window.files.use_csv(session.data, table)  # the dialog OK'd again, nothing changed: nothing to build
    with path.open("a") as f:  # changed after the dialog read it: read again, the new row with it
        f.write("999,3,999\n")
    session.set_data(replace(session.data, test_fraction=0.3))
    settled(qtbot, session)
    assert len(reads) == 1 and len(session.built.problem.X_train) + len(session.built.problem.X_test) == 61
    window.files.use_csv(replace(spec, target="rooms"), table)  # a table older than the file: not used
    settled(qtbot, session)
    assert len(reads) == 2 and session.data.csv_fingerprint == tables.fingerprint(path)
    assert len(session.built.problem.X_train) + len(session.built.problem.X_test) == 61


def test_a_regression_shows_rmse_and_r2_in_the_targets_units(qtbot, window):
    session = window.session
    session.set_data(DataSpec(source="house_prices"))
    train(qtbot, window, 10)
    predicted, actual = session.snapshot.predictions if session.snapshot.predictions else (None, None)
    qtbot.waitUntil(lambda: session.snapshot.predictions is not None, timeout=WAIT)
    predicted, actual = session.snapshot.predictions
    rmse = float(np.sqrt(np.mean((predicted - actual) ** 2)))
    text = window.output.tabular.scores.text()
    assert text.startswith(f"test RMSE {rmse:.4g} price · R² ")


def test_a_project_whose_csv_changed_opens_and_says_so(qtbot, window, tmp_path):
    session = window.session
    table = tmp_path / "t.csv"
    table.write_text("a,b,y\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(40)))
    window.files.load_csv(str(table), target="y")
    settled(qtbot, session)
    path = tmp_path / "p.json"
    assert window.files.write(path)
    table.write_text("a,b,y\n" + "".join(f"{i},{i % 4},{i % 2}\n" for i in range(50)))
    assert window.files.open(path)
    qtbot.waitUntil(lambda: window.message.isVisible(), timeout=WAIT)
    assert "t.csv" in window.message.text() and "changed" in window.message.text()
    settled(qtbot, session)
    assert len(session.built.problem.X_train) + len(session.built.problem.X_test) == 50
