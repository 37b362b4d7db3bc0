"""The preview pane: what is known about the selected file, and a look inside it.

The look inside comes from :func:`liferaft.core.inspect.inspect_file` in a thread worker: the UI never
waits for a file. Selecting another file cancels the previous load (its result is dropped), and a
loading indicator appears only when a load takes longer than a blink.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Container
from pathlib import Path
from typing import cast

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import ScrollableContainer, Vertical, VerticalScroll
from textual.widgets import ContentSwitcher, Static
from textual.worker import get_current_worker

from liferaft.core.inspect import Preview, inspect_file
from liferaft.core.roles import Role
from liferaft.core.scan import FileRecord, Inventory, ScanNote, shown_name
from liferaft.core.units import format_age, format_count, format_size
from liferaft.core.uploads import UploadPlan
from liferaft.tui.commands import bindings
from liferaft.tui.widgets.project_pane import ROLE_HINTS, Downloading, NodeData, SavedPrompts
from liferaft.tui.widgets.upload_check import check_view

TYPE_CHECKING = False
if TYPE_CHECKING:
    from textual.widgets import DataTable

    from liferaft.core.risk import Risk
    from liferaft.tui.app import LiferaftApp

#: Show the loading indicator only for loads slower than this (seconds).
LOADING_DELAY = 0.15

FLAG_MEANINGS: dict[str, str] = {
    "empty": "the file is empty",
    "symlink": "a link to another file in the project",
    "outside_root": "a link to a file outside the project: listed, not read",
    "odd_name": "the name has line breaks or invalid UTF-8: rename it before uploading",
    "unreadable": "Liferaft cannot read this file",
}


def _facts(rows: list[tuple[str, str]]) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="dim", no_wrap=True)
    table.add_column(overflow="fold")
    for key, value in rows:
        table.add_row(key, Text(shown_name(value)))
    return table


def file_facts(record: FileRecord, now: float, overridden: bool) -> list[tuple[str, str]]:
    if overridden:
        role = f"{record.role.label} (set by you; o to change)"
    elif record.role_guessed:
        role = f"{record.role.label} (guessed; o to set)"
    else:
        role = f"{record.role.label} (from its folder)"
    stamp = time.strftime("%Y-%m-%d %H:%M", time.localtime(record.mtime))
    return [
        ("path", record.display_path),
        ("role", role),
        ("size", f"{format_size(record.size)} · {record.kind}"),
        ("changed", f"{format_age(record.mtime, now)} ({stamp})"),
    ]


def file_problems(record: FileRecord, inventory: Inventory) -> list[str]:
    problems = [FLAG_MEANINGS.get(flag, flag) for flag in record.flags]
    return problems + [note.message for note in inventory.notes if note.path == record.path]


def upload_summary(record: FileRecord, plan: UploadPlan) -> list[RenderableType]:
    """For a SOURCE file: what the upload check found and what to do, or which prepared files stand in."""
    parts: list[RenderableType] = []
    replaced = plan.replaced.get(record.path)
    if replaced is not None:
        names = ", ".join(shown_name(path.rpartition("/")[2]) for path in replaced[:3])
        if len(replaced) > 3:
            names += f" and {len(replaced) - 3:,} more"
        parts.append(Text.assemble(("✓ ", "green"), "a new chat gets the prepared ",
                                   "copy" if len(replaced) == 1 else f"{len(replaced)} files", f": {names}"))
        return parts
    check = plan.checks.get(record.path)
    if check is None:
        return parts
    parts.append(check_view(check))
    stale = plan.stale.get(record.path)
    if stale:
        parts.append(Text(f"! its prepared copies are not used: {stale}", style="dark_orange"))
    if check.problems:
        parts.append(Text("p prepares a fixed copy (the original is never changed)", style="dim italic"))
    return parts


def file_summary(record: FileRecord, inventory: Inventory, now: float, overridden: bool,
                 preview: Preview | None = None, plan: UploadPlan | None = None) -> RenderableType:
    """The file's facts and, once it is previewed, what the preview found, in one aligned list; for a SOURCE
    file, the upload check's verdict, problems and fixes above them."""
    rows = file_facts(record, now, overridden)
    notes: list[str] = []
    if preview is not None and not preview.error:
        known = {key for key, _ in rows}
        rows += [(key, value) for key, value in preview.facts if key not in known]
        notes = list(preview.notes)
    # Warnings first: on a small screen the facts below them may need scrolling.
    parts: list[RenderableType] = [Text(f"! {problem}", style="dark_orange")
                                   for problem in file_problems(record, inventory)]
    if plan is not None:
        parts += upload_summary(record, plan)
    parts += [Text(f"• {note}", style="italic") for note in notes]
    parts.append(_facts(rows))
    return Group(*parts)


