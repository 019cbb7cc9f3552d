"""The training worker: a QObject on its own QThread that builds core's objects and steps the trainer.

The Session sends requests (``protocol``) to ``handle``; they run between slices of training of
about 15 ms, in the order sent, and each gets exactly one reply. Prepared data is cached per data
spec, so an architecture, seed or precision edit never reads the data again. Snapshots go out as
``pacing`` allows; every array in them is a read-only copy.
"""
from __future__ import annotations

import atexit
import os
import threading
import time
import weakref
from collections import OrderedDict

import numpy as np
from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot
from pyqtgraph.util.garbage_collector import GarbageCollector

from core import DivergenceError, Network, datasets, limits
from core.spec import Problem, prepare
from core.trainer import EpochStats
from playground.training import pacing
from playground.training.protocol import (Applied, Built, Configure, Control, Preview, Previewed, Refused,
                                          SetHyperparameter, SetWeight, Snapshot, TableRead, read_only,
                                          shown_units)

GRID = 64  # the output view's resolution over the input plane (GRID × GRID points)
PICTURE_STRIDE = 2  # neuron pictures take every 2nd point of the output grid: (GRID / 2)² points
DRAWN_HALF = 6.0  # the drawn set's canvas spans at least [−6, 6]²
MAX_ROWS_SCORED = 20000  # test rows predicted for the output view (its scores, its matrix), at most
PREVIEW_ROWS = 1000  # training rows whose gradients colour a network not trained here (a past checkpoint)
SMOOTHING = 0.3  # weight of the newest gradient in the running average the diagram shows
CACHED_PROBLEMS = 2  # prepared data kept per data spec (the current one and the one before)
MEASURE_WORK = 10_000_000  # rows × parameters measured after each weight edit: ~5 ms, a drag stays smooth


