"""The project pane: the analysis folder's files grouped SOURCE / CODE / OUTPUT / RESTART / Unsorted."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from rich.style import Style
from rich.text import Text
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from liferaft.core.names import cut_middle
from liferaft.core.roles import Role
from liferaft.core.scan import PARTIAL_SUFFIXES, FileRecord, Inventory, ScanNote, shown_name
from liferaft.core.units import format_age_short, format_count, format_size
from liferaft.core.uploads import UploadPlan
from liferaft.tui.commands import bindings

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

#: The orders the project pane can show files in, cycled with `s`.
SORT_ORDERS: tuple[str, ...] = ("name", "modified", "size")
_SORT_KEYS: dict[str, tuple[Callable[[FileRecord], object], bool]] = {
    "name": (lambda record: record.path.casefold(), False),
    "modified": (lambda record: record.mtime, True),
    "size": (lambda record: record.size, True),
}

#: What a tree node holds: a role for group rows, a record for file rows.


class Downloading(NamedTuple):
    """A partial download (``.crdownload``, ``.part``, ``.download``) the watcher saw growing; its row goes
    when the download completes and the final file takes its place."""

    path: str
    size: int


class SavedPrompts(NamedTuple):
    """The prompts Liferaft saved in RESTART/prompts/ (and its old/), folded into one row: one more file each
    time a prompt is copied would push the rest of RESTART off the screen."""

    folder: str
    """The prompts folder, relative to the project."""
    records: tuple[FileRecord, ...]
    """Newest first."""
    kept: int
    """How many are in the folder itself (the rest are in its old/)."""

    @property
    def newest(self) -> FileRecord:
        return self.records[0]


NodeData = Role | FileRecord | ScanNote | Downloading | SavedPrompts | str
#: Data of the "Notes" group row.
NOTES = "notes"

#: Files shown at most per group: every row costs on each rebuild (10,000 rows: ~0.3 s of a frozen UI per
#: change while watching), and past a few hundred the filter (/) finds a file faster than scrolling does.
MAX_ROWS = 500
#: Data of the "… more" row at the end of a long group.
MORE = "more"
#: Marks the folded row of saved prompts when the selection is kept across a rebuild.
PROMPTS_ROW = "saved-prompts"

#: Fewer columns than this for a file's name, and its badges shrink to one mark.
MIN_NAME = 16
#: A pane narrower than this (its rows' width) has narrower size and age columns; narrower than TIGHT, no age.
COMPACT = 46
TIGHT = 30

#: Short badges for flags, so a name keeps its room in a narrow pane.
BADGES: dict[str, str] = {
    "empty": "empty",
    "symlink": "link",
    "outside_root": "outside",
    "odd_name": "bad name",
    "unreadable": "locked",
}


def _shown_path(record: FileRecord, inventory: Inventory) -> str:
    """The path under its group: without the role folder's name when the file sits in that folder."""
    path = record.display_path
    folder, _, rest = path.partition("/")
    if rest and inventory.role_folders.get(folder) is record.role:
        path = rest
    return shown_name(path)


def _file_label(record: FileRecord, shown: str) -> Text:
    label = Text(no_wrap=True, overflow="ellipsis")
    label.append(f"{KIND_ICONS.get(record.kind, '·')} ", style="dim")
    label.append(shown)
    return label


#: The upload verdict badges of SOURCE files: (badge, compact mark, style).
UPLOAD_BADGES: dict[str, tuple[str, str, str]] = {
    "block": ("block", "✗", "bold red"),
    "warn": ("warn", "!", "dark_orange"),
    "prepared": ("prepared", "✓", "green"),
    "unsaved": ("unsaved", "⚑", "bold dark_orange"),
}


def upload_badge(record: FileRecord, plan: UploadPlan | None, unsaved: set[str] | frozenset[str] = frozenset()
                 ) -> str | None:
    """"prepared" for an original that uploads as prepared files, else the check's verdict unless ok; for an
    output, "unsaved" when it is not in a checkpoint."""
    if record.path in unsaved:
        return "unsaved"
    if plan is None:
        return None
    if record.path in plan.replaced:
        return "prepared"
    check = plan.checks.get(record.path)
    if check is None or check.verdict == "ok":
        return None
    return check.verdict


