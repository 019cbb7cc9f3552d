#!/usr/bin/env python
"""Training and drawing benchmark: speed ratios measured side by side in one run.

    python tests/benchmarks/bench_training.py [--quick] [--json out.json] [--sections 1,2,3,4,5]

Times depend on the machine, so every figure that has a target is a RATIO of two
things measured in the same run, in alternating rounds (A B, B A, A B, ...; three
variants rotate their order) so that a slow spell of the machine hits every side
alike; the ratio is taken per round and the median is reported. CPU time that other
processes used during each section is reported too: above 0.2 cores the figures are
flagged as noisy. Nothing here is a test: pytest never collects this file (and
tests/core/test_benchmark_loop.py checks, without timing anything, that the NumPy
loop does the Trainer's maths).

Sections
  1. core's Trainer (driven through ``Trainer.run``, the generator the app uses)
     against a minimal hand-written NumPy loop doing the same maths.
  2. The same cases against PyTorch CPU (when torch imports).
  3. The real window training with every view live, a pinned run and the timeline: speed against headless
     training, and the longest stall of the UI thread.
  4. Drawing: recolouring the network diagram, redrawing a 100,000-epoch cost plot.
  5. Memory: peak RSS of a long run through the worker, and RSS growth per 10k epochs.

It prints a table and writes JSON (``bench-results.json`` by default).
"""
from __future__ import annotations

import argparse
import ctypes
import gc
import itertools
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from core import Network, Trainer  # noqa: E402
from core.spec import DataSpec, prepare  # noqa: E402

DEFAULT_JSON = "bench-results.json"
LEARNING_RATE = 0.03


# --- the cases ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    key: str
    label: str
    hidden: tuple  # units of each hidden layer
    activation: str  # of the hidden layers
    output: str  # "sigmoid" (with bce) or "softmax" (with cross_entropy)
    batch_size: int
    dtype: str
    data: str  # "circle" (the app's default data) or "random"

    @property
    def loss(self) -> str:
        return "bce" if self.output == "sigmoid" else "cross_entropy"


CASES = (
    Case("small", "2-8-8-1 tanh, bce, batch 10, f64", (8, 8), "tanh", "sigmoid", 10, "float64", "circle"),
    Case("playground_max", "2-(8x6)-1 tanh, bce, batch 10, f64", (8,) * 6, "tanh", "sigmoid", 10, "float64",
         "circle"),
    Case("large", "784-256-256-10 relu, softmax+CE, batch 128, f32", (256, 256), "relu", "softmax", 128,
         "float32", "random"),
)
CASE_BY_KEY = {case.key: case for case in CASES}
RANDOM_TRAIN, RANDOM_TEST = 4096, 1024  # the large case's random "images"


def make_data(case: Case, seed: int = 0):
    """(X, Y, X_test, Y_test), Y in the loss's shape ((n, 1) or one-hot), all in the case's dtype.

    The circle cases use the app's default data (500 points, half for testing); the large
    case random 784-pixel inputs with 10 classes.
    """
    dtype = np.dtype(case.dtype)
    if case.data == "circle":
        p = prepare(DataSpec())
        X, Y, Xt, Yt = p.X_train, p.Y_train.reshape(-1, 1), p.X_test, p.Y_test.reshape(-1, 1)
    else:
        rng = np.random.default_rng(seed)
        n = RANDOM_TRAIN + RANDOM_TEST
        images = rng.random((n, 784))
        labels = np.eye(10)[rng.integers(0, 10, n)]
        X, Xt, Y, Yt = images[:RANDOM_TRAIN], images[RANDOM_TRAIN:], labels[:RANDOM_TRAIN], labels[RANDOM_TRAIN:]
    return tuple(np.ascontiguousarray(a, dtype=dtype) for a in (X, Y, Xt, Yt))


def make_network(case: Case, n_inputs: int, seed: int = 0) -> Network:
    layers = [(units, case.activation) for units in case.hidden] + [(1 if case.output == "sigmoid" else 10,
                                                                       case.output)]
    return Network(n_inputs, layers, seed=seed, dtype=case.dtype)


def make_trainer(case: Case, net: Network, seed: int = 0) -> Trainer:
    return Trainer(net, loss=case.loss, optimizer="sgd", learning_rate=LEARNING_RATE, batch_size=case.batch_size,
                   seed=seed)