class TrainingWorker(QObject):
    replied = Signal(object)  # Built, Applied or Refused: one per request
    published = Signal(object)  # Snapshot
    running_changed = Signal(bool)
    stopped = Signal(str)  # training stopped by itself (divergence, an error): why

    def __init__(self):
        super().__init__()
        self.timer = None
        self.problem = self.net = self.trainer = self.runner = None
        self.grid_inputs = self.extent = None
        self.problems = OrderedDict()  # DataSpec → (Problem, extent, grid inputs)
        self.table_read: TableRead | None = None  # the import dialog's reading, for the build that follows
        self.pending_checkpoints = []
        self.generation = 0
        self.running = False
        self.until_epoch_end = False
        self.pending_epochs = []
        self.kernel_grads = self.neuron_grads = None
        self.snapshot_id = 0
        self.last_publish = self.last_output = self.output_cost = self.last_checkpoint = 0.0
        self.rate_window = (time.perf_counter(), 0)
        self.steps_per_second = 0.0
        self.frames = pacing.FrameClock()
        # Set by the window once it has painted the last snapshot. Until then the worker waits (up to
        # FRAME_WAIT) instead of training: a UI thread that has to win the GIL back for each of its many
        # Qt calls would stall for hundreds of ms.
        self.view_ready = threading.Event()
        self.view_ready.set()
        self.closing = threading.Event()  # set from the GUI thread to end a slice at once

    def view_drawn(self, snapshot_id: int, seconds: float):
        """Called from the window's thread once it has drawn and painted snapshot ``snapshot_id``."""
        self.frames.record(seconds)
        self.view_skipped(snapshot_id)

    def view_skipped(self, snapshot_id: int):
        """Called from the window's thread for a snapshot it did not draw (of a run it moved on from)."""
        if snapshot_id == self.snapshot_id:  # an older frame's news does not release the newest
            self.view_ready.set()

    # --- requests (queued slots, run on the worker's thread) -----------------------------------
    @Slot()
    def start(self):
        self.timer = QTimer(self)
        self.timer.setInterval(0)
        self.timer.timeout.connect(self._train_slice)

    @Slot(object)
    def handle(self, request):
        try:
            reply = self._HANDLERS[type(request)](self, request)
        except Exception as error:  # noqa: BLE001 - every request gets its answer, whatever went wrong
            reply = Refused(request.id, error_line(error))
        self.replied.emit(reply)
        if isinstance(reply, Built) or (isinstance(reply, Applied) and isinstance(request, (SetWeight,
                                                                                          SetHyperparameter))):
            self._publish(force_output=True)  # the Session's snapshot holds the weights and trainer state in force

    def _configure(self, request: Configure):
        """New data, architecture or settings: rebuild, from the seeds or from ``restore``."""
        problem, extent, grid_inputs = self._prepared(request.data)
        net = request.network.build(problem)
        trainer = request.training.build(net, problem)
        if request.restore is not None:
            try:
                net.set_weights(request.restore.weights)
            except ValueError as error:
                return Refused(request.id, f"the weights do not fit this network ({error})")
            if request.restore.trainer_state is not None:
                trainer.load_state_dict(_for_optimizer(request.restore.trainer_state, trainer))
            else:
                trainer.epoch = request.restore.epoch
        self.problem, self.net, self.trainer = problem, net, trainer
        self.extent, self.grid_inputs = extent, grid_inputs
        self.generation = request.id
        self._restart(keep_running=self.running)
        return Built(request.id, (request.data, request.network, request.training), problem,
                     tuple(net.spec), trainer.loss.name, extent)

    def _prepared(self, data):
        """The problem for a data spec, prepared once and then taken from the cache (a CSV file that
        changed on disk since is read again)."""
        table = self._table_read_for(data)
        key = (data, _file_state(data.csv_path) if data.source == "csv" else None)
        if key in self.problems:
            self.problems.move_to_end(key)
            return self.problems[key]
        # quitting never waits for a long read
        problem = prepare(data, should_stop=self.closing.is_set, table=table)
        for array in (problem.X_train, problem.Y_train, problem.X_test, problem.Y_test):
            array.setflags(write=False)  # shared with the window through Built: nobody writes to it
        extent = view_extent(problem, data.source == datasets.DRAWN) if problem.is_plane else None
        grid_inputs = encoded_grid(problem, extent) if extent else None
        self.problems[key] = (problem, extent, grid_inputs)
        while len(self.problems) > CACHED_PROBLEMS:
            self.problems.popitem(last=False)
        return self.problems[key]

    def _keep_table_read(self, request: TableRead):
        self.table_read = request
        return Applied(request.id)

    def _table_read_for(self, data):
        """The table the import dialog read, if ``data`` is that file as it was then; used once."""
        known, self.table_read = self.table_read, None
        if known is None or data.source != "csv" or not data.csv_fingerprint:
            return None
        same = ("csv_path", "header", "delimiter", "csv_fingerprint")
        return known.table if all(getattr(known.data, k) == getattr(data, k) for k in same) else None

    def _set_hyperparameter(self, request: SetHyperparameter):
        if self.trainer is None:
            return Refused(request.id, "nothing is built yet")
        setattr(self.trainer, request.name, request.value)  # the trainer refuses absurd values
        if request.name == "batch_size":  # epochs get longer or shorter: keep the test passes' pace
            self._pace_tests()
        return Applied(request.id)

    def _control(self, request: Control):
        if self.trainer is None:
            return Refused(request.id, "nothing is built yet")
        if request.action in ("play", "step") and self.trainer.epoch >= limits.MAX_EPOCHS:
            self.stopped.emit(_history_full())
        elif request.action == "play":
            self.until_epoch_end = False
            self._set_running(True)
        elif request.action == "pause":
            self.until_epoch_end = False
            self._set_running(False)
        elif request.action == "refresh":  # a snapshot now, of the run in force
            self._publish(force_output=True)
        elif request.action == "step":
            self.trainer.test_every = 1  # the epoch stepped to is shown whole
            self.until_epoch_end = True
            self._set_running(True)
        else:
            return Refused(request.id, f"unknown action {request.action!r}")
        return Applied(request.id)

    def _set_weight(self, request: SetWeight):
        if self.net is None:
            return Refused(request.id, "nothing is built yet")
        layer = self.net.layers[request.layer]
        value = float(request.value)
        if not np.isfinite(value):
            return Refused(request.id, f"a weight must be a finite number, got {request.value!r:.40}")
        if request.column is None:
            layer.bias[request.row] = value
        else:
            layer.kernel[request.row, request.column] = value
        self.measured = self._measure()
        return Applied(request.id)

    def _measure(self):
        """The weights in force measured on both splits at once, as an epoch's figures (the cost moves
        with a weight dragged); None where a pass would make dragging lag."""
        problem, trainer = self.problem, self.trainer
        n_parameters = sum(p.size for p in self.net.parameters)
        if (len(problem.X_train) + len(problem.X_test)) * n_parameters > MEASURE_WORK:
            return None
        figures = []
        with np.errstate(all="ignore"):  # a weight typed huge gives an infinite cost, shown as such
            for X, Y in ((problem.X_train, problem.Y_train), (problem.X_test, problem.Y_test)):
                figures += trainer.evaluate(self.net.check_inputs(X), trainer.targets(Y)) if len(X) else (None, None)
        return EpochStats(trainer.epoch, *figures)

    def _preview(self, request: Preview):
        net = Network(self.net.n_inputs, self.net.spec, dtype=self.net.dtype, weights=request.weights)
        kernel_grads, neuron_grads = self._sample_gradients(net)
        return Previewed(request.id, request.epoch, request.weights, read_only(tuple(kernel_grads)),
                         read_only(tuple(neuron_grads)), *read_only(self._outputs(net)))

    def _sample_gradients(self, net):
        """(|dJ/dW| per layer, mean |dJ/dz| per layer) of ``net`` (changed: pass a copy) over a sample of
        the training set: how a network that has not taken a step here is coloured."""
        p = self.problem
        sizes = [net.n_inputs] + [layer.units for layer in net.layers]
        rows = slice(0, min(PREVIEW_ROWS, limits.rows_per_pass(sizes)))  # the split is shuffled: a fair sample
        with np.errstate(all="ignore"):
            net.loss_and_gradients(p.X_train[rows], p.Y_train[rows], self.trainer.loss)
        return ([np.abs(layer.d_kernel) for layer in net.layers],
                [np.abs(layer.grad_z).mean(axis=0) for layer in net.layers])

    _HANDLERS = {Configure: _configure, SetHyperparameter: _set_hyperparameter, Control: _control,
                 SetWeight: _set_weight, Preview: _preview, TableRead: _keep_table_read}

    @Slot()
    def stop(self):
        self._set_running(False)
        if self.timer is not None:
            self.timer.stop()

    # --- training ------------------------------------------------------------------------------
    def _restart(self, keep_running):
        p = self.problem
        self.runner = self.trainer.run(p.X_train, p.Y_train, p.X_test, p.Y_test)
        # coloured from the start (a run brought back, or a fresh one), not grey until its first steps
        self.kernel_grads, self.neuron_grads = self._sample_gradients(self.net.copy())
        self.pending_epochs = []
        self.pending_checkpoints = []
        self.measured = None
        self._checkpoint()  # where this run starts
        self._set_running(keep_running, publish=False)

    def _checkpoint(self):
        """Keep the weights and trainer state of the epoch just ended (the Session decides which to keep)."""
        self.last_checkpoint = time.perf_counter()
        weights = read_only(self.net.get_weights())
        self.pending_checkpoints.append((self.trainer.epoch, weights, read_only(self.trainer.state_dict())))

    def _set_running(self, running: bool, publish: bool = True):
        if running and self.timer is not None:
            self.rate_window = (time.perf_counter(), self.trainer.steps)
            self.timer.start()
        elif self.timer is not None:
            self.timer.stop()
        if running != self.running:
            self.running = running
            self.running_changed.emit(running)
            if publish:
                self._publish()

    @Slot()
    def _train_slice(self):
        if not self.running or self.closing.is_set():
            return
        self.view_ready.wait(pacing.FRAME_WAIT)  # releases the GIL while the window paints
        now = time.perf_counter()
        deadline = now + pacing.SLICE_SECONDS
        runner = self.runner
        try:
            with np.errstate(over="ignore", invalid="ignore"):  # a diverging run is reported, not warned
                while now < deadline and not self.closing.is_set():
                    event = next(runner)
                    if event is not None:
                        self.pending_epochs.append(event)
                        self.measured = None  # the epoch's figures are newer
                        if pacing.checkpoint_due(event.epoch, now - self.last_checkpoint):
                            self._checkpoint()
                        if event.epoch >= limits.MAX_EPOCHS:
                            self._stop_after(_history_full())
                            return
                        if self.until_epoch_end:
                            self.until_epoch_end = False
                            self._set_running(False)
                            return
                    now = time.perf_counter()
        except DivergenceError as error:
            self._stop_after(str(error))
            return
        except Exception as error:  # noqa: BLE001 - whatever it is, stop training and say so; never loop on it
            self._stop_after(f"training stopped: {error_line(error)}")
            return
        if now - self.last_publish >= self.frames.publish_interval() and self.view_ready.is_set():
            self._publish()

    def _stop_after(self, why: str):
        """Pause with a fresh runner (the failed generator is finished) and say why."""
        p = self.problem
        self.runner = self.trainer.run(p.X_train, p.Y_train, p.X_test, p.Y_test)
        self._set_running(False, publish=False)
        self.stopped.emit(why)
        self._publish(force_output=True)

    def _publish(self, force_output=False):
        if self.net is None:
            return
        now = time.perf_counter()
        start, steps = self.rate_window
        if now - start >= 0.5:
            self.steps_per_second = (self.trainer.steps - steps) / (now - start)
            self.rate_window = (now, self.trainer.steps)
            self._pace_tests()
        self._smooth_gradients()
        grid = predictions = neuron_grids = None
        if force_output or pacing.output_due(now, self.last_output, self.output_cost, self.running):
            self.last_output = now
            grid, predictions, neuron_grids = self._outputs(self.net)
            self.output_cost = time.perf_counter() - now
        self.snapshot_id += 1
        snapshot = Snapshot(
            id=self.snapshot_id, generation=self.generation, epoch=self.trainer.epoch, steps=self.trainer.steps,
            steps_per_second=self.steps_per_second if self.running else 0.0, running=self.running,
            weights=read_only(self.net.get_weights()), trainer_state=read_only(self.trainer.state_dict()),
            kernel_grads=read_only(self.kernel_grads), neuron_grads=read_only(self.neuron_grads),
            new_epochs=tuple(self.pending_epochs), penalty=self.trainer.penalty(),
            grid=read_only(grid), predictions=read_only(predictions), neuron_grids=read_only(neuron_grids),
            new_checkpoints=tuple(self.pending_checkpoints), measured=self.measured)
        self.pending_epochs = []
        self.pending_checkpoints = []
        self.last_publish = now
        self.view_ready.clear()
        self.published.emit(snapshot)

    def _pace_tests(self):
        steps_per_epoch = self.trainer.steps_per_epoch(len(self.problem.X_train))
        self.trainer.test_every = pacing.epochs_between_tests(self.steps_per_second, steps_per_epoch)

    def _smooth_gradients(self):
        """Blend the latest step's gradients into running averages; cheap, done only when publishing."""
        for layer, kernel_avg, neuron_avg in zip(self.net.layers, self.kernel_grads, self.neuron_grads):
            if layer.grad_z is None:
                continue
            kernel_avg *= 1 - SMOOTHING
            kernel_avg += SMOOTHING * np.abs(layer.d_kernel)
            neuron_avg *= 1 - SMOOTHING
            neuron_avg += SMOOTHING * np.abs(layer.grad_z).mean(axis=0)

    def _outputs(self, net):
        return network_outputs(net, self.problem, self.grid_inputs)


