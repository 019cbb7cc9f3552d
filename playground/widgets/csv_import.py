"""The CSV import dialog: look at a file, choose what to learn from it, get a ``DataSpec``.

It shows the first rows and, per column, its type, missing cells, distinct values and a few of them;
the user picks the target, the feature columns (row indices, constant columns and free text start
unticked, with the reason), the task (inferred, or switched, with the class list), what to do with
missing cells (with the rows each choice affects), whether the first row is a header, and the
delimiter. The file is read off the UI thread by ``TableReader``, a worker QObject on a QThread:
first its start, for a quick look, then the whole file, with a progress bar and a button that stops.

    python -m playground.widgets.csv_import FILE.csv
"""
from __future__ import annotations

import sys
import threading
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot
from PySide6.QtWidgets import (QAbstractItemView, QApplication, QButtonGroup, QComboBox, QDialog,
                               QDialogButtonBox, QFormLayout, QGridLayout, QGroupBox, QHBoxLayout, QHeaderView,
                               QLabel, QProgressBar, QPushButton, QRadioButton, QSplitter, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from core import limits, tables
from core.datasets import DatasetError
from core.spec import DataSpec
from playground.widgets.fields import choice_combo

QUICK_LOOK_BYTES = 2 * 2**20  # read first, so the dialog fills in at once however big the file
CSV_SUFFIXES = (".csv", ".tsv", ".txt")
HEADER_CHOICES = [("detect", None), ("first row is a header", True), ("no header row", False)]
DELIMITER_CHOICES = [("detect", None), ("comma ,", ","), ("semicolon ;", ";"), ("tab", "\t"), ("pipe |", "|")]
TASK_CHOICES = [("inferred", None), ("regression: predict a number", "regression"),
                ("classification: predict a class", "classification")]
MISSING_LABELS = {"refuse": "refuse the file", "drop": "drop the rows",
                  "mean": "fill with the column's mean", "median": "fill with the column's median",
                  "mode": "fill with the most frequent value"}
COLUMN_HEADERS = ["Use", "Column", "Type", "Missing", "Distinct", "Values", "Note"]
USE, NAME, TYPE, MISSING, DISTINCT, VALUES, NOTE = range(len(COLUMN_HEADERS))


class TableReader(QObject):
    """Reads tables on its own thread; a newer request (or ``stop``) ends an older read."""

    progressed = Signal(int, float)  # request, fraction of the file read
    read = Signal(int, object, object)  # request, core.tables.Table (a quick look first when the file is big),
    #                                     the file's fingerprint once it was read whole (else None)
    failed = Signal(int, str)  # request, the one-line reason

    def __init__(self):
        super().__init__()
        self.newest = 0  # the newest request, set from the UI thread
        self.stopped = threading.Event()

    def stop(self) -> None:
        """Called from the UI thread: the read in progress ends at its next piece."""
        self.stopped.set()

    @Slot(int, str, object, object)
    def read_file(self, request: int, path: str, header, delimiter) -> None:
        self.stopped.clear()

        def should_stop() -> bool:
            return self.stopped.is_set() or self.newest != request

        try:
            table = tables.read_table(path, header, delimiter, max_bytes=QUICK_LOOK_BYTES, should_stop=should_stop)
            self._publish(request, table)
            if not table.complete:
                table = tables.read_table(path, header, delimiter, should_stop=should_stop,
                                          progress=lambda fraction: self.progressed.emit(request, fraction))
                self._publish(request, table)
        except limits.Cancelled:
            pass
        except (DatasetError, ImportError) as error:
            self.failed.emit(request, str(error))

    def _publish(self, request: int, table) -> None:
        for name in table.names:  # counted here rather than on the UI thread
            table.n_distinct(name)
        self.read.emit(request, table, tables.fingerprint(table.path) if table.complete else None)


class CsvImportDialog(QDialog):
    """Choose what to learn from a CSV file; ``spec()`` is the choice once accepted.

    ``spec`` (optional) gives earlier choices to start from, e.g. a project's."""

    read_requested = Signal(int, str, object, object)

    def __init__(self, path, spec: DataSpec | None = None, parent=None):
        super().__init__(parent)
        self.path = str(path)
        self.initial = spec if spec is not None and spec.source == "csv" else DataSpec(source="csv")
        self.table = None
        self.fingerprint = None
        self.request = 0
        self.setWindowTitle(f"Open data: {Path(self.path).name}")
        self.resize(900, 720)
        self._build()
        self.reader_thread = QThread()
        self.reader_thread.setObjectName("csv import")
        self.reader = TableReader()
        self.reader.moveToThread(self.reader_thread)
        self.read_requested.connect(self.reader.read_file)
        self.reader.read.connect(self.on_read)
        self.reader.failed.connect(self.on_failed)
        self.reader.progressed.connect(self.on_progress)
        self.reader_thread.finished.connect(self.reader.deleteLater)
        self.finished.connect(self._stop_reader)
        self.reader_thread.start()
        self._select_data(self.header, self.initial.header)
        self._select_data(self.delimiter, self.initial.delimiter)
        self.read_file()

    # --- layout ----------------------------------------------------------------------------------
    def _build(self) -> None:
        self.header = choice_combo(HEADER_CHOICES)
        self.delimiter = choice_combo(DELIMITER_CHOICES)
        self.format_label = QLabel()
        self.format_label.setWordWrap(True)
        reading = QHBoxLayout()
        reading.addWidget(QLabel("Header"))
        reading.addWidget(self.header)
        reading.addWidget(QLabel("Delimiter"))
        reading.addWidget(self.delimiter)
        reading.addWidget(self.format_label, 1)

        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setFormat("reading the whole file: %p %")
        self.stop_button = QPushButton("Stop reading")
        self.stop_button.setToolTip("Keep the counts of the rows read so far")
        progress_row = QHBoxLayout()
        progress_row.addWidget(self.progress, 1)
        progress_row.addWidget(self.stop_button)
        self.progress_box = QWidget()
        self.progress_box.setLayout(progress_row)
        self.progress_box.hide()

        self.preview = QTableWidget()
        self.preview.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.preview.setToolTip("The first rows of the file, as written")
        self.columns = QTableWidget(0, len(COLUMN_HEADERS))
        self.columns.setHorizontalHeaderLabels(COLUMN_HEADERS)
        self.columns.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.columns.verticalHeader().hide()
        self.columns.horizontalHeader().setSectionResizeMode(NOTE, QHeaderView.Stretch)
        self.columns.setToolTip("Tick the columns to learn from")
        tables_split = QSplitter(Qt.Vertical)
        tables_split.addWidget(self.preview)
        tables_split.addWidget(self.columns)

        self.target = QComboBox()
        self.target.setToolTip("The column the network learns to predict")
        self.task = choice_combo(TASK_CHOICES)
        self.classes_label = QLabel()
        self.classes_label.setWordWrap(True)
        choices = QFormLayout()
        choices.addRow("Target", self.target)
        choices.addRow("Task", self.task)
        choices.addRow("", self.classes_label)

        self.missing_box = QGroupBox("Missing values")
        self.missing = QButtonGroup(self)
        self.missing_buttons = {}
        grid = QGridLayout(self.missing_box)
        for row, (policy, label) in enumerate(MISSING_LABELS.items()):
            button = QRadioButton(label)
            self.missing.addButton(button, row)
            self.missing_buttons[policy] = button
            grid.addWidget(button, row, 0)
            grid.addWidget(QLabel(), row, 1)
        self.missing_effects = {policy: grid.itemAtPosition(row, 1).widget()
                                for row, policy in enumerate(MISSING_LABELS)}
        self.missing_buttons[self.initial.missing].setChecked(True)
        lower = QHBoxLayout()
        lower.addLayout(choices, 1)
        lower.addWidget(self.missing_box)

        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        self.buttons.button(QDialogButtonBox.Ok).setText("Use this data")

        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"<b>{Path(self.path).name}</b> — {self.path}"))
        layout.addLayout(reading)
        layout.addWidget(self.progress_box)
        layout.addWidget(tables_split, 1)
        layout.addLayout(lower)
        layout.addWidget(self.summary)
        layout.addWidget(self.buttons)

        self.header.activated.connect(self.read_file)
        self.delimiter.activated.connect(self.read_file)
        self.stop_button.clicked.connect(self.stop_reading)
        self.target.activated.connect(self.on_target_chosen)
        self.task.activated.connect(self.update_choices)
        self.missing.idClicked.connect(self.update_choices)
        self.columns.itemChanged.connect(self.on_column_ticked)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self._set_enabled(False)

    # --- reading ---------------------------------------------------------------------------------
    @Slot()
    def read_file(self, *_) -> None:
        """Read (again) with the header and delimiter chosen."""
        self.request += 1
        self.reader.newest = self.request
        self.progress.setValue(0)
        self.summary.setText("Reading…")
        self._set_enabled(False)
        self.read_requested.emit(self.request, self.path, self.header.currentData(), self.delimiter.currentData())

    @Slot()
    def stop_reading(self) -> None:
        self.reader.stop()
        self.progress_box.hide()
        self.update_choices()

    @Slot(int, float)
    def on_progress(self, request: int, fraction: float) -> None:
        if request == self.request:
            self.progress.setValue(round(fraction * 1000))

    @Slot(int, str)
    def on_failed(self, request: int, message: str) -> None:
        if request != self.request:
            return
        self.progress_box.hide()
        self.table = None
        self.preview.clear()
        self.preview.setRowCount(0)
        self.columns.setRowCount(0)
        self.target.clear()
        self._show_error(message)
        self.header.setEnabled(True)
        self.delimiter.setEnabled(True)

    @Slot(int, object, object)
    def on_read(self, request: int, table, fingerprint) -> None:
        if request != self.request:
            return
        first = self.table is None or self.table.names != table.names
        choices = None if first else (self.chosen_target(), self.chosen_features())
        self.table, self.fingerprint = table, fingerprint
        self.progress_box.setVisible(not table.complete)
        self.format_label.setText(table.format.describe())
        self._fill_preview(table)
        if first:
            target = self.initial.target if self.initial.target in table.names else table.suggested_target()
            wanted = self.initial.feature_columns
            features = wanted if wanted and set(wanted) <= set(table.names) - {target} \
                else table.default_features(target)
            self._select_data(self.task, self.initial.task if self.initial.task in ("regression", "classification")
                              else None)
        else:
            target, features = choices
        self._fill_columns(table, target, features)
        self.target.blockSignals(True)
        self.target.clear()
        self.target.addItems(list(table.names))
        self.target.setCurrentText(target)
        self.target.blockSignals(False)
        self._set_enabled(True)
        self.update_choices()

    # --- choices ---------------------------------------------------------------------------------
    def chosen_target(self) -> str:
        return self.target.currentText()

    def chosen_features(self) -> tuple:
        return tuple(self.columns.item(row, NAME).text() for row in range(self.columns.rowCount())
                     if self.columns.item(row, USE).checkState() == Qt.Checked)

    def chosen_missing(self) -> str:
        return list(MISSING_LABELS)[self.missing.checkedId()]

    def spec(self) -> DataSpec:
        """The choices as a DataSpec (the initial spec's other settings kept)."""
        return replace(self.initial, source="csv", csv_path=self.path, target=self.chosen_target(),
                       feature_columns=self.chosen_features(), task=self.task.currentData(),
                       missing=self.chosen_missing(), header=self.header.currentData(),
                       delimiter=self.delimiter.currentData(), csv_fingerprint=self.fingerprint)

    @Slot(int)
    def on_target_chosen(self, *_) -> None:
        target = self.chosen_target()
        features = [name for name in self.chosen_features() if name != target]
        self._fill_columns(self.table, target, features)
        self.update_choices()

    @Slot(QTableWidgetItem)
    def on_column_ticked(self, item) -> None:
        if item.column() == USE:
            self.update_choices()

    @Slot()
    def update_choices(self, *_) -> None:
        """The class list, the rows each missing-value policy affects, and whether OK can be pressed."""
        if self.table is None:
            return
        table, target, features = self.table, self.chosen_target(), self.chosen_features()
        effect = table.missing_effect(target, features)
        for policy, label in self.missing_effects.items():
            label.setText(effect.describe(policy))
        try:
            inferred = "regression" if table.infer_task(target)[0] == "regression" else "classification"
            self.task.setItemText(0, f"inferred: {inferred}")
        except DatasetError:
            self.task.setItemText(0, "inferred")
        try:
            task, classes = table.check(target, features, self.task.currentData())
        except DatasetError as error:
            self.classes_label.setText("")
            self._show_error(str(error))
            return
        if classes is None:
            column = table.column(target)
            self.classes_label.setText(f"predicts a number, from {column.minimum:g} to {column.maximum:g} here")
        else:
            self.classes_label.setText(f"{len(classes)} classes: " + ", ".join(_one_line(c) for c in classes))
        infinite = [name for name in (target, *features) if table.column(name).n_infinite]
        if infinite:
            self._show_error(f"column {infinite[0]!r} holds an infinite value, which cannot be learnt from")
        elif self.chosen_missing() == "refuse" and effect.rows_with_missing:
            self._show_error(f"{effect.rows_with_missing:,} rows have missing cells: choose how to handle them")
        else:
            what = "regression" if task == "regression" else f"classification into {len(classes)} classes"
            self._show_summary(f"{what} of {target!r} from {len(features)} columns; "
                               f"{effect.describe(self.chosen_missing())}")

    # --- showing ---------------------------------------------------------------------------------
    def _fill_preview(self, table) -> None:
        head = table.format.head
        self.preview.clear()
        self.preview.setColumnCount(len(table.names))
        self.preview.setRowCount(len(head))
        self.preview.setHorizontalHeaderLabels(list(table.names))
        self.preview.setVerticalHeaderLabels([str(table.format.data_line + i) for i in range(len(head))])
        for r, cells in enumerate(head):
            for c, cell in enumerate(cells[:len(table.names)]):
                self.preview.setItem(r, c, QTableWidgetItem(_one_line(cell)))

    def _fill_columns(self, table, target: str, features) -> None:
        self.columns.blockSignals(True)
        self.columns.setRowCount(len(table.columns))
        examples = _examples(table)
        for row, column in enumerate(table.columns):
            use = QTableWidgetItem()
            is_target = column.name == target
            use.setFlags(Qt.ItemIsEnabled | (Qt.NoItemFlags if is_target else Qt.ItemIsUserCheckable))
            use.setCheckState(Qt.Checked if column.name in features and not is_target else Qt.Unchecked)
            kind = column.kind + (f", {column.n_infinite} inf" if column.n_infinite else "")
            distinct = table.n_distinct(column.name)
            distinct = f"{distinct:,}" if distinct is not None else f"over {tables.MAX_TRACKED_TEXTS:,}"
            note = "the target" if is_target else (column.note or "")
            cells = [use, QTableWidgetItem(column.name), QTableWidgetItem(kind),
                     QTableWidgetItem(f"{column.n_missing:,}"),
                     QTableWidgetItem(distinct),
                     QTableWidgetItem(examples[row]), QTableWidgetItem(note)]
            for c, item in enumerate(cells):
                self.columns.setItem(row, c, item)
        self.columns.resizeColumnsToContents()
        self.columns.blockSignals(False)

    def _show_summary(self, learnt: str) -> None:
        table = self.table
        counts = "" if table.complete else f" (counts from the first {table.n_rows:,} rows)"
        self.summary.setStyleSheet("")
        self.summary.setText(f"{table.n_rows:,} rows × {len(table.columns)} columns{counts}: {learnt}.")
        self.buttons.button(QDialogButtonBox.Ok).setEnabled(True)

    def _show_error(self, message: str) -> None:
        self.summary.setStyleSheet("color: #b00020")
        self.summary.setText(message)
        self.buttons.button(QDialogButtonBox.Ok).setEnabled(False)

    def _set_enabled(self, enabled: bool) -> None:
        for widget in (self.header, self.delimiter, self.target, self.task, self.missing_box, self.columns):
            widget.setEnabled(enabled)
        self.buttons.button(QDialogButtonBox.Ok).setEnabled(enabled)

    @staticmethod
    def _select_data(combo: QComboBox, value) -> None:
        index = combo.findData(value)
        combo.setCurrentIndex(max(index, 0))

    # --- closing ---------------------------------------------------------------------------------
    @Slot()
    def _stop_reader(self, *_) -> None:
        """Stop the read in progress and join the thread (closing, accepting or rejecting)."""
        if self.reader_thread.isRunning():
            self.reader.newest = -1
            self.reader.stop()
            self.reader_thread.quit()
            self.reader_thread.wait()

    def closeEvent(self, event) -> None:
        self._stop_reader()
        super().closeEvent(event)


