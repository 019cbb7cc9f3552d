"""What is learnt from a table: the target and task, the feature columns (and those left out, with the
reason), missing values, and the choices kept in a project."""
import json

import numpy as np
import pytest

from core import tables
from core.datasets import DatasetError
from core.metrics import regression_scores
from core.project import load_project, save_project
from core.spec import DataSpec, NetworkSpec, TrainingConfig, prepare
from core.tables import read_table

RNG = np.random.default_rng(0)


def _write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def _table(tmp_path, text, **options):
    return read_table(_write(tmp_path, text), **options)


def _numbers(n, columns=2):
    return RNG.normal(size=(n, columns)).round(3)


# --- the task and its classes ------------------------------------------------------------------------------
def test_numeric_labels_are_compared_as_numbers(tmp_path):
    X = _numbers(8)
    labels = ["0", "0.0", "1", "1.00", "0", "1e0", "0", "1"]
    table = _table(tmp_path, "a,b,y\n" + "".join(f"{a},{b},{y}\n" for (a, b), y in zip(X, labels)))
    data = table.dataset()
    assert data.task == "binary" and data.class_names == ["0", "1"]
    assert data.y.tolist() == [0, 0, 1, 1, 0, 1, 0, 1]


def test_a_rating_reads_as_classes_and_can_be_a_number(tmp_path):
    X = _numbers(40)
    text = "a,b,rating\n" + "".join(f"{a},{b},{1 + i % 5}\n" for i, (a, b) in enumerate(X))
    table = _table(tmp_path, text)
    assert table.infer_task("rating") == ("multiclass", ("1", "2", "3", "4", "5"))
    data = table.dataset(task="regression")
    assert data.task == "regression" and data.class_names is None and data.y[:3].tolist() == [1.0, 2.0, 3.0]
    assert "target 'rating': regression" in data.summary


def test_twenty_integer_coded_classes_are_classes(tmp_path):
    X = _numbers(100)
    table = _table(tmp_path, "a,b,code\n" + "".join(f"{a},{b},{i % 20}\n" for i, (a, b) in enumerate(X)))
    task, classes = table.infer_task("code")
    assert task == "multiclass" and classes == tuple(str(i) for i in range(20))
    assert table.infer_task("code", "regression") == ("regression", None)


def test_a_price_with_an_inf_is_regression_and_the_inf_is_refused(tmp_path):
    X = _numbers(40)
    prices = [f"{100 + 7.5 * i:.2f}" for i in range(40)]
    prices[17] = "inf"
    table = _table(tmp_path, "a,b,price\n" + "".join(f"{a},{b},{p}\n" for (a, b), p in zip(X, prices)))
    assert table.infer_task("price") == ("regression", None) and table.column("price").n_infinite == 1
    with pytest.raises(DatasetError) as raised:
        table.dataset()
    assert str(raised.value) == "data.csv, line 19, column 'price': 'inf' is not a finite number"


def test_classes_can_be_asked_for_and_refused_when_there_are_too_many(tmp_path):
    X = _numbers(300)
    table = _table(tmp_path, "a,b,y\n" + "".join(f"{a},{b},{i * 0.37:.2f}\n" for i, (a, b) in enumerate(X)))
    assert table.infer_task("y") == ("regression", None)
    with pytest.raises(DatasetError, match=r"^data.csv: target 'y' has 300 distinct values, too many classes "
                                           r"\(at most 100\); is it a number to predict by regression\?$"):
        table.dataset(task="classification")
    few = _table(tmp_path, "a,y\n1.5,0.5\n2.5,1.5\n3.5,0.5\n4.5,2.5\n")
    assert few.infer_task("y", "classification") == ("multiclass", ("0.5", "1.5", "2.5"))
    assert few.infer_task("y", "multiclass")[0] == "multiclass"


@pytest.mark.parametrize("text, target, task, message", [
    ("a,kind\n1,cat\n2,dog\n3,cat\n", "kind", "regression",
     "data.csv: target 'kind' is text ('cat'), so it cannot be predicted by regression"),
    ("a,y\n1,5\n2,5\n3,5\n", "y", None, "data.csv: target 'y' has only one class ('5'); nothing to learn"),
    ("a,y\n1,5\n2,6\n3,7\n", "y", "binary", "data.csv: target 'y' has 3 classes, not 2"),
    ("a,y\n1,5\n2,6\n3,7\n", "price", None, "data.csv has no column 'price'; its columns are 'a, y'"),
    ("a,y\n1,5\n2,6\n3,7\n", "y", "ranking",
     "unknown task 'ranking'; expected one of regression, classification, binary, multiclass"),
])
def test_a_target_that_cannot_serve_says_why(tmp_path, text, target, task, message):
    with pytest.raises(DatasetError) as raised:
        _table(tmp_path, text).dataset(target, ["a"], task)
    assert str(raised.value) == message