def network_outputs(net, problem: Problem, grid_inputs):
    """(grid, predictions, neuron grids) of ``net``, as the output view and the diagram draw them: for
    2-D data the outputs over the input plane (GRID, GRID, n_outputs) from ``grid_inputs`` (the encoded
    GRID² points) and each drawn hidden neuron's activation over it; for a table its predictions on the
    test set (the training set if there is none): (predicted, actual) in target units for a regression,
    (predicted class, actual class) for classification."""
    p = problem
    if p.is_plane:
        out, hidden = _forward(net, grid_inputs)
        neurons = tuple(a.reshape(GRID, GRID, -1)[::PICTURE_STRIDE, ::PICTURE_STRIDE] for a in hidden)
        return out.reshape(GRID, GRID, -1), None, neurons
    X, Y = (p.X_test, p.Y_test) if len(p.X_test) else (p.X_train, p.Y_train)
    X, Y = X[:MAX_ROWS_SCORED], Y[:MAX_ROWS_SCORED]  # the split is shuffled: a fair sample
    out, _ = _forward(net, X)
    if p.task == "regression":
        return None, (p.to_target_units(out).ravel(), p.to_target_units(np.reshape(Y, (-1, 1))).ravel()), None
    return None, (p.preprocessing.labels(out), np.asarray(Y).astype(np.int64).ravel()), None


