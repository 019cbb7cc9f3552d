"""The main window: layout, and the binding of widgets to the Session.

Widgets say what the user asks for; the window hands it to the Session and draws what the Session
announces. The window keeps no state of its own beyond its geometry.
"""
from __future__ import annotations

import math
import time
from functools import partial

from PySide6.QtCore import QByteArray, QEvent, QObject, QSettings, Qt, QTimer, Slot
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import (QAbstractSpinBox, QApplication, QComboBox, QGroupBox, QInputDialog, QLabel, QLineEdit,
                               QMainWindow, QScrollArea, QSplitter, QTabWidget, QVBoxLayout, QWidget)

from core import datasets, limits, runs
from playground.session import Session
from playground.session.recovery import Autosaver
from playground.ui.actions import Actions
from playground.ui.analysis import Analyses
from playground.ui.files import TITLE, Files
from playground.widgets import style
from playground.widgets.chain_rule import ChainRuleView
from playground.widgets.controls import DataControls, TrainingControls
from playground.widgets.csv_import import dropped_csv
from playground.widgets.loss_plot import LossPlot
from playground.widgets.message_bar import MessageBar
from playground.widgets.network_diagram import NetworkDiagram
from playground.widgets.output_view import OutputView
from playground.widgets.runs_panel import RunsPanel
from playground.widgets.timeline import Timeline
from playground.widgets.trace_bar import TraceBar

SIZE = (1400, 860)  # the first window, before the user sizes it (fits a 1440×900 screen)


class SpaceStaysPlay(QObject):
    """Installed on the number fields, which would take Space as typing: it goes to Play/Pause instead.

    Only on those few widgets: a filter on the whole application would run Python for every Qt
    event, and each such call waits for the GIL that training holds."""

    def eventFilter(self, obj, event):
        if (event.type() == QEvent.ShortcutOverride and event.key() == Qt.Key_Space
                and event.modifiers() == Qt.NoModifier):
            event.ignore()  # not overridden: the Space shortcut fires
            return True
        return False


