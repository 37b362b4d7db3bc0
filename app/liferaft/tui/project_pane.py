"""The project pane: the analysis folder's files grouped SOURCE / CODE / OUTPUT / RESTART / Unsorted."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from liferaft.core.roles import Role
from liferaft.core.scan import FileRecord, Inventory
from liferaft.core.units import format_age, format_size

KIND_ICONS: dict[str, str] = {
    "csv": "▦", "tsv": "▦", "xlsx": "▦", "parquet": "▦", "json": "{}", "text": "≡", "markdown": "≡",
    "pdf": "▤", "image": "◩", "python": "λ", "notebook": "λ", "sql": "λ", "r": "λ", "archive": "▣",
    "other": "·",
}

ROLE_HINTS: dict[Role, str] = {
    Role.SOURCE: "original data, never edited",
    Role.CODE: "scripts and notebooks",
    Role.OUTPUT: "cleaned data, charts, reports",
    Role.RESTART: "restart notes, saved prompts",
    Role.UNSORTED: "role unknown",
}

#: What a tree node holds: a role for group rows, a record for file rows.
NodeData = Role | FileRecord


def _shown_path(record: FileRecord, inventory: Inventory) -> str:
    """The path under its group: without the role folder's name when the file sits in that folder."""
    path = record.display_path
    folder, _, rest = path.partition("/")
    if rest and inventory.role_folders.get(folder) is record.role:
        path = rest
    return path.replace("\n", "⏎").replace("\r", "⏎")


def _file_label(record: FileRecord, shown: str, now: float) -> Text:
    label = Text(no_wrap=True, overflow="ellipsis")
    label.append(f"{KIND_ICONS.get(record.kind, '·')} ", style="dim")
    label.append(shown)
    label.append(f"  {format_size(record.size)} · {format_age(record.mtime, now)}", style="dim")
    if record.role_guessed:
        label.append("  guessed", style="italic dark_orange")
    for flag in record.flags:
        label.append(f"  {flag.replace('_', ' ')}", style="red" if flag == "unreadable" else "dark_orange")
    return label


def _group_label(role: Role, records: list[FileRecord]) -> Text:
    label = Text(no_wrap=True, overflow="ellipsis")
    label.append(role.label, style="bold")
    size = sum(record.size for record in records)
    label.append(f"  {len(records)} · {format_size(size)}", style="dim")
    if not records:
        label.append(f"  ({ROLE_HINTS[role]})", style="dim italic")
    return label


class ProjectPane(Tree[NodeData]):
    """Files grouped by role. Selection is kept across refreshes of the inventory."""

    BORDER_TITLE = "Project"

    def __init__(self, now: Callable[[], float], *, id: str | None = None) -> None:
        super().__init__("project", id=id)
        self.show_root = False
        self.guide_depth = 2
        self._now = now

    def show_inventory(self, inventory: Inventory) -> None:
        selected = self.cursor_node.data if self.cursor_node is not None else None
        selected_key = selected.path if isinstance(selected, FileRecord) else selected
        collapsed = {
            node.data for node in self.root.children if isinstance(node.data, Role) and not node.is_expanded
        }
        self.clear()
        now = self._now()
        restore: TreeNode[NodeData] | None = None
        for role, records in inventory.by_role().items():
            if role is Role.UNSORTED and not records:
                continue
            group = self.root.add(_group_label(role, records), data=role, expand=role not in collapsed)
            if selected_key == role:
                restore = group
            for record in records:
                leaf = group.add_leaf(_file_label(record, _shown_path(record, inventory), now), data=record)
                if selected_key == record.path:
                    restore = leaf
        if restore is not None:
            self.move_cursor(restore)
        elif self.root.children:
            self.move_cursor(self.root.children[0])

    @property
    def selected_record(self) -> FileRecord | None:
        node = self.cursor_node
        return node.data if node is not None and isinstance(node.data, FileRecord) else None
