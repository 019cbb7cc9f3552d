"""Files and their dialogs: projects, data, weights, recent files, and asking before work is lost."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QLabel,
                               QMessageBox)

from core import activations, datasets, io, runs, tables
from core.io import FormatError
from core.project import load_project
from core.spec import DataSpec
from playground.widgets.csv_import import choose_csv

TITLE = "Backprop Playground"
RECENT_MAX = 8
PRESETS = datasets.RESOURCES / "presets"


class Files:
    """What the File menu does, for one window and its Session."""

    def __init__(self, window):
        self.window = window
        self.session = window.session
        self.session.project_opened.connect(self.remember)

    # --- projects ---------------------------------------------------------------------------
    def confirm_discard(self) -> bool:
        """Ask before unsaved settings, weights or training are lost; True to go on."""
        if not self.session.is_modified():
            return True
        answer = QMessageBox.question(
            self.window, TITLE, "The project has unsaved changes (settings or training). Save them first?",
            QMessageBox.Save | QMessageBox.Discard | QMessageBox.Cancel, QMessageBox.Save)
        if answer == QMessageBox.Save:
            return self.save()
        return answer == QMessageBox.Discard

    def ask_open(self):
        if not self.confirm_discard():
            return
        path, _ = QFileDialog.getOpenFileName(self.window, "Open project", self.folder(), "Projects (*.json)")
        if path:
            self.open(path)

    def open(self, path, as_template: bool = False) -> bool:
        """Read and check a project file, then have the Session build it; a bad file shows why and
        changes nothing. True if it was sent to be built."""
        try:
            project = load_project(path)
        except (FormatError, OSError) as error:
            QMessageBox.warning(self.window, TITLE, f"Cannot open the project:\n\n{error}")
            return False
        changed = tables.csv_changed(project.data.csv_path, project.data.csv_fingerprint)
        self.session.open_project(project, None if as_template else str(path), as_template,
                                  warning=f"{changed} The network trains on the file as it is now." if changed else "")
        return True

    def open_preset(self, path):
        if self.confirm_discard():
            self.open(path, as_template=True)

    def save(self) -> bool:
        if not self.session.project_path:
            return self.save_as()
        return self.write(self.session.project_path)

    def save_as(self) -> bool:
        path, _ = QFileDialog.getSaveFileName(self.window, "Save project", self.folder("project.json"),
                                              "Projects (*.json)")
        if not path:
            return False
        if not path.lower().endswith(".json"):
            path += ".json"
        return self.write(path)

    def write(self, path) -> bool:
        try:
            self.session.save_project(path)
        except (ValueError, OSError) as error:
            QMessageBox.warning(self.window, TITLE, f"Cannot save the project:\n\n{error}")
            return False
        self.remember(path)
        self.window.statusBar().showMessage(f"Saved {Path(path).name}", 5000)
        return True

    # --- data -----------------------------------------------------------------------------------
    def ask_csv(self):
        path, _ = QFileDialog.getOpenFileName(self.window, "Open data", self.folder(),
                                              "CSV files (*.csv *.tsv *.txt);;All files (*)")
        if path:
            self.import_csv(path)

    def import_csv(self, path: str):
        """Read a CSV in the import dialog, where the user sees what was inferred and chooses the target,
        the features, the task and what to do with missing cells; then train on it."""
        data = self.session.data
        start = data if data.source == "csv" and data.csv_path == str(path) else None
        chosen = choose_csv(path, start, self.window)
        if chosen is not None:
            self.use_csv(*chosen)

    def load_csv(self, path: str, target: str | None = None):
        """Train on a CSV as read with its inferred choices (the target: the last column unless given)."""
        data = self.session.data
        self.use_csv(DataSpec(source="csv", csv_path=str(path), target=target, test_fraction=data.test_fraction,
                              seed=data.seed))

    def use_csv(self, data: DataSpec, table=None):
        """Train on ``data``; ``table``: the file as read for it (then, if unchanged since, not read again)."""
        try:
            now = tables.fingerprint(data.csv_path)
        except (ValueError, OSError):
            now = None  # the worker's reading will say what is wrong with the file
        if now != data.csv_fingerprint:  # the file changed since it was read (or nothing was read)
            data, table = replace(data, csv_fingerprint=now), None
        self.session.set_data(data, table)

    # --- models -------------------------------------------------------------------------------
    def export_model(self):
        """The whole model: weights with the preprocessing, so the file answers raw rows."""
        filters = "PyTorch safetensors (*.safetensors);;ONNX (*.onnx);;NumPy (*.npz);;JSON (*.json)"
        path, chosen = QFileDialog.getSaveFileName(self.window, "Export model", self.folder("model.safetensors"),
                                                   filters)
        if path and Path(path).suffix.lower() not in io.SAVE_SUFFIXES:
            path += "." + chosen.split("*.")[-1].rstrip(")")
        self._export(path)

    def export_script(self):
        """A PyTorch script that predicts and goes on training, with the weights beside it."""
        path, _ = QFileDialog.getSaveFileName(self.window, "Export as PyTorch script", self.folder("model.py"),
                                              "Python scripts (*.py)")
        if path and not path.lower().endswith(io.SCRIPT_SUFFIX):
            path += io.SCRIPT_SUFFIX
        self._export(path)

    def _export(self, path):
        session = self.session
        if not path:
            return
        try:
            session.flush()  # an edit just made: the network it built, not the one before
            io.save(session.current_network(), path, preprocessing=session.built.problem.preprocessing,
                    training=session.training)
        except (ValueError, ImportError, OSError) as error:
            QMessageBox.warning(self.window, TITLE, f"Cannot export the model:\n\n{error}")
            return
        beside = f" and {Path(path).with_suffix('.safetensors').name}" if path.endswith(io.SCRIPT_SUFFIX) else ""
        self.window.statusBar().showMessage(f"Exported {Path(path).name}{beside}", 15000)

    def ask_import(self):
        path, _ = QFileDialog.getOpenFileName(self.window, "Import weights", self.folder(),
                                              "Weights (*.safetensors *.npz *.json)")
        if path:
            self.import_weights(path)

    def import_weights(self, path) -> bool:
        """Weights into the current network; on another architecture, offer to adopt it."""
        session = self.session
        try:
            try:
                net = io.load(path)
            except io.ActivationsNeeded as needed:  # written by PyTorch: its activations are not in the file
                chosen = ask_activations(self.window, Path(path).name, needed.layers)
                if chosen is None:
                    return False
                net = io.load(path, activations=chosen)
        except (FormatError, OSError) as error:
            QMessageBox.warning(self.window, TITLE, f"Cannot import the weights:\n\n{error}")
            return False
        built = session.built
        if built is None:
            return False
        problem, current = built.problem, tuple(built.layers)
        if not self._reads_rows_alike(Path(path).name, getattr(net, "preprocessing", None), problem.preprocessing):
            return False
        if net.n_inputs == problem.n_inputs and tuple(net.spec) == current and net.dtype.name == session.network.dtype:
            session.import_weights(net)
            return True
        if net.n_inputs != problem.n_inputs or net.n_outputs != problem.n_outputs:
            QMessageBox.warning(self.window, TITLE, f"{Path(path).name} has {net.n_inputs} inputs and {net.n_outputs} "
                                f"outputs; the current data needs {problem.n_inputs} and {problem.n_outputs}.")
            return False
        answer = QMessageBox.question(
            self.window, TITLE, f"{Path(path).name} holds a network {describe(net.n_inputs, net.spec, net.dtype)}; "
            f"the current one is {describe(problem.n_inputs, current, session.network.dtype)}.\n\n"
            "Replace the current network with the file's? (Edit → Undo brings the current one back.)")
        if answer != QMessageBox.Yes:
            return False
        session.import_weights(net, adopt=True)
        return True

    def _reads_rows_alike(self, name: str, theirs, ours) -> bool:
        """Whether to go on with weights trained on data read differently (another table, other
        classes, other scaling): they would see this data's inputs as this data encodes them."""
        differences = theirs.differences(ours) if theirs is not None else []
        if not differences:
            return True
        answer = QMessageBox.question(
            self.window, TITLE, f"{name} was trained on other data: {'; '.join(differences)}.\n\n"
            "Its weights would be given the current data as it is encoded now, not as they were trained. "
            "Import them anyway?")
        return answer == QMessageBox.Yes

    def export_runs(self):
        """Every pinned run's and this run's figures per epoch, in one CSV file."""
        session = self.session
        path, _ = QFileDialog.getSaveFileName(self.window, "Export runs as CSV", self.folder("runs.csv"),
                                              "CSV files (*.csv)")
        if not path:
            return
        histories = session.run_histories()
        try:
            runs.export_csv(path, histories, session.run_labels())
        except (ValueError, OSError) as error:
            QMessageBox.warning(self.window, TITLE, f"Cannot export the runs:\n\n{error}")
            return
        self.window.statusBar().showMessage(f"Exported {Path(path).name}", 5000)

    # --- places -------------------------------------------------------------------------------
    def folder(self, name: str = "") -> str:
        path = self.session.project_path
        folder = Path(path).parent if path else Path.cwd()
        return str(folder / name)

    def remember(self, path):
        settings = QSettings()
        path = str(Path(path).resolve())
        settings.setValue("recent_projects", [path] + [p for p in recent_projects() if p != path][:RECENT_MAX - 1])


