"""Pinned runs: labels of what differs, comparison at an epoch, CSV export, the limit of eight."""
import csv

import numpy as np
import pytest

from core import History
from core.project import Project
from core.runs import (CSV_COLUMNS, MAX_RUNS, EpochFigures, PinnedRun, compare, describe_differences,
                       epochs_to_reach, export_csv, pin)
from core.spec import DataSpec, NetworkSpec, TrainingConfig, prepare


def _run(data=DataSpec(n_samples=60), network=NetworkSpec(), training=TrainingConfig(), epochs=3, label=""):
    problem = prepare(data)
    net = network.build(problem)
    history = training.build(net, problem).fit(problem.X_train, problem.Y_train, epochs, problem.X_test, problem.Y_test)
    return PinnedRun(data, network, training, history, net, label)


def _settings(data=DataSpec(), network=NetworkSpec(), **training):
    return Project(data, network, TrainingConfig(**training))


# --- labels -------------------------------------------------------------------------------------
def test_labels_name_what_differs_with_display_names():
    runs = [_settings(optimizer="adam", learning_rate=0.01), _settings(optimizer="sgd", learning_rate=0.03)]
    assert describe_differences(runs) == ["Adam, lr 0.01", "SGD, lr 0.03"]


@pytest.mark.parametrize("a, b, labels", [
    (_settings(network=NetworkSpec(hidden=((8, "tanh"), (8, "tanh")))),
     _settings(network=NetworkSpec(hidden=((8, "relu"), (4, "leaky_relu")))), ["8-8 Tanh", "8 ReLU-4 Leaky ReLU"]),
    (_settings(network=NetworkSpec(hidden=())), _settings(network=NetworkSpec(hidden=((3, "swish"),))),
     ["no hidden layer", "3 Swish (SiLU)"]),
    (_settings(data=DataSpec(source="spiral", noise=0.1)), _settings(data=DataSpec(source="xor", noise=0.25)),
     ["Spiral, noise 10%", "Exclusive or, noise 25%"]),
    (_settings(data=DataSpec(features=("x1", "x2"))), _settings(data=DataSpec(features=("x1", "x2", "x1x2"))),
     ["inputs X₁ X₂", "inputs X₁ X₂ X₁X₂"]),
    (_settings(regularization="l2", reg_rate=0.001), _settings(), ["L2, regularization rate 0.001",
                                                                    "no regularization"]),
    (_settings(regularization="l1", reg_rate=0.01), _settings(regularization="l1", reg_rate=0.03),
     ["regularization rate 0.01", "regularization rate 0.03"]),
    (_settings(batch_size=1, optimizer="momentum"), _settings(batch_size=32), ["Momentum, batch 1", "SGD, batch 32"]),
    (_settings(batch_size="all"), _settings(batch_size=32), ["full batch", "batch 32"]),
    (_settings(data=DataSpec(source="house_prices", standardize=False)), _settings(data=DataSpec(source="house_prices")),
     ["raw values", "standardised"]),
    (_settings(data=DataSpec(source="iris", n_samples=80)), _settings(data=DataSpec(source="csv", csv_path="/d/t.csv")),
     ["Iris", "CSV file, t.csv, last column"]),
    (_settings(network=NetworkSpec(seed=1, dtype="float32")), _settings(network=NetworkSpec(seed=2)),
     ["weights seed 1, float32", "weights seed 2, float64"]),
])
def test_labels_of_other_differences(a, b, labels):
    assert describe_differences([a, b]) == labels


def test_runs_alike_are_numbered_and_identical_ones_say_so():
    runs = [_settings(optimizer="adam"), _settings(optimizer="sgd"), _settings(optimizer="adam")]
    assert describe_differences(runs) == ["Adam", "SGD", "Adam (2)"]
    assert describe_differences([_settings(), _settings()]) == ["same settings", "same settings (2)"]
    assert describe_differences([_settings()]) == ["same settings"] and describe_differences([]) == []


