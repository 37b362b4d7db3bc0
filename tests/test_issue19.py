"""Issue 19, real files and real exports: a delimiter told from consistent rows and fixers that verify their
copy before publishing it (1), stray NUL bytes (2), Latin-1 / cp1252 bytes in 0x80–0x9F (3)."""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import pytest

from liferaft.cli import main
from liferaft.core import preflight, prepare, prepare_text
from liferaft.core.inspect.delimited import inspect_delimited, sniff_delimiter
from liferaft.core.prepare_common import PrepareError


def _hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _facts(path: Path) -> dict[str, str]:
    return dict(inspect_delimited(path).facts)


def _codes(path: Path) -> set[str]:
    return {problem.code for problem in preflight.check_file(path).problems}


def _reviews(count: int, stray: dict[int, str]) -> str:
    """A one-column file of free text, with ``stray`` lines (by number) replaced."""
    lines = ["comment"]
    for number in range(1, count + 1):
        lines.append(stray.get(number, f"review {number} was fine and arrived on time"))
    return "\n".join(lines) + "\n"


# --- 1. a delimiter is told from consistent rows --------------------------------------------------------------


def test_a_stray_semicolon_in_free_text_is_not_the_delimiter(tmp_path: Path) -> None:
    text = _reviews(200, {57: "ok; would buy again"})
    assert sniff_delimiter(text) is None
    assert sniff_delimiter(_reviews(200, {5: "a; b", 80: "c; d", 150: "e; f; g"})) is None
    path = tmp_path / "reviews.csv"
    path.write_text(text, encoding="utf-8")
    preview = inspect_delimited(path)
    assert [column.name for column in preview.columns] == ["comment"]
    assert not any("ragged" in note for note in preview.notes)
    assert not {"delimiter", "ragged_rows"} & _codes(path)


def test_a_real_semicolon_table_with_a_few_odd_rows_keeps_its_delimiter() -> None:
    rows = ["id;name;amount"] + [f"{n};item {n};{n},50" for n in range(1, 120)]
    rows[30] = "30;item; with a semicolon;3,50"  # one ragged row among consistent ones
    rows[31] = "31"  # and one short one
    assert sniff_delimiter("\n".join(rows) + "\n") == ";"


def test_comma_copy_of_free_text_keeps_each_line_one_cell(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "reviews.csv"
    path.write_bytes(_reviews(200, {57: "ok; would buy again", 90: "très bien"}).encode("cp1252"))
    before = _hash(path)
    result = prepare.to_comma(path)
    (written,) = result.written
    with open(written.path, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert all(len(row) == 1 for row in rows)
    assert rows[57] == ["ok; would buy again"] and rows[90] == ["très bien"]
    assert _hash(path) == before
    # And the check no longer recommends it for the delimiter.
    main(["check", str(tmp_path), "reviews.csv"])
    out = capsys.readouterr().out
    assert "reviews.csv" in out and "--comma" not in out and "semicolon" not in out, out


class _Corrupting(io.RawIOBase):
    """A file being written that writes an "E" wherever it is given an "e" (a faulty writer or disk)."""

    def __init__(self, handle: BinaryIO) -> None:
        self._handle = handle

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._handle.write(bytes(data).replace(b"e", b"E"))
        return len(data)

    def fileno(self) -> int:
        return self._handle.fileno()

    def flush(self) -> None:
        self._handle.flush()


@pytest.fixture
def corrupting_writer(monkeypatch: pytest.MonkeyPatch) -> None:
    real = prepare_text._new_file

    @contextlib.contextmanager
    def faulty(path: Path) -> Iterator[Any]:
        with real(path) as handle:
            yield _Corrupting(handle)

    monkeypatch.setattr(prepare_text, "_new_file", faulty)


@pytest.mark.parametrize("fixer", ["to_comma", "to_utf8", "drop_columns"])
def test_a_copy_that_does_not_read_back_as_the_original_is_not_published(
        tmp_path: Path, corrupting_writer: None, fixer: str) -> None:
    path = tmp_path / "people.csv"
    path.write_bytes("name;city;age\nZoé;Genève;31\nAnn;Bern;40\n".encode("cp1252"))
    before = _hash(path)
    with pytest.raises(PrepareError, match="no copy was written") as raised:
        if fixer == "drop_columns":
            prepare.drop_columns(path, ["age"])
        else:
            getattr(prepare, fixer)(path)
    assert "\n" not in str(raised.value)
    assert _hash(path) == before
    assert not (tmp_path / "prepared").exists() or not os.listdir(tmp_path / "prepared")


def test_dropping_columns_refuses_to_lose_cells_past_the_header(tmp_path: Path) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text("a,b,c\n1,2,3\n4,5,6,lost value\n", encoding="utf-8")
    with pytest.raises(PrepareError, match="past the header"):
        prepare.drop_columns(path, ["b"])
    assert not (tmp_path / "prepared").exists() or not os.listdir(tmp_path / "prepared")