# --- the minimal NumPy loop -------------------------------------------------------------------
def numpy_sgd(X, Y, weights, hidden_activation, output, learning_rate, batch_size, steps, seed=0,
              X_test=None, Y_test=None):
    """Mini-batch SGD written out by hand: the baseline the Trainer is measured against.

    The same maths as core's Trainer with SGD: per epoch one shuffle from
    ``default_rng(seed).permutation``, then for each batch the forward pass, the loss
    value (bce from the logits or softmax cross-entropy, mean over the batch), the
    backward pass and ``p -= lr * g``. No checks. Given a test set, it also computes the
    statistics the Trainer reports at each epoch's end: the mean cost and the accuracy from
    the batches' outputs, and the test cost and accuracy from one forward pass.
    ``weights`` is ``[(kernel, bias), ...]`` (copied, not changed). Returns the weights after
    ``steps`` steps, the last batch's loss and the last finished epoch's
    ``(train cost, train accuracy, test cost, test accuracy)`` (None without a test set).
    """
    Ws = [np.array(k) for k, _ in weights]
    bs = [np.array(b) for _, b in weights]
    relu = hidden_activation == "relu"
    rng = np.random.default_rng(seed)
    n, last = len(X), len(Ws) - 1
    done, loss, epoch_figures = 0, math.nan, None

    def loss_and_outputs(z, y):
        """Mean loss from the logits (stable, like core's fused losses) and the output probabilities."""
        if output == "sigmoid":
            return (float(np.mean(np.maximum(z, 0.0) - z * y + np.log1p(np.exp(-np.abs(z))))),
                    0.5 * (1.0 + np.tanh(0.5 * z)))
        shifted = z - z.max(axis=1, keepdims=True)
        e = np.exp(shifted)
        total = e.sum(axis=1, keepdims=True)
        return float(-np.sum(y * (shifted - np.log(total))) / len(y)), e / total

    def accuracy(p, y):
        right = (p > 0.5) == (y > 0.5) if output == "sigmoid" else p.argmax(axis=1) == y.argmax(axis=1)
        return np.count_nonzero(right) / len(y)

    while done < steps:
        order = rng.permutation(n)
        Xs, Ys = X[order], Y[order]
        outputs = np.empty_like(Ys) if X_test is not None else None
        total = 0.0
        for start in range(0, n, batch_size):
            if done == steps:
                break
            xb, yb = Xs[start:start + batch_size], Ys[start:start + batch_size]
            acts, zs = [xb], []
            a = xb
            for W, b in zip(Ws[:-1], bs[:-1]):
                z = a @ W + b
                a = np.maximum(z, 0.0) if relu else np.tanh(z)
                zs.append(z)
                acts.append(a)
            loss, p = loss_and_outputs(a @ Ws[last] + bs[last], yb)
            total += loss * len(yb)
            if outputs is not None:
                outputs[start:start + batch_size] = p
            g = (p - yb) / (yb.size if output == "sigmoid" else len(yb))
            for i in range(last, -1, -1):
                dW = acts[i].T @ g
                db = g.sum(axis=0)
                if i:
                    ga = g @ Ws[i].T
                    g = ga * (zs[i - 1] > 0) if relu else ga * (1.0 - acts[i] * acts[i])
                Ws[i] -= learning_rate * dW
                bs[i] -= learning_rate * db
            done += 1
        else:  # the epoch ran to its end: the figures the app plots
            if X_test is not None:
                a = X_test
                for W, b in zip(Ws[:-1], bs[:-1]):
                    a = np.maximum(a @ W + b, 0.0) if relu else np.tanh(a @ W + b)
                test_loss, p = loss_and_outputs(a @ Ws[last] + bs[last], Y_test)
                epoch_figures = (total / n, accuracy(outputs, Ys), test_loss, accuracy(p, Y_test))
    return list(zip(Ws, bs)), loss, epoch_figures


def run_trainer_steps(runner, steps: int) -> None:
    """Drive ``Trainer.run``'s generator for ``steps`` steps, as the app's worker does."""
    for _ in itertools.islice(runner, steps):
        pass


# --- machine ------------------------------------------------------------------------------------
def blas_info() -> dict:
    """Which BLAS NumPy uses and with how many threads (threadpoolctl if present, else OpenBLAS itself)."""
    info = {"name": None, "version": None, "threads": None, "core": None}
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        info.update(name=blas.get("name"), version=blas.get("version"))
    except Exception:  # older NumPy: no dicts
        pass
    try:
        from threadpoolctl import threadpool_info
        for pool in threadpool_info():
            if pool.get("user_api") == "blas":
                info.update(name=pool.get("internal_api"), version=pool.get("version"),
                            threads=pool.get("num_threads"), core=pool.get("architecture"))
                return info
    except ImportError:
        pass
    try:  # OpenBLAS loaded by NumPy: ask it
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower() and "/" in line}
        for path in sorted(paths):
            lib = ctypes.CDLL(path)
            for prefix, suffix in (("scipy_openblas", "64_"), ("openblas", "64_"), ("openblas", "")):
                get_threads = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
                if get_threads is None:
                    continue
                info["threads"] = int(get_threads())
                get_core = getattr(lib, f"{prefix}_get_corename{suffix}", None)
                if get_core is not None:
                    get_core.restype = ctypes.c_char_p
                    info["core"] = get_core().decode()
                return info
    except OSError:
        pass
    return info


def machine_info() -> dict:
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count()
    info = {"cpus": cores, "cpu_model": model, "python": platform.python_version(), "numpy": np.__version__,
            "blas": blas_info(), "platform": platform.platform(),
            "env": {k: v for k, v in os.environ.items()
                    if k.startswith(("OPENBLAS_", "OMP_", "MKL_")) or k == "QT_QPA_PLATFORM"}}
    return info


class OtherLoad:
    """CPU cores busy with other processes while a section ran (Linux /proc), to flag a noisy run."""

    def __init__(self):
        self.start = self._sample()

    @staticmethod
    def _sample():
        try:
            with open("/proc/stat") as stat:
                fields = [int(v) for v in stat.readline().split()[1:]]
            busy = sum(fields) - fields[3] - fields[4]  # all but idle and iowait
            times = os.times()
            ours = times.user + times.system + times.children_user + times.children_system
            return time.perf_counter(), busy / os.sysconf("SC_CLK_TCK"), ours
        except (OSError, ValueError, IndexError):
            return None

    def cores(self) -> float | None:
        end = self._sample()
        if self.start is None or end is None:
            return None
        (t0, busy0, ours0), (t1, busy1, ours1) = self.start, end
        return max(0.0, ((busy1 - busy0) - (ours1 - ours0)) / max(t1 - t0, 1e-9))


# --- timing helpers -----------------------------------------------------------------------------
def timed(fn) -> float:
    gc.collect()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def calibrate(fn_steps, seconds: float) -> int:
    """Steps that take about ``seconds`` with ``fn_steps(n)``."""
    n = 1
    while True:
        elapsed = timed(lambda: fn_steps(n))
        if elapsed > 0.05:
            return max(1, int(n * seconds / elapsed))
        n *= 4


