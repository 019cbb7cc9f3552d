"""Reading CSV files as people have them: encodings, delimiters, headers, quotes, what is skipped at
the top, and the one-line error for each file that cannot be read.

Every file is read twice, whole and in pieces of 64 bytes, and both reads must agree: the pieces cut
at line ends outside quotes, the way big files are read."""
import os
import threading

import numpy as np
import pytest

from core import limits, tables
from core.datasets import DatasetError
from core.limits import Cancelled
from core.tables import read_table

NAN = np.nan
IRIS_ROWS = [("5.1", "3.5", "1.4", "0.2", "setosa"), ("4.9", "3.0", "1.4", "0.2", "setosa"),
             ("7.0", "3.2", "4.7", "1.4", "versicolor"), ("6.4", "3.2", "4.5", "1.5", "versicolor"),
             ("6.3", "3.3", "6.0", "2.5", "virginica"), ("5.8", "2.7", "5.1", "1.9", "virginica")]


def _rows(rows, delimiter=",") -> str:
    return "".join(delimiter.join(row) + "\n" for row in rows)


def read(tmp_path, data, name="data.csv", **options) -> tables.Table:
    """The file read whole, after checking that a read in 64-byte pieces gives the same table."""
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    whole = read_table(path, **options)
    original = tables.PIECE_BYTES
    tables.PIECE_BYTES = 64
    try:
        pieces = read_table(path, **options)
    finally:
        tables.PIECE_BYTES = original
    np.testing.assert_array_equal(pieces.values, whole.values)
    assert pieces.columns == whole.columns and pieces.format == whole.format
    return whole


def error(tmp_path, data, name="data.csv", **options) -> str:
    """The message of the DatasetError reading the file raises, whole and in pieces alike."""
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    messages = []
    for piece_bytes in (tables.PIECE_BYTES, 64):
        original, tables.PIECE_BYTES = tables.PIECE_BYTES, piece_bytes
        try:
            with pytest.raises(DatasetError) as raised:
                read_table(path, **options).dataset()
        finally:
            tables.PIECE_BYTES = original
        messages.append(str(raised.value))
    assert messages[0] == messages[1]
    assert "\n" not in messages[0]
    return messages[0]


# --- headers ----------------------------------------------------------------------------------------
def test_a_file_without_a_header_row_is_not_read_as_one(tmp_path):
    table = read(tmp_path, _rows(IRIS_ROWS))
    assert not table.format.header and table.format.header_detected
    assert table.names == ("column 1", "column 2", "column 3", "column 4", "column 5") and table.n_rows == 6
    data = table.dataset()
    assert data.target_name == "column 5" and data.class_names == ["setosa", "versicolor", "virginica"]
    assert "no header found" in data.summary
    np.testing.assert_array_equal(data.X[0], [5.1, 3.5, 1.4, 0.2])


def test_a_header_row_is_found_and_either_can_be_chosen(tmp_path):
    text = "sepal_length,sepal_width,petal_length,petal_width,species\n" + _rows(IRIS_ROWS)
    table = read(tmp_path, text)
    assert table.format.header and table.names[0] == "sepal_length" and table.n_rows == 6
    assert "header found" in table.dataset().summary
    forced = read(tmp_path, text, header=False)  # the header row then is data: text in number columns
    assert forced.names[0] == "column 1" and forced.n_rows == 7 and forced.column("column 1").kind == "text"
    headless = read(tmp_path, _rows(IRIS_ROWS), header=True)
    assert headless.names == ("5.1", "3.5", "1.4", "0.2", "setosa") and headless.n_rows == 5


def test_a_table_of_text_alone_is_taken_to_have_a_header(tmp_path):
    table = read(tmp_path, "name,city\n" + "".join(f"n{i},c{i % 3}\n" for i in range(6)))
    assert table.names == ("name", "city") and table.n_rows == 6


