"""Exported models answer raw rows as the app does: every format, the README's snippets, the PyTorch
script (predict, train, torchrun), a .safetensors written by PyTorch, and exporting on the base install.

"The app's answer" for raw rows is what the app shows: the rows as its CSV reader gives them
(``Dataset.X``), encoded by the problem's preprocessing, through the trained network, decoded.
"""
from __future__ import annotations

import ast
import csv
import json
import math
import os
import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass, replace
from importlib import metadata as importlib_metadata
from io import StringIO
from pathlib import Path

import numpy as np
import pytest
from blocked_imports import run_without

from core import Network, Trainer, datasets, io, tables
from core.datasets import MISSING_TOKENS, Column, Dataset
from core.io import ActivationsNeeded, FormatError
from core.losses import LOSSES
from core.model import Model
from core.preprocessing import Preprocessing
from core.spec import DataSpec, NetworkSpec, TrainingConfig, prepare

ROOT = Path(__file__).resolve().parents[2]
MISSING_CELLS = ["", "NA", "?", "null", "N/A", "nan", "None"]  # written in turn for missing cells


@dataclass
class Case:
    model: Model  # trained, with its preprocessing and (named-loss) training settings
    train: Dataset  # the raw training split, in the order the app trains on it
    rows: Dataset  # raw rows to answer


def _close(actual, expected):
    np.testing.assert_allclose(actual, expected, rtol=1e-6, atol=1e-6)


def _train(spec: DataSpec, network: NetworkSpec, training: TrainingConfig, epochs: int) -> Case:
    problem = prepare(spec)
    net = network.build(problem)
    training.build(net, problem).fit(problem.X_train, problem.Y_train, epochs)
    data = (datasets.make_plane(spec.source, spec.n_samples, spec.noise, spec.seed) if spec.is_plane
            else datasets.load_table(spec.source))
    train, _ = datasets.train_test_split(data, spec.test_fraction, spec.seed)
    return Case(io.as_model(net, problem.preprocessing, training), train, data)


def _text_case(names=("size", "colour", "rooms", "price"), colours=("red", "green", "blue")) -> Case:
    """A hand-made table: a number, a text column and a number, with missing cells; the fill values
    are the training split's medians, and rows to answer include a colour never seen in training."""
    rng = np.random.default_rng(5)
    n = 80
    size, colour, rooms = rng.uniform(40, 150, n), rng.integers(0, 3, n).astype(float), rng.integers(1, 6, n)
    price = 2 * size + np.array([10.0, 30.0, 50.0])[colour.astype(int)] + 15 * rooms + rng.normal(0, 5, n)
    X = np.column_stack([size, colour, rooms.astype(float)])
    X[rng.random((n, 3)) < 0.1] = np.nan
    columns = (Column(names[0]), Column(names[1], tuple(colours)), Column(names[2]))
    data = Dataset(X, price, list(names[:3]), names[3], "regression", columns=columns, name="houses")
    train, _ = datasets.train_test_split(data, 0.25, 0)
    pre = Preprocessing.fit(train, missing="median")
    net = Network(pre.n_inputs, [(8, "tanh"), (1, "linear")], seed=0)
    training = TrainingConfig(optimizer="adam", learning_rate=0.01, batch_size=8)
    Trainer(net, "mse", "adam", 0.01, 8).fit(pre.encode(train.X), pre.encode_targets(train.y), 30)
    unseen = np.array([[90.0, -1.0, 3.0], [np.nan, -1.0, np.nan]])  # "purple": no category
    rows = replace(data, X=np.vstack([X, unseen]), y=np.r_[price, 0.0, 0.0])
    return Case(io.as_model(net, pre, training), train, rows)


CASES = {
    "iris": lambda: _train(DataSpec(source="iris", test_fraction=0.3), NetworkSpec(hidden=((8, "tanh"),)),
                           TrainingConfig(optimizer="adam", learning_rate=0.01), 20),
    "house_prices": lambda: _train(DataSpec(source="house_prices", test_fraction=0.2),
                                   NetworkSpec(hidden=((16, "relu"), (8, "relu"))),
                                   TrainingConfig(optimizer="adam", learning_rate=0.01, batch_size=16), 20),
    "plane": lambda: _train(DataSpec(source="spiral", n_samples=200, features=("x1", "x2", "x1^2", "sin_x1")),
                            NetworkSpec(hidden=((6, "tanh"), (4, "swish"))),
                            TrainingConfig(optimizer="momentum", learning_rate=0.01, regularization="l2",
                                           reg_rate=0.001), 20),
    "text": _text_case,
    "lesson": lambda: _train(*_preset("Lesson - house prices, one neuron on 12 raw features.json"), 5),
}


