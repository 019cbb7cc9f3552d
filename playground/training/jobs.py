"""Long computations off the UI thread: a generator runs on a worker QObject on its own QThread.

A job is a generator: it yields its progress, either a fraction from 0 to 1 or a pair
``(fraction, partial)`` (a partial result the window may draw, e.g. the rows of a grid computed so
far), and ``return``s its result. It can be stopped between two yields and nowhere else, so it should
yield every few tens of milliseconds. Build the generator on the GUI thread (capturing what it needs,
as immutable objects or copies) and hand it to ``JobRunner.start``; it then runs on the runner's thread.

The runner lives on the GUI thread and relays its worker's news as its own signals, so anything may
be connected to them (the worker's signals reach the runner's bound slots, queued, as DESIGN.md §7
requires). Progress is sent at most every ``min_interval`` seconds: a partial should contain all
that came before it (a later partial replaces an earlier one).
"""
from __future__ import annotations

import inspect
import itertools
import time
import weakref

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal, Slot

from playground.training.worker import collect_garbage_on_the_gui_thread, error_line, keep_until_exit

STOPPED = -1  # the worker's ``wanted`` once the runner is closed: no job runs any more

class _JobWorker(QObject):
    """Runs one job at a time on the runner's thread; every signal carries the job's id."""

    progressed = Signal(int, float, object)
    returned = Signal(int, object)
    raised = Signal(int, str)
    stopped = Signal(int)

    def __init__(self, min_interval: float):
        super().__init__()
        self.min_interval = min_interval
        # The id of the job the runner wants run, set from the GUI thread: any other job stops at its
        # next yield. (One int assigned under the GIL: no lock needed.)
        self.wanted = 0

    @Slot(int, object)
    def run(self, job_id: int, job):
        last_sent = -float("inf")
        try:
            while True:
                if job_id != self.wanted:
                    job.close()  # runs the generator's ``finally`` blocks, here, before saying it stopped
                    self.stopped.emit(job_id)
                    return
                try:
                    item = next(job)
                except StopIteration as done:
                    self.returned.emit(job_id, done.value)
                    return
                now = time.monotonic()
                if now - last_sent >= self.min_interval and job_id == self.wanted:
                    last_sent = now
                    fraction, partial = item if isinstance(item, tuple) else (item, None)
                    self.progressed.emit(job_id, float(fraction), partial)
        except Exception as error:  # noqa: BLE001 - whatever the job raised, the window is told in one line
            self.raised.emit(job_id, error_line(error))


class JobRunner(QObject):
    """Runs one job at a time on its own thread (started with the first job).

    ``start(job)`` runs a generator, cancelling the job before it if there is one; ``cancel()`` stops
    the current job at its next yield; ``close()`` stops the thread (call it before the app quits; it
    is also called when the application is about to quit). Exactly one of ``finished``, ``failed`` or
    ``cancelled`` follows each ``start``, except for a job replaced by a newer one, which ends silently.
    """

    progress = Signal(float, object)  # fraction from 0 to 1, the job's partial result or None
    finished = Signal(object)  # the job's return value
    failed = Signal(str)  # what went wrong, in one line
    cancelled = Signal()  # the job stopped after ``cancel()``

    instances = weakref.WeakSet()  # so tests can check that no thread outlives its test
    _submit = Signal(int, object)

    def __init__(self, name: str = "jobs", min_interval: float = 0.05, parent=None):
        super().__init__(parent)
        JobRunner.instances.add(self)
        self.name = name
        self.min_interval = min_interval
        self.thread = self.worker = None
        self.active = None  # the job whose outcome is reported
        self.cancelling = None  # the job cancelled and not yet stopped: its end is reported as ``cancelled``
        self._ids = itertools.count(1)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.close)

    @property
    def running(self) -> bool:
        """A job was started and has not finished, failed or been cancelled yet."""
        return self.active is not None

    @property
    def thread_running(self) -> bool:
        return self.thread is not None and self.thread.isRunning()

    def start(self, job) -> None:
        """Run the generator ``job`` on the runner's thread; a job still running is cancelled first,
        and its end is not reported."""
        if not inspect.isgenerator(job):
            raise TypeError(f"a job is a generator (call the generator function first), got {type(job).__name__}")
        if self.thread is None:
            self._start_thread()
        job_id = next(self._ids)
        self.active, self.cancelling = job_id, None
        self.worker.wanted = job_id
        self._submit.emit(job_id, job)

    def cancel(self) -> None:
        """Stop the current job at its next yield; ``cancelled`` is emitted once it has stopped."""
        if self.active is None:
            return
        self.cancelling, self.active = self.active, None
        self.worker.wanted = 0

    @Slot()
    def close(self, timeout_ms: int = 2000) -> bool:
        """Stop the current job at its next yield and join the thread, waiting at most ``timeout_ms``;
        True if the thread has ended. A job that does not yield in time is left to end on its own
        (a thread is never terminated; the process waits for it at exit, when the window is gone), so
        quitting is never held up. A closed runner starts a new thread for its next job."""
        self.active = self.cancelling = None
        thread, worker = self.thread, self.worker
        self.thread = self.worker = None
        if thread is None or not thread.isRunning():
            return True
        worker.wanted = STOPPED
        thread.requestInterruption()
        thread.quit()  # the event loop ends once the job in hand has stopped
        if thread.wait(timeout_ms):
            return True
        keep_until_exit(thread, worker)
        return False

    def _start_thread(self):
        collect_garbage_on_the_gui_thread()  # a job allocates: a collection must not happen on its thread
        self.thread = QThread()
        self.thread.setObjectName(self.name)
        self.worker = _JobWorker(self.min_interval)
        self.worker.moveToThread(self.thread)
        self._submit.connect(self.worker.run)
        self.worker.progressed.connect(self._on_progressed)
        self.worker.returned.connect(self._on_returned)
        self.worker.raised.connect(self._on_raised)
        self.worker.stopped.connect(self._on_stopped)
        self.thread.finished.connect(self.worker.deleteLater)
        self.thread.start()

    # --- the worker's news, on the GUI thread --------------------------------------------------
    @Slot(int, float, object)
    def _on_progressed(self, job_id: int, fraction: float, partial):
        if job_id == self.active:
            self.progress.emit(fraction, partial)

    @Slot(int, object)
    def _on_returned(self, job_id: int, result):
        if job_id == self.active:
            self.active = None
            self.finished.emit(result)
        else:  # a job cancelled just before it returned counts as cancelled
            self._on_stopped(job_id)

    @Slot(int, str)
    def _on_raised(self, job_id: int, message: str):
        if job_id == self.active:
            self.active = None
            self.failed.emit(message)
        else:
            self._on_stopped(job_id)

    @Slot(int)
    def _on_stopped(self, job_id: int):
        if job_id == self.cancelling:
            self.cancelling = None
            self.cancelled.emit()
