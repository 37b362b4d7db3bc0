"""The import screen (I): the newest export in the downloads folder, listed newest first, searched, imported."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from textual.widgets import Input, OptionList, Static

from liferaft.tui.app import LiferaftApp
from liferaft.tui.screens.recover_import import RecoverImportScreen
from tests import recover_fixtures as fx
from tests.conftest import FROZEN_NOW, write
from tests.test_prepare_tui import wait_for
from tests.test_tui import settle


@pytest.fixture
def downloads(tmp_path: Path, isolated_config: Path) -> Path:
    folder = tmp_path / "Downloads"
    folder.mkdir()
    write(isolated_config / "config.toml", f'[watch]\ndownloads = "{folder}"\n')
    return folder


def _export_in(folder: Path) -> Path:
    path = fx.write_classic_zip(folder / "3f2a-2026-03-01-10-00-00.zip", fx.all_variants(), fx.classic_assets())
    os.utime(path, (FROZEN_NOW - 60, FROZEN_NOW - 60))
    other = folder / "holiday-photos.zip"  # newer, but not an export
    fx.write_classic_zip(other, [], html=False)
    with open(other, "wb") as handle:
        handle.write(b"PK\x05\x06" + b"\x00" * 18)  # an empty zip
    return path


def _status(screen: RecoverImportScreen) -> str:
    found = screen.query("#recover-status")
    return str(found.first(Static).render()) if found else ""


def _count(screen) -> int:  # type: ignore[no-untyped-def]
    found = screen.query("#recover-list")
    return found.first(OptionList).option_count if found else 0


def _rows(screen: RecoverImportScreen) -> list[str]:
    options = screen.query_one("#recover-list", OptionList)
    return [str(options.get_option_at_index(i).id) for i in range(options.option_count)]


async def _open(app: LiferaftApp, pilot) -> RecoverImportScreen:  # type: ignore[no-untyped-def]
    await settle(app, pilot)
    await pilot.press("I")
    await wait_for(pilot, lambda: isinstance(app.screen, RecoverImportScreen))
    screen = app.screen
    assert isinstance(screen, RecoverImportScreen)
    await wait_for(pilot, lambda: not screen._recover_busy and _count(screen) > 0)
    return screen


@pytest.mark.parametrize("search_key", ["ctrl+f", "f3"])  # f3: VS Code's terminal keeps ctrl+f
async def test_lists_the_newest_export_newest_first_and_searches(project: Path, downloads: Path,
                                                                 search_key: str) -> None:
    export = _export_in(downloads)
    app = LiferaftApp(project, now=lambda: FROZEN_NOW, theme="textual-dark")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _open(app, pilot)
        assert screen.query_one("#recover-path", Input).value == str(export)
        assert _rows(screen) == ["conv-branch", "conv-2025", "conv-chat", "conv-dangling", "conv-sales", "conv-2023"]
        assert "6 conversations" in _status(screen) and "5 with code" in _status(screen)
        await wait_for(pilot, lambda: "Edited question" in str(screen.query_one("#recover-details", Static).render()))
        details = str(screen.query_one("#recover-details", Static).render())
        assert "Edited question" in details and "abandoned.csv" in details
        await pilot.press(search_key, *"sales")
        await pilot.pause()
        assert _rows(screen) == ["conv-sales"]
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, RecoverImportScreen)


async def test_enter_imports_the_highlighted_conversation(project: Path, downloads: Path) -> None:
    _export_in(downloads)
    calls: list[tuple[Path, str]] = []

    class Result:
        written = ["CODE/recovered/sales-by-region.py", "RESTART/restart-note.md"]
        unchanged: list[str] = []
        outputs_present = {"charts/by_region.png": False, "monthly_trend.csv": True}

    def importer(root: Path, export, conversation_id: str) -> Result:  # type: ignore[no-untyped-def]
        calls.append((root, conversation_id))
        assert export.load(conversation_id)["id"] == conversation_id
        return Result()

    app = LiferaftApp(project, now=lambda: FROZEN_NOW, theme="textual-dark")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        folder = downloads
        app.push_screen(RecoverImportScreen(project, next(folder.glob("3f2a*.zip")), importer=importer))
        await wait_for(pilot, lambda: isinstance(app.screen, RecoverImportScreen))
        screen = app.screen
        await wait_for(pilot, lambda: _count(screen) > 0)
        await pilot.press("ctrl+f", *"region", "enter", "enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, RecoverImportScreen))
        assert calls == [(project, "conv-sales")]
        messages = [n.message for n in app._notifications]
        assert any("Imported \"Sales by region\"" in m and "CODE/recovered/sales-by-region.py" in m
                   and "1 generated file not in OUTPUT" in m for m in messages)


async def test_the_real_import_writes_the_script(project: Path, downloads: Path) -> None:
    _export_in(downloads)
    app = LiferaftApp(project, now=lambda: FROZEN_NOW, theme="textual-dark")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _open(app, pilot)
        await pilot.press("ctrl+f", *"sales", "enter", "enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, RecoverImportScreen))
        scripts = list((project / "CODE" / "recovered").glob("*.py"))
        assert len(scripts) == 1 and "read_csv" in scripts[0].read_text()
        assert screen is not app.screen


async def test_a_bad_path_says_what_is_wrong(project: Path, downloads: Path, tmp_path: Path) -> None:
    app = LiferaftApp(project, now=lambda: FROZEN_NOW, theme="textual-dark")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        await pilot.press("I")
        await wait_for(pilot, lambda: isinstance(app.screen, RecoverImportScreen))
        screen = app.screen
        await wait_for(pilot, lambda: "Type the path" in _status(screen))
        assert screen.query_one("#recover-path", Input).value == ""  # nothing in the downloads looks like one
        broken = tmp_path / "broken.zip"
        broken.write_bytes(b"PK\x03\x04 half a zip")
        screen.query_one("#recover-path", Input).value = str(broken)
        await pilot.press("enter")
        await wait_for(pilot, lambda: "damaged or incomplete" in _status(screen))
        assert isinstance(app.screen, RecoverImportScreen)


def test_import_screen_snapshot(snap_compare, fixed_project: Path, tmp_path: Path) -> None:
    folder = Path("/tmp/liferaft-snapshots/exports")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    export = fx.write_classic_zip(folder / "export.zip", fx.all_variants(), fx.classic_assets())

    async def ready(pilot) -> None:  # type: ignore[no-untyped-def]
        app = pilot.app
        await settle(app, pilot)
        app.push_screen(RecoverImportScreen(fixed_project, export))
        await wait_for(pilot, lambda: isinstance(app.screen, RecoverImportScreen))
        await wait_for(pilot, lambda: _count(app.screen) > 0)
        await pilot.press("down")
        await pilot.pause()

    try:
        assert snap_compare(LiferaftApp(fixed_project, now=lambda: FROZEN_NOW, theme="textual-dark"),
                            terminal_size=(100, 30), run_before=ready)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


async def test_duplicate_ids_are_both_listed_and_the_chosen_one_is_imported(project: Path, tmp_path: Path) -> None:
    first, second = fx.sales_conversation("dup", "First"), fx.sales_conversation("dup", "Second")
    first["update_time"] = second["update_time"] + 60  # First is the newer: listed first
    export = fx.write_conversations_json(tmp_path / "dup.json", [first, second])
    loaded: list[str] = []

    class Result:
        written: list[str] = []
        unchanged: list[str] = []
        outputs_present: dict[str, bool] = {}

    def importer(root: Path, export, key: str) -> Result:  # type: ignore[no-untyped-def]
        loaded.append(export.load(key)["title"])
        return Result()

    app = LiferaftApp(project, now=lambda: FROZEN_NOW, theme="textual-dark")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        app.push_screen(RecoverImportScreen(project, export, importer=importer))
        await wait_for(pilot, lambda: isinstance(app.screen, RecoverImportScreen))
        screen = app.screen
        await wait_for(pilot, lambda: _count(screen) > 0)
        assert _count(screen) == 2 and "2 conversations" in _status(screen)
        # The details of the highlighted conversation follow the listing (drawn from its own message).
        await wait_for(pilot, lambda: "First" in str(screen.query_one("#recover-details", Static).render()))
        await pilot.press("down")
        await wait_for(pilot, lambda: "Second" in str(screen.query_one("#recover-details", Static).render()))
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, RecoverImportScreen))
    assert loaded == ["Second"]


async def test_a_real_export_of_one_conversation_is_counted_in_the_singular(project: Path, downloads: Path) -> None:
    """A real export (tests/data/real/exports/, one Code Interpreter chat) typed into the path box."""
    real = Path(__file__).parent / "data" / "real" / "exports" / "chatgpt2graph-conversations.json"
    app = LiferaftApp(project, now=lambda: FROZEN_NOW, theme="textual-dark")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        await pilot.press("I")
        await wait_for(pilot, lambda: isinstance(app.screen, RecoverImportScreen))
        screen = app.screen
        assert isinstance(screen, RecoverImportScreen)
        box = screen.query_one("#recover-path", Input)
        box.value = str(real)
        box.focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: _count(screen) == 1)
        await wait_for(pilot, lambda: "with code" in _status(screen))
        assert _status(screen).startswith("1 conversation in this conversations.json, 1 with code.")
