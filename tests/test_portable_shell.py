"""Issue #20: the commands Liferaft prints for the user to run, and the editor it starts, on Windows and macOS as
on Linux, tried here on Linux by faking the platform (see docs/platforms.md)."""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from liferaft.cli import main
from liferaft.cli.commands import demo as demo_command
from liferaft.core import preflight, shell
from tests.conftest import write

# --- commands for the user's shell -------------------------------------------------------------------------

WINDOWS_PATH = r"C:\Users\ana\My data\x.csv"


@pytest.mark.parametrize(("text", "quoted"), [
    (WINDOWS_PATH, r'"C:\Users\ana\My data\x.csv"'),
    (r"C:\Users\ana\sales\x.csv", r"C:\Users\ana\sales\x.csv"),  # safe bare: left as it is
    ("SOURCE/EU customers.csv", '"SOURCE/EU customers.csv"'),
    (r"C:\My data" + "\\", r'"C:\My data\\"'),  # the closing quote is not escaped by the last backslash
    ("", '""'),
    ("a&b", '"a&b"'),
    ("Ana's (copy).csv", "\"Ana's (copy).csv\""),
])
def test_on_windows_an_argument_is_double_quoted(text: str, quoted: str) -> None:
    assert shell.quote_arg(text, "win32") == quoted
    if text:  # the program's own parser (the C runtime's rules) gets the text back whole
        assert subprocess.list2cmdline([text]) in (quoted, text)


@pytest.mark.parametrize("platform", ["linux", "darwin"])
def test_elsewhere_an_argument_is_quoted_for_a_posix_shell(platform: str) -> None:
    for text in (WINDOWS_PATH, "SOURCE/EU customers.csv", "plain.csv", "", "Ana's.csv"):
        assert shell.quote_arg(text, platform) == shlex.quote(text)
    assert shell.command_line(["liferaft", "prepare", "a b.csv"], platform) == "liferaft prepare 'a b.csv'"


def test_the_platform_is_read_when_called(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "win32")
    assert shell.command_line(["liferaft", "prepare", "a b.csv"]) == 'liferaft prepare "a b.csv"'


def _fix(tmp_path: Path, folder: str) -> str:
    path = write(tmp_path / "EU customers.csv", "name;city\nA;B\n")
    report = preflight.check_paths([(path, "SOURCE/EU customers.csv")])
    report = preflight.with_folder(report, folder)
    return next(problem.fix for check in report.files for problem in check.problems if problem.code == "delimiter")


def test_on_windows_the_prepare_command_is_double_quoted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "win32")
    fix = _fix(tmp_path, r"C:\Users\ana\My data")
    assert r'liferaft prepare "SOURCE/EU customers.csv" "C:\Users\ana\My data" --comma' in fix
    assert "'" not in fix


def test_on_linux_the_prepare_command_is_unchanged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "linux")
    fix = _fix(tmp_path, "/home/ana/My data")
    assert "liferaft prepare 'SOURCE/EU customers.csv' '/home/ana/My data' --comma" in fix


def test_on_windows_the_split_again_command_is_double_quoted(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "big.csv", "a\n1\n")
    monkeypatch.setattr(sys, "platform", "win32")
    problem = preflight.incomplete_split(tmp_path / "prepared" / "big.part1.csv",
                                         "SOURCE/My data/prepared/big.part1.csv", "part 2 is missing")
    assert 'liferaft prepare "SOURCE/My data/big.csv" --split-mb N' in problem.fix
    assert "'" not in problem.fix


def test_on_windows_the_demo_reset_hint_is_double_quoted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "win32")
    assert demo_command._demo_dir_arg(argparse.Namespace(dir=r"C:\Users\Ana Silva\demo")) == \
        r' "C:\Users\Ana Silva\demo"'


def test_on_windows_the_scan_hint_is_double_quoted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "My data"
    folder.mkdir()
    monkeypatch.setattr(sys, "platform", "win32")
    assert main(["scan", "--inspect", str(folder)]) == 2
    error = capsys.readouterr().err
    assert f'list it with `liferaft scan "{folder}"`' in error and "'" not in error
    assert len(error.strip().splitlines()) == 1


# --- the user's editor --------------------------------------------------------------------------------------

NOTEPAD_PP = r"C:\Program Files\Notepad++\notepad++.exe"


def test_on_windows_a_quoted_editor_path_keeps_its_backslashes() -> None:
    env = {"EDITOR": f'"{NOTEPAD_PP}" -multiInst -nosession'}
    command = shell.editor_command(env, "win32", {NOTEPAD_PP: NOTEPAD_PP}.get)
    assert command == [NOTEPAD_PP, "-multiInst", "-nosession"]


