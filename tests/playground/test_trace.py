"""Backprop to see and touch: follow one sample on the diagram, neuron pictures, type or drag a
weight, draw the data."""
import json

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QInputDialog

from core import explain, io, losses
from core.project import load_project
from core.spec import DataSpec
from window_helpers import WAIT, settled, train


def _view_point(plot_widget, x, y) -> QPoint:
    """Where the data point (x, y) is drawn, in the plot widget's own pixels."""
    scene = plot_widget.getViewBox().mapViewToScene(pg.Point(x, y))
    return plot_widget.mapFromScene(scene)


def _click(qtbot, plot_widget, x, y, button=Qt.LeftButton, modifiers=Qt.NoModifier):
    qtbot.mouseClick(plot_widget.viewport(), button, modifiers, _view_point(plot_widget, x, y))


def test_clicking_a_point_follows_that_sample_and_the_trace_is_the_chain_rule(qtbot, window):
    session = window.session
    train(qtbot, window, 5)
    problem = session.built.problem
    i = 17
    x, y = problem.points_train[i]
    _click(qtbot, window.output.plane.plot, x, y)
    assert session.trace_state.sample == ("train", i)
    expected = explain.chain_rule(session.current_network(), problem.X_train[i], problem.Y_train[i], "bce")
    for got, want in zip(session.trace.layers, expected.layers):
        np.testing.assert_array_equal(got.grad_z, want.grad_z)
        np.testing.assert_array_equal(got.d_kernel, want.d_kernel)
    assert window.trace_bar.isVisible() and "sample 18" in window.trace_bar.title.text()
    np.testing.assert_array_equal(window.output.plane.ring.at, [[x, y]])  # the chosen point is ringed
    shown = window.diagram.trace_values[-1]  # the output neuron shows dJ/dz for that sample
    np.testing.assert_allclose(shown, expected.layers[-1].grad_z)


def test_stepping_backward_walks_from_the_output_to_the_first_layer_one_at_a_time(qtbot, window):
    session = window.session
    session.set_trace(sample=("train", 3), mode="backward")
    diagram = window.diagram
    reached = []
    for _ in range(4):
        window.trace_bar.next.click()
        layer = session.trace_state.layer
        reached.append(layer)
        shade = diagram.trace_overlay.shade.rect()
        assert abs(shade.center().x() - diagram.columns[layer + 1]["x"]) < 1e-9  # that layer is highlighted
        assert "backward" in window.trace_bar.formula.toPlainText()
    assert reached == [2, 1, 0, 0]  # output, hidden 2, hidden 1, and it stops at the first layer
    text = window.trace_bar.formula.toPlainText()
    assert "Hidden layer 1 (Tanh), backward" in text and "∂J/∂a0 = ∂J/∂z1·W1ᵀ" in text
    window.trace_bar.back.click()
    assert session.trace_state.layer == 1
    window.trace_bar.mode_buttons["forward"].click()
    window.trace_bar.next.click()
    assert session.trace_state.layer == 0 and "z1 = a0·W1 + b1" in window.trace_bar.formula.toPlainText()


def test_the_animation_plays_the_whole_pass_and_stops_at_its_end(qtbot, window):
    session = window.session
    session.set_trace(sample=("train", 0), mode="forward")
    window.trace_bar.speed.setValue(4)  # the fastest
    window.trace_bar.play.click()
    qtbot.waitUntil(lambda: not window.trace_bar.play.isChecked(), timeout=WAIT)
    assert session.trace_state.layer == 2


