"""Every command of the workbench, from its key and from the palette; settings that persist."""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path

import pytest
from textual.widgets import Input

from liferaft.core import clipboard
from liferaft.core.clipboard import CopyResult
from liferaft.tui.app import LiferaftApp
from liferaft.tui.commands import COMMANDS
from liferaft.tui.screens.help import HelpScreen
from liferaft.tui.screens.role_picker import RolePicker
from liferaft.tui.widgets.project_pane import ProjectPane
from tests.conftest import FROZEN_NOW, write
from tests.test_prepare_tui import wait_for
from tests.test_tui import _select as select_file
from tests.test_tui import settle, visible_rows


def make_app(root: Path) -> LiferaftApp:
    return LiferaftApp(root, now=lambda: FROZEN_NOW)


@pytest.fixture
def no_native_clipboard(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clipboard, "copy_native", lambda text, timeout=2.0: CopyResult(False, "no tool"))


async def test_help_opens_and_closes_from_both_keys(project: Path) -> None:
    app = make_app(project)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        for key in ("f1", "question_mark"):
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, HelpScreen), key
            text = str(app.screen.query_one("#help-body").content)  # type: ignore[attr-defined]
            assert text  # rendered
            await pilot.press("escape")
            await pilot.pause()
            assert not isinstance(app.screen, HelpScreen), key


async def test_the_palette_opens_from_both_keys(project: Path) -> None:
    """ctrl+p, and f2 where a terminal keeps ctrl+p for itself (VS Code's integrated terminal) (issue 20)."""
    from textual.command import CommandPalette

    app = make_app(project)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        for key in ("ctrl+p", "f2"):
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, CommandPalette), key
            await pilot.press("escape")
            await pilot.pause()
            assert not isinstance(app.screen, CommandPalette), key


async def test_the_footer_shows_the_focused_panes_keys_after_a_dialog_closes(project: Path) -> None:
    from textual.widgets._footer import FooterKey

    def footer_keys() -> set[str]:
        return {key.description for key in app.screen.query(FooterKey)}

    app = make_app(project)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(app, pilot)
        on_project = footer_keys()
        await pilot.press("4")  # the composer
        await pilot.pause()
        on_composer = footer_keys()
        assert on_composer and on_composer != on_project
        await pilot.press("f1")
        await pilot.pause()
        workbench = app.screen_stack[0]
        workbench.set_focus(workbench.query_one(ProjectPane))  # its keys change while the help covers them
        await pilot.pause()
        await pilot.press("escape")
        await wait_for(pilot, lambda: {key.description for key in workbench.query(FooterKey)} == on_project)


async def test_the_footer_holds_whole_keys_only_and_follows_the_width(project: Path) -> None:
    from textual.widgets._footer import FooterKey

    app = make_app(project)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        for width in (80, 160, 100):
            await pilot.resize_terminal(width, 30)
            await wait_for(pilot, lambda w=width: any(key.region.width for key in app.screen.query(FooterKey))
                           and max(key.region.right for key in app.screen.query(FooterKey)) > w - 20)
            keys = [key for key in app.screen.query(FooterKey) if not key.has_class("-command-palette")]
            palette = app.screen.query_one("FooterKey.-command-palette")
            assert all(key.region.right <= palette.region.x for key in keys), width  # none cut by the edge
            assert "^y" in {key.key_display for key in keys}, width  # the copy key stays, shortened if need be
            assert len(keys) >= {80: 7, 100: 8, 160: 12}[width], width


def test_the_help_lists_every_command() -> None:
    from io import StringIO

    from rich.console import Console

    from liferaft.tui.screens.help import help_content

    console = Console(width=140, record=True, file=StringIO())
    console.print(help_content({"project.set_role": "ctrl+o"}))
    text = console.export_text()
    for command in COMMANDS:
        assert command.help in text and (command.id in text or not command.keys)  # a command without a key says
        assert (command.reach in text) if not command.keys else True  # how to reach it instead
    assert "ctrl+o" in text
    assert "How recovery works" in text


async def test_number_keys_focus_panes(project: Path) -> None:
    app = make_app(project)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        for key, pane in (("4", "composer"), ("1", "project"), ("2", "preview"), ("3", "diagnosis"),
                          ("4", "composer")):
            await pilot.press(key)
            await pilot.pause()
            focused = app.focused
            assert focused is not None, key
            assert focused.id == pane or any(a.id == pane for a in focused.ancestors if hasattr(a, "id")), key


async def test_zoom_fills_the_screen_and_comes_back(project: Path) -> None:
    app = make_app(project)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("z")
        await pilot.pause()
        assert app.screen.maximized is app.query_one(ProjectPane)
        await pilot.press("z")
        await pilot.pause()
        assert app.screen.maximized is None


