"""Every action of the window, with its shortcut and tip, and the menus and toolbar that show them."""
from __future__ import annotations

from functools import partial

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence
from PySide6.QtWidgets import QAbstractItemView, QAbstractSlider, QApplication, QInputDialog, QTextEdit, QToolBar

from core.limits import CHECKPOINT_BUDGET, MiB

from playground.ui.files import PRESETS, recent_projects

ZOOMS = (0.75, 0.9, 1.0, 1.25, 1.5, 1.75, 2.0, 2.5)


class Actions:
    def __init__(self, window):
        self.window = window
        session, files = window.session, window.files
        self.play = self._action("Play", session.toggle_play, "Space", "Train / pause")
        self.step = self._action("Step", session.step, "Ctrl+Right", "Train one epoch, then pause")
        self.reset = self._action("Reset", session.reset, "Ctrl+R",
                                  "Re-initialise the network from its seed (Undo brings the trained one back)")
        stack = session.undo_stack
        # through the Session, which refuses while a project is being opened; the menu's say what they
        # undo ("Undo add layer"), the toolbar's keep a short text so the toolbar keeps its width
        self.undo = self._action("Undo", session.undo, "Ctrl+Z", "Undo the last edit: the network comes back "
                                                                 "as it was trained")
        self.redo = self._action("Redo", session.redo, "Ctrl+Shift+Z", "Redo the edit undone last")
        self.redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.undo_button = self._action("Undo", session.undo, None, "Undo the last edit")
        self.redo_button = self._action("Redo", session.redo, None, "Redo the edit undone last")
        for action, button, can, text, verb in ((self.undo, self.undo_button, stack.canUndoChanged,
                                                 stack.undoTextChanged, "Undo"),
                                                (self.redo, self.redo_button, stack.canRedoChanged,
                                                 stack.redoTextChanged, "Redo")):
            for each in (action, button):
                each.setEnabled(False)
                can.connect(each.setEnabled)
            text.connect(button.setToolTip)  # what it would undo: "add layer"
            text.connect(partial(_name_action, action, verb))
        self.open_project = self._action("Open project…", files.ask_open, "Ctrl+O",
                                         "Open a saved project: data, network, settings and weights")
        self.save_project = self._action("Save project", files.save, "Ctrl+S",
                                         "Save data, network, settings, weights and cost history")
        self.save_project_as = self._action("Save project as…", files.save_as, "Ctrl+Shift+S",
                                            "Save the project under a new name")
        self.open_data = self._action("Open data…", files.ask_csv, "Ctrl+D", "Train on your own CSV file")
        self.export = self._action("Export model…", files.export_model, "Ctrl+E",
                                   "Write the model (weights with its preprocessing: it answers raw rows) for "
                                   "PyTorch (.safetensors), ONNX Runtime (.onnx) or NumPy (.npz, .json)")
        self.export_script = self._action("Export as PyTorch script…", files.export_script, "Ctrl+Shift+E",
                                          "A Python script that predicts from a CSV and goes on training, "
                                          "alone or on many processes with torchrun")
        self.import_ = self._action("Import weights…", files.ask_import, "Ctrl+I",
                                    "Load weights from a .safetensors (ours or PyTorch's), .npz or .json file")
        self.quit = self._action("Quit", window.close, "Ctrl+Q", "Quit Backprop Playground")
        self.colour_by_weights = self._action(
            "Colour by weights", lambda on: session.set_view(colour_by="weights" if on else "gradients"), "Ctrl+W",
            "Colour the diagram by weights instead of gradients", checkable=True)
        self.log_scale = self._action("Log-scale cost", lambda on: session.set_view(log_scale=on), "Ctrl+L",
                                      "Logarithmic cost axis", checkable=True)
        self.show_test = self._action("Show test data", lambda on: session.set_view(show_test=on), "Ctrl+T",
                                      "Draw the test points on the output", checkable=True)
        self.pictures = self._action("Neuron pictures", lambda on: session.set_view(pictures=on), "Ctrl+P",
                                     "Draw each hidden neuron as what it computes over the input plane (2-D data)",
                                     checkable=True)
        analyses = window.analyses
        self.check_gradients = self._action("Check gradients", analyses.check_gradients, None,
                                            "Backprop's gradients against central differences, layer by layer")
        self.export_animation = self._action("Export training animation…", analyses.export_animation, None,
                                             "The output and the cost curve growing, as a GIF or MP4 for slides")
        self.export_window = self._action("Whole window…", analyses.export_window, None,
                                          "A picture of the whole window (PNG)")
        self.export_views = [self._action(f"{name.capitalize()}…", partial(analyses.export_view, name), None,
                                          f"A picture of the {name} view (PNG or SVG)")
                             for name in ("network", "output", "cost", "landscape")]
        self.pin_run = self._action("Pin this run", lambda: session.pin_run(), None,
                                    "Keep this run's curves, settings and weights to compare the next runs with")
        self.checkpoint_memory = self._action("Checkpoint memory…", self._ask_checkpoint_memory, None,
                                              "How much memory the past epochs' weights may take: the more, "
                                              "the more epochs the timeline keeps")
        self.export_runs = self._action("Export runs as CSV…", files.export_runs, None,
                                        "Every pinned run's and this run's cost and accuracy per epoch")
        self.earlier = self._action("Earlier checkpoint", lambda: self._arrow(Qt.Key_Left, -1), "Left",
                                    "The network one checkpoint earlier (the timeline under the cost plot)")
        self.later = self._action("Later checkpoint", lambda: self._arrow(Qt.Key_Right, +1), "Right",
                                  "The network one checkpoint later; after the latest, the live run")
        self.zoom_in = self._action("Zoom in", lambda: self._zoom(+1), "Ctrl+=", "Larger text and diagram")
        self.zoom_in.setShortcuts([QKeySequence("Ctrl+="), QKeySequence("Ctrl++")])
        self.zoom_out = self._action("Zoom out", lambda: self._zoom(-1), "Ctrl+-", "Smaller text and diagram")
        self.zoom_reset = self._action("Actual size", lambda: session.set_view(zoom=1.0), "Ctrl+0",
                                       "Text and diagram at their normal size")
        self.full_screen = self._action("Full screen", window.toggle_full_screen, "F11", "Fill the screen",
                                        checkable=True)
        self.add_layer = self._action("Add hidden layer", lambda: session.add_layer(), None,
                                      "Add a hidden layer after the last")
        self.remove_layer = self._action("Remove hidden layer", lambda: session.remove_layer(), None,
                                         "Remove the last hidden layer")
        self._build_menus()
        self.toolbar = self._build_toolbar()

    def _action(self, text, slot, shortcut=None, tip=None, checkable=False) -> QAction:
        action = QAction(text, self.window)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        action.setToolTip(f"{tip or text} ({QKeySequence(shortcut).toString()})" if shortcut else (tip or text))
        action.setStatusTip(tip or text)
        action.setCheckable(checkable)
        action.triggered.connect(slot)
        return action

    def _arrow(self, key, direction: int):
        """← / → step the timeline, unless the focus is on something they move: a slider, text, a table
        (a text field takes them before any shortcut)."""
        focus = QApplication.focusWidget()
        moves = isinstance(focus, (QAbstractSlider, QAbstractItemView, QTextEdit))
        if moves and focus is not self.window.timeline.slider:
            focus.keyPressEvent(QKeyEvent(QEvent.KeyPress, key, Qt.NoModifier))  # sent, it would be this shortcut
        else:
            self.window.timeline.step(direction)

    def _zoom(self, direction: int):
        zoom = self.window.session.view.zoom
        bigger, smaller = [z for z in ZOOMS if z > zoom + 1e-9], [z for z in ZOOMS if z < zoom - 1e-9]
        choice = (bigger[:1] if direction > 0 else smaller[-1:]) or [zoom]
        self.window.session.set_view(zoom=choice[0])

    def _ask_checkpoint_memory(self):
        store = self.window.session.checkpoints
        low, high = (bound // MiB for bound in CHECKPOINT_BUDGET)
        mib, ok = QInputDialog.getInt(
            self.window, "Checkpoint memory",
            f"Memory for the weights of past epochs, in MiB ({low:,} to {high:,}).\n"
            f"This run keeps {len(store):,} checkpoints in {store.nbytes / MiB:,.1f} MiB now;\n"
            "a lower figure thins them at once, keeping the first, the latest and a spread between.",
            store.budget // MiB, low, high)
        if ok:
            self.window.session.set_checkpoint_budget(mib * MiB)

    def _build_menus(self):
        window, files = self.window, self.window.files
        menu = window.menuBar()
        file_menu = menu.addMenu("&File")
        file_menu.addAction(self.open_project)
        self.recent_menu = file_menu.addMenu("Open recent")
        self.recent_menu.aboutToShow.connect(self.fill_recent_menu)
        file_menu.addAction(self.save_project)
        file_menu.addAction(self.save_project_as)
        file_menu.addSeparator()
        for action in (self.open_data, self.export, self.export_script, self.import_, self.export_runs):
            file_menu.addAction(action)
        pictures = file_menu.addMenu("Export picture")
        for action in (*self.export_views, self.export_window):
            pictures.addAction(action)
        file_menu.addAction(self.export_animation)
        file_menu.addSeparator()
        file_menu.addAction(self.quit)
        edit_menu = menu.addMenu("&Edit")
        edit_menu.addAction(self.undo)
        edit_menu.addAction(self.redo)
        train_menu = menu.addMenu("&Train")
        for action in (self.play, self.step, self.reset):
            train_menu.addAction(action)
        train_menu.addSeparator()
        train_menu.addAction(self.pin_run)
        train_menu.addAction(self.checkpoint_memory)
        train_menu.addAction(self.check_gradients)
        self.train_menu = train_menu
        self.presets_menu = menu.addMenu("&Presets")
        for path in sorted(PRESETS.glob("*.json")):
            action = self.presets_menu.addAction(path.stem)
            action.setStatusTip(f"Open the preset '{path.stem}' (settings only; save it under a name of yours)")
            action.triggered.connect(lambda _=False, p=path: files.open_preset(p))
        network_menu = menu.addMenu("&Network")
        network_menu.addAction(self.add_layer)
        network_menu.addAction(self.remove_layer)
        view_menu = menu.addMenu("&View")
        for action in (self.colour_by_weights, self.log_scale, self.show_test, self.pictures):
            view_menu.addAction(action)
        view_menu.addSeparator()
        view_menu.addAction(self.earlier)
        view_menu.addAction(self.later)
        view_menu.addSeparator()
        for action in (self.zoom_in, self.zoom_out, self.zoom_reset, self.full_screen):
            view_menu.addAction(action)
        self.file_menu = file_menu

    def _build_toolbar(self) -> QToolBar:
        window = self.window
        toolbar = QToolBar("Training")
        toolbar.setObjectName("training toolbar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonTextOnly)
        for action in (self.play, self.step, self.reset):
            toolbar.addAction(action)
        toolbar.addSeparator()
        toolbar.addAction(self.undo_button)
        toolbar.addAction(self.redo_button)
        toolbar.addSeparator()
        toolbar.addWidget(window.epoch_label)
        toolbar.addWidget(window.speed_label)
        for action in (self.open_project, self.save_project, self.export):
            toolbar.addAction(action)
        for action in toolbar.actions():
            button = toolbar.widgetForAction(action)
            if button is not None:
                button.setFocusPolicy(Qt.NoFocus)  # Space stays play/pause
        window.addToolBar(toolbar)
        return toolbar

    def fill_recent_menu(self):
        self.recent_menu.clear()
        files = self.window.files
        for path in recent_projects():
            action = self.recent_menu.addAction(path)
            action.triggered.connect(lambda _=False, p=path: files.confirm_discard() and files.open(p))
        self.recent_menu.setEnabled(bool(self.recent_menu.actions()))

    def show_view(self, view):
        """Tick the view actions as the Session's view options say."""
        for action, on in ((self.colour_by_weights, view.colour_by == "weights"), (self.log_scale, view.log_scale),
                           (self.show_test, view.show_test), (self.pictures, view.pictures)):
            action.blockSignals(True)
            action.setChecked(on)
            action.blockSignals(False)
        self.zoom_in.setEnabled(view.zoom < ZOOMS[-1])
        self.zoom_out.setEnabled(view.zoom > ZOOMS[0])


def _name_action(action, verb: str, text: str) -> None:
    """The Edit menu says what undo or redo would do: "Undo add layer"."""
    action.setText(f"{verb} {text}" if text else verb)
