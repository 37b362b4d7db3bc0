"""Previewing CSV and TSV files: encodings, delimiters, headers, types, row counts, and bad input."""

from __future__ import annotations

import codecs
import hashlib
from pathlib import Path

import pytest

from liferaft.core.inspect import Preview, delimited, inspect_file, text
from liferaft.core.inspect.delimited import infer_type, inspect_delimited, sniff_delimiter


def look(path: Path, **options: object) -> Preview:
    """Inspect ``path`` and check the promises every preview keeps: the file is untouched, messages are one line."""
    before = hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime
    preview = inspect_delimited(path, **options)  # type: ignore[arg-type]
    assert (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime) == before
    for message in (*preview.notes, *([preview.error] if preview.error else [])):
        assert message.strip() and "\n" not in message, message
    return preview


def facts(preview: Preview) -> dict[str, str]:
    return dict(preview.facts)


def types(preview: Preview) -> dict[str, str]:
    return {column.name: column.type for column in preview.columns}


def make(tmp_path: Path, content: str | bytes, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


# --- the ordinary case -------------------------------------------------------------------------------


def test_rows_schema_and_facts(tmp_path: Path) -> None:
    path = make(tmp_path, "id,day,amount,paid,name,code\n"
                          "1,2025-01-02,10.5,true,Ann,007\n"
                          "2,2025-01-03,7,false,\"Bob, Jr\",012\n"
                          "3,2025-01-04,,true,Cy,100\n")
    preview = look(path)
    assert preview.error is None
    assert preview.kind == "csv"
    assert facts(preview) == {
        "size": "121 B", "rows": "3", "columns": "6", "encoding": "utf-8", "delimiter": "comma", "line endings": "LF",
    }
    assert types(preview) == {"id": "integer", "day": "date", "amount": "decimal", "paid": "boolean",
                              "name": "text", "code": "text"}
    # Text exactly as in the file: "7" is not "7.0", "007" keeps its zeros, quotes are gone.
    assert preview.rows[1] == ("2", "2025-01-03", "7", "false", "Bob, Jr", "012")
    assert preview.columns[2].sample_nulls == 1
    assert any("leading zeros" in note for note in preview.notes)


def test_max_rows_limits_the_rows_shown_not_the_count(tmp_path: Path) -> None:
    path = make(tmp_path, "n\n" + "".join(f"{i}\n" for i in range(500)))
    preview = look(path, max_rows=10)
    assert len(preview.rows) == 10
    assert facts(preview)["rows"] == "500"


def test_inspect_file_dispatches_csv_and_tsv(tmp_path: Path) -> None:
    assert inspect_file(make(tmp_path, "a\tb\n1\t2\n", "x.tsv"), "tsv").kind == "tsv"
    assert inspect_file(make(tmp_path, "a,b\n1,2\n"), "csv").rows == (("1", "2"),)


# --- encodings ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("codec", "label"), [
    ("utf-8-sig", "utf-8 (BOM)"),
    ("utf-16", "utf-16-le (BOM)"),
    ("utf-16-be", None),
    ("utf-32", "utf-32-le (BOM)"),
])
def test_unicode_encodings(tmp_path: Path, codec: str, label: str | None) -> None:
    content = "name,city\nZoë,Kraków\nJosé,São Paulo\n"
    data = content.encode(codec)
    if codec == "utf-16-be":
        data = codecs.BOM_UTF16_BE + data
        label = "utf-16-be (BOM)"
    preview = look(make(tmp_path, data))
    assert preview.error is None
    assert facts(preview)["encoding"] == label
    assert [column.name for column in preview.columns] == ["name", "city"]  # no BOM glued to the first name
    assert preview.rows == (("Zoë", "Kraków"), ("José", "São Paulo"))
    assert facts(preview)["rows"] == "2"


def test_utf16_without_a_bom_is_recognised(tmp_path: Path) -> None:
    preview = look(make(tmp_path, "a,b\ncafé,1\nthé,2\n".encode("utf-16-le")))
    assert facts(preview)["encoding"] == "utf-16-le (guessed)"
    assert preview.rows == (("café", "1"), ("thé", "2"))


