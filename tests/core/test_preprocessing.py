"""Preprocessing: raw rows → network inputs, fitted on the training split, and back from files."""
import json

import numpy as np
import pytest

from core.datasets import Column, Dataset
from core.preprocessing import Preprocessing
from core.spec import DataSpec, prepare

NAN = np.nan


def _table(task="regression"):
    # size (number), colour (text: codes into ("red", "green", "blue")), rooms (number); NaN = missing
    X = np.array([[50.0, 0, 2], [80.0, 1, 3], [NAN, 2, 3], [120.0, 1, NAN], [65.0, NAN, 2]])
    columns = (Column("size"), Column("colour", ("red", "green", "blue")), Column("rooms"))
    y = np.array([100.0, 180.0, 150.0, 260.0, 120.0])
    return Dataset(X, y, ["size", "colour", "rooms"], "price", task, columns=columns)


def test_missing_cells_are_filled_text_is_one_hot_and_inputs_standardised():
    pre = Preprocessing.fit(_table(), missing="median")
    assert pre.input_names == ["size", "colour=red", "colour=green", "colour=blue", "rooms"]
    assert pre.fill == (72.5, "green", 2.5)  # medians of the present numbers; the most frequent colour
    raw = pre._unscaled(_table().X)
    np.testing.assert_array_equal(raw[2], [72.5, 0, 0, 1, 3])
    np.testing.assert_array_equal(raw[4], [65.0, 0, 1, 0, 2])
    X = pre.encode(_table().X)
    np.testing.assert_allclose(X.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(X.std(axis=0), 1)


def test_rows_of_text_encode_like_codes_and_unseen_categories_are_all_zeros():
    pre = Preprocessing.fit(_table(), missing="mean")
    rows = [[50, "red", 2], ["80", " green ", "3"], [None, "blue", 3], [120, "green", "NA"], [65.0, "", 2]]
    np.testing.assert_array_equal(pre.encode(rows), pre.encode(_table().X))
    unseen = pre._unscaled(pre.raw_array([[50, "purple", 2]]))
    np.testing.assert_array_equal(unseen[0, 1:4], [0, 0, 0])


def test_a_missing_cell_without_a_fill_is_refused_clearly():
    pre = Preprocessing.fit(_table(), standardize=False)
    with pytest.raises(ValueError, match="row 3: column 'size' is missing"):
        pre.encode(_table().X)


def test_regression_targets_are_standardised_and_decoded_back():
    pre = Preprocessing.fit(_table(), missing="mean")
    y = _table().y
    scaled = pre.encode_targets(y)
    assert scaled.shape == (5, 1)
    np.testing.assert_allclose(scaled.mean(), 0, atol=1e-12)
    np.testing.assert_allclose(pre.decode(scaled).ravel(), y)
    raw = Preprocessing.fit(_table(), missing="mean", standardize=False)
    np.testing.assert_array_equal(raw.encode_targets(y).ravel(), y)
    assert raw.input_mean is None and raw.target_mean is None


def test_round_trip_through_json_gives_the_same_encoding():
    for pre in (Preprocessing.fit(_table(), missing="mode"), prepare(DataSpec(features=("x1", "sin_x1"))).preprocessing,
                prepare(DataSpec(source="iris")).preprocessing):
        back = Preprocessing.from_dict(json.loads(json.dumps(pre.to_dict())))
        assert back == pre


def test_the_problem_inputs_are_the_encoding_of_the_raw_rows():
    for spec in (DataSpec(source="iris", seed=3), DataSpec(source="house_prices"),
                 DataSpec(source="spiral", features=("x1", "x2", "x1^2", "sin_x1"))):
        problem = prepare(spec)
        raw = problem.points_train if problem.is_plane else _raw_table(spec, problem)
        np.testing.assert_array_equal(problem.preprocessing.encode(raw), problem.X_train)


def _raw_table(spec, problem):
    from core import datasets
    data = datasets.load_table(spec.source)
    train, _ = datasets.train_test_split(data, spec.test_fraction, spec.seed)
    return train.X


@pytest.mark.parametrize("change, message", [
    (lambda d: d.update(task="ranking"), "task must be one of"),
    (lambda d: d.update(columns=[]), "columns must be a non-empty list"),
    (lambda d: d.update(input_std=[1.0] * 4 + [0.0]), "input_std must be positive"),
    (lambda d: d.update(input_mean=[0.0]), "must hold 5 finite numbers"),
    (lambda d: d.update(fill=[1.0, "purple", 2.0]), "fill value 'purple' does not suit column 'colour'"),
    (lambda d: d.update(class_names=["a", "b"]), "a regression has no class names"),
    (lambda d: d.update(target_std=-1.0), "target_mean and target_std must be finite"),
    (lambda d: d.update(extra=1), "unknown preprocessing keys"),
])
def test_a_bad_document_is_refused_with_what_is_wrong(change, message):
    doc = Preprocessing.fit(_table(), missing="mean").to_dict()
    change(doc)
    with pytest.raises(ValueError, match=message):
        Preprocessing.from_dict(doc)


@pytest.mark.parametrize("spec, said", [
    (DataSpec(source="iris"), None),
    (DataSpec(source="iris", test_fraction=0.2), "another split's means"),
    (DataSpec(source="iris", standardize=False), "standardised instead of as they are"),
    (DataSpec(source="house_prices"), "columns sepal_length"),
])
def test_differences_say_how_other_data_would_be_read(spec, said):
    iris = prepare(DataSpec(source="iris")).preprocessing
    differences = iris.differences(prepare(spec).preprocessing)
    assert (not differences) if said is None else said in "; ".join(differences)
    # and the same both ways round
    assert bool(differences) == bool(prepare(spec).preprocessing.differences(iris))


def test_differences_survive_a_trip_through_a_file():
    pre = prepare(DataSpec(source="iris")).preprocessing
    assert Preprocessing.from_dict(json.loads(json.dumps(pre.to_dict()))).differences(pre) == []
