"""Every bundled preset opens, builds and trains; the lessons' presets replay the lessons as written."""
import math
from pathlib import Path

import numpy as np
import pytest

from core import datasets
from core.datasets import RESOURCES
from core.project import load_project, open_project

PRESETS = sorted((RESOURCES / "presets").glob("*.json"))
LESSONS = [p for p in PRESETS if p.stem.startswith("Lesson - ")]
FULL_BATCH_LESSONS = [p for p in LESSONS if load_project(p).training.batch_size == "all"]  # all but one sigmoid neuron
HOUSES_ONE_NEURON = RESOURCES / "presets" / "Lesson - house prices, one neuron on 12 raw features.json"
HOUSES_NETWORK = RESOURCES / "presets" / "Lesson - house prices, 12-5-3-1 linear network.json"


def _build(path: Path):
    project, problem = open_project(path)  # checked whole: settings, data, network and any weights
    net = project.network.build(problem)
    return project, problem, net, project.training.build(net, problem)


def test_the_presets_are_there():
    names = [p.stem for p in PRESETS]
    assert "TensorFlow Playground default" in names and len(names) >= 8
    assert len(LESSONS) == 5 and len(FULL_BATCH_LESSONS) == 4


@pytest.mark.parametrize("path", PRESETS, ids=[p.stem for p in PRESETS])
def test_a_preset_trains(path: Path):
    _, problem, _, trainer = _build(path)
    history = trainer.fit(problem.X_train, problem.Y_train, epochs=3, X_test=problem.X_test, Y_test=problem.Y_test)
    assert all(math.isfinite(v) for v in history.train_loss)


@pytest.mark.parametrize("path", [HOUSES_ONE_NEURON, HOUSES_NETWORK], ids=["one neuron", "12-5-3-1"])
def test_the_house_price_lesson_trains_as_written(path: Path):
    """Lesson 3: every house, raw features and prices, C = ½(y − a)², full-batch gradient descent at 8e-7."""
    project, problem, net, trainer = _build(path)
    table = datasets.load_table("house_prices")
    assert len(problem.X_train) == len(table.X) == 506 and len(problem.X_test) == 0
    order = np.argsort(problem.Y_train.ravel(), kind="stable")  # rows are shuffled; compare them sorted by price
    np.testing.assert_array_equal(problem.Y_train.ravel()[order], table.y[np.argsort(table.y, kind="stable")])
    assert sorted(map(tuple, problem.X_train)) == sorted(map(tuple, table.X))  # the CSV's own values
    assert problem.n_inputs == 12  # the lesson's 13 less B, which the bundled table leaves out
    assert (trainer.loss.name, trainer.batch_size, trainer.learning_rate) == ("half_squared_error", "all", 8e-7)
    assert trainer.optimizer.name == "sgd" and all(act == "linear" for _, act in net.spec)
    assert [units for units, _ in net.spec] == ([1] if path == HOUSES_ONE_NEURON else [5, 3, 1])


def test_the_one_neuron_house_lesson_cost_never_rises_over_200_epochs():
    """'Our cost always gets smaller': at every one of 200 epochs, as the lesson says."""
    _, problem, net, trainer = _build(HOUSES_ONE_NEURON)
    a, y = net.predict(problem.X_train), problem.Y_train
    history = trainer.fit(problem.X_train, problem.Y_train, epochs=200)
    costs = np.array(history.train_loss)
    assert costs[0] == pytest.approx(np.mean(0.5 * (y - a) ** 2), rel=1e-12)  # C = ½(y − a)², prices in $1000s
    assert trainer.steps == 200
    assert (np.diff(costs) < 0).all(), np.flatnonzero(np.diff(costs) >= 0)
    assert costs[-1] < costs[0] / 100


@pytest.mark.parametrize("path", FULL_BATCH_LESSONS, ids=[p.stem for p in FULL_BATCH_LESSONS])
def test_full_batch_lessons_cost_falls_at_every_epoch(path: Path):
    _, problem, _, trainer = _build(path)
    history = trainer.fit(problem.X_train, problem.Y_train, epochs=200)
    assert (np.diff(history.train_loss) < 0).all()


@pytest.mark.parametrize("name", ["Lesson - one sigmoid neuron", "Lesson - two one-neuron sigmoid layers"])
def test_the_sigmoid_lessons_use_squared_error_and_still_show_accuracy(name):
    project, problem, net, trainer = _build(RESOURCES / "presets" / f"{name}.json")
    assert trainer.loss.name == "mse" and problem.task == "binary" and trainer.task == "binary"
    assert all(act == "sigmoid" for _, act in net.spec)
    history = trainer.fit(problem.X_train, problem.Y_train, 40, problem.X_test, problem.Y_test)
    predicted = net.predict(problem.X_test).ravel() > 0.5
    assert history.test_accuracy[-1] == np.mean(predicted == (problem.Y_test > 0.5)) > 0.9
