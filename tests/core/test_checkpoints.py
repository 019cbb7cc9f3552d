"""Checkpoints: the keep policy within the budget, scrubbing, training from a checkpoint, files, recovery."""
import copy
import json
import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from core import DivergenceError, History, Network
from core.checkpoints import DEFAULT_BUDGET, CheckpointStore, has_climbed, recovery_checkpoint
from core.io import FormatError
from core.spec import DataSpec, NetworkSpec, TrainingConfig, prepare


def _weights(seed=0, layers=((4, "tanh"), (1, "sigmoid")), dtype=np.float64):
    return Network(2, list(layers), seed=seed, dtype=dtype).get_weights()


def _nbytes(weights) -> int:
    return sum(kernel.nbytes + bias.nbytes for kernel, bias in weights)


def _train(epochs, store=None, training=None, hidden=((8, "tanh"), (8, "tanh")), data=None, snapshot=None):
    """A real run on the circle set, adding a checkpoint (with the trainer's state) at every epoch.
    Returns (problem, network, trainer, history)."""
    problem = prepare(data or DataSpec(n_samples=120))
    net = NetworkSpec(hidden=hidden, seed=1).build(problem)
    trainer = (training or TrainingConfig(optimizer="adam", learning_rate=0.01, batch_size=7, seed=2)).build(net, problem)
    history = History()
    if store is not None:
        store.add(0, net.get_weights(), trainer.state_dict())

    def keep(stats):
        history.append(stats)
        if store is not None:
            store.add(stats.epoch, net.get_weights(), trainer.state_dict())
        if snapshot is not None:
            snapshot(stats.epoch, net)

    if snapshot is not None:
        snapshot(0, net)
    trainer.fit(problem.X_train, problem.Y_train, epochs, problem.X_test, problem.Y_test, callback=keep)
    return problem, net, trainer, history


# --- the keep policy --------------------------------------------------------------------------
def test_every_epoch_is_kept_while_the_budget_allows():
    store = CheckpointStore(budget=10**6)
    for epoch in range(50):
        store.add(epoch, _weights(epoch))
    assert store.epochs == list(range(50))
    assert store.nbytes == sum(c.nbytes for c in store) <= store.budget


def test_the_budget_holds_over_100000_epochs_of_a_2_64_64_64_1_network():
    """Adds as training would make them, one per epoch, with the default 100 MiB budget."""
    weights = _weights(layers=((64, "tanh"), (64, "tanh"), (64, "tanh"), (1, "sigmoid")))
    store = CheckpointStore()
    largest = 0
    for epoch in range(100_001):
        store.add(epoch, weights)
        largest = max(largest, store.nbytes)
    assert store.budget == DEFAULT_BUDGET and largest <= DEFAULT_BUDGET
    assert store.nbytes == sum(c.nbytes for c in store)  # the running count is the checkpoints' own
    assert len(store) * _nbytes(weights) < DEFAULT_BUDGET < (len(store) + 1) * (_nbytes(weights) + 2048)  # nearly full
    epochs = store.epochs
    assert epochs[:101] == list(range(101))  # every epoch at first
    assert epochs[-store.recent:] == list(range(100_001 - store.recent, 100_001))  # the most recent few
    gaps = np.diff(np.log1p(epochs[:-store.recent]))  # the rest evenly spread on a log-scaled axis
    assert gaps[100:].max() < 3 * np.median(gaps[100:])


def test_nbytes_accounts_for_the_memory_really_held():
    """tracemalloc measures what the store allocates, trainer states included."""
    problem = prepare(DataSpec(n_samples=60))
    for optimizer in (None, "sgd", "adam"):
        for hidden in (((1, "linear"),), ((3, "tanh"),) * 5):
            net = NetworkSpec(hidden=hidden).build(problem)
            state = None
            if optimizer:
                trainer = TrainingConfig(optimizer=optimizer).build(net, problem)
                trainer.fit(problem.X_train, problem.Y_train, 1)
                state = trainer.state_dict()
            weights = net.get_weights()
            tracemalloc.start()
            try:
                start = tracemalloc.get_traced_memory()[0]
                store = CheckpointStore(budget=200_000, max_count=10**6)
                for epoch in range(1_000):
                    store.add(epoch, weights, state)
                    assert tracemalloc.get_traced_memory()[0] - start <= store.budget + 50_000  # + one transient add
                held = tracemalloc.get_traced_memory()[0] - start
            finally:
                tracemalloc.stop()
            # an upper bound, and not a wasteful one (NumPy reuses small buffers unseen, so the real share varies)
            assert 0.6 * store.nbytes < held <= store.nbytes, (optimizer, hidden)


