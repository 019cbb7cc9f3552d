"""Mini-batch training: a generator of steps that the CLI, the tests and the app's worker drive."""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

import numpy as np

from . import limits, optimizers
from .datasets import TASKS
from .network import Network

REGULARIZATIONS = (None, "l1", "l2")
FULL_BATCH = "all"  # the batch size of full-batch gradient descent: one step per epoch on every sample
TASK_OF_LOSS = {"bce": "binary", "cross_entropy": "multiclass"}  # without a task, the loss tells it


class DivergenceError(ArithmeticError):
    """The cost or a weight became NaN or infinite; the network was put back to its last finite weights."""


@dataclass
class History:
    """Train figures for every epoch, the mean over its batches (as Keras reports); test figures
    for the epochs numbered in ``test_epoch`` (1 for this history's first), every epoch unless the
    trainer's ``test_every`` was raised."""

    train_loss: list = field(default_factory=list)
    test_loss: list = field(default_factory=list)
    train_accuracy: list = field(default_factory=list)
    test_accuracy: list = field(default_factory=list)
    test_epoch: list = field(default_factory=list)

    def append(self, stats: "EpochStats") -> None:
        self.train_loss.append(stats.train_loss)
        self.train_accuracy.append(stats.train_accuracy)
        if stats.test_loss is not None:
            self.test_loss.append(stats.test_loss)
            self.test_accuracy.append(stats.test_accuracy)
            self.test_epoch.append(len(self.train_loss))

    def extend(self, later: "History") -> None:
        """Append the epochs of a later run after these."""
        offset = len(self.train_loss)
        for name in ("train_loss", "test_loss", "train_accuracy", "test_accuracy"):
            getattr(self, name).extend(getattr(later, name))
        self.test_epoch.extend(offset + epoch for epoch in later.test_epoch)

    def up_to(self, epoch: int) -> "History":
        """A copy of the first ``epoch`` epochs (to train on from there: ``extend`` adds the new ones)."""
        tested = sum(1 for e in self.test_epoch if e <= epoch)
        return History(self.train_loss[:epoch], self.test_loss[:tested], self.train_accuracy[:epoch],
                       self.test_accuracy[:tested], self.test_epoch[:tested])


@dataclass
class EpochProgress:
    """Where an unfinished epoch stands, so training can stop mid-epoch and resume on the same batches."""

    rng_state: dict  # the shuffling generator's state before this epoch's permutation was drawn
    n_samples: int
    position: int = 0  # samples trained so far
    loss_sum: float = 0.0  # Σ batch loss × batch size so far
    correct: float = 0.0  # right answers among the rows trained before this run resumed the epoch


@dataclass(frozen=True)
class EpochStats:
    epoch: int  # 1 for the first finished epoch
    train_loss: float
    train_accuracy: float | None = None
    test_loss: float | None = None
    test_accuracy: float | None = None


