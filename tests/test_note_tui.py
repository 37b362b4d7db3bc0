"""The restart note editor in the workbench: open, edit, save atomically, fill from the project, import the
chat's reply, and never lose an edit by accident."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import TextArea

from liferaft.tui.app import LiferaftApp
from liferaft.tui.screens.note import NoteConflictScreen, NoteScreen
from liferaft.tui.screens.note_import import ImportScreen
from tests.conftest import FROZEN_NOW, write
from tests.test_prepare_tui import wait_for
from tests.test_tui import settle

REPLY = """Sure! Here is the restart note:

```markdown
## Project brief
Churn drivers for the EU subscription base, for the Q1 board pack.

## Filters applied
- Only customers active in 2025
```

Let me know if you want changes.
"""


@pytest.fixture
def demo(tmp_path: Path, copy_demo) -> Path:  # type: ignore[no-untyped-def]
    return copy_demo(tmp_path / "demo", big_csv_mb=1)


async def open_note(app: LiferaftApp, pilot) -> NoteScreen:  # type: ignore[no-untyped-def]
    await settle(app, pilot)
    await pilot.press("n")
    await wait_for(pilot, lambda: isinstance(app.screen, NoteScreen))
    screen = app.screen
    assert isinstance(screen, NoteScreen)
    return screen


async def test_edit_and_save_keeps_the_rest_byte_for_byte(demo: Path) -> None:
    note = demo / "RESTART/restart-note.md"
    before = note.read_text()
    app = LiferaftApp(demo, now=lambda: FROZEN_NOW)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_note(app, pilot)
        area = screen.query_one(TextArea)
        assert area.text == before and area.has_focus
        area.load_text(before.replace("## Notes\n", "## Notes\n\n- a new line of mine\n"))
        await pilot.press("escape")  # unsaved: asks first
        assert isinstance(app.screen, NoteScreen)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert note.read_text() == before.replace("## Notes\n", "## Notes\n\n- a new line of mine\n")
        assert not list(note.parent.glob(".*tmp*"))
        await pilot.press("escape")
        assert not isinstance(app.screen, NoteScreen)


async def test_esc_twice_drops_unsaved_changes(demo: Path) -> None:
    note = demo / "RESTART/restart-note.md"
    before = note.read_bytes()
    app = LiferaftApp(demo, now=lambda: FROZEN_NOW)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_note(app, pilot)
        screen.query_one(TextArea).load_text("scribble")
        await pilot.press("escape", "escape")
        assert not isinstance(app.screen, NoteScreen)
    assert note.read_bytes() == before


@pytest.mark.parametrize("fill_key", ["ctrl+f", "f3"])  # f3: VS Code's terminal keeps ctrl+f
async def test_a_project_without_a_note_gets_a_prefilled_one(tmp_path: Path, fill_key: str) -> None:
    root = tmp_path / "p"
    write(root / "SOURCE/sales.csv", "order_id,region,revenue\n1,North,2\n")
    write(root / "OUTPUT/chart.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 100)
    app = LiferaftApp(root, now=lambda: FROZEN_NOW)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_note(app, pilot)
        assert "## Files used" in screen.text and not (root / "RESTART/restart-note.md").exists()
        await pilot.press(fill_key)
        await pilot.pause()
        assert "sales.csv" in screen.text and "order_id, region, revenue" in screen.text and "chart.png" in screen.text
        status = screen.query_one("#note-status").render()
        assert "filled:" in str(status)  # what the fill did, not only "modified"
        await pilot.press("ctrl+s")
        await pilot.pause()
    assert "sales.csv" in (root / "RESTART/restart-note.md").read_text()


async def test_importing_the_chats_reply_fills_those_sections_only(demo: Path) -> None:
    app = LiferaftApp(demo, now=lambda: FROZEN_NOW)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_note(app, pilot)
        files_before = screen.text.split("## Files used", 1)[1].split("## Columns used", 1)[0]
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: isinstance(app.screen, ImportScreen))
        app.screen.query_one(TextArea).load_text(REPLY)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, NoteScreen))
        text = screen.text
        assert "Churn drivers for the EU subscription base" in text and "- Only customers active in 2025" in text
        assert text.split("## Files used", 1)[1].split("## Columns used", 1)[0] == files_before
        assert "Let me know" not in text
        assert screen.modified  # not saved until ctrl+s


# --- the note changed on disk while the editor has it open (issue #14) ---------------------------------------

BASE_NOTE = "# Restart note: p\n\n## Project brief\n\nThe question.\n\n## Notes\n\n- first\n"
MINE = BASE_NOTE.replace("- first\n", "- first\n- typed in the editor\n")
THEIRS = BASE_NOTE.replace("The question.", "The question, as the import wrote it.")


def note_project(tmp_path: Path, text: str | None = BASE_NOTE) -> Path:
    root = tmp_path / "p"
    write(root / "SOURCE/sales.csv", "a,b\n1,2\n")
    if text is None:
        (root / "RESTART").mkdir(parents=True)
    else:
        write(root / "RESTART/restart-note.md", text)
    return root


def status_of(screen: NoteScreen) -> str:
    return str(screen.query_one("#note-status").render())


async def test_an_outside_change_shows_in_an_editor_without_edits(tmp_path: Path) -> None:
    root = note_project(tmp_path)
    app = LiferaftApp(root, now=lambda: FROZEN_NOW, watch=True)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.watcher is not None and app.watcher.running)
        screen = await open_note(app, pilot)
        assert screen.text == BASE_NOTE
        write(root / "RESTART/restart-note.md", THEIRS)  # e.g. `liferaft import` filled it
        # The watcher told the editor; nothing typed. The status line follows the text (it is drawn when the
        # editor reports the change), so both are waited for.
        await wait_for(pilot, lambda: screen.text == THEIRS and "changed outside" in status_of(screen))
        assert not screen.modified
        await pilot.press("ctrl+s")  # nothing to choose: the file is what the editor shows
        await pilot.pause()
        assert isinstance(app.screen, NoteScreen)
    assert (root / "RESTART/restart-note.md").read_text() == THEIRS


async def test_an_outside_change_while_editing_is_said_at_once_and_never_saved_over(tmp_path: Path) -> None:
    root = note_project(tmp_path)
    app = LiferaftApp(root, now=lambda: FROZEN_NOW, watch=True)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.watcher is not None and app.watcher.running)
        screen = await open_note(app, pilot)
        screen.query_one(TextArea).load_text(MINE)
        await pilot.pause()
        write(root / "RESTART/restart-note.md", THEIRS)
        await wait_for(pilot, lambda: "changed outside the editor too" in status_of(screen))
        assert screen.text == MINE  # the edits are not replaced
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, NoteConflictScreen))
        assert (root / "RESTART/restart-note.md").read_text() == THEIRS  # asked, not written
        await pilot.press("escape")  # no choice: nothing is saved, nothing is lost
        await wait_for(pilot, lambda: app.screen is screen)
        assert (root / "RESTART/restart-note.md").read_text() == THEIRS and screen.text == MINE
        assert "Not saved" in status_of(screen)


@pytest.mark.parametrize("choice", ["b", "r", "o"])
async def test_saving_over_an_outside_change_asks_what_to_keep(tmp_path: Path, choice: str) -> None:
    """Without the watcher (polling off, a network drive): the save itself reads the file again first."""
    root = note_project(tmp_path)
    note = root / "RESTART/restart-note.md"
    app = LiferaftApp(root, now=lambda: FROZEN_NOW)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_note(app, pilot)
        screen.query_one(TextArea).load_text(MINE)
        write(note, THEIRS)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, NoteConflictScreen))
        assert note.read_text() == THEIRS
        await pilot.press(choice)
        await wait_for(pilot, lambda: app.screen is screen)
        await pilot.pause()
        saved = note.read_text()
        if choice == "b":  # keep both: my line and their brief
            assert "- typed in the editor" in saved and "as the import wrote it" in saved
            assert screen.text == saved and not screen.modified
        elif choice == "r":  # reload: the file as it is, my edits dropped because I said so
            assert saved == THEIRS and screen.text == THEIRS and not screen.modified
        else:  # overwrite: mine, their change dropped because I said so
            assert saved == MINE and screen.text == MINE
        # Settled: the next save does not ask again.
        screen.query_one(TextArea).load_text(screen.text + "\n- later\n")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: note.read_text().endswith("- later\n"))
        assert isinstance(app.screen, NoteScreen)


async def test_a_note_created_outside_while_a_new_one_is_edited_is_merged_not_refused(tmp_path: Path) -> None:
    """No note when the editor opened (a fresh one was shown), then `liferaft import` wrote one: keep both."""
    root = note_project(tmp_path, None)
    note = root / "RESTART/restart-note.md"
    app = LiferaftApp(root, now=lambda: FROZEN_NOW)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_note(app, pilot)
        area = screen.query_one(TextArea)
        area.load_text(screen.text.replace("## Notes\n", "## Notes\n\n- mine\n", 1))
        write(note, "# Restart note: p\n\n## Project brief\n\nFrom the export.\n")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, NoteConflictScreen))
        await pilot.press("b")
        await wait_for(pilot, lambda: "- mine" in note.read_text())
        assert "From the export." in note.read_text()