def test_latin1_is_guessed_and_said_so(tmp_path: Path) -> None:
    content = "nom;ville;montant\nAndré;Orléans;12,5\nJosé;Besançon;3,25\nÉlodie;Nîmes;7,0\nFrançois;Sète;1,75\n"
    preview = look(make(tmp_path, content.encode("latin-1")))
    assert preview.error is None
    assert facts(preview)["encoding"].endswith("(guessed)")
    assert preview.rows[0][:2] == ("André", "Orléans")
    assert facts(preview)["delimiter"] == "semicolon"
    assert types(preview)["montant"] == "decimal"
    assert any("not UTF-8" in note and "encoding=" in note for note in preview.notes)


def test_mostly_utf8_with_a_stray_byte_is_still_text(tmp_path: Path) -> None:
    preview = look(make(tmp_path, b"name,n\n" + "José,1\n".encode() * 500 + b"Jos\xe9,2\n"))
    assert preview.error is None
    assert facts(preview)["rows"] == "501"
    assert preview.rows[0] == ("José", "1")
    assert any("shown as �" in note for note in preview.notes)


# --- delimiters --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("delimiter", "name"), [(",", "comma"), (";", "semicolon"), ("\t", "tab"), ("|", "pipe")])
def test_delimiters(tmp_path: Path, delimiter: str, name: str) -> None:
    # Every other candidate appears too, inside quotes or within cells, to tempt a naive count.
    other = {",": ";", ";": ",", "\t": ",", "|": ","}[delimiter]
    lines = [["id", "note", "score"], ["1", f'"a{delimiter}b{other}c"', "2"], ["2", f"x{other}y", "3"],
             ["3", "plain", "4"]]
    content = "".join(delimiter.join(line) + "\n" for line in lines)
    preview = look(make(tmp_path, content))
    assert facts(preview)["delimiter"] == name
    assert [column.name for column in preview.columns] == ["id", "note", "score"]
    assert preview.rows[0] == ("1", f"a{delimiter}b{other}c", "2")


def test_semicolon_file_with_decimal_commas(tmp_path: Path) -> None:
    preview = look(make(tmp_path, "region;revenue;units\nNorth;1,5;2\nSouth;2,25;3\nEast;10,75;4\n"))
    assert facts(preview)["delimiter"] == "semicolon"
    assert types(preview) == {"region": "text", "revenue": "decimal", "units": "integer"}


def test_sniffer_prefers_the_consistent_candidate() -> None:
    assert sniff_delimiter("name,comment\nx,hello; world\ny,fine\n") == ","
    assert sniff_delimiter("a\tb\nA\t1,000\nB\t2,000\n", preferred="\t") == "\t"
    assert sniff_delimiter('a;b\n"x;y";1\n') == ";"
    assert sniff_delimiter("just words\nmore words\n") is None


def test_one_column_file_says_no_delimiter(tmp_path: Path) -> None:
    preview = look(make(tmp_path, "name\nAnn\nBob\n"))
    assert [column.name for column in preview.columns] == ["name"]
    assert preview.rows == (("Ann",), ("Bob",))
    assert any("no delimiter" in note for note in preview.notes)


# --- headers -----------------------------------------------------------------------------------------


def test_blank_header_row_is_skipped(tmp_path: Path) -> None:
    preview = look(make(tmp_path, ",,,\nid,name,x,y\n1,a,2,3\n2,b,4,5\n"))
    assert [column.name for column in preview.columns] == ["id", "name", "x", "y"]
    assert preview.rows[0] == ("1", "a", "2", "3")
    assert facts(preview)["rows"] == "2"
    assert any("skipped" in note and "line 2 is the header" in note for note in preview.notes)


def test_blank_lines_before_the_header(tmp_path: Path) -> None:
    preview = look(make(tmp_path, "\n\n;;\nid;name\n1;a\n"))
    assert [column.name for column in preview.columns] == ["id", "name"]
    assert facts(preview)["rows"] == "1"
    assert any("line 4 is the header" in note for note in preview.notes)


def test_unnamed_and_duplicate_columns(tmp_path: Path) -> None:
    preview = look(make(tmp_path, "a,a,,b,a\n1,2,3,4,5\n"))
    assert [column.name for column in preview.columns] == ["a", "a.1", "Unnamed: 2", "b", "a.2"]
    assert any("no name" in note for note in preview.notes)
    assert any("duplicate" in note and "'a'" in note for note in preview.notes)