def test_empty_and_repeated_header_cells_get_names(tmp_path):
    table = read(tmp_path, "a,,a,b\n" + "".join(f"{i},{i * 2},{i % 3},{i % 2}\n" for i in range(6)))
    assert table.names == ("a", "column 2", "a (column 3)", "b")


def test_a_quoted_line_end_in_a_header_name_becomes_a_space(tmp_path):
    table = read(tmp_path, '"sepal\nlength",species\n' + "".join(f"{i}.5,{'ab'[i % 2]}\n" for i in range(6)))
    assert table.names == ("sepal length", "species") and table.n_rows == 6 and table.format.data_line == 3


# --- what is skipped at the top ---------------------------------------------------------------------------
@pytest.mark.parametrize("top, skipped", [
    ("\n\n", ()),
    ("   \n\t\n", ()),
    ("# exported by the lab\n# units: cm\n", ("2 comment lines",)),
    ("sep=;\n", ("Excel's sep=; line",)),
])
def test_lines_at_the_top_are_skipped_and_said(tmp_path, top, skipped):
    delimiter = ";" if "sep=;" in top else ","
    text = top + delimiter.join(["x", "y"]) + "\n" + "".join(f"{i}{delimiter}{i % 2}\n" for i in range(6))
    table = read(tmp_path, text)
    assert table.names == ("x", "y") and table.n_rows == 6 and table.format.skipped == skipped
    assert table.format.delimiter == delimiter and table.format.data_line == top.count("\n") + 2


def test_a_sep_line_that_names_no_single_character_is_refused(tmp_path):
    assert error(tmp_path, "sep=::\na::b\n1::2\n") == ("data.csv, line 1: 'sep=::' must name one delimiter "
                                                        "character, as Excel's sep=; line does")


def test_a_comment_line_among_the_rows_is_refused_with_the_reason(tmp_path):
    assert error(tmp_path, "a,b\n1,2\n3,4\n# a note\n5,6\n") == (
        "data.csv, line 4: 1 cell, but the header has 2; comment lines (#) are skipped only at the top of the file")


# --- delimiters, decimals, quotes, line ends ------------------------------------------------------------------
@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_the_delimiter_is_detected(tmp_path, delimiter):
    rows = [("a", "b", "c")] + [(f"{i}.5", f"{i}", "x, y" if delimiter != "," else "x") for i in range(6)]
    table = read(tmp_path, _rows(rows, delimiter))
    assert table.format.delimiter == delimiter and table.names == ("a", "b", "c")
    np.testing.assert_array_equal(table.values[:, 0], np.arange(6) + 0.5)


def test_a_chosen_delimiter_is_used(tmp_path):
    table = read(tmp_path, "a;b,c\n1;x,y\n4;z,w\n7;v,u\n", delimiter=";")
    assert table.names == ("a", "b,c") and table.column("b,c").categories == ("v,u", "x,y", "z,w")


def test_numbers_written_with_a_decimal_comma(tmp_path):
    table = read(tmp_path, "weight;height;kind\n1,5;170;a\n2,25;165,5;b\n-0,75;180;a\n3;175;b\n")
    assert table.format.decimal == "," and table.format.delimiter == ";"
    np.testing.assert_array_equal(table.values[:, :2], [[1.5, 170], [2.25, 165.5], [-0.75, 180], [3, 175]])
    assert "decimal comma" in table.dataset().summary


def test_quoted_values_keep_delimiters_quotes_and_line_ends(tmp_path):
    text = ('size,kind\n1,"Iris\nsetosa"\n2,"a, b"\n3,"say ""hi"""\n4,"Iris\nsetosa"\n5,plain\n'
            '6,"a, b"\n')
    table = read(tmp_path, text)
    assert table.column("kind").categories == ("Iris\nsetosa", "a, b", "plain", 'say "hi"')
    data = table.dataset(target="kind", features=["size"])
    assert data.class_names == ["Iris\nsetosa", "a, b", "plain", 'say "hi"'] and data.y.tolist() == [0, 1, 3, 0, 2, 1]


