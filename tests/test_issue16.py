"""Issue 16, a newcomer's first hour: the diagnosis keys after a paste, F1 on every screen in front of the
workbench, `liferaft demo` that keeps the user's work, fixes that work from any folder, names never cut in a pipe,
Python environments and Node packages skipped, the palette's keys, the legend, and `[` `]` every time."""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import shlex
from pathlib import Path

import pytest
from textual import events
from textual.binding import Binding
from textual.screen import ModalScreen, Screen
from textual.widgets import OptionList, TextArea

import liferaft.tui
from liferaft.core.demo import DEMO_MARKER, demo_status, write_demo
from liferaft.core.scan import scan
from liferaft.tui.app import LiferaftApp
from liferaft.tui.screens.diagnose.screen import DiagnoseScreen
from liferaft.tui.screens.help import LEGEND, HelpScreen
from liferaft.tui.screens.role_picker import RolePicker
from liferaft.tui.screens.screen_help import ScreenHelpScreen, screen_keys
from liferaft.tui.widgets.project_pane import BADGES, KIND_ICONS, UPLOAD_BADGES
from tests.conftest import FROZEN_NOW, cli_env, write
from tests.test_diagnose_tui import make_app, no_native_clipboard  # noqa: F401  (a fixture)
from tests.test_prepare_tui import wait_for
from tests.test_tui import _select, settle

SMALL = 0.5


# --- 1. the diagnosis keys, and F1 on the screen in front ----------------------------------------------------


async def test_after_a_paste_the_step_keys_do_the_steps(project: Path, no_native_clipboard: None) -> None:  # noqa: F811
    app = make_app(project)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, DiagnoseScreen))
        box = app.screen.query_one(TextArea)
        assert box.has_focus
        app.post_message(events.Paste("Your code interpreter session has expired."))  # as a terminal sends it
        await wait_for(pilot, lambda: app.screen.query_one(OptionList).has_focus)
        await pilot.press("1")  # Copy the rerun prompt
        await wait_for(pilot, lambda: bool(app.clipboard))
        assert box.text == "Your code interpreter session has expired."  # the 1 was not typed into the box


async def test_f1_on_the_diagnosis_shows_its_own_keys(project: Path) -> None:
    app = make_app(project)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, DiagnoseScreen))
        assert app.screen.query_one(TextArea).has_focus
        await pilot.press("f1")
        await wait_for(pilot, lambda: isinstance(app.screen, ScreenHelpScreen))
        keys = dict(screen_keys(app.screen_stack[-2]))
        assert "1…9" in keys and "step" in keys["1…9"]
        assert keys["s"] == "Check the vendor's status page"
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, DiagnoseScreen))


async def test_f1_on_a_dialog_shows_its_keys_not_the_general_help(project: Path) -> None:
    app = make_app(project)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("down", "down")  # a file
        await pilot.press("o")
        await wait_for(pilot, lambda: isinstance(app.screen, RolePicker))
        await pilot.press("f1")
        await wait_for(pilot, lambda: isinstance(app.screen, (ScreenHelpScreen, HelpScreen)))
        assert isinstance(app.screen, ScreenHelpScreen)
        assert ("enter", "set it (remembered in .liferaft/state.json)") in screen_keys(app.screen_stack[-2])
        await pilot.press("f1")  # closes it again
        await wait_for(pilot, lambda: isinstance(app.screen, RolePicker))


def _screens() -> list[type[Screen]]:
    found: list[type[Screen]] = []
    for module_info in pkgutil.iter_modules(liferaft.tui.__path__):
        module = importlib.import_module(f"liferaft.tui.{module_info.name}")
        for _name, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, Screen) and cls.__module__ == module.__name__ and cls not in found:
                found.append(cls)
    return found


@pytest.mark.parametrize("cls", [cls for cls in _screens() if cls not in (HelpScreen, ScreenHelpScreen)],
                         ids=lambda cls: cls.__name__)
def test_every_screen_in_front_says_what_its_keys_do(cls: type[Screen]) -> None:
    stand_in = object.__new__(cls)  # only the class's bindings and HELP_KEYS are read
    rows = screen_keys(stand_in)
    assert rows and all(keys and what for keys, what in rows)
    if issubclass(cls, ModalScreen):  # a dialog keeps the app's keys out: it must bind F1 itself
        assert any(binding.key == "f1" and binding.action == "app.help"
                   for binding in cls.BINDINGS if isinstance(binding, Binding)), cls.__name__


# --- the palette, the legend, the sheets ------------------------------------------------------------------