def test_class_names_keep_their_text(tmp_path):
    table = _table(tmp_path, 'size,species\n1.5,"Iris\nsetosa"\n2.5,Versicolor\n0.5," Iris\nsetosa "\n3.5,Versicolor\n')
    data = table.dataset()
    assert data.class_names == ["Iris\nsetosa", "Versicolor"] and data.y.tolist() == [0, 1, 0, 1]


# --- features, and the columns left out ------------------------------------------------------------------------
def test_row_indices_and_constant_columns_start_unticked_with_the_reason(tmp_path):
    X = _numbers(30)
    lines = "".join(f"{i},{i + 1},{a},{b},7,{'ab'[i % 2]}\n" for i, (a, b) in enumerate(X))
    table = _table(tmp_path, ",id,a,b,unit,y\n" + lines)
    notes = {c.name: c.note for c in table.columns}
    assert notes == {"column 1": "no name in the header: looks like a row index",
                     "id": "whole numbers 1 to 30, each once: looks like a row index",
                     "a": None, "b": None, "unit": "the same value (7) in every row", "y": None}
    assert table.suggested_target() == "y" and table.default_features("y") == ("a", "b")
    data = table.dataset()
    assert data.feature_names == ["a", "b"] and "features: a, b;" in data.summary


def test_an_r_index_column_is_left_out_too(tmp_path):
    X = _numbers(12)
    lines = "".join(f'"{i + 1}",{a},{b},"{"xy"[i % 2]}"\n' for i, (a, b) in enumerate(X))
    table = _table(tmp_path, '"","a","b","y"\n' + lines)
    assert table.column("column 1").note == "no name in the header: looks like a row index"
    assert table.dataset().feature_names == ["a", "b"]


def test_shuffled_ids_are_an_index_but_a_counter_with_gaps_is_not(tmp_path):
    ids = RNG.permutation(20) + 100
    table = _table(tmp_path, "id,n,y\n" + "".join(f"{i},{2 * k},{k % 2}\n" for k, i in enumerate(ids)))
    assert table.column("id").note == "whole numbers 100 to 119, each once: looks like a row index"
    assert table.column("n").note is None


def test_chosen_features_are_used_in_the_order_given(tmp_path):
    X = _numbers(10, 3)
    table = _table(tmp_path, "a,b,c,y\n" + "".join(f"{a},{b},{c},{i % 2}\n" for i, (a, b, c) in enumerate(X)))
    data = table.dataset("y", ["c", "a"])
    assert data.feature_names == ["c", "a"]
    np.testing.assert_array_equal(data.X, X[:, [2, 0]])


@pytest.mark.parametrize("features, message", [
    ([], "data.csv: no feature columns to learn 'y' from"),
    (["y"], "data.csv: 'y' is the target; it cannot be a feature too"),
    (["a", "a"], "data.csv: feature 'a' is chosen twice"),
    (["nothing"], "data.csv: column 'nothing' has no values"),
    (["name"], "data.csv: column 'name' has 60 distinct texts; one-hot encoding takes at most 50"),
])
def test_features_that_cannot_be_used_say_why(tmp_path, features, message):
    text = "a,name,nothing,y\n" + "".join(f"{i * 0.5},person {i},,{i % 2}\n" for i in range(60))
    table = _table(tmp_path, text)
    assert table.column("name").note == "text with 60 distinct values; one-hot encoding takes at most 50"
    with pytest.raises(DatasetError) as raised:
        table.dataset("y", features)
    assert str(raised.value) == message


def test_text_features_are_one_hot_encoded(tmp_path):
    cities = ["Paris", "Lyon", "Nice"]
    text = "city,size,price\n" + "".join(f"{cities[i % 3]},{50 + i * 3.5},{200 + 10 * i + 5 * (i % 3)}\n"
                                         for i in range(30))
    spec = DataSpec(source="csv", csv_path=str(_write(tmp_path, text)), test_fraction=0.2)
    problem = prepare(spec)
    assert problem.input_names == ["city=Lyon", "city=Nice", "city=Paris", "size"]
    raw = problem.preprocessing.encode([["Nice", 60.0]])
    unscaled = raw * np.asarray(problem.preprocessing.input_std) + np.asarray(problem.preprocessing.input_mean)
    np.testing.assert_allclose(unscaled, [[0, 1, 0, 60.0]])


# --- missing values --------------------------------------------------------------------------------------------
MISSING = "a,b,city,y\n1.0,10,Paris,1.5\nNA,20,Lyon,2.5\n3.0,?,Paris,\n4.0,40,,4.5\n5.0,50,Lyon,5.5\n6.0,60,Paris,6.5\n"