def _preset(name: str):
    """A preset's data, network and training settings (here: raw inputs, half squared error, full batch)."""
    from core.project import load_project
    project = load_project(ROOT / "resources" / "presets" / name)
    return project.data, project.network, project.training


@pytest.fixture(scope="module")
def cases():
    return {name: make() for name, make in CASES.items()}


def _app(case: Case, X=None) -> np.ndarray:
    """The app's answers (n_rows, n_outputs) for raw rows as its reader has them."""
    pre = case.model.preprocessing
    return pre.decode(case.model.predict(pre.encode(case.rows.X if X is None else X)))


def _app_names(case: Case) -> np.ndarray:
    pre = case.model.preprocessing
    return np.array(pre.class_names)[pre.labels(_app(case))]


# --- raw rows as a CSV file has them ------------------------------------------------------------
def _cells(pre, data: Dataset) -> list:
    """The rows of ``data`` as a CSV holds them: text, a missing cell in one of the spellings."""
    rows = []
    for r, row in enumerate(data.X):
        cells = []
        for column, value in zip(pre.columns, row):
            if math.isnan(value):
                cells.append(MISSING_CELLS[r % len(MISSING_CELLS)])
            elif column.categories:
                cells.append(column.categories[int(value)] if value >= 0 else "purple")
            else:
                cells.append(repr(float(value)))
        rows.append(cells)
    return rows


def _write_csv(path: Path, case: Case, data: Dataset) -> Path:
    pre = case.model.preprocessing
    targets = ([repr(float(y)) for y in data.y] if pre.task == "regression"
               else [pre.class_names[int(y)] for y in data.y])
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow([c.name for c in pre.columns] + [pre.target_name])
        writer.writerows(cells + [target] for cells, target in zip(_cells(pre, data), targets))
    return path


def _onnx_feed(pre, rows) -> dict:
    """ONNX Runtime's inputs from rows of CSV cells: number columns as floats (NaN when missing), text as text."""
    numbers = [i for i, c in enumerate(pre.columns) if not c.categories]
    texts = [i for i, c in enumerate(pre.columns) if c.categories]
    feed = {"input": np.array([[float("nan") if row[i].lower() in MISSING_TOKENS else float(row[i]) for i in numbers]
                               for row in rows])}
    if texts:
        feed["text"] = np.array([[row[i] for i in texts] for row in rows], dtype=object)
    return feed


# --- every format on raw rows -----------------------------------------------------------------------
@pytest.mark.parametrize("suffix", [".npz", ".json", ".safetensors"])
@pytest.mark.parametrize("name", CASES)
def test_loaded_model_answers_raw_csv_rows_like_the_app(cases, tmp_path, name, suffix):
    case = cases[name]
    io.save(case.model, tmp_path / f"model{suffix}")
    model = io.load(tmp_path / f"model{suffix}")
    assert model.preprocessing == case.model.preprocessing and model.training == case.model.training
    assert model.training.loss in LOSSES  # named, even when the app picked the problem's natural one
    rows = _cells(model.preprocessing, case.rows)  # text straight from the CSV
    _close(model.predict_rows(rows), _app(case))
    if model.preprocessing.task == "regression":
        _close(model.answers(rows).astype(float), _app(case)[:, 0])
    else:
        assert list(model.answers(rows)) == list(_app_names(case))


