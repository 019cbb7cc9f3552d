"""What a person does in the window: build by clicking, train, change settings live, quit."""
import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from core.spec import DataSpec
from window_helpers import WAIT, pause, settled, train


def test_opens_ready_to_train_on_the_default(window):
    session = window.session
    assert window.windowTitle().startswith("Backprop Playground")
    assert session.built.problem.task == "binary"
    assert session.built.layers == ((4, "tanh"), (2, "tanh"), (1, "sigmoid"))
    assert session.training.learning_rate == 0.03 and session.training.batch_size == 10
    assert len(session.built.problem.X_train) == 250 and len(session.built.problem.X_test) == 250
    assert session.snapshot.epoch == 0 and not session.is_modified()


def test_play_moves_the_cost_curve_and_pause_stops_it(qtbot, window):
    session = window.session
    train(qtbot, window, 20)
    costs = session.history["train_loss"]
    assert len(costs) == session.snapshot.epoch >= 20 and costs[-1] < costs[0]
    frozen = len(session.history)
    qtbot.wait(300)
    assert len(session.history) == frozen
    assert len(window.loss_plot.curves["train_loss"].xData) == frozen  # the plot draws the Session's history


def test_clicking_add_layer_adds_a_layer_that_trains(qtbot, window):
    session = window.session
    qtbot.mouseClick(window.diagram.add_layer, Qt.LeftButton)
    assert len(window.diagram.header_widgets) == 3  # at once, before the worker has built it
    settled(qtbot, session)
    assert session.built.layers[:3] == ((4, "tanh"), (2, "tanh"), (2, "tanh"))
    train(qtbot, window, 5)
    assert [w[0].shape for w in session.snapshot.weights] == [(2, 4), (4, 2), (2, 2), (2, 1)]
    qtbot.mouseClick(window.diagram.remove_layer, Qt.LeftButton)
    settled(qtbot, session)
    assert len(session.built.layers) == 3


def test_clicking_plus_and_minus_on_a_layer_changes_its_neurons(qtbot, window):
    session = window.session
    qtbot.mouseClick(window.diagram.header_widgets[0].plus, Qt.LeftButton)
    qtbot.mouseClick(window.diagram.header_widgets[1].minus, Qt.LeftButton)
    settled(qtbot, session)
    assert session.built.layers[:2] == ((5, "tanh"), (1, "tanh"))
    train(qtbot, window, 3)
    assert session.snapshot.weights[0][0].shape == (2, 5)


def test_a_wide_layer_is_drawn_as_a_sample_with_a_count(qtbot, window):
    window.session.set_units(0, 300)
    settled(qtbot, window.session)
    shown = window.diagram.columns[1]
    assert shown["total"] == 300 and len(shown["units"]) <= 16
    assert any("of 300 shown" in label.text() for label in window.diagram.labels)


def test_typed_counts_are_kept_as_typed_or_refused_never_clipped(qtbot, window):
    session = window.session
    count = window.diagram.header_widgets[0].count
    count.setValue(10000)  # five digits: a wide layer, not 1000
    settled(qtbot, session)
    assert session.built.layers[0] == (10000, "tanh")
    samples = window.data_controls.samples
    samples.setValue(99999999999)
    qtbot.waitUntil(window.message.isVisible, timeout=WAIT)
    assert "n_samples must be from 2 to 1,000,000, got 99999999999" in window.message.text()
    settled(qtbot, session)
    assert session.data.n_samples == 500 and samples.value() == 500
    box = window.training_controls.learning_rate
    box.setCurrentText("0")
    box.lineEdit().editingFinished.emit()
    assert "learning_rate must be above 0" in window.message.text()
    assert session.training.learning_rate == 0.03 and box.currentText() == "0.03"


def test_activation_picker_changes_the_layer(qtbot, window):
    combo = window.diagram.header_widgets[1].activation
    combo.setCurrentIndex(combo.findData("relu"))
    combo.activated.emit(combo.currentIndex())
    settled(qtbot, window.session)
    assert window.session.built.layers[1] == (2, "relu")


def test_clicking_an_input_toggles_a_feature(qtbot, window):
    session = window.session
    session.toggle_feature("x1x2")  # what a click on the X₁X₂ input asks for
    settled(qtbot, session)
    assert session.built.problem.n_inputs == 3 and session.data.features == ("x1", "x2", "x1x2")
    points = [p for p in window.diagram.nodes.points() if p.data() == (0, 4)]
    window.diagram._node_clicked(window.diagram.nodes, points)  # the real click handler, on X₁X₂ again
    settled(qtbot, session)
    assert session.built.problem.n_inputs == 2