def test_double_clicking_an_edge_types_its_weight_and_changes_the_prediction(qtbot, window, monkeypatch):
    session = window.session
    train(qtbot, window, 3)
    diagram = window.diagram
    xy = diagram.edge_xy
    k = len(xy["x0"]) - 1  # an edge into the output neuron
    middle = diagram.box.mapViewToScene(pg.Point((xy["x0"][k] + xy["x1"][k]) / 2, (xy["y0"][k] + xy["y1"][k]) / 2))
    layer, row, column, value = diagram._weight_at(middle)
    assert (layer, column) == (2, 0)
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **kw: (repr(value + 5.0), True))
    point = diagram.view.mapFromScene(middle)
    qtbot.mouseDClick(diagram.view.viewport(), Qt.LeftButton, pos=point)
    qtbot.waitUntil(lambda: session.snapshot.weights[2][0][row, 0] == value + 5.0, timeout=WAIT)
    X = session.built.problem.X_test[:20]
    edited = session.current_network().predict(X)
    problem = session.built.problem  # the cost readout measures the edited network at once
    cost = session.current_network().forward_loss(problem.X_train, problem.Y_train.reshape(-1, 1), losses.get("bce"))
    qtbot.waitUntil(lambda: window.loss_plot.readout.text().startswith(f"after the edit: train cost {cost:.3g}"),
                    timeout=WAIT)
    assert session.undo_stack.undoText().startswith(f"set W3[{row + 1}, 1]")
    session.undo_stack.undo()
    qtbot.waitUntil(lambda: session.snapshot.weights[2][0][row, 0] == value, timeout=WAIT)
    assert not np.allclose(session.current_network().predict(X), edited)


@pytest.mark.parametrize("typed, taken", [("2500000", 2500000.0), ("1e-7", 1e-7), ("0.12345678901", 0.12345678901),
                                          ("-3.5e+300", -3.5e300), ("abc", None), ("inf", None), ("nan", None)])
def test_a_typed_weight_is_taken_as_typed_or_refused_with_a_message(qtbot, window, monkeypatch, typed, taken):
    session = window.session
    train(qtbot, window, 2)
    before = float(session.snapshot.weights[0][0][0, 1])
    notices = []
    session.notice.connect(notices.append)
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **kw: (typed, True))
    window.diagram.weight_edit_requested.emit(0, 0, 1, before)
    if taken is None:
        assert notices and "not a finite number" in notices[-1]
        qtbot.wait(100)
        assert session.snapshot.weights[0][0][0, 1] == before and not session.undo_stack.canUndo()
    else:
        qtbot.waitUntil(lambda: session.snapshot.weights[0][0][0, 1] == taken, timeout=WAIT)


def test_dragging_an_edge_up_raises_its_weight_in_one_undo_step(qtbot, window):
    session = window.session
    train(qtbot, window, 2)
    diagram = window.diagram
    xy = diagram.edge_xy
    middle = diagram.box.mapViewToScene(pg.Point((xy["x0"][0] + xy["x1"][0]) / 2, (xy["y0"][0] + xy["y1"][0]) / 2))
    layer, row, column, value = diagram._weight_at(middle)
    start = diagram.view.mapFromScene(middle)
    viewport = diagram.view.viewport()
    others = [w.copy() for w, _ in session.snapshot.weights]
    # real events, through every widget that sees them (the view passes presses on to its parents)
    QTest.mousePress(viewport, Qt.LeftButton, Qt.NoModifier, start)
    for dy in (10, 20, 40):
        QTest.mouseMove(viewport, start - QPoint(0, dy))
    QTest.mouseRelease(viewport, Qt.LeftButton, Qt.NoModifier, start - QPoint(0, 40))
    expected = value + 40 * 0.01 * max(1.0, abs(value))
    qtbot.waitUntil(lambda: abs(session.snapshot.weights[layer][0][row, column] - expected) < 1e-12, timeout=WAIT)
    assert session.undo_stack.count() == 1
    others[layer][row, column] = expected
    for now, before in zip((w for w, _ in session.snapshot.weights), others):
        np.testing.assert_array_equal(now, before)  # that weight alone


def test_an_edge_answers_the_pointer_a_few_pixels_away(qtbot, window):
    diagram = window.diagram
    xy = diagram.edge_xy
    middle = diagram.box.mapViewToScene(pg.Point((xy["x0"][0] + xy["x1"][0]) / 2, (xy["y0"][0] + xy["y1"][0]) / 2))
    assert diagram._item_at(middle + pg.Point(0, 6))[0] == "edge"
    assert "double-click to type it" in diagram._describe(diagram._item_at(middle))


