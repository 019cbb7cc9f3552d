"""Settings panels: ``DataControls`` edits a DataSpec, ``TrainingControls`` the hyperparameters.

Values are stored names (``"relu"``, ``"adam"``) kept apart from the labels shown.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QComboBox, QFormLayout, QHBoxLayout, QLabel, QPushButton, QSlider, QSpinBox,
                               QVBoxLayout, QWidget)

from core import datasets, optimizers
from core.spec import DataSpec, TrainingConfig

LEARNING_RATES = ["0.00001", "0.0001", "0.001", "0.003", "0.01", "0.03", "0.1", "0.3", "1", "3", "10"]
REG_RATES = ["0", "0.0001", "0.001", "0.003", "0.01", "0.03", "0.1", "0.3", "1", "3", "10"]
REGULARIZATIONS = [("none", None), ("L1", "l1"), ("L2", "l2")]
TABLE_LABELS = {"house_prices": "House prices (table)", "iris": "Iris flowers (table)"}
TASKS = [("inferred from the target", None), ("regression", "regression"), ("classification", "multiclass")]
CSV = "csv"


def _combo(items, tip: str) -> QComboBox:
    """A combo of (label, stored value) pairs that never takes keyboard focus (Space is play/pause)."""
    combo = QComboBox()
    for label, value in items:
        combo.addItem(label, value)
    combo.setToolTip(tip)
    combo.setFocusPolicy(Qt.NoFocus)
    return combo


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


class DataControls(QWidget):
    """Dataset, samples, noise, train/test ratio and data seed. Emits ``changed(DataSpec)``."""

    changed = Signal(object)
    csv_requested = Signal()  # the user picked "Your CSV file…"

    def __init__(self, spec: DataSpec | None = None, parent=None):
        super().__init__(parent)
        self.spec = spec or DataSpec()
        items = [(label, name) for name, (label, _, _) in datasets.PLANE_SETS.items()]
        items += [(label, name) for name, label in TABLE_LABELS.items()] + [("Your CSV file…", CSV)]
        self.dataset = _combo(items, "Which data to learn: 2-D sets, bundled tables or your own CSV")
        self.samples = QSpinBox()
        self.samples.setRange(20, 20000)
        self.samples.setSingleStep(100)
        self.samples.setKeyboardTracking(False)
        self.samples.setToolTip("Number of points in a 2-D set")
        self.noise = _slider(0, 50, "Noise added to the 2-D set, in %")
        self.test_percent = _slider(0, 90, "Share of the data kept aside for testing, in %")
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setKeyboardTracking(False)
        self.seed.setToolTip("Seed of the data and of the train/test split")
        self.task = _combo(TASKS, "For tables: predict a number (regression) or a class; by default a target "
                                  "of text or of at most 10 whole numbers is read as classes")
        self.regenerate = QPushButton("Regenerate")
        self.regenerate.setToolTip("Draw a new sample of the same data (next data seed), keeping every setting")
        self.regenerate.setFocusPolicy(Qt.NoFocus)
        self.noise_label, self.test_label = QLabel(), QLabel()
        self.source_label = QLabel()
        self.source_label.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Data", self.dataset)
        form.addRow("Points", self.samples)
        form.addRow(self.noise_label, self.noise)
        form.addRow(self.test_label, self.test_percent)
        form.addRow("Data seed", self.seed)
        form.addRow("Task", self.task)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.regenerate)
        layout.addWidget(self.source_label)
        layout.addStretch()
        self.set_spec(self.spec)
        self.dataset.activated.connect(self._dataset_chosen)
        for widget in (self.samples, self.noise, self.test_percent, self.seed):
            widget.valueChanged.connect(self._edited)
        self.task.activated.connect(self._edited)
        self.regenerate.clicked.connect(lambda: self.seed.setValue(self.seed.value() + 1))

    def set_spec(self, spec: DataSpec) -> None:
        """Show ``spec`` without emitting ``changed``."""
        self.spec = spec
        widgets = (self.dataset, self.samples, self.noise, self.test_percent, self.seed, self.task)
        for widget in widgets:
            widget.blockSignals(True)
        _select(self.dataset, spec.source)
        _select(self.task, spec.task)
        self.samples.setValue(spec.n_samples)
        self.noise.setValue(round(spec.noise * 100))
        self.test_percent.setValue(round(spec.test_fraction * 100))
        self.seed.setValue(spec.seed)
        for widget in widgets:
            widget.blockSignals(False)
        for widget in (self.samples, self.noise):
            widget.setEnabled(spec.is_plane)
        self.regenerate.setEnabled(spec.is_plane)
        self.task.setEnabled(spec.source == CSV)  # the bundled tables have their own task
        self._update_labels()

    def _update_labels(self):
        self.noise_label.setText(f"Noise {self.noise.value()} %")
        self.test_label.setText(f"Test data {self.test_percent.value()} %")
        csv = f"CSV: {self.spec.csv_path} (target {self.spec.target or 'last column'})" if self.spec.source == CSV else ""
        self.source_label.setText(csv)

    def _dataset_chosen(self, index):
        name = self.dataset.itemData(index)
        if name == CSV:
            _select(self.dataset, self.spec.source)  # stays until a file is actually chosen
            self.csv_requested.emit()
            return
        self._edited()

    def _edited(self, *_):
        self.spec = DataSpec(source=self.dataset.currentData(), n_samples=self.samples.value(),
                             noise=self.noise.value() / 100, test_fraction=self.test_percent.value() / 100,
                             seed=self.seed.value(), features=list(self.spec.features),
                             csv_path=self.spec.csv_path, target=self.spec.target,
                             task=self.task.currentData() if self.dataset.currentData() == CSV else None)
        self.set_spec(self.spec)
        self.changed.emit(self.spec)


class TrainingControls(QWidget):
    """Learning rate, optimizer, batch size, regularization, seed and precision, in one row.

    ``hyperparameter_changed(name, value)`` applies live; ``rebuild_needed`` asks for a reset
    (seed, precision)."""

    hyperparameter_changed = Signal(str, object)
    rebuild_needed = Signal()

    def __init__(self, config: TrainingConfig | None = None, parent=None):
        super().__init__(parent)
        self.learning_rate = QComboBox()
        self.learning_rate.setEditable(True)
        self.learning_rate.setInsertPolicy(QComboBox.NoInsert)  # typed values are not added to the list
        self.learning_rate.addItems(LEARNING_RATES)
        self.learning_rate.setToolTip("Learning rate; changes apply at once, while training")
        self.optimizer = _combo([(cls.label, name) for name, cls in optimizers.OPTIMIZERS.items()],
                                "Optimizer: plain SGD, SGD with momentum 0.9, or Adam")
        self.batch_size = QSpinBox()
        self.batch_size.setRange(1, 10_000_000)
        self.batch_size.setKeyboardTracking(False)
        self.batch_size.setToolTip("Samples per gradient step")
        self.regularization = _combo(REGULARIZATIONS, "Penalty on the kernels (never the biases)")
        self.reg_rate = _combo([(r, float(r)) for r in REG_RATES], "Regularization rate")
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setKeyboardTracking(False)
        self.seed.setToolTip("Seed of the initial weights and of the shuffling: the same seed reproduces a run")
        self.precision = _combo([("float64", "float64"), ("float32", "float32")],
                                "Numeric precision: float32 is faster for big networks")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for label, widget in (("Learning rate", self.learning_rate), ("Optimizer", self.optimizer),
                              ("Batch size", self.batch_size), ("Regularization", self.regularization),
                              ("Reg. rate", self.reg_rate), ("Seed", self.seed), ("Precision", self.precision)):
            column = QVBoxLayout()
            caption = QLabel(label)
            caption.setStyleSheet("color: #666; font-size: 11px;")
            column.addWidget(caption)
            column.addWidget(widget)
            layout.addLayout(column)
        self.set_config(config or TrainingConfig(), "float64")
        self.learning_rate.lineEdit().editingFinished.connect(self._learning_rate_edited)
        self.learning_rate.activated.connect(lambda _: self._learning_rate_edited())
        self.optimizer.activated.connect(lambda _: self.hyperparameter_changed.emit("optimizer", self.optimizer.currentData()))
        self.batch_size.valueChanged.connect(lambda v: self.hyperparameter_changed.emit("batch_size", v))
        self.regularization.activated.connect(
            lambda _: self.hyperparameter_changed.emit("regularization", self.regularization.currentData()))
        self.reg_rate.activated.connect(lambda _: self.hyperparameter_changed.emit("reg_rate", self.reg_rate.currentData()))
        self.seed.valueChanged.connect(lambda _: self.rebuild_needed.emit())
        self.precision.activated.connect(lambda _: self.rebuild_needed.emit())

    def set_config(self, config: TrainingConfig, precision: str) -> None:
        widgets = (self.learning_rate, self.optimizer, self.batch_size, self.regularization, self.reg_rate,
                   self.seed, self.precision)
        for widget in widgets:
            widget.blockSignals(True)
        self.learning_rate.setCurrentText(f"{config.learning_rate:g}")
        self.learning_rate_in_force = config.learning_rate
        _select(self.optimizer, config.optimizer)
        self.batch_size.setValue(config.batch_size)
        _select(self.regularization, config.regularization)
        _select(self.reg_rate, float(config.reg_rate))
        self.seed.setValue(config.seed)
        _select(self.precision, precision)
        for widget in widgets:
            widget.blockSignals(False)

    def _learning_rate_edited(self):
        """Any number goes to the trainer, which refuses absurd ones; other text is put back."""
        try:
            value = float(self.learning_rate.currentText())
        except ValueError:
            self.learning_rate.setCurrentText(f"{self.learning_rate_in_force:g}")
            return
        if value != self.learning_rate_in_force:
            self.learning_rate_in_force = value
            self.hyperparameter_changed.emit("learning_rate", value)


if __name__ == "__main__":
    from playground.widgets import style

    def make():
        panel = QWidget()
        layout = QVBoxLayout(panel)
        training, data = TrainingControls(), DataControls()
        training.hyperparameter_changed.connect(lambda n, v: print("live:", n, v))
        data.changed.connect(lambda spec: print("data:", spec))
        layout.addWidget(training)
        layout.addWidget(data)
        return panel

    style.preview(make)