def test_each_missing_value_policy_says_what_it_touches(tmp_path):
    table = _table(tmp_path, MISSING)
    effect = table.missing_effect("y", ["a", "b", "city"])
    assert effect == tables.MissingEffect(n_rows=6, rows_with_missing=3, cells_to_fill=2, rows_without_target=1)
    assert [effect.describe(p) for p in tables.MISSING_POLICIES] == [
        "refuses the file: 3 rows with missing cells", "drops 3 rows of 6",
        "fills 2 cells with the column's mean, drops 1 row without a target",
        "fills 2 cells with the column's median, drops 1 row without a target",
        "fills 2 cells with the most frequent value, drops 1 row without a target"]
    assert table.missing_effect("y", ["a"]).describe("drop") == "drops 2 rows of 6"


def test_refuse_names_the_first_missing_cell(tmp_path):
    with pytest.raises(DatasetError) as raised:
        _table(tmp_path, MISSING).dataset("y", ["a", "b", "city"])
    assert str(raised.value) == ("data.csv, line 3, column 'a': missing value 'NA'; choose to drop such rows "
                                 "or fill them")


def test_drop_removes_the_rows_and_says_how_many(tmp_path):
    data = _table(tmp_path, MISSING).dataset("y", ["a", "b", "city"], missing="drop")
    assert data.y.tolist() == [1.5, 5.5, 6.5] and not np.isnan(data.X).any()
    assert data.summary.endswith("3 rows with missing cells dropped")


# the rows kept: a 1, NA, 4, 5, 6; b 10, 20, 40, 50, 60; city Paris, Lyon, –, Lyon, Paris (a tie: the first in order)
@pytest.mark.parametrize("policy, a, b, city", [("mean", 4.0, 36.0, "Lyon"), ("median", 4.5, 40.0, "Lyon"),
                                                ("mode", 1.0, 10.0, "Lyon")])
def test_fill_policies_fill_from_the_training_split(tmp_path, policy, a, b, city):
    path = _write(tmp_path, MISSING)
    table = read_table(path)
    data = table.dataset("y", ["a", "b", "city"], missing=policy)
    assert len(data.y) == 5 and np.isnan(data.X).sum() == 2  # the row without a target is gone; the rest filled later
    assert data.summary.endswith("1 row with missing cells dropped; 2 missing cells to fill with the training split's "
                                 + {"mean": "means", "median": "medians", "mode": "most frequent values"}[policy])
    problem = prepare(DataSpec(source="csv", csv_path=str(path), feature_columns=("a", "b", "city"), missing=policy,
                               test_fraction=0.0, standardize=False))
    fill = problem.preprocessing.fill
    assert fill == (a, b, city) and not np.isnan(problem.X_train).any()


def test_a_missing_value_in_a_column_that_is_not_used_changes_nothing(tmp_path):
    table = _table(tmp_path, "a,b,y\n1,,0\n2,,1\n3,x,0\n4,,1\n")
    assert table.dataset("y", ["a"]).X.shape == (4, 1)


def test_fill_with_no_value_to_fill_from_is_refused(tmp_path):
    from core.preprocessing import Preprocessing

    data = _table(tmp_path, "a,b,y\n1,,0\n2,,1\n3,,0\n4,5,1\n").dataset("y", ["a", "b"], missing="mean")
    with pytest.raises(DatasetError, match=r"^column 'b' has no values in the training split to fill its missing "
                                           r"cells from$"):
        Preprocessing.fit(data.subset([0, 1, 2]), missing="mean")


# --- the spec, the project and the fingerprint -------------------------------------------------------------------
def _survey(tmp_path):
    X = _numbers(60, 3)
    rows = []
    for i, (a, b, c) in enumerate(X):
        rating = 1 + i % 5
        rows.append(f"{i};{a};{'' if i % 9 == 4 else b};{c};{'north south'.split()[i % 2]};{rating}")
    return _write(tmp_path, "\n".join(["", ";x;y;z;region;rating", *rows, ""]).replace(".", ","), "survey.csv")


def test_the_choices_in_a_spec_are_what_is_trained_on(tmp_path):
    path = _survey(tmp_path)
    spec = DataSpec(source="csv", csv_path=str(path), target="rating", task="regression",
                    feature_columns=("x", "region", "y"), missing="median", delimiter=";", header=True)
    problem = prepare(spec)
    assert problem.task == "regression" and problem.input_names == ["x", "region=north", "region=south", "y"]
    assert len(problem.X_train) + len(problem.X_test) == 60 and not np.isnan(problem.X_train).any()
    assert problem.summary.startswith("survey.csv: 60 rows × 6 columns, header row (delimiter ';', decimal comma); "
                                      "target 'rating': regression; features: x, region, y; 7 missing cells to fill")
    net = NetworkSpec(hidden=((4, "tanh"),)).build(problem)
    trainer = TrainingConfig(learning_rate=0.01, optimizer="adam").build(net, problem)
    history = trainer.fit(problem.X_train, problem.Y_train, 5, problem.X_test, problem.Y_test)
    assert np.isfinite(history.train_loss).all()