def test_hidden_neurons_show_what_they_compute_and_one_hovered_shows_large(qtbot, window):
    session = window.session
    train(qtbot, window, 5)
    qtbot.waitUntil(lambda: session.snapshot.neuron_grids is not None, timeout=WAIT)
    grids = session.snapshot.neuron_grids
    assert [g.shape for g in grids] == [(32, 32, 4), (32, 32, 2)]
    diagram = window.diagram
    assert diagram.pictures.isVisible() and diagram.pictures.image is not None
    net = session.current_network()  # a picture is the neuron's activation over the plane
    from playground.training.worker import GRID, grid_points
    points = grid_points(window.output.plane.extent, GRID)
    net.predict(session.built.problem.preprocessing.encode(points))
    np.testing.assert_allclose(grids[0][:, :, 1], net.layers[0].a[:, 1].reshape(GRID, GRID)[::2, ::2])
    diagram.neuron_hovered.emit(1, 0, 0)
    assert window.output.plane.neuron.isVisible() and "Hidden layer 2, neuron 1" in window.output.plane.caption.text()
    diagram.neuron_hovered.emit(-1, -1, -1)
    assert not window.output.plane.neuron.isVisible()
    window.menu.pictures.trigger()
    assert not session.view.pictures and not diagram.pictures.isVisible()


def test_drawn_points_train_live_and_are_saved_in_the_project(qtbot, window, tmp_path):
    session = window.session
    train(qtbot, window, 3)
    trained = len(session.history)
    plane = window.output.plane
    plane.draw.click()
    _click(qtbot, plane.plot, 1.0, 1.0)  # the first click turns the shown points into a drawing
    settled(qtbot, session)
    assert session.data.source == "drawn" and session.data.points[-1][2] == 1
    assert len(session.history) >= trained  # and the network trained so far trains on with them
    n, run, epochs = len(session.data.points), session.run_id, len(session.history)
    assert n == 251  # the 250 training points, and the new one
    _click(qtbot, plane.plot, -1.0, 2.0, modifiers=Qt.ShiftModifier)  # the other class
    settled(qtbot, session)
    assert session.data.points[-1][:2] == (-1.0, 2.0) or np.allclose(session.data.points[-1][:2], (-1.0, 2.0), atol=0.2)
    assert session.data.points[-1][2] == 0
    assert session.run_id == run and len(session.history) >= epochs  # the network trains on: not a fresh one
    x, y, _ = session.data.points[-1]
    _click(qtbot, plane.plot, x, y, button=Qt.RightButton)
    settled(qtbot, session)
    assert len(session.data.points) == n
    assert window.files.write(tmp_path / "drawn.json")
    assert load_project(tmp_path / "drawn.json").data.points == session.data.points


def test_drawing_on_a_regression_adds_points_of_the_value_chosen_and_keeps_the_data(qtbot, window, tmp_path):
    session = window.session
    session.set_data(DataSpec(source="reg_plane"))
    train(qtbot, window, 2)
    plane = window.output.plane
    plane.draw.click()
    assert plane.value.isVisible() and not any(button.isVisible() for button in plane.class_buttons)
    plane.value.setValue(0.5)
    _click(qtbot, plane.plot, 1.0, 1.0)
    settled(qtbot, session)
    assert session.data.source == "drawn" and session.data.task == "regression"
    assert len(session.data.points) == 251 and session.data.points[-1][2] == 0.5  # the 250 points, and the new one
    assert session.built.problem.task == "regression"
    _click(qtbot, plane.plot, -1.0, 2.0, modifiers=Qt.ShiftModifier)  # the opposite value
    settled(qtbot, session)
    assert session.data.points[-1][2] == -0.5 and len(session.data.points) == 252
    assert window.files.write(tmp_path / "drawn.json")
    loaded = load_project(tmp_path / "drawn.json").data
    assert loaded.points == session.data.points and loaded.task == "regression"


