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


# --- 2. stray NUL bytes are a warning with a fix, not a block --------------------------------------------------


def _with_nuls(tmp_path: Path, name: str = "orders.csv") -> Path:
    rows = ["id,customer,amount"] + [f"{n},customer {n},{n * 3}.50" for n in range(1, 300)]
    data = ("\n".join(rows) + "\n").encode("utf-8")
    # Three NULs where a crashed writer left them: inside a cell, at a line's end, and two in a row.
    data = data.replace(b"customer 17,", b"custo\x00mer 17,").replace(b"120.50\n", b"120.50\x00\n")
    data = data.replace(b"customer 250", b"customer \x00\x00250")
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_a_few_nul_bytes_are_a_warning_with_their_count(tmp_path: Path) -> None:
    path = _with_nuls(tmp_path)
    preview = inspect_delimited(path)
    assert preview.error is None
    assert dict(preview.facts)["rows"] == "299"
    assert any("4 stray NUL bytes" in note for note in preview.notes)
    check = preflight.check_file(path, "orders.csv")
    assert check.verdict == preflight.WARN
    (problem,) = [problem for problem in check.problems if problem.code == "nul_bytes"]
    assert problem.message.startswith("4 stray NUL bytes") and "--strip-nul" in problem.fix
    from liferaft.core.fixes import available_fixes

    assert available_fixes(check)[0].action == "strip_nul"


def test_prepare_strip_nul_removes_them_and_nothing_else(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    path = _with_nuls(tmp_path)
    before = path.read_bytes()
    code = main(["prepare", "orders.csv", str(tmp_path), "--strip-nul"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "removed 4 NUL bytes" in out
    copy = tmp_path / "prepared" / "orders.no-nul.csv"
    assert copy.read_bytes() == before.replace(b"\x00", b"")
    assert path.read_bytes() == before
    assert "nul_bytes" not in _codes(copy)
    # Nothing to remove: one line, exit 1, nothing written.
    code = main(["prepare", "prepared/orders.no-nul.csv", str(tmp_path), "--strip-nul"])
    out, err = capsys.readouterr()
    assert code == 1 and "no NUL bytes" in err and err.count("\n") == 1
    assert sorted(os.listdir(tmp_path / "prepared")) == ["orders.no-nul.csv"]


def test_a_text_file_with_a_stray_nul_is_previewed(tmp_path: Path) -> None:
    from liferaft.core.inspect import text as textio
    from liferaft.core.roles import sniff_kind

    data = b"Meeting notes\n" + b"We agreed on the plan for the next quarter.\n" * 40 + b"end\x00\n"
    path = tmp_path / "notes.txt"
    path.write_bytes(data)
    preview = textio.inspect_text(path)
    assert preview.error is None and any("1 stray NUL byte " in note for note in preview.notes)
    assert sniff_kind(data[:512]) == "text"


@pytest.mark.parametrize("data", [
    b"SQLite format 3\x00" + b"\x00\x10\x00\x01\x01" * 200,
    bytes(range(256)) * 8,
    b"a,b\n" + b"1,2\x00\x00\x00\x00\n" * 50,  # NULs in every line: not strays
])
def test_binary_data_with_nuls_is_still_not_text(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "data.csv"
    path.write_bytes(data)
    preview = inspect_delimited(path)
    assert preview.error is not None and preview.error.startswith("this does not look like text")
    assert preflight.check_file(path).verdict == preflight.BLOCK


# --- 3. Latin-1 / cp1252 bytes 0x80-0x9F are text -------------------------------------------------------------

# An export from an old till: bullets, dashes and bytes cp1252 leaves undefined (0x81, 0x8F, 0x9D).
TILL = (b"id,name,note\n0,x,\x81\n1,x,\x8f \x8f \x8f\n2,x,\x95 x\x9dy caf\xe9\n3,x,caf\xe9 \x95 x\x9dy x\x9dy \x8f\n"
        b"4,x,\x81 x\x9dy caf\xe9\n5,x,x\x9dy caf\xe9 \x96 discount\n6,x,\x95 \x81 \x8f x\x9dy x\x9dy\n"
        b"7,x,\x81 x\x9dy \x8f\n8,x,x\x9dy x\x9dy caf\xe9\n9,x,caf\xe9 \x81 x\x9dy\n")


def test_a_latin1_table_with_c1_bytes_is_text(tmp_path: Path) -> None:
    path = tmp_path / "till.csv"
    path.write_bytes(TILL)
    preview = inspect_delimited(path)
    assert preview.error is None
    facts = dict(preview.facts)
    assert facts["encoding"] == "latin-1 (guessed)" and facts["rows"] == "10" and facts["columns"] == "3"
    assert preview.rows[2] == ("2", "x", "\x95 x\x9dy café")
    assert preflight.check_file(path).verdict != preflight.BLOCK
    result = prepare.to_utf8(path)
    assert result.written[0].path.read_bytes() == TILL.decode("latin-1").encode("utf-8")


def test_a_western_file_without_a_known_extension_is_text(tmp_path: Path) -> None:
    from liferaft.core.roles import sniff_kind

    data = b"name;city;note\nAnn;K\xf6ln;\x93fine\x94 \x96 paid \x80 12\nBob;Z\xfcrich;\x85\n"
    assert sniff_kind(data) == "text"
    path = tmp_path / "export.dat"
    path.write_bytes(data)
    assert preflight.check_file(path).kind == "text"
    # Random bytes read as Western are full of control characters: still binary.
    assert sniff_kind(bytes(range(1, 256)) * 2) == "other"