def choose_csv(path, spec: DataSpec | None = None, parent=None):
    """Show the dialog modally; ``(the chosen DataSpec, the file as read: a Table, or None if the read
    was not finished)``, or None if cancelled."""
    dialog = CsvImportDialog(path, spec, parent)
    if dialog.exec() != QDialog.Accepted:
        return None
    return dialog.spec(), dialog.table if dialog.fingerprint else None


def dropped_csv(mime_data) -> str | None:
    """The path of a single CSV file dropped on a window (``QDropEvent.mimeData()``), or None."""
    urls = mime_data.urls() if mime_data.hasUrls() else []
    if len(urls) == 1 and urls[0].isLocalFile() and urls[0].toLocalFile().lower().endswith(CSV_SUFFIXES):
        return urls[0].toLocalFile()
    return None


def _examples(table) -> list:
    """A few distinct values per column, from the first rows, as written."""
    examples = []
    for j in range(len(table.names)):
        seen = []
        for cells in table.format.head:
            cell = cells[j].strip() if j < len(cells) else ""
            if cell and cell not in seen:
                seen.append(cell)
        examples.append(", ".join(_one_line(c) for c in seen[:4]) + (", …" if len(seen) > 4 else ""))
    return examples


def _one_line(text: str) -> str:
    return text.replace("\r\n", "⏎").replace("\n", "⏎").replace("\r", "⏎")


if __name__ == "__main__":
    app = QApplication.instance() or QApplication(sys.argv)
    if len(sys.argv) != 2:
        sys.exit("usage: python -m playground.widgets.csv_import FILE.csv")
    chosen = choose_csv(sys.argv[1])
    print(chosen if chosen is not None else "cancelled")
