"""Liferaft's import over real ChatGPT exports from other projects (tests/data/real/exports/, their origin in
SOURCES): every code cell of the active branch recovered, in order, the script compiling, and what did not run
said so. The expected figures were read from the JSON by hand (SOURCES) before Liferaft was run on it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import cli_env

CORPUS = Path(__file__).parent / "data" / "real" / "exports"
EXPORT = CORPUS / "chatgpt2graph-conversations.json"


def _active_branch_code(path: Path) -> list[str]:
    """The python calls of the conversation's active branch, in order (the export's own record of them)."""
    conversation = json.loads(path.read_text(encoding="utf-8"))[0]
    mapping, node, chain = conversation["mapping"], conversation["current_node"], []
    while node:
        chain.append(mapping[node])
        node = mapping[node].get("parent")
    codes = []
    for entry in reversed(chain):
        message = entry.get("message") or {}
        content = message.get("content") or {}
        if content.get("content_type") == "code" and message.get("recipient") == "python":
            codes.append(content["text"])
    return codes


def _liferaft(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "liferaft", *args], capture_output=True, text=True, env=cli_env(),
                          timeout=120, stdin=subprocess.DEVNULL)


def test_every_file_has_its_source() -> None:
    sources = (CORPUS / "SOURCES").read_text(encoding="utf-8")
    for path in CORPUS.iterdir():
        if path.name != "SOURCES":
            assert f"{path.name}\n  repository: " in sources, path.name


def test_a_real_code_interpreter_export_is_recovered_cell_by_cell(tmp_path: Path) -> None:
    listed = _liferaft("import", str(EXPORT), "--list")
    assert listed.returncode == 0, listed.stderr
    assert "11 cells" in listed.stdout and "Average Distance in U(0,1)" in listed.stdout
    project = tmp_path / "project"
    project.mkdir()
    done = _liferaft("import", str(EXPORT), "--conversation", "966da5c4", "--into", str(project))
    assert done.returncode == 0, done.stderr
    assert "11 code cells, 1 sandbox reset" in done.stdout
    script = project / "CODE" / "recovered" / "average-distance-in-u-0-1.py"
    text = script.read_text(encoding="utf-8")
    compile(text, str(script), "exec")
    assert "(11 cells, 0 failed, 1 did not run, 1 sandbox reset)" in text.splitlines()[0]
    # Every call of the active branch, in order: the code of each cell is in the script, after the one before.
    codes = _active_branch_code(EXPORT)
    assert len(codes) == 11
    at = 0
    for number, code in enumerate(codes, start=1):
        marker = f"# %% Cell {number} "
        assert marker in text[at:], f"cell {number} missing or out of order"
        at = text.index(marker, at)
        first = next(line for line in code.splitlines() if line.strip())
        cell = text[at:text.find("# %% Cell", at + 1) if number < len(codes) else len(text)]
        assert first.strip() in cell, f"cell {number} does not hold its code"
    # The cell the reset cut off stays as a comment, saying why.
    cell7 = text[text.index("# %% Cell 7 "):text.index("# %% Cell 8 ")]
    assert "did not run: the sandbox had been reset" in cell7
    assert all(line.startswith("#") or not line.strip() for line in cell7.splitlines())


def test_browsing_calls_in_a_real_export_are_not_taken_for_code(tmp_path: Path) -> None:
    """A real 2023 export whose `code` messages are addressed to the browser: no cell, no script."""
    export = CORPUS / "my_chat_gpt-conversations-5-of-192.json"
    listed = _liferaft("import", str(export), "--list")
    assert listed.returncode == 0, listed.stderr
    rows = [line for line in listed.stdout.splitlines() if "[" in line]
    assert len(rows) == 5 and all(" 0 cells " in row for row in rows)
    project = tmp_path / "project"
    project.mkdir()
    done = _liferaft("import", str(export), "--conversation", "c08688db", "--into", str(project))
    assert done.returncode == 0, done.stderr
    assert "0 code cells" in done.stdout and "no script written" in done.stdout
    assert not (project / "CODE").exists()
