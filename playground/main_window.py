"""The main window: wires the widgets to the training worker.

The window owns the plain specs (DataSpec, NetworkSpec, TrainingConfig). Edits to the data or the
architecture send the worker a rebuild; hyperparameters go to it live. The worker answers with a
``ProblemInfo`` per rebuild and a stream of ``Snapshot``s that the views draw.
"""
from __future__ import annotations

import copy
import sys
import time
from collections import deque
from dataclasses import replace
from functools import partial
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QSettings, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QAbstractSpinBox, QComboBox, QFileDialog, QInputDialog, QLabel, QLineEdit, QMainWindow,
                               QMessageBox, QSplitter, QTabWidget, QToolBar, QVBoxLayout, QWidget)

from core import Network, datasets, io
from core.io import FormatError
from core.project import load_project, save_project
from core.spec import DataSpec, NetworkSpec, TrainingConfig
from playground.widgets.chain_rule import ChainRuleView
from playground.widgets.controls import DataControls, TrainingControls
from playground.widgets.loss_plot import LossPlot
from playground.widgets.network_diagram import NetworkDiagram
from playground.widgets.output_view import OutputView
from playground.worker import WorkerThread

TITLE = "Backprop Playground"
RECENT_MAX = 8
PRESETS = datasets.RESOURCES / "presets"


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
    configure_requested = Signal(object, object, object)
    play_requested = Signal()
    pause_requested = Signal()
    step_requested = Signal()
    reset_requested = Signal()
    hyperparameter_requested = Signal(str, object)
    weights_requested = Signal(object, int)

    def __init__(self, data: DataSpec | None = None, network: NetworkSpec | None = None,
                 training: TrainingConfig | None = None):
        super().__init__()
        self.setWindowTitle(TITLE)
        self.data, self.network, self.training = data or DataSpec(), network or NetworkSpec(), training or TrainingConfig()
        self.info = None  # the ProblemInfo being trained
        self.snapshot = None  # the latest Snapshot drawn
        self.generation = 0
        self.running = False
        self.project_path = None
        self.saved_specs = self._specs()  # what "unsaved changes" compares against
        # One entry per configure sent, in order: what to do once the worker has built it (or None).
        # The worker answers each configure with exactly one problem_ready or failed.
        self.on_built = deque()

        self.data_controls = DataControls(self.data)
        self.training_controls = TrainingControls(self.training)
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
        self.epoch_label = QLabel("epoch 0")
        self.epoch_label.setStyleSheet("font-size: 18px; font-weight: 600; padding: 0 12px;")
        self.epoch_label.setFixedWidth(170)  # fixed: a width that follows the text relayouts the whole window
        self.speed_label = QLabel("")
        self.speed_label.setFixedWidth(190)
        self._build_actions()
        self._build_layout()
        self._connect_controls()

        self.worker_thread = WorkerThread()
        worker = self.worker_thread.worker
        self.configure_requested.connect(worker.configure)
        self.play_requested.connect(worker.play)
        self.pause_requested.connect(worker.pause)
        self.step_requested.connect(worker.step_epoch)
        self.reset_requested.connect(worker.reset)
        self.hyperparameter_requested.connect(worker.set_hyperparameter)
        self.weights_requested.connect(worker.set_weights)
        worker.snapshot_ready.connect(self.on_snapshot)
        worker.problem_ready.connect(self.on_problem)
        worker.configure_failed.connect(self.on_configure_failed)
        worker.failed.connect(self.on_failed)
        worker.diverged.connect(self.on_diverged)
        worker.running_changed.connect(self.on_running_changed)
        self.space_filter = SpaceStaysPlay(self)
        self._let_space_play()
        self.resize(1500, 900)
        self.rebuild()

    # --- building the window -------------------------------------------------------------
    def _action(self, text, slot, shortcut=None, tip=None, checkable=False):
        action = QAction(text, self)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        action.setToolTip(f"{tip or text} ({QKeySequence(shortcut).toString()})" if shortcut else (tip or text))
        action.setStatusTip(tip or text)
        action.setCheckable(checkable)
        action.triggered.connect(slot)
        return action

    def _build_actions(self):
        self.play_action = self._action("Play", self.toggle_play, "Space", "Train / pause")
        self.step_action = self._action("Step", self.step_requested.emit, "Ctrl+Right", "Train one epoch, then pause")
        self.reset_action = self._action("Reset", self.reset, "Ctrl+R", "Re-initialise the network from its seed")
        self.open_data_action = self._action("Open data…", self.open_csv, "Ctrl+D", "Train on your own CSV file")
        self.open_project_action = self._action("Open project…", self.ask_open_project, "Ctrl+O",
                                                "Open a saved project: data, network, settings and weights")
        self.save_project_action = self._action("Save project", self.save_project, "Ctrl+S",
                                                "Save data, network, settings, weights and cost history")
        self.save_project_as_action = self._action("Save project as…", self.save_project_as, "Ctrl+Shift+S",
                                                   "Save the project under a new name")
        self.export_action = self._action("Export weights…", self.export_weights, "Ctrl+E",
                                          "Write the weights for PyTorch (.safetensors), ONNX Runtime (.onnx) "
                                          "or NumPy (.npz, .json)")
        self.import_action = self._action("Import weights…", self.import_weights, "Ctrl+I",
                                          "Load weights from a .safetensors, .npz or .json file")
        self.quit_action = self._action("Quit", self.close, "Ctrl+Q", "Quit Backprop Playground")
        self.weights_view_action = self._action("Colour by weights", self._toggle_colouring, "Ctrl+W",
                                                "Colour the diagram by weights instead of gradients", True)
        self.log_action = self._action("Log-scale cost", self.loss_plot.log_scale.setChecked, "Ctrl+L",
                                       "Logarithmic cost axis", True)
        self.test_points_action = self._action("Show test data", self.output.plane.show_test.setChecked, "Ctrl+T",
                                               "Draw the test points on the output", True)
        self.add_layer_action = self._action("Add hidden layer", self.add_layer, "Ctrl+=", "Add a hidden layer")
        self.remove_layer_action = self._action("Remove hidden layer", self.remove_layer, "Ctrl+-",
                                                "Remove the last hidden layer")
        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        file_menu.addAction(self.open_project_action)
        self.recent_menu = file_menu.addMenu("Open recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        file_menu.addAction(self.save_project_action)
        file_menu.addAction(self.save_project_as_action)
        file_menu.addSeparator()
        file_menu.addAction(self.open_data_action)
        file_menu.addAction(self.export_action)
        file_menu.addAction(self.import_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        train_menu = menu.addMenu("&Train")
        for action in (self.play_action, self.step_action, self.reset_action):
            train_menu.addAction(action)
        presets_menu = menu.addMenu("&Presets")
        for path in sorted(PRESETS.glob("*.json")):
            action = presets_menu.addAction(path.stem)
            action.setStatusTip(f"Open the preset '{path.stem}' (settings only; save it under a name of yours)")
            action.triggered.connect(lambda _=False, p=path: self.confirm_discard() and self.open_project(p, True))
        self.presets_menu = presets_menu
        network_menu = menu.addMenu("&Network")
        network_menu.addAction(self.add_layer_action)
        network_menu.addAction(self.remove_layer_action)
        view_menu = menu.addMenu("&View")
        for action in (self.weights_view_action, self.log_action, self.test_points_action):
            view_menu.addAction(action)
        self.file_menu = file_menu

        toolbar = QToolBar("Training")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonTextOnly)
        for action in (self.play_action, self.step_action, self.reset_action):
            toolbar.addAction(action)
        for action in toolbar.actions():
            toolbar.widgetForAction(action).setFocusPolicy(Qt.NoFocus)
            toolbar.widgetForAction(action).setMinimumWidth(64)
        toolbar.addWidget(self.epoch_label)
        toolbar.addWidget(self.speed_label)
        toolbar.addWidget(self.training_controls)
        self.addToolBar(toolbar)
        self.toolbar = toolbar
        files = QToolBar("Files")
        files.setMovable(False)
        files.setToolButtonStyle(Qt.ToolButtonTextOnly)
        for action in (self.open_project_action, self.save_project_action, self.open_data_action,
                       self.export_action, self.import_action):
            files.addAction(action)
            files.widgetForAction(action).setFocusPolicy(Qt.NoFocus)
        self.addToolBar(Qt.BottomToolBarArea, files)

    def _build_layout(self):
        right = QSplitter(Qt.Vertical)
        right.addWidget(self.output_tabs)
        right.addWidget(self.loss_plot)
        right.setSizes([500, 350])
        middle = QWidget()
        middle_layout = QVBoxLayout(middle)
        middle_layout.setContentsMargins(0, 0, 0, 0)
        middle_layout.addWidget(self.message)
        middle_layout.addWidget(self.diagram, 1)
        splitter = QSplitter(Qt.Horizontal)
        splitter.addWidget(self.data_controls)
        splitter.addWidget(middle)
        splitter.addWidget(right)
        splitter.setSizes([240, 760, 500])
        self.setCentralWidget(splitter)

    def _connect_controls(self):
        self.data_controls.changed.connect(self.on_data_changed)
        self.data_controls.csv_requested.connect(self.open_csv)
        self.training_controls.hyperparameter_changed.connect(self.on_hyperparameter)
        self.training_controls.rebuild_needed.connect(self.on_seed_or_precision)
        self.diagram.layer_added.connect(self.add_layer)
        self.diagram.layer_removed.connect(self.remove_layer)
        self.diagram.units_changed.connect(self.set_units)
        self.diagram.layer_deleted.connect(self.delete_layer)
        self.diagram.activation_changed.connect(self.set_activation)
        self.diagram.feature_toggled.connect(self.toggle_feature)
        self.loss_plot.log_scale.toggled.connect(self.log_action.setChecked)
        self.output_tabs.currentChanged.connect(lambda _: self._update_chain_rule())
        self.chain_rule.sample_changed.connect(lambda _: self._update_chain_rule())

    # --- commands ------------------------------------------------------------------------
    def rebuild(self, on_built=None):
        """Send the current specs to the worker (new data or architecture: weights re-initialised);
        ``on_built()`` runs if the worker could build them."""
        self.hide_message()
        self._show_specs(self.data, self.network, self.training)
        self._update_title()
        self.on_built.append(on_built)
        self.configure_requested.emit(copy.deepcopy(self.data), copy.deepcopy(self.network),
                                      copy.deepcopy(self.training))

    @Slot()
    def toggle_play(self):
        if self.running:
            self.pause_requested.emit()
        else:
            self.hide_message()
            self.play_requested.emit()

    @Slot()
    def reset(self):
        self.hide_message()
        self.reset_requested.emit()

    @Slot()
    def add_layer(self):
        units, act = self.network.hidden[-1] if self.network.hidden else (4, "tanh")
        self.network = replace(self.network, hidden=self.network.hidden + ((units, act),))
        self.rebuild()

    @Slot()
    def remove_layer(self):
        if self.network.hidden:
            self.network = replace(self.network, hidden=self.network.hidden[:-1])
            self.rebuild()

    @Slot(int)
    def delete_layer(self, layer: int):
        hidden = list(self.network.hidden)
        del hidden[layer]
        self.network = replace(self.network, hidden=hidden)
        self.rebuild()

    @Slot(int, int)
    def set_units(self, layer: int, units: int):
        hidden = list(self.network.hidden)
        hidden[layer] = (units, hidden[layer][1])
        self.network = replace(self.network, hidden=hidden)
        self.rebuild()

    @Slot(int, str)
    def set_activation(self, layer: int, activation: str):
        hidden = list(self.network.hidden)
        hidden[layer] = (hidden[layer][0], activation)
        self.network = replace(self.network, hidden=hidden)
        self.rebuild()

    @Slot(str)
    def toggle_feature(self, key: str):
        features = list(self.data.features)
        if key in features:
            if len(features) == 1:
                self.show_message("At least one input feature is needed.")
                return
            features.remove(key)
        else:
            features = [f for f in datasets.FEATURES if f in features or f == key]  # keep the canonical order
        self.data = replace(self.data, features=features)
        self.rebuild()

    @Slot(object)
    def on_data_changed(self, spec: DataSpec):
        self.data = copy.deepcopy(spec)
        self.rebuild()

    @Slot(str, object)
    def on_hyperparameter(self, name: str, value):
        self.hide_message()
        self.training = replace(self.training, **{name: value})
        self.hyperparameter_requested.emit(name, value)
        self._update_title()

    @Slot()
    def on_seed_or_precision(self):
        seed = self.training_controls.seed.value()
        self.training = replace(self.training, seed=seed)
        self.network = replace(self.network, seed=seed, dtype=self.training_controls.precision.currentData())
        self.rebuild()

    @Slot()
    def open_csv(self):
        path, _ = QFileDialog.getOpenFileName(self, "Open data", "", "CSV files (*.csv *.tsv *.txt);;All files (*)")
        if path:
            self.load_csv(path)

    def load_csv(self, path: str, target: str | None = None):
        """Use a CSV: read its header, let the user choose the target column, then train on it."""
        try:
            columns = datasets.load_csv_header(path)
        except datasets.DatasetError as error:
            QMessageBox.warning(self, TITLE, str(error))
            return
        if target is None:
            target, ok = QInputDialog.getItem(self, "Target column", "Which column should the network predict?",
                                              columns, len(columns) - 1, False)
            if not ok:
                return
        self.data = DataSpec(source="csv", csv_path=str(path), target=target,
                             test_fraction=self.data.test_fraction, seed=self.data.seed)
        self.rebuild()

    def _toggle_colouring(self, weights: bool):
        for button in self.diagram.colour_by.buttons():
            if button.text() == ("weights" if weights else "gradients"):
                button.setChecked(True)

    def show_message(self, text: str):
        self.message.setText(text)
        self.message.show()

    def hide_message(self):
        self.message.hide()

    # --- what the worker says ------------------------------------------------------------
    @Slot(object)
    def on_problem(self, info):
        on_built = self.on_built.popleft() if self.on_built else None
        self.info = info
        self.generation = info.generation
        self.snapshot = None  # the previous problem's weights no longer fit
        problem = info.problem
        data, network, _ = info.specs  # what was built (later requests may still be on their way)
        if problem.is_plane:
            inputs = [(key, label, key in data.features) for key, (label, _) in datasets.FEATURES.items()]
        else:
            inputs = [(name, name, True) for name in problem.input_names]
        units, act = info.network_layers[-1]
        self.diagram.set_structure(inputs, network.hidden, (units, act), info.loss, toggleable=problem.is_plane)
        self.output.set_problem(info)
        self.chain_rule.set_problem(problem, info.loss)
        self._let_space_play()  # the diagram has new number fields
        self.loss_plot.clear()
        self.loss_plot.show_accuracy(problem.task != "regression")
        self.test_points_action.setEnabled(problem.is_plane)
        if on_built is not None:
            on_built()
        self._update_title()

    @Slot(object)
    def on_snapshot(self, snapshot):
        start = time.perf_counter()
        try:
            self.draw_snapshot(snapshot)
        finally:
            # the paint runs from the event loop after this slot; tell the worker once it is done
            QTimer.singleShot(0, partial(self._after_paint, start))

    def _after_paint(self, start: float):
        QTimer.singleShot(0, partial(self._frame_done, start))

    def _frame_done(self, start: float):
        self.worker_thread.worker.view_drawn(time.perf_counter() - start)

    def draw_snapshot(self, snapshot):
        if snapshot.generation < self.generation:
            return  # from before the latest rebuild
        if snapshot.generation > self.generation:  # a reset: same problem, fresh weights
            self.generation = snapshot.generation
            self.loss_plot.clear()
        self.snapshot = snapshot
        self.loss_plot.add_epochs(snapshot.new_epochs)
        self.loss_plot.redraw_if_due(force=not snapshot.running)
        self.diagram.show_snapshot(snapshot)
        self.output.show_snapshot(snapshot)
        if snapshot.grid is not None or snapshot.predictions is not None:  # at the output view's pace
            self._update_chain_rule()
        self.epoch_label.setText(f"epoch {snapshot.epoch:,}")
        speed = f"{snapshot.steps_per_second:,.0f} steps/s" if snapshot.running else ""
        penalty = f" · penalty {snapshot.penalty:.3g}" if self.training.regularization else ""
        self.speed_label.setText(speed + penalty)

    @Slot(str, object)
    def on_configure_failed(self, text: str, specs):
        if self.on_built:
            self.on_built.popleft()  # that build's follow-up (an opened project, say) is dropped
        self.on_failed(text, specs)

    @Slot(str, object)
    def on_failed(self, text: str, specs):
        """The worker refused a setting; ``specs`` are the ones still in force (None before any)."""
        self.show_message(f"That setting cannot be used: {text}. Nothing was changed.")
        if specs is not None and not self.on_built:  # with builds still on their way, those are newer
            self._show_specs(*specs)
        self._update_title()

    def _show_specs(self, data, network, training):
        self.data, self.network, self.training = (copy.deepcopy(s) for s in (data, network, training))
        self.data_controls.set_spec(self.data)
        self.training_controls.set_config(self.training, self.network.dtype)

    @Slot(str)
    def on_diverged(self, text: str):
        self.show_message(f"Training paused: {text}")

    @Slot(bool)
    def on_running_changed(self, running: bool):
        self.running = running
        self.play_action.setText("Pause" if running else "Play")

    def _let_space_play(self):
        for field in self.findChildren(QAbstractSpinBox) + self.findChildren(QComboBox) + self.findChildren(QLineEdit):
            field.installEventFilter(self.space_filter)  # installing twice keeps one

    def _update_chain_rule(self):
        if self.output_tabs.currentWidget() is self.chain_rule:  # computed only while shown
            self.chain_rule.show_network(self.current_network())

    def keyPressEvent(self, event):
        # Space arrives here unhandled when no widget has the focus, e.g. the window is not active
        # (then its shortcut is off): it still means play/pause.
        if event.key() == Qt.Key_Space and event.modifiers() == Qt.NoModifier and not event.isAutoRepeat():
            self.toggle_play()
            return
        super().keyPressEvent(event)

    # --- closing -------------------------------------------------------------------------
    def closeEvent(self, event):
        if not self.confirm_discard():
            event.ignore()
            return
        if not self.worker_thread.close():
            print("warning: the training thread did not stop in time", file=sys.stderr)
        super().closeEvent(event)

    def current_network(self) -> Network | None:
        """A Network holding the latest weights (a copy; the worker's stays its own)."""
        if self.snapshot is None or self.info is None:
            return None
        return Network(self.info.problem.n_inputs, self.info.network_layers, dtype=self.network.dtype,
                       weights=self.snapshot.weights)

    # --- files ---------------------------------------------------------------------------
    def _specs(self):
        return copy.deepcopy((self.data, self.network, self.training))

    def is_modified(self) -> bool:
        """Settings changed since the last save or open (training progress alone does not count)."""
        return self._specs() != self.saved_specs

    def _update_title(self):
        name = Path(self.project_path).name if self.project_path else "untitled"
        self.setWindowTitle(f"{TITLE} — {name}{' *' if self.is_modified() else ''}")

    def confirm_discard(self) -> bool:
        """Ask before unsaved settings are lost; True to go on."""
        if not self.is_modified():
            return True
        answer = QMessageBox.question(
            self, TITLE, "The project has unsaved changes. Save them first?",
            QMessageBox.Save | QMessageBox.Discard | QMessageBox.Cancel, QMessageBox.Save)
        if answer == QMessageBox.Save:
            return self.save_project()
        return answer == QMessageBox.Discard

    @Slot()
    def ask_open_project(self):
        if not self.confirm_discard():
            return
        path, _ = QFileDialog.getOpenFileName(self, "Open project", self._folder(), "Projects (*.json)")
        if path:
            self.open_project(path)

    def open_project(self, path, as_template: bool = False) -> bool:
        """Load a project file; a bad one shows why and changes nothing. A template (a preset)
        is not the file later saves go to."""
        try:
            project = load_project(path)
        except (FormatError, OSError) as error:
            QMessageBox.warning(self, TITLE, f"Cannot open the project:\n\n{error}")
            return False
        def opened():  # only once the worker has built it: a project that cannot be built changes nothing
            self.project_path = None if as_template else str(path)
            self.saved_specs = copy.deepcopy((project.data, project.network, project.training))
            if not as_template:
                self._remember(path)
            if project.history is not None:
                self.loss_plot.add_history(project.history)
            if project.weights is not None:
                epochs = len(project.history.train_loss) if project.history is not None else -1
                self.weights_requested.emit(project.weights.get_weights(), epochs)

        self.data, self.network, self.training = project.data, project.network, project.training
        self.pause_requested.emit()  # epochs trained before the saved weights arrive would join the saved history
        self.rebuild(on_built=opened)
        return True

    @Slot()
    def save_project(self) -> bool:
        if not self.project_path:
            return self.save_project_as()
        return self._write_project(self.project_path)

    @Slot()
    def save_project_as(self) -> bool:
        path, _ = QFileDialog.getSaveFileName(self, "Save project", self._folder("project.json"), "Projects (*.json)")
        if not path:
            return False
        if not path.lower().endswith(".json"):
            path += ".json"
        return self._write_project(path)

    def _write_project(self, path) -> bool:
        try:
            save_project(path, self.data, self.network, self.training, self.current_network(),
                         self.loss_plot.history())
        except (ValueError, OSError) as error:
            QMessageBox.warning(self, TITLE, f"Cannot save the project:\n\n{error}")
            return False
        self.project_path = str(path)
        self.saved_specs = self._specs()
        self._remember(path)
        self._update_title()
        self.statusBar().showMessage(f"Saved {Path(path).name}", 5000)
        return True

    @Slot()
    def export_weights(self):
        net = self.current_network()
        if net is None:
            return
        filters = ("PyTorch safetensors (*.safetensors);;ONNX (*.onnx);;NumPy (*.npz);;JSON (*.json)")
        path, chosen = QFileDialog.getSaveFileName(self, "Export weights", self._folder("model.safetensors"), filters)
        if not path:
            return
        if Path(path).suffix.lower() not in io.SAVE_SUFFIXES:
            path += "." + chosen.split("*.")[-1].rstrip(")")
        try:
            io.save(net, path)
        except (ValueError, ImportError, OSError) as error:
            QMessageBox.warning(self, TITLE, f"Cannot export the weights:\n\n{error}")
            return
        hint = f" — in PyTorch: {io.torch_recipe(net)}" if path.endswith(".safetensors") else ""
        self.statusBar().showMessage(f"Exported {Path(path).name}{hint}", 15000)

    @Slot()
    def import_weights(self):
        path, _ = QFileDialog.getOpenFileName(self, "Import weights", self._folder(),
                                              "Weights (*.safetensors *.npz *.json)")
        if path:
            self.load_weights(path)

    def load_weights(self, path) -> bool:
        """Weights into the current network; on another architecture, offer to adopt it."""
        try:
            net = io.load(path)
        except (FormatError, OSError) as error:
            QMessageBox.warning(self, TITLE, f"Cannot import the weights:\n\n{error}")
            return False
        problem, current = self.info.problem, self.info.network_layers
        if net.n_inputs == problem.n_inputs and net.spec == current and net.dtype == self.network.dtype:
            self.weights_requested.emit(net.get_weights(), -1)
            return True
        if net.n_inputs != problem.n_inputs or net.n_outputs != problem.n_outputs:
            QMessageBox.warning(self, TITLE, f"{Path(path).name} has {net.n_inputs} inputs and {net.n_outputs} "
                                f"outputs; the current data needs {problem.n_inputs} and {problem.n_outputs}.")
            return False
        answer = QMessageBox.question(
            self, TITLE, f"{Path(path).name} holds a network {_describe(net.n_inputs, net.spec, net.dtype)}; the "
            f"current one is {_describe(problem.n_inputs, current, self.network.dtype)}.\n\n"
            "Replace the current network with the file's?")
        if answer != QMessageBox.Yes:
            return False
        self.network = replace(self.network, hidden=net.spec[:-1], output_activation=net.spec[-1][1],
                               dtype=str(net.dtype))
        self.rebuild(on_built=lambda: self.weights_requested.emit(net.get_weights(), -1))
        return True

    def _folder(self, name: str = "") -> str:
        folder = Path(self.project_path).parent if self.project_path else Path.cwd()
        return str(folder / name)

    def _remember(self, path):
        settings = QSettings()
        recent = [str(Path(path).resolve())] + [p for p in _recent_list(settings) if p != str(Path(path).resolve())]
        settings.setValue("recent_projects", recent[:RECENT_MAX])

    def _fill_recent_menu(self):
        self.recent_menu.clear()
        for path in _recent_list(QSettings()):
            action = self.recent_menu.addAction(path)
            action.triggered.connect(lambda _=False, p=path: self.confirm_discard() and self.open_project(p))
        self.recent_menu.setEnabled(bool(self.recent_menu.actions()))


def _recent_list(settings) -> list:
    value = settings.value("recent_projects", [])
    return [value] if isinstance(value, str) else list(value or [])


def _describe(n_inputs, layers, dtype) -> str:
    """'2-8-1 (tanh, sigmoid; float64)'."""
    sizes = "-".join(str(n) for n in [n_inputs] + [units for units, _ in layers])
    return f"{sizes} ({', '.join(act for _, act in layers)}; {dtype})"