def test_ragged_rows_are_padded_and_noted(tmp_path: Path) -> None:
    preview = look(make(tmp_path, "a,b,c\n1,2\n1,2,3,4\n5,6,7\n"))
    assert [column.name for column in preview.columns] == ["a", "b", "c", "Unnamed: 3"]
    assert preview.rows == (("1", "2", "", ""), ("1", "2", "3", "4"), ("5", "6", "7", ""))
    assert any("ragged" in note and "2 of the first 3 rows" in note for note in preview.notes)


def test_quoted_line_breaks_are_one_row(tmp_path: Path) -> None:
    preview = look(make(tmp_path, 'id,comment\r\n1,"two\r\nlines"\r\n2,"say ""hi"""\r\n'))
    assert preview.rows == (("1", "two\r\nlines"), ("2", 'say "hi"'))
    assert facts(preview)["rows"] == "2"
    assert facts(preview)["line endings"] == "CRLF"


# --- types -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("values", "expected"), [
    (["1", "-2", "+30"], "integer"),
    (["1", "2.5", "1e3", ".5"], "decimal"),
    (["1,234", "12,345,678"], "integer"),
    (["1,234.50", "2.5"], "decimal"),
    (["1.234,50", "7"], "decimal"),
    (["3,14", "0,5"], "decimal"),
    (["1,234", "2,345"], "text"),  # thousands or decimal comma: ambiguous
    (["007", "12"], "text"),  # leading zeros: an identifier
    (["true", "False", "YES", "no"], "boolean"),
    (["2025-01-02", "2024-12-31"], "date"),
    (["02/03/2025", "31/12/2024"], "date"),
    (["2 Mar 2025", "March 2, 2025"], "date"),
    (["2025-01-02 10:30", "2025-01-02T10:30:00Z", "2025-01-03"], "datetime"),
    (["2025-13-45"], "text"),
    (["", "  ", ""], "empty"),
    (["1", "NA", "", "3"], "integer"),
    (["NA", "null"], "text"),
    (["North", "1"], "text"),
])
def test_type_inference(values: list[str], expected: str) -> None:
    assert infer_type(values).type == expected


def test_empty_cells_are_counted(tmp_path: Path) -> None:
    preview = look(make(tmp_path, "a,b\n1,\n,\n3,x\n"))
    assert [(column.type, column.sample_nulls) for column in preview.columns] == [("integer", 1), ("text", 2)]


# --- row counts --------------------------------------------------------------------------------------


@pytest.mark.parametrize("content", [
    "a,b\n1,2\n3,4\n5,6\n",
    "a,b\n1,2\n3,4\n5,6",  # no final line break
    "a,b\r\n1,2\r\n3,4\r\n5,6\r\n",
    "a,b\r1,2\r3,4\r5,6\r",  # old Mac line endings
    "a,b\n1,2\n\n3,4\n5,6\n\n",  # blank lines are not rows
])
def test_row_count_is_exact_on_small_files(tmp_path: Path, content: str) -> None:
    assert facts(look(make(tmp_path, content)))["rows"] == "3"


def test_row_count_past_the_sample_counts_line_breaks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(delimited, "SAMPLE_BYTES", 4096)
    path = make(tmp_path, "id,value\n" + "".join(f"{i},{i * 3}\n" for i in range(20_000)))
    preview = look(path)
    assert facts(preview)["rows"] == "20,000"
    assert len(preview.rows) == 50
    assert any("line break" in note for note in preview.notes)


@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r"])
def test_row_count_is_estimated_when_the_budget_runs_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         ending: str) -> None:
    monkeypatch.setattr(delimited, "SAMPLE_BYTES", 4096)
    monkeypatch.setattr(text, "COUNT_CHUNK", 8192)
    monkeypatch.setattr(text, "COUNT_SECONDS", 0.0)
    rows = 50_000
    path = make(tmp_path, f"id,value{ending}" + "".join(f"{i % 1000},x{ending}" for i in range(rows)))
    preview = look(path)
    shown = facts(preview)["rows"]
    assert shown.startswith("≈ ")
    assert abs(int(shown[2:].replace(",", "")) - rows) < rows * 0.1
    assert any("estimated" in note for note in preview.notes)


