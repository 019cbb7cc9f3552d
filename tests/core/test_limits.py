"""core.limits: the limits, their checks, short messages, and the stop flag of long work."""
import numpy as np
import pytest

from core import io, limits
from core.datasets import DatasetError
from core.io import FormatError
from core.limits import Cancelled
from core.network import Network
from core.spec import DataSpec, NetworkSpec, TrainingConfig, prepare


# --- messages -------------------------------------------------------------------------------------
LARGE = {"text": lambda: "x" * 10**7, "list": lambda: list(range(10**6)), "dict": lambda: {f"k{i}": i for i in range(10**5)},
         "nesting": lambda: [[[[[[[[["deep"]]]]]]]]], "integer": lambda: 10**5000, "bytes": lambda: b"\0" * 10**6,
         "array": lambda: np.zeros(10**6)}


@pytest.mark.parametrize("kind", LARGE)
def test_an_excerpt_is_short_however_large_the_value(kind):
    assert len(limits.excerpt(LARGE[kind]())) <= limits.EXCERPT_CHARS


def test_an_excerpt_shows_the_start_of_the_value():
    assert limits.excerpt("gelu") == "'gelu'"
    assert limits.excerpt("a" * 1000).startswith("'aaaa")
    assert limits.excerpt([1, 2, 3]) == "[1, 2, 3]"


def test_one_line_keeps_both_ends_on_one_line():
    text = "bad.json: " + "\n".join(["a line\twith \x1b[31m escapes"] * 10**5) + " expected one of x, y"
    line = limits.one_line(text)
    assert len(line) <= limits.MAX_MESSAGE_CHARS and "\n" not in line and "\x1b" not in line
    assert line.startswith("bad.json: a line with") and line.endswith("expected one of x, y") and " … " in line
    assert limits.one_line("short\nmessage") == "short message"


@pytest.mark.parametrize("error", [FormatError, DatasetError])
def test_the_documented_errors_bound_their_messages(error):
    message = str(error("p.json: unknown keys " + repr(list(range(10**6)))))
    assert len(message) <= limits.MAX_MESSAGE_CHARS and message.startswith("p.json: unknown keys [0, 1, 2")


def test_sizes_read_naturally():
    assert [limits.size_text(n) for n in (100, 2048, 128 * 2**20, 3 * 2**29)] == \
        ["100 bytes", "2 KiB", "128 MiB", "1.5 GiB"]


# --- checks ---------------------------------------------------------------------------------------
def test_integer_checks_refuse_booleans_floats_and_values_out_of_range():
    assert limits.check_int(np.int64(7), "seed", limits.SEED) == 7
    for value in (True, 1.0, "1", -1, 2**31, None):
        with pytest.raises(ValueError, match="seed must be (an integer )?from 0 to 2,147,483,647"):
            limits.check_int(value, "seed", limits.SEED)
    with pytest.raises(DatasetError):
        limits.check_int(0, "n_samples", limits.SAMPLES, DatasetError)


def test_number_checks_refuse_non_finite_and_out_of_range():
    assert limits.check_number(0.5, "noise", limits.NOISE) == 0.5
    for value in (float("nan"), float("inf"), 1e300, -0.1, "0.1", True, None):
        with pytest.raises(ValueError, match="noise must be from 0 to 0.5"):
            limits.check_number(value, "noise", limits.NOISE)
    with pytest.raises(ValueError, match="above 0 and at most 1000"):
        limits.check_number(0.0, "learning_rate", limits.LEARNING_RATE, above_low=True)


def test_text_checks_refuse_long_or_control_characters():
    assert limits.check_text("price", "target") == "price"
    with pytest.raises(ValueError, match=r"target has 1,000,000 characters; the limit is 256"):
        limits.check_text("x" * 10**6, "target")
    with pytest.raises(ValueError, match="control characters"):
        limits.check_text("a\nb", "target")


def test_parameters_are_counted_over_every_layer_inputs_and_outputs_included():
    assert limits.check_network([2, 8, 8, 1]) == (2 + 1) * 8 + (8 + 1) * 8 + (8 + 1) * 1
    # the hidden-to-hidden product alone is 16.8 M; inputs, biases and the output add the rest
    with pytest.raises(ValueError, match="the network has 16,793,600 parameters; the limit is 10,000,000"):
        limits.check_network([2, 4096, 4096])
    with pytest.raises(ValueError, match="n_inputs must be from 1 to 10,000"):
        limits.check_network([20_000, 10, 1])
    with pytest.raises(ValueError, match="layer 0 units must be from 1 to 100,000, got 200000"):
        limits.check_network([2, 200_000, 1])
    with pytest.raises(ValueError, match="layer 1 units must be an integer from 1 to 100,000, got 2.0"):
        limits.check_network([2, 8, 2.0])
    with pytest.raises(ValueError, match="1 to 101 layers"):
        limits.check_network([2] + [1] * 102)


def test_a_network_refuses_its_size_before_allocating():
    with pytest.raises(ValueError, match="parameters; the limit"):
        Network(10_000, [(4096, "tanh"), (4096, "tanh"), (1, "linear")])  # 74 M parameters: 600 MB if built
    with pytest.raises(ValueError, match="the network has 200,200,001 parameters"):
        Network(2000, [(100_000, "tanh"), (1, "linear")])  # one wide layer on many inputs: 1.6 GB if built


