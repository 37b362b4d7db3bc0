"""The details pane: what is known about the selected file or group, and the project's notes."""

from __future__ import annotations

import time
from collections.abc import Callable, Container

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from liferaft.core.roles import Role
from liferaft.core.scan import FileRecord, Inventory
from liferaft.core.units import format_age, format_count, format_size
from liferaft.tui.project_pane import ROLE_HINTS, NodeData

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
        table.add_row(key, Text(value))
    return table


def _file_view(record: FileRecord, inventory: Inventory, now: float, overridden: bool = False) -> RenderableType:
    stamp = time.strftime("%Y-%m-%d %H:%M", time.localtime(record.mtime))
    if overridden:
        role = f"{record.role.label} (set by you; press o to change)"
    elif record.role_guessed:
        role = f"{record.role.label} (guessed from its kind and name; press o to set it)"
    else:
        role = f"{record.role.label} (from its folder)"
    rows = [
        ("path", record.display_path),
        ("role", role),
        ("kind", record.kind),
        ("size", f"{format_size(record.size)} ({record.size:,} bytes)"),
        ("modified", f"{format_age(record.mtime, now)}, {stamp}"),
    ]
    parts: list[RenderableType] = [Text(record.name, style="bold"), Text(""), _facts(rows)]
    if record.flags:
        parts += [Text(""), Text("Flags", style="bold")]
        parts += [Text(f"• {FLAG_MEANINGS.get(flag, flag)}") for flag in record.flags]
    notes = [note.message for note in inventory.notes if note.path == record.path]
    if notes:
        parts += [Text(""), Text("Notes", style="bold")] + [Text(f"• {message}") for message in notes]
    return Group(*parts)


def _group_view(role: Role, inventory: Inventory) -> RenderableType:
    records = inventory.by_role()[role]
    folders = sorted(name for name, folder_role in inventory.role_folders.items() if folder_role is role)
    rows = [
        ("holds", ROLE_HINTS[role]),
        ("folder", ", ".join(f"{name}/" for name in folders) if folders else "none (roles guessed from kinds)"),
        ("files", f"{len(records):,}"),
        ("size", format_size(sum(record.size for record in records))),
    ]
    if role is Role.UNSORTED:
        rows[1] = ("folder", "files whose role could not be guessed")
    parts: list[RenderableType] = [Text(role.label, style="bold"), Text(""), _facts(rows)]
    if role is not Role.UNSORTED and not records:
        parts += [Text(""), Text(f"Nothing here yet. Put {ROLE_HINTS[role]} in {role.folder}/.", style="italic")]
    return Group(*parts)


def _summary_view(inventory: Inventory) -> RenderableType:
    parts: list[RenderableType] = [Text("Project", style="bold"), Text("")]
    rows = [(role.label, f"{format_count(len(records), 'file')} · {format_size(sum(r.size for r in records))}")
            for role, records in inventory.by_role().items() if records or role is not Role.UNSORTED]
    parts.append(_facts(rows))
    if inventory.notes:
        parts += [Text(""), Text(f"Notes ({len(inventory.notes)})", style="bold")]
        parts += [Text(f"• {note.to_json()['path']}: {note.message}") for note in inventory.notes[:50]]
    return Group(*parts)


class DetailsPane(VerticalScroll):
    """Shows the selected tree node; the project summary when nothing is selected."""

    BORDER_TITLE = "Details"

    def __init__(self, now: Callable[[], float], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._now = now
        self._body = Static("Scanning…", id="details-body")
        self.can_focus = True

    def compose(self):  # type: ignore[override]
        yield self._body

    def show(self, data: NodeData | None, inventory: Inventory, overrides: Container[str] = ()) -> None:
        if isinstance(data, FileRecord):
            self._body.update(_file_view(data, inventory, self._now(), data.path in overrides))
        elif isinstance(data, Role):
            self._body.update(_group_view(data, inventory))
        else:
            self._body.update(_summary_view(inventory))
