"""Undoable edits: of the Session's specs, of one weight, of the pinned runs, and going back to train
from a checkpoint.

An edit that rebuilds the network (architecture, data, seed, precision, reset, imported weights)
keeps the run it leaves behind (weights, trainer state, cost history) on each side, so undo and
redo bring back the network as it was trained, not a fresh one. A live hyperparameter edit just
sets the other value; quick successive edits of a typed rate merge into one step.
"""
from __future__ import annotations

import time

from PySide6.QtGui import QUndoCommand

MERGE_SECONDS = 1.5  # edits of one rate closer than this are one step to undo (typing, trying values)


class SpecEdit(QUndoCommand):
    """From ``session.specs`` to ``after``; ``restore`` is the run to continue from (imported weights),
    None for fresh weights from the seed."""

    def __init__(self, session, text: str, after, rebuild: bool, restore=None, merge_key: int = -1):
        """``merge_key`` ≥ 0 lets quick successive commands with the same key merge."""
        super().__init__(text)
        self.session = session
        self.before, self.after = session.specs, after
        self.rebuild = rebuild
        self.runs = {"after": restore}  # the run to bring back on each side (None: fresh from the seed)
        self.merge_key = merge_key
        self.time = time.monotonic()

    def redo(self):
        self.session.apply_edit(self, self.after, restore=self.runs["after"], leaving="before")

    def undo(self):
        self.session.apply_edit(self, self.before, restore=self.runs.get("before"), leaving="after")

    def id(self) -> int:
        return self.merge_key

    def mergeWith(self, other) -> bool:
        """Typing 0.1, then 0.01 into the learning rate is one step to undo."""
        if other.merge_key != self.merge_key or other.merge_key < 0 or other.time - self.time > MERGE_SECONDS:
            return False
        self.after, self.time = other.after, other.time
        self.setText(other.text())
        self.session.merged(other, self)
        return True


class TrainFromHere(SpecEdit):
    """Go on training from a past checkpoint (``restore``); the epochs after it (``future``, a pinned
    run) stay pinned, and undo brings the whole run back as it was."""

    def __init__(self, session, text: str, restore, future):
        super().__init__(session, text, session.specs, rebuild=True, restore=restore)
        self.future = future

    def redo(self):
        if not self.session.add_run(self.future):  # eight runs pinned: the future would be lost, so not now
            self.setObsolete(True)
            return
        super().redo()

    def undo(self):
        super().undo()
        self.session.remove_run(self.future)


class RunsEdit(QUndoCommand):
    """Pin ``run`` (``pin`` True) or unpin it; undo does the other, back in its place, shown or hidden
    as it was. Only this run changes: the others keep what was done to them since."""

    def __init__(self, session, text: str, run, pin: bool):
        super().__init__(text)
        self.session, self.run, self.pin = session, run, pin
        self.position = None

    def redo(self):
        if self.pin:
            if not self.session.add_run(self.run):  # eight pinned already: said, and nothing to undo
                self.setObsolete(True)
        else:
            self.run, self.position = self.session.remove_run(self.run)

    def undo(self):
        if self.pin:
            self.run, _ = self.session.remove_run(self.run)
        else:
            self.session.insert_run(self.run, self.position)


class WeightEdit(QUndoCommand):
    """One weight typed or dragged: ``kernel[row, column]`` of ``layer``, or ``bias[row]``."""

    MERGE_ID = 2000
    rebuild = False  # live: the network is not rebuilt

    def __init__(self, session, layer: int, row: int, column, before: float, after: float):
        name = f"b{layer + 1}[{row + 1}]" if column is None else f"W{layer + 1}[{row + 1}, {column + 1}]"
        super().__init__(f"set {name} to {after:.4g}")
        self.session, self.where = session, (layer, row, column)
        self.before, self.after = before, after
        self.time = time.monotonic()

    def redo(self):
        self.session.send_weight(*self.where, self.after)

    def undo(self):
        self.session.send_weight(*self.where, self.before, undoing=True)

    def id(self) -> int:
        return self.MERGE_ID

    def mergeWith(self, other) -> bool:
        """A drag sends many values: one step to undo."""
        if other.where != self.where or other.time - self.time > MERGE_SECONDS:
            return False
        self.after, self.time = other.after, other.time
        self.setText(other.text())
        return True
