"""Project files: round trip, CSV paths, migration from version 0, and bad files."""
import copy
import json
import shutil

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from core import io, limits, project as project_module
from core.checkpoints import CheckpointStore
from core.io import FormatError
from core.limits import Cancelled
from core.project import Project, load_project, migrate, open_project, save_project
from core.runs import PinnedRun
from core.spec import DataSpec, NetworkSpec, TrainingConfig, from_dict, prepare
from core.trainer import History


def _trained(data=None, network=None, training=None, epochs=3):
    data, network, training = data or DataSpec(n_samples=60), network or NetworkSpec(), training or TrainingConfig()
    problem = prepare(data)
    net = network.build(problem)
    history = training.build(net, problem).fit(problem.X_train, problem.Y_train, epochs, problem.X_test, problem.Y_test)
    return data, network, training, net, history


def test_round_trip_keeps_settings_weights_and_history(tmp_path):
    data = DataSpec(source="spiral3", n_samples=90, noise=0.2, features=["x1", "x2", "x1x2"], seed=4)
    network = NetworkSpec(hidden=[[6, "relu"], [5, "swish"]], seed=2, dtype="float32")
    training = TrainingConfig(learning_rate=0.01, optimizer="adam", batch_size=16, regularization="l2", reg_rate=1e-3)
    data, network, training, net, history = _trained(data, network, training)
    save_project(tmp_path / "p.json", data, network, training, net, history)
    project = load_project(tmp_path / "p.json")
    assert (project.data, project.network, project.training) == (data, network, training)
    assert project.history == history and len(project.history.train_loss) == 3
    X = prepare(data).X_test
    np.testing.assert_array_equal(project.weights.predict(X), net.predict(X))


def test_full_batch_is_stored_as_all_and_read_back(tmp_path):
    training = TrainingConfig(batch_size=" All ", loss="Half_MSE")
    assert (training.batch_size, training.loss) == ("all", "half_squared_error")
    save_project(tmp_path / "p.json", DataSpec(), NetworkSpec(), training)
    assert json.loads((tmp_path / "p.json").read_text())["training"]["batch_size"] == "all"
    assert load_project(tmp_path / "p.json").training == training


def test_settings_only_project_has_no_weights_or_history(tmp_path):
    save_project(tmp_path / "p.json", DataSpec(), NetworkSpec(), TrainingConfig())
    assert load_project(tmp_path / "p.json") == Project()
    doc = json.loads((tmp_path / "p.json").read_text())
    assert (doc["format"], doc["version"]) == ("backprop-playground-project", 3) and "weights" not in doc


def test_csv_inside_the_project_folder_is_stored_relative_and_moves_with_it(tmp_path):
    folder = tmp_path / "work"
    (folder / "data").mkdir(parents=True)
    rows = "\n".join(f"{i},{i % 7},{int(i % 7 > 3)}" for i in range(40))
    (folder / "data" / "table.csv").write_text("a,b,label\n" + rows + "\n")
    data = DataSpec(source="csv", csv_path=str(folder / "data" / "table.csv"), target="label")
    save_project(folder / "p.json", data, NetworkSpec(), TrainingConfig())
    assert json.loads((folder / "p.json").read_text())["data"]["csv_path"] == "data/table.csv"
    shutil.move(folder, tmp_path / "moved")
    project = load_project(tmp_path / "moved" / "p.json")
    assert project.data.csv_path == str(tmp_path / "moved" / "data" / "table.csv")
    assert prepare(project.data).task == "binary"


def test_csv_outside_the_project_folder_is_stored_absolute(tmp_path):
    (tmp_path / "projects").mkdir()
    data = DataSpec(source="csv", csv_path=str(tmp_path / "table.csv"))
    save_project(tmp_path / "projects" / "p.json", data, NetworkSpec(), TrainingConfig())
    doc = json.loads((tmp_path / "projects" / "p.json").read_text())
    assert doc["data"]["csv_path"] == str(tmp_path / "table.csv")


