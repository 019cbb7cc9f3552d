"""Every limit in one place: sizes, ranges and budgets, checked before anything is allocated.

Projects, weights files, CSV files, the command line and the window's fields all take their bounds
from here, so a value that one of them accepts is never refused, or silently changed, by another.
The figures keep the loading of any file under about 1.5 GB and 20 s on a 2-core machine, and any
piece of work that cannot be interrupted (one training step, one pass over a data split) near a
second or less.

Ranges are ``(low, high)`` tuples, both ends allowed. The checks raise ``ValueError`` unless given
another ``error`` (loaders pass ``core.io.FormatError`` or ``core.datasets.DatasetError``). Messages
are one short line: ``excerpt`` quotes a bad value in a few characters, ``one_line`` bounds a whole
message (both error classes apply it to theirs).

Long work takes ``should_stop``, a callable that returns True when the work is no longer wanted, and
calls ``check_stop(should_stop)`` at least every ~0.2 s; ``Cancelled`` then ends the work. A worker
thread passes, say, ``threading.Event().is_set`` (or ``QThread.isInterruptionRequested``), sets it
before quitting, and treats ``Cancelled`` as a quiet end, not as an error to show.
"""
from __future__ import annotations

import math
import reprlib

import numpy as np

MiB = 2**20

# --- networks -------------------------------------------------------------------------------------
MAX_UNITS = 100_000  # neurons in one layer; MAX_PARAMETERS and the pass limits bound what wide layers cost
MAX_HIDDEN_LAYERS = 100
MAX_INPUTS = 10_000  # a network's inputs: the feature columns of a table
MAX_PARAMETERS = 10_000_000  # kernels and biases of every layer, from the inputs to the outputs
# One pass of n rows through a network stores z and a for every neuron: n × (neurons) activations,
# 16 bytes each in float64; it costs about 2 flops per row and parameter forward, 6 for a training
# step. Both bounds keep a pass over a data split (or a step on all of it) under ~0.5 GB and ~1.5 s
# on 2 cores: TensorFlow Playground's largest network (49 neurons) takes 500,000 rows at once.
MAX_ACTIVATIONS = 25_000_000
MAX_PASS_WORK = 5_000_000_000  # rows × parameters

# --- data -----------------------------------------------------------------------------------------
SAMPLES = (2, 1_000_000)  # points of a 2-D set; data rows of a table
NOISE = (0.0, 0.5)  # TensorFlow Playground's 0 to 50 %
TEST_FRACTION = (0.0, 0.9)
MAX_COLUMNS = MAX_INPUTS + 1  # a table's columns, the target's included
MAX_CELLS = 50_000_000  # rows × columns of a table: 400 MB as float64
MAX_CLASSES = 100  # more classes than this is a regression target by mistake

# --- training -------------------------------------------------------------------------------------
SEED = (0, 2**31 - 1)  # every seed: the window's fields hold 32-bit integers
BATCH_SIZE = (1, SAMPLES[1])
LEARNING_RATE = (0.0, 1e3)  # above 0
REG_RATE = (0.0, 1e3)
MAX_EPOCHS = 1_000_000  # epochs in a history, so that a saved project always loads
TARGET_COST = (0.0, 1e6)  # the cost pinned runs are timed to reach
CHECKPOINT_BUDGET = (1 * MiB, 4096 * MiB)  # memory for a run's checkpoints (a project saves at most 128 MiB)

# --- text -----------------------------------------------------------------------------------------
MAX_ROW_BYTES = 16 * 2**20  # one row of a CSV file: 10,000 columns of long numbers take 0.3 MiB
MAX_NAME_CHARS = 256  # names of settings, features, targets, classes
MAX_PATH_CHARS = 4096

# --- files ----------------------------------------------------------------------------------------
MAX_FILE_BYTES = {  # by suffix; weights and project files are written only if they fit too
    ".npz": 128 * MiB,  # 10 M float64 parameters are 80 MB
    ".safetensors": 128 * MiB,
    ".json": 256 * MiB,  # weights and projects (171 MiB of checkpoints); MAX_JSON_MEMORY bounds the parse
    ".csv": 512 * MiB,
}
MAX_HEADER_BYTES = 1 * MiB  # a safetensors header or an .npz config (a few KB for 100 layers)
MAX_SIDECAR_BYTES = 64 * 2**10  # a hand-written list of activations beside a PyTorch-written file
MAX_ZIP_ENTRIES = 1000  # central directory records an .npz may have (it needs 2 per layer + 1)
MAX_JSON_MEMORY = 1024 * MiB  # what parsed JSON may take, estimated from its text before parsing
READ_CHUNK_BYTES = 16 * MiB  # files are read in chunks, checking the stop flag in between

# --- messages -------------------------------------------------------------------------------------
MAX_MESSAGE_CHARS = 250
EXCERPT_CHARS = 60


class Cancelled(Exception):
    """Long work stopped because its ``should_stop`` said so; nothing was changed or kept."""


def check_stop(should_stop) -> None:
    """Raise ``Cancelled`` if ``should_stop`` (a callable, or None) asks to stop."""
    if should_stop is not None and should_stop():
        raise Cancelled("stopped on request")


# --- checks ---------------------------------------------------------------------------------------
def check_int(value, what: str, bounds: tuple, error=ValueError) -> int:
    """``value`` as an int if it is an integer (not a bool) within ``bounds``."""
    low, high = bounds
    integer = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
    if not integer or not low <= value <= high:
        raise error(f"{what} must be {'' if integer else 'an integer '}from {low:,} to {high:,}, got {excerpt(value)}")
    return int(value)