def test_a_quote_inside_an_unquoted_value_is_a_character(tmp_path):
    rows = "".join(f"{i},5'{i}\",{i % 2}\n" for i in range(6))
    table = read(tmp_path, "n,height,y\n" + rows)
    assert table.column("height").categories[0] == "5'0\"" and table.n_rows == 6


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_windows_and_old_mac_line_ends(tmp_path, newline):
    table = read(tmp_path, newline.join(["a,b", "1,x", "2,y", "3,x", ""]))
    assert table.names == ("a", "b") and table.n_rows == 3
    assert table.column("b").categories == ("x", "y")


def test_cells_are_trimmed_and_numbers_read_as_written(tmp_path):
    table = read(tmp_path, "a,b,c\n 1.5 , x ,+5\n2e3,y,-.5\n.25,  x,7\n")
    np.testing.assert_array_equal(table.values[:, 0], [1.5, 2000, 0.25])
    np.testing.assert_array_equal(table.values[:, 2], [5, -0.5, 7])
    assert table.column("b").categories == ("x", "y")


def test_dates_and_booleans_are_text(tmp_path):
    table = read(tmp_path, "day,open,y\n2024-01-01,true,1\n2024-01-02,false,2\n2024-01-03,TRUE,3\n")
    assert table.column("day").kind == "text" and table.column("open").categories == ("TRUE", "false", "true")


# --- encodings ------------------------------------------------------------------------------------------------
TEXT = "name;size;kind\ncafé;1,5;ça\nthé;2,5;là\nmaté;3,0;ça\n"


@pytest.mark.parametrize("encoding, detected", [
    ("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("utf-16", "utf-16"), ("utf-16-le", "utf-16-le"),
    ("utf-16-be", "utf-16-be"), ("latin-1", "cp1252"), ("cp1252", "cp1252"),
])
def test_encodings_are_detected(tmp_path, encoding, detected):
    table = read(tmp_path, TEXT.encode(encoding))
    assert table.format.encoding == detected and table.names == ("name", "size", "kind")
    assert table.column("name").categories == ("café", "maté", "thé")
    np.testing.assert_array_equal(table.values[:, 1], [1.5, 2.5, 3.0])


def test_windows_text_is_read_as_windows_1252(tmp_path):
    table = read(tmp_path, "item,price\n€ coin,1\n“quoted”,2\nplain,3\n".encode("cp1252"))
    assert table.column("item").categories == ("plain", "“quoted”", "€ coin")
    assert "Windows-1252" in table.dataset(target="price", features=["item"]).summary


def test_a_file_that_stops_being_utf8_after_its_start_is_read_again_as_windows_1252(tmp_path):
    plain = "".join(f"item {i % 50},{i}\n" for i in range(30_000))  # beyond the 256 KiB the detection looks at
    table = read(tmp_path, ("name,n\n" + plain + "café,1\n").encode("cp1252"))
    assert table.format.encoding == "cp1252" and table.n_rows == 30_001
    assert "café" in table.column("name").categories


# --- column types ------------------------------------------------------------------------------------------------
def test_a_column_with_text_after_its_first_piece_is_text_throughout(tmp_path):
    rows = "".join(f"{i},{i % 7}\n" for i in range(40_000)) + "40000,seven\n"  # text far beyond the first piece
    table = read(tmp_path, "n,code\n" + rows)
    column = table.column("code")
    assert column.kind == "text" and column.categories == ("0", "1", "2", "3", "4", "5", "6", "seven")
    assert table.values[40_000, 1] == 7 and table.values[8, 1] == 1


def test_missing_cells_in_every_spelling(tmp_path):
    table = read(tmp_path, "a,b,c\n1,NA,x\n2,?,n/a\n,3,NULL\nnan,#N/A,None\n5,6, \n")
    assert [c.n_missing for c in table.columns] == [2, 3, 4]
    assert table.column("c").categories == ("x",)
    np.testing.assert_array_equal(table.values[:, 1], [NAN, NAN, 3, NAN, 6])


def test_free_text_is_kept_apart(tmp_path, monkeypatch):
    monkeypatch.setattr(tables, "MAX_TRACKED_TEXTS", 10)
    table = read(tmp_path, "comment,y\n" + "".join(f"remark {i},{i % 2}\n" for i in range(30)))
    column = table.column("comment")
    assert column.categories is None and column.note.startswith("text with over 10 distinct values")
    assert (table.values[:, 0] == -1).all()


# --- errors, on one line ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("data, message", [
    ("", "data.csv is empty"),
    ("\n \n", "data.csv is empty"),
    ("# only a comment\n", "data.csv has no rows, only 1 comment line"),
    ("a,b\n", "data.csv has no data rows"),
    ("a\n1\n2\n", "data.csv has one column (no ',', ';', tab, '|' between values); it needs at least a feature "
                  "and a target"),
    ("a,b,c\n1,2,3\n4,5\n", "data.csv, line 3: 2 cells, but the header has 3: '4,5'"),
    ("a,b,c\n1,2,3\n4,5,6,7\n", "data.csv, line 3: 4 cells, but the header has 3: '4,5,6,7'"),
    ("a,b,c\n1,2,3,\n4,5,6,\n", "data.csv, line 2: 4 cells, but the header has 3; the line ends with a ',' too many"),
    ("a,b\n1,2\n   \n3,4\n", "data.csv, line 3: 1 cell, but the header has 2 (a line of spaces)"),
    ('a,b\n1,2\n3,"4\n5,6\n', "data.csv, line 3: a quoted value is never closed"),
    (b"a,b\n1,2\n3,\x004\n", "data.csv, line 3: a NUL byte; this is a binary file, not CSV text"),
    (bytes(range(256)) * 4, "data.csv, line 1: a NUL byte; this is a binary file, not CSV text"),
])
def test_a_file_that_cannot_be_read_says_why_in_one_line(tmp_path, data, message):
    assert error(tmp_path, data) == message


