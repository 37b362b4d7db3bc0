"""Issue #14, items 7 and 8: a sparse, very wide sheet (a value in XFD1) and a wrong encoding guess."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from liferaft.core import prepare
from liferaft.core.inspect import text as textio
from liferaft.core.inspect.workbook import inspect_workbook


def _far_workbook(path: Path, rows: int = 300) -> Path:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Data")
    sheet.append(["id", "name", None, "x", *([None] * (16384 - 5)), "note"])  # "note" in XFD1
    for number in range(rows):
        sheet.append([number, f"n{number}", None, None if number % 3 else number * 2])
    book.save(path)
    return path


# --- item 7 ------------------------------------------------------------------------------------------------


def test_check_flags_a_sheet_with_a_lone_value_in_xfd(tmp_path: Path) -> None:
    preview = inspect_workbook(_far_workbook(tmp_path / "wide.xlsx"))
    sparse = [note for note in preview.notes if note.startswith("sparse and very wide")]
    assert sparse and "XFD" in sparse[0] and "A–D" in sparse[0]


def test_a_narrow_sheet_is_not_flagged(tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["a", None, "c"])
    book.active.append([1, None, 3])
    book.save(tmp_path / "narrow.xlsx")
    assert not any("sparse" in note for note in inspect_workbook(tmp_path / "narrow.xlsx").notes)


def test_export_writes_the_used_columns_and_keeps_the_far_value(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    result = prepare.export_sheet(_far_workbook(tmp_path / "wide.xlsx"), "Data",
                                  progress=lambda done, total: calls.append((done, total)))
    rows = list(csv.reader(result.written[0].path.open(encoding="utf-8", newline="")))
    assert rows[0] == ["id", "name", "", "x", "note"]  # the inner empty column C is kept, the gap is not
    assert rows[1] == ["0", "n0", "", "0", ""] and rows[2] == ["1", "n1", "", "", ""]
    assert len(rows) == 301 and {len(row) for row in rows} == {5}
    assert result.written[0].rows == 300
    assert any("XFD" in note and "16,379 empty column" in note for note in result.notes)
    assert calls and calls[-1][0] == calls[-1][1] > 0
    assert all(done <= total for done, total in calls)


def test_export_interrupted_leaves_nothing(tmp_path: Path) -> None:
    book = _far_workbook(tmp_path / "wide.xlsx", rows=3000)

    def interrupt(done: int, total: int) -> None:
        if done > total // 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        prepare.export_sheet(book, "Data", progress=interrupt)
    assert sorted(os.listdir(tmp_path)) == ["wide.xlsx"]


# --- item 8 ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252"])
@pytest.mark.parametrize("content", ["1;ä;10\n", "a;é\n", "x;ß;y\n2;ö;3\n", "Köln;Straße\n"])
def test_tiny_western_files_round_trip(tmp_path: Path, encoding: str, content: str) -> None:
    (tmp_path / "t.csv").write_bytes(content.encode(encoding))
    result = prepare.to_utf8(tmp_path / "t.csv")
    assert result.written[0].path.read_bytes() == content.encode("utf-8")


def test_a_tiny_cp1252_euro_round_trips(tmp_path: Path) -> None:
    (tmp_path / "e.csv").write_bytes("id;price\n1;5 €\n".encode("cp1252"))
    assert prepare.to_utf8(tmp_path / "e.csv").written[0].path.read_text(encoding="utf-8") == "id;price\n1;5 €\n"
    comma = prepare.to_comma(tmp_path / "e.csv").written[0].path
    assert comma.read_text(encoding="utf-8") == "id,price\n1,5 €\n"


def test_the_guess_keeps_delimiters_on_tiny_latin1(tmp_path: Path) -> None:
    decoded = textio.decode_head("1;ä;10\n".encode("latin-1"), True)
    assert decoded.text == "1;ä;10\n" and decoded.codec in ("latin-1", "cp1252")


def _johab(data: bytes, complete: bool) -> textio.Decoded:
    return textio.Decoded(textio._decode(data, "johab", complete, errors="replace"), "johab", "johab (guessed)",
                          guessed=True)


@pytest.mark.parametrize("fixer", [prepare.to_utf8, prepare.to_comma])
def test_a_wrong_reading_is_refused_and_nothing_is_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           fixer) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(textio, "_guess", _johab)  # the old guess: johab swallows the ";" after "ä"
    (tmp_path / "t.csv").write_bytes("id;name;n\n1;ä;10\n2;b;20\n".encode("latin-1"))
    with pytest.raises(prepare.PrepareError, match=r"johab.*line 2.*no copy was written") as caught:
        fixer(tmp_path / "t.csv")
    assert "\n" not in str(caught.value)
    assert sorted(os.listdir(tmp_path)) == ["t.csv"]