def test_erasing_the_point_followed_stops_following_instead_of_jumping_to_another(qtbot, window):
    session = window.session
    session.set_data(DataSpec(source="drawn", points=((0.0, 0.0, 0), (3.0, 3.0, 1), (-3.0, 3.0, 1), (3.0, -3.0, 0),
                                                      (1.0, -1.0, 1)), test_fraction=0.0))
    train(qtbot, window, 2)
    points = session.built.problem.points_train
    followed = int(np.flatnonzero((points == (3.0, 3.0)).all(axis=1))[0])
    session.set_trace(sample=("train", followed))
    session.erase_point(1.0, -1.0, 0.1)  # another point: the followed one is found again
    settled(qtbot, session)
    row = session.trace_state.sample[1]
    assert tuple(session.built.problem.points_train[row]) == (3.0, 3.0)
    session.erase_point(3.0, 3.0, 0.1)  # the followed point itself
    settled(qtbot, session)
    assert session.trace_state.sample is None and session.trace is None
    assert "followed was erased" in window.message.text()


def test_the_lesson_preset_cost_falls_at_every_epoch_in_the_window(qtbot, window):
    session = window.session
    action = next(a for a in window.menu.presets_menu.actions() if "one neuron on 12 raw" in a.text())
    action.trigger()
    qtbot.waitUntil(lambda: session.built.specs[2].batch_size == "all" and not session.busy, timeout=WAIT)
    settled(qtbot, session)
    train(qtbot, window, 200)
    costs = session.history["train_loss"][:200]
    assert len(costs) == 200 and np.all(np.diff(costs) < 0)


def test_a_model_exported_with_drawn_data_still_answers_raw_points(qtbot, window, tmp_path):
    session = window.session
    session.set_data(DataSpec(source="drawn", points=((0.0, 0.0, 0), (3.0, 3.0, 1), (-3.0, 3.0, 1), (3.0, -3.0, 0))))
    train(qtbot, window, 3)
    io.save(session.current_network(), tmp_path / "m.json", preprocessing=session.built.problem.preprocessing)
    model = io.load(tmp_path / "m.json")
    points = np.array([[0.0, 0.0], [3.0, 3.0]])
    np.testing.assert_allclose(model.predict_rows(points),
                               session.current_network().predict(session.built.problem.preprocessing.encode(points)))
    assert json.loads((tmp_path / "m.json").read_text())["preprocessing"]["feature_map"] == ["x1", "x2"]


def test_the_pointer_moving_over_pictures_neurons_and_edges_is_answered(qtbot, window):
    """Real mouse moves through the scene's hover machinery (a graphics item that shadowed a Qt method
    once crashed it here)."""
    train(qtbot, window, 3)
    qtbot.waitUntil(lambda: window.diagram.pictures.isVisible(), timeout=WAIT)
    diagram = window.diagram
    viewport = diagram.view.viewport()
    hovered = []
    diagram.neuron_hovered.connect(lambda layer, position, unit: hovered.append((layer, position)))
    corner = 0.4 * diagram.picture_size  # inside the picture, well beyond a circle's reach
    for column in diagram.columns:
        for y in column["ys"]:
            point = QPointF(diagram.view.mapFromScene(diagram.box.mapViewToScene(pg.Point(column["x"], y))))
            for at in (point, point + QPointF(3, 3), point + QPointF(corner, -corner), point):
                QApplication.sendEvent(viewport, QMouseEvent(QEvent.MouseMove, at, viewport.mapToGlobal(at),
                                                             Qt.NoButton, Qt.NoButton, Qt.NoModifier))
                qtbot.wait(15)  # the scene takes at most 100 moves a second
    assert (0, 0) in hovered and (1, 1) in hovered
    corners = [diagram._item_at(diagram.view.mapToScene(QPointF(
        diagram.view.mapFromScene(diagram.box.mapViewToScene(pg.Point(column["x"], y)))).toPoint()
        + QPoint(round(corner), -round(corner)))) for column in diagram.columns[1:-1] for y in column["ys"]]
    assert all(found is not None and found[0] == "neuron" for found in corners)


