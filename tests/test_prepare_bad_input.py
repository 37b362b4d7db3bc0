"""`liferaft prepare` on bad input: one clear line on stderr, the documented exit code, nothing left in prepared/
on failure, and the original byte for byte as it was."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from liferaft.cli import main
from liferaft.core import preflight

SPLIT = ("--split-mb", "1")
FIXERS = {"split": SPLIT, "utf8": ("--utf8",), "comma": ("--comma",), "drop": ("--drop-columns", "b"),
          "name": ("--name", "clearer")}


def _hashes(folder: Path) -> dict[str, str]:
    return {entry.name: hashlib.sha256(entry.read_bytes()).hexdigest()
            for entry in folder.iterdir() if entry.is_file() and not entry.is_symlink()}


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Path]:
    """A folder of bad inputs; after the test, every one of them must be exactly as it was."""
    folder = tmp_path
    (folder / "empty.csv").write_bytes(b"")
    (folder / "header.csv").write_bytes(b"a,b,c\n")
    (folder / "binary.csv").write_bytes(bytes(range(256)) * 64)
    rows = "a;b;c\r\n" + "".join(f"Zoë {n};Málaga;{n},5\r\n" for n in range(400))
    (folder / "utf16.csv").write_bytes(rows.encode("utf-16"))  # with its byte-order mark
    (folder / "latin1.csv").write_bytes(rows.encode("latin-1"))
    (folder / "one_line.csv").write_bytes(b"x" * 6_000_000)  # a single 6 MB line: no line break at all
    long_row = b"a,b\n" + b"1,short\n" * 200_000 + b"2," + b"y" * 6_000_000 + b"\n3,short\n"
    (folder / "long_row.csv").write_bytes(long_row)  # 1.6 MB of rows, then one of 6 MB
    (folder / "open_quote.csv").write_bytes(b"a;b\n1;2\n3;\"never closed\n4;5\n" + b"6;7\n" * 300_000)
    (folder / "small_open_quote.csv").write_bytes(b"a;b\n1;2\n3;\"never closed\n4;5\n")
    before = _hashes(folder)
    yield folder
    assert _hashes(folder) == before


def _run(capsys: pytest.CaptureFixture[str], folder: Path, *args: str) -> tuple[int, str, str]:
    code = main(["prepare", *args[:1], str(folder), *args[1:]])
    out, err = capsys.readouterr()
    return code, out, err


def _assert_failed(result: tuple[int, str, str], code: int, says: str) -> None:
    got, out, err = result
    assert got == code, (got, out, err)
    assert err.count("\n") == 1 and err.startswith("liferaft: ") and "Traceback" not in err, err
    assert says in err, err
    assert "wrote" not in out


def _prepared(folder: Path) -> list[str]:
    target = folder / "prepared"
    return sorted(os.listdir(target)) if target.exists() else []


@pytest.mark.parametrize("fixer", sorted(FIXERS))
def test_empty_file(project: Path, capsys: pytest.CaptureFixture[str], fixer: str) -> None:
    _assert_failed(_run(capsys, project, "empty.csv", *FIXERS[fixer]), 1, "is empty")
    assert _prepared(project) == []


def test_header_only(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _assert_failed(_run(capsys, project, "header.csv", *SPLIT), 1, "only a header row")
    assert _prepared(project) == []
    code, out, _ = _run(capsys, project, "header.csv", "--utf8")
    assert code == 0 and "already UTF-8" in out and _prepared(project) == []
    code, out, _ = _run(capsys, project, "header.csv", "--drop-columns", "b")
    assert code == 0 and (project / "prepared" / "header.trimmed.csv").read_text() == "a,c\n"


@pytest.mark.parametrize("fixer", ["split", "utf8", "comma", "drop"])
def test_binary_data_named_csv(project: Path, capsys: pytest.CaptureFixture[str], fixer: str) -> None:
    _assert_failed(_run(capsys, project, "binary.csv", *FIXERS[fixer]), 1, "does not look like text")
    assert _prepared(project) == []


def test_utf16(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _assert_failed(_run(capsys, project, "utf16.csv", *SPLIT), 1, "--utf8")
    assert _prepared(project) == []
    text = (project / "utf16.csv").read_bytes().decode("utf-16")
    code, out, err = _run(capsys, project, "utf16.csv", "--utf8")
    assert code == 0, err
    assert (project / "prepared" / "utf16.utf8.csv").read_bytes() == text.encode("utf-8")
    assert "semicolon" in out and "--comma" in out
    code, out, err = _run(capsys, project, "utf16.csv", "--comma")
    assert code == 0, err
    fixed = project / "prepared" / "utf16.comma.csv"
    assert fixed.read_bytes() == text.replace(";", ",").replace("Málaga,", "Málaga,\"").replace(",5\r", ",5\"\r") \
        .encode("utf-8")
    assert not {p.code for p in preflight.check_file(fixed).problems} & {"encoding", "delimiter"}


def test_latin1(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = (project / "latin1.csv").read_bytes().decode("latin-1")
    assert _run(capsys, project, "latin1.csv", "--utf8")[0] == 0
    assert (project / "prepared" / "latin1.utf8.csv").read_bytes().decode("utf-8") == text
    assert _run(capsys, project, "latin1.csv", "--comma")[0] == 0
    fixed = project / "prepared" / "latin1.comma.csv"
    assert fixed.read_bytes().decode("utf-8").startswith("a,b,c\r\nZoë 0,Málaga,\"0,5\"\r\n")
    assert not {p.code for p in preflight.check_file(fixed).problems} & {"encoding", "delimiter"}


@pytest.mark.parametrize(("name", "says"), [("one_line.csv", "the header row of one_line.csv is longer than 1 MB"),
                                            ("long_row.csv", "longer than 1 MB")])
def test_a_row_longer_than_a_part(project: Path, capsys: pytest.CaptureFixture[str], name: str, says: str) -> None:
    _assert_failed(_run(capsys, project, name, *SPLIT), 1, says)
    assert _prepared(project) == []  # long_row.csv had a part written before the long row: it is gone too
    assert not (project / "prepared").exists()


def test_a_single_long_line_for_the_other_fixers(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, project, "one_line.csv", "--comma")
    assert code == 0 and "nothing to change" in out, err
    (project / "prepared").mkdir()
    (project / "prepared" / "wide.csv").write_bytes(b"x;" * 3_000_000 + b"\n")
    code, out, err = _run(capsys, project / "prepared", "wide.csv", "--comma")
    assert code == 0, err
    assert (project / "prepared" / "prepared" / "wide.comma.csv").read_bytes() == b"x," * 3_000_000 + b"\n"


def test_unterminated_quote(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Split: the open quote swallows 1.2 MB, more than a part holds.
    _assert_failed(_run(capsys, project, "open_quote.csv", *SPLIT), 1, "or a quote is never closed")
    for flag in (("--comma",), ("--drop-columns", "b")):
        _assert_failed(_run(capsys, project, "open_quote.csv", *flag), 1, "opened on line 3")
        _assert_failed(_run(capsys, project, "small_open_quote.csv", *flag), 1, "is never closed")
    assert _prepared(project) == []
    # --name copies the bytes as they are: it does not read cells.
    code, _, _ = _run(capsys, project, "small_open_quote.csv", "--name", "quoted")
    assert code == 0 and _prepared(project) == ["quoted.csv"]


def _workbook_bytes() -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    book.active.title = "Data"
    for number in range(2000):
        book.active.append([number, f"row {number}", number * 1.5])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_truncated_xlsx(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _workbook_bytes()
    (tmp_path / "cut.xlsx").write_bytes(data[: len(data) // 2])
    before = _hashes(tmp_path)
    _assert_failed(_run(capsys, tmp_path, "cut.xlsx", "--sheet", "Data"), 1, "damaged or cut short")
    assert _prepared(tmp_path) == [] and _hashes(tmp_path) == before


def test_xlsx_that_inflates_to_hundreds_of_mb(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _workbook_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as good, \
            zipfile.ZipFile(tmp_path / "bomb.xlsx", "w", zipfile.ZIP_DEFLATED, compresslevel=1) as bomb:
        for info in good.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                bomb.writestr(info, good.read(info))
                continue
            with bomb.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
                sheet.write(b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                            b"<sheetData>")
                row = b'<row><c t="inlineStr"><is><t>' + b"A" * 1000 + b"</t></is></c></row>"
                block = row * 1000
                for _ in range(300):  # 300 MB of XML
                    sheet.write(block)
                sheet.write(b"</sheetData></worksheet>")
    assert (tmp_path / "bomb.xlsx").stat().st_size < 20_000_000
    before = _hashes(tmp_path)
    _assert_failed(_run(capsys, tmp_path, "bomb.xlsx", "--sheet", "Data"), 1, "zip bomb")
    assert _prepared(tmp_path) == [] and _hashes(tmp_path) == before


def test_fifo_is_never_opened(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.csv")
    for flags in [*FIXERS.values(), ("--sheet", "x")]:
        # A subprocess with a timeout: opening the pipe would block for ever.
        done = subprocess.run([sys.executable, "-m", "liferaft", "prepare", "pipe.csv", str(tmp_path), *flags],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 2, done
        assert done.stderr.count("\n") == 1 and "not a regular file" in done.stderr and "Traceback" not in done.stderr
    assert _prepared(tmp_path) == []


def test_dangling_symlink(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "gone.csv").symlink_to(tmp_path / "nowhere.csv")
    for flags in [*FIXERS.values(), ("--sheet", "x")]:
        _assert_failed(_run(capsys, tmp_path, "gone.csv", *flags), 2, "a link whose target does not exist")
    assert _prepared(tmp_path) == []


@pytest.mark.parametrize("raw", [b"two\nlines.csv", b"caf\xe9.csv"])
def test_odd_file_names(tmp_path: Path, capsys: pytest.CaptureFixture[str], raw: bytes) -> None:
    name = os.fsdecode(raw)
    rows = "a;b\n" + "".join(f"Zoë {n};{n}\n" for n in range(300))
    (tmp_path / name).write_bytes(rows.encode("latin-1") + b"1;\"x\ny\"\n")
    before = _hashes(tmp_path)
    clean = os.fsdecode(raw.replace(b"\n", b"_").replace(b"\xe9", b"_"))[: -len(".csv")]
    for flags, made in [(("--utf8",), f"{clean}.utf8.csv"), (("--comma",), f"{clean}.comma.csv"),
                        (("--split-mb", "0.002"), f"{clean}.part1.csv"), (("--name", "clear"), "clear.csv")]:
        code, out, err = _run(capsys, tmp_path, name, *flags)
        assert code == 0, err
        assert (tmp_path / "prepared" / made).is_file()
        assert all(line.startswith(("wrote  prepared/", "read as", "the columns", "named")) for line in
                   out.splitlines()), out
    # Every prepared name is clean; the FILE argument's odd characters are only shown escaped.
    assert all(entry.isprintable() for entry in _prepared(tmp_path))
    # And as a NEW name they are refused.
    _assert_failed(_run(capsys, tmp_path, name, "--name", name), 2, "the new name")
    assert _hashes(tmp_path) == before
