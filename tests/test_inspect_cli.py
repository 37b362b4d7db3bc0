"""`liferaft scan --inspect FILE`: one file's preview from the command line, as text or JSON."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import write

ESCAPE = re.compile(r"\x1b\[")
PREVIEW_KEYS = {"path", "kind", "facts", "columns", "rows", "sheets", "sheet", "text", "text_format", "notes", "error"}
CSV = "order_id,region,revenue\n1,North,10.5\n2,South,7\n3,\"East, far\",2\n"


def one_line_error(result: subprocess.CompletedProcess[str], code: int) -> str:
    assert result.returncode == code, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert lines[0].startswith("liferaft: ")
    return lines[0]


def test_readable_preview(run_cli, tmp_path: Path) -> None:
    path = write(tmp_path / "orders.csv", CSV)
    result = run_cli("scan", "--inspect", str(path))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    out = result.stdout
    assert not ESCAPE.search(out)  # a pipe gets plain text
    assert "orders.csv" in out and "(csv)" in out
    assert re.search(r"rows\s+3", out) and re.search(r"delimiter\s+comma", out)
    assert re.search(r"revenue\s+decimal", out)
    assert "East, far" in out and "10.5" in out


def test_json_shape(run_cli, tmp_path: Path) -> None:
    path = write(tmp_path / "orders.csv", CSV)
    result = run_cli("scan", "--inspect", str(path), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == PREVIEW_KEYS
    assert data["path"] == str(path)
    assert data["kind"] == "csv"
    assert ["rows", "3"] in data["facts"]
    assert data["columns"][2] == {"name": "revenue", "type": "decimal", "sample_nulls": 0}
    assert data["rows"][1] == ["2", "South", "7"]
    assert data["error"] is None


def test_an_unreadable_preview_exits_1_with_one_line(run_cli, tmp_path: Path) -> None:
    path = write(tmp_path / "photo.csv", b"\x00\x01\x02\x03" * 100)
    line = one_line_error(run_cli("scan", "--inspect", str(path)), 1)
    assert "this does not look like text" in line
    result = run_cli("scan", "--inspect", str(path), "--json")
    one_line_error(result, 1)
    assert json.loads(result.stdout)["error"].startswith("this does not look like text")


@pytest.mark.parametrize("target", ["missing.csv", "folder"])
def test_missing_file_or_folder_is_a_usage_error(run_cli, tmp_path: Path, target: str) -> None:
    (tmp_path / "folder").mkdir()
    line = one_line_error(run_cli("scan", "--inspect", str(tmp_path / target)), 2)
    assert ("no such file" if target == "missing.csv" else "is a folder, not a file") in line


def test_an_empty_file_name_is_a_usage_error(run_cli, tmp_path: Path) -> None:
    assert "file name is empty" in one_line_error(run_cli("scan", "--inspect", "", cwd=tmp_path), 2)


def test_a_pipe_is_never_opened(run_cli, tmp_path: Path) -> None:
    fifo = tmp_path / "stream.csv"
    os.mkfifo(fifo)
    assert "not a regular file" in one_line_error(run_cli("scan", "--inspect", str(fifo), timeout=10), 2)


def test_relative_file_is_taken_from_dir(run_cli, tmp_path: Path) -> None:
    write(tmp_path / "project" / "SOURCE" / "orders.csv", CSV)
    result = run_cli("scan", str(tmp_path / "project"), "--inspect", "SOURCE/orders.csv", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["path"] == str(tmp_path / "project" / "SOURCE" / "orders.csv")


def test_kind_is_sniffed_when_the_name_says_nothing(run_cli, tmp_path: Path) -> None:
    write(tmp_path / "export", '[{"a": 1}, {"a": 2}]')
    write(tmp_path / "README", "# hello\n")
    result = run_cli("scan", "--inspect", str(tmp_path / "export"), "--json")
    assert json.loads(result.stdout)["kind"] == "json"
    result = run_cli("scan", "--inspect", str(tmp_path / "README"), "--json")
    assert json.loads(result.stdout)["text"] == "# hello\n"


def test_text_and_notebook_previews(run_cli, tmp_path: Path) -> None:
    write(tmp_path / "clean.py", "import pandas as pd\nprint('ok')\n")
    result = run_cli("scan", "--inspect", str(tmp_path / "clean.py"))
    assert result.returncode == 0 and "print('ok')" in result.stdout
    nb = {"cells": [{"cell_type": "code", "execution_count": 1, "metadata": {}, "outputs": [], "source": "x = 1"}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    write(tmp_path / "n.ipynb", json.dumps(nb))
    result = run_cli("scan", "--inspect", str(tmp_path / "n.ipynb"))
    assert result.returncode == 0 and "# In [1]:" in result.stdout and "x = 1" in result.stdout


def test_inspecting_never_changes_the_file(run_cli, tmp_path: Path) -> None:
    path = write(tmp_path / "orders.csv", CSV)
    os.utime(path, (1_700_000_000, 1_700_000_000))
    before = hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime
    for extra in ((), ("--json",)):
        assert run_cli("scan", "--inspect", str(path), *extra).returncode == 0
    assert (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["orders.csv"]


def test_previewing_a_csv_does_not_import_pandas(tmp_path: Path) -> None:
    path = write(tmp_path / "orders.csv", CSV)
    code = (
        "import sys\n"
        "from liferaft.cli import main\n"
        f"code = main(['scan', '--inspect', {str(path)!r}, '--json'])\n"
        "heavy = [m for m in ('pandas', 'numpy', 'textual', 'pyarrow', 'charset_normalizer') if m in sys.modules]\n"
        "print('HEAVY=' + ','.join(heavy), code)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "HEAVY= 0" in result.stdout
