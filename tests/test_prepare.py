"""`liferaft prepare` and liferaft.core.prepare: fixed copies under prepared/, the original never touched."""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import os
import random
from pathlib import Path

import pytest

from liferaft.cli import main
from liferaft.core import preflight, prepare
from liferaft.core.vendor import upload_limits


def _hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _csv_with_quoted_newlines(path: Path, rows: int = 3000, *, last_newline: bool = False) -> bytes:
    rng = random.Random(4)
    lines = [b"id,name,comment\r\n"]
    for number in range(rows):
        if number % 7 == 0:
            comment = b'"line one\nline two, with a comma\r\nand ""quotes"""'
        else:
            comment = b"plain " + str(rng.random()).encode()
        lines.append(b"%d,name %d,%s\r\n" % (number, number, comment))
    data = b"".join(lines)
    if not last_newline:
        data = data.rstrip(b"\r\n")
    path.write_bytes(data)
    return data


def _part_number(path: Path) -> int:
    return int(path.name.rsplit(".part", 1)[1].split(".")[0])


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _reassemble(parts: list[Path]) -> bytes:
    first = parts[0].read_bytes()
    header_end = first.index(b"\n") + 1
    header = first[:header_end]
    data = first
    for part in parts[1:]:
        body = part.read_bytes()
        assert body.startswith(header)
        data += body[len(header):]
    return data


@pytest.mark.parametrize("last_newline", [False, True])
def test_split_parts_fit_and_reassemble_exactly(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                last_newline: bool) -> None:
    source = tmp_path / "SOURCE"
    source.mkdir()
    original = _csv_with_quoted_newlines(source / "big.csv", last_newline=last_newline)
    before = _hash(source / "big.csv")
    code, out, err = _run(capsys, "prepare", "SOURCE/big.csv", str(tmp_path), "--split-mb", "0.02")
    assert code == 0, err
    parts = sorted((source / "prepared").glob("big.part*.csv"), key=_part_number)
    assert len(parts) >= 3
    assert all(part.stat().st_size <= 20_000 for part in parts)
    assert _reassemble(parts) == original
    for part in parts:
        assert f"SOURCE/prepared/{part.name}" in out
        body = part.read_bytes()[len(b"id,name,comment\r\n"):]
        assert body.count(b'"') % 2 == 0  # no quoted cell is cut in two
    assert _hash(source / "big.csv") == before
    assert not [name for name in os.listdir(source / "prepared") if name.startswith(".liferaft-tmp-")]


def test_split_never_overwrites(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    original = _csv_with_quoted_newlines(tmp_path / "t.csv")
    assert _run(capsys, "prepare", "t.csv", str(tmp_path), "--split-mb", "0.05")[0] == 0
    first = {p.name: p.read_bytes() for p in (tmp_path / "prepared").iterdir() if p.is_file()}
    code, out, _ = _run(capsys, "prepare", "t.csv", str(tmp_path), "--split-mb", "0.05")
    assert code == 0
    assert "prepared/t-2.part1.csv" in out
    for name, data in first.items():
        assert (tmp_path / "prepared" / name).read_bytes() == data
    again = sorted((tmp_path / "prepared").glob("t-2.part*.csv"), key=_part_number)
    assert _reassemble(again) == original


def test_split_of_a_small_file_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "s.csv").write_text("a,b\n1,2\n")
    result = prepare.split_csv(tmp_path / "s.csv", 1)
    assert result.written == () and "nothing to split" in result.notes[0]
    assert not (tmp_path / "prepared").exists()


def test_split_refuses_a_row_longer_than_a_part(tmp_path: Path) -> None:
    (tmp_path / "long.csv").write_bytes(b"a,b\n1," + b"x" * 30_000 + b"\n2,3\n")
    with pytest.raises(prepare.PrepareError, match="longer than"):
        prepare.split_csv(tmp_path / "long.csv", 0.01)
    assert not list((tmp_path / "prepared").glob("*")) if (tmp_path / "prepared").exists() else True


def test_utf8_of_a_latin1_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = "name,city\n" + "".join(f"Zoë {i},Málaga\n" for i in range(200))
    (tmp_path / "eu.csv").write_bytes(text.encode("latin-1"))
    before = _hash(tmp_path / "eu.csv")
    code, out, err = _run(capsys, "prepare", "eu.csv", str(tmp_path), "--utf8")
    assert code == 0, err
    target = tmp_path / "prepared" / "eu.utf8.csv"
    assert target.read_bytes() == text.encode("utf-8")
    assert "prepared/eu.utf8.csv" in out
    assert _hash(tmp_path / "eu.csv") == before
    # Already UTF-8: nothing to do.
    assert prepare.to_utf8(target).written == ()


