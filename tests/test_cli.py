"""The command line as a user meets it: exit codes, one-line errors, JSON, colour and pipes."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from liferaft import __version__
from liferaft.core.project import ProjectError, check_folder
from liferaft.core.restart_note import SECTIONS
from tests.conftest import cli_env, write

ESCAPE = re.compile(r"\x1b\[")
COLOUR = re.compile(r"\x1b\[[0-9;]*(3[0-7]|9[0-7]|38;)")


def tree_digest(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
        for path in sorted(root.rglob("*"))
    }


def assert_one_line_error(result: subprocess.CompletedProcess[str], code: int = 2) -> str:
    assert result.returncode == code, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert lines[0].startswith("liferaft: ")
    return lines[0]


def test_version(run_cli) -> None:
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"liferaft {__version__}"


@pytest.mark.parametrize("command", [[], ["open"], ["init"], ["demo"], ["scan"]])
def test_every_command_has_help(run_cli, command: list[str]) -> None:
    result = run_cli(*command, "--help")
    assert result.returncode == 0
    assert result.stdout.startswith("usage: liferaft")
    assert result.stderr == ""


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "liferaft"
    found = str(script) if script.exists() else shutil.which("liferaft")
    assert found, "the `liferaft` console script is not on PATH"
    result = subprocess.run([found, "--version"], capture_output=True, text=True, env=cli_env())
    assert result.stdout.strip() == f"liferaft {__version__}"


@pytest.mark.parametrize("command", [["scan"], ["open"], []])
def test_missing_folder_is_a_usage_error(run_cli, tmp_path: Path, command: list[str]) -> None:
    line = assert_one_line_error(run_cli(*command, str(tmp_path / "nope")))
    assert "no such folder" in line


@pytest.mark.parametrize("command", [["scan"], ["open"]])
def test_a_file_instead_of_a_folder_is_a_usage_error(run_cli, tmp_path: Path, command: list[str]) -> None:
    target = write(tmp_path / "data.csv", "a\n")
    line = assert_one_line_error(run_cli(*command, str(target)))
    assert "is a file, not a folder" in line


def test_unreadable_folder_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_scandir = os.scandir

    def scandir(path):  # type: ignore[no-untyped-def]
        if os.fspath(path) == str(tmp_path):
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    with pytest.raises(ProjectError, match=r"cannot read the folder .*Permission denied"):
        check_folder(tmp_path)


def test_unknown_option_and_command_are_usage_errors(run_cli, project: Path) -> None:
    assert "unrecognized arguments" in assert_one_line_error(run_cli("scan", str(project), "--bogus"))
    assert "no such folder" in assert_one_line_error(run_cli("frobnicate"))


def test_scan_json(run_cli, project: Path) -> None:
    result = run_cli("scan", str(project), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["root"] == str(project)
    paths = {f["path"]: f for f in data["files"]}
    assert set(paths) == {
        "CODE/clean.py", "OUTPUT/revenue_by_region.png", "RESTART/restart-note.md",
        "SOURCE/customers.xlsx", "SOURCE/orders_2025.csv", "stray_summary.csv",
    }
    assert paths["SOURCE/orders_2025.csv"] == {
        "path": "SOURCE/orders_2025.csv", "role": "source", "role_guessed": False, "kind": "csv",
        "size": 47, "mtime": 1772452800.0 - 30 * 3600, "flags": [],
    }
    assert data["notes"] == []


def test_scan_defaults_to_the_current_folder(run_cli, project: Path) -> None:
    result = run_cli("scan", "--json", cwd=project)
    assert json.loads(result.stdout)["root"] == str(project)


def test_scan_table_in_a_pipe_has_no_escape_codes(run_cli, project: Path) -> None:
    result = run_cli("scan", str(project))
    assert result.returncode == 0
    assert not ESCAPE.search(result.stdout)
    for heading in ("SOURCE  2 files", "CODE  1 file", "OUTPUT  2 files", "RESTART  1 file"):
        assert heading in result.stdout
    assert "stray_summary.csv" in result.stdout and "role guessed" in result.stdout


def test_scan_honours_no_color(run_cli, project: Path) -> None:
    coloured = run_cli("scan", str(project), env=cli_env(FORCE_COLOR="1", TERM="xterm-256color"))
    assert COLOUR.search(coloured.stdout), "the forced-colour run should use colour"
    plain = run_cli("scan", str(project), env=cli_env(FORCE_COLOR="1", NO_COLOR="1", TERM="xterm-256color"))
    assert plain.returncode == 0
    assert not COLOUR.search(plain.stdout)


def test_scan_reports_state_problems_as_warnings(run_cli, project: Path) -> None:
    write(project / ".liferaft" / "state.json", "{broken")
    result = run_cli("scan", str(project), "--json")
    assert result.returncode == 0
    assert "warning:" in result.stderr and "kept as .liferaft/state.json.corrupt-" in result.stderr
    json.loads(result.stdout)


def test_init_creates_the_layout_and_never_overwrites(run_cli, tmp_path: Path) -> None:
    root = tmp_path / "new-analysis"
    first = run_cli("init", str(root))
    assert first.returncode == 0, first.stderr
    assert sorted(p.name for p in root.iterdir()) == ["CODE", "OUTPUT", "RESTART", "SOURCE"]
    note = (root / "RESTART" / "restart-note.md").read_text()
    assert all(f"## {section.heading}" in note for section in SECTIONS)

    write(root / "RESTART" / "restart-note.md", "my own words")
    before = tree_digest(root)
    second = run_cli("init", str(root))
    assert second.returncode == 0
    assert "already set up" in second.stdout
    assert tree_digest(root) == before


def test_init_reuses_an_alias_folder(run_cli, tmp_path: Path) -> None:
    write(tmp_path / "data" / "raw.csv", "a\n")
    result = run_cli("init", str(tmp_path))
    assert result.returncode == 0
    assert not (tmp_path / "SOURCE").exists()
    assert "kept     data/" in result.stdout
    assert (tmp_path / "CODE").is_dir()


def test_init_refuses_a_path_whose_parent_is_missing(run_cli, tmp_path: Path) -> None:
    line = assert_one_line_error(run_cli("init", str(tmp_path / "a" / "b")))
    assert "parent folder does not exist" in line


def test_init_on_a_file_is_a_usage_error(run_cli, tmp_path: Path) -> None:
    target = write(tmp_path / "x.csv", "a\n")
    assert_one_line_error(run_cli("init", str(target)))
    assert target.read_text() == "a\n"


def test_open_draws_a_first_frame_headless(run_cli, project: Path) -> None:
    result = run_cli(str(project), "--headless", "--first-frame-exit")
    assert result.returncode == 0, result.stderr
    assert "first frame drawn; 6 files" in result.stdout
    assert "liferaft.tcss" in result.stdout


def test_demo_writes_refreshes_and_refuses_other_folders(run_cli, tmp_path: Path) -> None:
    target = tmp_path / "demo"
    first = run_cli("demo", str(target), "--no-open")
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == f"Demo project written: {target}"
    assert "Writing SOURCE/transactions_2025.csv" in first.stderr
    scanned = json.loads(run_cli("scan", str(target), "--json").stdout)
    by_path = {f["path"]: f for f in scanned["files"]}
    assert by_path["SOURCE/transactions_2025.csv"]["size"] > 50_000_000
    assert {f["role"] for f in scanned["files"]} == {"source", "code", "output", "restart"}

    mine = write(target / "SOURCE" / "my_own.csv", "keep me\n")
    again = run_cli("demo", str(target), "--no-open")
    assert again.returncode == 0
    assert "opening it as you left it" in again.stdout  # issue 16: run again, the demo is not rewritten
    assert mine.read_text() == "keep me\n"

    other = tmp_path / "not-a-demo"
    write(other / "thesis.docx", "precious")
    before = tree_digest(other)
    line = assert_one_line_error(run_cli("demo", str(other), "--no-open"))
    assert "not a Liferaft demo" in line
    assert tree_digest(other) == before


@pytest.mark.skipif(sys.platform != "linux", reason="XDG_DATA_HOME is how Linux names the user data folder")
def test_demo_defaults_to_the_user_data_folder(run_cli, tmp_path: Path) -> None:
    result = run_cli("demo", "--no-open", env=cli_env(XDG_DATA_HOME=str(tmp_path / "data")))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "data" / "liferaft" / "demo" / "RESTART" / "restart-note.md").is_file()


def test_init_with_a_file_in_the_way_creates_nothing(run_cli, tmp_path: Path) -> None:
    write(tmp_path / "RESTART", "a file, not a folder")
    line = assert_one_line_error(run_cli("init", str(tmp_path)))
    assert "exists but is not a folder" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["RESTART"]


def test_init_counts_a_linked_folder_as_there(run_cli, tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    project = tmp_path / "p"
    project.mkdir()
    os.symlink(tmp_path / "elsewhere", project / "SOURCE")
    result = run_cli("init", str(project))
    assert result.returncode == 0, result.stderr
    assert "kept     SOURCE/" in result.stdout


def test_an_empty_folder_name_is_refused(run_cli, tmp_path: Path) -> None:
    for command in (["init", ""], ["scan", ""]):
        assert "folder name is empty" in assert_one_line_error(run_cli(*command, cwd=tmp_path))
    assert list(tmp_path.iterdir()) == []


def test_dot_dot_is_resolved_in_names(run_cli, tmp_path: Path) -> None:
    (tmp_path / "analysis" / "sub").mkdir(parents=True)
    result = run_cli("scan", "--json", "analysis/sub/..", cwd=tmp_path)
    assert json.loads(result.stdout)["root"] == str(tmp_path / "analysis")


def test_a_reader_that_stops_early_is_not_an_error(project: Path) -> None:
    for extra in ([], ["--json"]):
        pipeline = subprocess.run(
            f"{sys.executable} -m liferaft scan {project} {' '.join(extra)} | head -c 10 >/dev/null; "
            "echo ${PIPESTATUS[0]}",
            shell=True, executable="/bin/bash", capture_output=True, text=True, env=cli_env(),
        )
        assert pipeline.stdout.strip() == "0", pipeline
        assert "Traceback" not in pipeline.stderr


def test_json_is_utf8_whatever_the_locale(run_cli, project: Path) -> None:
    write(project / "SOURCE" / "données été 🙂.csv", "a\n")
    result = subprocess.run([sys.executable, "-m", "liferaft", "scan", "--json", str(project)],
                            capture_output=True, env=cli_env(PYTHONIOENCODING="latin-1"))
    assert result.returncode == 0, result.stderr
    paths = [f["path"] for f in json.loads(result.stdout.decode("utf-8"))["files"]]
    assert "SOURCE/données été 🙂.csv" in paths


@pytest.mark.parametrize("encoding", ["ascii", "cp1252", "cp437"])
def test_a_console_that_lacks_characters_shows_a_stand_in(project: Path, encoding: str) -> None:
    """A Windows console (cp1252, cp437) or a legacy locale cannot show "·", "→" or "é": they are shown as "?"
    instead of ending the command with an encoding error (issue 20)."""
    write(project / "SOURCE" / "données été.csv", "a,b\n1,2\n")
    for command in ("scan", "check"):
        result = subprocess.run([sys.executable, "-m", "liferaft", command, str(project)], capture_output=True,
                                env=cli_env(PYTHONIOENCODING=encoding))
        assert b"unexpected error" not in result.stderr and b"Traceback" not in result.stderr, result.stderr
        assert result.returncode in (0, 1), result.stderr
        assert b"donn" in result.stdout


def test_the_table_prints_odd_roots_safely(run_cli, tmp_path: Path) -> None:
    root = tmp_path / "emoji:thumbs_up:dir"
    write(root / "a.csv", "x")
    result = run_cli("scan", str(root))
    assert result.returncode == 0
    assert "emoji:thumbs_up:dir" in result.stdout


@pytest.mark.parametrize("where, signum", [("restore_signals", 15), ("_restore_when_done", 1)],
                         ids=["as-the-handlers-are-put-back", "as-that-call-begins"])
def test_a_stop_signal_held_back_until_the_command_is_done_is_no_traceback(
        tmp_path, monkeypatch, capsys, where: str, signum: int) -> None:  # type: ignore[no-untyped-def]
    """A SIGTERM (or SIGHUP) that arrived in lock code fires from its timer after the command finished: as the
    handlers are put back, or as the call that puts them back begins, before its own guard (both seen in CI from
    `prepare --split-mb`, as a traceback and exit code 1): the command's own result stands."""
    import importlib

    from liferaft.cli.signals import Interrupted

    cli_main = importlib.import_module("liferaft.cli.main")
    real = getattr(cli_main, where)
    calls: list[int] = []

    def late_signal(previous) -> None:  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 1:
            raise Interrupted(signum)
        real(previous)

    monkeypatch.setattr(cli_main, where, late_signal)
    assert cli_main.main(["scan", str(tmp_path)]) == 0
    assert len(calls) == 2 and "Traceback" not in capsys.readouterr().err