class MainWindow(QMainWindow):
    def __init__(self, session: Session | None = None, recovery_folder=None):
        super().__init__()
        self.setWindowTitle(TITLE)
        self.session = session or Session(parent=self)
        self.base_font = QApplication.font()
        self.data_controls = DataControls(self.session.data)
        self.training_controls = TrainingControls()
        self.diagram = NetworkDiagram()
        self.output = OutputView()
        self.loss_plot = LossPlot()
        self.chain_rule = ChainRuleView()
        self.trace_bar = TraceBar()
        self.trace_bar.hide()
        self.timeline = Timeline()
        self.runs_panel = RunsPanel()
        self.output_tabs = QTabWidget()
        self.output_tabs.addTab(self.output, "Output")
        self.output_tabs.addTab(self.chain_rule, "Chain rule")
        self.output_tabs.setTabToolTip(1, "Backprop, step by step: the chain rule for one sample, layer by layer")
        self.output_tabs.addTab(self.runs_panel, "Runs")
        self.output_tabs.setTabToolTip(2, "Pinned runs against this one, at the same epoch")
        self.output_tabs.tabBar().setFocusPolicy(Qt.NoFocus)
        self.message = MessageBar()
        self.recovery_epoch = None  # the checkpoint the message bar offers to go back to
        self.epoch_label, self.speed_label = QLabel("epoch 0"), QLabel("")
        self.files = Files(self)
        self.analyses = Analyses(self)
        self.output_tabs.addTab(self.analyses.landscape, "Landscape")
        self.output_tabs.setTabToolTip(3, "The cost over a plane of weight space around the weights now, with the "
                                          "path training took")
        self.menu = Actions(self)
        self._build_layout()
        self._bind()
        self.space_filter = SpaceStaysPlay(self)
        self._let_space_play()
        self.autosaver = Autosaver(self.session, recovery_folder, parent=self)
        self._restore_settings()
        self._show_specs()
        self._show_view()

    # --- layout -----------------------------------------------------------------------------
    def _build_layout(self):
        settings = QWidget()
        settings_layout = QVBoxLayout(settings)
        for title, widget in (("Data", self.data_controls), ("Training", self.training_controls)):
            group = QGroupBox(title)
            QVBoxLayout(group).addWidget(widget)
            settings_layout.addWidget(group)
        settings_layout.addStretch()
        left = self.settings_panel = QScrollArea()
        left.setWidget(settings)
        left.setWidgetResizable(True)
        left.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        left.setMinimumWidth(220)
        middle = QWidget()
        middle_layout = QVBoxLayout(middle)
        middle_layout.setContentsMargins(0, 0, 0, 0)
        middle_layout.addWidget(self.message)
        middle_layout.addWidget(self.diagram, 1)
        middle_layout.addWidget(self.trace_bar)
        middle.setMinimumWidth(300)
        history = QWidget()  # the cost plot and, under it, the timeline
        history_layout = QVBoxLayout(history)
        history_layout.setContentsMargins(0, 0, 0, 0)
        history_layout.addWidget(self.loss_plot, 1)
        history_layout.addWidget(self.timeline)
        self.right_splitter = QSplitter(Qt.Vertical)
        for widget in (self.output_tabs, history):
            self.right_splitter.addWidget(widget)
        self.right_splitter.setSizes([500, 380])
        self.right_splitter.setMinimumWidth(300)
        for i in range(2):
            self.right_splitter.setCollapsible(i, False)
        self.output_tabs.setMinimumHeight(200)
        self.loss_plot.setMinimumHeight(150)
        self.splitter = QSplitter(Qt.Horizontal)
        for widget in (left, middle, self.right_splitter):
            self.splitter.addWidget(widget)
        for i in range(3):
            self.splitter.setCollapsible(i, False)  # a stray drag must not make a panel vanish
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([250, 650, 500])
        self.setCentralWidget(self.splitter)

    def _bind(self):
        session, diagram = self.session, self.diagram
        session.specs_changed.connect(self._show_specs)
        session.specs_changed.connect(self._show_runs)  # the runs' labels say how they differ from this one
        session.problem_changed.connect(self._show_problem)
        session.snapshot_changed.connect(self._show_snapshot)
        session.history_changed.connect(self._show_history)
        session.running_changed.connect(self._show_running)
        session.view_changed.connect(self._show_view)
        session.document_changed.connect(self._show_title)
        session.notice.connect(self._show_notice)
        session.checkpoints_changed.connect(self._show_timeline)
        session.shown_changed.connect(self._show_shown)
        session.trace_changed.connect(self._show_trace)
        session.runs_changed.connect(self._show_runs)
        session.recovery_offered.connect(self._offer_recovery)
        self.message.action_taken.connect(self._go_back)
        self.timeline.epoch_chosen.connect(session.view_epoch)
        self.timeline.released.connect(lambda: session.running and session.view_epoch(None))
        self.timeline.train_from_requested.connect(self._train_from_here)
        self.output.sample_picked.connect(lambda split, row: session.set_trace(sample=(split, row), layer=None))
        self.chain_rule.sample_chosen.connect(lambda split, row: session.set_trace(sample=(split, row), layer=None))
        self.output.plane.point_drawn.connect(session.draw_point)
        self.output.plane.point_erased.connect(session.erase_point)
        self.trace_bar.mode_chosen.connect(lambda mode: session.set_trace(mode=mode, layer=None))
        self.trace_bar.step_requested.connect(self._step_trace)
        self.trace_bar.closed.connect(lambda: session.set_trace(sample=None, layer=None))
        diagram.weight_edit_requested.connect(self._ask_weight)
        diagram.weight_dragged.connect(session.set_weight)
        diagram.neuron_hovered.connect(self._show_neuron)
        self.runs_panel.pin_requested.connect(lambda: session.pin_run())
        self.runs_panel.unpin_requested.connect(lambda i: session.unpin_run(session.runs[i]))
        self.runs_panel.visibility_changed.connect(lambda i, on: session.show_run(session.runs[i], on))
        self.runs_panel.export_requested.connect(self.files.export_runs)
        self.runs_panel.target_changed.connect(session.set_target_cost)
        self.data_controls.changed.connect(session.set_data)
        self.data_controls.csv_requested.connect(self.files.ask_csv)
        self.setAcceptDrops(True)  # a CSV dropped on the window opens in the import dialog
        self.training_controls.hyperparameter_changed.connect(session.set_hyperparameter)
        self.training_controls.seed_changed.connect(session.set_seed)
        self.training_controls.precision_changed.connect(session.set_precision)
        diagram.layer_added.connect(lambda: session.add_layer())
        diagram.layer_removed.connect(lambda: session.remove_layer())
        diagram.layer_deleted.connect(session.remove_layer)
        diagram.units_changed.connect(session.set_units)
        diagram.activation_changed.connect(session.set_activation)
        diagram.feature_toggled.connect(session.toggle_feature)
        diagram.mode_requested.connect(lambda mode: session.set_view(colour_by=mode))
        self.loss_plot.log_scale_requested.connect(lambda on: session.set_view(log_scale=on))
        self.output.plane.show_test_requested.connect(lambda on: session.set_view(show_test=on))
        self.output_tabs.currentChanged.connect(lambda _: self._update_chain_rule())
        self.output_tabs.currentChanged.connect(lambda _: self._show_runs_figures())

    # --- what the Session says ----------------------------------------------------------------
    @Slot()
    def _show_specs(self):
        session = self.session
        self.data_controls.show_spec(session.data)
        self.training_controls.show_specs(session.training, session.network)
        self._show_structure()
        self._show_title()

    def _show_structure(self):
        """The diagram as the specs say, at once: inputs and output from the problem built for this
        data (or the last one, until it is built), hidden layers from the network spec."""
        session, built = self.session, self.session.built
        if built is None:
            return
        data = session.data
        plane = data.is_plane or (built.specs[0] == data and built.problem.is_plane)
        if data.is_plane:
            inputs = [(key, label, key in data.features) for key, (label, _) in datasets.FEATURES.items()]
        else:
            inputs = [(name, name, True) for name in built.problem.input_names]
        self.diagram.set_structure(inputs, session.network.hidden, built.layers[-1], built.loss, toggleable=plane)
        self.menu.remove_layer.setEnabled(bool(session.network.hidden))
        self._let_space_play()  # the diagram may have new number fields

    @Slot()
    def _show_problem(self):
        built = self.session.built
        self._show_structure()
        self.output.set_problem(built)
        self.chain_rule.set_problem(built.problem)
        self.loss_plot.show_accuracy(built.problem.task != "regression")
        self.menu.show_test.setEnabled(built.problem.is_plane)
        self._show_trace()

    @Slot()
    def _show_snapshot(self):
        snapshot = self.session.snapshot
        start = time.perf_counter()
        try:
            self.draw_snapshot(snapshot)
        finally:
            # the paint runs from the event loop after this slot; tell the worker once it is done
            QTimer.singleShot(0, partial(self._after_paint, snapshot.id, start))

    def draw_snapshot(self, snapshot):
        self.loss_plot.set_measured(snapshot.measured)
        self.loss_plot.redraw_if_due(force=not snapshot.running)
        if self.session.viewing is None:  # while a past epoch is looked at, the views keep showing it
            self._draw_frame(snapshot)
            if snapshot.new_epochs:
                self._show_runs_figures()
        self._show_epoch()
        speed = f"{snapshot.steps_per_second:,.0f} steps/s" if snapshot.running else ""
        penalty = f" · penalty {snapshot.penalty:.3g}" if self.session.training.regularization else ""
        self.speed_label.setText(speed + penalty)

    def _draw_frame(self, frame):
        """What the network looks like: the live snapshot, or a past checkpoint's preview."""
        self.diagram.show_snapshot(frame)
        self.output.show_snapshot(frame)

    @Slot()
    def _show_shown(self):
        session = self.session
        frame = session.shown()
        if frame is not None:
            self._draw_frame(frame)
        self.loss_plot.set_marker(session.viewing)
        self._show_timeline()
        self._show_runs_figures()
        self._show_epoch()

    def _show_epoch(self):
        """The epoch the views show: the live one, or the past one looked at."""
        session = self.session
        live = session.snapshot.epoch if session.snapshot is not None else len(session.history)
        self.epoch_label.setText(f"epoch {live:,}" if session.viewing is None else f"epoch {session.viewing:,} ◂")
        self.epoch_label.setToolTip("" if session.viewing is None else
                                    f"Looking back at epoch {session.viewing:,}; the run is at epoch {live:,}")

    @Slot()
    def _show_timeline(self):
        self.timeline.set_checkpoints(self.session.checkpoints.epochs, self.session.viewing)

    @Slot()
    def _show_trace(self):
        session = self.session
        state, trace = session.trace_state, session.trace
        self.diagram.show_trace(trace, state.mode, state.layer)
        self.trace_bar.show_trace(trace, state)
        self.output.mark(state.sample if trace is not None else None)
        self._update_chain_rule()

    def _step_trace(self, direction: int):
        if direction == 0:  # the animation starts over
            self.session.set_trace(layer=None)
            direction = 1
        self.session.step_trace(direction)

    def _ask_weight(self, layer: int, row: int, column, value: float):
        """A typed weight is taken as typed (no digit dropped, no value clipped); what is not a finite
        number is refused with a message."""
        name = f"bias b{layer + 1}[{row + 1}]" if column is None else f"weight W{layer + 1}[{row + 1}, {column + 1}]"
        typed, ok = QInputDialog.getText(self, "Type a weight", f"New value of the {name}:", text=f"{value:.17g}")
        if not ok:
            return
        try:
            number = float(typed.strip())
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            self.session.notice.emit(f"{limits.excerpt(typed.strip())} is not a finite number: the {name} is unchanged.")
            return
        self.session.set_weight(layer, row, column, number)

    def _show_neuron(self, layer: int, position: int, unit: int):
        """While a hidden neuron is hovered, the output view shows what it computes, large (its picture is
        the ``position``-th drawn, of neuron ``unit``)."""
        frame = self.session.shown()
        grids = getattr(frame, "neuron_grids", None)
        if layer < 0 or grids is None or layer >= len(grids) or position >= grids[layer].shape[2]:
            self.output.plane.show_neuron(None)
            return
        self.output.plane.show_neuron(grids[layer][:, :, position],
                                      f"Hidden layer {layer + 1}, neuron {unit + 1}: its activation over the plane")

    @Slot()
    def _show_runs(self):
        session = self.session
        shown = [(i, run, label) for i, (run, label) in enumerate(zip(session.runs, session.run_labels())) if run.shown]
        self.loss_plot.set_runs([run.history for _, run, _ in shown], [label for _, _, label in shown],
                                [style.run_colour(i) for i, _, _ in shown])
        self._show_runs_figures()

    def _show_runs_figures(self):
        """The pinned runs and this one, compared at the epoch shown (0: no figures yet); written only
        while the Runs tab is shown (showing it writes them)."""
        if self.output_tabs.currentWidget() is not self.runs_panel:
            return
        session = self.session
        epoch = len(session.history) if session.viewing is None else session.viewing
        histories = session.run_histories()
        colours = [style.run_colour(i) for i in range(len(session.runs))] + [style.BLUE]
        self.runs_panel.show_runs(session.run_labels(), colours, [r.shown for r in session.runs],
                                  runs.compare(histories, epoch, session.target_cost), epoch, session.target_cost)

    def _offer_recovery(self, epoch: int):
        self.recovery_epoch = epoch
        self.message.offer(f"Go back to epoch {epoch:,}")

    def _train_from_here(self, epoch: int):
        """Timeline → Train from here: back to that checkpoint (the later epochs pinned), and training."""
        if self.session.train_from(epoch):
            self.session.play()

    def _go_back(self):
        epoch = self.recovery_epoch
        if epoch is not None and not self.session.train_from(epoch):
            self._offer_recovery(epoch)  # refused, with its reason (eight runs pinned): the offer stays

    def _after_paint(self, snapshot_id: int, start: float):
        QTimer.singleShot(0, partial(self._frame_done, snapshot_id, start))

    def _frame_done(self, snapshot_id: int, start: float):
        self.session.worker_thread.worker.view_drawn(snapshot_id, time.perf_counter() - start)

    @Slot(bool)
    def _show_history(self, replaced: bool):
        self.loss_plot.set_history(self.session.history, replaced)
        if replaced:
            self.epoch_label.setText("epoch 0" if not len(self.session.history) else
                                     f"epoch {len(self.session.history):,}")
            self._show_runs_figures()

    @Slot(bool)
    def _show_running(self, running: bool):
        self.menu.play.setText("Pause" if running else "Play")

    @Slot()
    def _show_view(self):
        view = self.session.view
        self.menu.show_view(view)
        self.diagram.set_mode(view.colour_by)
        self.loss_plot.set_log_scale(view.log_scale)
        self.output.plane.set_show_test(view.show_test)
        self.diagram.set_pictures(view.pictures)
        if view.zoom != getattr(self, "zoom", None):
            self._apply_zoom(view.zoom)

    def _apply_zoom(self, zoom: float):
        """Scale every text (the application font) and the diagram: readable at a projector."""
        self.zoom = zoom
        font = QFont(self.base_font)
        font.setPointSizeF(self.base_font.pointSizeF() * zoom)
        QApplication.setFont(font)
        big = QFont(font)
        big.setPointSizeF(font.pointSizeF() * 1.3)
        big.setBold(True)
        self.epoch_label.setFont(big)
        # wide enough for eight digits: a label that follows its text would relayout the window
        self.epoch_label.setFixedWidth(QFontMetrics(big).horizontalAdvance("epoch 99,999,999") + 16)
        self.speed_label.setFixedWidth(QFontMetrics(font).horizontalAdvance("999,999 steps/s · penalty 9.99e-99"))
        self.diagram.set_zoom(zoom)
        self.loss_plot.set_zoom(zoom)
        QTimer.singleShot(0, self._fit_settings_panel)  # once the new font has reached every field

    def _fit_settings_panel(self):
        """As wide as its fields need at this size: never clipped."""
        panel = self.settings_panel
        panel.setMinimumWidth(panel.widget().minimumSizeHint().width() + panel.verticalScrollBar().sizeHint().width())

    @Slot()
    def _show_title(self):
        path = self.session.project_path
        name = path.replace("\\", "/").rsplit("/", 1)[-1] if path else "untitled"
        self.setWindowTitle(f"{TITLE} — {name}{' *' if self.session.is_modified() else ''}")

    @Slot(str)
    def _show_notice(self, text: str):
        self.recovery_epoch = None
        self.message.show_message(text)

    def _update_chain_rule(self):
        if self.output_tabs.currentWidget() is self.chain_rule:  # written only while shown
            session = self.session
            self.chain_rule.show_trace(session.trace, session.built.problem if session.built else None,
                                       session.trace_state.sample)

    # --- keys, screen, closing ----------------------------------------------------------------
    def _let_space_play(self):
        for field in self.findChildren(QAbstractSpinBox) + self.findChildren(QComboBox) + self.findChildren(QLineEdit):
            field.installEventFilter(self.space_filter)  # installing twice keeps one

    def keyPressEvent(self, event):
        # Space arrives here unhandled when no widget has the focus, e.g. the window is not active
        # (then its shortcut is off): it still means play/pause.
        if event.key() == Qt.Key_Space and event.modifiers() == Qt.NoModifier and not event.isAutoRepeat():
            self.session.toggle_play()
            return
        super().keyPressEvent(event)

    def dragEnterEvent(self, event):
        if dropped_csv(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event):
        path = dropped_csv(event.mimeData())
        if path:
            event.acceptProposedAction()
            self.files.import_csv(path)

    def toggle_full_screen(self, on: bool):
        self.showFullScreen() if on else self.showNormal()

    def _restore_settings(self):
        settings = QSettings()
        geometry = settings.value("window/geometry")
        if isinstance(geometry, QByteArray) and self.restoreGeometry(geometry):
            pass
        else:
            self.resize(*SIZE)
        for key, splitter in (("window/splitter", self.splitter), ("window/right_splitter", self.right_splitter)):
            state = settings.value(key)
            if isinstance(state, QByteArray):
                splitter.restoreState(state)
        view = {}
        zoom = _number(settings.value("view/zoom"), 0.5, 3.0)
        if zoom is not None:
            view["zoom"] = zoom
        if settings.value("view/colour_by") in ("gradients", "weights"):
            view["colour_by"] = settings.value("view/colour_by")
        for key in ("log_scale", "show_test", "pictures"):
            if settings.value(f"view/{key}") in ("true", "false", True, False):
                view[key] = settings.value(f"view/{key}") in ("true", True)
        self.session.set_view(**view)
        budget = _number(settings.value("training/checkpoint_budget"), *limits.CHECKPOINT_BUDGET)
        if budget is not None:
            self.session.set_checkpoint_budget(int(budget))

    def _save_settings(self):
        settings = QSettings()
        settings.setValue("window/geometry", self.saveGeometry())
        settings.setValue("window/splitter", self.splitter.saveState())
        settings.setValue("window/right_splitter", self.right_splitter.saveState())
        view = self.session.view
        settings.setValue("view/zoom", view.zoom)
        settings.setValue("view/colour_by", view.colour_by)
        settings.setValue("view/log_scale", view.log_scale)
        settings.setValue("view/show_test", view.show_test)
        settings.setValue("view/pictures", view.pictures)
        settings.setValue("training/checkpoint_budget", self.session.checkpoints.budget)

    def closeEvent(self, event):
        if not self.files.confirm_discard():
            event.ignore()
            return
        self._save_settings()
        self.hide()  # gone at once, even while a huge network's step ends
        self.analyses.close()
        self.session.close(timeout_ms=QUIT_WAIT_MS)
        self.autosaver.remove()
        QApplication.setFont(self.base_font)
        super().closeEvent(event)


QUIT_WAIT_MS = 1000  # for the worker to stop; a step it is in the middle of is left to app.finish


def _number(value, low, high):
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if low <= number <= high else None