async def test_filter_narrows_the_list_and_escape_clears_it(project: Path) -> None:
    app = make_app(project)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        pane = app.query_one(ProjectPane)
        await pilot.press("slash")
        assert isinstance(app.focused, Input)
        await pilot.press(*"orders")

        def files() -> list[str]:
            return [row for row in visible_rows(pane) if "/" in row or "." in row]

        await wait_for(pilot, lambda: files() == ["SOURCE/orders_2025.csv"])  # once typing pauses
        await pilot.press("escape")
        await pilot.pause()
        assert app.focused is pane
        assert "CODE/clean.py" in visible_rows(pane)


async def test_sort_cycles_name_modified_size(project: Path) -> None:
    app = make_app(project)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        pane = app.query_one(ProjectPane)
        assert visible_rows(pane)[5:8] == ["OUTPUT", "OUTPUT/revenue_by_region.png", "stray_summary.csv"]
        await pilot.press("s")  # modified: newest first
        await pilot.pause()
        assert visible_rows(pane)[5:8] == ["OUTPUT", "stray_summary.csv", "OUTPUT/revenue_by_region.png"]
        await pilot.press("s")  # size: largest first
        await pilot.pause()
        assert visible_rows(pane)[1:3] == ["SOURCE/customers.xlsx", "SOURCE/orders_2025.csv"]
        assert visible_rows(pane)[5:8] == ["OUTPUT", "OUTPUT/revenue_by_region.png", "stray_summary.csv"]


async def test_copy_path_and_copy_prompt_fall_back_to_the_terminal(project: Path, no_native_clipboard) -> None:
    app = make_app(project)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("down", "c")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.clipboard == str(project / "SOURCE" / "customers.xlsx")
        assert any("cannot be confirmed" in n.message for n in app._notifications)
        await pilot.press("ctrl+y")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.clipboard.startswith("My earlier chat's code-execution session has expired")
        assert ". orders_2025.csv (" in app.clipboard


