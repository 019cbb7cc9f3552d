"""The training worker: a QObject living on its own QThread that steps core's trainer.

The window sends commands as queued signals; they run between slices of ~15 ms of
training, so every command takes effect between two steps. The worker publishes
immutable ``Snapshot``s of copied arrays at most ``PUBLISH_HZ`` times a second, and only
as often as lets the window's drawing (timed by the window, see ``view_drawn``) take
``VIEW_SHARE`` of the time: both threads need the GIL, so a frame is training time lost.
"""
from __future__ import annotations

import copy
import math
import threading
import time
import weakref
from dataclasses import dataclass, field, replace

import numpy as np
from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

from core import DivergenceError
from core import datasets
from core.spec import DataSpec, NetworkSpec, Problem, TrainingConfig, prepare

PUBLISH_HZ = 30  # at most; fewer when frames are costly (see VIEW_SHARE)
VIEW_SHARE = 0.1  # drawing may take this share of the time: the trainer waits while the window paints
SLOWEST_FRAMES = 0.5  # seconds between frames at most, whatever they cost: the views must look live
TEST_HZ = 10  # test-set passes per second of training at most: the cost plot redraws 5 times a second
OUTPUT_HZ = 6  # the decision boundary costs a forward pass over a grid and moves slowly
SLICE_SECONDS = 0.015
FRAME_WAIT = 0.03  # the longest training waits for the window to paint a frame
GRID = 64  # heatmap resolution (GRID × GRID points)
MAX_POINTS_SHOWN = 2000  # predicted-vs-actual points drawn, however large the table
SMOOTHING = 0.3  # weight of the newest gradient in the running average the diagram shows


@dataclass(frozen=True)
class Snapshot:
    """What the views draw; every array is a copy owned by the snapshot."""

    generation: int  # bumps with every rebuild or reset, so views can drop stale snapshots
    epoch: int
    steps: int
    steps_per_second: float
    running: bool
    weights: list  # [(kernel (n_in, n_out), bias (n_out,)), ...]
    kernel_grads: list  # smoothed |dJ/dW| per layer, (n_in, n_out)
    neuron_grads: list  # smoothed mean |dJ/dz| over the batch per layer, (n_out,)
    new_epochs: list = field(default_factory=list)  # EpochStats since the previous snapshot
    penalty: float = 0.0
    grid: np.ndarray | None = None  # plane data: outputs over the input plane (GRID, GRID, n_outputs)
    predictions: tuple | None = None  # tables: (predicted, actual) in target units, test set (or train)


@dataclass(frozen=True)
class ProblemInfo:
    """The data as the views need it, sent once per new problem."""

    generation: int
    specs: tuple  # (DataSpec, NetworkSpec, TrainingConfig) this problem was built from
    problem: Problem
    network_layers: list  # [(units, activation), ...] including the output layer
    loss: str
    extent: tuple | None  # plane data: (x_min, x_max, y_min, y_max) of the heatmap