def test_a_network_larger_than_the_budget_keeps_its_latest_checkpoint():
    store = CheckpointStore(budget=100)
    for epoch in range(5):
        store.add(epoch, _weights(epoch))
        assert store.epochs == [epoch]
        np.testing.assert_array_equal(store.latest.weights[0][0], _weights(epoch)[0][0])


def test_a_tight_budget_gives_up_the_older_recent_ones_then_the_first():
    size = CheckpointStore()
    size.add(0, _weights())
    one = size.nbytes
    store = CheckpointStore(budget=3 * one, recent=10)
    for epoch in range(20):
        store.add(epoch, _weights(epoch))
    assert store.epochs == [0, 18, 19]
    store.budget = 2 * one
    assert store.epochs == [0, 19]


def test_more_than_max_count_are_thinned_too():
    store = CheckpointStore(max_count=30, recent=5)
    for epoch in range(1_000):
        store.add(epoch, _weights())
    assert len(store) == 30 and store.epochs[0] == 0 and store.epochs[-5:] == list(range(995, 1_000))


def test_lowering_the_budget_thins_and_a_copy_is_independent():
    store = CheckpointStore()
    for epoch in range(200):
        store.add(epoch, _weights(epoch))
    smaller = store.copy(budget=store.nbytes // 4)
    assert len(store) == 200 and smaller.nbytes <= store.nbytes // 4
    assert set(smaller.epochs) < set(store.epochs) and smaller.epochs[-1] == 199
    smaller.add(200, _weights())
    assert store.epochs[-1] == 199


# --- adding and reading -------------------------------------------------------------------------
def test_checkpoints_are_read_only_copies():
    weights = _weights()
    store = CheckpointStore()
    store.add(3, weights)
    kept = store.at(3).weights[0][0]
    weights[0][0][...] = 7.0
    assert not np.any(kept == 7.0)
    with pytest.raises(ValueError, match="read-only"):
        kept[0, 0] = 1.0


@pytest.mark.parametrize("epoch, weights, state, message", [
    (5, _weights(), None, "epochs must increase: epoch 5 after 5"),
    (6, [(np.full((2, 4), np.nan), np.zeros(4)), (np.zeros((4, 1)), np.zeros(1))], None, "NaN or infinite"),
    (6, _weights(layers=((3, "tanh"), (1, "sigmoid"))), None, "weights of another network"),
    (6, _weights(dtype=np.float32), None, "weights of another network"),
    (6, [(np.zeros((2, 4)), np.zeros(3))], None, "do not fit"),
    (6, _weights(), {"optimizer": {"name": "rmsprop"}}, "not a trainer's state"),
    (-1, _weights(), None, "epoch must be a non-negative integer"),
])
def test_bad_additions_are_refused_and_change_nothing(epoch, weights, state, message):
    store = CheckpointStore()
    store.add(5, _weights())
    with pytest.raises(ValueError, match=message):
        store.add(epoch, weights, state)
    assert store.epochs == [5]


def test_nearest_and_at():
    store = CheckpointStore()
    for epoch in (0, 4, 10):
        store.add(epoch, _weights(epoch))
    assert [store.nearest(e).epoch for e in (-3, 0, 1, 2, 3, 7, 8, 10, 500)] == [0, 0, 0, 0, 4, 4, 10, 10, 10]
    assert store.at(4).epoch == 4 and store.at_or_before(9).epoch == 4 and store.at_or_before(-1) is None
    with pytest.raises(KeyError, match="no checkpoint at epoch 5"):
        store.at(5)
    with pytest.raises(LookupError, match="no checkpoints yet"):
        CheckpointStore().nearest(3)


# --- scrubbing and training from a checkpoint ---------------------------------------------------
def test_scrubbing_to_a_checkpoint_shows_exactly_its_weights():
    """The predictions of a checkpoint's weights are those the network made at that epoch."""
    grid = np.stack(np.meshgrid(np.linspace(-6, 6, 25), np.linspace(-6, 6, 25)), axis=-1).reshape(-1, 2)
    seen = {}
    store = CheckpointStore(max_count=40)  # thinned, so that there are gaps to scrub across
    _train(120, store, snapshot=lambda epoch, net: seen.__setitem__(epoch, net.predict(grid)))
    assert len(store) < 121 and len(set(np.diff(store.epochs))) > 1
    viewer = NetworkSpec(hidden=((8, "tanh"), (8, "tanh")), seed=99).build(prepare(DataSpec(n_samples=120)))
    for epoch in range(121):
        checkpoint = store.nearest(epoch)
        viewer.set_weights(checkpoint.weights)
        np.testing.assert_array_equal(viewer.predict(grid), seen[checkpoint.epoch])


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_training_from_a_checkpoint_continues_exactly_as_it_went(optimizer):
    """Train from epoch 12, through a project file's JSON: the same weights and costs as the first run."""
    training = TrainingConfig(optimizer=optimizer, learning_rate=0.02, batch_size=7, seed=5)
    store = CheckpointStore()
    kept = {}
    problem, net, _, history = _train(30, store, training, snapshot=lambda e, n: kept.__setitem__(e, n.get_weights()))
    dropped = store.truncate_after(12)
    assert [c.epoch for c in dropped] == list(range(13, 31)) and store.latest.epoch == 12
    restored = CheckpointStore.from_dict(json.loads(json.dumps(store.to_dict())))
    net_b = NetworkSpec(hidden=((8, "tanh"), (8, "tanh")), seed=123).build(problem)
    trainer_b = training.build(net_b, problem)
    net_b.set_weights(restored.latest.weights)
    trainer_b.load_state_dict(restored.latest.trainer_state)
    later = History()

    def compare(stats):
        later.append(stats)
        for (kernel, bias), (kernel_a, bias_a) in zip(net_b.get_weights(), kept[stats.epoch]):
            np.testing.assert_array_equal(kernel, kernel_a)
            np.testing.assert_array_equal(bias, bias_a)

    trainer_b.fit(problem.X_train, problem.Y_train, 18, problem.X_test, problem.Y_test, callback=compare)
    timeline = history.up_to(12)
    assert len(timeline.train_loss) == 12 and history.train_loss[:12] == timeline.train_loss
    timeline.extend(later)
    assert timeline == history
    store.add(13, net_b.get_weights())  # the new future goes on the timeline
    assert store.epochs[-2:] == [12, 13]


# --- files --------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_store_round_trips_exactly_and_compactly(dtype):
    problem = prepare(DataSpec(n_samples=80))
    store = CheckpointStore(budget=5 * 2**20, recent=4, max_count=500)
    net = NetworkSpec(hidden=((16, "relu"), (16, "relu")), dtype=np.dtype(dtype).name).build(problem)
    trainer = TrainingConfig(optimizer="adam").build(net, problem)
    store.add(0, net.get_weights())  # no trainer state
    trainer.fit(problem.X_train, problem.Y_train, 5,
                callback=lambda stats: store.add(stats.epoch, net.get_weights(), trainer.state_dict()))
    text = json.dumps(store.to_dict())
    back = CheckpointStore.from_dict(json.loads(text))
    assert (back.budget, back.recent, back.max_count, back.epochs) == (5 * 2**20, 4, 500, [0, 1, 2, 3, 4, 5])
    assert back.nbytes == store.nbytes
    for a, b in zip(store, back):
        for (ka, ba), (kb, bb) in zip(a.weights, b.weights):
            assert kb.dtype == dtype and not kb.flags.writeable
            np.testing.assert_array_equal(ka, kb)
            np.testing.assert_array_equal(ba, bb)
    assert back.at(0).trainer_state is None
    state_a, state_b = store.latest.trainer_state, back.latest.trainer_state
    assert {k: v for k, v in state_a.items() if k != "optimizer"} == {k: v for k, v in state_b.items() if k != "optimizer"}
    for name in ("m", "v"):
        for a, b in zip(state_a["optimizer"][name], state_b["optimizer"][name]):
            np.testing.assert_array_equal(a, b)
    arrays = sum(_nbytes(c.weights) * (1 if c.trainer_state is None else 3) for c in store)
    # base64 is 4/3 of the bytes, and each checkpoint's keys, shuffling state and step counts fit in 600
    # characters more; number lists would take about three times the bytes
    assert len(text) < 4 / 3 * arrays + 600 * len(store)


def _document():
    store = CheckpointStore()
    problem, net, trainer, _ = _train(2, store, hidden=((3, "tanh"),), data=DataSpec(n_samples=30))
    return json.loads(json.dumps(store.to_dict()))


def _entry(change):
    def apply(doc):
        change(doc["checkpoints"][1])
    return apply


BAD = {  # name: (change to a valid document, what the message must say)
    "wrong format": (lambda d: d.update(format="x"), "format is 'x'"),
    "newer version": (lambda d: d.update(version=2), "version 2 was written by a newer"),
    "unknown key": (lambda d: d.update(extra=1), r"unknown keys \['extra'\]"),
    "zero budget": (lambda d: d.update(budget=0), "budget must be a positive integer"),
    "odd dtype": (lambda d: d.update(dtype="int8"), "dtype must be 'float32' or 'float64'"),
    "shapes that do not chain": (lambda d: d["shapes"][1][0].__setitem__(0, 5), "layer 1 has kernel"),
    "shapes not a list": (lambda d: d.update(shapes="2x3"), "shapes must list"),
    "too many parameters": (lambda d: d.update(shapes=[[[4096, 4096], [4096]]]), "parameters; the limit is 10,000,000"),
    "not base64": (_entry(lambda c: c.update(weights="@@@@")), "checkpoint 1: weights is not valid base64"),
    "too few bytes": (_entry(lambda c: c.update(weights=c["weights"][:-8])), "the shapes need"),
    "NaN weights": (_entry(lambda c: c.update(weights=__import__("base64").b64encode(
        np.full(13, np.nan).astype("<f8").tobytes()).decode())), "NaN or infinite"),
    "epochs out of order": (_entry(lambda c: c.update(epoch=0)), "checkpoint 1: checkpoint epochs must increase"),
    "missing key": (_entry(lambda c: c.pop("trainer_state")), "expected an object with epoch"),
    "unknown optimizer": (_entry(lambda c: c["trainer_state"]["optimizer"].update(name="rmsprop")), "unknown optimizer"),
    "short optimizer buffer": (_entry(lambda c: c["trainer_state"]["optimizer"].update(
        m=c["trainer_state"]["optimizer"]["m"][:-12])), "trainer_state.optimizer.m holds"),
    "bad shuffling state": (_entry(lambda c: c["trainer_state"].update(rng={"bit_generator": "?"})), "does not fit"),
    "negative step count": (_entry(lambda c: c["trainer_state"]["optimizer"].update(t=-1)), "does not fit"),
    "not an object": (lambda d: d.clear(), "format is None"),
}


@pytest.mark.parametrize("name", BAD)
def test_a_bad_document_raises_format_error_saying_what_is_wrong(name):
    change, message = BAD[name]
    doc = _document()
    change(doc)
    with pytest.raises(FormatError, match=message):
        CheckpointStore.from_dict(doc)


def _paths(value, prefix=()):
    """The path of every value nested in a JSON document."""
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return
    for key, item in items:
        yield prefix + (key,)
        yield from _paths(item, prefix + (key,))


@pytest.fixture(scope="module")
def mid_epoch_document():
    """A store whose second checkpoint holds a trainer stopped in the middle of an epoch."""
    problem = prepare(DataSpec(n_samples=30))
    net = NetworkSpec(hidden=((3, "tanh"),)).build(problem)
    trainer = TrainingConfig(optimizer="adam", batch_size=7).build(net, problem)
    store = CheckpointStore()
    store.add(0, net.get_weights(), trainer.state_dict())
    next(trainer.run(problem.X_train, problem.Y_train))
    store.add(1, net.get_weights(), trainer.state_dict())
    return json.loads(json.dumps(store.to_dict()))


JSON_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**130), st.floats(), st.text(max_size=8),
                        st.lists(st.integers(-3, 3), max_size=3), st.dictionaries(st.text(max_size=3), st.integers(),
                                                                                  max_size=2))


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_a_document_with_any_value_replaced_loads_or_raises_format_error_only(mid_epoch_document, data):
    doc = copy.deepcopy(mid_epoch_document)
    for _ in range(data.draw(st.integers(1, 2))):
        path = data.draw(st.sampled_from(list(_paths(doc))))
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        parent[path[-1]] = data.draw(JSON_VALUES)
    try:
        CheckpointStore.from_dict(doc)
    except FormatError:
        pass


