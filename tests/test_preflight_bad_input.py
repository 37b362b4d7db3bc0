"""`liferaft check` on bad input: every odd file becomes a problem of its own, the rest of the report still comes
out, nothing is changed, and it is quick (no file is read whole, no workbook is inflated)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import stat
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from liferaft.core import preflight
from liferaft.core.uploads import check_project
from tests.conftest import cli_env, write

#: Raw file names (bytes): a line break, and bytes that are not UTF-8.
NEWLINE_NAME = b"odd\nname.csv"
BAD_BYTES_NAME = b"caf\xe9_\xff.csv"


def _workbook_bytes() -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["region", "amount"])
    for index in range(200):
        sheet.append([f"region {index}", index])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _inflating_workbook(path: Path, size: int = 300_000_000) -> Path:
    """A real workbook whose one sheet inflates to ``size`` bytes of repeated rows (compressed about 350 times)."""
    row = b'<row><c t="inlineStr"><is><t>spam</t></is></c></row>' * 20_000
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", '<Types xmlns="http://schemas.openxmlformats.org/package/2006/'
                                                'content-types"/>')
        archive.writestr("xl/workbook.xml", "<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w") as member:
            member.write(b"<worksheet><sheetData>")
            for _ in range(size // len(row)):
                member.write(row)
            member.write(b"</sheetData></worksheet>")
    return path


@pytest.fixture(scope="session")
def bad_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bad-input") / "project"
    source = root / "SOURCE"
    write(source / "empty.csv", b"")
    write(source / "header_only.csv", "region,amount\n")
    write(source / "binary.csv", bytes(range(256)) * 40)
    write(source / "utf16_bom.csv", "région,montant\nÎle,1\nÉvry,2\n".encode("utf-16"))
    write(source / "utf16_no_bom.csv", "région,montant\nÎle,1\nÉvry,2\n".encode("utf-16-le"))
    write(source / "latin1.csv", ("nom,ville\n" + "Zoë,Besançon\nRenée,Orléans\n" * 50).encode("latin-1"))
    write(source / "one_line.csv", b"x," * 3_000_000)  # 6 MB and no line break
    write(source / "open_quote.csv", 'region,note\nEU,"never closed\nUS,fine\n')
    whole = _workbook_bytes()
    write(source / "truncated.xlsx", whole[: len(whole) // 2])
    _inflating_workbook(source / "inflates.xlsx")
    write(source / "sales_2025.csv", "region,amount\nEU,1\nUS,2\n")
    os.mkfifo(source / "pipe.csv")
    os.symlink("missing.csv", source / "dangling.csv")
    for raw in (NEWLINE_NAME, BAD_BYTES_NAME):
        with open(os.path.join(os.fsencode(source), raw), "wb") as handle:
            handle.write(b"region,amount\nEU,1\n")
    return root


@pytest.fixture(autouse=True)
def no_tokenizer_data(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path_factory.mktemp("no-tiktoken")
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(folder))
    return folder


def fingerprint(root: Path) -> dict[bytes, str]:
    """Every entry under ``root``: a regular file by its content, a link by its target, others by their type.
    Pipes are never opened."""
    found: dict[bytes, str] = {}
    for folder, _dirs, files in os.walk(os.fsencode(root)):
        for name in files:
            path = os.path.join(folder, name)
            st = os.lstat(path)
            if stat.S_ISLNK(st.st_mode):
                found[path] = "link:" + os.fsdecode(os.readlink(path))
            elif stat.S_ISREG(st.st_mode):
                with open(path, "rb") as handle:
                    found[path] = hashlib.sha256(handle.read()).hexdigest() + f":{st.st_mtime_ns}"
            else:
                found[path] = f"mode:{stat.S_IFMT(st.st_mode)}"
    return found


EXPECTED = {
    "SOURCE/empty.csv": ("warn", "empty"),
    "SOURCE/header_only.csv": ("warn", "no_rows"),
    "SOURCE/binary.csv": ("block", "unreadable"),
    "SOURCE/utf16_bom.csv": ("warn", "encoding"),
    "SOURCE/utf16_no_bom.csv": ("warn", "encoding"),
    "SOURCE/latin1.csv": ("warn", "encoding"),
    "SOURCE/one_line.csv": ("warn", "no_rows"),
    "SOURCE/open_quote.csv": ("warn", "open_quote"),
    "SOURCE/truncated.xlsx": ("block", "unreadable"),
    "SOURCE/inflates.xlsx": ("block", "zip_bomb"),
    "SOURCE/pipe.csv": ("block", "unreadable"),  # the scan lists it as an entry it does not open
    "SOURCE/dangling.csv": ("block", "unreadable"),
    "SOURCE/sales_2025.csv": ("ok", None),
}


def test_each_bad_file_is_a_problem_and_nothing_changes(bad_project: Path) -> None:
    before = fingerprint(bad_project)
    report = check_project(bad_project)  # how fast: tests/bench/bounded_bench.py
    assert fingerprint(bad_project) == before
    checks = {check.path: check for check in report.files}
    assert len(checks) == len(EXPECTED) + 2
    for path, (verdict, code) in EXPECTED.items():
        check = checks[path]
        assert check.verdict == verdict, (path, check.problems)
        if code is not None:
            assert code in {problem.code for problem in check.problems}, (path, check.problems)
    for path in ("SOURCE/truncated.xlsx", "SOURCE/inflates.xlsx", "SOURCE/binary.csv", "SOURCE/dangling.csv",
                 "SOURCE/pipe.csv"):
        assert checks[path].problems[0].message.startswith("cannot read: "), checks[path].problems
    odd = [check for path, check in checks.items() if path not in EXPECTED]
    assert len(odd) == 2
    for check in odd:
        assert "odd_name" in {problem.code for problem in check.problems}
        check.path.encode("utf-8")  # shown as valid text (undecodable bytes as U+FFFD)
    assert report.summary == {"ok": 1, "warn": 9, "block": 5}


def test_the_inflating_workbook_is_refused_without_inflating_it(bad_project: Path) -> None:
    path = bad_project / "SOURCE/inflates.xlsx"
    assert path.stat().st_size < 2_000_000
    check = preflight.check_file(path, "inflates.xlsx")
    assert [problem.code for problem in check.problems] == ["zip_bomb"]
    assert "300 MB" in check.problems[0].message


def test_cli_json_on_bad_input(bad_project: Path, isolated_config: Path, no_tokenizer_data: Path,
                               run_cli: Callable[..., subprocess.CompletedProcess[str]]) -> None:
    before = fingerprint(bad_project)
    env = cli_env(LIFERAFT_CONFIG_DIR=str(isolated_config), TIKTOKEN_CACHE_DIR=str(no_tokenizer_data))
    result = run_cli("check", str(bad_project), "--json", env=env, timeout=120)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr and result.stderr == ""
    data = json.loads(result.stdout)
    assert len(data["files"]) == len(EXPECTED) + 2
    verdicts = {entry["path"]: entry["verdict"] for entry in data["files"]}
    assert {path: verdicts[path] for path in EXPECTED} == {path: verdict for path, (verdict, _) in EXPECTED.items()}
    assert data["summary"] == {"ok": 1, "warn": 9, "block": 5, "prepared": 0,
                               "total_size": sum(entry["size"] for entry in data["files"])}

    human = run_cli("check", str(bad_project), env=env, timeout=30)
    assert human.returncode == 1 and "Traceback" not in human.stderr
    assert "15 files" in human.stdout.splitlines()[-1]
    assert fingerprint(bad_project) == before


def test_cli_names_bad_files_directly(bad_project: Path, isolated_config: Path, no_tokenizer_data: Path) -> None:
    """FILES given on the command line, raw bytes and all: each is checked, a pipe is never opened."""
    import sys

    env = cli_env(LIFERAFT_CONFIG_DIR=str(isolated_config), TIKTOKEN_CACHE_DIR=str(no_tokenizer_data))
    names = [b"SOURCE/" + NEWLINE_NAME, b"SOURCE/" + BAD_BYTES_NAME, b"SOURCE/pipe.csv", b"SOURCE/dangling.csv",
             b"SOURCE/inflates.xlsx"]
    result = subprocess.run([os.fsencode(sys.executable), b"-m", b"liferaft", b"check", os.fsencode(bad_project),
                             b"--json", *names], capture_output=True, env=env, timeout=30, stdin=subprocess.DEVNULL)
    assert result.returncode == 1 and b"Traceback" not in result.stderr, result.stderr
    data = json.loads(result.stdout.decode("utf-8"))
    assert [entry["verdict"] for entry in data["files"]] == ["warn", "warn", "block", "block", "block"]