@pytest.mark.parametrize("name", CASES)
def test_onnx_runtime_answers_raw_rows_like_the_app(cases, tmp_path, name):
    ort = pytest.importorskip("onnxruntime")
    case = cases[name]
    pre = case.model.preprocessing
    io.save(case.model, tmp_path / "model.onnx")
    session = ort.InferenceSession(str(tmp_path / "model.onnx"))
    rows = _cells(pre, case.rows)
    outputs = dict(zip([o.name for o in session.get_outputs()], session.run(None, _onnx_feed(pre, rows))))
    _close(outputs["output"], _app(case))
    meta = session.get_modelmeta().custom_metadata_map
    assert json.loads(meta["feature_names"]) == [c.name for c in pre.columns]
    assert json.loads(meta["input_columns"]) == [c.name for c in pre.columns if not c.categories]
    assert json.loads(meta["training"]) == {**vars(case.model.training)}
    assert Preprocessing.from_dict(json.loads(meta["preprocessing"])) == pre
    assert (meta["task"], meta["target_name"]) == (pre.task, pre.target_name)
    if pre.task == "regression":
        assert set(outputs) == {"output"} and "class_names" not in meta
    else:
        assert outputs["class_index"].dtype == np.int64
        np.testing.assert_array_equal(outputs["class_index"], pre.labels(_app(case)))
        assert json.loads(meta["class_names"]) == list(pre.class_names)
    if name == "text":
        assert json.loads(meta["text_columns"]) == ["colour"]
        assert [i.name for i in session.get_inputs()] == ["input", "text"]


def test_onnx_takes_raw_2d_points_and_computes_the_features(cases, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    case = cases["plane"]
    io.save(case.model, tmp_path / "model.onnx")
    session = ort.InferenceSession(str(tmp_path / "model.onnx"))
    assert session.get_inputs()[0].shape[1] == 2  # x1, x2; the network itself takes 4 features
    points = np.random.default_rng(1).uniform(-6, 6, (50, 2))
    _close(session.run(["output"], {"input": points})[0], _app(case, points))


def test_onnx_gives_nan_for_a_missing_cell_without_a_fill_value(cases, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    case = cases["house_prices"]
    io.save(case.model, tmp_path / "model.onnx")
    rows = case.rows.X[:3].copy()
    rows[1, 4] = np.nan
    with pytest.raises(ValueError, match="row 2: column 'nox' is missing"):
        case.model.predict_rows(rows)  # the app refuses the row
    y = ort.InferenceSession(str(tmp_path / "model.onnx")).run(["output"], {"input": rows})[0]
    assert np.isnan(y[1, 0]) and np.isfinite(y[[0, 2]]).all()


def test_onnx_in_float32_answers_close_to_the_app(cases, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    case = cases["text"]
    io.save(case.model, tmp_path / "model.onnx", onnx_dtype="float32")
    feed = _onnx_feed(case.model.preprocessing, _cells(case.model.preprocessing, case.rows))
    feed["input"] = feed["input"].astype(np.float32)
    y = ort.InferenceSession(str(tmp_path / "model.onnx")).run(["output"], feed)[0]
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, _app(case), rtol=1e-4)


def test_safetensors_metadata_records_what_onnx_does(cases, tmp_path):
    safe_open = pytest.importorskip("safetensors").safe_open
    case = cases["iris"]
    io.save(case.model, tmp_path / "model.safetensors")
    with safe_open(tmp_path / "model.safetensors", "np") as f:
        meta = f.metadata()
    assert json.loads(meta["class_names"]) == ["setosa", "versicolor", "virginica"]
    assert json.loads(meta["feature_names"]) == ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    assert json.loads(meta["training"])["optimizer"] == "adam" and meta["task"] == "multiclass"
    assert meta["pytorch"] == io.torch_recipe(case.model)
    assert json.loads(meta["config"])["version"] == io.VERSION


# --- the README's snippets, on raw rows ---------------------------------------------------------
def _readme_blocks():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Using exported models elsewhere", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.S)


def test_readme_shows_a_snippet_per_format():
    files = sorted(re.search(r'"(\w+\.\w+)"', block).group(1) for block in _readme_blocks())
    assert files == ["house_prices.json", "house_prices.safetensors", "iris.npz", "iris.onnx"]


@pytest.mark.parametrize("block", _readme_blocks(), ids=lambda b: re.search(r'"(\w+\.\w+)"', b).group(1))
def test_readme_snippet_answers_raw_rows_like_the_app(cases, tmp_path, monkeypatch, block):
    for node in ast.walk(ast.parse(block)):  # skip when a library the snippet uses is absent
        for name in getattr(node, "names", []) if isinstance(node, (ast.Import, ast.ImportFrom)) else []:
            pytest.importorskip(getattr(node, "module", None) or name.name)
    file = re.search(r'"(\w+\.\w+)"', block).group(1)
    case = cases[Path(file).stem]
    if "torch.nn" in block:
        assert io.torch_recipe(case.model) in block  # the README shows what the helper prints
    io.save(case.model, tmp_path / file)
    monkeypatch.chdir(tmp_path)
    namespace = {}
    exec(compile(block, "README.md", "exec"), namespace)
    rows = namespace["rows"]
    rows = rows.numpy() if hasattr(rows, "numpy") else rows
    y = namespace["y"]
    y = y.detach().numpy() if hasattr(y, "detach") else y
    _close(y, _app(case, rows))
    if "names" in namespace:
        pre = case.model.preprocessing
        assert namespace["names"] == [pre.class_names[k] for k in pre.labels(_app(case, rows))]


# --- the PyTorch script ---------------------------------------------------------------------------
def _run(*args, cwd, timeout=240) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, *map(str, args)], cwd=cwd, env=env, capture_output=True, text=True,
                            timeout=timeout)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


