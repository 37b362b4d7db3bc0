"""Live watching in the workbench: a file saved in the folder shows up by itself, the folder going away is
said plainly and it is picked up again when it is back."""

from __future__ import annotations

import shutil
from pathlib import Path

from rich.style import Style

from liferaft.core.scan import FileRecord
from liferaft.tui.app import LiferaftApp
from liferaft.tui.screens.workbench import window_title
from liferaft.tui.widgets.project_pane import Downloading, ProjectPane
from tests.conftest import FROZEN_NOW, write
from tests.test_prepare_tui import rendered, wait_for


def shown_paths(app: LiferaftApp) -> set[str]:
    pane = app.query_one(ProjectPane)
    paths = set()
    for line in range(pane.last_line + 1):
        node = pane.get_node_at_line(line)
        if node is not None and isinstance(node.data, FileRecord):
            paths.add(node.data.path)
    return paths


async def test_a_new_output_shows_up_by_itself(tmp_path: Path) -> None:
    root, app = _watched_project(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.watcher is not None and app.watcher.running)
        write(root / "OUTPUT/chart.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
        await wait_for(pilot, lambda: "OUTPUT/chart.png" in shown_paths(app))
        (root / "OUTPUT/chart.png").unlink()
        await wait_for(pilot, lambda: "OUTPUT/chart.png" not in shown_paths(app))


async def test_the_folder_going_away_is_said_and_picked_up_again(tmp_path: Path) -> None:
    root = tmp_path / "p"
    write(root / "SOURCE/sales.csv", "a,b\n1,2\n")
    app = LiferaftApp(root, now=lambda: FROZEN_NOW, watch=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.watcher is not None and app.watcher.running)
        shutil.move(root, tmp_path / "elsewhere")
        await wait_for(pilot, lambda: "folder is gone" in rendered(app.query_one("#status").content, 200))
        shutil.move(tmp_path / "elsewhere", root)
        write(root / "SOURCE/more.csv", "a\n1\n")
        await wait_for(pilot, lambda: "SOURCE/more.csv" in shown_paths(app))
        # The status line is redrawn by its own message, which may come just after the tree's (seen in CI).
        await wait_for(pilot, lambda: "folder is gone" not in rendered(app.query_one("#status").content, 200))


def downloading_rows(app: LiferaftApp) -> dict[str, str]:
    """The "downloading" rows on screen: path → the row as drawn."""
    pane = app.query_one(ProjectPane)
    rows = {}
    for line in range(pane.last_line + 1):
        node = pane.get_node_at_line(line)
        if node is not None and isinstance(node.data, Downloading):
            rows[node.data.path] = pane.render_label(node, Style(), Style()).plain
    return rows


def _watched_project(tmp_path: Path) -> tuple[Path, LiferaftApp]:
    """A project with one table and an empty OUTPUT/, and a workbench that watches it."""
    root = tmp_path / "p"
    write(root / "SOURCE/sales.csv", "a,b\n1,2\n")
    (root / "OUTPUT").mkdir()
    return root, LiferaftApp(root, now=lambda: FROZEN_NOW, watch=True)


async def test_a_partial_download_is_a_downloading_row_until_it_completes(tmp_path: Path) -> None:
    root, app = _watched_project(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.watcher is not None and app.watcher.running)
        partial = root / "OUTPUT/report.pdf.crdownload"
        write(partial, b"%PDF-1.7\n" + b"\0" * 3000)
        await wait_for(pilot, lambda: "OUTPUT/report.pdf.crdownload" in downloading_rows(app))
        row = downloading_rows(app)["OUTPUT/report.pdf.crdownload"]
        assert "downloading" in row and "report.pdf" in row and "3.0 KB" in row
        assert "OUTPUT/report.pdf.crdownload" not in shown_paths(app)  # not a file of the project yet
        partial.rename(root / "OUTPUT/report.pdf")
        await wait_for(pilot, lambda: "OUTPUT/report.pdf" in shown_paths(app))
        await wait_for(pilot, lambda: not downloading_rows(app))


async def test_safaris_partial_download_folder_is_one_downloading_row(tmp_path: Path) -> None:
    """Safari downloads into a folder X.download (the partial file and an Info.plist): one row, its size the
    partial file's, never the files inside as project files."""
    root, app = _watched_project(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.watcher is not None and app.watcher.running)
        folder = root / "OUTPUT/report.pdf.download"
        write(folder / "Info.plist", "<plist/>")
        write(folder / "report.pdf", b"%PDF-1.7\n" + b"\0" * 3000)
        await wait_for(pilot, lambda: "3.0 KB" in downloading_rows(app).get("OUTPUT/report.pdf.download", ""))
        assert not {path for path in shown_paths(app) if path.startswith("OUTPUT/report.pdf.download")}
        (folder / "report.pdf").rename(root / "OUTPUT/report.pdf")
        shutil.rmtree(folder)
        await wait_for(pilot, lambda: "OUTPUT/report.pdf" in shown_paths(app))
        await wait_for(pilot, lambda: not downloading_rows(app))


async def test_the_note_saved_in_the_editor_is_not_reported_as_a_change(tmp_path: Path) -> None:
    from textual.widgets import TextArea

    from liferaft.tui.screens.note import NoteScreen

    root = tmp_path / "p"
    write(root / "SOURCE/sales.csv", "a,b\n1,2\n")
    write(root / "RESTART/restart-note.md", "# Restart note\n\n## Notes\n")
    app = LiferaftApp(root, now=lambda: FROZEN_NOW, watch=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.watcher is not None and app.watcher.running)
        seen: list[str] = []
        on_watch = app.workbench._on_watch

        def recording(event) -> None:  # type: ignore[no-untyped-def]
            seen.extend(change.path for change in event.changes)
            on_watch(event)

        app.workbench._on_watch = recording  # type: ignore[method-assign]
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, NoteScreen))
        app.screen.query_one(TextArea).load_text("# Restart note\n\n## Notes\n\n- mine\n")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: (root / "RESTART/restart-note.md").read_text().endswith("- mine\n"))
        # A user's change after the save still is one; the watcher reports changes in order, so had the save
        # been reported it would be in `seen` before the chart.
        write(root / "OUTPUT/chart.png", b"\x89PNG\r\n\x1a\n")
        await wait_for(pilot, lambda: "OUTPUT/chart.png" in seen)
        assert (root / "RESTART/restart-note.md").read_text().endswith("- mine\n")
        assert "RESTART/restart-note.md" not in seen


