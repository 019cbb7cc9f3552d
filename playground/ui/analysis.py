"""The window's longer analyses, each run off the UI thread: the loss landscape, the gradient check,
the training animation, and pictures of any view to take away."""
from __future__ import annotations

from functools import partial

from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QFileDialog, QMessageBox

from playground.training.jobs import JobRunner
from playground.ui.animation_export import (AnimationDialog, AnimationExport, AnimationProgress, OutputPictures,
                                            cost_curves, pick_frames, picture_side)
from playground.ui.files import TITLE
from playground.ui.pictures import ask_export_view, ask_export_window
from playground.widgets.gradcheck_view import GradcheckDialog, gradcheck_job
from playground.widgets.landscape_view import LandscapeView, landscape_job


class Analyses(QObject):
    """Owns the analyses' views and job runners for one window and its Session."""

    def __init__(self, window):
        super().__init__(window)
        self.window, self.session = window, window.session
        self.landscape = LandscapeView()
        self.landscape_jobs = JobRunner("landscape", parent=self)
        self.landscape.attach(self.landscape_jobs)
        self.landscape.compute_requested.connect(self.compute_landscape)
        self.gradcheck = GradcheckDialog(window)
        self.gradcheck_jobs = JobRunner("gradcheck", parent=self)
        self.gradcheck.view.attach(self.gradcheck_jobs)
        self.gradcheck.view.check_requested.connect(self.check_gradients)
        self.animation = AnimationExport(parent=self)
        self.animation.failed.connect(self._animation_failed)

    @Slot(object)
    def compute_landscape(self, options):
        """The cost over a plane of weight space around the weights now, with the path that led there."""
        session = self.session
        net = session.current_network()
        if net is None:
            self.landscape.show_failed("nothing is built yet")
            return
        problem = session.built.problem
        self.landscape_jobs.start(landscape_job(net, session.checkpoints, problem.X_train, problem.Y_train,
                                                session.built.loss, options, epoch=session.snapshot.epoch))
        self.landscape.show_started()

    @Slot()
    def check_gradients(self):
        """Backprop's gradients against central differences, layer by layer, on a few samples."""
        net = self.session.current_network()
        if net is None:
            return
        self.gradcheck.show()
        problem = self.session.built.problem
        self.gradcheck_jobs.start(gradcheck_job(net, problem.X_train, problem.Y_train, self.session.built.loss))
        self.gradcheck.view.show_started()

    def export_animation(self):
        """The output and the cost curve growing, frame by frame from the checkpoints, as a GIF or MP4."""
        session = self.session
        checkpoints = list(session.checkpoints)
        if session.built is None or len(checkpoints) < 2:
            QMessageBox.warning(self.window, TITLE, "Train a few epochs first: the animation is made of them.")
            return
        choices = AnimationDialog.ask(self.window, len(checkpoints))
        if choices is None:
            return
        path, _ = QFileDialog.getSaveFileName(self.window, "Export the training", self.window.files.folder(
            f"training{choices.suffix}"), f"Animation (*{choices.suffix})")
        if not path:
            return
        path += "" if path.lower().endswith(choices.suffix) else choices.suffix
        side = picture_side(choices.width, choices.height)
        pictures = OutputPictures(session.built, side, side)
        frames = [(checkpoints[i].epoch, partial(pictures, checkpoints[i].weights))
                  for i in pick_frames([c.epoch for c in checkpoints], choices.frames)]
        try:
            self.animation.start(path, frames, cost_curves(session.history), choices, owned=[pictures])
        except ValueError as error:
            pictures.close()
            QMessageBox.warning(self.window, TITLE, f"Cannot export the animation:\n\n{error}")
            return
        AnimationProgress(self.animation, self.window).show()

    def export_view(self, name: str):
        views = {"network": self.window.diagram, "output": self.window.output, "cost": self.window.loss_plot,
                 "landscape": self.landscape}
        if name == "landscape" and self.landscape.result is None:  # the picture would be empty axes
            QMessageBox.information(self.window, "Export landscape", "There is no landscape to export yet: "
                                    "compute it first (the Landscape tab, Compute).")
            return
        ask_export_view(self.window, views[name], name)

    def export_window(self):
        ask_export_window(self.window)

    @Slot(str)
    def _animation_failed(self, message: str):
        QMessageBox.warning(self.window, TITLE, f"Cannot export the animation:\n\n{message}")

    def close(self) -> bool:
        """Stop every job and join its thread."""
        return all([self.landscape_jobs.close(), self.gradcheck_jobs.close(), self.animation.close()])