@pytest.mark.parametrize("name", CASES)
def test_script_predicts_like_the_app(cases, tmp_path, name):
    pytest.importorskip("torch")
    case = cases[name]
    io.save(case.model, tmp_path / "model.py")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.py", "model.safetensors"]
    data = _write_csv(tmp_path / "data.csv", case, case.rows)
    _run("model.py", "predict", data, "--out", "pred.csv", cwd=tmp_path)
    with open(tmp_path / "pred.csv", newline="") as f:
        header, *answers = list(csv.reader(f))
    assert header == [case.model.preprocessing.target_name] and len(answers) == len(case.rows.X)
    if case.model.preprocessing.task == "regression":
        _close(np.array([float(a) for a, in answers]), _app(case)[:, 0])
    else:
        assert [a for a, in answers] == list(_app_names(case))


# Files as spreadsheets and other programs write them; each is first checked to read in the app as intended.
MESSY_FILES = {
    "Excel in Europe: Windows-1252, sep=;, decimal comma, CRLF": dict(
        colours=("rouge", "vert pâle", "bleu ciel"), encoding="cp1252", delimiter=";", decimal=",",
        preamble="sep=;\r\n", line_end="\r\n"),
    "UTF-16 with a BOM, tab-separated, a comment line": dict(encoding="utf-16", delimiter="\t",
                                                              preamble="# exported 2026-11-29\n"),
    "no header row": dict(names=("column 1", "column 2", "column 3", "column 4"), header=False),
    "a category with a quoted line break": dict(colours=("red", "New\nYork", "blue")),
}


def _messy_csv(path: Path, case: Case, names=None, colours=None, encoding="utf-8", delimiter=",", decimal=".",
               preamble="", line_end="\n", header=True) -> Path:
    pre = case.model.preprocessing
    buffer = StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=line_end)
    if header:
        writer.writerow([c.name for c in pre.columns] + [pre.target_name])
    for r, (cells, target) in enumerate(zip(_cells(pre, case.rows), case.rows.y)):
        cells = ["#N/A" if not cell and r % 2 else cell for cell in cells]
        writer.writerow([cell.replace(".", decimal) for cell in cells] + [repr(float(target)).replace(".", decimal)])
    path.write_bytes((preamble + buffer.getvalue()).encode(encoding))
    return path


@pytest.mark.parametrize("variant", MESSY_FILES)
def test_script_reads_files_as_the_app_reads_them(tmp_path, variant):
    pytest.importorskip("torch")
    style = MESSY_FILES[variant]
    case = _text_case(**{k: style[k] for k in ("names", "colours") if k in style})
    pre = case.model.preprocessing
    path = _messy_csv(tmp_path / "data.csv", case, **{k: v for k, v in style.items() if k not in ("names", "colours")})
    table = tables.read_table(path)  # the app reads this file as the rows written
    read = table.dataset(pre.target_name, [c.name for c in pre.columns], task="regression", missing="mean")
    np.testing.assert_array_equal(np.isnan(read.X[:, [0, 2]]), np.isnan(case.rows.X[:, [0, 2]]))
    np.testing.assert_allclose(read.X[:, [0, 2]], case.rows.X[:, [0, 2]], rtol=1e-15)
    assert set(table.column(pre.columns[1].name).categories) == set(pre.columns[1].categories) | {"purple"}
    io.save(case.model, tmp_path / "model.py")
    _run("model.py", "predict", path, "--out", "pred.csv", cwd=tmp_path)
    with open(tmp_path / "pred.csv", newline="") as f:
        header, *answers = list(csv.reader(f))
    _close(np.array([float(a) for a, in answers]), _app(case)[:, 0])
    out = _run("model.py", "train", path, "--epochs", "1", "--out", "trained.safetensors", cwd=tmp_path).stdout
    assert re.search(r"epoch 1: cost \S+", out)  # the targets are read as numbers too