def test_a_wide_layers_picture_hovered_is_named_by_its_neuron_not_its_place(qtbot, window):
    session = window.session
    session.set_units(0, 64)  # more neurons than are drawn: the drawn ones skip some
    settled(qtbot, session)
    train(qtbot, window, 2)
    diagram = window.diagram
    qtbot.waitUntil(lambda: diagram.pictures.isVisible(), timeout=WAIT)
    column = diagram.columns[1]
    position = 5
    unit = int(column["units"][position])
    assert unit != position
    viewport = diagram.view.viewport()
    at = QPointF(diagram.view.mapFromScene(diagram.box.mapViewToScene(pg.Point(column["x"], column["ys"][position]))))
    QApplication.sendEvent(viewport, QMouseEvent(QEvent.MouseMove, at, viewport.mapToGlobal(at), Qt.NoButton,
                                                 Qt.NoButton, Qt.NoModifier))
    qtbot.waitUntil(lambda: window.output.plane.neuron.isVisible(), timeout=WAIT)
    assert f"Hidden layer 1, neuron {unit + 1}:" in window.output.plane.caption.text()


def test_a_regression_tables_point_or_row_is_followed_and_marked(qtbot, window):
    session = window.session
    session.set_data(DataSpec(source="house_prices", test_fraction=0.2))
    train(qtbot, window, 3)
    qtbot.waitUntil(lambda: session.snapshot.predictions is not None, timeout=WAIT)
    view = window.output.tabular
    predicted, actual = session.snapshot.predictions
    points = np.column_stack([actual, predicted]) / np.ptp(np.column_stack([actual, predicted]), axis=0)
    apart = np.hypot(*(points[:, None] - points[None]).T) + np.eye(len(points)) * 1e9
    i = int(apart.min(axis=0).argmax())  # the point farthest from any other: a click finds no other
    _click(qtbot, view.plot, actual[i], predicted[i])
    assert session.trace_state.sample == ("test", i)
    qtbot.waitUntil(lambda: len(view.ring.at) == 1, timeout=WAIT)
    np.testing.assert_array_equal(view.ring.at, [[actual[i], predicted[i]]])
    view.table.cellClicked.emit(4, 0)  # a row of the table
    assert session.trace_state.sample == ("test", 4)
    assert [index.row() for index in view.table.selectionModel().selectedRows()] == [4]
    session.set_trace(sample=("test", 49))  # a sample the table does not list: no row stays selected
    assert view.table.selectionModel().selectedRows() == []


def test_a_classification_tables_row_is_followed(qtbot, window):
    session = window.session
    session.set_data(DataSpec(source="iris", test_fraction=0.3))
    train(qtbot, window, 3)
    qtbot.waitUntil(lambda: session.snapshot.predictions is not None, timeout=WAIT)
    rows = window.output.confusion.rows
    qtbot.waitUntil(lambda: rows.rowCount() == 10, timeout=WAIT)
    names = session.built.problem.class_names
    actual = np.asarray(session.built.problem.Y_test[:10]).astype(int).ravel()
    assert [rows.item(r, 1).text() for r in range(10)] == [names[k] for k in actual]
    rows.cellClicked.emit(2, 1)
    assert session.trace_state.sample == ("test", 2) and session.trace is not None
    assert [index.row() for index in rows.selectionModel().selectedRows()] == [2]


def test_neuron_pictures_of_a_2d_run_do_not_stay_on_a_tables_network(qtbot, window):
    session = window.session
    train(qtbot, window, 2)
    qtbot.waitUntil(lambda: window.diagram.pictures.isVisible(), timeout=WAIT)
    session.set_data(DataSpec(source="house_prices"))
    settled(qtbot, session)
    qtbot.waitUntil(lambda: session.snapshot.predictions is not None, timeout=WAIT)
    assert window.diagram.pictures.grids is None and not window.diagram.pictures.isVisible()
