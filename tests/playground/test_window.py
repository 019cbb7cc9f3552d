"""What a person does in the window: build by clicking, train, change settings live, quit."""
import numpy as np
from PySide6.QtCore import Qt

from core.spec import DataSpec

WAIT = 10000


def _play_until_epochs(qtbot, win, n):
    if not win.running:
        win.toggle_play()
    qtbot.waitUntil(lambda: win.snapshot is not None and win.snapshot.epoch >= n, timeout=WAIT)


def _pause(qtbot, win):
    if win.running:
        win.toggle_play()
    qtbot.waitUntil(lambda: not win.running and not win.snapshot.running, timeout=WAIT)


def test_opens_ready_to_train_on_the_default(window):
    assert window.windowTitle().startswith("Backprop Playground")
    assert window.info.problem.task == "binary"
    assert window.info.network_layers == [(4, "tanh"), (2, "tanh"), (1, "sigmoid")]
    assert window.training.learning_rate == 0.03 and window.training.batch_size == 10
    assert len(window.info.problem.X_train) == 250 and len(window.info.problem.X_test) == 250
    assert window.snapshot.epoch == 0


def test_play_moves_the_cost_curve_and_pause_stops_it(qtbot, window):
    _play_until_epochs(qtbot, window, 20)
    qtbot.waitUntil(lambda: window.loss_plot.n_points >= 20, timeout=WAIT)
    costs = window.loss_plot.series["train"].values
    assert costs[-1] < costs[0]
    _pause(qtbot, window)
    frozen = window.loss_plot.n_points
    qtbot.wait(300)
    assert window.loss_plot.n_points == frozen
    curve_x, _ = window.loss_plot.curves["train"].getData()
    assert len(curve_x) > 0


def test_clicking_add_layer_adds_a_layer_that_trains(qtbot, window):
    qtbot.mouseClick(window.diagram.add_layer, Qt.LeftButton)
    qtbot.waitUntil(lambda: len(window.info.network_layers) == 4, timeout=WAIT)
    assert window.info.network_layers[:3] == [(4, "tanh"), (2, "tanh"), (2, "tanh")]
    assert len(window.diagram.header_widgets) == 3
    _play_until_epochs(qtbot, window, 5)
    assert [w[0].shape for w in window.snapshot.weights] == [(2, 4), (4, 2), (2, 2), (2, 1)]
    _pause(qtbot, window)
    qtbot.mouseClick(window.diagram.remove_layer, Qt.LeftButton)
    qtbot.waitUntil(lambda: len(window.info.network_layers) == 3, timeout=WAIT)


def test_clicking_plus_and_minus_on_a_layer_changes_its_neurons(qtbot, window):
    header = window.diagram.header_widgets[0]
    qtbot.mouseClick(header.plus, Qt.LeftButton)
    qtbot.waitUntil(lambda: window.info.network_layers[0] == (5, "tanh"), timeout=WAIT)
    header = window.diagram.header_widgets[1]
    qtbot.mouseClick(header.minus, Qt.LeftButton)
    qtbot.waitUntil(lambda: window.info.network_layers[1] == (1, "tanh"), timeout=WAIT)
    _play_until_epochs(qtbot, window, 3)
    assert window.snapshot.weights[0][0].shape == (2, 5)
    _pause(qtbot, window)


def test_a_wide_layer_is_drawn_as_a_sample_with_a_count(qtbot, window):
    window.set_units(0, 300)
    qtbot.waitUntil(lambda: window.info.network_layers[0] == (300, "tanh"), timeout=WAIT)
    shown = window.diagram.columns[1]
    assert shown["total"] == 300 and len(shown["units"]) <= 16
    assert any("of 300 shown" in label.text() for label in window.diagram.labels)


def test_activation_picker_changes_the_layer(qtbot, window):
    combo = window.diagram.header_widgets[1].activation
    combo.setCurrentIndex(combo.findData("relu"))
    qtbot.waitUntil(lambda: window.info.network_layers[1] == (2, "relu"), timeout=WAIT)


def test_clicking_an_input_toggles_a_feature(qtbot, window):
    window.diagram.feature_toggled.emit("x1x2")  # what a click on the X₁X₂ input emits
    qtbot.waitUntil(lambda: window.info.problem.n_inputs == 3, timeout=WAIT)
    assert window.data.features == ("x1", "x2", "x1x2")
    points = [p for p in window.diagram.nodes.points() if p.data() == (0, 4)]
    window.diagram._node_clicked(window.diagram.nodes, points)  # the real click handler, on X₁X₂ again
    qtbot.waitUntil(lambda: window.info.problem.n_inputs == 2, timeout=WAIT)