@pytest.mark.parametrize("name", CASES)
def test_script_training_takes_the_apps_steps_and_lowers_the_cost(cases, tmp_path, name):
    pytest.importorskip("torch")
    case = cases[name]
    io.save(case.model, tmp_path / "model.py")
    data = _write_csv(tmp_path / "train.csv", case, case.train)
    out = _run("model.py", "train", data, "--epochs", "3", "--out", "trained.safetensors", cwd=tmp_path).stdout
    costs = [float(c) for c in re.findall(r"epoch \d+: cost (\S+)", out)]
    app = case.model.copy()  # the same weights, trained by the app on the same rows
    history = _app_trainer(app).fit(*_encoded(case, case.train), 3)
    np.testing.assert_allclose(costs, history.train_loss, rtol=1e-5)  # printed with 6 digits
    assert costs[-1] < costs[0]
    trained = io.load(tmp_path / "trained.safetensors")  # imports back, with its preprocessing
    assert trained.preprocessing == case.model.preprocessing and trained.training == case.model.training
    for (kernel, bias), (app_kernel, app_bias) in zip(trained.get_weights(), app.get_weights()):
        np.testing.assert_allclose(kernel, app_kernel, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(bias, app_bias, rtol=1e-9, atol=1e-12)


def test_torchrun_trains_data_parallel_on_two_cpu_processes(cases, tmp_path):
    pytest.importorskip("torch")
    case = cases["iris"]
    io.save(case.model, tmp_path / "model.py")
    rows = case.train.subset(np.arange(100))  # 100 rows, batches of 10: each process takes 5 of every batch
    data = _write_csv(tmp_path / "train.csv", case, rows)
    result = _run("-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "model.py", "train", data,
                  "--epochs", "2", "--out", "ddp.safetensors", cwd=tmp_path)
    assert len(re.findall(r"epoch \d+: cost", result.stdout)) == 2  # printed once, by the first process
    trained = io.load(tmp_path / "ddp.safetensors")
    app = case.model.copy()
    history = _app_trainer(app).fit(*_encoded(case, rows), 2)
    costs = [float(c) for c in re.findall(r"epoch \d+: cost (\S+)", result.stdout)]
    np.testing.assert_allclose(costs, history.train_loss, rtol=1e-5)
    for (kernel, bias), (app_kernel, app_bias) in zip(trained.get_weights(), app.get_weights()):
        np.testing.assert_allclose(kernel, app_kernel, rtol=1e-9, atol=1e-12)  # the halves make the app's steps
        np.testing.assert_allclose(bias, app_bias, rtol=1e-9, atol=1e-12)


def _app_trainer(net) -> Trainer:
    t = net.training
    return Trainer(net, t.loss, t.optimizer, t.learning_rate, t.batch_size, t.regularization, t.reg_rate, t.seed)


def _encoded(case: Case, data: Dataset):
    pre = case.model.preprocessing
    return pre.encode(data.X), pre.encode_targets(data.y)


def test_script_refuses_a_csv_without_the_training_columns(cases, tmp_path):
    pytest.importorskip("torch")
    io.save(cases["iris"].model, tmp_path / "model.py")
    (tmp_path / "bad.csv").write_text("sepal_length,petal_width\n1,2\n")
    result = subprocess.run([sys.executable, "model.py", "predict", "bad.csv"], cwd=tmp_path, capture_output=True,
                            text=True)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "bad.csv has no column 'sepal_width'" in result.stderr


def test_a_script_needs_the_preprocessing_and_training_settings(tmp_path):
    with pytest.raises(ValueError, match="needs the model's preprocessing and training settings"):
        io.save(Network(2, [(1, "sigmoid")], seed=0), tmp_path / "model.py")
    assert list(tmp_path.iterdir()) == []


# --- a .safetensors written by PyTorch --------------------------------------------------------------
def _torch_file(tmp_path, model, name="torch.safetensors") -> Path:
    from safetensors.torch import save_file
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, tmp_path / name)
    return tmp_path / name