def test_on_windows_a_cmd_editor_is_run_by_its_full_path() -> None:
    code = r"C:\Users\ana\AppData\Local\Programs\Microsoft VS Code\bin\code.CMD"
    command = shell.editor_command({"VISUAL": "code --wait", "EDITOR": "vi"}, "win32", {"code": code}.get)
    assert command == [code, "--wait"]


def test_on_windows_the_fallback_is_notepad() -> None:
    notepad = r"C:\Windows\system32\notepad.exe"
    found = {"notepad": notepad, "nano": "/usr/bin/nano", "vi": "/usr/bin/vi"}
    assert shell.editor_command({}, "win32", found.get) == [notepad]
    with pytest.raises(shell.EditorError, match=r"^no editor found: set \$VISUAL or \$EDITOR \(notepad is not "):
        shell.editor_command({}, "win32", {}.get)


@pytest.mark.parametrize("platform", ["linux", "darwin"])
def test_elsewhere_the_editor_is_split_as_a_posix_shell_would(platform: str) -> None:
    found = {"/opt/my editor/ed": "/opt/my editor/ed", "nano": "/usr/bin/nano", "vi": "/usr/bin/vi"}
    assert shell.editor_command({"EDITOR": r"/opt/my\ editor/ed -w"}, platform, found.get) == \
        ["/opt/my editor/ed", "-w"]
    assert shell.editor_command({"EDITOR": "  "}, platform, found.get) == ["/usr/bin/nano"]
    assert shell.editor_command({}, platform, {"vi": "/usr/bin/vi"}.get) == ["/usr/bin/vi"]
    with pytest.raises(shell.EditorError, match=r"\(neither nano nor vi is installed\)$"):
        shell.editor_command({}, platform, {}.get)


@pytest.mark.parametrize("platform", ["linux", "win32"])
def test_an_editor_that_cannot_be_read_or_found_is_one_line(platform: str) -> None:
    with pytest.raises(shell.EditorError, match=r"^\$VISUAL is not a command Liferaft can run: \"unclosed$"):
        shell.editor_command({"VISUAL": '"unclosed'}, platform, {}.get)
    with pytest.raises(shell.EditorError, match=r"^the editor in \$EDITOR was not found: nope \(set "):
        shell.editor_command({"EDITOR": "nope --wait"}, platform, {}.get)


def test_note_edit_runs_the_resolved_editor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """`liferaft note --edit` on Windows: `code --wait` runs as the code.cmd that shutil.which found."""
    from liferaft.core import shell as core_shell

    project = tmp_path / "p"
    (project / "SOURCE").mkdir(parents=True)
    write(project / "SOURCE" / "a.csv", "x\n1\n")
    code = r"C:\VS Code\bin\code.cmd"
    ran: list[list[str]] = []

    def run(command: list[str], check: bool = False) -> subprocess.CompletedProcess[str]:
        ran.append(command)
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setenv("VISUAL", "code --wait")
    monkeypatch.setattr(core_shell, "_platform", lambda platform: "win32")
    monkeypatch.setattr(core_shell.shutil, "which", {"code": code}.get)
    monkeypatch.setattr(subprocess, "run", run)
    assert main(["note", "--edit", str(project)]) == 0, capsys.readouterr()
    assert len(ran) == 1 and ran[0][:2] == [code, "--wait"] and os.path.basename(ran[0][2]) == "restart-note.md"


def test_replay_edit_runs_the_resolved_editor(monkeypatch: pytest.MonkeyPatch) -> None:
    """`liferaft replay`'s "edit the cell": the same editor as `note --edit`, by its full path."""
    from liferaft.cli.commands import replay as replay_command
    from liferaft.core import shell as core_shell

    editor = r"C:\Program Files\Notepad++\notepad++.exe"
    ran: list[list[str]] = []

    def run(command: list[str], check: bool = False) -> subprocess.CompletedProcess[str]:
        ran.append(command)
        Path(command[-1]).write_text("x = 2\n", encoding="utf-8")
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setenv("VISUAL", f'"{editor}" -multiInst')
    monkeypatch.setattr(core_shell, "_platform", lambda platform: "win32")
    monkeypatch.setattr(core_shell.shutil, "which", {editor: editor}.get)
    monkeypatch.setattr(subprocess, "run", run)
    assert replay_command._edit("x = 1\n") == "x = 2\n"
    assert ran[0][:2] == [editor, "-multiInst"]
