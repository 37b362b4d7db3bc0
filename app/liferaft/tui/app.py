"""The workbench application."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Footer, Header, Static, Tree
from textual.worker import Worker, WorkerState

from liferaft import __version__
from liferaft.core.project import Project, ProjectError, open_project
from liferaft.core.roles import Role
from liferaft.core.scan import Inventory
from liferaft.core.units import format_count, format_size
from liferaft.tui.details import DetailsPane
from liferaft.tui.project_pane import ProjectPane
from liferaft.tui.role_picker import AUTOMATIC, RolePicker
from liferaft.tui.styles import stylesheet_path


def _status_text(inventory: Inventory) -> str:
    parts = []
    for role, records in inventory.by_role().items():
        if role is Role.UNSORTED and not records:
            continue
        parts.append(f"{role.label} {len(records):,}")
    total = sum(record.size for record in inventory.files)
    line = "  ·  ".join(parts) + f"   ({format_size(total)})"
    if inventory.notes:
        line += f"   {format_count(len(inventory.notes), 'note')}"
    return line


class LiferaftApp(App[int]):
    """The full-screen workbench over one project folder."""

    CSS_PATH = str(stylesheet_path())
    TITLE = "Liferaft"
    AUTO_FOCUS = "#project"

    BINDINGS = [
        Binding("r,f5", "rescan", "Rescan", id="project.rescan", tooltip="Read the project folder again"),
        Binding("ctrl+q", "quit", "Quit", id="app.quit", tooltip="Quit Liferaft", priority=True),
    ]

    def __init__(
        self,
        root: Path,
        *,
        now: Callable[[], float] = time.time,
        first_frame_exit: bool = False,
        theme: str | None = None,
    ) -> None:
        super().__init__()
        self.root_path = Path(root)
        """The project folder."""
        self.project: Project | None = None
        """The opened project; None until the first scan finishes."""
        self._now = now
        self._first_frame_exit = first_frame_exit
        if theme:
            self.theme = theme

    def compose(self) -> ComposeResult:
        yield Header(icon="≋")
        with Horizontal(id="panes"):
            yield ProjectPane(self._now, id="project")
            yield DetailsPane(self._now, id="details")
        yield Static("Scanning…", id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.title = f"Liferaft · {self.root_path.name or self.root_path}"
        self.sub_title = str(self.root_path)
        self.query_one(ProjectPane).loading = True
        self._load_project()

    # --- loading --------------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="scan", description="scan the project")
    def _load_project(self) -> Project:
        if self.project is None:
            return open_project(self.root_path)
        self.project.rescan()
        return self.project

    @on(Worker.StateChanged)
    def _on_scan_state(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "scan":
            return
        pane = self.query_one(ProjectPane)
        if event.state is WorkerState.SUCCESS:
            project = event.worker.result
            assert isinstance(project, Project)
            first = self.project is None
            self.project = project
            pane.loading = False
            self._show_inventory(project.inventory)
            if first:
                pane.focus()
                for warning in project.warnings:
                    self.notify(warning, title="Project state", severity="warning", markup=False, timeout=10)
            else:
                files = format_count(len(project.inventory.files), "file")
                self.notify(f"Project folder read again: {files}.", timeout=3)
            if self._first_frame_exit:
                self.call_after_refresh(self.exit, 0)
        elif event.state is WorkerState.ERROR:
            pane.loading = False
            error = event.worker.error
            message = str(error) if isinstance(error, ProjectError | OSError) else f"{type(error).__name__}: {error}"
            self.query_one("#status", Static).update(f"Cannot read the project: {message}")
            self.notify(f"Cannot read the project: {message}", severity="error", markup=False, timeout=15)
            if self._first_frame_exit:
                self.call_after_refresh(self.exit, 1)

    def _show_inventory(self, inventory: Inventory) -> None:
        pane = self.query_one(ProjectPane)
        pane.show_inventory(inventory)
        self.query_one("#status", Static).update(_status_text(inventory))
        node = pane.cursor_node
        overrides = self.project.state.overrides if self.project else {}
        self.query_one(DetailsPane).show(node.data if node is not None else None, inventory, overrides)

    # --- events and actions ---------------------------------------------------------------------------

    @on(Tree.NodeHighlighted, "#project")
    def _show_selected(self, event: Tree.NodeHighlighted) -> None:
        if self.project is not None:
            self.query_one(DetailsPane).show(event.node.data, self.project.inventory, self.project.state.overrides)

    def action_set_role(self) -> None:
        record = self.query_one(ProjectPane).selected_record
        if self.project is None or record is None:
            self.notify("Select a file first: roles are set one file at a time.", timeout=3)
            return
        overridden = record.path in self.project.state.overrides
        self.push_screen(RolePicker(record, overridden), lambda choice: self._apply_role(record.path, choice))

    def _apply_role(self, path: str, choice: Role | str | None) -> None:
        if choice is None or self.project is None:
            return
        role = None if choice == AUTOMATIC else Role(choice)
        try:
            self.project.set_role(path, role)
        except OSError as exc:
            self.notify(f"The role was not changed: {exc.strerror or exc}", severity="error", markup=False)
            return
        self._show_inventory(self.project.inventory)
        record = next((r for r in self.project.inventory.files if r.path == path), None)
        if record is not None:
            how = "from its folder or a guess" if role is None else "remembered for next time"
            self.notify(f"{record.display_path} is now {record.role.label} ({how}).", markup=False, timeout=4)

    def action_rescan(self) -> None:
        self.query_one(ProjectPane).loading = self.project is None
        self._load_project()


def run_app(root: Path, *, first_frame_exit: bool = False, headless: bool = False) -> int:
    """Run the workbench on ``root`` until the user quits; returns the exit code."""
    app = LiferaftApp(root, first_frame_exit=first_frame_exit)
    result = app.run(headless=headless)
    if headless:
        # The smoke check CI runs against an installed wheel: say what was loaded.
        files = len(app.project.inventory.files) if app.project else 0
        print(f"liferaft {__version__}: first frame drawn; {files} files; stylesheet {LiferaftApp.CSS_PATH}")
    return result if isinstance(result, int) else 0
