"""Pinned runs beside this one: show or hide each on the cost plot, and compare them at one epoch
(cost, accuracy, and the epoch each first reached a target cost)."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (QDoubleSpinBox, QHBoxLayout, QHeaderView, QLabel, QPushButton, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from core import limits

COLUMNS = ("run", "cost", "accuracy", "reached the target cost")


class RunsPanel(QWidget):
    pin_requested = Signal()
    unpin_requested = Signal(int)  # the pinned run's position
    visibility_changed = Signal(int, bool)
    export_requested = Signal()
    target_changed = Signal(float)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.pin = QPushButton("Pin this run")
        self.pin.setToolTip("Keep this run's curves, settings and weights to compare the next runs with (up to 8)")
        self.unpin = QPushButton("Unpin")
        self.unpin.setToolTip("Stop comparing with the pinned run selected below (Edit → Undo pins it again)")
        self.export = QPushButton("Export CSV…")
        self.export.setToolTip("Every run's cost and accuracy per epoch, in one CSV file")
        self.target = QDoubleSpinBox()
        self.target.setDecimals(4)
        self.target.setRange(*limits.TARGET_COST)
        self.target.setValue(0.1)
        self.target.setToolTip("The cost each run is timed to reach")
        for widget in (self.pin, self.unpin, self.export, self.target):
            widget.setFocusPolicy(Qt.NoFocus if widget is not self.target else Qt.ClickFocus)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.Stretch)
        for column in range(1, len(COLUMNS)):
            self.table.horizontalHeader().setSectionResizeMode(column, QHeaderView.ResizeToContents)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectRows)
        self.title = QLabel()
        bar = QHBoxLayout()
        for widget in (self.pin, self.unpin, self.export):
            bar.addWidget(widget)
        bar.addStretch()
        under = QHBoxLayout()
        under.addWidget(self.title, 1)
        under.addWidget(QLabel("target cost"))
        under.addWidget(self.target)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addLayout(under)
        layout.addWidget(self.table)
        self.pin.clicked.connect(self.pin_requested)
        self.export.clicked.connect(self.export_requested)
        self.unpin.clicked.connect(self._unpin)
        self.target.valueChanged.connect(self.target_changed)
        self.table.itemChanged.connect(self._toggled)
        self.table.itemSelectionChanged.connect(self._enable_unpin)
        self.n_pinned = 0

    def _unpin(self):
        row = self.table.currentRow()
        if 0 <= row < self.n_pinned:
            self.unpin_requested.emit(row)

    def _enable_unpin(self):
        self.unpin.setEnabled(0 <= self.table.currentRow() < self.n_pinned and bool(self.table.selectedItems()))

    def _toggled(self, item):
        if item.column() == 0 and item.row() < self.n_pinned:
            self.visibility_changed.emit(item.row(), item.checkState() == Qt.Checked)

    def show_runs(self, labels, colours, visible, figures, epoch: int, target_cost: float) -> None:
        """``labels`` and ``colours`` of the pinned runs then this one; ``figures`` their EpochFigures at
        ``epoch``; ``visible`` whether each pinned run is drawn; the cost they are timed to reach."""
        if self.target.value() != target_cost and not self.target.hasFocus():  # not while it is typed in
            self.target.blockSignals(True)
            self.target.setValue(target_cost)
            self.target.blockSignals(False)
        self.n_pinned = len(labels) - 1
        self.table.blockSignals(True)
        self.table.setRowCount(len(labels))
        for row, (label, colour, figure) in enumerate(zip(labels, colours, figures)):
            name = QTableWidgetItem(label)
            name.setForeground(QBrush(QColor(*colour)))
            name.setToolTip(label)
            if row < self.n_pinned:
                name.setFlags(name.flags() | Qt.ItemIsUserCheckable)
                name.setCheckState(Qt.Checked if visible[row] else Qt.Unchecked)
            cells = [name, _cell(figure.train_loss, "{:.4g}"), _cell(figure.train_accuracy, "{:.1%}"),
                     _cell(figure.epochs_to_target, "epoch {:,}", "not yet")]
            for column, cell in enumerate(cells):
                self.table.setItem(row, column, cell)
        self.table.blockSignals(False)
        self.title.setText(f"At epoch {epoch:,}:")
        self._enable_unpin()
        self.export.setEnabled(self.n_pinned > 0)


def _cell(value, form: str, missing: str = "–") -> QTableWidgetItem:
    item = QTableWidgetItem(missing if value is None else form.format(value))
    item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
    return item