def test_one_pass_is_bounded_by_activations_and_work():
    sizes = [2, 4096, 1]
    assert limits.rows_per_pass(sizes) == min(limits.MAX_ACTIVATIONS // 4097,
                                               limits.MAX_PASS_WORK // ((2 + 1) * 4096 + 4097))
    limits.check_pass(limits.rows_per_pass(sizes), sizes)
    with pytest.raises(ValueError, match="too much work"):
        limits.check_pass(limits.rows_per_pass(sizes) + 1, sizes)


def test_a_network_too_large_for_its_data_is_refused_when_built():
    problem = prepare(DataSpec(n_samples=200_000))
    NetworkSpec(hidden=((8, "tanh"), (8, "tanh"))).layers(problem)
    with pytest.raises(ValueError, match=r"100,000 samples at once through 4,097 neurons and 16,385 parameters"):
        NetworkSpec(hidden=((4096, "tanh"),)).build(problem)


def test_tables_are_bounded_in_rows_columns_and_cells():
    limits.check_table(1_000_000, 50)
    with pytest.raises(DatasetError, match="the number of data rows must be from 2 to 1,000,000"):
        limits.check_table(1_000_001, 2, DatasetError)
    with pytest.raises(DatasetError, match="the number of columns"):
        limits.check_table(10, limits.MAX_COLUMNS + 1, DatasetError)
    with pytest.raises(DatasetError, match="100,000 rows × 1,000 columns is 100,000,000 cells; the limit is 50,000,000"):
        limits.check_table(100_000, 1000, DatasetError)


# --- specs: what the window can show --------------------------------------------------------------
def test_default_specs_are_within_the_limits():
    DataSpec().check()
    NetworkSpec().check()
    TrainingConfig().check()


@pytest.mark.parametrize("spec, message", [
    (DataSpec(seed=2**31), "the data seed must be from 0 to 2,147,483,647"),
    (DataSpec(n_samples=2**31), "n_samples must be from 2 to 1,000,000"),
    (DataSpec(n_samples=500.0), "n_samples must be an integer from 2 to 1,000,000"),
    (DataSpec(noise=1e300), "noise must be from 0 to 0.5"),
    (DataSpec(test_fraction=0.95), "test_fraction must be from 0 to 0.9"),
    (DataSpec(features=("x1", "x1")), "input features are repeated"),
    (DataSpec(features=("x1",) * 100_000), "input features must be a list of 1 to 7"),
    (DataSpec(source="s" * 10**6), "unknown dataset 'sss"),
    (DataSpec(source="csv", csv_path="p" * 5000), "csv_path has 5,000 characters; the limit is 4,096"),
    (DataSpec(source="csv", target="t" * 300), "target has 300 characters"),
    (NetworkSpec(seed=-1), "the network seed must be from 0"),
    (NetworkSpec(hidden=((200_000, "tanh"),)), "hidden layer 0 units must be from 1 to 100,000"),
    (NetworkSpec(hidden=((1, "tanh"),) * 101), "hidden must be a list of at most 100 layers"),
    (TrainingConfig(batch_size=2**31), r"batch_size must be a positive integer or .all. \(at most 1,000,000\)"),
    (TrainingConfig(learning_rate=1e300), "learning_rate must be above 0 and at most 1000"),
    (TrainingConfig(reg_rate=-1.0), "reg_rate must be from 0 to 1000"),
    (TrainingConfig(optimizer="o" * 10**6), "unknown optimizer 'ooo"),
    (TrainingConfig(seed=2**40), "the training seed must be from 0"),
])
def test_specs_refuse_what_the_window_cannot_show(spec, message):
    with pytest.raises(ValueError, match=message) as error:
        spec.check()
    assert len(str(error.value)) < 300


def test_prepare_checks_its_spec_before_making_data():
    with pytest.raises(DatasetError, match="n_samples must be"):
        prepare(DataSpec(n_samples=10**9))  # 16 GB of points, were they drawn


# --- stopping long work ---------------------------------------------------------------------------
class StopAfter:
    """A ``should_stop`` that turns true at its ``n``-th call."""

    def __init__(self, n):
        self.n, self.calls = n, 0

    def __call__(self):
        self.calls += 1
        return self.calls >= self.n


@pytest.mark.parametrize("spec", [DataSpec(n_samples=1000), DataSpec(source="iris")])
def test_prepare_stops_at_any_of_its_checks(spec):
    everything = StopAfter(10**9)
    prepare(spec, should_stop=everything)
    assert everything.calls >= 4
    for n in range(1, everything.calls + 1):
        with pytest.raises(Cancelled):
            prepare(spec, should_stop=StopAfter(n))


def test_reading_stops_between_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "READ_CHUNK_BYTES", 1000)
    net = Network(2, [(50, "tanh"), (1, "sigmoid")], seed=0)
    io.save(net, tmp_path / "model.json")
    size = (tmp_path / "model.json").stat().st_size
    stop = StopAfter(3)
    with pytest.raises(Cancelled):  # Cancelled, not FormatError: stopping is no fault of the file
        io.load(tmp_path / "model.json", should_stop=stop)
    assert stop.calls == 3 < size / 1000
    everything = StopAfter(10**9)
    io.load(tmp_path / "model.json", should_stop=everything)
    assert everything.calls >= size // 1000
