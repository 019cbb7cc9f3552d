"""The CSV import dialog: what it shows of a file, and that what is chosen in it is what trains."""
import time

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QObject, Qt, QUrl, Slot
from PySide6.QtWidgets import QDialog, QDialogButtonBox

from core import tables
from core.limits import Cancelled
from core.spec import DataSpec, NetworkSpec, TrainingConfig, prepare
from playground.widgets import csv_import
from playground.widgets.csv_import import NAME, NOTE, USE, CsvImportDialog

WAIT = 10000


def _survey(path, rows=60):
    """A pandas index, a constant, numbers with missing cells, a text column and a 1–5 rating."""
    rng = np.random.default_rng(3)
    lines = [",age,income,unit,region,rating"]
    for i in range(rows):
        age = "" if i % 12 == 5 else str(20 + int(rng.integers(0, 50)))
        income = "NA" if i % 15 == 7 else f"{rng.normal(3000, 800):.2f}"
        lines.append(f"{i},{age},{income},eur,{'north south east'.split()[i % 3]},{1 + (i * 7) % 5}")
    path.write_text("\n".join(lines) + "\n")
    return path


class TableProbe(QObject):
    """Records the tables the reader sends, on the UI thread. (A test subclass of the dialog overriding
    its slot would not do: PySide then calls the override on the sender's thread.)"""

    def __init__(self):
        super().__init__()
        self.complete = {}  # request → whether each table sent for it was the whole file

    @Slot(int, object, object)
    def on_read(self, request, table, fingerprint):
        self.complete.setdefault(request, []).append(table.complete)


@pytest.fixture
def open_dialog(qtbot):
    """Opens the dialog on a file and waits for its table; checks at the end that its thread stopped."""
    dialogs = []

    def opener(path, spec=None, complete=True):
        dialog = CsvImportDialog(path, spec)
        qtbot.addWidget(dialog)
        dialog.show()
        dialogs.append(dialog)
        qtbot.waitUntil(lambda: dialog.table is not None and (dialog.table.complete or not complete), timeout=WAIT)
        return dialog

    yield opener
    for dialog in dialogs:
        dialog.close()
        assert not dialog.reader_thread.isRunning()


def _row(dialog, name):
    return next(r for r in range(dialog.columns.rowCount()) if dialog.columns.item(r, NAME).text() == name)


def _tick(dialog, name, on=True):
    dialog.columns.item(_row(dialog, name), USE).setCheckState(Qt.Checked if on else Qt.Unchecked)


def _choose(combo, data=None, text=None):
    index = combo.findData(data) if text is None else combo.findText(text)
    assert index >= 0
    combo.setCurrentIndex(index)
    combo.activated.emit(index)


def _ok(dialog):
    return dialog.buttons.button(QDialogButtonBox.Ok)


def test_it_shows_the_file_and_what_each_column_holds(open_dialog, tmp_path):
    dialog = open_dialog(_survey(tmp_path / "survey.csv"))
    assert dialog.preview.rowCount() == 20 and dialog.preview.columnCount() == 6
    assert dialog.preview.item(0, 1).text() == dialog.table.format.head[0][1]
    assert dialog.format_label.text() == "UTF-8; delimiter ','; header found; data from line 2"
    shown = {dialog.columns.item(r, NAME).text(): [dialog.columns.item(r, c).text() for c in range(2, 7)]
             for r in range(dialog.columns.rowCount())}
    assert shown["column 1"][3:] == ["0, 1, 2, 3, …", "no name in the header: looks like a row index"]
    assert shown["age"][:2] == ["number", "5"] and shown["income"][:2] == ["number", "4"]
    assert shown["unit"][4] == "the same value ('eur') in every row"
    assert shown["region"][:3] == ["text", "0", "3"] and shown["rating"][4] == "the target"
    assert dialog.chosen_target() == "rating" and dialog.chosen_features() == ("age", "income", "region")
    assert dialog.task.itemText(0) == "inferred: classification"
    assert dialog.classes_label.text() == "5 classes: 1, 2, 3, 4, 5"
    effects = {policy: label.text() for policy, label in dialog.missing_effects.items()}
    assert effects == {"refuse": "refuses the file: 9 rows with missing cells", "drop": "drops 9 rows of 60",
                       "mean": "fills 9 cells with the column's mean",
                       "median": "fills 9 cells with the column's median",
                       "mode": "fills 9 cells with the most frequent value"}
    # refusing a file with missing cells cannot be accepted: the dialog asks for a choice
    assert dialog.chosen_missing() == "refuse" and not _ok(dialog).isEnabled()
    assert dialog.summary.text() == "9 rows have missing cells: choose how to handle them"


