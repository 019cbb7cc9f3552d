"""Tables from CSV files, read as people have them.

``read_table(path)`` reads a whole file into a ``Table``: every column, numbers as they are, text as
codes into the column's categories, missing cells NaN, and what the import dialog shows about each
column. ``Table.dataset(target, features, task, missing)`` picks what to learn into a
``datasets.Dataset``.

What is detected, from the first 256 KiB, and can each be chosen instead:

- the encoding: a byte-order mark (UTF-8, UTF-16), UTF-16 without one (from its zero bytes), else
  UTF-8 if the text decodes as UTF-8, else Windows-1252 (Latin-1 for the bytes it leaves undefined);
- lines skipped at the top: blank lines, ``#`` comments, and Excel's ``sep=;`` line, whose delimiter
  is used;
- the delimiter, one of ``, ; tab |``: the one that cuts the first lines into the same number of
  cells (more than one);
- a decimal comma, in files delimited otherwise whose numbers are written ``1,5`` and never ``1.5``;
- the header: a first row is a header unless it holds numbers above columns of numbers (a file of text
  alone is taken to have one). Without a header the columns are named ``column 1``, ``column 2`` …

A column is numbers when every cell is a number or missing (empty, or one of ``MISSING_TOKENS`` in any
case); ``inf`` is a number, refused when the column is used. Any other column is text: its cells are
trimmed, and its distinct values are its categories (sorted), up to ``MAX_TRACKED_TEXTS``.

Reading uses pyarrow's CSV parser (C++, strict about the number of cells in a row), imported when
first needed so that ``core`` imports with NumPy alone. The file is fed to it in pieces of about
2 MiB cut at line ends outside quoted values, parsed on a pool of threads, so a caller sees
``progress(fraction)``, can stop the read with ``should_stop()`` (``core.limits.Cancelled``), and
memory stays near the size of the numbers (n_rows × n_columns × 8 bytes). Files are opened by
``core.files.open_regular``: only regular files of at most ``limits.MAX_FILE_BYTES[".csv"]`` (a FIFO
or a device is refused before it could block the read), and tables within ``limits.check_table``.

Every problem is a ``datasets.DatasetError`` on one line naming the file, and the line and column
where it applies.
"""
from __future__ import annotations

import codecs
import csv
import io
import itertools
import os
import re
import zlib
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

import numpy as np

from . import files, limits
from .datasets import MISSING_TOKENS, Column, Dataset, DatasetError
from .limits import MAX_CLASSES