async def test_the_palette_shows_keys_and_finds_the_status_page(project: Path) -> None:
    app = make_app(project)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert "Project: Record a checkpoint  (k)" in titles
        assert "Project: Filter files  (/, project pane)" in titles
        assert any(title.startswith("Diagnose: Check the status page  (d, then s)") for title in titles)
        await pilot.press("ctrl+p")
        await pilot.press(*"status")
        from textual.command import CommandList

        def listed() -> str:
            lists = app.screen.query(CommandList)
            if not lists:
                return ""
            options = lists.first()
            return " ".join(str(options.get_option_at_index(i).prompt) for i in range(options.option_count))

        await wait_for(pilot, lambda: "Check the status page" in listed())


def test_the_legend_explains_every_badge_and_icon() -> None:
    for badge in BADGES.values():
        assert f"{badge} =" in LEGEND, badge
    for badge, mark, _style in UPLOAD_BADGES.values():
        assert f"{badge} ({mark})" in LEGEND, badge
    for icon in set(KIND_ICONS.values()):
        assert icon in LEGEND, icon
    assert "downloading =" in LEGEND


async def test_brackets_switch_sheets_every_time(previews: Path) -> None:
    from liferaft.tui.widgets.preview_pane import PreviewPane

    app = LiferaftApp(previews, now=lambda: FROZEN_NOW, theme="textual-dark")
    async with app.run_test(size=(120, 36)) as pilot:
        await _select("budget_2026.xlsx")(pilot)
        preview = app.query_one(PreviewPane)
        await pilot.press("2")
        for expected in ("Actuals", "Budget", "Actuals"):
            await pilot.press("right_square_bracket")
            await wait_for(pilot, lambda expected=expected: preview.preview is not None
                           and preview.preview.sheet == expected, timeout=10)
        await pilot.press("left_square_bracket")
        await wait_for(pilot, lambda: preview.preview is not None and preview.preview.sheet == "Budget", timeout=10)


# --- 2. `liferaft demo` keeps the user's work --------------------------------------------------------------


def test_demo_again_opens_it_as_it_is(run_cli, tmp_path: Path) -> None:
    target = tmp_path / "demo"
    write_demo(target, big_csv_mb=SMALL)
    note = target / "RESTART" / "restart-note.md"
    note.write_text(note.read_text(encoding="utf-8") + "\nmy own line\n", encoding="utf-8")
    before = {path: path.stat().st_mtime_ns for path in target.rglob("*") if path.is_file()}
    again = run_cli("demo", str(target), "--no-open")
    assert again.returncode == 0, again.stderr
    assert "opening it as you left it" in again.stdout and "--reset" in again.stdout
    assert {path: path.stat().st_mtime_ns for path in target.rglob("*") if path.is_file()} == before
    assert "my own line" in note.read_text(encoding="utf-8")


def test_demo_again_writes_back_only_missing_demo_files(run_cli, tmp_path: Path) -> None:
    target = tmp_path / "demo"
    write_demo(target, big_csv_mb=SMALL)
    (target / "CODE" / "analysis.py").unlink()
    csv = target / "SOURCE" / "final2.csv"
    csv.write_text("mine\n", encoding="utf-8")
    result = run_cli("demo", str(target), "--no-open")
    assert result.returncode == 0, result.stderr
    assert "CODE/analysis.py" in result.stdout
    assert (target / "CODE" / "analysis.py").is_file()
    assert csv.read_text(encoding="utf-8") == "mine\n"


def test_demo_reset_says_what_it_replaces_and_needs_yes_without_a_terminal(run_cli, tmp_path: Path) -> None:
    target = tmp_path / "demo"
    write_demo(target, big_csv_mb=SMALL)
    note = target / "RESTART" / "restart-note.md"
    note.write_text("my edits\n", encoding="utf-8")
    mine = write(target / "SOURCE" / "mine.csv", "a\n1\n")
    refused = run_cli("demo", str(target), "--no-open", "--reset")  # stdin is not a terminal
    assert refused.returncode == 2
    assert "--yes" in refused.stderr and "RESTART/restart-note.md" in refused.stderr
    assert note.read_text(encoding="utf-8") == "my edits\n"
    done = run_cli("demo", str(target), "--no-open", "--reset", "--yes")
    assert done.returncode == 0, done.stderr
    assert "RESTART/restart-note.md  (changed since the demo wrote it" in done.stdout
    assert "SOURCE/transactions_2025.csv" in done.stdout
    assert note.read_text(encoding="utf-8") != "my edits\n"
    assert mine.read_text(encoding="utf-8") == "a\n1\n"
    status = demo_status(target)
    assert status is not None and status.changed == () and status.missing == ()
    assert "written" in json.loads((target / DEMO_MARKER).read_text(encoding="utf-8"))