async def test_copy_reports_a_native_copy(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copied: list[str] = []

    def fake(text: str, timeout: float = 2.0) -> CopyResult:
        copied.append(text)
        return CopyResult(True, "")

    monkeypatch.setattr(clipboard, "copy_native", fake)
    app = make_app(project)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("ctrl+y")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert copied and ". orders_2025.csv (" in copied[0]
        # One line that says where it went (issue 16): the folder, not the saved file's long name.
        assert any(n.message == "On the clipboard; a copy is in RESTART/prompts/."
                   and n.title == "Rerun from scratch prompt" for n in app._notifications)


async def test_reveal_opens_the_file_manager(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    launched: list[list[str]] = []

    def fake_run(command: list[str], **_kwargs: object) -> subprocess.CompletedProcess[bytes]:
        launched.append(command)
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(subprocess, "run", fake_run)
    app = make_app(project)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("down", "e")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert launched and str(project / "SOURCE") in " ".join(launched[0])


async def test_reveal_without_a_file_manager_says_where_the_folder_is(project: Path, monkeypatch) -> None:
    def missing(*_args: object, **_kwargs: object) -> None:
        raise FileNotFoundError(2, "No such file or directory")

    monkeypatch.setattr(subprocess, "run", missing)
    app = make_app(project)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("down", "e")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert any("Cannot open a file manager" in n.message for n in app._notifications)


async def test_reveal_reports_a_file_manager_that_failed(project: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(subprocess, "run", lambda command, **k: subprocess.CompletedProcess(command, 3))
    app = make_app(project)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("down", "e")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert any("exited with status 3" in n.message for n in app._notifications)
        assert not any(n.message.startswith("Opened") for n in app._notifications)


async def test_the_theme_is_remembered(project: Path, isolated_config: Path) -> None:
    app = make_app(project)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        app.theme = "nord"
        await pilot.pause()
    saved = tomllib.loads((isolated_config / "config.toml").read_text())
    assert saved["theme"] == "nord"
    again = make_app(project)
    async with again.run_test(size=(120, 40)) as pilot:
        assert again.theme == "nord"


async def test_keys_can_be_rebound_from_the_config(project: Path, isolated_config: Path) -> None:
    write(isolated_config / "config.toml", '[keys]\n"project.set_role" = "ctrl+o"\n')
    app = make_app(project)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("down", "ctrl+o")
        await pilot.pause()
        assert isinstance(app.screen, RolePicker)


async def test_a_broken_config_is_reported_and_left_alone(project: Path, isolated_config: Path) -> None:
    broken = write(isolated_config / "config.toml", "theme = [unclosed\n")
    app = make_app(project)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        app.theme = "nord"
        await wait_for(pilot, lambda: any("not valid TOML" in n.message for n in app._notifications))
    assert broken.read_text() == "theme = [unclosed\n"


async def test_narrow_terminals_fold_the_lower_panes(project: Path) -> None:
    app = make_app(project)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert app.screen.has_class("-narrow")
        lower = app.query_one("#lower")
        assert lower.size.height == 3
        await pilot.press("3")
        await pilot.pause()
        assert lower.size.height > 3
        # The other lower pane is a sliver beside the focused one; focus elsewhere folds both again.
        diagnosis, composer = app.query_one("#diagnosis"), app.query_one("#composer")
        assert composer.size.width <= 14 < diagnosis.size.width
        await pilot.press("1")
        await pilot.pause()
        assert lower.size.height == 3
    wide = make_app(project)
    async with wide.run_test(size=(160, 48)) as pilot:
        await settle(wide, pilot)
        assert not wide.screen.has_class("-narrow")


#: The palette test runs the commands in this many workbenches (each command in one), side by side under xdist.
PALETTE_PARTS = 3


@pytest.mark.parametrize("part", range(PALETTE_PARTS))
async def test_every_command_is_in_the_palette_and_runs_from_it(previews: Path, no_native_clipboard,  # type: ignore[no-untyped-def]
                                                                monkeypatch, part: int) -> None:
    """Every command run from the palette: each workbench runs every PALETTE_PARTS-th command in turn; between
    two commands any screen a command opened is closed and the workbook is selected again, so each starts from
    the same main screen."""
    monkeypatch.setattr(subprocess, "run", lambda command, **k: subprocess.CompletedProcess(command, 0))
    exits: list[object] = []
    app = make_app(previews)
    monkeypatch.setattr(app, "exit", lambda *a, **k: exits.append(a))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        titles = {command.title.split("  (")[0] for command in app.get_system_commands(app.screen)}  # less the key
        for command in COMMANDS:
            expected = command.scope != "preview"  # the sheet commands wait for a workbook
            assert (f"{command.category}: {command.title}" in titles) is expected, command.id
        assert "View: Theme" in titles and "Screenshot" not in titles
        await select_file("budget_2026.xlsx")(pilot)
        titles = {command.title.split("  (")[0] for command in app.get_system_commands(app.screen)}  # less the key
        assert all(f"{c.category}: {c.title}" in titles for c in COMMANDS)

        for command in COMMANDS[part::PALETTE_PARTS]:
            while len(app.screen_stack) > 1:
                await app.pop_screen()
            before = app.clipboard
            pane = app.query_one(ProjectPane)
            if pane.selected_record is None or pane.selected_record.name != "budget_2026.xlsx":
                pane.focus()
                await select_file("budget_2026.xlsx")(pilot)
            entries = [c for c in app.get_system_commands(app.screen)
                       if c.title.split("  (")[0] == f"{command.category}: {command.title}"]
            assert entries, f"{command.id} is not in the palette"
            await entries[0].callback()
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert app.is_running, command.id
            if command.id == "app.quit":
                assert exits
            if command.id == "app.help":
                assert isinstance(app.screen, HelpScreen)
            if command.id == "project.set_role":
                assert isinstance(app.screen, RolePicker)
            if command.id == "project.filter":
                assert isinstance(app.focused, Input)
                await pilot.press("escape")
            if command.id in ("app.copy_prompt", "project.copy_path"):
                for _ in range(500):  # the prompt passes the secret check in one worker, then is copied in another
                    if app.clipboard != before:
                        break
                    await pilot.pause(0.02)
                assert app.clipboard and app.clipboard != before, command.id


async def test_the_footer_is_made_again_only_when_its_keys_change(project: Path) -> None:
    """Textual asks the footer to rebuild itself each time the keys may have changed (every focus move): the
    same keys are not made again (a dozen widgets removed and mounted each time), different ones are."""
    from liferaft.tui.widgets.key_footer import KeyFooter

    app = make_app(project)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        footer = app.screen.query_one(KeyFooter)
        before = list(footer.children)
        assert before
        app.screen.refresh_bindings()  # nothing changed
        await pilot.pause()
        await pilot.pause()
        assert list(footer.children) == before
        await pilot.press("n")  # the note: other keys (on its own screen's footer)
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        app.set_keymap({"project.filter": "ctrl+g"})  # a key re-bound: made again
        await wait_for(pilot, lambda: any("^g" in str(key.key_display) for key in footer.query("FooterKey")))
