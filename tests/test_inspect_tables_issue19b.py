"""Issue 19, tables items 4, 5 and 7: title lines above the header (told, and left out by
``prepare --skip-rows``), space-separated and ``'``-quoted files, and row estimates with quoted line breaks."""

from __future__ import annotations

import codecs
import os
from pathlib import Path

import pytest

from liferaft.cli import main
from liferaft.core import preflight
from liferaft.core.fixes import available_fixes
from liferaft.core.inspect.delimited import inspect_delimited, title_lines

TITLED = (
    "\"Quarterly sales by region, 2023 to 2024\",,,\r\n"
    "Source: Office for Regional Statistics,,,\r\n"
    ",,,\r\n"
    "region,quarter,units,revenue\r\n"
    + "".join(f"R{n % 7},Q{n % 4 + 1},{n * 3},{n * 11}.50\r\n" for n in range(1, 41))
)


def _codes(path: Path) -> set[str]:
    return {problem.code for problem in preflight.check_file(path).problems}


# --- item 4: title lines above the header ---------------------------------------------------------------


def test_title_lines_are_told_and_the_preview_starts_at_the_header(tmp_path: Path) -> None:
    path = tmp_path / "sales.csv"
    path.write_bytes(TITLED.encode())
    preview = inspect_delimited(path)
    facts = dict(preview.facts)
    assert facts["rows"] == "40" and facts["columns"] == "4"
    assert [column.name for column in preview.columns] == ["region", "quarter", "units", "revenue"]
    assert any(note.startswith("3 title lines above the header") for note in preview.notes)
    check = preflight.check_file(path, "sales.csv")
    (problem,) = [problem for problem in check.problems if problem.code == "title_lines"]
    assert problem.message.startswith("3 title lines above the header")
    assert "liferaft prepare sales.csv --skip-rows 3" in problem.fix
    fix = available_fixes(check)[0]
    assert (fix.action, fix.argument, fix.recommended) == ("skip_rows", "3", True)


@pytest.mark.parametrize("text", [
    "region,quarter,units\n" + "".join(f"R{n},Q1,{n}\n" for n in range(20)),  # an ordinary table
    "comment\n" + "".join(f"review {n} was fine\n" for n in range(20)),  # one column
    "a,b\n" + "".join(f"{n},{n},\n" for n in range(20)),  # rows one field wider than the header
    "Title only\nand a line\nof prose\nwith no table\nbelow it\nat all\n",
    # a header with blanks in it, over data rows that fill every cell (numbers): the first line is the header
    "id,,,score\n" + "".join(f"{n},{n * 2},{n * 3},{n * 4}\n" for n in range(20)),
])
def test_no_title_lines_where_the_first_line_is_the_header(tmp_path: Path, text: str) -> None:
    assert title_lines(text, ",") is None
    path = tmp_path / "plain.csv"
    path.write_text(text, encoding="utf-8")
    assert "title_lines" not in _codes(path)


def test_report_details_above_the_table_are_all_above_the_header() -> None:
    """A report's details under its title (key and value in two cells of a wide line) look like a narrow table
    of their own: the header is the line that names at least twice as many columns (seen in real payment
    reports, tests/data/real/tables/frictionless-gla-*)."""
    text = (",Payments over 500,,,,\n,Period:,13,,,\n,Start:,4 March,,,\n,End:,31 March,,,\n,Year:,2011/12,,,\n"
            ",,,,,\n,Vendor,Name,Account,Amount,Date\n"
            + "".join(f",{n},Vendor {n},5104,{n}00.50,21 Mar 2012\n" for n in range(20)))
    found = title_lines(text, ",")
    assert found is not None and found.lines == 6


def test_a_comment_line_holding_the_delimiter_is_a_title() -> None:
    text = "# Hey, this file has a comment first\nid,name,slug\n" + "".join(f"c{n},Name {n},name-{n}\n"
                                                                         for n in range(20))
    found = title_lines(text, ",")
    assert found is not None and found.lines == 1