def test_target_features_task_and_missing_policy_chosen_are_what_trains(open_dialog, tmp_path, qtbot):
    dialog = open_dialog(_survey(tmp_path / "survey.csv"))
    _choose(dialog.target, text="income")
    assert dialog.columns.item(_row(dialog, "income"), NOTE).text() == "the target"
    assert dialog.chosen_features() == ("age", "region")  # the old target does not become a feature
    _tick(dialog, "rating")
    _tick(dialog, "region", on=False)
    assert dialog.task.itemText(0) == "inferred: regression"
    dialog.missing_buttons["median"].click()
    assert dialog.missing_effects["median"].text() == ("fills 5 cells with the column's median, "
                                                        "drops 4 rows without a target")
    assert _ok(dialog).isEnabled()
    qtbot.mouseClick(_ok(dialog), Qt.LeftButton)
    assert dialog.result() == QDialog.Accepted and not dialog.reader_thread.isRunning()

    spec = dialog.spec()
    assert (spec.source, spec.target, spec.feature_columns, spec.task, spec.missing) == \
        ("csv", "income", ("age", "rating"), None, "median")
    assert spec.csv_fingerprint == tables.fingerprint(tmp_path / "survey.csv")
    problem = prepare(spec)
    assert problem.task == "regression" and problem.input_names == ["age", "rating"]
    assert len(problem.X_train) + len(problem.X_test) == 56 and not np.isnan(problem.X_train).any()
    assert problem.preprocessing.fill is not None
    net = NetworkSpec(hidden=((4, "tanh"),)).build(problem)
    history = TrainingConfig(optimizer="adam", learning_rate=0.01).build(net, problem).fit(
        problem.X_train, problem.Y_train, 5, problem.X_test, problem.Y_test)
    assert len(history.train_loss) == 5 and np.isfinite(history.train_loss).all()


def test_switching_the_task_and_dropping_rows(open_dialog, tmp_path, qtbot):
    dialog = open_dialog(_survey(tmp_path / "survey.csv"))
    _choose(dialog.task, "regression")
    assert dialog.classes_label.text() == "predicts a number, from 1 to 5 here"
    dialog.missing_buttons["drop"].click()
    _tick(dialog, "column 1")  # a row index can still be chosen
    qtbot.mouseClick(_ok(dialog), Qt.LeftButton)
    spec = dialog.spec()
    assert spec.task == "regression" and spec.missing == "drop"
    problem = prepare(spec)
    assert problem.task == "regression" and problem.input_names == ["column 1", "age", "income", "region=east",
                                                                      "region=north", "region=south"]
    assert len(problem.X_train) + len(problem.X_test) == 51

    again = open_dialog(tmp_path / "survey.csv")
    _choose(again.task, "classification")
    again.missing_buttons["mode"].click()
    qtbot.mouseClick(_ok(again), Qt.LeftButton)
    problem = prepare(again.spec())
    assert problem.task == "multiclass" and problem.class_names == ("1", "2", "3", "4", "5")
    assert len(problem.X_train) + len(problem.X_test) == 60


def test_a_choice_that_cannot_train_says_why_and_cannot_be_accepted(open_dialog, tmp_path):
    dialog = open_dialog(_survey(tmp_path / "survey.csv"))
    _choose(dialog.target, text="region")
    _choose(dialog.task, "regression")
    assert dialog.summary.text() == ("survey.csv: target 'region' is text ('east'), so it cannot be predicted "
                                     "by regression")
    assert not _ok(dialog).isEnabled()
    _choose(dialog.task, None)
    for name in dialog.chosen_features():
        _tick(dialog, name, on=False)
    assert dialog.summary.text() == "survey.csv: no feature columns to learn 'region' from"
    _tick(dialog, "unit")
    dialog.missing_buttons["drop"].click()
    assert _ok(dialog).isEnabled() and dialog.summary.text().startswith("60 rows × 6 columns: classification")


def test_the_header_and_the_delimiter_can_be_switched(open_dialog, tmp_path, qtbot):
    path = tmp_path / "export.txt"
    path.write_text("".join(f"{i * 0.5};{i % 4};{'ab'[i % 2]}\n" for i in range(30)))
    dialog = open_dialog(path)
    assert dialog.table.names == ("column 1", "column 2", "column 3") and dialog.table.n_rows == 30
    assert dialog.format_label.text() == "UTF-8; delimiter ';'; no header found; data from line 1"
    _choose(dialog.header, True)
    qtbot.waitUntil(lambda: dialog.table.names == ("0.0", "0", "a"), timeout=WAIT)
    assert dialog.table.n_rows == 29 and dialog.spec().header is True
    _choose(dialog.delimiter, ",")
    qtbot.waitUntil(lambda: "one column" in dialog.summary.text(), timeout=WAIT)
    assert dialog.summary.text() == ("export.txt has one column (no ',', ';', tab, '|' between values); it needs at "
                                     "least a feature and a target")
    assert not _ok(dialog).isEnabled() and dialog.columns.rowCount() == 0
    _choose(dialog.delimiter, None)
    qtbot.waitUntil(lambda: dialog.table is not None and dialog.table.n_rows == 29, timeout=WAIT)
    assert dialog.spec().delimiter is None and dialog.spec().header is True


