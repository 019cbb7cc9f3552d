"""Settings panels: ``DataControls`` for the data, ``TrainingControls`` for how to train.

They show specs (``show``) and emit what the user asks for; they never keep settings of their own.
Values are stored names (``"relu"``, ``"adam"``) kept apart from the labels shown. Typed numbers are
taken as typed: a value out of range is refused by the Session with a message, never clipped here.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QLabel, QPushButton, QSlider, QVBoxLayout, QWidget

from core import datasets, optimizers
from core.spec import DataSpec, NetworkSpec, TrainingConfig
from playground.widgets.fields import CountField, choice_combo, typed_combo
from playground.widgets.labels import ElidedLabel

BATCH_SIZES = ["1", "10", "32", "100", "all"]
LEARNING_RATES = ["0.00001", "0.0001", "0.001", "0.003", "0.01", "0.03", "0.1", "0.3", "1", "3", "10"]
REG_RATES = ["0", "0.0001", "0.001", "0.003", "0.01", "0.03", "0.1", "0.3", "1", "3", "10"]
REGULARIZATIONS = [("none", None), ("L1", "l1"), ("L2", "l2")]
TABLE_LABELS = {"house_prices": "House prices (table)", "iris": "Iris flowers (table)"}
TASKS = [("inferred", None), ("regression", "regression"), ("classification", "multiclass")]
CSV = "csv"


def _choices(items, tip: str) -> QComboBox:
    return choice_combo(items, tip, keyboard=False)


def _select(combo: QComboBox, value) -> None:
    """Show ``value``; one that is not listed (from a project file, say) is added rather than hidden."""
    index = combo.findData(value)
    if index < 0:
        combo.addItem(f"{value:g}" if isinstance(value, float) else str(value), value)
        index = combo.count() - 1
    combo.setCurrentIndex(index)


def _slider(low: int, high: int, tip: str) -> QSlider:
    slider = QSlider(Qt.Horizontal)
    slider.setRange(low, high)
    slider.setTracking(False)  # one change when released, not one per pixel
    slider.setToolTip(tip)
    slider.setFocusPolicy(Qt.NoFocus)
    return slider


@contextmanager
def _blocked(widgets):
    """Show values in ``widgets`` without their signals announcing an edit."""
    for widget in widgets:
        widget.blockSignals(True)
    try:
        yield
    finally:
        for widget in widgets:
            widget.blockSignals(False)


class DataControls(QWidget):
    """Dataset, points, noise, test share, data seed and task. Emits ``changed(DataSpec)``."""

    changed = Signal(object)
    csv_requested = Signal()  # the user picked "Your CSV file…"

    def __init__(self, spec: DataSpec | None = None, parent=None):
        super().__init__(parent)
        self.spec = spec or DataSpec()
        items = [(label, name) for name, (label, _, _) in datasets.PLANE_SETS.items()]
        items += [("Drawn by hand", datasets.DRAWN)]
        items += [(label, name) for name, label in TABLE_LABELS.items()] + [("Your CSV file…", CSV)]
        self.dataset = _choices(items, "Which data to learn: 2-D sets, bundled tables or your own CSV")
        self.samples = CountField("Number of points in a 2-D set", step=100)
        self.noise = _slider(0, 50, "Noise added to the 2-D set, in %")
        self.test_percent = _slider(0, 90, "Share of the data kept aside for testing, in %")
        self.seed = CountField("Seed of the data and of the train/test split")
        self.task = _choices(TASKS, "For tables: predict a number (regression) or a class; by default a target "
                                  "of text or of at most 10 whole numbers is read as classes")
        self.standardize = QCheckBox("standardise inputs")
        self.standardize.setToolTip("Tables: inputs (and a regression's target) to mean 0 and standard deviation 1, "
                                    "from the training split. Off: raw values, as the lessons train.")
        self.standardize.setFocusPolicy(Qt.NoFocus)
        self.regenerate = QPushButton("Regenerate")
        self.regenerate.setToolTip("Draw a new sample of the same data (next data seed), keeping every setting")
        self.regenerate.setFocusPolicy(Qt.NoFocus)
        self.noise_label, self.test_label = QLabel(), QLabel()
        self.source_label = ElidedLabel(elide=Qt.ElideMiddle)  # a long path never widens the panel
        form = QFormLayout()
        form.addRow("Data", self.dataset)
        form.addRow("Points", self.samples)
        form.addRow(self.noise_label, self.noise)
        form.addRow(self.test_label, self.test_percent)
        form.addRow("Data seed", self.seed)
        form.addRow("Task", self.task)
        form.addRow("", self.standardize)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form)
        layout.addWidget(self.regenerate)
        layout.addWidget(self.source_label)
        self.show_spec(self.spec)
        self.dataset.activated.connect(self._dataset_chosen)
        self.samples.entered.connect(lambda n: self._emit(n_samples=n))
        self.seed.entered.connect(lambda n: self._emit(seed=n))
        self.noise.valueChanged.connect(lambda v: self._emit(noise=v / 100))
        self.test_percent.valueChanged.connect(lambda v: self._emit(test_fraction=v / 100))
        self.task.activated.connect(lambda _: self._emit(task=self.task.currentData()))
        self.standardize.toggled.connect(lambda on: self._emit(standardize=on))
        self.regenerate.clicked.connect(lambda: self._emit(seed=self.spec.seed + 1))

    def show_spec(self, spec: DataSpec) -> None:
        """Show ``spec`` without emitting ``changed``."""
        self.spec = spec
        with _blocked((self.dataset, self.samples, self.noise, self.test_percent, self.seed, self.task,
                       self.standardize)):
            _select(self.dataset, spec.source)
            _select(self.task, spec.task)
            self.samples.show_value(spec.n_samples)
            self.noise.setValue(round(spec.noise * 100))
            self.test_percent.setValue(round(spec.test_fraction * 100))
            self.seed.show_value(spec.seed)
            self.standardize.setChecked(spec.standardize)
        generated = spec.source in datasets.PLANE_SETS
        for widget in (self.samples, self.noise, self.regenerate):
            widget.setEnabled(generated)
        self.standardize.setEnabled(not spec.is_plane)
        self.task.setEnabled(spec.source == CSV)  # the bundled tables have their own task
        # the value in force, which a project may give finer than the slider's whole percents
        self.noise_label.setText(f"Noise {spec.noise * 100:.4g} %")
        self.test_label.setText(f"Test data {spec.test_fraction * 100:.4g} %")
        csv = f"CSV: {Path(spec.csv_path).name} (target {spec.target or 'last column'})" if spec.source == CSV else ""
        self.source_label.setText(csv, tip=spec.csv_path if spec.source == CSV else "")

    def _dataset_chosen(self, index):
        name = self.dataset.itemData(index)
        if name == CSV:
            _select(self.dataset, self.spec.source)  # stays until a file is actually chosen
            self.csv_requested.emit()
        elif name != self.spec.source:
            self.changed.emit(DataSpec(source=name, n_samples=self.spec.n_samples, noise=self.spec.noise,
                                       test_fraction=self.spec.test_fraction, seed=self.spec.seed,
                                       features=self.spec.features, standardize=self.spec.standardize))

    def _emit(self, **changes):
        self.changed.emit(replace(self.spec, **changes))


class TrainingControls(QWidget):
    """Learning rate, optimizer, batch size, regularization, seed and precision.

    ``hyperparameter_changed(name, value)`` applies live; ``seed_changed`` and ``precision_changed``
    rebuild the network."""

    hyperparameter_changed = Signal(str, object)
    seed_changed = Signal(object)
    precision_changed = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.learning_rate = typed_combo(LEARNING_RATES, "Learning rate; changes apply at once, while training")
        self.optimizer = _choices([(cls.label, name) for name, cls in optimizers.OPTIMIZERS.items()],
                                "Optimizer: plain SGD, SGD with momentum 0.9, or Adam")
        self.batch_size = typed_combo(BATCH_SIZES, "Samples per gradient step: a number, or 'all' for "
                                                    "full-batch gradient descent (one step per epoch)")
        self.regularization = _choices(REGULARIZATIONS, "Penalty on the kernels (never the biases)")
        self.reg_rate = _choices([(r, float(r)) for r in REG_RATES], "Regularization rate")
        self.seed = CountField("Seed of the initial weights and of the shuffling: the same seed reproduces a run")
        self.precision = _choices([("float64", "float64"), ("float32", "float32")],
                                "Numeric precision: float32 is faster for big networks")
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        for label, widget in (("Learning rate", self.learning_rate), ("Optimizer", self.optimizer),
                              ("Batch size", self.batch_size), ("Regularization", self.regularization),
                              ("Reg. rate", self.reg_rate), ("Seed", self.seed), ("Precision", self.precision)):
            form.addRow(label, widget)
        self.show_specs(TrainingConfig(), NetworkSpec())
        self.learning_rate.lineEdit().editingFinished.connect(self._learning_rate_edited)
        self.learning_rate.activated.connect(lambda _: self._learning_rate_edited())
        self.batch_size.lineEdit().editingFinished.connect(self._batch_size_edited)
        self.batch_size.activated.connect(lambda _: self._batch_size_edited())
        self.optimizer.activated.connect(lambda _: self.hyperparameter_changed.emit("optimizer", self.optimizer.currentData()))
        self.regularization.activated.connect(
            lambda _: self.hyperparameter_changed.emit("regularization", self.regularization.currentData()))
        self.reg_rate.activated.connect(lambda _: self.hyperparameter_changed.emit("reg_rate", self.reg_rate.currentData()))
        self.seed.entered.connect(self.seed_changed)
        self.precision.activated.connect(lambda _: self.precision_changed.emit(self.precision.currentData()))

    def show_specs(self, config: TrainingConfig, network: NetworkSpec) -> None:
        with _blocked((self.learning_rate, self.optimizer, self.batch_size, self.regularization, self.reg_rate,
                       self.seed, self.precision)):
            self.learning_rate.setCurrentText(f"{config.learning_rate:.12g}")
            self.learning_rate_in_force = config.learning_rate
            _select(self.optimizer, config.optimizer)
            self.batch_size.setCurrentText(str(config.batch_size))
            self.batch_size_in_force = config.batch_size
            _select(self.regularization, config.regularization)
            _select(self.reg_rate, float(config.reg_rate))
            self.seed.show_value(network.seed)
            _select(self.precision, network.dtype)

    def _learning_rate_edited(self):
        """Whatever is typed is asked for: absurd values and text are refused with a message."""
        text = self.learning_rate.currentText().strip()
        try:
            value = float(text)
        except ValueError:
            value = text
        if value != self.learning_rate_in_force:
            self.hyperparameter_changed.emit("learning_rate", value)

    def _batch_size_edited(self):
        """A whole number or "all" is asked for, and anything else, to be refused with a message."""
        text = self.batch_size.currentText().strip().lower()
        try:
            value = text if text == "all" else int(text)
        except ValueError:
            value = text
        if value != self.batch_size_in_force:
            self.hyperparameter_changed.emit("batch_size", value)


if __name__ == "__main__":
    from playground.widgets import style

    def make():
        panel = QWidget()
        layout = QVBoxLayout(panel)
        training, data = TrainingControls(), DataControls()
        training.hyperparameter_changed.connect(lambda n, v: print("live:", n, v))
        data.changed.connect(lambda spec: print("data:", spec))
        layout.addWidget(data)
        layout.addWidget(training)
        return panel

    style.preview(make)