def test_prepare_skip_rows_writes_the_rest_byte_for_byte(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "sales.csv"
    data = codecs.BOM_UTF8 + TITLED.encode()
    path.write_bytes(data)
    code = main(["prepare", "sales.csv", str(tmp_path), "--skip-rows", "3"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "the first line is now: region,quarter,units,revenue" in out and "40 rows" in out
    copy = tmp_path / "prepared" / "sales.skip3.csv"
    rest = TITLED.encode().split(b"\r\n", 3)[3]
    assert copy.read_bytes() == codecs.BOM_UTF8 + rest  # the byte-order mark kept, the rest as it was
    assert path.read_bytes() == data
    assert "title_lines" not in _codes(copy)
    # Never over an existing file: a second run takes the next free name.
    assert main(["prepare", "sales.csv", str(tmp_path), "--skip-rows", "3"]) == 0
    assert sorted(os.listdir(tmp_path / "prepared")) == ["sales-2.skip3.csv", "sales.skip3.csv"]


def test_prepare_skip_rows_refuses_to_cut_a_record_or_leave_nothing(tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "notes.csv"
    path.write_text('id,note\n1,"two\nlines"\n2,plain\n', encoding="utf-8")
    code = main(["prepare", "notes.csv", str(tmp_path), "--skip-rows", "2"])
    _out, err = capsys.readouterr()
    assert code == 1 and "inside a quoted cell" in err and err.count("\n") == 1
    code = main(["prepare", "notes.csv", str(tmp_path), "--skip-rows", "9"])
    _out, err = capsys.readouterr()
    assert code == 2 and "would leave no table" in err and err.count("\n") == 1
    code = main(["prepare", "notes.csv", str(tmp_path), "--skip-rows", "0"])
    _out, err = capsys.readouterr()
    assert code == 2 and err.count("\n") == 1
    assert not (tmp_path / "prepared").exists()


# --- item 7: row counts past the first megabyte, with line breaks inside quoted cells ----------------------


def _multiline(path: Path, rows: int, dense: int, newline: str = "\n") -> None:
    """``rows`` records; the first ``dense`` each with a three-line quoted cell, every 10th after that only."""
    lines = ["id,comment,amount"]
    for n in range(rows):
        cell = '"line one\nline two\nline three"' if n < dense or n % 10 == 0 else "one line of text"
        lines.append(f"{n},{cell},{n * 1.5}")
    path.write_bytes((newline.join(lines) + newline).encode())


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_rows_past_the_sample_are_counted_as_records_not_lines(tmp_path: Path, newline: str) -> None:
    path = tmp_path / "comments.csv"
    _multiline(path, 60_000, dense=2_000, newline=newline)
    assert path.stat().st_size > 1 << 20
    preview = inspect_delimited(path)
    # The first rows hold far more line breaks than the rest: scaling the lines by them ran well under.
    assert dict(preview.facts)["rows"] == "60,000"
    assert any("counted as records, not lines" in note for note in preview.notes)


def test_a_stray_quote_falls_back_to_scaling_the_lines(tmp_path: Path) -> None:
    path = tmp_path / "screens.csv"
    lines = ["id,item,note"] + [f'{n},5" screen,"a\nb"' if n % 2 else f"{n},plain,text" for n in range(60_000)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert path.stat().st_size > 1 << 20
    preview = inspect_delimited(path)
    rows = dict(preview.facts)["rows"]
    assert rows.startswith("≈") and not any("counted as records" in note for note in preview.notes)


# --- item 5: space-separated and '-quoted files ------------------------------------------------------------


def test_a_space_separated_file_is_said_to_be_so(tmp_path: Path) -> None:
    path = tmp_path / "weather.csv"
    path.write_text("year  month   temp   rain\n" + "".join(f"{1990 + n}  {n % 12 + 1:<6}  {n % 9}.5    {n}.2\n"
                                                          for n in range(30)), encoding="utf-8")
    preview = inspect_delimited(path)
    assert dict(preview.facts)["delimiter"] == "space"
    assert any(note.startswith("separated by runs of spaces") for note in preview.notes)
    assert not any("no delimiter found" in note for note in preview.notes)
    codes = _codes(path)
    assert "space_separated" in codes and "delimiter" not in codes and "one_column" not in codes


def test_a_single_quoted_file_is_read_with_its_quote(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text("id,name,note\n" + "".join(f"{n},'Smith, J{n}','late, again'\n" for n in range(20)),
                    encoding="utf-8")
    preview = inspect_delimited(path)
    assert dict(preview.facts)["columns"] == "3"
    assert not any("ragged rows" in note for note in preview.notes)
    assert any(note.startswith("quoted with '") for note in preview.notes)
    assert preview.rows[0] == ("0", "Smith, J0", "late, again")
    assert "single_quotes" in _codes(path) and "ragged_rows" not in _codes(path)


def test_apostrophes_in_text_are_not_quotes(tmp_path: Path) -> None:
    path = tmp_path / "reviews.csv"
    path.write_text("id,review\n" + "".join(f"{n},it's fine but don't 'rush'\n" for n in range(20)), encoding="utf-8")
    preview = inspect_delimited(path)
    assert not any("quoted with '" in note for note in preview.notes)


# --- item 4: a header of two rows --------------------------------------------------------------------------


@pytest.mark.parametrize("head", [
    "region,Sales,,Costs,\n,2024,2025,2024,2025\n",  # sub-names under groups (years: numbers, but names here)
    "region,depth,temp,ph,flow\n,m,degC,,l/s\n",  # a units row, with a blank where a column has none
])
def test_a_header_of_two_rows_is_told(tmp_path: Path, head: str) -> None:
    path = tmp_path / "two.csv"
    path.write_text(head + "".join(f"R{n},{n}.5,{n + 1},{n * 2},{n * 3}\n" for n in range(12)), encoding="utf-8")
    preview = inspect_delimited(path)
    assert any(note.startswith("the header spans 2 rows (lines 1–2)") for note in preview.notes)
    (problem,) = [problem for problem in preflight.check_file(path, "two.csv").problems
                  if problem.code == "multi_row_header"]
    assert "header=[0, 1]" in problem.fix


@pytest.mark.parametrize("text", [
    "name,age,city\nAnn,,Oslo\n" + "".join(f"P{n},{20 + n},City{n}\n" for n in range(12)),  # a row missing a number
    "id,score\na,n/a\n" + "".join(f"r{n},{n}\n" for n in range(12)),  # a missing-value mark, not a name
    ",a,b\n" + "".join(f"{n},{n * 2},{n * 3}\n" for n in range(12)),  # a saved index: its first name is blank
    "name,x,y\nAnn,,\n" + "".join(f"P{n},{n},{n}\n" for n in range(12)),  # a first row with no numbers at all
    "comment\n" + "".join(f"review {n} was fine\n" for n in range(12)),  # one column of text
])
def test_an_ordinary_first_row_is_not_a_second_header(tmp_path: Path, text: str) -> None:
    path = tmp_path / "plain.csv"
    path.write_text(text, encoding="utf-8")
    assert not any("header spans" in note for note in inspect_delimited(path).notes)
    assert "multi_row_header" not in _codes(path)


def test_title_lines_of_a_file_quoted_with_apostrophes(tmp_path: Path) -> None:
    """The title is read with the file's own quote: with ``"`` its ``;`` would split it in two, and a title of two
    cells reads as a header."""
    text = ("'Sales report; North region'\n'region';'month';'revenue'\n"
            + "".join(f"'R{n % 3}';'2025-{n % 12 + 1:02d}';'{n * 7};5'\n" for n in range(30)))
    path = tmp_path / "quoted.csv"
    path.write_text(text, encoding="utf-8")
    preview = inspect_delimited(path)
    assert any(note.startswith("1 title line above the header") for note in preview.notes), preview.notes
    assert [column.name for column in preview.columns] == ["region", "month", "revenue"]
