import numpy as np
import pytest

from core import datasets, tables
from core.datasets import DatasetError


@pytest.mark.parametrize("name", list(datasets.PLANE_SETS))
def test_plane_sets_are_seeded_and_sized(name):
    a = datasets.make_plane(name, n_samples=200, noise=0.2, seed=3)
    b = datasets.make_plane(name, n_samples=200, noise=0.2, seed=3)
    c = datasets.make_plane(name, n_samples=200, noise=0.2, seed=4)
    assert a.X.shape[1] == 2 and len(a.X) == len(a.y) >= 198
    np.testing.assert_array_equal(a.X, b.X)
    assert not np.array_equal(a.X, c.X)
    if a.task == "binary":
        assert set(np.unique(a.y)) == {0.0, 1.0}
    elif a.task == "regression":
        assert np.abs(a.y).max() <= 1


def test_circle_without_noise_is_separable_by_radius():
    data = datasets.make_plane("circle", 400, noise=0.0, seed=0)
    radius = np.hypot(*data.X.T)
    assert np.all((radius < 2.5) == (data.y == 1))


def test_feature_map_and_split():
    X = np.array([[1.0, 2.0], [3.0, 4.0]])
    out = datasets.feature_map(X, ["x1", "x2", "x1^2", "x2^2", "x1x2", "sin_x1", "sin_x2"])
    np.testing.assert_allclose(out[1], [3, 4, 9, 16, 12, np.sin(3), np.sin(4)])
    with pytest.raises(DatasetError, match=r"unknown input features \['x3'\]"):
        datasets.feature_map(X, ["x3"])
    with pytest.raises(DatasetError, match="input features must be a list of 1 to 7"):
        datasets.feature_map(X, [])
    with pytest.raises(DatasetError, match="input features are repeated"):
        datasets.feature_map(X, ["x1", "x1"])
    data = datasets.make_plane("xor", 100, seed=0)
    train, test = datasets.train_test_split(data, 0.3, seed=0)
    assert (len(train.X), len(test.X)) == (70, 30)


def test_bundled_tables():
    house = datasets.load_table("house_prices")
    assert house.task == "regression" and house.X.shape == (506, 12) and house.target_name == "price"
    iris = datasets.load_table("iris")
    assert iris.task == "multiclass" and iris.X.shape == (150, 4) and np.bincount(iris.y).tolist() == [50] * 3


def test_bundled_tables_and_csv_files_are_read_alike(tmp_path):
    iris = datasets.load_table("iris")
    copy = tmp_path / "iris.csv"
    copy.write_bytes(datasets.TABLES["iris"].read_bytes())
    again = tables.read_table(copy).dataset(name="iris")
    np.testing.assert_array_equal(again.X, iris.X)
    assert again.class_names == iris.class_names and again.summary == iris.summary
    assert tables.read_format(copy).names == ("sepal_length", "sepal_width", "petal_length", "petal_width", "species")
    with pytest.raises(DatasetError, match="^cannot read missing.csv: No such file or directory$"):
        tables.read_format(tmp_path / "missing.csv")


def test_a_drawn_set_is_binary_or_three_classes_and_refuses_what_is_not_a_point():
    from core.spec import DataSpec, prepare
    points = ((0.0, 1.0, 1), (2.0, -1.0, 0), (1.5, 1.5, 1), (-2.0, -2.0, 0))
    problem = prepare(DataSpec(source="drawn", points=points, test_fraction=0.0))
    assert problem.task == "binary" and problem.is_plane and len(problem.X_train) == 4
    assert datasets.from_points(points + ((3.0, 3.0, 2),)).task == "multiclass"
    for bad, message in ((((0.0, 1.0, 5), (1.0, 1.0, 0)), "label of 0, 1 or 2"),
                         ((((0.0, float("nan"), 1)), (1.0, 1.0, 0)), "finite"),
                         (((0.0, 0.0, 1),), "draw at least 2"), (("oops",), "triples")):
        with pytest.raises(datasets.DatasetError, match=message):
            datasets.from_points(bad)


def test_a_drawn_regression_takes_each_points_value():
    from core.spec import DataSpec, prepare
    points = ((0.0, 1.0, 0.25), (2.0, -1.0, -1.0), (1.5, 1.5, 1.0))
    problem = prepare(DataSpec(source="drawn", points=points, task="regression", test_fraction=0.0))
    assert problem.task == "regression" and problem.is_plane
    assert sorted(problem.Y_train.ravel()) == [-1.0, 0.25, 1.0]  # in its own units, as the 2-D sets
    with pytest.raises(datasets.DatasetError, match="drawn values must be from -1 to 1"):
        datasets.from_points(points + ((0.0, 0.0, 3.0),), "regression")


def test_regression_gaussians_are_the_distances_linalg_norm_gives():
    """Their distances are summed by hand (ten times faster); the labels are exactly linalg.norm's."""
    data = datasets.make_plane("reg_gauss", 2000, noise=0.3, seed=5)
    rng = np.random.default_rng(5)
    X = rng.uniform(-6, 6, (2000, 2))
    noisy = X + rng.uniform(-6, 6, (2000, 2)) * 0.3
    centres = np.array([[-4, 2.5], [0, 2.5], [4, 2.5], [-4, -2.5], [0, -2.5], [4, -2.5]])
    labels = np.array([1, -1, 1, -1, 1, -1]) * np.clip(1 - np.linalg.norm(noisy[:, None] - centres, axis=2) / 2, 0, 1)
    np.testing.assert_array_equal(data.y, labels[np.arange(2000), np.abs(labels).argmax(axis=1)])