def test_demo_reset_asks_on_a_terminal_and_no_keeps_everything(tmp_path: Path, monkeypatch, capsys) -> None:
    from liferaft import cli

    target = tmp_path / "demo"
    write_demo(target, big_csv_mb=SMALL)
    (target / "CODE" / "analysis.py").write_text("edited\n", encoding="utf-8")
    monkeypatch.setattr("sys.stdin.isatty", lambda: True, raising=False)
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    assert cli.main(["demo", str(target), "--no-open", "--reset"]) == 1
    out = capsys.readouterr().out
    assert "CODE/analysis.py  (changed since the demo wrote it" in out and "Nothing replaced." in out
    assert (target / "CODE" / "analysis.py").read_text(encoding="utf-8") == "edited\n"


# --- 3. the command line -------------------------------------------------------------------------------------


def test_check_fixes_work_from_any_folder(run_cli, tmp_path: Path) -> None:
    root = tmp_path / "my project"
    write(root / "SOURCE" / "it's.csv", "a;b\n1;2\n")
    result = run_cli("check", str(root), "--json")
    fixes = [problem["fix"] for entry in json.loads(result.stdout)["files"] for problem in entry["problems"]]
    command = next(fix for fix in fixes if "--comma" in fix)
    call = command[command.index("liferaft prepare"):].split(" (")[0]
    args = shlex.split(call)
    assert args[2:4] == ["SOURCE/it's.csv", str(root)]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    ran = run_cli(*args[1:], cwd=elsewhere)
    assert ran.returncode == 0, ran.stderr
    assert (root / "SOURCE" / "prepared" / "it's.comma.csv").is_file()


def test_prompt_ends_with_a_newline(run_cli, project: Path) -> None:
    result = run_cli("prompt", str(project))
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith("\n") and not result.stdout.endswith("\n\n\n")


def test_scan_never_cuts_names_in_a_pipe(run_cli, tmp_path: Path) -> None:
    name = "a_very_long_name_" + "x" * 120 + "_end.csv"
    write(tmp_path / "SOURCE" / name, "a\n1\n")
    result = run_cli("scan", str(tmp_path), env=cli_env(COLUMNS="60"))
    assert result.returncode == 0, result.stderr
    assert f"SOURCE/{name}" in result.stdout
    assert "…" not in result.stdout


def test_python_environments_and_node_packages_are_skipped(tmp_path: Path) -> None:
    write(tmp_path / "SOURCE" / "data.csv", "a\n1\n")
    for junk in (".venv/lib/site.py", "venv/bin/activate", "node_modules/left-pad/index.js",
                 "CODE/.ipynb_checkpoints/x-checkpoint.ipynb", "CODE/__pycache__/x.pyc",
                 "CODE/sub/.venv/lib/y.py"):
        write(tmp_path / junk, "junk\n")
    assert [record.path for record in scan(tmp_path).files] == ["SOURCE/data.csv"]



@pytest.mark.parametrize("marker", [b"{not json", b"", b'{"version": 1, "files": 3}'])
def test_demo_with_a_damaged_marker_says_so_and_touches_nothing(run_cli, tmp_path: Path, marker: bytes) -> None:
    target = tmp_path / "demo"
    write_demo(target, big_csv_mb=SMALL)
    (target / ".liferaft" / "demo.json").write_bytes(marker)
    (target / "mine.txt").write_text("mine", encoding="utf-8")
    before = {path: path.read_bytes() for path in target.rglob("*") if path.is_file()}
    for args in (("--no-open",), ("--reset", "--yes", "--no-open")):
        again = run_cli("demo", str(target), *args)
        assert again.returncode == 2 and "Traceback" not in again.stderr
        assert "demo.json is damaged" in again.stderr and len(again.stderr.strip().splitlines()) == 1
        assert {path: path.read_bytes() for path in target.rglob("*") if path.is_file()} == before


def test_demo_never_writes_into_a_folder_of_the_users(run_cli, tmp_path: Path) -> None:
    target = tmp_path / "mine"
    (target / "SOURCE").mkdir(parents=True)
    (target / "SOURCE" / "final2.csv").write_text("my data", encoding="utf-8")
    for args in (("--no-open",), ("--reset", "--yes", "--no-open")):
        again = run_cli("demo", str(target), *args)
        assert again.returncode == 2 and "not a Liferaft demo" in again.stderr
    assert [p.name for p in target.rglob("*")] == ["SOURCE", "final2.csv"]
    assert (target / "SOURCE" / "final2.csv").read_text(encoding="utf-8") == "my data"
