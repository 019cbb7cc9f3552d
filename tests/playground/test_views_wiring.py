"""The landscape, the gradient check and the animation built from what a real window's Session holds,
the way the window wires them."""
import imageio.v3 as iio
import shiboken6

from playground.training.jobs import JobRunner
from playground.ui.animation_export import (AnimationChoices, AnimationExport, OutputPictures, cost_curves,
                                            pick_frames, picture_side)
from playground.widgets.gradcheck_view import GradcheckView, gradcheck_job
from playground.widgets.landscape_view import LandscapeOptions, LandscapeView, landscape_job
from window_helpers import train

WAIT = 20000


def test_a_trained_run_gives_its_landscape_gradient_check_and_animation(qtbot, window, tmp_path):
    session = window.session
    train(qtbot, window, 25)
    built, problem = session.built, session.built.problem
    net = session.current_network()
    trainer = session.training.build(net.copy(), problem)
    cost, _ = trainer.evaluate(net.check_inputs(problem.X_train), trainer.targets(problem.Y_train))
    assert len(session.checkpoints) == session.snapshot.epoch + 1  # every epoch, and the start

    landscape, landscape_jobs = LandscapeView(), JobRunner("landscape")
    qtbot.addWidget(landscape)
    landscape.attach(landscape_jobs)
    with qtbot.waitSignal(landscape_jobs.finished, timeout=WAIT):
        landscape_jobs.start(landscape_job(session.current_network(), session.checkpoints, problem.X_train,
                                           problem.Y_train, built.loss, LandscapeOptions(resolution=21),
                                           epoch=session.snapshot.epoch))
        landscape.show_started()
    assert landscape.drawn.centre_cost == cost
    assert len(landscape.drawn.path) in (len(session.checkpoints), len(session.checkpoints) + 1)

    check, check_jobs = GradcheckView(), JobRunner("gradcheck")
    qtbot.addWidget(check)
    check.attach(check_jobs)
    with qtbot.waitSignal(check_jobs.finished, timeout=WAIT):
        check_jobs.start(gradcheck_job(session.current_network(), problem.X_train, problem.Y_train, built.loss))
        check.show_started()
    assert [check.table.item(row, 2).text() for row in range(check.table.rowCount())] == ["excellent"] * 3

    choices = AnimationChoices(width=480, height=360, fps=10, frames=10)
    pictures = OutputPictures(built, picture_side(choices.width, choices.height),
                              picture_side(choices.width, choices.height))
    checkpoints = list(session.checkpoints)
    frames = [(checkpoints[i].epoch, lambda w=checkpoints[i].weights: pictures(w))
              for i in pick_frames([c.epoch for c in checkpoints], choices.frames)]
    exporter = AnimationExport()
    with qtbot.waitSignal(exporter.finished, timeout=WAIT):
        exporter.start(tmp_path / "run.gif", frames, cost_curves(session.history), choices, owned=[pictures])
    assert iio.imread(tmp_path / "run.gif", index=None).shape[:3] == (10, 360, 480)
    assert not shiboken6.isValid(pictures.view)
    for runner in (landscape_jobs, check_jobs, exporter):
        assert runner.close()
