"""Guards against PySide6's reference-count bug class (6.12.0 drops a reference per emit or void call)."""
import sys

from PySide6.QtCore import QObject, Signal, Slot


class Emitter(QObject):
    flag = Signal(bool)
    nothing = Signal()


class Receiver(QObject):
    def __init__(self):
        super().__init__()
        self.calls = 0

    @Slot(bool)
    def on_flag(self, value):
        self.calls += 1

    @Slot()
    def on_nothing(self):
        self.calls += 1


def test_thousands_of_emits_and_slot_calls_keep_reference_counts(qtbot):
    emitter, receiver = Emitter(), Receiver()
    emitter.flag.connect(receiver.on_flag)
    emitter.nothing.connect(receiver.on_nothing)
    before = sys.getrefcount(True), sys.getrefcount(None)
    for i in range(5000):
        emitter.flag.emit(i % 2 == 0)
        emitter.nothing.emit()
        receiver.on_nothing()
    after = sys.getrefcount(True), sys.getrefcount(None)
    assert receiver.calls == 15000
    # A leak of one reference per call would move these by thousands.
    assert abs(after[0] - before[0]) < 500 and abs(after[1] - before[1]) < 500
