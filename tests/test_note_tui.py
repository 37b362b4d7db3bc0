"""The restart note editor in the workbench: open, edit, save atomically, fill from the project, import the
chat's reply, and never lose an edit by accident."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import TextArea

from liferaft.tui.app import LiferaftApp
from liferaft.tui.note_screen import ImportScreen, NoteScreen
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


async def test_a_project_without_a_note_gets_a_prefilled_one(tmp_path: Path) -> None:
    root = tmp_path / "p"
    write(root / "SOURCE/sales.csv", "order_id,region,revenue\n1,North,2\n")
    write(root / "OUTPUT/chart.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 100)
    app = LiferaftApp(root, now=lambda: FROZEN_NOW)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_note(app, pilot)
        assert "## Files used" in screen.text and not (root / "RESTART/restart-note.md").exists()
        await pilot.press("ctrl+f")
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
