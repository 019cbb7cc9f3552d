"""The loss-landscape view: computed by a background job, the current cost at its centre, rows drawn as
they come, the picture before kept when a computation is cancelled or fails."""
import threading
from types import SimpleNamespace

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from core.checkpoints import CheckpointStore
from core.spec import DataSpec, NetworkSpec, TrainingConfig, prepare
from playground.training.jobs import JobRunner
from playground.widgets.landscape_view import LandscapeOptions, LandscapeView, landscape_job

WAIT = 10000


@pytest.fixture(scope="module")
def run():
    """The app's default problem trained 40 epochs, a checkpoint at every epoch."""
    problem = prepare(DataSpec())
    net = NetworkSpec().build(problem)
    trainer = TrainingConfig(optimizer="adam", learning_rate=0.01).build(net, problem)
    store = CheckpointStore()
    store.add(0, net.get_weights())
    trainer.fit(problem.X_train, problem.Y_train, 40, callback=lambda s: store.add(s.epoch, net.get_weights()))
    cost, _ = trainer.evaluate(net.check_inputs(problem.X_train), trainer.targets(problem.Y_train))
    return SimpleNamespace(problem=problem, net=net, trainer=trainer, store=store, cost=cost)


def job(run, options=LandscapeOptions(), checkpoints=None):
    return landscape_job(run.net.copy(), list(run.store) if checkpoints is None else checkpoints,
                         run.problem.X_train, run.problem.Y_train, run.trainer.loss.name, options, epoch=40)


def complete(generator):
    """Run a job here, to the end: its partials and its result."""
    partials = []
    try:
        while True:
            partials.append(next(generator))
    except StopIteration as done:
        return partials, done.value


@pytest.fixture
def view(qtbot):
    view = LandscapeView()
    qtbot.addWidget(view)
    view.resize(700, 500)
    view.show()
    return view


@pytest.fixture
def runner(view):
    runner = JobRunner("landscape", min_interval=0)
    view.attach(runner)
    yield runner
    assert runner.close()


@pytest.mark.parametrize("plane", ["pca", "random"])
def test_the_view_shows_the_current_cost_at_its_centre(qtbot, run, view, runner, plane):
    with qtbot.waitSignal(runner.finished, timeout=WAIT):
        runner.start(job(run, LandscapeOptions(plane=plane, resolution=21)))
        view.show_started()
    shown = view.drawn
    assert shown is view.result and shown.grid.costs.shape == (21, 21)
    assert shown.centre_cost == run.cost  # exactly the trainer's cost of the current weights
    assert f"{run.cost:.6g}" in view.readout.text() and "epoch 40" in view.readout.text()
    assert view.image.image[10, 10] == pytest.approx(np.log10(run.cost), rel=1e-12)  # the pixel at the centre
    middle = view.image.mapToView(QPointF(10.5, 10.5))  # the centre pixel's middle, in plane coordinates
    assert (middle.x(), middle.y()) == pytest.approx((0.0, 0.0), abs=1e-9)
    assert tuple(view.end_marker.data[0].tolist()[:2]) == (0.0, 0.0)
    assert np.array_equal(shown.path[-1], [0.0, 0.0]) and len(shown.path) == 41
    assert view.path_line.xData[0] == shown.path[0, 0]  # the path starts at the first checkpoint
    label = view.plot.getAxis("bottom").labelText
    assert label.startswith("PC1 (") and label.endswith(" % of the path's variance)") if plane == "pca" \
        else label == "random direction 1"
    for contour in view.contours:  # every level lies between the lowest and highest cost: each has a line
        contour.generatePath()
        assert contour.path.elementCount() > 0
    assert not view.progress.isVisible() and not view.cancel.isVisible()