def group_summary(role: Role, inventory: Inventory) -> RenderableType:
    records = inventory.by_role()[role]
    folders = sorted(name for name, folder_role in inventory.role_folders.items() if folder_role is role)
    if role is Role.UNSORTED:
        where = "files whose role could not be guessed"
    else:
        where = ", ".join(f"{name}/" for name in folders) if folders else "no folder: roles guessed from kinds"
    rows = [
        ("holds", ROLE_HINTS[role]),
        ("folder", where),
        ("files", f"{format_count(len(records), 'file')} · {format_size(sum(r.size for r in records))}"),
    ]
    parts: list[RenderableType] = [Text(role.label, style="bold"), _facts(rows)]
    if role is not Role.UNSORTED and not records:
        parts.append(Text(f"Nothing here yet: this is where the {ROLE_HINTS[role]} go.", style="italic"))
    return Group(*parts)


def project_summary(inventory: Inventory) -> RenderableType:
    rows = [
        (role.label, f"{format_count(len(records), 'file')} · {format_size(sum(r.size for r in records))}")
        for role, records in inventory.by_role().items()
        if records or role is not Role.UNSORTED
    ]
    parts: list[RenderableType] = [Text("Project", style="bold"), _facts(rows)]
    if inventory.notes:
        parts.append(Text(f"Notes ({len(inventory.notes)})", style="bold"))
        parts += [Text(f"• {note.to_json()['path']}: {note.message}") for note in inventory.notes[:50]]
    return Group(*parts)


#: The most lines of text the preview draws: highlighting and layout cost grows with every line.
MAX_TEXT_LINES = 1000


def preview_text(preview: Preview) -> RenderableType:
    """What to draw for a text-like preview. Runs in the worker thread: code is highlighted into a plain
    :class:`Text` there, so the UI thread only lays it out."""
    text = preview.text or ""
    lines = text.splitlines()
    if len(lines) > MAX_TEXT_LINES:
        text = "\n".join(lines[:MAX_TEXT_LINES]) + f"\n… the first {MAX_TEXT_LINES:,} lines are shown"
    # Deferred: Markdown and Syntax (with Pygments) cost ~40 ms to import, paid on the first such preview.
    if preview.text_format == "markdown":
        from rich.markdown import Markdown

        return Markdown(text)
    if preview.text_format and preview.text_format != "text":
        from rich.syntax import Syntax

        return Syntax(text, preview.text_format, theme="ansi_dark").highlight(text)
    return Text(text)