def interleave(a, b, pairs: int):
    """Rounds A B, B A, A B, ... of two zero-argument callables that return a rate; ratios a/b per pair."""
    rates_a, rates_b, ratios = [], [], []
    for i in range(pairs):
        if i % 2 == 0:
            ra, rb = a(), b()
        else:
            rb, ra = b(), a()
        rates_a.append(ra)
        rates_b.append(rb)
        ratios.append(ra / rb)
    return rates_a, rates_b, ratios


def rotate(variants: dict, rounds: int) -> dict:
    """Round after round, each variant once, the order rotating each round; {name: [rate per round]}."""
    names = list(variants)
    rates = {name: [] for name in names}
    for i in range(rounds):
        for name in names[i % len(names):] + names[:i % len(names)]:
            rates[name].append(variants[name]())
    return rates


def paced_test_every(trainer, n_train: int, steps_per_second: float) -> int:
    """The worker's test pacing (playground.training.pacing) for a trainer training at this speed."""
    from playground.training import pacing
    return pacing.epochs_between_tests(steps_per_second, trainer.steps_per_epoch(n_train))


def percentile(values, q):
    return float(np.percentile(values, q)) if len(values) else math.nan


# --- section 1 and 2: training speed -------------------------------------------------------------
def bench_numpy(case: Case, rounds: int, round_seconds: float) -> dict:
    """Trainer.run as the app trains it against the minimal NumPy loop (no statistics), in the same
    rounds. The app's Trainer scores train accuracy every epoch and evaluates the test set about
    TEST_HZ times a second (``test_every``, as the worker paces it). Also: the Trainer evaluating
    the test set every epoch, against the minimal loop and against the loop computing the same
    statistics (the Trainer's own overhead)."""
    X, Y, Xt, Yt = make_data(case)
    weights = make_network(case, X.shape[1]).get_weights()
    app_trainer = make_trainer(case, make_network(case, X.shape[1]))
    runner = app_trainer.run(X, Y, Xt, Yt)
    every_epoch_runner = make_trainer(case, make_network(case, X.shape[1])).run(X, Y, Xt, Yt)

    def loop(n, with_statistics=False):
        numpy_sgd(X, Y, weights, case.activation, case.output, LEARNING_RATE, case.batch_size, n,
                  X_test=Xt if with_statistics else None, Y_test=Yt if with_statistics else None)

    warm = 2 * (len(X) // case.batch_size)
    loop(warm)
    run_trainer_steps(every_epoch_runner, warm)
    run_trainer_steps(runner, warm)
    steps_per_second = warm / timed(lambda: run_trainer_steps(runner, warm))  # warm, as the worker measures it
    app_trainer.test_every = paced_test_every(app_trainer, len(X), steps_per_second)
    steps = calibrate(loop, round_seconds)
    rate = lambda fn: lambda: steps / timed(fn)
    rates = rotate({"numpy": rate(lambda: loop(steps)),
                    "trainer": rate(lambda: run_trainer_steps(runner, steps)),
                    "trainer_every_epoch": rate(lambda: run_trainer_steps(every_epoch_runner, steps)),
                    "numpy_statistics": rate(lambda: loop(steps, with_statistics=True))}, rounds)
    runner.close()
    every_epoch_runner.close()
    ratio = lambda a, b: [x / y for x, y in zip(rates[a], rates[b])]
    ratios, every_epoch, like = (ratio("trainer", "numpy"), ratio("trainer_every_epoch", "numpy"),
                                 ratio("trainer_every_epoch", "numpy_statistics"))
    return {"case": case.key, "label": case.label, "steps_per_round": steps, "rounds": rounds,
            "train_samples": len(X), "test_samples": len(Xt), "test_every": app_trainer.test_every,
            **{f"{name}_steps_per_s": statistics.median(values) for name, values in rates.items()},
            "ratio": statistics.median(ratios), "ratios": ratios,
            "ratio_test_every_epoch": statistics.median(every_epoch), "ratios_test_every_epoch": every_epoch,
            "ratio_same_statistics": statistics.median(like), "ratios_same_statistics": like}


def torch_model(case: Case, net: Network):
    import torch
    from torch import nn

    dtype = torch.float64 if case.dtype == "float64" else torch.float32
    modules = []
    for i, layer in enumerate(net.layers):
        linear = nn.Linear(layer.n_in, layer.units, dtype=dtype)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(layer.kernel.T.copy()))
            linear.bias.copy_(torch.from_numpy(layer.bias.copy()))
        modules.append(linear)
        if i < len(net.layers) - 1:
            modules.append(nn.ReLU() if case.activation == "relu" else nn.Tanh())
    return nn.Sequential(*modules)  # the output activation is fused into the loss, as in core


def torch_sgd(case: Case, model, X, labels, seed: int = 0):
    """A generator-free PyTorch training loop: shuffle per epoch, then forward, loss, backward, step."""
    import torch
    from torch import nn

    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
    loss_fn = nn.BCEWithLogitsLoss() if case.output == "sigmoid" else nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(seed)
    n, bs = len(X), case.batch_size

    def run(steps):
        done = 0
        while done < steps:
            order = torch.randperm(n, generator=generator)
            Xs, Ys = X[order], labels[order]
            for start in range(0, n, bs):
                if done == steps:
                    break
                optimizer.zero_grad()
                loss = loss_fn(model(Xs[start:start + bs]), Ys[start:start + bs])
                loss.backward()
                optimizer.step()
                loss.item()  # the loss value, as the Trainer computes it
                done += 1
    return run


