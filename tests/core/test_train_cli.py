"""``playground train``: headless training, exports, one-line errors, and no Qt on the way."""
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from core.project import load_project
from playground import train
from blocked_imports import run_without

ROOT = Path(__file__).resolve().parents[2]
QT = ("PySide6", "shiboken6", "pyqtgraph")
# runs playground's command line with Qt made unimportable, and checks nothing of it was loaded
NO_QT = """\
from playground.cli import main
code = main()
assert not [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', 'pyqtgraph', 'playground.app')]
sys.exit(code)
"""


def _playground(*args, cwd):
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY")}
    env["PYTHONPATH"] = str(ROOT)
    return run_without(QT, NO_QT, *args, cwd=cwd, env=env)


def test_train_exports_an_onnx_model_without_qt_or_a_display(tmp_path):
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    result = _playground("train", "--epochs", "5", "--export", "model.onnx", "--save-project", "p.json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "train loss" in result.stdout and "test  loss" in result.stdout and "accuracy" in result.stdout
    net = load_project(tmp_path / "p.json").weights
    X = np.random.default_rng(0).uniform(-5, 5, (20, 2))
    session = ort.InferenceSession(str(tmp_path / "model.onnx"))
    np.testing.assert_allclose(session.run(None, {"input": X})[0], net.predict(X), rtol=1e-6, atol=1e-6)


def test_divergence_ends_with_one_line_and_a_non_zero_status(tmp_path):
    result = _playground("train", "--dataset", "house_prices", "--learning-rate", "1000", "--epochs", "20",
                         "--export", "model.npz", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "diverged" in result.stderr and "lower the learning rate" in result.stderr
    assert not (tmp_path / "model.npz").exists()


def test_help_explains_every_option():
    result = subprocess.run([sys.executable, "-m", "playground", "train", "--help"], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0
    for option in ("--dataset", "--csv", "--target", "--epochs", "--learning-rate", "--optimizer", "--batch-size",
                   "'all' for full-batch", "--loss", "half_squared_error", "--no-standardize", "--seed", "--export",
                   "--save-project",
                   "--quiet", ".safetensors", "exit status"):
        assert option in result.stdout


@pytest.mark.parametrize("args, message", [
    (["--learning-rate", "-1"], "learning_rate must be above 0"),
    (["--csv", "missing.csv"], "cannot read missing.csv"),
    (["--dataset", "iris", "--target", "species"], "--target needs a CSV dataset"),
    (["project.json"], "project.json: the project is not valid JSON"),
    (["--export", "model.safetensors", "--batch-size", "0"], None),  # argparse: exit status 2
    (["--batch-size", "most"], None),
    (["--loss", "hinge"], None),
    (["--dataset", "house_prices", "--loss", "bce"], "loss 'bce' needs a sigmoid output layer, not 'linear'"),
    (["--dataset", "xor", "--no-standardize"], "--standardize and --no-standardize are for tables"),
])
def test_bad_input_ends_with_one_line_on_stderr(tmp_path, monkeypatch, capsys, args, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "project.json").write_text("{ not json")
    if message is None:
        with pytest.raises(SystemExit) as exit_info:
            train.main(args)
        assert exit_info.value.code == 2
        return
    assert train.main(["--epochs", "1", *args]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


def test_csv_training_and_continuing_from_a_saved_project(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    rows = [f"{a:.4f},{b:.4f},{2 * a - b:.4f}" for a, b in X]
    Path("table.csv").write_text("a,b,y\n" + "\n".join(rows) + "\n")
    assert train.main(["--csv", "table.csv", "--target", "y", "--epochs", "4", "--optimizer", "adam",
                       "--learning-rate", "0.01", "--seed", "3", "--save-project", "p.json", "--export", "m.json"]) == 0
    out = capsys.readouterr().out
    assert "accuracy" not in out and "train loss" in out  # regression: no accuracy
    project = load_project("p.json")
    assert project.data.csv_path == str(tmp_path / "table.csv") and project.training.optimizer == "adam"
    assert project.data.seed == project.network.seed == project.training.seed == 3
    assert json.loads(Path("m.json").read_text())["n_inputs"] == 2
    assert train.main(["p.json", "--epochs", "2", "--save-project", "p.json"]) == 0
    assert len(load_project("p.json").history.train_loss) == 6  # continued: 4 + 2 epochs
    assert train.main(["p.json", "--epochs", "1", "--dataset", "iris"]) == 1
    assert "--fresh" in capsys.readouterr().err
    assert train.main(["p.json", "--epochs", "1", "--dataset", "iris", "--fresh"]) == 0


def test_progress_bar_only_on_a_terminal(monkeypatch, capsys):
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    assert train.main(["--epochs", "3", "--dataset", "xor"]) == 0
    assert "3/3" in capsys.readouterr().out
    assert train.main(["--epochs", "3", "--dataset", "xor", "--quiet"]) == 0
    assert "3/3" not in capsys.readouterr().out


def test_full_batch_and_the_lessons_cost_from_the_command_line(tmp_path, monkeypatch, capsys):
    """Squared error on binary targets still reports accuracy; the project keeps "all" and the loss."""
    monkeypatch.chdir(tmp_path)
    assert train.main(["--dataset", "gaussian", "--batch-size", "All", "--loss", "half_mse", "--epochs", "3",
                       "--learning-rate", "0.5", "--save-project", "p.json"]) == 0
    assert "accuracy" in capsys.readouterr().out
    project = load_project("p.json")
    assert (project.training.batch_size, project.training.loss) == ("all", "half_squared_error")
    assert len(project.history.train_loss) == 3 and project.history.train_accuracy[-1] is not None
    assert train.main(["p.json", "--epochs", "1", "--batch-size", "25", "--save-project", "p.json"]) == 0
    assert load_project("p.json").training.batch_size == 25


def test_no_standardize_trains_on_the_raw_table(tmp_path, monkeypatch, capsys):
    """House prices in $1000s, squared: the raw cost is hundreds of times the standardised one."""
    monkeypatch.chdir(tmp_path)
    common = ["--dataset", "house_prices", "--epochs", "1", "--learning-rate", "1e-7", "--batch-size", "all"]
    assert train.main([*common, "--save-project", "raw.json", "--no-standardize"]) == 0
    raw = float(capsys.readouterr().out.split("train loss")[1].split()[0])
    assert train.main(common) == 0
    scaled = float(capsys.readouterr().out.split("train loss")[1].split()[0])
    assert load_project("raw.json").data.standardize is False
    assert raw > 100 * scaled


@pytest.mark.parametrize("option", ["--export", "--save-project"])
def test_an_unwritable_output_is_refused_before_training(tmp_path, monkeypatch, capsys, option):
    monkeypatch.chdir(tmp_path)
    name = "missing/model.npz" if option == "--export" else "missing/p.json"
    assert train.main(["--epochs", "1", option, name]) == 1
    out, err = capsys.readouterr()
    assert out == ""  # nothing trained
    assert re.fullmatch(f"playground train: {option}: cannot write {Path(name).name}: the folder .*missing does not exist\n",
                        err)


@pytest.mark.parametrize("args", [
    ["--epochs", "9" * 100_000],
    ["--epochs", str(2**31)],
    ["--dataset", "x" * 100_000],
    ["--learning-rate", "y" * 100_000],
    ["a.json", "b" * 100_000, "c" * 100_000],
])
def test_a_bad_command_line_is_one_short_line(capsys, args):
    with pytest.raises(SystemExit) as exit_info:
        train.main(args)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and len(err) < 300 and err.startswith("playground train: error: ")


def test_file_errors_are_one_short_line(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    name = "n" * 200 + ".json"
    Path(name).write_text(json.dumps({"format": "backprop-playground-project", "version": 1,
                                      **{f"key{i}": i for i in range(100_000)}}))
    assert train.main([name]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and len(err) < 300 and "unknown keys ['key0', 'key1'" in err
    os.mkfifo("fifo.csv")  # read, it would block for ever
    assert train.main(["--csv", "fifo.csv"]) == 1
    err = capsys.readouterr().err
    assert err == "playground train: cannot read fifo.csv: it is a FIFO (named pipe), not a regular file\n"


def test_a_project_whose_settings_the_window_cannot_show_is_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    doc = {"format": "backprop-playground-project", "version": 1, "data": {"seed": 2**31}}
    Path("p.json").write_text(json.dumps(doc))
    assert train.main(["p.json", "--epochs", "1"]) == 1
    assert "the data seed must be from 0 to 2,147,483,647" in capsys.readouterr().err

# --- CSV files: the choices, the line saying what was read, scores in the target's units ----------------------
def _survey(path, rows=80):
    """No header, semicolons, decimal commas, a row index, a text column and missing cells."""
    rng = np.random.default_rng(1)
    lines = []
    for i in range(rows):
        a, b = rng.normal(size=2).round(3)
        rating = 1 + (i * 7) % 5
        lines.append(f"{i};{a};{'NA' if i % 10 == 3 else b};{'north south'.split()[i % 2]};{rating}".replace(".", ","))
    path.write_text("\n".join(lines) + "\n")


def test_csv_choices_from_the_command_line_and_the_line_saying_what_was_read(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    _survey(tmp_path / "survey.txt")
    assert train.main(["--csv", "survey.txt", "--epochs", "3", "--no-header", "--delimiter", ";",
                       "--target", "column 5", "--features", "column 2, column 3,column 4", "--missing", "drop"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == ("survey.txt: 80 rows × 5 columns, no header row (delimiter ';', decimal comma); "
                      "target 'column 5': classification, 5 classes (1, 2, 3, 4, 5); "
                      "features: column 2, column 3, column 4; 8 rows with missing cells dropped")
    assert "accuracy" in out[1] and "accuracy" in out[2]
    assert train.main(["--csv", "survey.txt", "--epochs", "3", "--no-header", "--target", "column 5",
                       "--task", "regression", "--missing", "median"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].endswith("target 'column 5': regression; features: column 2, column 3, column 4; "
                           "8 missing cells to fill with the training split's medians")  # the index is left out
    assert "RMSE" in out[2] and "(column 5)  R² " in out[2] and "accuracy" not in out[2]


@pytest.mark.parametrize("args, message", [
    (["--dataset", "iris", "--missing", "drop"], "--missing needs a CSV dataset (--csv FILE)"),
    (["--task", "regression", "--no-header"], "--task, --no-header need a CSV dataset (--csv FILE)"),
    (["--csv", "survey.txt", "--no-header"], "survey.txt, line 4, column 'column 3': missing value 'NA'; "
                                             "choose to drop such rows or fill them"),
    (["--csv", "survey.txt", "--features", "column 9"],
     "survey.txt has no column 'column 9'; its columns are 'column 1, column 2, column 3, column 4, column 5'"),
])
def test_bad_csv_choices_end_with_one_line(tmp_path, monkeypatch, capsys, args, message):
    monkeypatch.chdir(tmp_path)
    _survey(tmp_path / "survey.txt")
    assert train.main(["--epochs", "1", *args]) == 1
    err = capsys.readouterr().err
    assert err == f"playground train: {message}\n"


@pytest.mark.parametrize("flag", [["--delimiter", "ab"], ["--task", "ranking"], ["--missing", "guess"],
                                  ["--features", "a,,b"]])
def test_malformed_csv_flags_are_usage_errors(flag):
    with pytest.raises(SystemExit) as exit_info:
        train.main(["--csv", "x.csv", *flag])
    assert exit_info.value.code == 2


def test_a_project_remembers_the_choices_and_warns_when_its_csv_changed(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    _survey(tmp_path / "survey.txt")
    assert train.main(["--csv", "survey.txt", "--epochs", "2", "--no-header", "--delimiter", "semicolon",
                       "--target", "column 5", "--missing", "drop", "--save-project", "p.json"]) == 0
    data = load_project("p.json").data
    assert (data.header, data.delimiter, data.target, data.missing) == (False, ";", "column 5", "drop")
    assert data.csv_fingerprint
    first = capsys.readouterr().out.splitlines()[0]
    assert train.main(["p.json", "--epochs", "1"]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines()[0] == first and captured.err == ""
    _survey(tmp_path / "survey.txt", rows=90)
    assert train.main(["p.json", "--epochs", "1", "--fresh", "--save-project", "p.json"]) == 0
    captured = capsys.readouterr()
    assert captured.err.startswith("playground train: warning: survey.txt has changed since the project was saved (")
    assert captured.out.startswith("survey.txt: 90 rows")
    assert train.main(["p.json", "--epochs", "1"]) == 0  # saved again: the fingerprint is the new file's
    assert capsys.readouterr().err == ""


def test_the_progress_bar_redraws_a_few_times_a_second_not_every_epoch(monkeypatch, capsys):
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    start = time.perf_counter()
    assert train.main(["--epochs", "3000", "--dataset", "xor"]) == 0
    elapsed = time.perf_counter() - start
    out = capsys.readouterr().out
    redraws = out.count("\r")
    assert "3000/3000" in out and redraws >= 2
    assert redraws <= train.REDRAWS_PER_SECOND * elapsed + 3  # tqdm's first and last draw, and rounding
