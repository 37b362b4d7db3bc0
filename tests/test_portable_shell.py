"""Issue #20: the commands Liferaft prints for the user to run, on Windows and macOS as
on Linux, tried here on Linux by faking the platform (see docs/platforms.md)."""

from __future__ import annotations

import argparse
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