def test_choices_are_saved_in_the_project_and_replayed(tmp_path):
    path = _survey(tmp_path)
    spec = DataSpec(source="csv", csv_path=str(path), target="rating", task="classification",
                    feature_columns=("x", "z"), missing="drop", delimiter=";", header=True,
                    csv_fingerprint=tables.fingerprint(path))
    save_project(tmp_path / "p.json", spec, NetworkSpec(), TrainingConfig())
    stored = json.loads((tmp_path / "p.json").read_text())["data"]
    assert stored["feature_columns"] == ["x", "z"] and stored["delimiter"] == ";" and stored["header"] is True
    assert stored["csv_path"] == "survey.csv"
    loaded = load_project(tmp_path / "p.json").data
    assert loaded == spec
    assert prepare(loaded).input_names == ["x", "z"] and prepare(loaded).class_names == ("1", "2", "3", "4", "5")


@pytest.mark.parametrize("change, message", [
    ({"task": "ordinal"}, "unknown task 'ordinal'; expected one of regression, classification, binary, multiclass"),
    ({"missing": "guess"}, "unknown missing-value policy 'guess'; expected one of refuse, drop, mean, median, mode"),
    ({"delimiter": ";;"}, "the delimiter must be one character other than a quote or a line end, got ';;'"),
    ({"feature_columns": []}, "feature_columns must list 1 to 10,000 column names, got ()"),
    ({"feature_columns": ["a", 3]}, "a feature column must be text, got 3"),
    ({"header": "yes"}, "data.header must be bool | None, got 'yes'"),
])
def test_bad_choices_in_a_project_are_refused(tmp_path, change, message):
    save_project(tmp_path / "p.json", DataSpec(source="csv", csv_path="data.csv"), NetworkSpec(), TrainingConfig())
    doc = json.loads((tmp_path / "p.json").read_text())
    doc["data"].update(change)
    (tmp_path / "p.json").write_text(json.dumps(doc))
    with pytest.raises(ValueError) as raised:
        load_project(tmp_path / "p.json")
    assert str(raised.value) == f"p.json: {message}"


def test_a_project_whose_csv_changed_on_disk_says_so(tmp_path):
    path = _write(tmp_path, "a,y\n1,0\n2,1\n3,0\n")
    saved = tables.fingerprint(path)
    assert tables.csv_changed(path, saved) is None and tables.csv_changed(path, None) is None
    path.write_text("a,y\n1,0\n2,1\n3,1\n")  # the same size, another value
    assert tables.csv_changed(path, saved) == ("data.csv has changed since the project was saved; training uses "
                                               "the file as it is now")
    path.write_text("a,y\n1,0\n2,1\n3,0\n4,1\n")
    assert tables.csv_changed(path, saved) == ("data.csv has changed since the project was saved (16 bytes then, "
                                               "20 now); training uses the file as it is now")
    path.unlink()
    assert tables.csv_changed(path, saved) == "cannot read data.csv: No such file or directory"


# --- scores in the target's units -------------------------------------------------------------------------------
def test_rmse_and_r2_in_target_units_and_how_the_cost_relates(tmp_path):
    # residuals 0, 0, −2; the actual values spread 26/3 around their mean 8/3
    assert regression_scores([1.0, 2.0, 3.0], [1.0, 2.0, 5.0]) == pytest.approx((np.sqrt(4 / 3), 1 - 4 / (26 / 3)))
    assert np.isnan(regression_scores([1.0, 1.0], [2.0, 2.0]).r2)
    with pytest.raises(ValueError, match="differ in number"):
        regression_scores([1.0], [1.0, 2.0])
    problem = prepare(DataSpec(source="house_prices", test_fraction=0.3))
    net = NetworkSpec(hidden=((8, "relu"),)).build(problem)
    trainer = TrainingConfig(optimizer="adam", learning_rate=0.01).build(net, problem)
    trainer.fit(problem.X_train, problem.Y_train, 20)
    cost, _ = trainer.evaluate(problem.X_test, problem.Y_test)
    rmse, r2 = regression_scores(problem.to_target_units(net.predict(problem.X_test)),
                                 problem.to_target_units(problem.Y_test))
    # the cost is the MSE of the standardised target: RMSE = √cost × the training split's std of the target
    assert rmse == pytest.approx(np.sqrt(cost) * problem.preprocessing.target_std)
    actual = problem.to_target_units(problem.Y_test).ravel()
    assert r2 == pytest.approx(1 - rmse ** 2 / actual.var())