def _history_full() -> str:
    return (f"this run has {limits.MAX_EPOCHS:,} epochs, the most a project keeps. To go on, train from an "
            "earlier epoch (the timeline), or pin this run and reset.")


def error_line(error: Exception) -> str:
    """What went wrong in one short line: a ValueError's or OSError's own words, else its type too."""
    text = str(error) if isinstance(error, (ValueError, OSError)) else f"{type(error).__name__}: {error}"
    return limits.one_line(text)


def _for_optimizer(state: dict, trainer) -> dict:
    """``state`` for ``trainer``: a state saved with another optimizer (changed since, live) keeps its
    epoch, shuffling and unfinished epoch, and starts the trainer's optimizer afresh, as a live change
    of optimizer does."""
    if state["optimizer"].get("name") == trainer.optimizer.name:
        return state
    fresh = type(trainer.optimizer)().state_dict()
    return {**state, "optimizer": fresh}


def _forward(net, X):
    """(outputs (n, n_outputs), per hidden layer its drawn units' activations (n, shown)) of ``net`` on X,
    in as many passes as ``core.limits`` lets a network this size take at once."""
    rows = max(limits.rows_per_pass([net.n_inputs] + [layer.units for layer in net.layers]), 1)
    outputs, hidden = [], [[] for _ in net.layers[:-1]]
    for start in range(0, max(len(X), 1), rows):
        outputs.append(net.predict(X[start:start + rows]))
        for kept, layer in zip(hidden, net.layers[:-1]):  # each layer keeps its activations from that pass
            kept.append(layer.a[:, shown_units(layer.units)])
    return np.concatenate(outputs), [np.concatenate(kept) for kept in hidden]