VERSION_0 = {  # the first layout: flat keys, "dataset" for the source, one seed for everything
    "format": "backprop-playground-project", "version": 0,
    "dataset": "xor", "noise": 0.1, "n_samples": 80, "features": ["x1", "x2"],
    "hidden": [[3, "tanh"]], "learning_rate": 0.1, "optimizer": "momentum", "seed": 7,
    "history": {"train_loss": [0.7, 0.6], "train_accuracy": [0.5, 0.6], "test_loss": [], "test_accuracy": []},
}


def test_version_0_is_migrated(tmp_path):
    doc = migrate(VERSION_0)
    assert doc["version"] == 3 and doc["data"]["source"] == "xor" and doc["training"]["optimizer"] == "momentum"
    (tmp_path / "old.json").write_text(json.dumps(VERSION_0))
    project = load_project(tmp_path / "old.json")
    assert project.data == DataSpec(source="xor", noise=0.1, n_samples=80, seed=7)
    assert project.network == NetworkSpec(hidden=[[3, "tanh"]], seed=7)
    assert project.training == TrainingConfig(learning_rate=0.1, optimizer="momentum", seed=7)
    assert project.history.train_loss == [0.7, 0.6]


def test_a_history_saved_before_test_epochs_has_a_test_figure_per_epoch(tmp_path):
    doc = _doc()
    del doc["history"]["test_epoch"]
    (tmp_path / "p.json").write_text(json.dumps(doc))
    assert load_project(tmp_path / "p.json").history.test_epoch == [1, 2]


def test_newer_version_is_refused_clearly(tmp_path):
    (tmp_path / "new.json").write_text(json.dumps({"format": "backprop-playground-project", "version": 4}))
    with pytest.raises(FormatError, match="new.json: version 4 was written by a newer Backprop Playground"):
        load_project(tmp_path / "new.json")


def _doc():
    data, network, training, net, history = _trained(epochs=2)
    return {"format": "backprop-playground-project", "version": 1, "data": vars(data), "network": vars(network),
            "training": vars(training), "weights": io.network_to_dict(net), "history": vars(history)}


def _checkpoints(data, network, training, epochs, store=None):
    """A store with a checkpoint (and the trainer's state) at every epoch of a run of these settings."""
    store = store or CheckpointStore()
    problem = prepare(data)
    net = network.build(problem)
    trainer = training.build(net, problem)
    store.add(0, net.get_weights(), trainer.state_dict())
    trainer.fit(problem.X_train, problem.Y_train, epochs,
                callback=lambda stats: store.add(stats.epoch, net.get_weights(), trainer.state_dict()))
    return store


def _with_runs_and_checkpoints(doc):
    """A version 3 document of ``_doc()``'s settings with two pinned runs and checkpoints."""
    data, network, training = (from_dict(cls, doc[name]) for name, cls in project_module.SECTIONS.items())
    run = copy.deepcopy({"label": "", **{key: doc[key] for key in ("data", "network", "training", "history", "weights")}})
    return dict(doc, version=3, runs=[run, dict(copy.deepcopy(run), label="again")],
                checkpoints=_checkpoints(data, network, training, 2).to_dict())


def _run_of(change):
    def apply(doc):
        doc.update(_with_runs_and_checkpoints(doc))
        change(doc["runs"][1])
    return apply


def _with(section, **values):
    def change(doc):
        doc[section].update(values)
    return change