def test_a_nul_byte_far_into_the_file_is_found_on_its_line(tmp_path):
    rows = "".join(f"{i},{i % 2}\n" for i in range(50_000))
    assert error(tmp_path, ("a,b\n" + rows).encode() + b"7,\x00\n") == (
        "data.csv, line 50002: a NUL byte; this is a binary file, not CSV text")


def test_a_trailing_delimiter_on_every_line_leaves_an_empty_column_unticked(tmp_path):
    table = read(tmp_path, "a,b,y,\n" + "".join(f"{i * 0.5},{i % 3},{i % 2},\n" for i in range(6)))
    assert table.names == ("a", "b", "y", "column 4") and table.column("column 4").note == "no values"
    assert table.dataset().feature_names == ["a", "b"]


def test_only_regular_files_are_opened(tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    said = []

    def attempt():
        try:
            read_table(fifo)
        except DatasetError as refused:
            said.append(str(refused))

    thread = threading.Thread(target=attempt)
    thread.start()
    thread.join(5)
    if thread.is_alive():  # it opened the FIFO and waits for a writer: give it one, and fail
        os.close(os.open(fifo, os.O_WRONLY))
        thread.join()
        pytest.fail("the FIFO was opened for reading")
    assert said == ["cannot read pipe.csv: it is a FIFO (named pipe), not a regular file"]
    (tmp_path / "folder").mkdir()
    with pytest.raises(DatasetError, match=r"^cannot read folder: it is a folder, not a regular file$"):
        read_table(tmp_path / "folder")
    with pytest.raises(DatasetError, match=r"^cannot read missing.csv: No such file or directory$"):
        read_table(tmp_path / "missing.csv")


# --- progress, stopping, a quick look ------------------------------------------------------------------------------
def test_progress_is_reported_and_the_read_can_be_stopped(tmp_path, monkeypatch):
    monkeypatch.setattr(tables, "PIECE_BYTES", 4096)
    path = tmp_path / "big.csv"
    path.write_text("a,b\n" + "".join(f"{i},{i % 5}\n" for i in range(20_000)))
    fractions = []
    read_table(path, progress=fractions.append)
    assert len(fractions) > 10 and fractions == sorted(fractions) and fractions[-1] == 1.0
    calls = []
    with pytest.raises(Cancelled):
        read_table(path, should_stop=lambda: len(calls) >= 3 or calls.append(1))
    assert len(calls) == 3


def test_a_quick_look_reads_only_the_start(tmp_path, monkeypatch):
    monkeypatch.setattr(tables, "PIECE_BYTES", 4096)
    path = tmp_path / "big.csv"
    path.write_text("a,b\n" + "".join(f"{i},{i % 5}\n" for i in range(20_000)))
    look = read_table(path, max_bytes=10_000)
    assert not look.complete and 1000 < look.n_rows < 5000
    assert read_table(path).complete


def test_numbers_agree_with_pandas(tmp_path):
    pandas = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    values = rng.normal(size=(500, 4)) * 10.0 ** rng.integers(-3, 6, size=(500, 4))
    values[rng.random(values.shape) < 0.05] = np.nan
    def cell(v, quoted):
        return "" if np.isnan(v) else f'"{float(v)!r}"' if quoted else repr(float(v))

    lines = ["a,b,c,d"] + [",".join(cell(v, k % 7 == 0) for v in row) for k, row in enumerate(values)]
    table = read(tmp_path, "\r\n".join(lines) + "\r\n")
    expected = pandas.read_csv(tmp_path / "data.csv").to_numpy()
    np.testing.assert_array_equal(table.values, expected)
    np.testing.assert_array_equal(table.values, values)


def test_a_text_column_missing_for_whole_pieces(tmp_path):
    rows = ["1,north"] + [f"{i}," for i in range(2, 40)] + ["40,south"]
    table = read(tmp_path, "n,region\n" + "\n".join(rows) + "\n")
    column = table.column("region")
    assert column.categories == ("north", "south") and column.n_missing == 38
    assert table.values[0, 1] == 0 and table.values[-1, 1] == 1 and np.isnan(table.values[1:-1, 1]).all()


def test_tables_beyond_the_limits_are_refused_as_they_are_read(tmp_path, monkeypatch):
    from core import limits

    monkeypatch.setattr(limits, "SAMPLES", (2, 1000))
    assert error(tmp_path, "a,b\n" + "".join(f"{i},{i % 2}\n" for i in range(5000))) == (
        "data.csv has more than 1,000 data rows; with 2 columns the limit is 1,000")
    monkeypatch.setattr(limits, "MAX_COLUMNS", 3)
    assert error(tmp_path, "a,b,c,d\n1,2,3,4\n5,6,7,8\n") == "data.csv has 4 columns; the limit is 3"
    assert error(tmp_path, "a,b\n1,2\n") == ("data.csv: the number of data rows must be from 2 to 1,000, got 1")


def test_a_text_longer_than_a_name_makes_its_column_free_text(tmp_path):
    long = "word " * 100  # 500 characters: a remark, not a category
    table = read(tmp_path, f"remark,y\nshort,1\n{long},0\nshort,1\n")
    column = table.column("remark")
    assert column.categories is None and column.longest_text == len(long.strip())
    assert column.note.startswith("a text of 499 characters: free text")
    with pytest.raises(DatasetError, match="column 'remark' has a text of 499 characters"):
        table.dataset("y", ["remark"])


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_a_row_longer_than_the_limit_is_refused_before_it_takes_more_memory(tmp_path, monkeypatch, encoding):
    monkeypatch.setattr(limits, "MAX_ROW_BYTES", 3 * 2**20)
    path = tmp_path / "data.csv"
    path.write_bytes(("a,y\nb,1\nc,0\n" + "x" * (5 * 2**20) + ",1\nd,0\n").encode(encoding))
    with pytest.raises(DatasetError, match=r"data.csv, line 4: a row of more than 3 MiB"):
        read_table(path)