def _file_state(path) -> tuple | None:
    """(size, modification time) of a file, to tell whether it changed; None if it cannot be read."""
    try:
        stat = os.stat(path)
    except (OSError, TypeError, ValueError):
        return None
    return stat.st_size, stat.st_mtime_ns


def encoded_grid(problem: Problem, extent):
    """The GRID² points over the output view as the network's inputs (GRID², n_inputs)."""
    return problem.preprocessing.encode(grid_points(extent, GRID))


def grid_points(extent, n: int):
    """The n × n raw points over the output view, row by row from the bottom left (n², 2)."""
    x_min, x_max, y_min, y_max = extent
    xs, ys = np.meshgrid(np.linspace(x_min, x_max, n), np.linspace(y_min, y_max, n))
    return np.column_stack([xs.ravel(), ys.ravel()])


def view_extent(problem: Problem, drawn: bool = False):
    """A square around the 2-D points with a margin, like TensorFlow Playground's [−6, 6]; a drawn set
    keeps [−6, 6] (or more, to hold its points) so the canvas does not move under the pen."""
    points = np.vstack([problem.points_train, problem.points_test])
    half = float(np.abs(points).max()) * 1.1 if len(points) else 1.0
    half = max(half, DRAWN_HALF) if drawn else half
    return (-half, half, -half, half)


_garbage_collector = None


def collect_garbage_on_the_gui_thread() -> None:
    """Python collects cyclic garbage on whichever thread happens to allocate, and Qt objects must die
    on the GUI thread: a collection on the worker once deadlocked, deleting a closed window's widgets.
    So automatic collection is off, and a timer of this (the GUI) thread collects instead."""
    global _garbage_collector
    if _garbage_collector is None:
        _garbage_collector = GarbageCollector(interval=0.5)


class WorkerThread:
    """Owns a TrainingWorker on a QThread; ``close`` stops it and joins the thread."""

    instances = weakref.WeakSet()  # so tests can check that no thread outlives its window

    def __init__(self):
        collect_garbage_on_the_gui_thread()
        WorkerThread.instances.add(self)
        self.thread = QThread()
        self.thread.setObjectName("training")
        self.worker = TrainingWorker()
        self.worker.moveToThread(self.thread)
        self.thread.started.connect(self.worker.start)
        self.thread.finished.connect(self.worker.deleteLater)
        self.thread.start()

    def close(self, timeout_ms: int = 5000) -> bool:
        if not self.thread.isRunning():
            return True
        self.worker.closing.set()
        self.worker.view_ready.set()
        self.thread.requestInterruption()
        self.thread.quit()  # the event loop ends after the current slice or request
        if self.thread.wait(timeout_ms):
            return True
        keep_until_exit(self.thread, self.worker)
        return False


EXIT_WAIT_MS = 60_000  # how long the process waits at exit for a thread that did not stop when closed
_unfinished = []  # (thread, its worker) that a close could not join in time


def keep_until_exit(thread, worker) -> None:
    """Keep a thread that is still running after its close, with its worker, and join it at exit:
    destroying a running QThread aborts the process. For the training thread and the job threads."""
    _unfinished.append((thread, worker))


def unfinished_threads() -> list:
    """Threads a close could not join in time, still running."""
    return [thread for thread, _ in _unfinished if thread.isRunning()]


@atexit.register
def _join_unfinished():
    for thread, _ in _unfinished:
        thread.wait(EXIT_WAIT_MS)