def _columns(width: int) -> tuple[int, int]:
    """The size and age columns' widths for rows ``width`` cells wide (age 0: not shown)."""
    if width < TIGHT:
        return 7, 0
    if width < COMPACT:
        return 7, 6
    return 8, 7


def _file_meta(record: FileRecord, now: float, compact: bool = False, upload: str | None = None,
               columns: tuple[int, int] = (8, 7)) -> Text:
    """What stands right-aligned after a file's name: badges, size, age. ``compact`` shrinks the badges to
    one mark ("?" guessed, "!" flagged, "✗" blocked) for narrow panes; the preview spells them out.
    ``upload`` is the file's upload badge (see :func:`upload_badge`), shown first; ``columns`` the widths of
    the size and age columns (see :func:`_columns`)."""
    meta = Text(no_wrap=True)
    badges = [BADGES.get(flag, flag) for flag in record.flags]
    if record.role_guessed:
        badges.insert(0, "guess")
    if compact:
        badges = ["?" if record.role_guessed and not record.flags else "!"] if badges else []
    elif len(badges) > 2:
        badges = [*badges[:1], f"+{len(badges) - 1}"]
    if upload is not None:
        badge, mark, style = UPLOAD_BADGES[upload]
        meta.append(f"{mark if compact else badge} ", style=style)
        if compact:
            badges = []  # one mark at most: the upload verdict matters most
    for badge in badges:
        meta.append(f"{badge} ", style="red" if badge == "locked" else "italic dark_orange")
    meta.append(_size_age(record.size, record.mtime, now, columns), style="dim")
    return meta


def _size_age(size: int, mtime: float | None, now: float, columns: tuple[int, int]) -> str:
    size_width, age_width = columns
    text = f"{format_size(size):>{size_width}}"
    if age_width:
        text += f" {format_age_short(mtime, now) if mtime is not None else '':>{age_width}}"
    return text


def _row_key(data: object) -> object:
    """What names a row across rescans: a file's (or a partial download's) path, a saved prompts row's folder, a
    group's role, a note itself."""
    if isinstance(data, FileRecord | Downloading):
        return data.path
    if isinstance(data, SavedPrompts):
        return (PROMPTS_ROW, data.folder)
    return data


def _group_label(role: Role, records: list[FileRecord], short: bool = False) -> Text:
    """``SOURCE  5 files`` (with what the role holds when empty); ``short``: ``SOURCE 5``, for a narrow pane."""
    label = Text(no_wrap=True, overflow="ellipsis")
    label.append(role.label, style="bold")
    if short:
        label.append(f" {len(records):,}", style="dim")
        return label
    label.append(f"  {format_count(len(records), 'file')}", style="dim")
    if not records:
        label.append(f" · {ROLE_HINTS[role]}", style="dim italic")
    return label


def _group_meta(records: list[FileRecord], columns: tuple[int, int] = (8, 7), total: int | None = None) -> Text:
    if not records:  # no size to show: the label (and what the role holds) takes the room
        return Text("")
    size_width, age_width = columns
    size = format_size(sum(record.size for record in records) if total is None else total)
    return Text(f"{size:>{size_width}}" + (" " * (age_width + 1) if age_width else ""), style="dim")


def saved_prompts_label(fold: SavedPrompts, now: float) -> str:
    """``prompts: 12 saved, newest 2 min ago`` (``, 30 older`` when some are in old/)."""
    from liferaft.core.units import format_age

    text = f"prompts: {fold.kept:,} saved, newest {format_age(fold.newest.mtime, now)}"
    older = len(fold.records) - fold.kept
    return text + (f", {older:,} older" if older else "")

class Arrangement(NamedTuple):
    """The files of an inventory as the pane shows them: filtered, sorted, grouped by role. Made by
    :func:`arrange`, which a scan's worker thread calls, so a large project's sorting is not done on the UI
    thread."""

    needle: str
    """The filter it was made with (case-folded)."""
    sort_order: str
    groups: dict[Role, list[FileRecord]]
    sizes: dict[Role, int]
    """Bytes per group."""