def bench_torch(case: Case, pairs: int, round_seconds: float, threads: int | None) -> dict:
    import torch

    if threads:
        torch.set_num_threads(threads)
    X, Y, Xt, Yt = make_data(case)
    net = make_network(case, X.shape[1])
    model = torch_model(case, net)
    trainer = make_trainer(case, net)
    runner = trainer.run(X, Y, Xt, Yt)
    labels = torch.from_numpy(Y) if case.output == "sigmoid" else torch.from_numpy(Y.argmax(axis=1))
    loop = torch_sgd(case, model, torch.from_numpy(X), labels)
    warm = 2 * (len(X) // case.batch_size)
    loop(warm)
    run_trainer_steps(runner, warm)
    steps = calibrate(loop, round_seconds)
    trainer_rates, torch_rates, ratios = interleave(
        lambda: steps / timed(lambda: run_trainer_steps(runner, steps)),
        lambda: steps / timed(lambda: loop(steps)), pairs)
    runner.close()
    return {"case": case.key, "label": case.label, "steps_per_round": steps, "pairs": pairs,
            "trainer_steps_per_s": statistics.median(trainer_rates),
            "torch_steps_per_s": statistics.median(torch_rates),
            "ratio": statistics.median(ratios), "ratios": ratios, "torch_threads": torch.get_num_threads()}


# --- Qt helpers ----------------------------------------------------------------------------------
def qt_app():
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication
    return QApplication.instance() or QApplication(["bench_training"])


def spin(seconds: float) -> None:
    """Run the Qt event loop for ``seconds`` (timers fire, queued signals arrive, widgets paint)."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(max(0, int(seconds * 1000)), loop.quit)
    loop.exec()


def spin_until(condition, timeout: float = 10.0) -> bool:
    from PySide6.QtWidgets import QApplication

    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            return False
        QApplication.processEvents()
        time.sleep(0.002)
    return True


def open_window():
    """The app's window, shown and holding its first snapshot, its recovery files in a temporary folder."""
    qt_app()
    from playground.ui.main_window import MainWindow

    window = MainWindow(recovery_folder=Path(tempfile.mkdtemp()))
    window.show()
    gc.freeze()  # as playground.app.run does
    if not spin_until(lambda: window.session.built is not None and window.session.snapshot is not None, 20):
        raise RuntimeError("the window never received its first snapshot")
    return window


class LatenessProbe:
    """A QTimer on the UI thread firing every ``interval`` s; records how late each tick is."""

    def __init__(self, interval: float = 0.005):
        from PySide6.QtCore import QTimer, Qt

        self.interval = interval
        self.late = []
        self.last = None
        self.timer = QTimer()
        self.timer.setTimerType(Qt.PreciseTimer)
        self.timer.setInterval(int(interval * 1000))
        self.timer.timeout.connect(self._tick)

    def _tick(self):
        now = time.perf_counter()
        if self.last is not None:
            self.late.append(max(0.0, now - self.last - self.interval))
        self.last = now

    def start(self):
        self.last = None
        self.timer.start()

    def stop(self):
        self.timer.stop()


def thread_ids(name: str) -> list[int]:
    """Linux ids of this process's threads called ``name`` (QThread names its thread after its objectName)."""
    ids = []
    try:
        for tid in os.listdir("/proc/self/task"):
            with open(f"/proc/self/task/{tid}/comm") as f:
                if f.read().strip() == name:
                    ids.append(int(tid))
    except OSError:
        pass
    return ids


def thread_cpu_seconds(tid: int | None) -> float | None:
    """CPU seconds (user + system) used so far by thread ``tid`` of this process, or None."""
    if tid is None:
        return None
    try:
        with open(f"/proc/self/task/{tid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- section 3: the window -----------------------------------------------------------------------
class _SnapshotSink:
    """Stands in for the window: takes snapshots and says "drawn" at once (the worker without views)."""

    def __init__(self, worker):
        from PySide6.QtCore import QObject, Slot

        class Sink(QObject):
            @Slot(object)
            def take(self, snapshot):
                worker.view_ready.set()

        self.qobject = Sink()
        worker.published.connect(self.qobject.take)


def bench_window(pairs: int, round_seconds: float) -> dict:
    """The app's default network trained by the real window (offscreen), with a pinned run drawn over
    its cost curves and the timeline live under them, against headless training.

    Rounds alternate: the window training with every view live (``toggle_play``), and the
    same network trained headless by ``Trainer.run`` on this thread while the window is
    paused. Extra rounds run the worker on its thread with no views at all (snapshots are
    taken and dropped), to tell the worker's own cost from the views'. Headless training
    evaluates the test set as the app paces it (``paced_test_every``).

    Last come rounds of the window training with a 5 ms QTimer on the UI thread that records
    how late it fires (the stall). They are not timed: the probe's 200 wake-ups a second each
    take the GIL from the worker, which no real use of the window does.
    """
    from playground.training.worker import WorkerThread

    window = open_window()
    session = window.session
    # as a teacher shows it: a run pinned to compare with (its curves drawn), the timeline under the plot
    session.play()
    spin(1.0)
    session.pause()
    spin(0.3)
    session.pin_run()
    session.reset()
    if not spin_until(lambda: not session.busy and session.snapshot is not None and session.runs, 20):
        raise RuntimeError("the window never rebuilt after the reset")
    spin(0.3)
    worker = session.worker_thread.worker
    worker_tid = (thread_ids("training") or [None])[0]  # before a second worker thread exists
    data, network, training = session.data, session.network, session.training
    problem = prepare(data)
    headless_net = network.build(problem)
    headless_trainer = training.build(headless_net, problem)
    runner = headless_trainer.run(problem.X_train, problem.Y_train, problem.X_test, problem.Y_test)
    layers = "-".join(str(u) for u in [problem.n_inputs] + [u for u, _ in headless_net.spec])

    bare = WorkerThread()  # the worker on its thread with nothing drawing
    sink = _SnapshotSink(bare.worker)
    commands = _Invoker(bare.worker)
    commands.configure(data, network, training)
    if not spin_until(lambda: bare.worker.trainer is not None, 10):
        raise RuntimeError("the worker never configured")

    probe = LatenessProbe()
    ui_share, worker_share = [], []

    def headless():
        done, start = 0, time.perf_counter()
        while time.perf_counter() - start < round_seconds:
            run_trainer_steps(runner, 200)
            done += 200
        return done / (time.perf_counter() - start)

    def threaded(target, play, pause, is_running, window_round=False, probe_round=False):
        play()
        spin_until(is_running, 5)
        spin(0.2)  # let the first snapshots through
        cpu0, ui0 = thread_cpu_seconds(worker_tid), time.thread_time()
        s0, t0 = target.trainer.steps, time.perf_counter()
        if probe_round:
            probe.start()
        spin(round_seconds)
        s1, t1 = target.trainer.steps, time.perf_counter()
        cpu1, ui1 = thread_cpu_seconds(worker_tid), time.thread_time()
        if probe_round:
            probe.stop()
        elif window_round:
            ui_share.append((ui1 - ui0) / (t1 - t0))
            if cpu0 is not None and cpu1 is not None:
                worker_share.append((cpu1 - cpu0) / (t1 - t0))
        pause()
        spin_until(lambda: not is_running(), 5)
        return (s1 - s0) / (t1 - t0)

    def windowed(probe_round=False):
        return threaded(worker, session.play, session.pause, lambda: session.running, True, probe_round)

    def bare_worker():
        return threaded(bare.worker, commands.play, commands.pause, lambda: bare.worker.running)

    headless_trainer.test_every = paced_test_every(headless_trainer, len(problem.X_train), headless())  # warm up
    windowed_rates, headless_rates, ratios = interleave(windowed, headless, pairs)
    bare_rates, headless_rates2, bare_ratios = interleave(bare_worker, headless, max(2, pairs // 2))
    for _ in range(max(2, pairs // 2)):
        windowed(probe_round=True)
    late_ms = np.array(probe.late) * 1000
    result = {
        "network": layers, "pairs": pairs, "round_seconds": round_seconds,
        "headless_steps_per_s": statistics.median(headless_rates + headless_rates2),
        "window_steps_per_s": statistics.median(windowed_rates),
        "ratio": statistics.median(ratios), "ratios": ratios,
        "bare_worker_steps_per_s": statistics.median(bare_rates),
        "bare_worker_ratio": statistics.median(bare_ratios), "bare_worker_ratios": bare_ratios,
        "ui_stall_max_ms": float(late_ms.max()) if len(late_ms) else math.nan,
        "ui_stall_p99_ms": percentile(late_ms, 99), "ui_ticks": int(len(late_ms)),
        "ui_thread_cpu_share": statistics.median(ui_share) if ui_share else None,
        "worker_thread_cpu_share": statistics.median(worker_share) if worker_share else None,
    }
    runner.close()
    bare.close()
    del sink
    session.mark_saved()
    window.close()
    spin(0.1)
    gc.unfreeze()
    return result


class _Invoker:
    """Sends requests to a worker on another thread as a queued signal, as the Session does."""

    def __init__(self, worker):
        from PySide6.QtCore import QObject, Signal

        class Requests(QObject):
            sent = Signal(object)

        self.requests = Requests()
        self.requests.sent.connect(worker.handle)
        self.ids = iter(range(1, 10**9))

    def configure(self, data, network, training):
        from playground.training.protocol import Configure
        self.requests.sent.emit(Configure(next(self.ids), data, network, training))

    def play(self):
        from playground.training.protocol import Control
        self.requests.sent.emit(Control(next(self.ids), "play"))

    def pause(self):
        from playground.training.protocol import Control
        self.requests.sent.emit(Control(next(self.ids), "pause"))


# --- section 4: drawing --------------------------------------------------------------------------
def training_snapshots(hidden, frames: int, steps_between: int = 5):
    """Real Snapshots of a network training on the circle data: weights and smoothed gradients."""
    from playground.training.protocol import Snapshot, read_only
    from playground.training.worker import SMOOTHING

    problem = prepare(DataSpec())
    net = Network(problem.n_inputs, [(u, "tanh") for u in hidden] + [(1, "sigmoid")], seed=0)
    trainer = Trainer(net, loss="bce", learning_rate=LEARNING_RATE, batch_size=10)
    runner = trainer.run(problem.X_train, problem.Y_train)
    kernel_avg = [np.zeros_like(layer.kernel) for layer in net.layers]
    neuron_avg = [np.zeros_like(layer.bias) for layer in net.layers]
    snapshots = []
    for frame in range(frames):
        run_trainer_steps(runner, steps_between)
        for layer, k, b in zip(net.layers, kernel_avg, neuron_avg):
            k *= 1 - SMOOTHING
            k += SMOOTHING * np.abs(layer.d_kernel)
            b *= 1 - SMOOTHING
            b += SMOOTHING * np.abs(layer.grad_z).mean(axis=0)
        snapshots.append(Snapshot(id=frame + 1, generation=1, epoch=trainer.epoch, steps=trainer.steps,
                                  steps_per_second=0.0, running=True, weights=read_only(net.get_weights()),
                                  trainer_state=read_only(trainer.state_dict()), kernel_grads=read_only(kernel_avg),
                                  neuron_grads=read_only(neuron_avg)))
    runner.close()
    return snapshots


class PaintCounter:
    """Counts Paint events reaching a widget, to check that a timed frame really painted."""

    def __init__(self, widget):
        from PySide6.QtCore import QEvent, QObject

        counter = self

        class Filter(QObject):
            def eventFilter(self, obj, event):
                if event.type() == QEvent.Paint:
                    counter.count += 1
                return False

        self.count = 0
        self.filter = Filter()
        widget.installEventFilter(self.filter)


def paint_frame(update, viewport, paints) -> float:
    """Seconds for ``update()`` plus the paint it causes (the event loop's own, else a forced one)."""
    from PySide6.QtWidgets import QApplication

    before = paints.count
    start = time.perf_counter()
    update()
    QApplication.processEvents()
    if paints.count == before:  # Qt had not painted yet: make it
        viewport.repaint()
    return time.perf_counter() - start


def paint_only(viewport, frames: int = 10) -> float:
    """Median seconds to repaint ``viewport`` with nothing changed (the painting alone)."""
    times = []
    for _ in range(frames):
        start = time.perf_counter()
        viewport.repaint()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_diagram(hidden, frames: int) -> dict:
    """Recolour the diagram with real snapshots of a training network: show_snapshot plus its paint."""
    from playground.widgets.network_diagram import NetworkDiagram
    from core import datasets

    qt_app()
    diagram = NetworkDiagram()
    diagram.resize(760, 780)  # about its size in the 1500 x 900 window
    diagram.show()
    inputs = [(key, label, key in ("x1", "x2")) for key, (label, _) in datasets.FEATURES.items()]
    diagram.set_structure(inputs, [(u, "tanh") for u in hidden], (1, "sigmoid"), "bce", toggleable=True)
    spin(0.2)
    snapshots = training_snapshots(hidden, frames + 3)
    viewport = diagram.view.viewport()
    paints = PaintCounter(viewport)
    times, model_times = [], []
    for i, snapshot in enumerate(snapshots):
        elapsed = paint_frame(lambda: diagram.show_snapshot(snapshot), viewport, paints)
        if i >= 3:  # the first frames fill caches
            times.append(elapsed)
            model_times.append(timed(lambda: diagram.show_snapshot(snapshot)))  # the same again: no paint
    painting = paint_only(viewport)
    diagram.close()
    ms = np.array(times) * 1000
    return {"network": "-".join(str(u) for u in (2, *hidden, 1)), "frames": len(times),
            "median_ms": float(np.median(ms)), "max_ms": float(ms.max()),
            "show_snapshot_median_ms": float(np.median(model_times) * 1000), "paint_only_ms": painting * 1000,
            "viewport": [viewport.width(), viewport.height()]}


def bench_loss_plot(epochs: int, frames: int) -> dict:
    """Redraw the cost plot holding ``epochs`` epochs: one more epoch, its redraw and the paint."""
    from core.trainer import EpochStats
    from playground.session.history import RunHistory
    from playground.widgets.loss_plot import LossPlot

    qt_app()
    plot = LossPlot()
    history = RunHistory()
    plot.set_history(history, True)
    plot.resize(500, 350)
    plot.show()
    spin(0.1)
    noise = np.random.default_rng(0).uniform(0.9, 1.1, epochs + frames + 1)

    def stats(e):
        return EpochStats(e, noise[e] / math.sqrt(e), 1 - 1 / (e + 1), 1.1 * noise[e] / math.sqrt(e),
                          1 - 1.2 / (e + 1))

    for first in range(1, epochs + 1, 1000):
        history.extend([stats(e) for e in range(first, min(first + 1000, epochs + 1))])
    plot.set_history(history, False)
    viewport = plot.graphics.viewport()
    paints = PaintCounter(viewport)

    def frame(e):
        history.extend([stats(e)])
        plot.set_history(history, False)
        plot.redraw_if_due(force=True)  # what the window calls with each snapshot

    times = [paint_frame(lambda: frame(epochs + i + 1), viewport, paints) for i in range(frames)]
    painting = paint_only(viewport)
    points = len(history)
    plot.close()
    ms = np.array(times[2:]) * 1000  # the first frames fill caches
    return {"epochs": points, "frames": len(ms), "median_ms": float(np.median(ms)), "max_ms": float(ms.max()),
            "paint_only_ms": painting * 1000}


# --- section 5: memory ---------------------------------------------------------------------------
def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mb() -> float:
    """This process's peak RSS. On Linux from VmHWM: getrusage's ru_maxrss of a child process
    starts at its parent's peak (the kernel carries it across fork and exec)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def bench_memory(epochs: int, batch_size: int, samples: int = 8) -> dict:
    """Train the app's default network through the worker (driven on this thread, snapshots and
    all) into a live LossPlot, sampling RSS; reports the growth per 10k epochs beyond the
    history the Session keeps (six float64 series: 48 bytes an epoch)."""
    from core.spec import NetworkSpec, TrainingConfig
    from playground.session.history import RunHistory
    from playground.training.protocol import Configure, Control
    from playground.training.worker import TrainingWorker
    from playground.widgets.loss_plot import LossPlot
    from PySide6.QtCore import QObject, Slot

    qt_app()
    plot = LossPlot()
    plot.resize(500, 350)
    plot.show()
    history = RunHistory()
    worker = TrainingWorker()
    snapshots = {"n": 0}

    class Sink(QObject):
        @Slot(object)
        def take(self, snapshot):
            snapshots["n"] += 1
            history.extend(snapshot.new_epochs)
            plot.set_history(history, False)
            worker.view_ready.set()

    sink = Sink()
    worker.published.connect(sink.take)
    worker.start()  # its QTimer never fires here: slices are called directly below
    worker.handle(Configure(1, DataSpec(), NetworkSpec(), TrainingConfig(batch_size=batch_size)))
    worker.handle(Control(2, "play"))
    start = time.perf_counter()
    marks = [(0, rss_mb())]
    step = max(1, epochs // samples)
    next_mark = step
    while worker.trainer.epoch < epochs:
        worker._train_slice()
        if worker.trainer.epoch >= next_mark:
            plot.redraw_if_due(force=True)
            gc.collect()
            marks.append((worker.trainer.epoch, rss_mb()))
            next_mark += step
    elapsed = time.perf_counter() - start
    worker.stop()
    # fit the RSS growth over the second half (the first builds caches and pools)
    half = [(e, r) for e, r in marks if e >= epochs / 2] or marks
    if len(half) >= 2:
        slope_mb_per_epoch = float(np.polyfit([e for e, _ in half], [r for _, r in half], 1)[0])
    else:
        slope_mb_per_epoch = math.nan
    history_mb_per_10k = 6 * 8 * 10_000 / 2**20
    result = {"epochs": worker.trainer.epoch, "steps": worker.trainer.steps, "batch_size": batch_size,
              "seconds": elapsed, "snapshots": snapshots["n"], "peak_rss_mb": peak_rss_mb(),
              "rss_marks_mb": marks, "growth_mb_per_10k_epochs": slope_mb_per_epoch * 10_000,
              "history_mb_per_10k_epochs": history_mb_per_10k,
              "growth_beyond_history_mb_per_10k_epochs": slope_mb_per_epoch * 10_000 - history_mb_per_10k}
    plot.close()
    return result


def bench_memory_subprocess(epochs: int, batch_size: int) -> dict:
    """Section 5 in a fresh process, so the peak RSS is that run's alone."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "memory.json"
        subprocess.run([sys.executable, __file__, "--memory-only", str(epochs), str(batch_size), "--json", str(out)],
                       check=True)
        return json.loads(out.read_text())


# --- report --------------------------------------------------------------------------------------
def fmt(value, spec=",.0f"):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return format(value, spec)


def table(rows, headers) -> str:
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(headers)]
    line = lambda cells: "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"
    return "\n".join([line(headers), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, rows)])


def check(targets: list, name: str, value, op: str, bound: float, spec: str = ".3f"):
    met = None if value is None or (isinstance(value, float) and math.isnan(value)) else (
        value >= bound if op == ">=" else value <= bound if op == "<=" else value < bound)
    targets.append({"target": f"{name} {op} {bound:g}", "value": value, "met": met, "shown": fmt(value, spec)})


def note_load(results: dict, section: str, load: OtherLoad) -> None:
    cores = load.cores()
    results.setdefault("other_load_cores", {})[section] = cores
    if cores is not None and cores > 0.2:
        print(f"   ! other processes kept {cores:.1f} of the CPU cores busy during this section: "
              "its figures are noisy, run it again on a quiet machine\n")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run of under a minute")
    parser.add_argument("--json", default=DEFAULT_JSON, metavar="FILE", help=f"results file (default {DEFAULT_JSON})")
    parser.add_argument("--sections", default="1,2,3,4,5", help="which sections to run, e.g. 1,3")
    parser.add_argument("--memory-only", nargs=2, type=int, metavar=("EPOCHS", "BATCH"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.memory_only:
        result = bench_memory(*args.memory_only)
        Path(args.json).write_text(json.dumps(result))
        return 0

    quick = args.quick
    sections = {int(s) for s in args.sections.split(",") if s.strip()}
    t_start = time.perf_counter()
    info = machine_info()
    results = {"machine": info, "quick": quick, "sections": {}, "targets": []}
    blas = info["blas"]
    print(f"Backprop Playground benchmark{' (quick)' if quick else ''}")
    print(f"  {info['cpus']} CPUs, {info['cpu_model']}; Python {info['python']}, NumPy {info['numpy']}")
    print(f"  BLAS: {blas['name']} {blas['version'] or ''}, {blas['threads'] or '?'} threads"
          + (f", core {blas['core']}" if blas["core"] else "")
          + (f"; env {' '.join(f'{k}={v}' for k, v in info['env'].items())}" if info["env"] else ""))
    try:
        import torch
        info["torch"] = torch.__version__
        print(f"  PyTorch {torch.__version__}")
    except ImportError:
        torch = None
        info["torch"] = None
    print()
    targets = results["targets"]
    pairs = rounds = 3 if quick else 7
    round_s = {"small": 0.12, "playground_max": 0.12, "large": 0.25} if quick else \
        {"small": 0.4, "playground_max": 0.4, "large": 1.0}

    if 1 in sections:
        load = OtherLoad()
        rows, out = [], []
        for case in CASES:
            r = bench_numpy(case, rounds, round_s[case.key])
            out.append(r)
            rows.append([case.label, fmt(r["numpy_steps_per_s"]), fmt(r["trainer_steps_per_s"]), str(r["test_every"]),
                         f"{r['ratio']:.2f}x ({min(r['ratios']):.2f}-{max(r['ratios']):.2f})",
                         f"{r['ratio_test_every_epoch']:.2f}x", f"{r['ratio_same_statistics']:.2f}x"])
            print(f"  1. {case.key}: {r['ratio']:.2f}x", flush=True)
        results["sections"]["trainer_vs_numpy"] = out
        print("\n1. Trainer.run vs a minimal NumPy loop (same training maths), steps/s. The Trainer as the app"
              "\n   trains: train accuracy every epoch, the test set every `test_every` epochs (about 10 times a"
              "\n   second). Then the Trainer with the test set every epoch, against the minimal loop and against"
              "\n   the loop computing the same statistics")
        print(table(rows, ["case", "NumPy loop", "Trainer", "test_every", "ratio (range)", "test every epoch",
                           "vs loop, same statistics"]) + "\n")
        check(targets, "trainer/numpy small", out[0]["ratio"], ">=", 0.8)
        check(targets, "trainer/numpy large", out[2]["ratio"], ">=", 0.9)
        note_load(results, "trainer_vs_numpy", load)

    if 2 in sections:
        load = OtherLoad()
        if torch is None:
            print("2. PyTorch is not installed: section skipped (pip install torch==2.13.0 for it)\n")
            results["sections"]["trainer_vs_torch"] = None
            check(targets, "trainer/torch small", None, ">=", 5)
        else:
            rows, out = [], []
            for case in CASES:
                r = bench_torch(case, pairs, round_s[case.key], blas["threads"])
                out.append(r)
                rows.append([case.label, fmt(r["torch_steps_per_s"]), fmt(r["trainer_steps_per_s"]),
                             f"{r['ratio']:.2f}x ({min(r['ratios']):.2f}-{max(r['ratios']):.2f})"])
                print(f"  2. {case.key}: {r['ratio']:.2f}x", flush=True)
            results["sections"]["trainer_vs_torch"] = out
            print(f"\n2. Trainer vs PyTorch {torch.__version__} CPU ({out[0]['torch_threads']} threads), steps/s")
            print(table(rows, ["case", "PyTorch", "Trainer", "ratio (range)"]) + "\n")
            check(targets, "trainer/torch small", out[0]["ratio"], ">=", 5)
        note_load(results, "trainer_vs_torch", load)

    if 3 in sections:
        load = OtherLoad()
        r = bench_window(pairs=4 if quick else 10, round_seconds=1.0)
        results["sections"]["window"] = r
        share = lambda v: "—" if v is None else f"{v:.0%}"
        print(f"3. The window training {r['network']} with every view live, a pinned run and the timeline "
              "(offscreen), steps/s")
        print(table([["headless (Trainer.run)", fmt(r["headless_steps_per_s"]), "1.00x"],
                     ["worker thread, no views", fmt(r["bare_worker_steps_per_s"]),
                      fmt(r["bare_worker_ratio"], ".2f") + "x"],
                     ["window, every view live", fmt(r["window_steps_per_s"]), fmt(r["ratio"], ".2f") + "x"]],
                    ["run", "steps/s", "vs headless"]))
        print(f"   UI thread stall: max {r['ui_stall_max_ms']:.1f} ms, p99 {r['ui_stall_p99_ms']:.1f} ms "
              f"({r['ui_ticks']} ticks of 5 ms); CPU share while training: UI thread "
              f"{share(r['ui_thread_cpu_share'])}, worker {share(r['worker_thread_cpu_share'])}\n")
        check(targets, "window/headless", r["ratio"], ">=", 0.8)
        check(targets, "UI stall max ms", r["ui_stall_max_ms"], "<=", 50, ".1f")
        note_load(results, "window", load)

    if 4 in sections:
        load = OtherLoad()
        frames = 10 if quick else 40
        diagrams = [bench_diagram((64, 64, 64), frames), bench_diagram((256, 256, 256), frames)]
        plot = bench_loss_plot(100_000, 6 if quick else 20)
        results["sections"]["drawing"] = {"diagram": diagrams, "loss_plot": plot}
        print("4. Drawing: one frame = the update plus its paint (offscreen raster), ms")
        rows = [[f"recolour diagram {d['network']}", f"{d['median_ms']:.1f}", f"{d['max_ms']:.1f}",
                 f"{d['paint_only_ms']:.1f}", f"{d['show_snapshot_median_ms']:.1f}"] for d in diagrams]
        rows.append([f"redraw cost plot, {plot['epochs']:,} epochs", f"{plot['median_ms']:.1f}",
                     f"{plot['max_ms']:.1f}", f"{plot['paint_only_ms']:.1f}", "—"])
        print(table(rows, ["frame", "median ms", "max ms", "paint alone", "show_snapshot alone"]) + "\n")
        check(targets, "recolour 2-64-64-64-1 median ms", diagrams[0]["median_ms"], "<", 16, ".1f")
        note_load(results, "drawing", load)

    if 5 in sections:
        load = OtherLoad()
        epochs, batch = (3_000, 50) if quick else (40_000, 50)
        r = bench_memory_subprocess(epochs, batch)
        results["sections"]["memory"] = r
        print(f"5. Memory: the default network through the worker, {r['epochs']:,} epochs ({r['steps']:,} steps, "
              f"batch {r['batch_size']}, {r['snapshots']:,} snapshots) into a live cost plot, in "
              f"{r['seconds']:.0f} s")
        marks = r["rss_marks_mb"]
        print(table([["peak RSS", f"{r['peak_rss_mb']:.0f} MB"],
                     ["RSS at the start, at the end", f"{marks[0][1]:.1f} MB, {marks[-1][1]:.1f} MB"],
                     ["RSS growth per 10k epochs", f"{r['growth_mb_per_10k_epochs']:+.2f} MB"],
                     ["  of which the plot's history", f"{r['history_mb_per_10k_epochs']:.2f} MB"],
                     ["  beyond the history", f"{r['growth_beyond_history_mb_per_10k_epochs']:+.2f} MB"]],
                    ["measure", "value"]) + "\n")
        note_load(results, "memory", load)

    results["seconds"] = time.perf_counter() - t_start
    if targets:
        print("Targets")
        print(table([[t["target"], t["shown"], {True: "met", False: "NOT MET", None: "—"}[t["met"]]]
                     for t in targets], ["target", "measured", ""]))
    print(f"\n{results['seconds']:.0f} s; results in {args.json}")
    Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