SAMPLE_BYTES = 256 * 1024  # read first, to detect the format and show the first rows
PIECE_BYTES = 2 * 2**20  # what pyarrow parses at a time: smaller pieces take less memory in flight
PARSERS = max(1, min(os.cpu_count() or 1, 4))  # threads parsing pieces
INFER_BYTES = 256 * 1024  # the first rows, from which pyarrow infers the types of the columns
HEAD_ROWS = 20  # rows of the preview
DELIMITERS = (",", ";", "\t", "|")
MAX_TRACKED_TEXTS = 10_000  # distinct texts kept per column; a column with more is free text, not categories
MAX_CATEGORIES = 50  # a text feature with more categories than this is not one-hot encoded
MAX_CLASSES_INFERRED = 20  # a target of whole numbers with at most this many values reads as classes
TASK_CHOICES = ("regression", "classification", "binary", "multiclass")  # classification: binary if 2 classes
MISSING_POLICIES = ("refuse", "drop", "mean", "median", "mode")
_NUMBER = re.compile(r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*|\s*[-+]?(inf|infinity)\s*", re.IGNORECASE)
_DECIMAL_COMMA = re.compile(r"\s*[-+]?\d+,\d+\s*")
_DECIMAL_POINT = re.compile(r"\s*[-+]?\d*\.\d+\s*")


# --- what a read finds ------------------------------------------------------------------------------
@dataclass(frozen=True)
class CsvFormat:
    """How a file is written: found by ``detect_format`` or chosen."""

    encoding: str  # a Python codec name
    delimiter: str
    decimal: str  # "." or ","
    header: bool  # the first row names the columns
    header_detected: bool  # ``header`` was found (not chosen)
    names: tuple  # column names, unique
    unnamed: tuple  # indices of the columns whose header cell was empty
    skipped: tuple  # what was skipped at the top, e.g. ("2 comment lines", "Excel's sep=; line")
    data_line: int  # line number of the first data row (1 for the file's first line)
    data_offset: int  # bytes of UTF-8 text, after any byte-order mark, before the first data row
    newline: bytes  # b"\n", or b"\r" for a file of old Mac line ends
    head: tuple  # the first data rows as text, for the preview (n_rows ≤ HEAD_ROWS, n_columns)

    def notes(self) -> list:
        """What is unusual about the file: lines skipped, the delimiter, a decimal comma, the encoding."""
        notes = list(self.skipped)
        if self.delimiter != ",":
            notes.append(f"delimiter {delimiter_name(self.delimiter)}")
        if self.decimal != ".":
            notes.append("decimal comma")
        if self.encoding != "utf-8":
            notes.append(ENCODING_NAMES.get(self.encoding, self.encoding))
        return notes

    @property
    def header_text(self) -> str:
        """'header found', 'header row' (chosen), 'no header found' or 'no header row'."""
        if self.header:
            return "header found" if self.header_detected else "header row"
        return "no header found" if self.header_detected else "no header row"

    def describe(self) -> str:
        """All of it, for the import dialog: 'UTF-8; delimiter ','; header found; data from line 2'."""
        parts = [ENCODING_NAMES.get(self.encoding, self.encoding), f"delimiter {delimiter_name(self.delimiter)}",
                 self.header_text, *(["decimal comma"] if self.decimal != "." else []), *self.skipped]
        return "; ".join(parts + [f"data from line {self.data_line}"])


@dataclass(frozen=True)
class TableColumn:
    """One column of a table, and what the import dialog shows about it."""

    name: str
    kind: str  # "number" or "text"
    n_missing: int
    categories: tuple | None = None  # text: its distinct values, sorted; None beyond MAX_TRACKED_TEXTS
    n_infinite: int = 0
    minimum: float | None = None  # numbers: the smallest and largest finite values
    maximum: float | None = None
    note: str | None = None  # why it starts unticked as a feature ("looks like a row index", ...)
    longest_text: int = 0  # text: the length of a text too long to be a category (MAX_NAME_CHARS), if any


@dataclass(frozen=True)
class MissingEffect:
    """What each missing-value policy does to a choice of target and features."""

    n_rows: int  # rows in the table
    rows_with_missing: int  # rows with a missing cell in the target or a feature: "drop" removes them
    cells_to_fill: int  # missing feature cells in rows that keep their target: "mean" etc. fill them
    rows_without_target: int  # every policy but "refuse" drops these

    def describe(self, policy: str) -> str:
        """One line on what ``policy`` does here."""
        if self.rows_with_missing == 0:
            return "no missing cells"
        if policy == "refuse":
            return f"refuses the file: {_count(self.rows_with_missing, 'row')} with missing cells"
        if policy == "drop":
            return f"drops {_count(self.rows_with_missing, 'row')} of {self.n_rows:,}"
        what = {"mean": "the column's mean", "median": "the column's median", "mode": "the most frequent value"}[policy]
        text = f"fills {_count(self.cells_to_fill, 'cell')} with {what}" if self.cells_to_fill else "fills nothing"
        if self.rows_without_target:
            text += f", drops {_count(self.rows_without_target, 'row')} without a target"
        return text


@dataclass
class Table:
    """A whole CSV file: ``values`` (n_rows, n_columns) float64 holds numbers as they are, text as codes
    into its column's ``categories`` (−1 for text beyond MAX_TRACKED_TEXTS), NaN for a missing cell."""

    path: Path
    format: CsvFormat
    columns: tuple  # TableColumn per column
    values: np.ndarray
    complete: bool = True  # False: only the start of the file was read (``max_bytes``)
    _piece_rows: tuple = ()  # (first row, offset in the UTF-8 text) of each piece, to find a row's line
    _distinct: dict = field(default_factory=dict, repr=False)  # column → (count, the values if ≤ MAX_CLASSES)
    _whole_numbers: dict = field(default_factory=dict, repr=False)  # column → whether its numbers are whole

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def n_rows(self) -> int:
        return len(self.values)

    @property
    def names(self) -> tuple:
        return self.format.names

    def column(self, name: str) -> TableColumn:
        return self.columns[self._index(name)]

    def n_distinct(self, name: str) -> int | None:
        """Distinct values of a column, missing cells aside; None for text beyond MAX_TRACKED_TEXTS."""
        j = self._index(name)
        column = self.columns[j]
        if column.kind == "text":
            return None if column.categories is None else len(column.categories)
        return self._unique(j)[0]

    def _whole(self, j: int) -> bool:
        """Whether every number of column ``j`` is a whole number."""
        if j not in self._whole_numbers:
            self._whole_numbers[j] = _whole(self.values[:, j])
        return self._whole_numbers[j]

    def _unique(self, j: int) -> tuple[int, np.ndarray | None]:
        if j not in self._distinct:
            column = self.columns[j]
            values = self.values[:, j]
            present = values[~np.isnan(values)] if column.n_missing else values
            if column.kind == "number" and column.minimum is not None and not column.n_infinite \
                    and column.maximum - column.minimum < 2**20 and self._whole(j):
                counts = np.bincount((present - column.minimum).astype(np.int64))  # no sort: a count per value
                distinct = np.flatnonzero(counts) + column.minimum
            else:
                distinct = np.unique(present)
            self._distinct[j] = (len(distinct), distinct if len(distinct) <= MAX_CLASSES else None)
        return self._distinct[j]

    # --- the choices the dialog offers, with their defaults --------------------------------------
    def suggested_target(self) -> str:
        """The last column without a ``note`` (not a row index, constant, empty or free text)."""
        usable = [c.name for c in self.columns if c.note is None]
        return (usable or list(self.names))[-1]

    def default_features(self, target: str) -> tuple:
        """Every column but the target and those with a ``note`` (row indices, constants, free text …)."""
        self._index(target)
        return tuple(c.name for c in self.columns if c.name != target and c.note is None)

    def infer_task(self, target: str, task: str | None = None) -> tuple[str, tuple | None]:
        """("regression", None), or ("binary" | "multiclass", class names) for ``target``. ``task`` is
        one of TASK_CHOICES or None (inferred: text, or whole numbers with at most MAX_CLASSES_INFERRED
        values, are classes). DatasetError when the column cannot serve the task."""
        if task is not None and task not in TASK_CHOICES:
            raise DatasetError(f"unknown task {task!r}; expected one of {', '.join(TASK_CHOICES)}")
        column = self.column(target)
        if column.kind == "text":
            if task == "regression":
                example = column.categories[0] if column.categories else "text"
                raise DatasetError(f"{self.name}: target {target!r} is text ({_short(example)}), "
                                   "so it cannot be predicted by regression")
            if column.longest_text:
                raise DatasetError(f"{self.name}: target {target!r} has {_too_long(column)}")
            if column.categories is None or len(column.categories) > MAX_CLASSES:
                raise DatasetError(f"{self.name}: target {target!r} has {self._distinct_text(column)} distinct texts, "
                                   f"too many classes (at most {MAX_CLASSES})")
            classes = column.categories
        else:
            if task is None:
                is_classes = self._whole(self._index(target)) and self.n_distinct(target) <= MAX_CLASSES_INFERRED
                task = "classification" if is_classes else "regression"
            if task == "regression":
                return "regression", None
            n = self.n_distinct(target)
            if n > MAX_CLASSES:
                raise DatasetError(f"{self.name}: target {target!r} has {n:,} distinct values, too many classes "
                                   f"(at most {MAX_CLASSES}); is it a number to predict by regression?")
            classes = tuple(_number_text(v) for v in self._class_values(target))
        if len(classes) < 2:
            only = f" ({classes[0]!r})" if classes else ""
            raise DatasetError(f"{self.name}: target {target!r} has only one class{only}; nothing to learn")
        if task == "binary" and len(classes) != 2:
            raise DatasetError(f"{self.name}: target {target!r} has {len(classes)} classes, not 2")
        return ("binary" if len(classes) == 2 and task != "multiclass" else "multiclass"), tuple(classes)

    def missing_effect(self, target: str, features) -> MissingEffect:
        """How many rows and cells each missing-value policy touches for this choice."""
        no_target = np.isnan(self.values[:, self._index(target)])
        any_missing, cells = no_target.copy(), 0
        for name in features:
            j = self._index(name)
            if self.columns[j].n_missing:  # a column at a time: no copy of the table
                missing = np.isnan(self.values[:, j])
                any_missing |= missing
                cells += int((missing & ~no_target).sum())
        return MissingEffect(self.n_rows, int(any_missing.sum()), cells, int(no_target.sum()))

    # --- selecting what to learn ----------------------------------------------------------------------
    def dataset(self, target: str | None = None, features=None, task: str | None = None,
                missing: str = "refuse", name: str | None = None) -> Dataset:
        """The chosen ``target`` (default ``suggested_target``) and ``features`` (default
        ``default_features``) as a Dataset. ``missing``: 'refuse' (an error naming the first missing
        cell), 'drop' (rows with one go), 'mean' / 'median' / 'mode' (feature cells stay NaN, for
        ``Preprocessing.fit(..., missing=...)`` to fill; rows without a target go)."""
        if missing not in MISSING_POLICIES:
            raise DatasetError(f"unknown missing-value policy {missing!r}; expected one of "
                               f"{', '.join(MISSING_POLICIES)}")
        target = self.suggested_target() if target is None else str(target)
        features = self.default_features(target) if features is None else tuple(features)
        task, classes = self.check(target, features, task)
        used = [self._index(name) for name in (target, *features)]
        self._refuse_infinite(used)
        with_missing = [j for j in used if self.columns[j].n_missing]  # a column at a time: no copy of the table
        if missing == "refuse" and with_missing:
            row = min(int(np.argmax(np.isnan(self.values[:, j]))) for j in with_missing)
            j = next(j for j in used if np.isnan(self.values[row, j]))
            line, cells = self._locate(row)
            cell = cells[j].strip() if j < len(cells) else ""
            raise DatasetError(f"{self.name}, line {line}, column {self.names[j]!r}: missing value"
                               f"{f' {cell!r}' if cell else ''}; choose to drop such rows or fill them")
        drop = np.zeros(self.n_rows, bool)
        for j in with_missing if missing == "drop" else [used[0]] if used[0] in with_missing else []:
            drop |= np.isnan(self.values[:, j])
        keep = np.flatnonzero(~drop) if drop.any() else slice(None)
        n_kept = self.n_rows - int(drop.sum())
        if n_kept < 2:
            raise DatasetError(f"{self.name}: {_count(n_kept, 'row')} left to learn from "
                               f"({_count(int(drop.sum()), 'row')} with missing cells dropped); at least 2 are needed")
        first, last = used[1], used[-1]
        if isinstance(keep, np.ndarray):
            X = self.values[np.ix_(keep, used[1:])]  # one copy of those rows' used cells
        elif used[1:] == list(range(first, last + 1)):
            X = self.values[:, first:last + 1]  # neighbouring columns: a view, not a copy of them
        else:
            X = self.values[:, used[1:]]
        y = self._targets(used[0], keep, task, classes)
        columns = tuple(Column(n, c.categories if c.kind == "text" else ())
                        for n, c in ((n, self.column(n)) for n in features))
        n_filled = int(np.isnan(X).sum()) if missing in ("mean", "median", "mode") and with_missing else 0
        summary = self.summary(target, features, task, classes, missing, n_kept=n_kept, n_filled=n_filled)
        return Dataset(X, y, list(features), target, task, None if classes is None else list(classes),
                       name or self.path.stem, columns, summary)

    def summary(self, target, features, task, classes, missing, n_kept, n_filled) -> str:
        """One line on what was read and what will be learnt."""
        fmt = self.format
        read = f"{self.name}: {self.n_rows:,} rows × {len(self.columns)} columns, {fmt.header_text}"
        if fmt.notes():
            read += f" ({', '.join(fmt.notes())})"
        if task == "regression":
            learn = f"target {target!r}: regression"
        else:
            shown = ", ".join(classes[:10]) + (f", … ({len(classes)} in all)" if len(classes) > 10 else "")
            learn = f"target {target!r}: classification, {len(classes)} classes ({shown})"
        names = ", ".join(features[:12]) + (f", … ({len(features)} in all)" if len(features) > 12 else "")
        dropped = self.n_rows - n_kept
        rows = []
        if dropped:
            rows.append(f"{_count(dropped, 'row')} with missing cells dropped")
        if n_filled:
            how = {"mean": "means", "median": "medians", "mode": "most frequent values"}[missing]
            rows.append(f"{_count(n_filled, 'missing cell')} to fill with the training split's {how}")
        return f"{read}; {learn}; features: {names}; " + ("; ".join(rows) if rows else "no missing cells")

    def check(self, target: str, features, task: str | None = None) -> tuple[str, tuple | None]:
        """The checks of ``dataset`` that need no pass over the rows (the target, the task, the
        features): (task, class names), or DatasetError."""
        self._index(target)
        self._check_features(target, tuple(features))
        return self.infer_task(target, task)

    # --- helpers -----------------------------------------------------------------------------------
    @cached_property
    def _positions(self) -> dict:
        """Column name → its index (names are unique), looked up at every tick in the import dialog."""
        return {name: j for j, name in enumerate(self.names)}

    def _index(self, name: str) -> int:
        try:
            return self._positions[name]
        except KeyError:
            raise DatasetError(f"{self.name} has no column {name!r}; its columns are "
                               f"{_short(', '.join(self.names), 300)}") from None

    def _check_features(self, target, features) -> None:
        if not features:
            raise DatasetError(f"{self.name}: no feature columns to learn {target!r} from")
        chosen = set()
        for name in features:
            column = self.column(name)
            if name == target:
                raise DatasetError(f"{self.name}: {name!r} is the target; it cannot be a feature too")
            if name in chosen:
                raise DatasetError(f"{self.name}: feature {name!r} is chosen twice")
            chosen.add(name)
            if column.n_missing == self.n_rows:
                raise DatasetError(f"{self.name}: column {name!r} has no values")
            if column.longest_text:
                raise DatasetError(f"{self.name}: column {name!r} has {_too_long(column)}")
            if column.kind == "text" and (column.categories is None or len(column.categories) > MAX_CATEGORIES):
                raise DatasetError(f"{self.name}: column {name!r} has {self._distinct_text(column)} distinct texts; "
                                   f"one-hot encoding takes at most {MAX_CATEGORIES}")

    def _distinct_text(self, column: TableColumn) -> str:
        return f"over {MAX_TRACKED_TEXTS:,}" if column.categories is None else f"{len(column.categories):,}"

    def _refuse_infinite(self, used) -> None:
        for j in used:
            if self.columns[j].n_infinite:
                row = int(np.flatnonzero(np.isinf(self.values[:, j]))[0])
                line, cells = self._locate(row)
                raise DatasetError(f"{self.name}, line {line}, column {self.names[j]!r}: "
                                   f"{_short(cells[j].strip()) if j < len(cells) else 'inf'} is not a finite number")

    def _class_values(self, target) -> np.ndarray:
        return self._unique(self._index(target))[1]

    def _targets(self, j, keep, task, classes) -> np.ndarray:
        values = self.values[keep, j]
        if task == "regression":
            return values.copy()
        if self.columns[j].kind == "number":
            values = np.searchsorted(self._class_values(self.names[j]), values)
        y = values.astype(np.int64)
        return y.astype(float) if task == "binary" else y

    def _locate(self, row: int) -> tuple[int, list]:
        """(line number, cells) of data row ``row`` (0 for the first), by reading the file again from
        the piece that holds it: only errors need it."""
        first_row, offset = 0, 0
        for piece_row, piece_offset in self._piece_rows:
            if piece_row <= row:
                first_row, offset = piece_row, piece_offset
        for number, (line, cells) in enumerate(_records(self.path, self.format, offset), start=first_row):
            if number == row:
                return line, cells
        return self.format.data_line + row, []


# --- reading ------------------------------------------------------------------------------------------
def read_table(path, header: bool | None = None, delimiter: str | None = None, progress=None, should_stop=None,
               max_bytes: int | None = None) -> Table:
    """Read a CSV file whole (or its first ``max_bytes`` and a few more, for a quick look).

    ``header`` and ``delimiter``: None to detect them. ``progress(fraction)`` is called as pieces are
    read; ``should_stop()``, checked between pieces, ends the read with ``limits.Cancelled``.
    DatasetError for a file that cannot be used, with the line and column where it applies."""
    path = Path(path)
    size, sample = _sample(path)
    fmt = detect_format(path.name, sample, at_end=len(sample) == size, header=header, delimiter=delimiter)
    text_columns = frozenset()
    while True:  # a column found to hold text, or bytes that are not UTF-8, restart the read
        try:
            return _Reader(path, size, fmt, text_columns, progress, should_stop, max_bytes).read()
        except _Restart as restart:
            text_columns |= restart.text_columns
            if restart.encoding:
                fmt = detect_format(path.name, sample, len(sample) == size, header, delimiter, restart.encoding)


def read_format(path, header: bool | None = None, delimiter: str | None = None) -> CsvFormat:
    """How a CSV file is written (its column names among it), from its first bytes alone."""
    path = Path(path)
    size, sample = _sample(path)
    return detect_format(path.name, sample, len(sample) == size, header, delimiter)


def _sample(path: Path) -> tuple[int, bytes]:
    with _open(path) as f:
        try:
            return os.fstat(f.fileno()).st_size, f.read(SAMPLE_BYTES)
        except OSError as error:
            raise DatasetError(f"cannot read {path.name}: {error.strerror or error}") from None


def _open(path: Path):
    """The file opened for reading if it is a regular file within the CSV size limit."""
    return files.open_regular(path, limits.MAX_FILE_BYTES[".csv"], DatasetError)


def detect_format(filename: str, sample: bytes, at_end: bool, header: bool | None = None,
                  delimiter: str | None = None, encoding: str | None = None) -> CsvFormat:
    """How the file whose first bytes are ``sample`` is written; DatasetError if it is no CSV text."""
    if not sample.strip():
        raise DatasetError(f"{filename} is empty")
    if delimiter is not None and (len(delimiter) != 1 or delimiter in "\"\r\n"):
        raise DatasetError(f"the delimiter must be one character other than a quote or a line end, got {delimiter!r}")
    encoding = encoding or _detect_encoding(filename, sample)
    text = _decode_sample(sample, encoding, at_end)
    if "\0" in text:
        line = len(re.findall(r"\r\n|\r|\n", text[:text.index("\0")])) + 1
        raise DatasetError(f"{filename}, line {line}: a NUL byte; this is a binary file, not CSV text")
    lines = _split_lines(text)
    newline = b"\r" if "\n" not in text and "\r" in text else b"\n"
    if not at_end and len(lines) > 1:
        lines = lines[:-1]  # the sample may end within a line
    skip, skipped, sep = _preamble(filename, lines)
    if delimiter is None:
        delimiter = sep or _detect_delimiter(lines[skip:skip + 100])
    records = [cells for _, cells in _rows(lines[skip:skip + 200], delimiter)]
    if not records:
        raise DatasetError(f"{filename} has no rows, only {', '.join(skipped) or 'blank lines'}")
    decimal = "," if delimiter != "," and _decimal_comma(records[1:]) else "."
    detected = header is None
    if detected:
        header = _has_header(records, decimal)
    if header:
        names, unnamed = _names(records[0])
        reader = csv.reader(iter(lines[skip:]), delimiter=delimiter, strict=False)
        next(reader)
        skip += reader.line_num  # the header row, which may span lines
    else:
        names, unnamed = tuple(f"column {j + 1}" for j in range(len(records[0]))), ()
    if len(names) < 2:
        raise DatasetError(f"{filename} has one column (no {', '.join(delimiter_name(d) for d in DELIMITERS)} "
                           "between values); it needs at least a feature and a target")
    if len(names) > limits.MAX_COLUMNS:
        raise DatasetError(f"{filename} has {len(names):,} columns; the limit is {limits.MAX_COLUMNS:,}")
    head = tuple(tuple(cells) for cells in records[1 if header else 0:][:HEAD_ROWS])
    return CsvFormat(encoding, delimiter, decimal, bool(header), detected, names, unnamed, tuple(skipped),
                     skip + 1, len("".join(lines[:skip]).encode("utf-8")), newline, head)


class _Restart(Exception):
    def __init__(self, text_columns=frozenset(), encoding=None):
        super().__init__()
        self.text_columns, self.encoding = frozenset(text_columns), encoding


class _Reader:
    """One pass over a file with a known format; ``read()`` gives the Table."""

    def __init__(self, path, size, fmt: CsvFormat, text_columns, progress, should_stop, max_bytes):
        self.path, self.size, self.fmt = path, size, fmt
        self.text_columns = set(text_columns)
        self.progress, self.should_stop, self.max_bytes = progress, should_stop, max_bytes
        self.pa, self.pa_csv = _pyarrow()
        self.types = None  # pyarrow type per column, fixed by the first piece
        self.texts = {}  # column index → _TextCodes

    def read(self) -> Table:
        self.values, self.n, self.piece_rows = None, 0, []
        complete = True
        # pieces are parsed on PARSERS threads (pyarrow lets go of the GIL), each on one thread: faster
        # than pyarrow's own threads, whose first pass to find line ends outside quotes is serial
        with _open(self.path) as f, ThreadPoolExecutor(PARSERS) as parsers:
            parsing = deque()
            for piece, offset, position in self._pieces(f):
                limits.check_stop(self.should_stop)
                self._check_text(piece, offset)
                if self.types is None:
                    self._infer_types(piece, offset)
                parsing.append((parsers.submit(self._arrow, piece, self.types), piece, offset, position))
                if len(parsing) > PARSERS:
                    self._store(*parsing.popleft())
                if self.max_bytes is not None and self.max_bytes <= position < self.size:
                    complete = False
                    break
            while parsing:
                self._store(*parsing.popleft())
        if not self.n:
            raise DatasetError(f"{self.path.name} has no data rows")
        if complete:
            limits.check_table(self.n, len(self.fmt.names),
                               lambda message: DatasetError(f"{self.path.name}: {message}"))
        values = self.values[:self.n]
        for j, codes in self.texts.items():
            codes.sort(values[:, j])
        columns = tuple(self._describe(j, values[:, j]) for j in range(len(self.fmt.names)))
        return Table(self.path, self.fmt, columns, values, complete, tuple(self.piece_rows))

    def _store(self, parsed, piece, offset: int, position: int) -> None:
        """A parsed piece's rows into ``values``, growing it as needed; progress said."""
        try:
            columns = parsed.result().columns
        except self.pa.ArrowInvalid as error:
            raise self._why(piece, offset, error) from None
        m, n, n_columns = len(columns[0]), self.n, len(self.fmt.names)
        most = min(limits.SAMPLES[1], limits.MAX_CELLS // n_columns)
        if n + m > most:  # refused before the rows are stored, however many more the file holds
            raise DatasetError(f"{self.path.name} has more than {most:,} data rows; with {n_columns:,} columns "
                               f"the limit is {most:,}")
        if self.values is None:  # room for the rows the file's size promises, at this piece's bytes per row
            estimate = m if self.max_bytes else int(m * self.size / max(position, 1) * 1.05) + 16
            self.values = np.empty((min(max(estimate, m), most), n_columns), order="F")
        elif n + m > len(self.values):
            grown = np.empty((min(max(int(len(self.values) * 1.25), n + m), most), n_columns), order="F")
            grown[:n] = self.values[:n]
            self.values = grown
        for j, column in enumerate(columns):
            self._write(column, j, self.values[n:n + m, j])
        self.piece_rows.append((n, offset))
        self.n += m
        if self.progress is not None:
            self.progress(min(position / max(self.size, 1), 1.0))

    def _pieces(self, f):
        try:
            yield from _pieces(f, self.fmt)
        except _LongRow as error:
            raise DatasetError(f"{self.path.name}, line {self._line_at(error.offset)}: a row of more than "
                               f"{limits.MAX_ROW_BYTES // 2**20} MiB; a table's rows are far shorter (is a quote "
                               "left open?)") from None
        except _UnclosedQuote as error:
            raise DatasetError(f"{self.path.name}, line {self._line_at(error.offset)}: a quoted value is never "
                               "closed") from None

    def _check_text(self, piece: memoryview, offset: int) -> None:
        nul = piece.obj.find(b"\0", 0, len(piece))
        if nul >= 0:
            line = self._line_at(offset + nul)
            raise DatasetError(f"{self.path.name}, line {line}: a NUL byte; this is a binary file, not CSV text")
        if self.fmt.encoding in _UTF8 and np.frombuffer(piece, np.uint8).max(initial=0) >= 0x80:
            try:
                str(piece, "utf-8")
            except UnicodeDecodeError:  # not UTF-8 after all: Windows-1252, from the start
                raise _Restart(self.text_columns, encoding=_LEGACY) from None

    def _why(self, piece: memoryview, offset: int, error) -> Exception:
        """Why pyarrow could not read a piece: a row with the wrong number of cells (DatasetError), or
        text in a column that was numbers so far (``_Restart``, to read it again as text)."""
        try:
            self._arrow(piece, {name: self.pa.string() for name in self.fmt.names})
        except self.pa.ArrowInvalid as as_text:
            return self._parse_error(piece, offset, as_text)
        failing = self._failing_columns(piece)
        if not failing:
            return DatasetError(f"{self.path.name}, near line {self._line_at(offset)}: {_short(str(error), 200)}")
        return _Restart(self.text_columns | failing)

    def _infer_types(self, piece: memoryview, offset: int) -> None:
        """Each column's type, from the first rows of the first piece: numbers (float64) unless some
        cell is text; later pieces that hold text in a number column restart the read (``_Restart``)."""
        pa = self.pa
        start = piece[:_last_row_end(bytes(piece[:INFER_BYTES]), self.fmt) or len(piece)]
        try:
            table = self._arrow(start, None)
        except pa.ArrowInvalid as error:
            raise self._why(start, offset, error) from None
        numeric = (pa.types.is_integer, pa.types.is_floating, pa.types.is_null)
        for j, column in enumerate(table.columns):
            if not any(test(column.type) for test in numeric) and not self._numbers(start, j):
                self.text_columns.add(j)  # text, and dates and booleans as their text
        text = pa.dictionary(pa.int32(), pa.string())  # text comes dictionary-encoded, block by block
        self.types = {name: text if j in self.text_columns else pa.float64() for j, name in enumerate(self.fmt.names)}
        self.texts = {j: _TextCodes() for j in sorted(self.text_columns)}

    def _write(self, column, j: int, out: np.ndarray) -> None:
        """Column ``j`` of a piece into ``out`` (n_rows,): numbers, or text as codes; NaN where missing."""
        if j in self.texts:
            self.texts[j].write_codes(column, out)
            return
        start = 0
        for chunk in column.chunks:
            _write_numbers(chunk, out[start:start + len(chunk)])
            start += len(chunk)

    def _arrow(self, piece: memoryview, types, include=None):
        """The piece parsed by pyarrow, on the calling thread, as one block."""
        pa_csv = self.pa_csv
        return pa_csv.read_csv(
            self.pa.py_buffer(piece),
            read_options=pa_csv.ReadOptions(column_names=list(self.fmt.names), use_threads=False,
                                            block_size=len(piece) + 1),
            parse_options=pa_csv.ParseOptions(delimiter=self.fmt.delimiter, newlines_in_values=True),
            convert_options=pa_csv.ConvertOptions(
                column_types=types, include_columns=include, null_values=_MISSING_VARIANTS, strings_can_be_null=True,
                decimal_point=self.fmt.decimal, true_values=[], false_values=[],
                check_utf8=False))  # checked before, once per piece

    def _failing_columns(self, piece) -> set:
        """The columns read as numbers so far whose cells in ``piece`` are not all numbers."""
        return {j for j in range(len(self.fmt.names)) if j not in self.text_columns and not self._numbers(piece, j)}

    def _numbers(self, piece, j) -> bool:
        """Whether every cell of column ``j`` in ``piece`` is a number or missing (pyarrow's inference
        leaves "+5" to text, its conversion does not)."""
        name = self.fmt.names[j]
        try:
            self._arrow(piece, {name: self.pa.float64()}, include=[name])
            return True
        except self.pa.ArrowInvalid:
            return False

    def _parse_error(self, piece: memoryview, offset: int, error) -> DatasetError:
        """The one-line error for a piece pyarrow cannot parse: its first row with the wrong number of cells."""
        expected = len(self.fmt.names)
        whose = "the header has" if self.fmt.header else "the first row has"
        first_line = self._line_at(offset)
        lines = _split_lines(str(piece, "utf-8", errors="replace"))
        for line, cells in _rows(lines, self.fmt.delimiter, first_line, spaces_are_blank=False):
            if len(cells) != expected:
                hint = _row_hint(lines[line - first_line], self.fmt.delimiter, len(cells) > expected)
                return DatasetError(f"{self.path.name}, line {line}: {_count(len(cells), 'cell')}, but {whose} "
                                    f"{expected}{hint}")
        if sum(line.count('"') for line in lines) % 2:
            return DatasetError(f"{self.path.name}, line {first_line + len(lines) - 1}: a quoted value is never closed")
        return DatasetError(f"{self.path.name}, near line {first_line}: {_short(str(error), 200)}")

    def _line_at(self, offset: int) -> int:
        """The line number of a byte offset in the UTF-8 text, counting from the file's start."""
        count = 0
        with _open(self.path) as f:
            blocks = _utf8_blocks(f, self.fmt.encoding)
            done = 0
            for block, _ in blocks:
                part = block[:max(offset - done, 0)]
                count += bytes(part).count(self.fmt.newline)
                done += len(block)
                if done >= offset:
                    break
        return count + 1

    def _describe(self, j: int, values: np.ndarray) -> TableColumn:
        name = self.fmt.names[j]
        n_missing = int(np.isnan(values).sum())
        if j in self.texts:
            categories = self.texts[j].categories
            column = TableColumn(name, "text", n_missing, categories, longest_text=self.texts[j].longest)
            return _with_note(column, len(values), j in self.fmt.unnamed, values)
        low, high, n_infinite = None, None, 0
        if n_missing < len(values):
            low, high = (np.min(values), np.max(values)) if not n_missing else (np.nanmin(values), np.nanmax(values))
            if np.isinf(low) or np.isinf(high):
                n_infinite = int(np.isinf(values).sum())
                finite = values[np.isfinite(values)]
                low, high = (finite.min(), finite.max()) if len(finite) else (None, None)
        column = TableColumn(name, "number", n_missing, None, n_infinite, _float(low), _float(high))
        return _with_note(column, len(values), j in self.fmt.unnamed, values)


def _write_numbers(chunk, out: np.ndarray) -> None:
    """A float64 pyarrow array into ``out``, nulls as NaN."""
    out[:] = _values(chunk, np.float64)
    _write_nulls(chunk, out)


def _values(array, dtype) -> np.ndarray:
    """The values of a pyarrow array of numbers, from its buffer (null slots hold anything). Not
    ``to_numpy``, nor ``fill_null`` with a Python number: they import pandas when it is installed,
    a quarter of a second."""
    data = array.buffers()[1]
    return np.frombuffer(data, dtype, count=array.offset + len(array))[array.offset:]


def _write_nulls(array, out: np.ndarray) -> None:
    validity = array.buffers()[0]
    if array.null_count and validity is not None:
        valid = np.unpackbits(np.frombuffer(validity, np.uint8), count=array.offset + len(array), bitorder="little")
        out[valid[array.offset:] == 0] = np.nan


class _TextCodes:
    """Codes of one text column, piece by piece: its distinct trimmed texts in the order met, then sorted."""

    def __init__(self):
        self.index = {}  # text → code
        self.categories = ()
        self.overflowed = False  # more than MAX_TRACKED_TEXTS distinct texts, or one too long: free text
        self.longest = 0  # the longest text beyond MAX_NAME_CHARS met

    def write_codes(self, column, out: np.ndarray) -> None:
        """The codes of a piece's column (pyarrow dictionary arrays, one per block) into ``out`` (n_rows,);
        NaN for a missing cell, −1 for free text."""
        start = 0
        for chunk in column.chunks:
            self._write_chunk(chunk, out[start:start + len(chunk)])
            start += len(chunk)

    def _write_chunk(self, chunk, out: np.ndarray) -> None:
        if self.overflowed or not len(chunk.dictionary):  # no need to look at the texts
            out[:] = -1.0
        else:
            lookup = np.empty(len(chunk.dictionary))
            for i, text in enumerate(chunk.dictionary.to_pylist()):
                text = text.strip()
                if text.lower() in MISSING_TOKENS:
                    lookup[i] = np.nan
                elif len(text) > limits.MAX_NAME_CHARS:  # a text, not a category: never a feature's name
                    lookup[i], self.overflowed, self.longest = -1.0, True, max(self.longest, len(text))
                elif text in self.index or len(self.index) < MAX_TRACKED_TEXTS:
                    lookup[i] = self.index.setdefault(text, len(self.index))
                else:
                    lookup[i], self.overflowed = -1.0, True
            codes = _values(chunk.indices, f"i{chunk.indices.type.bit_width // 8}")
            np.take(lookup, np.clip(codes, 0, len(lookup) - 1), out=out)  # a null's slot may hold anything
        _write_nulls(chunk.indices, out)

    def sort(self, values: np.ndarray) -> None:
        """Renumber the codes in ``values`` (n_rows,), in place, so that categories are sorted."""
        texts = sorted(self.index)
        if self.overflowed:
            self.categories = None
            values[values >= 0] = -1
            return
        order = np.array([self.index[t] for t in texts], dtype=np.int64)
        renumber = np.full(len(texts) + 1, np.nan)  # the last for a missing cell
        renumber[order] = np.arange(len(texts))
        codes = np.where(np.isnan(values), len(texts), values).astype(np.intp)
        np.take(renumber, codes, out=values)
        self.categories = tuple(texts)


def _with_note(column: TableColumn, n_rows: int, unnamed: bool, values) -> TableColumn:
    """The column with the reason it starts unticked as a feature, if it has one."""
    present = n_rows - column.n_missing
    note = None
    if present == 0:
        note = "no values"
    elif unnamed:
        note = "no name in the header: looks like a row index"
    elif column.kind == "number" and column.n_missing == 0 and not column.n_infinite and n_rows >= 3 \
            and column.maximum - column.minimum == n_rows - 1 and _each_once(values, column.minimum):
        note = f"whole numbers {column.minimum:.0f} to {column.maximum:.0f}, each once: looks like a row index"
    elif column.kind == "number" and column.minimum == column.maximum and not column.n_infinite:
        note = f"the same value ({_number_text(column.minimum)}) in every row"
    elif column.kind == "text" and column.categories is not None and len(column.categories) == 1:
        note = f"the same value ({_short(column.categories[0])}) in every row"
    elif column.longest_text:
        note = _too_long(column)
    elif column.kind == "text" and (column.categories is None or len(column.categories) > MAX_CATEGORIES):
        count = f"over {MAX_TRACKED_TEXTS:,}" if column.categories is None else f"{len(column.categories):,}"
        note = f"text with {count} distinct values; one-hot encoding takes at most {MAX_CATEGORIES}"
    return replace(column, note=note)


def _too_long(column: TableColumn) -> str:
    return (f"a text of {column.longest_text:,} characters: free text, not categories (a category is at most "
            f"{limits.MAX_NAME_CHARS} characters)")


def _float(value) -> float | None:
    return None if value is None else float(value)


def _each_once(values, minimum) -> bool:
    """Whether ``values``, from ``minimum`` to ``minimum + len(values) - 1``, are whole numbers each once."""
    return _whole(values) and bool(np.all(np.bincount((values - minimum).astype(np.int64)) == 1))


def _whole(values) -> bool:
    finite = values if np.isfinite(values).all() else values[np.isfinite(values)]
    return bool(np.all(finite.astype(np.int64) == finite))  # beyond int64, never classes anyway


# --- the file as pieces of UTF-8 text ----------------------------------------------------------------------
ENCODING_NAMES = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 with BOM", "utf-16": "UTF-16",
                  "utf-16-le": "UTF-16 LE without BOM",
                   "utf-16-be": "UTF-16 BE without BOM", "cp1252": "Windows-1252"}
_UTF8 = ("utf-8", "utf-8-sig")
_LEGACY = "cp1252"  # Windows' Western encoding, the usual non-UTF-8 CSV; its undefined bytes fall back to Latin-1
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def _utf8_blocks(f, encoding: str):
    """The file's text as UTF-8 bytes after any byte-order mark, in blocks; with the bytes read so far."""
    if encoding in _UTF8:
        first = True
        while block := f.read(PIECE_BYTES):
            if first and block.startswith(codecs.BOM_UTF8):
                block = block[len(codecs.BOM_UTF8):]
            first = False
            yield block, f.tell()
        return
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict" if encoding != _LEGACY else "latin1_fallback")
    while True:
        block = f.read(PIECE_BYTES)
        text = decoder.decode(block, final=not block)
        if text:
            yield text.encode("utf-8"), f.tell()
        if not block:
            return


def _latin1_fallback(error: UnicodeDecodeError):
    """cp1252 leaves 5 bytes undefined; read those as Latin-1 does."""
    return error.object[error.start:error.end].decode("latin-1"), error.end


codecs.register_error("latin1_fallback", _latin1_fallback)


def _pieces(f, fmt: CsvFormat):
    """(piece, offset, bytes read) of the data rows: UTF-8 text cut at line ends outside quoted values
    (a memoryview that starts its buffer), ``offset`` its place in the UTF-8 text after the byte-order mark."""
    if fmt.encoding not in _UTF8:
        yield from _transcoded_pieces(f, fmt)
        return
    bom = len(codecs.BOM_UTF8) if fmt.encoding == "utf-8-sig" else 0
    f.seek(bom + fmt.data_offset)
    # buffers used in turn, each free again once the pieces after it are read: fresh memory for every
    # piece would cost a page fault every 4 KiB
    ring = [bytearray(PIECE_BYTES) for _ in range(PARSERS + 2)]
    for turn in itertools.count():
        buffer, offset = ring[turn % len(ring)], f.tell() - bom
        size = f.readinto(buffer)
        if not size:
            return
        end = _last_row_end(buffer, fmt, size)
        if not end and size == len(buffer):  # a row longer than a buffer: read on, into memory of its own
            buffer = bytearray(buffer)
            while not end and (more := f.read(PIECE_BYTES)):
                _check_row_length(len(buffer), offset)
                buffer += more
                end = _last_row_end(buffer, fmt) if more.find(fmt.newline) >= 0 else 0
            size = len(buffer)
        if not end:  # the last row, without a line end
            last = bytes(buffer[:size])
            if not last.strip():
                return
            _check_closed(last, fmt, offset)
            end = size
        f.seek(bom + offset + end)  # the next piece starts after this one's last row
        yield memoryview(buffer)[:end], offset, f.tell()


def _transcoded_pieces(f, fmt: CsvFormat):
    """As ``_pieces``, for a file in another encoding than UTF-8."""
    rest, skip, done = b"", fmt.data_offset, 0
    for block, position in _utf8_blocks(f, fmt.encoding):
        if skip:
            cut = min(skip, len(block))
            block, skip, done = block[cut:], skip - cut, done + cut
        _check_row_length(len(rest), done)
        buffer = rest + block
        end = _last_row_end(buffer, fmt)
        if end:
            yield memoryview(buffer)[:end], done, position
            done += end
        rest = buffer[end:]
    if rest.strip():
        _check_closed(rest, fmt, done)
        yield memoryview(rest), done, f.tell()


def _check_row_length(length: int, offset: int) -> None:
    """A row (or a quoted value left open) past MAX_ROW_BYTES is refused before it takes more memory."""
    if length > limits.MAX_ROW_BYTES:
        raise _LongRow(offset)


def _check_closed(last: bytes, fmt: CsvFormat, offset: int) -> None:
    """Every earlier piece ends outside quotes; the last must too."""
    if last.count(b'"') % 2 and _open_quote(last, fmt) is not None:
        raise _UnclosedQuote(offset + _open_quote(last, fmt))


def _last_row_end(buffer: bytes, fmt: CsvFormat, size: int | None = None) -> int:
    """Where the last whole row of ``buffer[:size]`` ends (0 if none does); the buffer starts a row."""
    end = buffer.rfind(fmt.newline, 0, len(buffer) if size is None else size) + 1
    first = buffer.find(b'"', 0, end)
    quotes = np.count_nonzero(np.frombuffer(buffer, np.uint8, end - first, first) == ord('"')) if first >= 0 else 0
    # a line end outside quotes has an even number of quotes before it, when quotes open and close
    # values; an odd number: it is within a quoted value, so step back a line or two
    for _ in range(1000):
        if quotes % 2 == 0 or not end:
            return end
        previous = buffer.rfind(fmt.newline, 0, end - 1) + 1
        quotes -= buffer.count(b'"', previous, end)
        end = previous
    return _last_row_end_exactly(bytes(buffer[:end]), fmt)  # a quote within a value, as in 5'11", upset the count


def _last_row_end_exactly(buffer: bytes, fmt: CsvFormat) -> int:
    """As ``_last_row_end``, following the quotes one by one."""
    end = buffer.rfind(fmt.newline) + 1
    opened = _open_quote(buffer[:end], fmt)
    return buffer.rfind(fmt.newline, 0, end if opened is None else opened) + 1


def _open_quote(buffer: bytes, fmt: CsvFormat) -> int | None:
    """Where the quoted value still open at the end of ``buffer`` starts, or None. As pyarrow reads
    quotes: one opens a value only at its start (a quote within a value, as in 5'11", is a character),
    and "" within quotes is one quote."""
    quotes = np.flatnonzero(np.frombuffer(buffer, np.uint8) == ord('"'))
    starts = {ord(fmt.delimiter), ord("\n"), ord("\r")}
    inside, escaped, opened = False, False, None
    for q in quotes.tolist():
        if escaped:
            escaped = False
        elif inside:
            if q + 1 < len(buffer) and buffer[q + 1] == ord('"'):
                escaped = True
            else:
                inside = False
        elif q == 0 or buffer[q - 1] in starts:
            inside, opened = True, q
    return opened if inside else None


class _UnclosedQuote(Exception):
    def __init__(self, offset: int):
        super().__init__()
        self.offset = offset


class _LongRow(_UnclosedQuote):
    pass


def _records(path: Path, fmt: CsvFormat, offset: int):
    """(line number, cells) of each data row from ``offset`` in the UTF-8 text (a piece's start)."""
    with _open(path) as f:
        blocks = (block for block, _ in _utf8_blocks(f, fmt.encoding))
        line, rest = 1, b""
        for block in blocks:
            line += block.count(fmt.newline, 0, offset)
            if offset < len(block):
                rest = block[offset:]
                break
            offset -= len(block)
        text = io.TextIOWrapper(io.BufferedReader(_Chain(rest, blocks)), encoding="utf-8", errors="replace",
                                newline="")
        yield from _rows(text, fmt.delimiter, line, spaces_are_blank=False)


class _Chain(io.RawIOBase):
    """Bytes, then an iterable of byte blocks, as one readable stream."""

    def __init__(self, head: bytes, blocks):
        super().__init__()
        self.buffer, self.blocks = head, blocks

    def readable(self) -> bool:
        return True

    def readinto(self, out) -> int:
        while not self.buffer:
            self.buffer = next(self.blocks, None)
            if self.buffer is None:
                self.buffer = b""
                return 0
        n = min(len(out), len(self.buffer))
        out[:n], self.buffer = self.buffer[:n], self.buffer[n:]
        return n


# --- detection ---------------------------------------------------------------------------------------------
def _detect_encoding(filename: str, sample: bytes) -> str:
    for bom, encoding in _BOMS:
        if sample.startswith(bom):
            return encoding
    head = sample[:4096]
    if head.count(0) > len(head) // 4:  # ASCII as UTF-16 has a zero in every other byte
        even, odd = head[0::2].count(0), head[1::2].count(0)
        if odd > len(head) // 3 and even < len(head) // 20:
            return "utf-16-le"
        if even > len(head) // 3 and odd < len(head) // 20:
            return "utf-16-be"
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as error:
        if error.start >= len(sample) - 3 and error.reason == "unexpected end of data":
            return "utf-8"  # a character cut by the end of the sample
    return _LEGACY


def _decode_sample(sample: bytes, encoding: str, at_end: bool) -> str:
    decoder = codecs.getincrementaldecoder(encoding)(errors="latin1_fallback" if encoding == _LEGACY else "replace")
    text = decoder.decode(sample, final=at_end)
    return text[1:] if text.startswith("\ufeff") else text


def _preamble(filename, lines) -> tuple[int, list, str | None]:
    """(lines to skip, what they were, the delimiter a sep= line names) at the top of the file."""
    skip, blank, comments, sep = 0, 0, 0, None
    for line in lines:
        stripped = line.strip()
        if not stripped:
            blank += 1
        elif stripped.startswith("#"):
            comments += 1
        elif sep is None and not comments and stripped.lower().startswith("sep=") and skip == blank:
            value = line.lstrip()[4:].rstrip("\r\n")
            if len(value) != 1 or value in "\"":
                raise DatasetError(f"{filename}, line {skip + 1}: {stripped!r} must name one delimiter "
                                   "character, as Excel's sep=; line does")
            sep = value
        else:
            break
        skip += 1
    skipped = []
    if sep is not None:
        skipped.append(f"Excel's sep={sep} line")
    if comments:
        skipped.append(_count(comments, "comment line"))
    return skip, skipped, sep


def _detect_delimiter(lines) -> str:
    """The delimiter that cuts most of the first lines into the same number of cells (more than one)."""
    best, best_score = ",", None  # a file of one column is said to be so once its names are known
    for delimiter in DELIMITERS:
        counts = [len(cells) for _, cells in _rows(lines, delimiter)]
        common = max(set(counts), key=counts.count) if counts else 0
        if common < 2:
            continue
        score = (counts.count(common) / len(counts), counts[0] == common, common)
        if best_score is None or score > best_score:
            best, best_score = delimiter, score
    return best


def _rows(lines, delimiter, first_line: int = 1, spaces_are_blank: bool = True):
    """(line number, cells) of each row that is not blank, as pyarrow counts them with
    ``spaces_are_blank`` off; ``lines`` keep their line ends. A quoted value cut off by the end of
    ``lines`` ends the rows."""
    reader = csv.reader(iter(lines), delimiter=delimiter, strict=False)
    consumed = 0
    try:
        for cells in reader:
            line, consumed = first_line + consumed, reader.line_num
            if any(cell.strip() for cell in cells) if spaces_are_blank else cells:
                yield line, cells
    except csv.Error:
        return


def _split_lines(text: str) -> list:
    """Lines with their ends (\\n, \\r\\n or \\r), unlike str.splitlines, which also cuts at form feeds."""
    return re.findall(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$", text)


def _is_number(text: str, decimal: str = ".") -> bool:
    if decimal == ",":
        text = text.replace(",", ".")
    return bool(_NUMBER.fullmatch(text))


def _is_missing(text: str) -> bool:
    return text.strip().lower() in MISSING_TOKENS


def _decimal_comma(rows) -> bool:
    cells = [c for row in rows for c in row]
    return any(_DECIMAL_COMMA.fullmatch(c) for c in cells) and not any(_DECIMAL_POINT.fullmatch(c) for c in cells)


def _has_header(records, decimal) -> bool:
    """Whether the first row names the columns: it does unless it holds numbers above columns of numbers."""
    first, rows = records[0], records[1:]
    votes_for, votes_against = 0, 0
    for j, cell in enumerate(first):
        below = [r[j] for r in rows if j < len(r) and not _is_missing(r[j])]
        if not below or not all(_is_number(c, decimal) for c in below) or _is_missing(cell):
            continue  # a text column, or an empty header cell over an index: no say
        if _is_number(cell, decimal):
            votes_against += 1
        else:
            votes_for += 1
    return votes_for >= votes_against if (votes_for or votes_against) else True


def _names(cells) -> tuple[tuple, tuple]:
    """Unique column names from a header row, and the indices of its empty cells."""
    names, unnamed = [], []
    for j, cell in enumerate(cells):
        name = limits.one_line(cell, limits.MAX_NAME_CHARS - 20)  # a quoted line end in a name becomes a space
        if not name:
            unnamed.append(j)
            name = f"column {j + 1}"
        names.append(name)
    seen = set()  # (a set: 10,000 columns)
    for j, name in enumerate(names):
        if name in seen:
            names[j] = f"{name} (column {j + 1})"
        seen.add(names[j])
    return tuple(names), tuple(unnamed)


# --- fingerprints -----------------------------------------------------------------------------------------
def fingerprint(path) -> str:
    """``"SIZE:CRC32"`` of a file's bytes, to tell later whether it changed (CRC-32 reads ~2 GB/s)."""
    path = Path(path)
    crc, size = 0, 0
    with _open(path) as f:
        try:
            while block := f.read(PIECE_BYTES):
                crc, size = zlib.crc32(block, crc), size + len(block)
        except OSError as error:
            raise DatasetError(f"cannot read {path.name}: {error.strerror or error}") from None
    return f"{size}:{crc:08x}"


def csv_changed(csv_path, saved_fingerprint: str | None) -> str | None:
    """None if the file still has ``saved_fingerprint`` (or none was saved); else a one-line message."""
    if not csv_path or not saved_fingerprint:
        return None
    name = Path(csv_path).name
    try:
        now = fingerprint(csv_path)
    except DatasetError as error:
        return str(error)
    if now == saved_fingerprint:
        return None
    old_size, new_size = saved_fingerprint.split(":")[0], now.split(":")[0]
    sizes = ""
    if old_size.isdigit() and old_size != new_size:
        sizes = f" ({int(old_size):,} bytes then, {int(new_size):,} now)"
    return f"{name} has changed since the project was saved{sizes}; training uses the file as it is now"


# --- small helpers -------------------------------------------------------------------------------------------
def _pyarrow():
    try:
        import pyarrow
        import pyarrow.csv
    except ImportError:
        raise ImportError("reading CSV files needs the pyarrow package: pip install pyarrow") from None
    return pyarrow, pyarrow.csv


def _case_variants(token: str) -> set:
    return {"".join(chars) for chars in itertools.product(*({c.lower(), c.upper()} for c in token))}


_MISSING_VARIANTS = sorted(set().union(*(_case_variants(t) for t in MISSING_TOKENS)))


def _number_text(value: float) -> str:
    """A class's name from its number: 0 and 0.0 are both "0"."""
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else repr(float(value))


def delimiter_name(delimiter: str) -> str:
    return {"\t": "tab", ",": "','", ";": "';'", "|": "'|'", " ": "space"}.get(delimiter, repr(delimiter))


def _row_hint(line: str, delimiter: str, too_many: bool) -> str:
    stripped = line.strip()
    if stripped.startswith("#"):
        return "; comment lines (#) are skipped only at the top of the file"
    if not stripped:
        return " (a line of spaces)"
    if too_many and line.rstrip("\r\n").endswith(delimiter):
        return f"; the line ends with a {delimiter_name(delimiter)} too many"
    return f": {_short(line.rstrip(chr(13) + chr(10)), 80)}"


def _count(n: int, what: str) -> str:
    return f"{n:,} {what}{'' if n == 1 else 's'}"


def _short(value, limit: int = 60) -> str:
    text = value if isinstance(value, str) else repr(value)
    text = repr(text) if isinstance(value, str) else text
    return text if len(text) <= limit else text[:limit - 1] + "…"