class Trainer:
    """Trains ``net`` by backprop. Hyperparameters are plain attributes that may change between steps.

    ``batch_size`` is a number of samples or ``"all"`` (full-batch gradient descent). ``task`` is
    what the targets are ('regression', 'binary' or 'multiclass', as the data says); it decides
    how accuracy is scored whatever the loss. Without it, the loss tells: classes for 'bce' and
    'cross_entropy', numbers otherwise.
    """

    def __init__(self, net: Network, loss="mse", optimizer="sgd", learning_rate=0.03, batch_size=10,
                 regularization=None, reg_rate=0.0, seed=0, test_every=1, task=None):
        self.net = net
        self.loss = net.check_loss(loss)
        self.task = _task(task or TASK_OF_LOSS.get(self.loss.name, "regression"), net.n_outputs)
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.regularization = regularization
        self.reg_rate = reg_rate
        self.seed = seed
        self.test_every = test_every
        self.rng = np.random.default_rng(seed)
        self.epoch = 0  # finished epochs
        self.steps = 0  # finished steps
        self.progress = None  # EpochProgress of an unfinished epoch
        self._scoring = None  # (outputs, shuffled targets, first row scored) of the epoch being run

    # --- hyperparameters, validated so an absurd value is refused with a clear message
    @property
    def optimizer(self) -> optimizers.Optimizer:
        return self._optimizer

    @optimizer.setter
    def optimizer(self, name) -> None:
        self._optimizer = name if isinstance(name, optimizers.Optimizer) else optimizers.create(name)

    @property
    def learning_rate(self) -> float:
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value) -> None:
        self._learning_rate = _finite_number(value, "learning_rate", *limits.LEARNING_RATE, open_low=True)

    @property
    def batch_size(self) -> int | str:
        return self._batch_size

    @batch_size.setter
    def batch_size(self, value) -> None:
        self._batch_size = batch_size(value)

    def steps_per_epoch(self, n_samples: int) -> int:
        """Gradient steps in an epoch of ``n_samples`` at the current batch size."""
        return 1 if self._batch_size == FULL_BATCH else -(-n_samples // self._batch_size)

    @property
    def test_every(self) -> int:
        """The test set is evaluated at the end of every ``test_every``-th epoch (the app raises it
        when epochs fly by faster than its cost plot is drawn)."""
        return self._test_every

    @test_every.setter
    def test_every(self, value) -> None:
        self._test_every = _positive_int(value, "test_every")

    @property
    def regularization(self):
        return self._regularization

    @regularization.setter
    def regularization(self, value) -> None:
        value = None if value in (None, "", "none") else str(value).lower()
        if value not in REGULARIZATIONS:
            raise ValueError(f"unknown regularization {limits.excerpt(value)}; expected none, 'l1' or 'l2'")
        self._regularization = value

    @property
    def reg_rate(self) -> float:
        return self._reg_rate

    @reg_rate.setter
    def reg_rate(self, value) -> None:
        self._reg_rate = _finite_number(value, "reg_rate", *limits.REG_RATE)


    # --- training --------------------------------------------------------------
    def targets(self, Y):
        """Y as the loss compares it, in the network's dtype (n_samples, n_outputs)."""
        return self.loss.targets(Y, self.net.n_outputs).astype(self.net.dtype, copy=False)

    def step(self, X, Y) -> float:
        """One gradient step on a batch already in the network's dtype; returns its data loss."""
        net, out = self.net, self.net.layers[-1]
        net.forward(X)
        loss = self.loss.value(out.z, out.a, Y)
        if not math.isfinite(loss):
            raise DivergenceError(f"the cost became {loss} at step {self.steps + 1}")
        net.backward(self.loss.grad_z(out, Y))
        if self._regularization and self._reg_rate:
            for layer in net.layers:  # kernels only, never biases
                penalty_grad = layer.kernel if self._regularization == "l2" else np.sign(layer.kernel)
                layer.d_kernel += self._reg_rate * penalty_grad
        grads = [g for layer in net.layers for g in (layer.d_kernel, layer.d_bias)]
        self._optimizer.update(net.parameters, grads, self._learning_rate)
        self.steps += 1
        return loss

    def run(self, X, Y, X_test=None, Y_test=None):
        """Train forever, yielding after every step: ``None`` mid-epoch, ``EpochStats`` at an epoch's end.

        Stop by no longer iterating; a later ``run`` (or a trainer given this one's ``state_dict``)
        resumes an unfinished epoch on the same batches. On divergence raises DivergenceError after
        restoring the weights of the start of the epoch (the last ones known finite).
        """
        X = self.net.check_inputs(X)
        Y = self.targets(Y)
        if len(X) != len(Y) or len(X) == 0:
            raise ValueError(f"need as many targets as samples (got {len(X)} samples, {len(Y)} targets)")
        has_test = X_test is not None and len(X_test) > 0
        if has_test:
            X_test, Y_test = self.net.check_inputs(X_test), self.targets(Y_test)
        n = len(X)
        classify = self.task != "regression"
        while True:
            backup = self.net.get_weights()
            progress = self.progress
            if progress is None or progress.n_samples != n:  # a new epoch: shuffle
                progress = self.progress = EpochProgress(copy.deepcopy(self.rng.bit_generator.state), n)
            else:  # resume: the same permutation from the generator's state at the epoch's start
                self.rng = np.random.default_rng()
                self.rng.bit_generator.state = copy.deepcopy(progress.rng_state)
            order = self.rng.permutation(n)
            Xs, Ys = X[order], Y[order]  # shuffle once per epoch; batches are then views
            outputs = np.empty_like(Ys) if classify else None  # scored once per epoch, not per step
            first = start = progress.position  # rows before ``first`` were trained (and scored) before
            self._scoring = (outputs, Ys, first)
            total = progress.loss_sum
            try:
                while start < n:
                    end = n if self._batch_size == FULL_BATCH else start + self._batch_size
                    xb, yb = Xs[start:end], Ys[start:end]
                    total += self.step(xb, yb) * len(xb)
                    if classify:
                        outputs[start:end] = self.net.layers[-1].a
                    start = end
                    if start < n:
                        progress.position, progress.loss_sum = start, total
                        yield None
                if not all(np.isfinite(p).all() for p in self.net.parameters):
                    raise DivergenceError(f"a weight became NaN or infinite in epoch {self.epoch + 1}")
            except DivergenceError as error:
                self.net.set_weights(backup)
                self.progress = None
                self._optimizer = optimizers.create(self._optimizer.name)  # its state holds the blow-up too
                raise DivergenceError(f"{error}; the cost diverged: lower the learning rate "
                                      "(weights restored to the last finite values, optimizer state cleared)") from None
            self.epoch += 1
            self.progress = self._scoring = None
            correct = progress.correct + _correct(self.task, outputs[first:], Ys[first:]) if classify else 0.0
            stats = EpochStats(self.epoch, total / n, correct / n if classify else None)
            if has_test and self.epoch % self._test_every == 0:
                test_loss, test_acc = self.evaluate(X_test, Y_test)
                stats = EpochStats(self.epoch, stats.train_loss, stats.train_accuracy, test_loss, test_acc)
            yield stats

    # --- state, so that a saved run continues exactly where it stopped -------------------
    def state_dict(self) -> dict:
        """Everything but the weights that the next steps depend on: ``{"epoch", "steps", "rng",
        "progress", "optimizer"}`` (optimizer buffers as array copies; ``json_ready`` for files)."""
        progress = None
        if self.progress is not None:
            p = self.progress
            correct = p.correct
            if self._scoring is not None and self.task != "regression":
                outputs, Ys, scored_from = self._scoring
                correct += _correct(self.task, outputs[scored_from:p.position], Ys[scored_from:p.position])
            progress = {"rng_state": p.rng_state, "n_samples": p.n_samples, "position": p.position,
                        "loss_sum": p.loss_sum, "correct": correct}
        return {"epoch": self.epoch, "steps": self.steps, "rng": copy.deepcopy(self.rng.bit_generator.state),
                "progress": progress, "optimizer": self._optimizer.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        """Continue from ``state_dict()`` of a trainer of the same network shape. ValueError if it
        does not fit (the trainer is then unchanged)."""
        try:
            rng = np.random.default_rng()
            rng.bit_generator.state = state["rng"]
            progress = state["progress"]
            if progress is not None:
                check = np.random.default_rng()
                check.bit_generator.state = progress["rng_state"]
                progress = EpochProgress(progress["rng_state"], int(progress["n_samples"]), int(progress["position"]),
                                         float(progress["loss_sum"]), float(progress["correct"]))
                if not 0 <= progress.position <= progress.n_samples:
                    raise ValueError("the epoch's position is outside the epoch")
            optimizer = optimizers.create(self._optimizer.name)
            optimizer.load_state_dict(state["optimizer"], self.net.parameters)
            epoch, steps = _count(state["epoch"], "epoch"), _count(state["steps"], "steps")
        except (KeyError, TypeError, ValueError, OverflowError) as error:  # Overflow: an integer NumPy cannot hold
            raise ValueError(f"the training state does not fit this trainer ({error!s:.200})") from None
        self.rng, self.progress, self._scoring, self._optimizer = rng, progress, None, optimizer
        self.epoch, self.steps = epoch, steps

    def train_epoch(self, X, Y, X_test=None, Y_test=None, runner=None) -> EpochStats:
        """Run steps until the next epoch ends."""
        for event in runner or self.run(X, Y, X_test, Y_test):
            if event is not None:
                return event

    def fit(self, X, Y, epochs: int, X_test=None, Y_test=None, callback=None) -> History:
        """Train for ``epochs`` epochs; ``callback(stats)`` after each may return True to stop early."""
        history = History()
        runner = self.run(X, Y, X_test, Y_test)
        with np.errstate(over="ignore", invalid="ignore"):  # a diverging run overflows; DivergenceError says so
            for _ in range(int(epochs)):
                stats = self.train_epoch(X, Y, runner=runner)
                history.append(stats)
                if callback is not None and callback(stats):
                    break
        runner.close()
        return history

    def evaluate(self, X, Y):
        """(data loss, accuracy or None) on a whole set, without changing anything."""
        out = self.net.layers[-1]
        loss = self.net.forward_loss(X, Y, self.loss)
        acc = None if self.task == "regression" else _correct(self.task, out.a, Y) / len(Y)
        return loss, acc

    def penalty(self) -> float:
        """The regularization term, shown beside (never added to) the data loss."""
        if not self._regularization:
            return 0.0
        if self._regularization == "l2":
            return 0.5 * self._reg_rate * sum(float(np.sum(l.kernel ** 2)) for l in self.net.layers)
        return self._reg_rate * sum(float(np.sum(np.abs(l.kernel))) for l in self.net.layers)


def json_ready(value):
    """A state dict with its arrays as nested lists, for JSON."""
    if isinstance(value, dict):
        return {key: json_ready(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(item) for item in value]
    return value.tolist() if isinstance(value, np.ndarray) else value


def batch_size(value) -> int | str:
    """A batch size as given (a positive integer, or "all" in any case), checked."""
    if isinstance(value, str) and value.strip().lower() == FULL_BATCH:
        return FULL_BATCH
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"batch_size must be a positive integer or {FULL_BATCH!r}, got {limits.excerpt(value)}")
    return int(value)


def _task(task, n_outputs: int) -> str:
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r:.40}; expected one of {', '.join(TASKS)}")
    if task == "binary" and n_outputs != 1 or task == "multiclass" and n_outputs < 2:
        wanted = "one output unit" if task == "binary" else "an output unit per class"
        raise ValueError(f"task {task!r} needs {wanted}; the network has {n_outputs}")
    return task


def _correct(task: str, out, Y) -> float:
    """Count of right answers: threshold 0.5 for binary (a sigmoid's probability, or a squared error's
    prediction of 0/1), argmax for multi-class (probabilities or predicted one-hot rows)."""
    if task == "binary":
        return float(np.count_nonzero((out > 0.5) == (Y > 0.5)))
    return float(np.count_nonzero(out.argmax(axis=1) == Y.argmax(axis=1)))


def _count(value, what) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{what} must be a non-negative integer, got {limits.excerpt(value)}")
    return int(value)


def _positive_int(value, what) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{what} must be a positive integer, got {limits.excerpt(value)}")
    return int(value)


def _finite_number(value, what, low, high, open_low=False) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a number, got {limits.excerpt(value)}") from None
    if not math.isfinite(number) or number < low or (open_low and number == low) or number > high:
        bound = f"{'above' if open_low else 'at least'} {low:g} and at most {high:g}"
        raise ValueError(f"{what} must be {bound}, got {limits.excerpt(value)}")
    return number
