"""The main window: layout, and the binding of widgets to the Session.

Widgets say what the user asks for; the window hands it to the Session and draws what the Session
announces. The window keeps no state of its own beyond its geometry.
"""
from __future__ import annotations

import time
from functools import partial

from PySide6.QtCore import QByteArray, QEvent, QObject, QSettings, Qt, QTimer, Slot
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import (QAbstractSpinBox, QApplication, QComboBox, QGroupBox, QLabel, QLineEdit, QMainWindow,
                               QScrollArea, QSplitter, QTabWidget, QVBoxLayout, QWidget)

from core import datasets
from playground.session import Session
from playground.session.recovery import Autosaver
from playground.ui.actions import Actions
from playground.ui.files import TITLE, Files
from playground.widgets.chain_rule import ChainRuleView
from playground.widgets.controls import DataControls, TrainingControls
from playground.widgets.loss_plot import LossPlot
from playground.widgets.network_diagram import NetworkDiagram
from playground.widgets.output_view import OutputView

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
        self.output_tabs = QTabWidget()
        self.output_tabs.addTab(self.output, "Output")
        self.output_tabs.addTab(self.chain_rule, "Backprop, step by step")
        self.output_tabs.setTabToolTip(1, "The chain rule for one training sample, layer by layer")
        self.output_tabs.tabBar().setFocusPolicy(Qt.NoFocus)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet("background: #fde8e6; color: #a3261a; padding: 6px; border-radius: 4px;")
        self.message.hide()
        self.epoch_label, self.speed_label = QLabel("epoch 0"), QLabel("")
        self.files = Files(self)
        self.actions = Actions(self)
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
        middle.setMinimumWidth(300)
        self.right_splitter = QSplitter(Qt.Vertical)
        self.right_splitter.addWidget(self.output_tabs)
        self.right_splitter.addWidget(self.loss_plot)
        self.right_splitter.setSizes([500, 350])
        self.right_splitter.setMinimumWidth(300)
        for i in range(2):
            self.right_splitter.setCollapsible(i, False)
        self.output_tabs.setMinimumHeight(200)
        self.loss_plot.setMinimumHeight(160)
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
        session.problem_changed.connect(self._show_problem)
        session.snapshot_changed.connect(self._show_snapshot)
        session.history_changed.connect(self._show_history)
        session.running_changed.connect(self._show_running)
        session.view_changed.connect(self._show_view)
        session.document_changed.connect(self._show_title)
        session.notice.connect(self._show_notice)
        self.data_controls.changed.connect(session.set_data)
        self.data_controls.csv_requested.connect(self.files.ask_csv)
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
        self.chain_rule.sample_changed.connect(lambda _: self._update_chain_rule())

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
        self.actions.remove_layer.setEnabled(bool(session.network.hidden))
        self._let_space_play()  # the diagram may have new number fields

    @Slot()
    def _show_problem(self):
        built = self.session.built
        self._show_structure()
        self.output.set_problem(built)
        self.chain_rule.set_problem(built.problem, built.loss)
        self.loss_plot.show_accuracy(built.problem.task != "regression")
        self.actions.show_test.setEnabled(built.problem.is_plane)

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
        self.loss_plot.redraw_if_due(force=not snapshot.running)
        self.diagram.show_snapshot(snapshot)
        self.output.show_snapshot(snapshot)
        if snapshot.grid is not None or snapshot.predictions is not None:  # at the output view's pace
            self._update_chain_rule()
        self.epoch_label.setText(f"epoch {snapshot.epoch:,}")
        speed = f"{snapshot.steps_per_second:,.0f} steps/s" if snapshot.running else ""
        penalty = f" · penalty {snapshot.penalty:.3g}" if self.session.training.regularization else ""
        self.speed_label.setText(speed + penalty)

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

    @Slot(bool)
    def _show_running(self, running: bool):
        self.actions.play.setText("Pause" if running else "Play")

    @Slot()
    def _show_view(self):
        view = self.session.view
        self.actions.show_view(view)
        self.diagram.set_mode(view.colour_by)
        self.loss_plot.set_log_scale(view.log_scale)
        self.output.plane.set_show_test(view.show_test)
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
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def _update_chain_rule(self):
        if self.output_tabs.currentWidget() is self.chain_rule:  # computed only while shown
            self.chain_rule.show_network(self.session.current_network())

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
        for key in ("log_scale", "show_test"):
            if settings.value(f"view/{key}") in ("true", "false", True, False):
                view[key] = settings.value(f"view/{key}") in ("true", True)
        self.session.set_view(**view)

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

    def closeEvent(self, event):
        if not self.files.confirm_discard():
            event.ignore()
            return
        self._save_settings()
        self.session.close()
        self.autosaver.remove()
        QApplication.setFont(self.base_font)
        super().closeEvent(event)


def _number(value, low, high):
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if low <= number <= high else None