def test_pytorch_written_safetensors_imports_given_its_activations(tmp_path):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    nn = torch.nn
    model = nn.Sequential(nn.Linear(3, 5), nn.LeakyReLU(), nn.Linear(5, 4), nn.Linear(4, 2, bias=False),
                          nn.Softmax(dim=-1)).double()
    path = _torch_file(tmp_path, model)
    with pytest.raises(ActivationsNeeded, match=r"3 Linear layers \(3→5, 5→4, 4→2\)") as refused:
        io.load(path)
    assert refused.value.layers == [(3, 5, True), (5, 4, False), (4, 2, None)]
    X = np.random.default_rng(0).normal(size=(7, 3))
    expected = model(torch.from_numpy(X)).detach().numpy()
    net = io.load(path, activations=["LeakyReLU", "linear", "softmax"])
    assert net.spec == [(5, "leaky_relu"), (4, "linear"), (2, "softmax")] and net.dtype == np.float64
    np.testing.assert_allclose(net.predict(X), expected, rtol=1e-12, atol=1e-12)
    (tmp_path / "torch.safetensors.json").write_text('{"activations": ["leaky_relu", "linear", "Softmax"]}')
    np.testing.assert_allclose(io.load(path).predict(X), expected, rtol=1e-12, atol=1e-12)  # the sidecar's


@pytest.mark.parametrize("modules, activations, message", [
    (lambda nn: [nn.Linear(2, 3), nn.BatchNorm1d(3), nn.ReLU(), nn.Linear(3, 1)], None,
     r"cannot map tensor '1.(bias|num_batches_tracked|running_mean|running_var|weight)'"),
    (lambda nn: [nn.Linear(2, 3), nn.Dropout(), nn.ReLU(), nn.Linear(3, 1)], None,
     "several modules follow Linear module 0"),
    (lambda nn: [nn.Flatten(), nn.Linear(2, 1)], None, "the first Linear layer is module 1"),
    (lambda nn: [nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)], ["relu"], "1 activations for 2 Linear layers"),
    (lambda nn: [nn.Linear(2, 3), nn.Linear(3, 1)], ["relu", "linear"], "followed directly by another Linear layer"),
    (lambda nn: [nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)], ["linear", "linear"], "name its activation"),
    (lambda nn: [nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)], ["gelu", "linear"], "unknown activation 'gelu'"),
    (lambda nn: [nn.Linear(2, 3).half(), nn.ReLU(), nn.Linear(3, 1)], None, "must be F32 or F64"),
])
def test_what_cannot_be_mapped_is_refused_clearly(tmp_path, modules, activations, message):
    torch = pytest.importorskip("torch")
    path = _torch_file(tmp_path, torch.nn.Sequential(*modules(torch.nn)))
    with pytest.raises(FormatError, match=message):
        io.load(path, activations=activations)


def test_layers_whose_sizes_do_not_chain_are_refused(tmp_path):
    save = pytest.importorskip("safetensors.numpy").save
    path = tmp_path / "odd.safetensors"
    path.write_bytes(save({"0.weight": np.ones((3, 2)), "0.bias": np.ones(3), "2.weight": np.ones((1, 4))}))
    with pytest.raises(FormatError, match="module 2 takes 4 inputs, but the Linear layer before it gives 3"):
        io.load(path, activations=["relu", "linear"])


def test_a_bad_sidecar_is_refused_clearly(tmp_path):
    save = pytest.importorskip("safetensors.numpy").save
    path = tmp_path / "net.safetensors"
    path.write_bytes(save({"0.weight": np.ones((3, 2)), "2.weight": np.ones((1, 3))}))
    for text, message in (('{"activations": "relu"}', "activations must be a list of names"),
                          ('{"activation": ["relu", "linear"]}', "must be {\"activations\""),
                          ('["relu", "linear"]', "must be {\"activations\""), ("{", "not valid JSON")):
        (tmp_path / "net.safetensors.json").write_text(text)
        with pytest.raises(FormatError, match=message):
            io.load(path)