def test_learning_rate_changes_live_without_reset(qtbot, window):
    _play_until_epochs(qtbot, window, 5)
    generation = window.generation
    box = window.training_controls.learning_rate
    box.setCurrentText("0.3")
    box.lineEdit().editingFinished.emit()
    epoch = window.snapshot.epoch
    qtbot.waitUntil(lambda: window.snapshot.epoch > epoch + 5, timeout=WAIT)
    assert window.worker_thread.worker.trainer.learning_rate == 0.3
    assert window.generation == generation  # same run: no reset
    assert window.training.learning_rate == 0.3
    _pause(qtbot, window)


def test_a_diverging_run_shows_a_message_and_the_app_lives_on(qtbot, window):
    window.on_data_changed(DataSpec(source="reg_plane", n_samples=200))
    qtbot.waitUntil(lambda: window.info.problem.task == "regression", timeout=WAIT)
    window.on_hyperparameter("learning_rate", 50.0)
    window.toggle_play()
    qtbot.waitUntil(lambda: window.message.isVisible(), timeout=WAIT)
    assert "diverged" in window.message.text() and "lower the learning rate" in window.message.text()
    qtbot.waitUntil(lambda: not window.running, timeout=WAIT)
    assert all(np.isfinite(k).all() for k, _ in window.snapshot.weights)
    window.on_hyperparameter("learning_rate", 0.01)
    _play_until_epochs(qtbot, window, window.snapshot.epoch + 3)
    assert not window.message.isVisible()
    _pause(qtbot, window)


def test_reset_reproduces_the_initial_weights(qtbot, window):
    initial = [k.copy() for k, _ in window.snapshot.weights]
    _play_until_epochs(qtbot, window, 5)
    _pause(qtbot, window)
    window.reset()
    qtbot.waitUntil(lambda: window.snapshot.epoch == 0, timeout=WAIT)
    for kernel, start in zip((k for k, _ in window.snapshot.weights), initial):
        np.testing.assert_array_equal(kernel, start)
    assert window.loss_plot.n_points == 0


def test_step_trains_exactly_one_epoch(qtbot, window):
    window.step_action.trigger()
    qtbot.waitUntil(lambda: window.snapshot.epoch == 1 and not window.snapshot.running, timeout=WAIT)
    qtbot.wait(200)
    assert window.snapshot.epoch == 1


def test_space_toggles_play_even_when_a_control_has_focus(qtbot, window):
    fields = [window.data_controls.samples, window.training_controls.learning_rate.lineEdit(),
              window.diagram.header_widgets[0].count, window.chain_rule.text]
    for field in fields:
        field.setFocus()
        qtbot.keyClick(field, Qt.Key_Space)
        qtbot.waitUntil(lambda: window.running, timeout=WAIT)
        qtbot.keyClick(field, Qt.Key_Space)
        qtbot.waitUntil(lambda: not window.running, timeout=WAIT)
    assert window.training_controls.learning_rate.currentText() == "0.03"  # no space typed into it


def test_a_table_shows_predicted_against_actual(qtbot, window):
    window.on_data_changed(DataSpec(source="house_prices", test_fraction=0.2))
    qtbot.waitUntil(lambda: window.info.problem.task == "regression" and window.snapshot.predictions is not None,
                    timeout=WAIT)
    assert window.output.currentWidget() is window.output.tabular
    table = window.output.tabular.table
    assert table.rowCount() == 10 and "price" in table.horizontalHeaderItem(1).text()
    predicted, actual = window.snapshot.predictions
    assert float(table.item(0, 1).text().replace(",", "")) == round(float(actual[0]), 2)
    assert 5 <= actual.min() and actual.max() <= 50  # in the table's own units ($1000s), not standardised


def test_bad_data_settings_show_a_message_and_change_nothing(qtbot, window, tmp_path):
    broken = tmp_path / "broken.csv"
    broken.write_text("a,b,y\n1,2,0\n3,oops,1\n")
    window.load_csv(str(broken), target="y")
    qtbot.waitUntil(window.message.isVisible, timeout=WAIT)
    assert "line 3, column 'b'" in window.message.text()
    assert window.data.source == "circle" and window.info.problem.task == "binary"


def test_closing_while_training_stops_and_joins_the_thread(qtbot, window):
    _play_until_epochs(qtbot, window, 2)
    thread = window.worker_thread.thread
    window.close()
    assert not thread.isRunning()