def _workbook(path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    first = book.active
    first.title = "Summary"
    first.append(["total"])
    first.append([1])
    second = book.create_sheet("Raw data")
    second.append(["when", "count", "price", "note"])
    second.append([datetime.date(2025, 3, 1), 7.0, 2.5, "ok, fine"])
    second.append([datetime.date(2025, 3, 2), 8, None, None])
    book.save(path)


def test_sheet_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _workbook(tmp_path / "book.xlsx")
    before = _hash(tmp_path / "book.xlsx")
    code, out, err = _run(capsys, "prepare", "book.xlsx", str(tmp_path), "--sheet", "Raw data")
    assert code == 0, err
    target = tmp_path / "prepared" / "book.raw_data.csv"
    assert target.read_text("utf-8") == ('when,count,price,note\n2025-03-01,7,2.5,"ok, fine"\n'
                                         "2025-03-02,8,,\n")
    assert "prepared/book.raw_data.csv" in out
    assert _hash(tmp_path / "book.xlsx") == before
    code, _, err = _run(capsys, "prepare", "book.xlsx", str(tmp_path), "--sheet", "Nope")
    assert code == 2 and "'Summary', 'Raw data'" in err


def test_sheet_export_refuses_a_zip_bomb(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import zipfile

    with zipfile.ZipFile(tmp_path / "bomb.xlsx", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/sharedStrings.xml", b"\0" * (20 * 1000 * 1000))
    code, _, err = _run(capsys, "prepare", "bomb.xlsx", str(tmp_path), "--sheet", "x")
    assert code == 1 and "zip bomb" in err
    assert not (tmp_path / "prepared").exists()


def test_drop_columns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = "id;name;secret;city\n1;Zoë;x;\"Paris; FR\"\n2;Al;y;Rome\n".encode("latin-1")
    (tmp_path / "people.csv").write_bytes(data)
    code, out, err = _run(capsys, "prepare", "people.csv", str(tmp_path), "--drop-columns", "secret,id")
    assert code == 0, err
    target = tmp_path / "prepared" / "people.trimmed.csv"
    assert target.read_text("utf-8") == "name,city\nZoë,Paris; FR\nAl,Rome\n"
    assert "2 rows" in out
    assert (tmp_path / "people.csv").read_bytes() == data
    code, _, err = _run(capsys, "prepare", "people.csv", str(tmp_path), "--drop-columns", "nope")
    assert code == 2 and "'id', 'name', 'secret', 'city'" in err


@pytest.mark.parametrize("flag", [["--split-mb", "0.001"], ["--utf8"], ["--drop-columns", "a"]])
def test_bad_input_fails_cleanly(tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: list[str]) -> None:
    (tmp_path / "empty.csv").write_bytes(b"")
    (tmp_path / "binary.csv").write_bytes(bytes(range(256)) * 40)
    for name in ("empty.csv", "binary.csv"):
        code, _, err = _run(capsys, "prepare", name, str(tmp_path), *flag)
        assert code == 1, (name, err)
        assert err.count("\n") == 1 and "Traceback" not in err
    code, _, err = _run(capsys, "prepare", "missing.csv", str(tmp_path), *flag)
    assert code == 2 and "no such file" in err
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)  # opening it would block: the test would hang
    code, _, err = _run(capsys, "prepare", "pipe.csv", str(tmp_path), *flag)
    assert code == 2 and "not a regular file" in err
    assert not (tmp_path / "prepared").exists() or not list((tmp_path / "prepared").iterdir())


def test_header_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "h.csv").write_bytes(b"a,b,c\n")
    code, _, err = _run(capsys, "prepare", "h.csv", str(tmp_path), "--split-mb", "0.001")
    assert code == 1 and "only a header" in err
    code, _, err = _run(capsys, "prepare", "h.csv", str(tmp_path), "--drop-columns", "b")
    assert code == 0
    assert (tmp_path / "prepared" / "h.trimmed.csv").read_text() == "a,c\n"


def test_exactly_one_action(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.csv").write_text("a\n1\n")
    assert _run(capsys, "prepare", "a.csv", str(tmp_path))[0] == 2
    assert _run(capsys, "prepare", "a.csv", str(tmp_path), "--utf8", "--split-mb", "1")[0] == 2


def test_demo_fixes_pass_the_check(tmp_path: Path, capsys: pytest.CaptureFixture[str], copy_demo) -> None:  # type: ignore[no-untyped-def]
    from liferaft.core.demo import CUSTOMERS, TRANSACTIONS

    root = copy_demo(tmp_path / "demo", big_csv_mb=0.3)
    sources = sorted(p for p in (root / "SOURCE").iterdir() if p.is_file())
    hashes = {p: _hash(p) for p in sources}
    # Scaled down: a 0.1 MB spreadsheet limit stands for the 50 MB one.
    limits = dataclasses.replace(upload_limits(), spreadsheet_mb=0.1)
    codes = {p.code for p in preflight.check_file(root / TRANSACTIONS, limits=limits).problems}
    assert "too_big" in codes
    assert _run(capsys, "prepare", TRANSACTIONS, str(root), "--split-mb", "0.08")[0] == 0
    parts = sorted((root / "SOURCE" / "prepared").glob("transactions_2025.part*.csv"))
    assert len(parts) >= 4
    for part in parts:
        check = preflight.check_file(part, limits=limits)
        assert check.verdict != preflight.BLOCK
        assert not {p.code for p in check.problems} & {"too_big", "near_size_limit"}

    assert "encoding" in {p.code for p in preflight.check_file(root / CUSTOMERS).problems}
    assert _run(capsys, "prepare", CUSTOMERS, str(root), "--utf8")[0] == 0
    fixed = preflight.check_file(root / "SOURCE" / "prepared" / "customers_eu.utf8.csv")
    assert "encoding" not in {p.code for p in fixed.problems}

    assert _run(capsys, "prepare", "SOURCE/budget_2026.xlsx", str(root), "--sheet", "Budget")[0] == 0
    sheet = preflight.check_file(root / "SOURCE" / "prepared" / "budget_2026.budget.csv")
    assert sheet.verdict == preflight.OK, sheet.problems
    assert {p: _hash(p) for p in sources} == hashes