# --- files of every version, projects, and bad model documents ---------------------------------------
def test_a_version_1_file_still_loads_as_a_bare_network(tmp_path):
    net = Network(2, [(3, "tanh"), (1, "sigmoid")], seed=1)
    doc = io.network_to_dict(net)
    assert set(doc) == {"format", "version", "n_inputs", "dtype", "layers"}
    (tmp_path / "old.json").write_text(json.dumps({**doc, "version": 1}))
    model = io.load(tmp_path / "old.json")
    assert model.preprocessing is None and model.training is None
    X = np.random.default_rng(0).normal(size=(4, 2))
    np.testing.assert_array_equal(model.predict_rows(X), net.predict(X))


@pytest.mark.parametrize("change, message", [
    (lambda d: d.update(version=1), "a version 1 file has no preprocessing"),
    (lambda d: d["preprocessing"].update(input_mean=[0.0] * 3, input_std=[1.0] * 3), "must hold 4 finite numbers"),
    (lambda d: [d["preprocessing"][key].pop() for key in ("columns", "input_mean", "input_std")],
     "the preprocessing gives 3 inputs and reads 3 outputs; the network has 4 and 3"),
    (lambda d: d["preprocessing"].update(task="binary", class_names=["a", "b"]), "reads 1 outputs"),
    (lambda d: d["training"].update(optimizer="rmsprop"), "training: unknown optimizer 'rmsprop'"),
    (lambda d: d["training"].update(batch_size=-2), "training: batch_size must be"),
    (lambda d: d["training"].update(loss="hinge"), "training: unknown loss 'hinge'"),
    (lambda d: d["training"].update(momentum=0.5), "training: unknown TrainingConfig settings"),
])
def test_a_bad_preprocessing_or_training_document_is_refused(cases, tmp_path, change, message):
    doc = io.network_to_dict(cases["iris"].model)
    change(doc)
    (tmp_path / "bad.json").write_text(json.dumps(doc))
    with pytest.raises(FormatError, match=message):
        io.load(tmp_path / "bad.json")


def test_a_project_keeps_the_preprocessing_with_its_weights(tmp_path, monkeypatch):
    from core.project import load_project
    from playground import train
    monkeypatch.chdir(tmp_path)
    assert train.main(["--dataset", "house_prices", "--epochs", "2", "--save-project", "p.json"]) == 0
    weights = load_project("p.json").weights
    problem = prepare(DataSpec(source="house_prices"))
    assert weights.preprocessing == problem.preprocessing and weights.training.loss == "mse"
    raw = datasets.load_table("house_prices").X
    _close(weights.predict_rows(raw), problem.preprocessing.decode(weights.predict(problem.preprocessing.encode(raw))))


# --- the base install ---------------------------------------------------------------------------
def _not_in_base_install() -> set:
    """Top-level modules installed here that ``pip install -e .`` would not bring: those of every
    distribution outside the closure of pyproject's ``dependencies``."""
    def name(requirement: str) -> str:
        return re.sub(r"[-_.]+", "-", re.match(r"\s*([A-Za-z0-9._-]+)", requirement)[1]).lower()

    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    base, todo = {"backprop-playground"}, [name(r) for r in dependencies]
    while todo:
        dist = todo.pop()
        if dist in base:
            continue
        base.add(dist)
        try:
            requires = importlib_metadata.requires(dist) or []
        except importlib_metadata.PackageNotFoundError:
            continue
        todo += [name(r) for r in requires if ";" not in r or "extra" not in r.split(";", 1)[1]]  # not extras
    return {module for module, dists in importlib_metadata.packages_distributions().items()
            if not any(name(d) in base for d in dists)}


def test_every_format_exports_on_the_base_install(tmp_path):
    blocked = _not_in_base_install()
    assert {"torch", "onnxruntime", "pytest"} <= blocked and not {"onnx", "safetensors", "numpy"} & blocked
    body = ("from playground import train\n"
            "for name in ('model.safetensors', 'model.onnx', 'model.npz', 'model.json', 'model.py'):\n"
            "    assert train.main(['--dataset', 'iris', '--epochs', '2', '--quiet', '--export', name]) == 0\n"
            "from core import io\n"
            "print(io.load('model.safetensors').answers([[5.1, 3.5, 1.4, 0.2]])[0])\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = run_without(sorted(blocked), body, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.splitlines()[-1] in ("setosa", "versicolor", "virginica")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.json", "model.npz", "model.onnx", "model.py",
                                                          "model.safetensors"]