class TrainingWorker(QObject):
    snapshot_ready = Signal(object)
    problem_ready = Signal(object)
    configure_failed = Signal(str, object)  # (why, the specs still in force or None): nothing changed
    failed = Signal(str, object)  # the same for a live setting or for training that had to stop
    diverged = Signal(str)
    running_changed = Signal(bool)

    def __init__(self):
        super().__init__()
        self.timer = None
        self.problem = self.net = self.trainer = self.runner = self.grid_inputs = None
        self.specs = None
        self.generation = 0
        self.running = False
        self.until_epoch_end = False
        self.pending_epochs = []
        self.kernel_grads = self.neuron_grads = None
        self.last_publish = self.last_output = self.output_cost = 0.0
        self.rate_window = (time.perf_counter(), 0)
        self.steps_per_second = 0.0
        # Set by the window once it has drawn and painted the last snapshot. Until then the worker
        # waits (up to FRAME_WAIT) instead of training: both threads need the GIL, and a UI thread
        # that has to win it back for each of its many Qt calls would stall for hundreds of ms.
        self.view_ready = threading.Event()
        self.view_ready.set()
        self.frame_seconds = 0.0  # a running average of the window's time to draw one snapshot

    def view_drawn(self, seconds: float):
        """Called from the window's thread once it has drawn and painted a snapshot in ``seconds``."""
        seconds = min(seconds, 3 * self.frame_seconds + 0.005)  # one odd frame (a resize, say) barely counts
        self.frame_seconds += 0.2 * (seconds - self.frame_seconds)
        self.view_ready.set()

    # --- commands (queued slots, run on the worker's thread) ---------------------------
    @Slot()
    def start(self):
        self.timer = QTimer(self)
        self.timer.setInterval(0)
        self.timer.timeout.connect(self._train_slice)

    @Slot(object, object, object)
    def configure(self, data: DataSpec, network: NetworkSpec, training: TrainingConfig):
        """New data, architecture or settings: rebuild everything from the seeds (weights reset)."""
        try:
            problem = prepare(data)
            net = network.build(problem)
            trainer = training.build(net, problem)
        except Exception as error:  # noqa: BLE001 - every configure gets an answer (DatasetError is a ValueError)
            message = str(error) if isinstance(error, (ValueError, OSError)) else repr(error)
            self.configure_failed.emit(message, self._specs_copy())
            return
        self.problem, self.net, self.trainer = problem, net, trainer
        self.specs = (data, network, training)
        self._restart(keep_running=self.running)
        extent = _extent(problem) if problem.is_plane else None
        self.grid_inputs = _grid_inputs(extent, data.features) if problem.is_plane else None
        self.problem_ready.emit(ProblemInfo(self.generation, self._specs_copy(), problem, net.spec,
                                            trainer.loss.name, extent))
        self._publish(force_output=True)

    @Slot()
    def reset(self):
        """Re-initialise the network from its seed: the same seed reproduces the run."""
        if self.specs is None:
            return
        _, network, training = self.specs
        self.net = network.build(self.problem)
        self.trainer = training.build(self.net, self.problem)
        self._restart(keep_running=False)
        self._publish(force_output=True)

    @Slot(object, int)
    def set_weights(self, weights, epoch: int):
        """Load weights of the current architecture (an imported file or an opened project);
        ``epoch`` ≥ 0 also sets the epoch count the run continues from."""
        try:
            self.net.set_weights(weights)
        except ValueError as error:
            self.failed.emit(f"the weights do not fit this network ({error})", self._specs_copy())
            return
        if epoch >= 0:
            self.trainer.epoch = epoch
        self._publish(force_output=True)

    @Slot()
    def play(self):
        if self.trainer is not None and not self.running:
            self.until_epoch_end = False
            self._set_running(True)

    @Slot()
    def pause(self):
        self.until_epoch_end = False
        self._set_running(False)

    @Slot()
    def step_epoch(self):
        """Train until the current epoch ends, then pause."""
        if self.trainer is not None:
            self.trainer.test_every = 1  # the epoch stepped to is shown whole
            self.until_epoch_end = True
            self._set_running(True)

    @Slot(str, object)
    def set_hyperparameter(self, name: str, value):
        """learning_rate, batch_size, optimizer, regularization or reg_rate; live, no reset."""
        if self.trainer is None:
            return
        try:
            setattr(self.trainer, name, value)
        except ValueError as error:
            self.failed.emit(str(error), self._specs_copy())
            return
        data, network, training = self.specs
        self.specs = (data, network, replace(training, **{name: value}))  # the TrainingConfig in force
        if name == "batch_size":  # epochs get longer or shorter: keep the test passes' pace
            self._pace_tests()

    def _specs_copy(self):
        """(DataSpec, NetworkSpec, TrainingConfig) in force, as the window's own copy; None before any."""
        return copy.deepcopy(self.specs)

    @Slot()
    def stop(self):
        self._set_running(False)
        if self.timer is not None:
            self.timer.stop()

    # --- training --------------------------------------------------------------------
    def _restart(self, keep_running):
        self.generation += 1
        p = self.problem
        self.runner = self.trainer.run(p.X_train, p.Y_train, p.X_test, p.Y_test)
        self.kernel_grads = [np.zeros_like(layer.kernel) for layer in self.net.layers]
        self.neuron_grads = [np.zeros_like(layer.bias) for layer in self.net.layers]
        self.pending_epochs = []
        self._set_running(keep_running)

    def _set_running(self, running: bool):
        if running and self.timer is not None:
            self.rate_window = (time.perf_counter(), self.trainer.steps)
            self.timer.start()
        elif self.timer is not None:
            self.timer.stop()
        if running != self.running:
            self.running = running
            self.running_changed.emit(running)
            self._publish()

    @Slot()
    def _train_slice(self):
        if not self.running:
            return
        self.view_ready.wait(FRAME_WAIT)  # releases the GIL while the window paints
        now = time.perf_counter()
        deadline = now + SLICE_SECONDS
        runner = self.runner
        try:
            with np.errstate(over="ignore", invalid="ignore"):  # a diverging run is reported, not warned
                while now < deadline:
                    event = next(runner)
                    if event is not None:
                        self.pending_epochs.append(event)
                        if self.until_epoch_end:
                            self.until_epoch_end = False
                            self._set_running(False)
                            break
                    now = time.perf_counter()
        except DivergenceError as error:
            self._stop_after(self.diverged, str(error))
            return
        except Exception as error:  # noqa: BLE001 - whatever it is, stop training and say so; never loop on it
            self._stop_after(self.failed, f"training stopped: {error!r}", self._specs_copy())
            return
        interval = min(max(1.0 / PUBLISH_HZ, self.frame_seconds / VIEW_SHARE), SLOWEST_FRAMES)
        if now - self.last_publish >= interval and self.view_ready.is_set():
            self._publish()

    def _stop_after(self, signal, *args):
        """Pause with a fresh runner (the failed generator is finished) and tell the window why."""
        p = self.problem
        self.runner = self.trainer.run(p.X_train, p.Y_train, p.X_test, p.Y_test)
        self._set_running(False)
        signal.emit(*args)
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
        # at most OUTPUT_HZ, and for a huge network no more than a tenth of the time
        output_due = force_output or now - self.last_output >= max(1.0 / OUTPUT_HZ, 10 * self.output_cost)
        grid = predictions = None
        if output_due:
            self.last_output = now
            grid, predictions = self._outputs()
            self.output_cost = time.perf_counter() - now
        snapshot = Snapshot(
            generation=self.generation, epoch=self.trainer.epoch, steps=self.trainer.steps,
            steps_per_second=self.steps_per_second if self.running else 0.0, running=self.running,
            weights=self.net.get_weights(),
            kernel_grads=[g.copy() for g in self.kernel_grads],
            neuron_grads=[g.copy() for g in self.neuron_grads],
            new_epochs=self.pending_epochs, penalty=self.trainer.penalty(), grid=grid, predictions=predictions)
        self.pending_epochs = []
        self.last_publish = now
        self.view_ready.clear()
        self.snapshot_ready.emit(snapshot)

    def _pace_tests(self):
        self.trainer.test_every = paced_test_every(self.trainer, len(self.problem.X_train), self.steps_per_second)

    def _smooth_gradients(self):
        """Blend the latest step's gradients into running averages; cheap, done only when publishing."""
        for layer, kernel_avg, neuron_avg in zip(self.net.layers, self.kernel_grads, self.neuron_grads):
            if layer.grad_z is None:
                continue
            kernel_avg *= 1 - SMOOTHING
            kernel_avg += SMOOTHING * np.abs(layer.d_kernel)
            neuron_avg *= 1 - SMOOTHING
            neuron_avg += SMOOTHING * np.abs(layer.grad_z).mean(axis=0)

    def _outputs(self):
        p = self.problem
        if p.is_plane:
            return self.net.predict(self.grid_inputs).reshape(GRID, GRID, -1), None
        X, Y = (p.X_test, p.Y_test) if len(p.X_test) else (p.X_train, p.Y_train)
        X, Y = X[:MAX_POINTS_SHOWN], Y[:MAX_POINTS_SHOWN]  # the split is shuffled: a fair sample
        out = self.net.predict(X)
        if p.task == "regression":
            return None, (p.to_target_units(out).ravel(), p.to_target_units(Y.reshape(-1, 1)).ravel())
        predicted = out.argmax(axis=1) if p.task == "multiclass" else (out.ravel() > 0.5).astype(int)
        return None, (predicted, np.asarray(Y).astype(int).ravel())