def test_partial_rows_draw_as_they_arrive(run, view):
    partials, result = complete(job(run, LandscapeOptions(resolution=21)))
    assert partials[0] == (0.0, None)  # before the principal directions are known
    assert [fraction for fraction, _ in partials[1:]] == [(i + 1) / 21 for i in range(21)]
    view.show_started()
    assert view.progress.isVisible() and view.cancel.isVisible()
    fraction, partial = partials[3]  # three rows computed
    view.show_progress(fraction, partial)
    assert view.progress.value() == round(1000 * 3 / 21)
    drawn = view.image.image
    assert np.isfinite(drawn[:3]).all() and np.isnan(drawn[3:]).all()
    assert "computing" in view.readout.text()  # the centre's row is not there yet
    assert all(contour.data is None for contour in view.contours)  # contour lines wait for the whole grid
    view.show_progress(*partials[-1])
    assert np.isfinite(view.image.image).all()
    np.testing.assert_array_equal(view.image.image, np.log10(result.grid.costs))


class Gate:
    def __init__(self):
        self.waiting, self.open = threading.Event(), threading.Event()


@pytest.fixture
def gate():
    """Opened at the end of the test whatever happened, so that a job held there lets its thread end."""
    gate = Gate()
    yield gate
    gate.open.set()


def held(generator, gate, after=3):
    """``generator``'s steps, holding at ``gate`` after ``after`` of them."""
    for i, step in enumerate(generator):
        yield step
        if i + 1 == after:
            gate.waiting.set()
            assert gate.open.wait(WAIT / 1000)


def test_cancel_leaves_the_picture_before(qtbot, run, view, runner, gate):
    with qtbot.waitSignal(runner.finished, timeout=WAIT):
        runner.start(job(run, LandscapeOptions(resolution=21)))
    before = view.result
    picture = view.image.image.copy()
    with qtbot.waitSignal(runner.progress, timeout=WAIT, check_params_cb=lambda f, p: p is not None):
        runner.start(held(job(run, LandscapeOptions(plane="random", resolution=41)), gate))
        view.show_started()
    assert gate.waiting.wait(WAIT / 1000)
    qtbot.waitUntil(lambda: view.image.image.shape == (41, 41), timeout=WAIT)  # the new rows are drawn
    qtbot.mouseClick(view.cancel, Qt.LeftButton)
    with qtbot.waitSignal(runner.cancelled, timeout=WAIT):
        gate.open.set()
    assert view.drawn is before and view.result is before
    np.testing.assert_array_equal(view.image.image, picture)
    assert view.plot.getAxis("bottom").labelText.startswith("PC1")
    assert not view.cancel.isVisible() and not view.progress.isVisible()


def test_a_path_too_short_for_principal_directions_says_so_and_keeps_the_picture(qtbot, run, view, runner):
    with qtbot.waitSignal(runner.finished, timeout=WAIT):
        runner.start(job(run, LandscapeOptions(resolution=21)))
    before = view.result
    with qtbot.waitSignal(runner.failed, timeout=WAIT):
        runner.start(job(run, checkpoints=list(run.store)[-1:]))  # one checkpoint: the current weights alone
        view.show_started()
    assert view.message.isVisible() and "span fewer than two directions" in view.message.text()
    assert "random directions" in view.message.text()
    assert view.drawn is before
    with qtbot.waitSignal(runner.finished, timeout=WAIT):  # random directions need no path
        runner.start(job(run, LandscapeOptions(plane="random", resolution=21), checkpoints=[]))
        view.show_started()
    assert not view.message.isVisible() and view.drawn.centre_cost == run.cost
    assert len(view.drawn.path) == 1  # the current weights alone, at the centre


def test_compute_asks_for_the_options_chosen(qtbot, view):
    view.plane.setCurrentIndex(view.plane.findData("random"))
    view.resolution.setCurrentIndex(view.resolution.findData(61))
    view.span.setCurrentIndex(view.span.findData(2.0))
    with qtbot.waitSignal(view.compute_requested) as asked:
        qtbot.mouseClick(view.compute, Qt.LeftButton)
    assert asked.args == [LandscapeOptions(plane="random", resolution=61, span=2.0)]


def test_an_unknown_plane_is_refused_at_once(run):
    with pytest.raises(ValueError, match="unknown plane 'diagonal'; expected one of pca, random"):
        job(run, LandscapeOptions(plane="diagonal"))