def test_the_chain_rule_tab_follows_one_sample_backwards(qtbot, window):
    window.output_tabs.setCurrentWidget(window.chain_rule)
    window.chain_rule.sample.setValue(3)
    text = window.chain_rule.text.toPlainText()
    for piece in ("Output layer", "Hidden layer 2", "Hidden layer 1", "dJ/dz3 = ŷ − y", "f′(z2) = 1 − tanh²(z)",
                  "dJ/dW1 = a0ᵀ·dJ/dz1", "dJ/da1 = dJ/dz2·W2ᵀ"):
        assert piece in text
    x = window.info.problem.X_train[3]
    assert f"{x[0]:+.3g}" in text


def test_a_preset_from_the_menu_opens_as_an_untitled_project(qtbot, window):
    action = next(a for a in window.presets_menu.actions() if a.text() == "Lesson - one sigmoid neuron")
    action.trigger()
    qtbot.waitUntil(lambda: window.info.specs[0].source == "gaussian", timeout=WAIT)
    assert window.info.network_layers == [(1, "sigmoid")]  # no hidden layer: the lesson's single neuron
    assert window.project_path is None and not window.is_modified()
    assert window.diagram.header_widgets == [] and not window.diagram.remove_layer.isEnabled()
    _play_until_epochs(qtbot, window, 3)
    _pause(qtbot, window)


def test_hovering_an_edge_or_a_neuron_tells_its_weight_bias_and_gradient(qtbot, window):
    _play_until_epochs(qtbot, window, 3)
    _pause(qtbot, window)
    diagram, snapshot = window.diagram, window.snapshot
    box = diagram.box
    xy = diagram.edge_xy
    middle = box.mapViewToScene(pg_point((xy["x0"][0] + xy["x1"][0]) / 2, (xy["y0"][0] + xy["y1"][0]) / 2))
    text = diagram._describe(middle)
    i, j = int(diagram.edges[0]["src"][0]), int(diagram.edges[0]["dst"][0])
    assert f"W1[{i + 1}, {j + 1}]" in text and f"{snapshot.weights[0][0][i, j]:+.4g}" in text and "|dJ/dW|" in text
    output = diagram.columns[-1]
    centre = box.mapViewToScene(pg_point(output["x"], output["ys"][0]))
    text = diagram._describe(centre)
    assert "output, neuron 1" in text and f"{snapshot.weights[-1][1][0]:+.4g}" in text and "|dJ/dz|" in text


def test_colour_by_weights_recolours_the_edges(qtbot, window):
    _play_until_epochs(qtbot, window, 2)
    _pause(qtbot, window)
    window.weights_view_action.trigger()
    assert window.diagram.mode == "weights"
    strokes = window.diagram.edge_lines.strokes
    drawn = sum(path.elementCount() for _, path in strokes.values())
    assert drawn == 2 * len(window.diagram.edge_xy["x0"])  # every edge drawn once: a move and a line
    diverging = {pen.color().getRgb()[:3] for pen, path in strokes.values() if path.elementCount()}
    assert diverging <= {pen.color().getRgb()[:3] for pen in window.diagram.edge_pens.values()}
    assert window.diagram.colour_bar.axis.labelText == "weight"
    window.weights_view_action.trigger()
    assert window.diagram.mode == "gradients" and "dJ/dW" in window.diagram.colour_bar.axis.labelText


def pg_point(x, y):
    import pyqtgraph as pg
    return pg.Point(x, y)


def test_space_sent_to_the_window_itself_toggles_play(qtbot, window):
    from PySide6.QtGui import QKeyEvent
    from PySide6.QtWidgets import QApplication
    QApplication.sendEvent(window, QKeyEvent(QKeyEvent.KeyPress, Qt.Key_Space, Qt.NoModifier, " "))
    qtbot.waitUntil(lambda: window.running, timeout=WAIT)
    QApplication.sendEvent(window, QKeyEvent(QKeyEvent.KeyPress, Qt.Key_Space, Qt.NoModifier, " "))
    qtbot.waitUntil(lambda: not window.running, timeout=WAIT)


def test_the_cross_on_a_layer_removes_that_layer(qtbot, window):
    window.set_activation(1, "relu")
    qtbot.waitUntil(lambda: window.info.network_layers[1] == (2, "relu"), timeout=WAIT)
    qtbot.mouseClick(window.diagram.header_widgets[0].remove, Qt.LeftButton)
    qtbot.waitUntil(lambda: len(window.info.network_layers) == 2, timeout=WAIT)
    assert window.info.network_layers == [(2, "relu"), (1, "sigmoid")]  # the first went, the second stayed