def paced_test_every(trainer, n_train: int, steps_per_second: float) -> int:
    """Epochs between test-set passes so that they come at most TEST_HZ times a second (every epoch
    when epochs are slower)."""
    epochs_per_second = steps_per_second / math.ceil(n_train / trainer.batch_size)
    return max(1, math.ceil(epochs_per_second / TEST_HZ))


def _grid_inputs(extent, features):
    """The network's inputs at the heatmap's GRID × GRID points, row by row from the bottom left."""
    x_min, x_max, y_min, y_max = extent
    xs, ys = np.meshgrid(np.linspace(x_min, x_max, GRID), np.linspace(y_min, y_max, GRID))
    return datasets.feature_map(np.column_stack([xs.ravel(), ys.ravel()]), features)


def _extent(problem: Problem):
    """A square around the 2-D points with a margin, like TensorFlow Playground's [−6, 6]."""
    points = np.vstack([problem.points_train, problem.points_test])
    half = float(np.abs(points).max()) * 1.1 if len(points) else 1.0
    return (-half, half, -half, half)


class WorkerThread:
    """Owns a TrainingWorker on a QThread; ``close`` stops it and joins the thread."""

    instances = weakref.WeakSet()  # so tests can check that no thread outlives its window

    def __init__(self):
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
        self.thread.requestInterruption()
        self.thread.quit()  # the event loop ends after the current slice (≤ 15 ms)
        return self.thread.wait(timeout_ms)