class PreviewPane(Vertical):
    """Facts about the selected node on top; below, the file's content (table, text, or a message)."""

    BORDER_TITLE = "Preview"
    BINDINGS = bindings("preview")
    ALLOW_MAXIMIZE = True

    def __init__(self, now: Callable[[], float], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._now = now
        self._record: FileRecord | None = None
        self._preview: Preview | None = None
        self._loading_timer: object | None = None
        self._file_context: tuple[Inventory, bool] | None = None
        self.plan: UploadPlan | None = None
        """The upload plan: the check of a SOURCE file is shown with its facts."""

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="preview-summary-scroll"):
            yield Static("Scanning the project…", id="preview-summary")
        with ContentSwitcher(initial="preview-message", id="preview-body"):
            yield Static("", id="preview-message")
            # The table (#preview-table) is made when a table is first shown (_data_table): a DataTable took
            # ~15 ms of the first frame, where most starts show none.
            with ScrollableContainer(id="preview-scroll"):
                yield Static("", id="preview-text")

    @property
    def record(self) -> FileRecord | None:
        """The file on show, if a file is selected."""
        return self._record

    @property
    def preview(self) -> Preview | None:
        """The last finished look inside the file on show."""
        return self._preview

    def show(self, data: NodeData | None, inventory: Inventory, root: Path, overrides: Container[str] = ()) -> None:
        if isinstance(data, FileRecord):
            self.border_title = f"Preview · {shown_name(data.name)}"
            if self._record is None or self._record.path != data.path or self._record.mtime != data.mtime:
                self._preview = None
                self._load(root / data.path, data, None)
            self._record = data
            self._file_context = (inventory, data.path in overrides)
            self._show_file_summary()
            return
        self._record = None
        self._preview = None
        self.workers.cancel_group(self, "preview")
        self._cancel_loading_timer()
        self.border_title = "Preview"
        if isinstance(data, Role):
            self._set_summary(group_summary(data, inventory))
            if inventory.files:
                self._message("Select a file to look inside it.")
            else:
                self._message("This folder has no files yet. Run `liferaft init` here to make the four folders "
                              "and a restart note, then save the original data in SOURCE/.")
        elif isinstance(data, Downloading):
            self._set_summary(_facts([("path", data.path), ("so far", format_size(data.size))]))
            self._message("Still downloading: the file takes this row's place when it completes.")
        elif isinstance(data, ScanNote):
            self._set_summary(_facts([("path", data.to_json()["path"]), ("note", data.message)]))
            self._message("Liferaft could not list or read this entry as a normal file; nothing was changed.")
        else:
            self._set_summary(project_summary(inventory))
            self._message("")

    def _set_summary(self, summary: RenderableType) -> None:
        self.query_one("#preview-summary", Static).update(summary)

    def _show_file_summary(self) -> None:
        """The selected file's facts, with what its preview found once that is in."""
        if self._record is None or self._file_context is None:
            return
        inventory, overridden = self._file_context
        self._set_summary(file_summary(self._record, inventory, self._now(), overridden, self._preview, self.plan))

    def set_plan(self, plan: UploadPlan | None) -> None:
        self.plan = plan
        self._show_file_summary()

    def refresh_ages(self) -> None:
        """Redraw the selected file's facts ("changed 3 min ago" moves with time)."""
        self._show_file_summary()

    def focus_body(self) -> None:
        """Focus what can be moved around in: the table, the text, or the facts."""
        current = self.query_one(ContentSwitcher).current
        target = {"preview-table": "#preview-table", "preview-scroll": "#preview-scroll"}.get(
            current or "", "#preview-summary-scroll")
        self.query_one(target).focus()

    def change_sheet(self, step: int) -> bool:
        """Show the workbook's next (+1) or previous (-1) sheet; False when there is no other sheet."""
        preview, record = self._preview, self._record
        if preview is None or record is None or len(preview.sheets) < 2 or self.app is None:
            return False
        index = preview.sheets.index(preview.sheet) if preview.sheet in preview.sheets else 0
        sheet = preview.sheets[(index + step) % len(preview.sheets)]
        project = cast("LiferaftApp", self.app).project
        if project is None:
            return False
        # The table stays on show (and keeps the focus, so that the next [ or ] reaches this pane) until the
        # other sheet replaces it.
        self._load(project.root / record.path, record, sheet, keep_shown=True)
        return True

    # --- loading ----------------------------------------------------------------------------------

    def _load(self, path: Path, record: FileRecord, sheet: str | None, *, keep_shown: bool = False) -> None:
        if not keep_shown:
            self._message("")
        self._cancel_loading_timer()
        self._loading_timer = self.set_timer(LOADING_DELAY, self._show_loading)
        self._inspect(path, record, sheet)

    def _show_loading(self) -> None:
        self.query_one("#preview-body").loading = True

    def _cancel_loading_timer(self) -> None:
        timer = self._loading_timer
        if timer is not None:
            timer.stop()  # type: ignore[attr-defined]
        self._loading_timer = None
        self.query_one("#preview-body").loading = False

    @work(thread=True, exclusive=True, group="preview", exit_on_error=False, description="preview a file")
    def _inspect(self, path: Path, record: FileRecord, sheet: str | None) -> None:
        preview = inspect_file(path, record.kind, sheet=sheet)
        body = preview_text(preview) if preview.text is not None and not preview.rows else None
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show_preview, record, preview, body)

    def _show_preview(self, record: FileRecord, preview: Preview, body: RenderableType | None = None) -> None:
        if self._record is None or self._record.path != record.path:
            return  # the user moved on
        self._cancel_loading_timer()
        self._preview = preview
        self.app.refresh_bindings()  # the sheet keys depend on what is shown
        if preview.error:
            self._message(Text(preview.error, style="red"))
            return
        self._show_file_summary()
        if preview.rows or preview.columns:
            self._table(preview)
        elif body is not None:
            self.query_one("#preview-text", Static).update(body)
            self.query_one(ContentSwitcher).current = "preview-scroll"
            self.query_one("#preview-scroll", ScrollableContainer).scroll_home(animate=False)
        else:
            self._message("")

    def _data_table(self) -> DataTable:
        """The preview's table, made (and mounted) the first time one is shown."""
        from textual.widgets import DataTable

        made = self.query("#preview-table")
        if made:
            return made.first(DataTable)
        table = DataTable(id="preview-table", zebra_stripes=True, cursor_type="row", header_height=2)
        self.query_one(ContentSwitcher).mount(table)
        return table

    def _table(self, preview: Preview) -> None:
        table = self._data_table()
        table.clear(columns=True)
        for column in preview.columns:
            label = Text.assemble((column.name, "bold"), "\n", (column.type, "dim italic"))
            table.add_column(label)
        width = len(preview.columns)
        for row in preview.rows:
            cells = list(row[:width]) + [""] * (width - len(row))
            table.add_row(*(Text(cell, no_wrap=True, overflow="ellipsis") for cell in cells))
        if preview.sheet is not None:
            self.border_title = (f"Preview · {shown_name(self._record.name) if self._record else ''} · "
                                 f"sheet {shown_name(preview.sheet)}")
            if len(preview.sheets) > 1:
                others = [name for name in preview.sheets if name != preview.sheet]
                self.border_subtitle = "[ ] other sheets: " + ", ".join(others)
        else:
            self.border_subtitle = ""
        self.query_one(ContentSwitcher).current = "preview-table"

    def _message(self, message: RenderableType) -> None:
        self.border_subtitle = ""
        self.query_one("#preview-message", Static).update(message)
        self.query_one(ContentSwitcher).current = "preview-message"