# --- going back after a divergence ------------------------------------------------------------
def test_recovery_goes_back_to_the_start_of_the_last_epoch_near_the_lowest_cost():
    costs = [1.0, 0.5, 0.3, 0.31, 0.29, 0.2925, 0.35, 1.0, 10.0, 1e5]
    store = CheckpointStore()
    for epoch in range(len(costs) + 1):
        store.add(epoch, _weights(epoch))
    history = History(train_loss=costs)
    assert recovery_checkpoint(history, store).epoch == 5  # 0.2925 is within 1 % of 0.29: epoch 6 began at 5
    assert recovery_checkpoint(history, store, tolerance=0.0).epoch == 4
    store.truncate_after(3)
    assert recovery_checkpoint(history, store).epoch == 3  # the latest held no later
    assert recovery_checkpoint(History(), store).epoch == 0


def test_recovery_after_a_real_divergence_finds_weights_that_train_on():
    """Momentum settles at a low rate, then a rate 200× higher makes the cost climb to overflow."""
    problem = prepare(DataSpec(source="reg_plane", n_samples=200))
    net = NetworkSpec(hidden=((8, "relu"), (8, "relu"))).build(problem)
    trainer = TrainingConfig(optimizer="momentum", learning_rate=0.01).build(net, problem)
    store, history = CheckpointStore(max_count=30), History()  # thinned: the best epoch may have no checkpoint
    store.add(0, net.get_weights(), trainer.state_dict())

    def keep(stats):
        history.append(stats)
        store.add(stats.epoch, net.get_weights(), trainer.state_dict())

    trainer.fit(problem.X_train, problem.Y_train, 30, callback=keep)
    trainer.learning_rate = 2.0
    with pytest.raises(DivergenceError):
        trainer.fit(problem.X_train, problem.Y_train, 1_000, callback=keep)
    X, Y = net.check_inputs(problem.X_train), trainer.targets(problem.Y_train)
    last_finite = trainer.evaluate(X, Y)[0]
    checkpoint = recovery_checkpoint(history, store)
    net.set_weights(checkpoint.weights)
    trainer.load_state_dict(checkpoint.trainer_state)
    recovered = trainer.evaluate(X, Y)[0]
    assert last_finite > 1e100 and checkpoint.epoch <= 30
    assert recovered <= 1.5 * min(history.train_loss)
    trainer.learning_rate = 0.01
    assert trainer.fit(problem.X_train, problem.Y_train, 20).train_loss[-1] < recovered  # it trains on


def test_a_cost_that_stays_far_above_its_lowest_has_climbed_for_good():
    start = [0.7, 0.5, 0.3, 0.2] + [0.25] * 16
    assert not has_climbed(start)  # noisy, near its lowest
    assert has_climbed(start + [400.0] * 10)  # ten epochs above 10 × 0.2 and above the first
    assert not has_climbed(start + [400.0] * 9 + [1.0])  # one epoch back down: not for good
    assert not has_climbed([5.0, 0.2] + [3.0] * 20)  # above 10 × its lowest, but below where it started
    assert not has_climbed([0.7] + [400.0] * 10)  # too short a run to tell