def ask_activations(parent, name: str, layers) -> list | None:
    """One activation per Linear layer of a PyTorch file, chosen by the user; None if cancelled.

    ``layers`` is ``[(n_in, n_out, module_after)]``: a layer with no module after it is linear."""
    dialog = QDialog(parent)
    dialog.setWindowTitle("Activations of the imported layers")
    form = QFormLayout(dialog)
    form.addRow(QLabel(f"{name} was written by PyTorch: it holds the Linear layers' weights but not the "
                       "activations between them. Choose them (or write them in a file beside it; see the README)."))
    combos = []
    for i, (n_in, n_out, module_after) in enumerate(layers):
        combo = QComboBox()
        names = ["linear"] if module_after is False else [a for a in activations.ACTIVATIONS
                                                         if a != "linear" or module_after is None]
        for key in names:
            combo.addItem(activations.ACTIVATIONS[key].label, key)
        form.addRow(f"Linear {i + 1} ({n_in} → {n_out})", combo)
        combos.append(combo)
    buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    form.addRow(buttons)
    if dialog.exec() != QDialog.Accepted:
        return None
    return [combo.currentData() for combo in combos]


def recent_projects() -> list:
    value = QSettings().value("recent_projects", [])
    return [value] if isinstance(value, str) else list(value or [])


def describe(n_inputs, layers, dtype) -> str:
    """'2-8-1 (tanh, sigmoid; float64)'."""
    sizes = "-".join(str(n) for n in [n_inputs] + [units for units, _ in layers])
    return f"{sizes} ({', '.join(act for _, act in layers)}; {dtype})"