def arrange(inventory: Inventory, filter_text: str = "", sort_order: str = SORT_ORDERS[0]) -> Arrangement:
    """``inventory``'s files filtered by ``filter_text`` (case-insensitive, in the path), sorted by
    ``sort_order`` (one of :data:`SORT_ORDERS`), by role. Pure: safe in any thread."""
    needle = filter_text.casefold()
    sort_key, newest_first = _SORT_KEYS[sort_order]
    groups: dict[Role, list[FileRecord]] = {}
    for role, grouped in inventory.grouped().items():
        records = [record for record in grouped if needle in record.display_path.casefold()] if needle \
            else list(grouped)
        records.sort(key=sort_key, reverse=newest_first)
        groups[role] = records
    return Arrangement(needle, sort_order, groups, {role: sum(r.size for r in records)
                                                     for role, records in groups.items()})


class ProjectPane(Tree[NodeData]):
    """Files grouped by role. Selection is kept across refreshes of the inventory."""

    BORDER_TITLE = "Project"
    BINDINGS = bindings("project")
    ALLOW_MAXIMIZE = True

    def __init__(self, now: Callable[[], float], *, id: str | None = None) -> None:
        self._width_key: object = None  # set first: the Tree asks for label widths while it initialises
        self._width = 24
        super().__init__("project", id=id)
        self.show_root = False
        self.guide_depth = 2
        self._now = now
        self._inventory: Inventory | None = None
        self._groups: dict[Role, list[FileRecord]] = {}
        self._group_sizes: dict[Role, int] = {}
        self.filter_text = ""
        """Only files whose path contains this (case-insensitive) are shown."""
        self.sort_order = SORT_ORDERS[0]
        """One of :data:`SORT_ORDERS`."""
        self.plan: UploadPlan | None = None
        """The upload plan, for the SOURCE files' verdict badges; None until the files are checked."""
        self.unsaved: frozenset[str] = frozenset()
        """OUTPUT files new or changed since the last checkpoint (badge "unsaved")."""
        self.downloading: dict[str, int] = {}
        """Partial downloads in the project (path → size so far), shown as "downloading" rows."""
        self._partial_leaves: dict[str, TreeNode[NodeData]] = {}

    def set_plan(self, plan: UploadPlan | None) -> None:
        self.plan = plan
        self._invalidate()

    def set_risk(self, risk: object) -> None:
        """Flag the OUTPUT files that are not in a checkpoint (``risk`` is a :class:`liferaft.core.risk.Risk`)."""
        self.unsaved = getattr(risk, "unsaved_paths", frozenset())
        self._invalidate()

    def set_downloading(self, downloading: dict[str, int]) -> None:
        """Show these partial downloads (path → size so far) as rows of their folder's group."""
        if downloading == self.downloading:
            return
        rebuild = downloading.keys() != self.downloading.keys()
        self.downloading = dict(downloading)
        if rebuild and self._inventory is not None:
            self.show_inventory(self._inventory)
        elif not rebuild:  # only sizes grew: the rows stay, their labels are drawn again
            for path, leaf in self._partial_leaves.items():
                leaf.data = Downloading(path, self.downloading[path])
            self._invalidate()

    def _downloading_in(self, inventory: Inventory) -> dict[Role, list[Downloading]]:
        groups: dict[Role, list[Downloading]] = {}
        needle = self.filter_text.casefold()
        for path, size in sorted(self.downloading.items()):
            if needle and needle not in path.casefold():
                continue
            folder, slash, _rest = path.partition("/")
            role = (inventory.role_folders.get(folder) if slash else None) or Role.UNSORTED
            groups.setdefault(role, []).append(Downloading(path, size))
        return groups

    def set_filter(self, text: str) -> None:
        self.filter_text = text
        self._update_title()
        if self._inventory is not None:
            self.show_inventory(self._inventory)

    def _update_title(self) -> None:
        parts = ["Project"]
        if self.filter_text:
            parts.append(f"filter “{self.filter_text}” (esc clears)")
        if self.sort_order != SORT_ORDERS[0]:
            parts.append(f"by {self.sort_order}")
        self.border_title = " · ".join(parts)

    def cycle_sort(self) -> str:
        self.sort_order = SORT_ORDERS[(SORT_ORDERS.index(self.sort_order) + 1) % len(SORT_ORDERS)]
        self._update_title()
        if self._inventory is not None:
            self.show_inventory(self._inventory)
        return self.sort_order

    def show_inventory(self, inventory: Inventory, arrangement: Arrangement | None = None) -> None:
        """Show ``inventory``'s files; ``arrangement``, when given, is that inventory already arranged (used if it
        was made with the filter and order now on). When the rows are the same ones as shown (a burst of files
        past the rows a group shows, a file's size changed), the rows are updated in place instead of the tree
        being made again: no layout of the screen, and the selection and scroll stay as they are."""
        selected = self.cursor_node.data if self.cursor_node is not None else None
        selected_key: object = _row_key(selected)
        collapsed = {node.data for node in self.root.children if not node.is_expanded}
        self._inventory = inventory
        if arrangement is None or arrangement.needle != self.filter_text.casefold() or \
                arrangement.sort_order != self.sort_order:
            arrangement = arrange(inventory, self.filter_text, self.sort_order)
        self._groups, self._group_sizes = arrangement.groups, arrangement.sizes
        rows = self._rows(inventory)
        if self._same_shape(rows):
            self._update_rows(rows)
            return
        scroll_y = self.scroll_y
        previous_line = self.cursor_line
        self.clear()
        restore: TreeNode[NodeData] | None = None
        self._partial_leaves = {}
        for label, data, children in rows:
            group = self.root.add(label, data=data, expand=data not in collapsed)
            if selected_key == _row_key(data):
                restore = group
            for child_label, child in children:
                leaf = group.add_leaf(child_label, data=child)
                if isinstance(child, Downloading):
                    self._partial_leaves[child.path] = leaf
                if child is not MORE and selected_key == _row_key(child):
                    restore = leaf
        # Lines are numbered lazily after a rebuild, so work out the restored row's line here.
        self.scroll_to(y=scroll_y, animate=False, immediate=True)
        # The selected file gone (deleted, filtered out): stay on the same row rather than jump to the top.
        self.cursor_line = self._line_of(restore) if restore is not None else max(0, previous_line)

    def _rows(self, inventory: Inventory) -> list[tuple[Text, NodeData, list[tuple[Text, NodeData]]]]:
        """The rows to show: each group's label and data, with its rows (label, data)."""
        rows: list[tuple[Text, NodeData, list[tuple[Text, NodeData]]]] = []
        downloading = self._downloading_in(inventory)
        for role, records in self._groups.items():
            if role is Role.UNSORTED and not records and role not in downloading:
                continue
            children: list[tuple[Text, NodeData]] = []
            rows.append((_group_label(role, records), role, children))
            fold = self._fold_prompts(inventory, records) if role is Role.RESTART else None
            if fold is not None:
                folded = {record.path for record in fold.records}
                records = [record for record in records if record.path not in folded]
            children.extend((_file_label(record, _shown_path(record, inventory)), record)
                            for record in records[:MAX_ROWS])
            if fold is not None:
                children.append((Text(saved_prompts_label(fold, self._now()), style="italic"), fold))
            if len(records) > MAX_ROWS:
                hidden = len(records) - MAX_ROWS
                children.append((Text(f"… {hidden:,} more: press / to filter", style="italic dim"), MORE))
            for partial in downloading.get(role, ()):
                shown = partial.path.partition("/")[2] or partial.path
                # The name it will have: "report.pdf", not "report.pdf.crdownload" (the badge says the rest).
                shown = next((shown.removesuffix(end) for end in PARTIAL_SUFFIXES if shown.endswith(end)), shown)
                children.append((Text(shown, style="italic"), partial))
        if inventory.notes:
            label = Text.assemble(("Notes", "bold"), (f"  {format_count(len(inventory.notes), 'note')}", "dim"))
            notes: list[tuple[Text, NodeData]] = []
            rows.append((label, NOTES, notes))
            for note in inventory.notes[:MAX_ROWS]:
                shown = shown_name(note.to_json()["path"])
                notes.append((Text.assemble(("! ", "dark_orange"), shown, (f"  {note.message}", "dim")), note))
            if len(inventory.notes) > MAX_ROWS:  # a burst removed while scanned: one note per file gone
                hidden = len(inventory.notes) - MAX_ROWS
                notes.append((Text(f"… {hidden:,} more: `liferaft scan` lists them all", style="italic dim"),
                              MORE))
        return rows

    def _same_shape(self, rows: list[tuple[Text, NodeData, list[tuple[Text, NodeData]]]]) -> bool:
        """Whether the tree shows the same rows in the same places (same groups, same files, folded the same):
        then updating their labels is enough."""
        groups = self.root.children
        if len(groups) != len(rows):
            return False
        for group, (_label, data, children) in zip(groups, rows, strict=True):
            if group.data != data or len(group.children) != len(children):
                return False
            for node, (_child_label, child) in zip(group.children, children, strict=True):
                if _row_key(node.data) != _row_key(child):
                    return False
        return True

    def _update_rows(self, rows: list[tuple[Text, NodeData, list[tuple[Text, NodeData]]]]) -> None:
        changed = False
        for group, (label, data, children) in zip(self.root.children, rows, strict=True):
            for node, (new_label, new_data) in [(group, (label, data)), *zip(group.children, children, strict=True)]:
                if node.data != new_data or node.label != new_label:
                    node.data = new_data
                    node.set_label(new_label)
                    changed = True
        self._partial_leaves = {node.data.path: node for group in self.root.children for node in group.children
                                if isinstance(node.data, Downloading)}
        if changed:
            self._invalidate()

    def _fold_prompts(self, inventory: Inventory, records: list[FileRecord]) -> SavedPrompts | None:
        """The saved prompts among the RESTART files, as one row; None when there are none, or while the filter
        is on (it is there to find a file)."""
        if self.filter_text:
            return None
        from liferaft.core.delivery import OLD, is_saved_prompt, prompts_folder

        try:
            folder = prompts_folder(inventory.root, inventory.role_folders).relative_to(inventory.root).as_posix()
        except (OSError, ValueError):
            return None
        saved = [record for record in records if is_saved_prompt(record.path, folder)]
        if not saved:
            return None
        saved.sort(key=lambda record: (record.name, record.mtime), reverse=True)
        saved.sort(key=lambda record: record.path.startswith(f"{folder}/{OLD}/"))  # the folder's own first
        kept = sum(1 for record in saved if not record.path.startswith(f"{folder}/{OLD}/"))
        return SavedPrompts(folder, tuple(saved), kept)

    def clear(self) -> ProjectPane:
        # Textual's Tree.clear (8.2) numbers the nodes from 0 again but keeps its map of node ids to nodes: the
        # rows of a bigger tree shown before (a burst of files, or of notes on files gone) stayed in memory for
        # good, only the lowest ids being replaced by the next tree's.
        nodes = getattr(self, "_tree_nodes", None)
        if isinstance(nodes, dict):
            nodes.clear()
        super().clear()
        if isinstance(nodes, dict):
            nodes[self.root.id] = self.root
        return self

    def refresh_ages(self) -> None:
        """Draw the rows again (their ages change with time) without rebuilding the tree."""
        self._invalidate()

    def _line_of(self, target: TreeNode[NodeData]) -> int:
        line = 0
        for group in self.root.children:
            if group is target:
                return line
            line += 1
            if group.is_expanded:
                for child in group.children:
                    if child is target:
                        return line
                    line += 1
        return 0

    def render_label(self, node: TreeNode[NodeData], base_style: Style, style: Style) -> Text:
        """File rows fill the pane: the name on the left (cut in the middle, keeping its extension and part
        number), details on the right."""
        data = node.data
        width = self._label_width()
        columns = _columns(width)
        if isinstance(data, FileRecord):
            upload = upload_badge(data, self.plan, self.unsaved)
            meta = _file_meta(data, self._now(), upload=upload, columns=columns)
            if width - meta.cell_len < MIN_NAME:
                meta = _file_meta(data, self._now(), compact=True, upload=upload, columns=columns)
        elif isinstance(data, Downloading):
            size = _size_age(data.size, None, 0.0, columns)
            word = "downloading " if width - len("downloading ") - len(size) >= MIN_NAME else "⇣ "
            meta = Text(no_wrap=True)
            meta.append(word, style="bold cyan")
            meta.append(size, style="dim")
        elif isinstance(data, SavedPrompts):
            meta = Text(_size_age(sum(r.size for r in data.records), data.newest.mtime, self._now(), columns),
                        style="dim")
        elif isinstance(data, Role):
            meta = _group_meta(self._groups.get(data, []), columns, self._group_sizes.get(data))
        else:
            return super().render_label(node, base_style, style)
        # Group rows carry their expand icon inside the label; file rows have a guide outside it.
        if isinstance(data, Role):
            width += self.guide_depth
        room = max(4, width - meta.cell_len - 1)
        if isinstance(data, SavedPrompts):  # "newest 2 min ago" moves with time: made at each drawing
            name = Text(saved_prompts_label(data, self._now()), style="italic")
            name.stylize(style)
        else:
            name = super().render_label(node, base_style, style)
        if name.cell_len > room:
            name = self._fitted(node, data, room, base_style, style)
        name.pad_right(max(1, width - meta.cell_len - name.cell_len))
        name.append_text(meta)
        return name

    def _fitted(self, node: TreeNode[NodeData], data: NodeData, room: int, base_style: Style, style: Style
                ) -> Text:
        """A row's label made to fit ``room`` cells: a file's name cut in the middle, a group's short form, the
        saved prompts' count alone."""
        label: Text | None = None
        if isinstance(data, FileRecord) and self._inventory is not None:
            icon = 2  # "▦ "
            label = _file_label(data, cut_middle(_shown_path(data, self._inventory), room - icon))
        elif isinstance(data, Role):
            records = self._groups.get(data, [])
            # "OUTPUT  2 files · cleaned data, …" while "OUTPUT  2 files" fits; else "OUTPUT 2".
            short = len(data.label) + len(format_count(len(records), "file")) + 4 > room
            label = _group_label(data, records, short=short)
            expander = Text(self.ICON_NODE_EXPANDED if node.is_expanded else self.ICON_NODE)
            label = Text.assemble(expander, label)
            label.stylize(style)
            label.truncate(room, overflow="ellipsis")
            return label
        elif isinstance(data, SavedPrompts):
            label = Text(f"prompts: {data.kept:,} saved", style="italic")
        if label is None:
            label = node.label.copy()
        label.stylize(style)
        label.truncate(room, overflow="ellipsis")
        return label

    def get_label_width(self, node: TreeNode[NodeData]) -> int:
        # Rows are cut to fit, so they never make the pane scroll sideways.
        return self._label_width()

    def _label_width(self) -> int:
        # Asked once per row while the tree lays out its lines (1,500 rows on a large project): the width is kept
        # per outer size, frame and scroll bar, which are cheap to read (the content region is not: 40 µs a row).
        key = (self.outer_size, self.styles.gutter, self.show_vertical_scrollbar)
        if self._width_key != key:
            self._width_key = key
            self._width = max(24, self.scrollable_content_region.width - self.guide_depth)
        return self._width

    @property
    def selected_prompts(self) -> SavedPrompts | None:
        """The folded row of saved prompts, when it is the one selected."""
        node = self.cursor_node
        return node.data if node is not None and isinstance(node.data, SavedPrompts) else None

    @property
    def selected_record(self) -> FileRecord | None:
        node = self.cursor_node
        return node.data if node is not None and isinstance(node.data, FileRecord) else None