def check_number(value, what: str, bounds: tuple, error=ValueError, above_low: bool = False) -> float:
    """``value`` as a float if it is a finite real number within ``bounds`` (above ``low`` if ``above_low``)."""
    low, high = bounds
    number = float(value) if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, bool) else math.nan
    if not (low < number if above_low else low <= number) or not number <= high:
        bounds = f"above {low:g} and at most {high:g}" if above_low else f"from {low:g} to {high:g}"
        raise error(f"{what} must be {bounds}, got {excerpt(value)}")
    return number


def check_text(value, what: str, max_chars: int = MAX_NAME_CHARS, error=ValueError) -> str:
    """``value`` if it is a string of at most ``max_chars`` characters without control characters."""
    if not isinstance(value, str):
        raise error(f"{what} must be text, got {excerpt(value)}")
    if len(value) > max_chars:
        raise error(f"{what} has {len(value):,} characters; the limit is {max_chars:,}: {excerpt(value)}")
    if not value.isprintable():
        raise error(f"{what} has control characters: {excerpt(value)}")
    return value


def check_count(items, what: str, high: int, error=ValueError) -> None:
    """Refuse a collection of more than ``high`` items."""
    if len(items) > high:
        raise error(f"{what}: {len(items):,} items; the limit is {high:,}")


def check_network(sizes, error=ValueError) -> int:
    """The parameter count of a network of ``sizes`` ``[n_inputs, units of each layer, ...]``, the output
    layer last, after checking every size and the count against the limits."""
    n_inputs, *units = sizes
    check_int(n_inputs, "n_inputs", (1, MAX_INPUTS), error)
    if not 1 <= len(units) <= MAX_HIDDEN_LAYERS + 1:
        raise error(f"a network has 1 to {MAX_HIDDEN_LAYERS + 1} layers (the output layer included), "
                    f"not {len(units):,}")
    for i, n in enumerate(units):
        check_int(n, f"layer {i} units", (1, MAX_UNITS), error)
    parameters = sum((n_in + 1) * n_out for n_in, n_out in zip(sizes, sizes[1:]))
    if parameters > MAX_PARAMETERS:
        raise error(f"the network has {parameters:,} parameters; the limit is {MAX_PARAMETERS:,}")
    return parameters


def rows_per_pass(sizes) -> int:
    """How many rows one pass through a network of ``sizes`` (as ``check_network``) may take at once."""
    neurons = sum(sizes[1:])
    parameters = sum((n_in + 1) * n_out for n_in, n_out in zip(sizes, sizes[1:]))
    return min(MAX_ACTIVATIONS // neurons, MAX_PASS_WORK // parameters)


def check_pass(n_rows: int, sizes, error=ValueError) -> None:
    """Refuse passing ``n_rows`` rows at once through a network of ``sizes`` (a data split, a full batch)."""
    if n_rows > rows_per_pass(sizes):
        neurons = sum(sizes[1:])
        parameters = sum((n_in + 1) * n_out for n_in, n_out in zip(sizes, sizes[1:]))
        raise error(f"{n_rows:,} samples at once through {neurons:,} neurons and {parameters:,} parameters "
                    f"is too much work (at most {rows_per_pass(sizes):,} samples for this network): "
                    "use fewer samples or a smaller network")


def check_table(n_rows: int, n_columns: int, error=ValueError) -> None:
    """Refuse a table of ``n_rows`` data rows and ``n_columns`` columns (the target's included)."""
    check_int(n_rows, "the number of data rows", SAMPLES, error)
    check_int(n_columns, "the number of columns", (2, MAX_COLUMNS), error)
    if n_rows * n_columns > MAX_CELLS:
        raise error(f"{n_rows:,} rows × {n_columns:,} columns is {n_rows * n_columns:,} cells; "
                    f"the limit is {MAX_CELLS:,}")


# --- messages -------------------------------------------------------------------------------------
def size_text(n_bytes: int) -> str:
    """``n_bytes`` for a message: '300 bytes', '12.5 KiB', '128 MiB', '1.5 GiB'."""
    for unit, size in (("GiB", 2**30), ("MiB", MiB), ("KiB", 2**10)):
        if n_bytes >= size:
            return f"{n_bytes / size:,.1f}".removesuffix(".0") + f" {unit}"
    return f"{n_bytes:,} bytes"


_repr = reprlib.Repr()
_repr.maxstring = _repr.maxother = _repr.maxlong = EXCERPT_CHARS
_repr.maxlevel = 3


def excerpt(value, limit: int = EXCERPT_CHARS) -> str:
    """A repr of ``value`` for a message, at most about ``limit`` characters however large the value."""
    try:
        text = _repr.repr(value)
    except ValueError:  # an integer too long to print
        return f"a {type(value).__name__} too large to show"
    return text if len(text) <= limit else text[:limit - 1] + "…"


def one_line(message, limit: int = MAX_MESSAGE_CHARS) -> str:
    """``message`` on one line (whitespace runs become one space) of at most ``limit`` characters,
    cut in the middle so that both what went wrong and the end of the sentence stay."""
    text = str(message)
    if len(text) > 16 * limit:  # only the ends are kept: never split a huge text
        text = text[:8 * limit] + " … " + text[-8 * limit:]
    text = " ".join("".join(c if c.isprintable() else " " for c in text).split())  # no newlines, no escapes
    if len(text) <= limit:
        return text
    head = (limit - 3) * 2 // 3
    return text[:head] + " … " + text[len(text) - (limit - 3 - head):]