# --- pinning ------------------------------------------------------------------------------------
def test_a_pinned_run_keeps_copies_of_what_it_was_given():
    problem = prepare(DataSpec(n_samples=60))
    net = NetworkSpec().build(problem)
    history = History(train_loss=[0.5, 0.4])
    run = PinnedRun(DataSpec(n_samples=60), NetworkSpec(), TrainingConfig(), history, net, "mine")
    history.train_loss.append(0.3)
    net.layers[0].kernel[...] = 0.0
    assert run.history.train_loss == [0.5, 0.4] and np.any(run.weights.layers[0].kernel != 0.0)


def test_at_most_eight_runs_are_pinned():
    run = _run(epochs=1)
    runs = ()
    for _ in range(MAX_RUNS):
        runs = pin(runs, run)
    assert len(runs) == 8
    with pytest.raises(ValueError, match="8 runs are pinned already, the most there can be; unpin one first"):
        pin(runs, run)


# --- comparison ---------------------------------------------------------------------------------
def test_runs_compare_at_the_same_epoch():
    fast = History(train_loss=[0.9, 0.4, 0.2, 0.1], train_accuracy=[0.5, 0.7, 0.9, 1.0],
                   test_loss=[0.5, 0.25], test_accuracy=[0.6, 0.8], test_epoch=[2, 4])
    slow = History(train_loss=[0.9, 0.8, 0.7], train_accuracy=[0.5, 0.5, 0.6],
                   test_loss=[0.95, 0.85, 0.75], test_accuracy=[0.5, 0.5, 0.55], test_epoch=[1, 2, 3])
    at_3 = compare([fast, slow], 3, target_cost=0.45)
    assert at_3 == [EpochFigures(0.2, 0.9, 0.5, 0.6, 2, epochs_to_target=2),  # its latest test figures: epoch 2
                    EpochFigures(0.7, 0.6, 0.75, 0.55, 3, epochs_to_target=None)]
    assert compare([fast, slow], 4) == [EpochFigures(0.1, 1.0, 0.25, 0.8, 4), EpochFigures()]  # slow stopped at 3
    assert compare([fast], 1) == [EpochFigures(0.9, 0.5)]  # no test figure yet
    assert epochs_to_reach(slow, 0.7) == 3 and epochs_to_reach(History(), 1.0) is None


def test_regression_runs_compare_without_accuracy():
    run = _run(DataSpec(source="reg_plane", n_samples=60), epochs=2)
    figures = compare([run.history], 2)[0]
    assert figures.train_loss == run.history.train_loss[1] and figures.test_loss == run.history.test_loss[1]
    assert figures.train_accuracy is None and figures.test_accuracy is None


# --- CSV ----------------------------------------------------------------------------------------
def test_csv_export_has_every_run_and_epoch_exactly(tmp_path):
    adam = _run(training=TrainingConfig(optimizer="adam", learning_rate=0.01), epochs=4)
    sgd = _run(training=TrainingConfig(optimizer="sgd", learning_rate=0.03), epochs=3)
    paced = History(train_loss=[1.0, 0.5], train_accuracy=[0.5, 0.75], test_loss=[0.6], test_accuracy=[0.7],
                    test_epoch=[2])
    labels = describe_differences([adam, sgd]) + ["paced"]
    export_csv(tmp_path / "runs.csv", [adam.history, sgd.history, paced], labels)
    with open(tmp_path / "runs.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert tuple(rows[0]) == CSV_COLUMNS and len(rows) == 1 + 4 + 3 + 2
    by_run = {}
    for run, epoch, *figures in rows[1:]:
        by_run.setdefault(run, []).append((int(epoch), [float(v) if v else None for v in figures]))
    assert list(by_run) == ["Adam, lr 0.01", "SGD, lr 0.03", "paced"]
    for run in (adam, sgd):
        read = by_run[describe_differences([adam, sgd])[[adam, sgd].index(run)]]
        h = run.history
        assert read == [(i + 1, [h.train_loss[i], h.train_accuracy[i], h.test_loss[i], h.test_accuracy[i]])
                        for i in range(len(h.train_loss))]
    assert by_run["paced"] == [(1, [1.0, 0.5, None, None]), (2, [0.5, 0.75, 0.6, 0.7])]


def test_csv_export_needs_a_label_per_run(tmp_path):
    with pytest.raises(ValueError, match="2 runs but 1 labels"):
        export_csv(tmp_path / "runs.csv", [History(), History()], ["one"])
    assert not (tmp_path / "runs.csv").exists()