def test_learning_rate_changes_live_without_reset(qtbot, window):
    session = window.session
    train(qtbot, window, 5)
    generation, epoch = session.generation, session.snapshot.epoch
    box = window.training_controls.learning_rate
    box.setCurrentText("0.3")
    box.lineEdit().editingFinished.emit()
    session.play()
    qtbot.waitUntil(lambda: session.snapshot.epoch > epoch + 5, timeout=WAIT)
    pause(qtbot, window)
    assert session.worker_thread.worker.trainer.learning_rate == 0.3
    assert session.generation == generation and session.history["epoch"][0] == 1  # same run: no reset
    assert session.training.learning_rate == 0.3


def test_a_diverging_run_shows_a_message_and_the_app_lives_on(qtbot, window):
    session = window.session
    session.set_data(DataSpec(source="reg_plane", n_samples=200))
    settled(qtbot, session)
    session.set_hyperparameter("learning_rate", 50.0)
    session.play()
    qtbot.waitUntil(lambda: window.message.isVisible(), timeout=WAIT)
    assert "diverged" in window.message.text() and "lower the learning rate" in window.message.text()
    qtbot.waitUntil(lambda: not session.running, timeout=WAIT)
    assert all(np.isfinite(k).all() for k, _ in session.snapshot.weights)
    session.set_hyperparameter("learning_rate", 0.01)
    train(qtbot, window, session.snapshot.epoch + 3)
    assert not window.message.isVisible()


def test_reset_reproduces_the_initial_weights_and_undo_brings_the_trained_ones_back(qtbot, window):
    session = window.session
    initial = [k.copy() for k, _ in session.snapshot.weights]
    train(qtbot, window, 5)
    trained = [k.copy() for k, _ in session.snapshot.weights]
    window.menu.reset.trigger()
    settled(qtbot, session)
    assert session.snapshot.epoch == 0 and len(session.history) == 0
    for kernel, start in zip((k for k, _ in session.snapshot.weights), initial):
        np.testing.assert_array_equal(kernel, start)
    window.menu.undo.trigger()
    settled(qtbot, session)
    for kernel, before in zip((k for k, _ in session.snapshot.weights), trained):
        np.testing.assert_array_equal(kernel, before)


def test_step_trains_exactly_one_epoch_and_every_view_shows_that_epoch(qtbot, window):
    session = window.session
    session.set_data(DataSpec(source="iris", test_fraction=0.3))
    settled(qtbot, session)
    window.menu.step.trigger()
    qtbot.waitUntil(lambda: session.snapshot.epoch == 1 and not session.snapshot.running, timeout=WAIT)
    qtbot.wait(200)
    assert session.snapshot.epoch == 1 and window.epoch_label.text() == "epoch 1"
    net = session.current_network()  # the confusion matrix counts the weights of epoch 1
    problem = session.built.problem
    predicted = problem.preprocessing.labels(net.predict(problem.X_test))
    np.testing.assert_array_equal(window.output.confusion.counts.diagonal(),
                                  [np.sum((predicted == k) & (problem.Y_test == k)) for k in range(3)])


def test_space_toggles_play_even_when_a_control_has_focus(qtbot, window):
    session = window.session
    fields = [window.data_controls.samples, window.training_controls.learning_rate.lineEdit(),
              window.diagram.header_widgets[0].count, window.chain_rule.text]
    for field in fields:
        field.setFocus()
        qtbot.keyClick(field, Qt.Key_Space)
        qtbot.waitUntil(lambda: session.running, timeout=WAIT)
        qtbot.keyClick(field, Qt.Key_Space)
        qtbot.waitUntil(lambda: not session.running, timeout=WAIT)
    assert window.training_controls.learning_rate.currentText() == "0.03"  # no space typed into it


def test_a_regression_table_shows_predicted_against_actual_in_its_units(qtbot, window):
    session = window.session
    session.set_data(DataSpec(source="house_prices", test_fraction=0.2))
    settled(qtbot, session)
    qtbot.waitUntil(lambda: session.snapshot.predictions is not None, timeout=WAIT)
    assert window.output.currentWidget() is window.output.tabular
    table = window.output.tabular.table
    assert table.rowCount() == 10 and "price" in table.horizontalHeaderItem(1).text()
    predicted, actual = session.snapshot.predictions
    assert float(table.item(0, 1).text().replace(",", "")) == round(float(actual[0]), 2)
    assert 5 <= actual.min() and actual.max() <= 50  # in the table's own units ($1000s), not standardised