def missing_view(risk: Risk) -> Text | None:
    """For the OUTPUT group's preview: the outputs only the chat has, by name."""
    if not risk.missing_outputs:
        return None
    text = Text(f"Missing ({len(risk.missing_outputs)}): named in the restart note or the chat, not in OUTPUT\n",
                style="bold red")
    for item in risk.missing_outputs[:20]:
        text.append(f"  ⚑ {shown_name(item.name)}", style="bold")
        text.append(f"  named in: {', '.join(item.sources)}\n", style="dim")
    if len(risk.missing_outputs) > 20:
        text.append(f"  … and {len(risk.missing_outputs) - 20} more\n", style="dim")
    text.append("Ask the chat for them again and save them in OUTPUT/; w lists what is at risk.", style="italic")
    return text


def saved_prompts_view(fold: SavedPrompts, now: float) -> Text:
    """For the folded row of saved prompts: how many, where, and the newest ones."""
    from liferaft.core.delivery import KEEP_PROMPTS, OLD

    records, folder, kept = fold.records, fold.folder, fold.kept
    text = Text("Saved prompts\n", style="bold")
    text.append(f"{format_count(kept, 'prompt')} in {shown_name(folder)}/ (the newest {KEEP_PROMPTS} stay there; "
                f"older ones move to {OLD}/, never deleted)", style="dim")
    if len(records) > kept:
        text.append(f", {len(records) - kept:,} in {OLD}/", style="dim")
    text.append(". ctrl+y saves one each time it copies; e opens the folder.\n\n", style="dim")
    for record in records[:12]:
        text.append(f"  {shown_name(record.name)}", style="bold" if record is records[0] else "")
        text.append(f"  {format_age(record.mtime, now)}\n", style="dim")
    if len(records) > 12:
        text.append(f"  … and {len(records) - 12:,} more\n", style="dim")
    return text