def test_quoted_line_breaks_are_set_aside_in_the_count(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(delimited, "SAMPLE_BYTES", 4096)
    path = make(tmp_path, "id,comment\n" + "".join(f'{i},"line one\nline two"\n' for i in range(5000)))
    # Counted to the end as records (line breaks outside quotes), not lines: exact.
    assert facts(look(path))["rows"] == "5,000"
    # Past the time budget, the records counted are scaled to the file's size.
    monkeypatch.setattr(text, "COUNT_CHUNK", 8192)
    monkeypatch.setattr(text, "COUNT_SECONDS", 0.0)
    shown = facts(look(path))["rows"]
    assert shown.startswith("≈ ")
    assert abs(int(shown[2:].replace(",", "")) - 5000) < 5000 * 0.1


# --- bad input ---------------------------------------------------------------------------------------


def test_empty_file(tmp_path: Path) -> None:
    preview = look(make(tmp_path, b""))
    assert preview.error is None
    assert facts(preview)["rows"] == "0"
    assert preview.notes == ("the file is empty",)


def test_only_blank_lines(tmp_path: Path) -> None:
    preview = look(make(tmp_path, "\n\n,,,\n  \n"))
    assert preview.error is None
    assert preview.columns == ()
    assert any("only blank lines" in note for note in preview.notes)


def test_header_only(tmp_path: Path) -> None:
    preview = look(make(tmp_path, "a,b,c\n"))
    assert [(column.name, column.type) for column in preview.columns] == [("a", "empty"), ("b", "empty"),
                                                                          ("c", "empty")]
    assert preview.rows == ()
    assert facts(preview)["rows"] == "0"
    assert any("no data rows" in note for note in preview.notes)


@pytest.mark.parametrize("data", [
    b"id,x\n1,\x00\x00\x00\x01\x02\n",
    bytes(range(256)) * 40,
    bytes((i * 7919) % 255 + 1 for i in range(20_000)),  # no NUL, not UTF-8, full of control characters
    b"\x89PNG\r\n\x1a\n" + b"\x00" * 100,
    b"PK\x03\x04" + b"\x14\x00" * 100,  # an .xlsx saved under a .csv name
])
def test_binary_data_named_csv(tmp_path: Path, data: bytes) -> None:
    preview = look(make(tmp_path, data))
    assert preview.error is not None and preview.error.startswith("this does not look like text: ")
    assert preview.rows == ()
    assert "size" in facts(preview)


def test_a_single_huge_line_is_bounded(tmp_path: Path) -> None:
    path = make(tmp_path, b"x" * 6_000_000)
    preview = look(path)  # how fast: tests/bench/bounded_bench.py
    assert preview.error is None
    assert all(len(column.name) <= 200 for column in preview.columns)
    assert any("longer than" in note and "cut" in note for note in preview.notes)


def test_a_huge_cell_is_cut_for_display(tmp_path: Path) -> None:
    path = make(tmp_path, b"id,blob\n1," + b"y" * 6_000_000 + b"\n2,z\n")
    preview = look(path)
    assert preview.error is None
    assert preview.rows[0][0] == "1"
    assert len(preview.rows[0][1]) <= delimited.MAX_CELL
    assert preview.rows[0][1].endswith("…")
    assert facts(preview)["rows"] == "2"
    assert any("cut" in note for note in preview.notes)


def test_unterminated_quote_at_the_end(tmp_path: Path) -> None:
    preview = look(make(tmp_path, 'a,b\n1,2\n3,"never closed\n4,5\n'))
    assert preview.error is None
    assert preview.rows[0] == ("1", "2")
    assert preview.rows[1][1].startswith("never closed")
    assert any("line 3" in note and "never closed" in note for note in preview.notes)


def test_unreadable_file(tmp_path: Path) -> None:
    preview = inspect_delimited(tmp_path / "gone.csv")
    assert preview.error is not None and preview.error.startswith("cannot read gone.csv")


def test_the_preview_does_not_read_the_whole_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the sample is decoded and parsed: a bad byte far past it changes nothing but the row count."""
    monkeypatch.setattr(delimited, "SAMPLE_BYTES", 4096)
    path = make(tmp_path, b"a,b\n" + b"1,2\n" * 5000 + b"\xff\xfe\x00 garbage\n")
    preview = look(path)
    assert preview.error is None
    assert facts(preview)["encoding"] == "utf-8"
    assert facts(preview)["rows"] == "5,001"
