"""Check gradients: backprop's gradients against central finite differences, layer by layer, with what
each layer's error means in plain words.

``gradcheck_job`` (no Qt) is the generator a ``JobRunner`` runs (``core.gradcheck.steps`` on a copy of
the network); ``GradcheckView`` shows its progress and report; ``GradcheckDialog`` holds the view with
a Close button, for the Train menu.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QHBoxLayout, QHeaderView, QLabel, QProgressBar, QPushButton,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from core import gradcheck

COLOURS = {"excellent": (198, 239, 206), "good": (226, 239, 218), "doubtful": (255, 235, 156),
           "wrong": (255, 199, 206)}  # light backgrounds that keep dark text readable
COLUMNS = ("layer", "largest relative error", "reading", "meaning")


def gradcheck_job(network_copy, X, Y, loss, n_samples: int = 4, max_entries: int = 64):
    """The generator a ``JobRunner`` runs: yields the share of entries compared, returns the
    ``core.gradcheck.Report``. ``network_copy``: a ``core.Network`` with the current weights (compared
    on a float64 copy of its own); X (n_samples, n_inputs) and Y: the training set as the trainer sees
    it, of which ``n_samples`` rows are used; ``loss``: the trainer's loss name."""
    for progress in gradcheck.steps(network_copy, X, Y, loss, n_samples=n_samples, max_entries=max_entries):
        if progress.report is not None:
            return progress.report
        yield progress.done / progress.total


class GradcheckView(QWidget):
    """The per-layer report of a gradient check, with a progress bar while it runs. ``check_requested``
    asks for a (new) check; ``attach(runner)`` shows what a JobRunner running ``gradcheck_job`` says."""

    check_requested = Signal()
    cancel_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.intro = QLabel("Backprop's gradient of the cost against central finite differences "
                            "(J(θ + ε) − J(θ − ε)) / 2ε, in float64, on a few training samples: for each layer, "
                            "the relative error ‖backprop − numerical‖ / (‖backprop‖ + ‖numerical‖) of its "
                            "weights or its biases, whichever is larger.")
        self.intro.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        self.table.setWordWrap(True)
        header = self.table.horizontalHeader()
        for column in range(3):
            header.setSectionResizeMode(column, QHeaderView.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.Stretch)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.again = QPushButton("Check again")
        self.again.setToolTip("Compare the gradients of the current weights")
        self.again.clicked.connect(self.check_requested)
        self.cancel = QPushButton("Stop")
        self.cancel.clicked.connect(self.cancel_requested)
        buttons = QHBoxLayout()
        buttons.addWidget(self.progress, 1)
        buttons.addStretch()  # takes the room of the progress bar when it is hidden
        buttons.addWidget(self.cancel)
        buttons.addWidget(self.again)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addLayout(buttons)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.summary)
        self._set_busy(False)

    def attach(self, runner) -> None:
        runner.progress.connect(self.show_progress)
        runner.finished.connect(self.show_report)
        runner.failed.connect(self.show_failed)
        runner.cancelled.connect(self.show_cancelled)
        self.cancel_requested.connect(runner.cancel)

    @Slot()
    def show_started(self) -> None:
        self.table.setRowCount(0)
        self.summary.setText("Comparing…")
        self.progress.setValue(0)
        self._set_busy(True)

    @Slot(float, object)
    def show_progress(self, fraction: float, partial=None) -> None:
        self.progress.setValue(round(1000 * fraction))

    @Slot(object)
    def show_report(self, report: gradcheck.Report) -> None:
        self._set_busy(False)
        n = len(report.layers)
        self.table.setRowCount(n)
        for row, check in enumerate(report.layers):
            name = "output layer" if check.index == n - 1 else f"hidden layer {check.index + 1}"
            cells = (f"{name} ({check.compared} entries)", f"{check.error:.1e}", check.reading, check.meaning)
            colour = QBrush(QColor(*COLOURS[check.reading]))
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setBackground(colour)
                item.setToolTip(f"weights {check.kernel_error:.2e}, biases {check.bias_error:.2e}")
                if column == 1:
                    item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
                self.table.setItem(row, column, item)
        self.table.resizeRowsToContents()
        samples = f"{report.n_samples} training sample{'s' * (report.n_samples != 1)}"
        self.summary.setText(f"Largest error {report.error:.1e} on {samples}: {report.reading} — "
                             f"{gradcheck.reading(report.error)[1]}.")

    @Slot(str)
    def show_failed(self, message: str) -> None:
        self._set_busy(False)
        self.summary.setText(f"The gradients could not be checked: {message}")

    @Slot()
    def show_cancelled(self) -> None:
        self._set_busy(False)
        self.summary.setText("Stopped.")

    def _set_busy(self, busy: bool) -> None:
        self.progress.setVisible(busy)
        self.cancel.setVisible(busy)
        self.again.setEnabled(not busy)


class GradcheckDialog(QDialog):
    """The view in a window of its own; closing it stops a check under way."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Check gradients")
        self.view = GradcheckView()
        close = QDialogButtonBox(QDialogButtonBox.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.view)
        layout.addWidget(close)
        self.resize(760, 360)

    def done(self, result: int) -> None:
        self.view.cancel_requested.emit()
        super().done(result)


if __name__ == "__main__":
    import pyqtgraph as pg

    from core.spec import DataSpec, NetworkSpec, prepare
    from playground.training.jobs import JobRunner

    problem = prepare(DataSpec(source="spiral3"))
    net = NetworkSpec(hidden=((8, "tanh"), (8, "relu"))).build(problem)
    app = pg.mkQApp("Preview")
    dialog = GradcheckDialog()
    runner = JobRunner("gradcheck")
    dialog.view.attach(runner)

    def check():
        runner.start(gradcheck_job(net.copy(), problem.X_train, problem.Y_train, "cross_entropy"))
        dialog.view.show_started()

    dialog.view.check_requested.connect(check)
    check()
    dialog.exec()
    runner.close()
