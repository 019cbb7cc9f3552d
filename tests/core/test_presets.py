"""Every bundled preset opens, builds and trains."""
import math
from pathlib import Path

import pytest

from core.datasets import RESOURCES
from core.project import load_project
from core.spec import prepare

PRESETS = sorted((RESOURCES / "presets").glob("*.json"))


def test_the_presets_are_there():
    names = [p.stem for p in PRESETS]
    assert "TensorFlow Playground default" in names and len(names) >= 8


@pytest.mark.parametrize("path", PRESETS, ids=[p.stem for p in PRESETS])
def test_a_preset_trains(path: Path):
    project = load_project(path)
    problem = prepare(project.data)
    net = project.network.build(problem)
    trainer = project.training.build(net, problem)
    history = trainer.fit(problem.X_train, problem.Y_train, epochs=3, X_test=problem.X_test, Y_test=problem.Y_test)
    assert all(math.isfinite(v) for v in history.train_loss)
