"""Check gradients: core.gradcheck run as a background job, its report shown per layer in plain words."""
import threading

import pytest
from PySide6.QtCore import Qt

from core import activations
from core.spec import DataSpec, NetworkSpec, prepare
from playground.training.jobs import JobRunner
from playground.widgets.gradcheck_view import COLOURS, GradcheckDialog, GradcheckView, gradcheck_job

WAIT = 20000


@pytest.fixture
def view(qtbot):
    view = GradcheckView()
    qtbot.addWidget(view)
    view.show()
    return view


@pytest.fixture
def runner(view):
    runner = JobRunner("gradcheck", min_interval=0)
    view.attach(runner)
    yield runner
    assert runner.close()


def rows(view):
    """The table as shown: [(layer, error, reading, meaning, background colour), ...]."""
    table = view.table
    return [tuple(table.item(r, c).text() for c in range(4)) + (table.item(r, 2).background().color().getRgb()[:3],)
            for r in range(table.rowCount())]


def check(qtbot, view, runner, net, problem, loss):
    with qtbot.waitSignal(runner.finished, timeout=WAIT):
        runner.start(gradcheck_job(net.copy(), problem.X_train, problem.Y_train, loss))
        view.show_started()
        assert view.progress.isVisible() and not view.again.isEnabled()


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_a_correct_network_is_excellent_in_every_layer(qtbot, view, runner, dtype):
    problem = prepare(DataSpec(source="spiral3"))
    net = NetworkSpec(hidden=((6, "tanh"), (5, "sigmoid"), (4, "softplus")), dtype=dtype).build(problem)
    check(qtbot, view, runner, net, problem, "cross_entropy")
    shown = rows(view)
    assert [r[0] for r in shown] == ["hidden layer 1 (18 entries)", "hidden layer 2 (35 entries)",
                                     "hidden layer 3 (24 entries)", "output layer (15 entries)"]
    for layer, error, reading, meaning, colour in shown:
        assert float(error) < 1e-7 and reading == "excellent" and colour == COLOURS["excellent"]
        assert meaning == "backprop and finite differences agree to rounding error"
    summary = view.summary.text()
    assert summary.startswith("Largest error ") and "on 4 training samples: excellent" in summary
    assert not view.progress.isVisible() and view.again.isEnabled()


def test_a_wrong_derivative_shows_where_it_is(qtbot, view, runner, monkeypatch):
    problem = prepare(DataSpec())
    net = NetworkSpec(hidden=((4, "tanh"),)).build(problem)
    monkeypatch.setattr(activations.Tanh, "backward", lambda self, z, a, grad_a: grad_a * (1.0 - a))  # not 1 − a²
    check(qtbot, view, runner, net, problem, "bce")
    (hidden, _, hidden_reading, _, hidden_colour), (output, out_error, out_reading, _, _) = rows(view)
    assert hidden.startswith("hidden layer 1") and hidden_reading in ("doubtful", "wrong")
    assert hidden_colour == COLOURS[hidden_reading]
    assert output.startswith("output layer") and out_reading == "excellent"  # the output's inputs are still right


@pytest.fixture
def go_on():
    """Lets a held job go on; set at the end of the test whatever happened, so its thread can end."""
    event = threading.Event()
    yield event
    event.set()


def test_progress_shows_while_it_runs_and_stop_stops_it(qtbot, view, runner, go_on):
    problem = prepare(DataSpec(source="spiral3"))
    net = NetworkSpec(hidden=((16, "tanh"),)).build(problem)
    waiting = threading.Event()

    def held(job, after=3):  # the check, held after a few steps until the test has clicked Stop
        for i, step in enumerate(job):
            yield step
            if i + 1 == after:
                waiting.set()
                assert go_on.wait(WAIT / 1000)
        return None

    fractions = []
    runner.progress.connect(lambda fraction, _: fractions.append(fraction))
    runner.start(held(gradcheck_job(net.copy(), problem.X_train, problem.Y_train, "cross_entropy")))
    view.show_started()
    assert waiting.wait(WAIT / 1000)
    qtbot.waitUntil(lambda: len(fractions) == 3, timeout=WAIT)
    assert fractions == [1 / 99, 2 / 99, 3 / 99]  # of 2·16 + 16 + 16·3 + 3 entries compared
    assert view.progress.value() == round(1000 * 3 / 99)
    qtbot.mouseClick(view.cancel, Qt.LeftButton)
    with qtbot.waitSignal(runner.cancelled, timeout=WAIT):
        go_on.set()
    assert view.summary.text() == "Stopped." and view.table.rowCount() == 0 and view.again.isEnabled()


def test_a_failure_is_said_in_the_summary(qtbot, view, runner):
    problem = prepare(DataSpec())
    net = NetworkSpec().build(problem)
    with qtbot.waitSignal(runner.failed, timeout=WAIT):
        runner.start(gradcheck_job(net.copy(), problem.X_train[:, :1], problem.Y_train, "bce"))
    assert view.summary.text().startswith("The gradients could not be checked: ")


def test_check_again_asks_and_closing_the_dialog_stops_the_check(qtbot):
    dialog = GradcheckDialog()
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.view.check_requested):
        qtbot.mouseClick(dialog.view.again, Qt.LeftButton)
    with qtbot.waitSignal(dialog.view.cancel_requested):
        dialog.reject()