def test_earlier_choices_are_shown_again(open_dialog, tmp_path):
    path = _survey(tmp_path / "survey.csv")
    earlier = DataSpec(source="csv", csv_path=str(path), target="age", feature_columns=("income", "rating"),
                       task="classification", missing="mean", header=True, test_fraction=0.3, seed=4)
    dialog = open_dialog(path, earlier)
    assert dialog.chosen_target() == "age" and dialog.chosen_features() == ("income", "rating")
    assert dialog.task.currentData() == "classification" and dialog.chosen_missing() == "mean"
    assert dialog.header.currentData() is True
    dialog.accept()
    spec = dialog.spec()
    assert spec == DataSpec(source="csv", csv_path=str(path), target="age", feature_columns=("income", "rating"),
                            task="classification", missing="mean", header=True, test_fraction=0.3, seed=4,
                            csv_fingerprint=tables.fingerprint(path))


def test_a_big_file_is_looked_at_first_then_read_whole_with_progress(tmp_path, monkeypatch, qtbot):
    monkeypatch.setattr(csv_import, "QUICK_LOOK_BYTES", 20_000)
    monkeypatch.setattr(tables, "PIECE_BYTES", 20_000)
    path = tmp_path / "big.csv"
    path.write_text("a,b,y\n" + "".join(f"{i * 0.25},{i % 7},{i % 3}\n" for i in range(40_000)))
    progress, probe = [], TableProbe()
    dialog = CsvImportDialog(path)
    qtbot.addWidget(dialog)
    dialog.reader.read.connect(probe.on_read)
    dialog.read_file()  # read again, the probe listening from the start (the first read began with the dialog)
    dialog.progress.valueChanged.connect(progress.append)  # this read's progress only
    dialog.show()
    qtbot.waitUntil(lambda: probe.complete.get(dialog.request, [])[-1:] == [True], timeout=WAIT)
    assert probe.complete[dialog.request] == [False, True]  # a quick look, then the whole file
    assert dialog.table.n_rows == 40_000 and not dialog.progress_box.isVisible()
    assert len(progress) > 10 and progress == sorted(progress) and progress[-1] == 1000
    assert dialog.summary.text().startswith("40,000 rows × 3 columns: classification into 3 classes")
    dialog.close()
    assert not dialog.reader_thread.isRunning()


def test_stopping_the_read_keeps_the_quick_look(tmp_path, monkeypatch, qtbot):
    monkeypatch.setattr(csv_import, "QUICK_LOOK_BYTES", 20_000)
    monkeypatch.setattr(tables, "PIECE_BYTES", 20_000)
    path = tmp_path / "big.csv"
    path.write_text("a,b,y\n" + "".join(f"{i * 0.25},{i % 7},{i % 3}\n" for i in range(40_000)))
    read_table = tables.read_table

    def long_read(path, header, delimiter, progress=None, should_stop=None, max_bytes=None):
        if max_bytes is None:  # the whole file: it takes until Stop is pressed
            while not should_stop():
                time.sleep(0.01)
            raise Cancelled("stopped")
        return read_table(path, header, delimiter, progress, should_stop, max_bytes)

    monkeypatch.setattr(tables, "read_table", long_read)
    dialog = CsvImportDialog(path)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.table is not None and dialog.progress_box.isVisible(), timeout=WAIT)
    qtbot.mouseClick(dialog.stop_button, Qt.LeftButton)
    assert not dialog.progress_box.isVisible()
    assert not dialog.table.complete and dialog.table.n_rows < 40_000
    assert dialog.summary.text().startswith(f"{dialog.table.n_rows:,} rows × 3 columns (counts from the first")
    assert dialog.spec().csv_fingerprint is None
    dialog.reject()
    assert not dialog.reader_thread.isRunning()


def test_a_file_that_cannot_be_read_is_said_and_nothing_can_be_accepted(tmp_path, qtbot):
    path = tmp_path / "broken.csv"
    path.write_text("a,b,y\n1,2,3\n4,5\n")
    dialog = CsvImportDialog(path)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: "line 3" in dialog.summary.text(), timeout=WAIT)
    assert dialog.summary.text() == "broken.csv, line 3: 2 cells, but the header has 3: '4,5'"
    assert not _ok(dialog).isEnabled() and dialog.header.isEnabled()
    dialog.reject()
    assert not dialog.reader_thread.isRunning()


def test_a_dropped_csv_file_is_recognised():
    def mime(*paths):
        data = QMimeData()
        data.setUrls([QUrl.fromLocalFile(p) for p in paths])
        return data

    assert csv_import.dropped_csv(mime("/data/iris.csv")) == "/data/iris.csv"
    assert csv_import.dropped_csv(mime("/data/export.TSV")) == "/data/export.TSV"
    assert csv_import.dropped_csv(mime("/data/model.onnx")) is None
    assert csv_import.dropped_csv(mime("/a.csv", "/b.csv")) is None
    assert csv_import.dropped_csv(QMimeData()) is None