def test_a_regressions_scores_cover_its_whole_test_split_though_fewer_points_are_drawn(qtbot, window, tmp_path):
    from core.metrics import regression_scores
    session = window.session
    rng = np.random.default_rng(0)
    X = rng.normal(size=(6000, 2))
    path = tmp_path / "many.csv"
    path.write_text("a,b,y\n" + "".join(f"{a:.4f},{b:.4f},{3 * a - b + 10:.4f}\n" for a, b in X))
    session.set_data(DataSpec(source="csv", csv_path=str(path), test_fraction=0.5))
    settled(qtbot, session)
    qtbot.waitUntil(lambda: session.snapshot.predictions is not None, timeout=WAIT)
    predicted, actual = session.snapshot.predictions
    assert len(actual) == 3000  # the whole test split, scored
    view = window.output.tabular
    scores = regression_scores(predicted, actual)
    assert f"RMSE {scores.rmse:.4g}" in view.scores.text() and "(3,000 rows)" in view.scores.text()
    assert len(view.scatter.data) == 2000  # drawn: a fair sample


def test_a_classification_table_shows_a_confusion_matrix_and_each_class_accuracy(qtbot, window):
    session = window.session
    session.set_data(DataSpec(source="iris", test_fraction=0.3))
    settled(qtbot, session)
    session.set_hyperparameter("optimizer", "adam")
    train(qtbot, window, 30)
    confusion = window.output.confusion
    assert window.output.currentWidget() is confusion
    assert [confusion.table.verticalHeaderItem(k).text() for k in range(3)] == ["setosa", "versicolor", "virginica"]
    counts = confusion.counts
    assert counts.sum() == len(session.built.problem.X_test) == 45
    row = int(np.argmax(counts.sum(axis=1)))
    shown = confusion.table.item(row, 3).text()
    assert shown == f"{counts[row, row] / counts[row].sum():.1%}"


def test_closing_while_training_stops_and_joins_the_thread(qtbot, window):
    session = window.session
    session.play()
    qtbot.waitUntil(lambda: session.snapshot.epoch >= 2, timeout=WAIT)
    thread = session.worker_thread.thread
    session.mark_saved()
    window.close()
    assert not thread.isRunning()


def test_the_chain_rule_tab_follows_one_sample_backwards(qtbot, window):
    window.output_tabs.setCurrentWidget(window.chain_rule)
    window.chain_rule.index.setValue(4)  # the fourth training sample
    assert window.session.trace_state.sample == ("train", 3)
    text = window.chain_rule.text.toPlainText()
    for piece in ("Output layer (Sigmoid), backward", "Hidden layer 2 (Tanh)", "Hidden layer 1 (Tanh)",
                  "∂J/∂z3 = (ŷ − y)/n", "local f′(z2) = 1 − tanh²(z)", "∂J/∂W1 = a0ᵀ·∂J/∂z1", "∂J/∂a1 = ∂J/∂z2·W2ᵀ",
                  "(2 × 4)"):
        assert piece in text, piece
    x = window.session.built.problem.X_train[3]
    assert f"{x[0]:+.3g}" in text
    scroll = window.chain_rule.text.verticalScrollBar()
    scroll.setValue(scroll.maximum())  # read down to the first layer, then choose another sample:
    assert scroll.value() > 0
    window.chain_rule.index.setValue(9)
    assert scroll.value() == 0 and window.chain_rule.text.toPlainText().startswith("Sample 9 of the training set")


def test_a_preset_from_the_menu_opens_as_an_untitled_project(qtbot, window):
    session = window.session
    action = next(a for a in window.menu.presets_menu.actions() if a.text() == "Lesson - one sigmoid neuron")
    action.trigger()
    qtbot.waitUntil(lambda: session.built.specs[0].source == "gaussian", timeout=WAIT)
    settled(qtbot, session)
    assert session.built.layers == ((1, "sigmoid"),)  # no hidden layer: the lesson's single neuron
    assert session.project_path is None and not session.is_modified()
    assert window.diagram.header_widgets == [] and not window.diagram.remove_layer.isEnabled()
    train(qtbot, window, 3)