BAD = {  # name: (change to a valid document, what the message must say)
    "unknown top-level key": (lambda d: d.update(extra=1), r"unknown keys \['extra'\]"),
    "wrong format": (lambda d: d.update(format="other"), "format is 'other'"),
    "version as text": (lambda d: d.update(version="1"), "version must be a non-negative integer"),
    "unknown setting": (_with("training", momentum=0.5), r"training: unknown TrainingConfig settings \['momentum'\]"),
    "wrong type": (_with("data", n_samples="500"), "data.n_samples must be <class 'int'>, got '500'"),
    "boolean for a number": (_with("training", learning_rate=True), "training.learning_rate must be"),
    "unknown dataset": (_with("data", source="mnist"), "unknown dataset 'mnist'"),
    "unknown feature": (_with("data", features=["x3"]), r"unknown input features \['x3'\]"),
    "unknown activation": (_with("network", hidden=[[4, "gelu"]]), "unknown activation 'gelu'"),
    "absurd layer": (_with("network", hidden=[[10**9, "tanh"]]), "hidden layer 0 units must be from 1 to 100,000"),
    "softmax hidden": (_with("network", hidden=[[4, "softmax"]]), "softmax is for the output layer only"),
    "unknown optimizer": (_with("training", optimizer="rmsprop"), "unknown optimizer 'rmsprop'"),
    "negative learning rate": (_with("training", learning_rate=-1.0), "learning_rate must be above 0"),
    "batch size in words": (_with("training", batch_size="half"), "batch_size must be a positive integer or 'all'"),
    "unknown loss": (_with("training", loss="hinge"), "training: unknown loss 'hinge'; expected one of mse, half_"),
    "batch size as a float": (_with("training", batch_size=2.5), "training.batch_size must be"),
    "weights of another shape": (_with("network", hidden=[[5, "tanh"]]), "do not match the network's hidden layers"),
    "bad weights": (lambda d: d["weights"]["layers"][0].update(bias=[1.0]),
                    r"bias_0 has length 1; the config says shape \(4,\)"),
    "history of text": (lambda d: d["history"].update(train_loss=["low"]), "history.train_loss must be a list"),
    "test epochs out of order": (lambda d: d["history"].update(test_epoch=[2, 1]), "history.test_epoch must number"),
    "test epoch after the last": (lambda d: d["history"].update(test_epoch=[1, 3]), "history.test_epoch must number"),
    "accuracy missing an epoch": (lambda d: d["history"].update(test_accuracy=[0.5]), "history.test_accuracy must have"),
    "section not an object": (lambda d: d.update(data=[1]), "DataSpec must be an object"),
    "runs not a list": (lambda d: d.update(runs={}), "runs must be a list of at most 8"),
    "nine runs": (lambda d: d.update(runs=_with_runs_and_checkpoints(d)["runs"] * 5), "runs must be a list of at most 8"),
    "run without a label": (_run_of(lambda r: r.pop("label")), "run 1: expected label"),
    "run label not text": (_run_of(lambda r: r.update(label=3)), "run 1: label must be text"),
    "run shown in words": (_run_of(lambda r: r.update(shown="no")), "run 1: shown must be true or false"),
    "negative target cost": (lambda d: d.update(target_cost=-1), "target_cost must be from 0 to 1e"),
    "run of an unknown optimizer": (_run_of(lambda r: r["training"].update(optimizer="rmsprop")),
                                    "run 1: unknown optimizer 'rmsprop'"),
    "run weights of another shape": (_run_of(lambda r: r["network"].update(hidden=[[3, "tanh"]])),
                                     "run 1: the weights .* do not match"),
    "run history of text": (_run_of(lambda r: r["history"].update(train_loss="low")), "run 1: history.train_loss"),
    "checkpoints of another network": (lambda d: d.update(checkpoints=_checkpoints(
        DataSpec(n_samples=60), NetworkSpec(hidden=[[3, "tanh"]]), TrainingConfig(), 1).to_dict()),
        "the checkpoints' layers .* do not match the network's hidden layers"),
    "bad checkpoints": (lambda d: d.update(checkpoints={"format": "x"}), "format is 'x'"),
}


@pytest.mark.parametrize("name", BAD)
def test_bad_project_raises_format_error_saying_what_is_wrong(tmp_path, name):
    change, message = BAD[name]
    doc = _doc()
    change(doc)
    (tmp_path / "p.json").write_text(json.dumps(doc))
    with pytest.raises(FormatError, match=message):
        load_project(tmp_path / "p.json")