async def test_the_folder_gone_line_is_not_drawn_over(tmp_path: Path) -> None:
    """While the folder is gone, a scan finishing late, the risk check or the minute tick redraw the status
    line: it must go on saying the folder is gone (it used to show the file counts again)."""
    from liferaft.core.watch import WatchEvent

    root = tmp_path / "p"
    write(root / "SOURCE/sales.csv", "a,b\n1,2\n")
    app = LiferaftApp(root, now=lambda: FROZEN_NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.project is not None)
        app.watcher = object()  # type: ignore[assignment]  # as if watching: _on_watch only acts while it is
        app.workbench._on_watch(WatchEvent((), reconciled=False, root_missing=True))
        assert "folder is gone" in rendered(app.query_one("#status").content, 200)
        app.workbench._tick()
        app.workbench._show_inventory(app.project.inventory, check=False)  # type: ignore[union-attr]
        await pilot.pause()
        assert "folder is gone" in rendered(app.query_one("#status").content, 200)
        app.workbench._on_watch(WatchEvent((), reconciled=True))  # back
        app.workbench._update_status()
        assert "folder is gone" not in rendered(app.query_one("#status").content, 200)
        app.watcher = None


def test_the_window_title_is_the_folders_own_name_on_each_platform() -> None:
    assert window_title(r"C:\Users\ana\sales", "win32") == "Liferaft · sales"
    assert window_title("C:\\Users\\ana\\sales\\", "win32") == "Liferaft · sales"
    assert window_title(r"\\server\share\My data", "win32") == "Liferaft · My data"
    assert window_title("/Users/ana/sales/", "darwin") == "Liferaft · sales"
    assert window_title("/home/ana/sales", "linux") == "Liferaft · sales"
    assert window_title("/", "linux") == "Liferaft · /"
    assert window_title("C:\\", "win32") == "Liferaft · C:\\"


async def test_the_workbench_title_is_the_folders_name(tmp_path: Path) -> None:
    root = tmp_path / "p"
    write(root / "SOURCE/sales.csv", "a,b\n1,2\n")
    app = LiferaftApp(root, now=lambda: FROZEN_NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.title == "Liferaft · p")
