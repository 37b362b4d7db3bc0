"""The workbench, driven with Textual's Pilot, and snapshots of how it looks."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest
from rich.console import Console
from textual.widgets import Static
from textual.worker import WorkerCancelled, WorkerFailed

from liferaft.core import pace
from liferaft.core.roles import Role
from liferaft.core.scan import FileRecord
from liferaft.tui.app import LiferaftApp
from liferaft.tui.widgets.project_pane import ProjectPane
from tests.conftest import FROZEN_NOW, write


def make_app(root: Path) -> LiferaftApp:
    return LiferaftApp(root, now=lambda: FROZEN_NOW, theme="textual-dark")


async def settle(app: LiferaftApp, pilot) -> None:  # type: ignore[no-untyped-def]
    """Wait until the scan's result is on screen, and the upload check that follows it (the worker
    finishing is not enough: its message still has to be handled)."""
    for _ in range(100):
        # A failed scan is shown by the app (tests check how); a cancelled one was replaced by a newer scan
        # (exclusive workers: the watcher's rescan cancels one still running).
        with contextlib.suppress(WorkerFailed, WorkerCancelled):
            await app.workers.wait_for_complete()
        await pilot.pause()
        if not app.query_one(ProjectPane).loading and not any(
                worker.is_running or worker.state.name == "PENDING" for worker in app.workers):
            break
    # A result that arrived a moment after a key is shown once the key's screen had its moment (core.pace).
    await pilot.pause(pace.busy_for())
    await pilot.pause()


def visible_rows(pane: ProjectPane) -> list[str]:
    rows = []
    for line in range(pane.last_line + 1):
        node = pane.get_node_at_line(line)
        assert node is not None
        rows.append(node.data.path if isinstance(node.data, FileRecord) else node.data.label)
    return rows


def details_text(app: LiferaftApp) -> str:
    console = Console(width=100, record=True, file=io.StringIO())
    console.print(app.query_one("#preview-summary", Static).content)
    return console.export_text()


async def test_the_project_pane_groups_files_by_role(project: Path) -> None:
    app = make_app(project)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        pane = app.query_one(ProjectPane)
        assert visible_rows(pane) == [
            "SOURCE", "SOURCE/customers.xlsx", "SOURCE/orders_2025.csv",
            "CODE", "CODE/clean.py",
            "OUTPUT", "OUTPUT/revenue_by_region.png", "stray_summary.csv",
            "RESTART", "RESTART/restart-note.md",
        ]
        status = str(app.query_one("#status", Static).render())
        assert "SOURCE 2" in status and "OUTPUT 2" in status and "RESTART 1" in status
        assert app.title == "Liferaft · sales-review"
        assert app.sub_title == str(project)


async def test_moving_the_cursor_shows_the_file_details(project: Path) -> None:
    app = make_app(project)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        assert "original data, never edited" in details_text(app)
        await pilot.press("down", "down")
        text = details_text(app)
        assert "SOURCE/orders_2025.csv" in text and "47 B · csv" in text
        for _ in range(5):
            await pilot.press("down")
        text = details_text(app)
        assert "stray_summary.csv" in text and "guessed" in text


async def test_clicking_a_row_selects_it(project: Path) -> None:
    app = make_app(project)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        pane = app.query_one(ProjectPane)
        # Row 4 is CODE/clean.py; +1 for the pane's border.
        await pilot.click(ProjectPane, offset=(10, 5))
        await pilot.pause()
        assert pane.selected_record is not None and pane.selected_record.path == "CODE/clean.py"
        assert "CODE/clean.py" in details_text(app)


async def test_enter_collapses_and_expands_a_group(project: Path) -> None:
    app = make_app(project)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        pane = app.query_one(ProjectPane)
        assert app.focused is pane
        await pilot.press("enter")
        assert visible_rows(pane)[:2] == ["SOURCE", "CODE"]
        await pilot.press("enter")
        assert visible_rows(pane)[1] == "SOURCE/customers.xlsx"


async def test_rescan_picks_up_new_files_and_keeps_the_selection(project: Path) -> None:
    app = make_app(project)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        pane = app.query_one(ProjectPane)
        await pilot.press("down", "down", "down", "down")
        assert pane.selected_record is not None and pane.selected_record.path == "CODE/clean.py"
        write(project / "SOURCE" / "aardvark.csv", "a\n1\n")
        await pilot.press("r")
        await settle(app, pilot)
        assert "SOURCE/aardvark.csv" in visible_rows(pane)
        assert pane.selected_record is not None and pane.selected_record.path == "CODE/clean.py"


async def test_a_corrupt_state_file_is_a_notice_not_a_crash(project: Path) -> None:
    write(project / ".liferaft" / "state.json", "{not json")
    app = make_app(project)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        messages = [notification.message for notification in app._notifications]
        assert any("kept as .liferaft/state.json.corrupt-" in message for message in messages)
        assert len(app.query_one(ProjectPane).root.children) == 4


async def test_a_folder_that_disappears_is_reported_in_the_app(tmp_path: Path) -> None:
    root = tmp_path / "gone"
    root.mkdir()
    app = make_app(root)
    root.rmdir()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        assert "Cannot read the project: no such folder" in str(app.query_one("#status", Static).render())


async def test_an_empty_project_explains_each_role(tmp_path: Path) -> None:
    for role in ("SOURCE", "CODE", "OUTPUT", "RESTART"):
        (tmp_path / role).mkdir()
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        assert "Nothing here yet" in details_text(app)
        assert visible_rows(app.query_one(ProjectPane)) == ["SOURCE", "CODE", "OUTPUT", "RESTART"]


def test_the_preview_lists_a_files_problems(tmp_path: Path) -> None:
    from liferaft.core.scan import scan
    from liferaft.tui.widgets.preview_pane import file_summary

    write(tmp_path / "line\nbreak.csv", "a\n")
    inventory = scan(tmp_path)
    record = inventory.files[0]
    assert record.role is Role.SOURCE
    console = Console(width=80, record=True, file=io.StringIO())
    console.print(file_summary(record, inventory, FROZEN_NOW, overridden=False))
    assert "line break" in console.export_text()


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
def test_main_screen_snapshot(snap_compare, fixed_project: Path, size: tuple[int, int]) -> None:
    async def ready(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot.app, pilot)
        await pilot.press("down", "down")

    assert snap_compare(make_app(fixed_project), terminal_size=size, run_before=ready)


async def test_setting_a_role_moves_the_file_and_is_remembered(project: Path) -> None:
    app = make_app(project)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        pane = app.query_one(ProjectPane)
        for _ in range(7):
            await pilot.press("down")
        assert pane.selected_record is not None and pane.selected_record.path == "stray_summary.csv"
        assert "guessed; o to set" in details_text(app)
        await pilot.press("o")
        await pilot.pause()
        await pilot.press("home", "enter")  # SOURCE is the first choice
        await pilot.pause()
        assert visible_rows(pane)[:4] == ["SOURCE", "SOURCE/customers.xlsx", "SOURCE/orders_2025.csv",
                                          "stray_summary.csv"]
        assert pane.selected_record is not None and pane.selected_record.path == "stray_summary.csv"
        assert "set by you" in details_text(app)

    again = make_app(project)
    async with again.run_test(size=(100, 30)) as pilot:
        await settle(again, pilot)
        assert "stray_summary.csv" in visible_rows(again.query_one(ProjectPane))[:4]


async def test_escape_leaves_the_role_alone(project: Path) -> None:
    app = make_app(project)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("down", "o")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert app.project is not None and app.project.state.overrides == {}
        assert not (project / ".liferaft" / "state.json").exists()


async def test_set_role_on_a_group_row_explains_itself(project: Path) -> None:
    app = make_app(project)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("o")
        await pilot.pause()
        assert any("Select a file first" in n.message for n in app._notifications)


def test_role_picker_snapshot(snap_compare, fixed_project: Path) -> None:
    async def open_picker(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot.app, pilot)
        await pilot.press("down", "o")
        await pilot.pause()

    assert snap_compare(make_app(fixed_project), terminal_size=(80, 24), run_before=open_picker)


def _select(name: str):  # type: ignore[no-untyped-def]
    """A run_before that waits for the scan, selects the file called ``name``, and waits for its preview."""

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        app = pilot.app
        await settle(app, pilot)
        pane = app.query_one(ProjectPane)
        for _ in range(pane.last_line + 1):
            if pane.selected_record is not None and pane.selected_record.name == name:
                break
            await pilot.press("down")
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.pause()

    return run_before


def test_csv_preview_snapshot(snap_compare, preview_project: Path) -> None:
    assert snap_compare(make_app(preview_project), terminal_size=(120, 36), run_before=_select("orders_2025.csv"))


def test_xlsx_preview_snapshot(snap_compare, preview_project: Path) -> None:
    assert snap_compare(make_app(preview_project), terminal_size=(120, 36), run_before=_select("budget_2026.xlsx"))


def test_error_preview_snapshot(snap_compare, preview_project: Path) -> None:
    assert snap_compare(make_app(preview_project), terminal_size=(120, 36), run_before=_select("broken.xlsx"))


def test_help_screen_snapshot(snap_compare, fixed_project: Path) -> None:
    async def open_help(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot.app, pilot)
        await pilot.press("f1")
        await pilot.pause()

    assert snap_compare(make_app(fixed_project), terminal_size=(100, 40), run_before=open_help)


async def test_a_workbooks_sheets_switch_with_brackets(previews: Path) -> None:
    from liferaft.tui.widgets.preview_pane import PreviewPane

    app = make_app(previews)
    async with app.run_test(size=(120, 36)) as pilot:
        await _select("budget_2026.xlsx")(pilot)
        preview = app.query_one(PreviewPane)
        assert preview.preview is not None and preview.preview.sheet == "Budget"
        await pilot.press("2", "right_square_bracket")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert preview.preview is not None and preview.preview.sheet == "Actuals"
        assert preview.preview.rows == (("2026-01", "950"),)


async def test_deleting_the_selected_file_keeps_the_cursor_nearby(project: Path) -> None:
    app = make_app(project)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        pane = app.query_one(ProjectPane)
        for _ in range(4):
            await pilot.press("down")
        assert pane.selected_record is not None and pane.selected_record.path == "CODE/clean.py"
        (project / "CODE" / "clean.py").unlink()
        await pilot.press("r")
        await settle(app, pilot)
        assert pane.cursor_line == 4


async def test_a_scan_finishing_while_the_app_closes_is_dropped(project: Path) -> None:
    """Quitting while a scan runs: Textual stops the app, then takes the screens down widget by widget; a scan
    result handled in between found the project pane but not the status line, and crashed the exit."""
    from liferaft.core.project import open_project
    from liferaft.tui.messages import ProjectLoaded

    app = make_app(project)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        late = ProjectLoaded(open_project(project))
        await app.query_one("#status").remove()
        app._running = False  # as Textual's shutdown does first
        try:
            app.workbench._on_project_loaded(late)
        finally:
            app._running = True


async def test_closing_before_the_first_scan_is_in_is_quiet(project: Path) -> None:
    """Quit at once: the "scan is slow" timer (0.15 s) fired while Textual took the screens down, and the exit
    crashed looking for the project pane."""
    app = make_app(project)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        app.project = None  # as before the first scan is in
        await app.query_one(ProjectPane).remove()
        app._running = False  # as Textual's shutdown does first
        try:
            app.workbench._scan_is_slow()
        finally:
            app._running = True


async def test_reading_an_unchanged_folder_again_keeps_what_is_on_show(project: Path) -> None:
    """A rescan that finds nothing new (the watcher's start-up walks, a heartbeat, r) keeps the inventory, the
    checked plan and the prompt as they are, instead of showing them unchecked and checking them again."""
    from tests.test_prepare_tui import wait_for

    app = make_app(project)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.project is not None)
        for _ in range(3):  # read again while the first check may still run: it is stopped, and made again
            await pilot.press("r")
        await settle(app, pilot)
        await wait_for(pilot, lambda: app.plan is not None and bool(app.plan.checks))
        inventory, plan = app.project.inventory, app.plan  # type: ignore[union-attr]
        await pilot.press("r")
        await settle(app, pilot)
        assert app.project is not None and app.project.inventory is inventory
        assert app.plan is plan
        bench = app.workbench
        bench._checked_inventory = None  # as when its check was stopped by the rescan: this one checks it again
        await pilot.press("r")
        await settle(app, pilot)
        await wait_for(pilot, lambda: app.plan is not plan and app.plan is not None and bool(app.plan.checks))
        assert app.project.inventory is inventory
        plan = app.plan
        write(project / "OUTPUT" / "fresh.csv", "a,b\n1,2\n")
        await pilot.press("r")
        await settle(app, pilot)
        await wait_for(pilot, lambda: app.plan is not None and bool(app.plan.checks) and app.plan is not plan)
        assert app.project.inventory is not inventory