@pytest.mark.parametrize("text", [b"", b"{", b"\xff\xfe", b"[" * 100_000, b"null"])
def test_unreadable_text_raises_format_error(tmp_path, text):
    (tmp_path / "p.json").write_bytes(text)
    with pytest.raises(FormatError, match="p.json: "):
        load_project(tmp_path / "p.json")


@pytest.fixture(scope="module")
def saved_project(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("valid") / "p.json"
    data, network, training, net, history = _trained(network=NetworkSpec(hidden=[[2, "tanh"]]),
                                                     training=TrainingConfig(optimizer="adam"), epochs=1)
    run = PinnedRun(data, network, training, history, net, "first")
    save_project(path, data, network, training, net, history, checkpoints=_checkpoints(data, network, training, 1),
                 runs=(run,))
    return path.read_bytes()


@settings(max_examples=100, deadline=None)
@given(position=st.integers(0, 10**6), junk=st.binary(min_size=1, max_size=16))
def test_corrupted_project_loads_or_raises_format_error_only(tmp_path_factory, saved_project, position, junk):
    path = tmp_path_factory.getbasetemp() / "corrupt.json"
    text = bytearray(saved_project)
    position %= len(text)
    text[position:position + len(junk)] = junk
    path.write_bytes(bytes(text))
    try:
        load_project(path)
    except FormatError:
        pass


def test_failed_save_keeps_the_old_project(tmp_path, monkeypatch):
    save_project(tmp_path / "p.json", DataSpec(), NetworkSpec(), TrainingConfig())
    before = (tmp_path / "p.json").read_bytes()

    def fail(*args):
        raise OSError("disk full")

    monkeypatch.setattr(io.os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        save_project(tmp_path / "p.json", DataSpec(source="xor"), NetworkSpec(), TrainingConfig())
    assert (tmp_path / "p.json").read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["p.json"]


def test_history_with_regression_accuracy_nulls_round_trips(tmp_path):
    history = History(train_loss=[1.0, 0.5], train_accuracy=[None, None])
    save_project(tmp_path / "p.json", DataSpec(source="reg_plane"), NetworkSpec(), TrainingConfig(), history=history)
    assert load_project(tmp_path / "p.json").history == history


def test_a_run_saved_with_its_trainer_state_continues_exactly_as_if_never_closed(tmp_path):
    """Adam's moments, the shuffling and the epoch count are saved: the loss trajectory goes on unchanged."""
    data, network = DataSpec(n_samples=80), NetworkSpec(hidden=[[5, "tanh"]])
    training = TrainingConfig(optimizer="adam", learning_rate=0.02, batch_size=7)
    problem = prepare(data)
    net = network.build(problem)
    trainer = training.build(net, problem)
    straight = trainer.fit(problem.X_train, problem.Y_train, 6).train_loss

    net = network.build(problem)
    trainer = training.build(net, problem)
    first = trainer.fit(problem.X_train, problem.Y_train, 3)
    save_project(tmp_path / "p.json", data, network, training, net, first, trainer.state_dict())
    project = load_project(tmp_path / "p.json")
    reopened = training.build(project.weights, problem)
    reopened.load_state_dict(project.trainer_state)
    assert reopened.epoch == 3
    assert first.train_loss + reopened.fit(problem.X_train, problem.Y_train, 3).train_loss == straight


def test_a_version_1_file_opens_without_a_trainer_state(tmp_path):
    doc = _doc()
    (tmp_path / "p.json").write_text(json.dumps(doc))
    project = load_project(tmp_path / "p.json")
    assert project.weights is not None and project.trainer_state is None


# --- pinned runs and checkpoints --------------------------------------------------------------
def test_pinned_runs_and_checkpoints_round_trip(tmp_path):
    data, network, training, net, history = _trained(training=TrainingConfig(optimizer="adam"))
    other = TrainingConfig(optimizer="sgd", learning_rate=0.1)
    runs = []
    for specs, label in (((data, network, other), "fast"),
                         ((data, NetworkSpec(hidden=[[6, "relu"]], dtype="float32"), training), "")):
        *_, run_net, run_history = _trained(*specs, epochs=5)
        runs.append(PinnedRun(*specs, run_history, run_net, label))
    store = _checkpoints(data, network, training, 3)
    save_project(tmp_path / "p.json", data, network, training, net, history, checkpoints=store, runs=runs)
    project = load_project(tmp_path / "p.json")
    assert len(project.runs) == 2 and project.runs[0].label == "fast" and project.runs[1].label == ""
    X = prepare(data).X_test
    for saved, loaded in zip(runs, project.runs):
        assert (loaded.data, loaded.network, loaded.training) == (saved.data, saved.network, saved.training)
        assert loaded.history == saved.history
        np.testing.assert_array_equal(loaded.weights.predict(X), saved.weights.predict(X))
    assert project.checkpoints.epochs == store.epochs == [0, 1, 2, 3]
    for saved, loaded in zip(store, project.checkpoints):
        for (k, b), (k2, b2) in zip(saved.weights, loaded.weights):
            np.testing.assert_array_equal(k, k2)
            np.testing.assert_array_equal(b, b2)
        assert loaded.trainer_state["rng"] == saved.trainer_state["rng"]


def test_a_version_1_project_opens_without_runs_or_checkpoints(tmp_path):
    (tmp_path / "p.json").write_text(json.dumps(_doc()))
    project = load_project(tmp_path / "p.json")
    assert project.runs == () and project.checkpoints is None and len(project.history.train_loss) == 2


def test_a_version_3_document_with_runs_and_checkpoints_loads(tmp_path):
    (tmp_path / "p.json").write_text(json.dumps(_with_runs_and_checkpoints(_doc())))
    project = load_project(tmp_path / "p.json")
    assert [run.label for run in project.runs] == ["", "again"] and project.checkpoints.epochs == [0, 1, 2]


def test_checkpoints_beyond_the_saved_share_are_saved_thinned(tmp_path, monkeypatch):
    data, network, training, net, history = _trained()
    store = _checkpoints(data, network, training, 40)
    monkeypatch.setattr(project_module, "MAX_SAVED_CHECKPOINT_BYTES", store.nbytes // 3)
    save_project(tmp_path / "p.json", data, network, training, net, history, checkpoints=store)
    saved = load_project(tmp_path / "p.json").checkpoints
    assert saved.nbytes <= store.nbytes // 3 and saved.epochs[-1] == 40 and saved.epochs[0] == 0
    assert store.epochs == list(range(41))  # the store itself is untouched


def test_hidden_runs_and_the_target_cost_are_saved(tmp_path):
    data, network, training, net, history = _trained()
    runs = (PinnedRun(data, network, training, history, net), PinnedRun(data, network, training, history, net,
                                                                         "hidden", shown=False))
    save_project(tmp_path / "p.json", data, network, training, net, history, runs=runs, target_cost=0.3)
    project = load_project(tmp_path / "p.json")
    assert [run.shown for run in project.runs] == [True, False] and project.target_cost == 0.3
    save_project(tmp_path / "q.json", data, network, training, net, history)
    assert load_project(tmp_path / "q.json").target_cost is None


def test_checkpoints_give_way_to_pinned_runs_so_that_the_project_still_fits(tmp_path, monkeypatch):
    data, network, training, net, history = _trained()
    store = _checkpoints(data, network, training, 200)
    run = PinnedRun(data, network, training, history, net)
    path = tmp_path / "p.json"
    save_project(path, data, network, training, net, history, checkpoints=store, runs=(run,) * 8)
    whole = path.stat().st_size
    monkeypatch.setitem(limits.MAX_FILE_BYTES, ".json", whole * 2 // 3)  # room for the runs, not every checkpoint
    save_project(path, data, network, training, net, history, checkpoints=store, runs=(run,) * 8)
    saved = load_project(path)
    assert path.stat().st_size <= whole * 2 // 3 and len(saved.runs) == 8
    assert 1 < len(saved.checkpoints) < 201 and saved.checkpoints.epochs[-1] == 200


def test_a_project_too_large_to_open_again_is_not_written(tmp_path, monkeypatch):
    data, network, training, net, history = _trained()
    run = PinnedRun(data, network, training, history, net)
    monkeypatch.setitem(limits.MAX_FILE_BYTES, ".json", 5_000)
    with pytest.raises(ValueError, match=r"the project would take .* KiB, more than the 4.9 KiB a .json file may hold: "
                                         "pin fewer runs or lower the checkpoint memory"):
        save_project(tmp_path / "p.json", data, network, training, net, history, runs=(run,) * 8)
    assert list(tmp_path.iterdir()) == []


def test_more_than_eight_runs_are_not_saved(tmp_path):
    data, network, training, net, history = _trained(epochs=1)
    run = PinnedRun(data, network, training, history, net)
    with pytest.raises(ValueError, match="9 pinned runs; a project keeps at most 8"):
        save_project(tmp_path / "p.json", data, network, training, runs=(run,) * 9)
    assert list(tmp_path.iterdir()) == []


def test_a_project_with_a_byte_order_mark_is_read(tmp_path):
    save_project(tmp_path / "p.json", DataSpec(source="xor"), NetworkSpec(), TrainingConfig())
    (tmp_path / "bom.json").write_bytes(b"\xef\xbb\xbf" + (tmp_path / "p.json").read_bytes())
    assert load_project(tmp_path / "bom.json") == load_project(tmp_path / "p.json")


def test_opening_prepares_the_data_and_checks_the_weights_fit_them(tmp_path):
    data, network, training, net, history = _trained(DataSpec(source="iris", test_fraction=0.3))
    save_project(tmp_path / "p.json", data, network, training, net, history)
    project, problem = open_project(tmp_path / "p.json")
    np.testing.assert_array_equal(problem.X_train, prepare(data).X_train)
    assert project.weights.spec == net.spec
    doc = json.loads((tmp_path / "p.json").read_text())
    doc["data"]["source"] = "house_prices"  # the same hidden layers load, but 12 inputs and 1 output need others
    (tmp_path / "other.json").write_text(json.dumps(doc))
    load_project(tmp_path / "other.json")
    with pytest.raises(FormatError, match=r"other.json: the saved weights \(4 inputs, .*do not fit the network on "
                                          r"this data \(12 inputs"):
        open_project(tmp_path / "other.json")


def test_opening_refuses_a_loss_that_does_not_fit_the_output(tmp_path):
    save_project(tmp_path / "p.json", DataSpec(source="iris"), NetworkSpec(), TrainingConfig(loss="bce"))
    load_project(tmp_path / "p.json")
    with pytest.raises(FormatError, match="loss 'bce' needs a sigmoid output layer"):
        open_project(tmp_path / "p.json")


def test_what_loading_would_refuse_is_never_saved(tmp_path):
    with pytest.raises(ValueError, match="the data seed must be from 0 to 2,147,483,647"):
        save_project(tmp_path / "p.json", DataSpec(seed=2**31), NetworkSpec(), TrainingConfig())
    long = History(train_loss=[0.5] * (limits.MAX_EPOCHS + 1))
    with pytest.raises(ValueError, match="a history of 1,000,001 epochs; projects keep at most 1,000,000"):
        save_project(tmp_path / "p.json", DataSpec(), NetworkSpec(), TrainingConfig(), history=long)
    assert list(tmp_path.iterdir()) == []


def test_opening_stops_on_request(tmp_path):
    save_project(tmp_path / "p.json", DataSpec(n_samples=10_000), NetworkSpec(), TrainingConfig())
    with pytest.raises(Cancelled):
        open_project(tmp_path / "p.json", should_stop=lambda: True)