def test_a_full_batch_preset_shows_its_batch_size_and_trains(qtbot, window):
    session = window.session
    action = next(a for a in window.menu.presets_menu.actions() if "two one-neuron" in a.text())
    action.trigger()
    qtbot.waitUntil(lambda: session.built.specs[2].batch_size == "all", timeout=WAIT)
    settled(qtbot, session)
    assert window.training_controls.batch_size.currentText() == "all"
    train(qtbot, window, 3)
    assert session.history["train_accuracy"].size == len(session.history)  # accuracy shown, whatever the loss


def test_hovering_an_edge_or_a_neuron_tells_its_weight_bias_and_gradient(qtbot, window):
    session = window.session
    train(qtbot, window, 3)
    diagram, snapshot = window.diagram, session.snapshot
    box = diagram.box
    xy = diagram.edge_xy
    middle = box.mapViewToScene(pg.Point((xy["x0"][0] + xy["x1"][0]) / 2, (xy["y0"][0] + xy["y1"][0]) / 2))
    text = diagram._describe(diagram._item_at(middle))
    i, j = int(diagram.edges[0]["src"][0]), int(diagram.edges[0]["dst"][0])
    assert f"W1[{i + 1}, {j + 1}]" in text and f"{snapshot.weights[0][0][i, j]:+.4g}" in text and "|dJ/dW|" in text
    output = diagram.columns[-1]
    centre = box.mapViewToScene(pg.Point(output["x"], output["ys"][0]))
    text = diagram._describe(diagram._item_at(centre))
    assert "output, neuron 1" in text and f"{snapshot.weights[-1][1][0]:+.4g}" in text and "|dJ/dz|" in text


def test_colour_by_weights_recolours_the_edges_and_is_one_setting(qtbot, window):
    session = window.session
    train(qtbot, window, 2)
    window.menu.colour_by_weights.trigger()
    assert session.view.colour_by == "weights" and window.diagram.mode == "weights"
    assert next(b for b in window.diagram.colour_by.buttons() if b.text() == "weights").isChecked()
    strokes = window.diagram.edge_lines.strokes
    drawn = sum(path.elementCount() for _, path in strokes.values())
    assert drawn == 2 * len(window.diagram.edge_xy["x0"])  # every edge drawn once: a move and a line
    assert window.diagram.colour_bar.axis.labelText == "weight"
    next(b for b in window.diagram.colour_by.buttons() if b.text() == "gradients").click()
    assert session.view.colour_by == "gradients" and not window.menu.colour_by_weights.isChecked()
    assert "dJ/dW" in window.diagram.colour_bar.axis.labelText


def test_view_menu_log_scale_and_test_points_work_from_menu_and_widget_alike(qtbot, window):
    session = window.session
    window.menu.log_scale.trigger()
    assert session.view.log_scale and window.loss_plot.log_scale.isChecked()
    assert window.loss_plot.cost.getAxis("left").logMode
    window.loss_plot.log_scale.click()
    assert not session.view.log_scale and not window.menu.log_scale.isChecked()
    window.menu.show_test.trigger()
    assert session.view.show_test and window.output.plane.show_test.isChecked()
    assert window.output.plane.test_points.isVisible()
    window.output.plane.show_test.click()
    assert not session.view.show_test and not window.output.plane.test_points.isVisible()


def test_space_sent_to_the_window_itself_toggles_play(qtbot, window):
    from PySide6.QtGui import QKeyEvent
    from PySide6.QtWidgets import QApplication
    session = window.session
    QApplication.sendEvent(window, QKeyEvent(QKeyEvent.KeyPress, Qt.Key_Space, Qt.NoModifier, " "))
    qtbot.waitUntil(lambda: session.running, timeout=WAIT)
    QApplication.sendEvent(window, QKeyEvent(QKeyEvent.KeyPress, Qt.Key_Space, Qt.NoModifier, " "))
    qtbot.waitUntil(lambda: not session.running, timeout=WAIT)


def test_the_cross_on_a_layer_removes_that_layer(qtbot, window):
    session = window.session
    session.set_activation(1, "relu")
    settled(qtbot, session)
    qtbot.mouseClick(window.diagram.header_widgets[0].remove, Qt.LeftButton)
    settled(qtbot, session)
    assert session.built.layers == ((2, "relu"), (1, "sigmoid"))  # the first went, the second stayed
