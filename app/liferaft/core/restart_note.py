"""The restart note: what lets a fresh chat pick up an analysis after its sandbox is gone.

The note is plain Markdown in RESTART/ with stable second-level headings, so people can edit it by hand
and Liferaft can read it back. This module holds the section list and renders a note; parsing and the
composer build on the same list.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

TYPE_CHECKING = False
if TYPE_CHECKING:
    from liferaft.core.scan import FileRecord, Inventory

#: File name of the restart note inside the RESTART folder.
NOTE_FILENAME = "restart-note.md"


class Section:
    """One part of the note: ``key`` for code, ``heading`` as written in the file, ``hint`` for empty ones."""

    __slots__ = ("heading", "hint", "key")

    def __init__(self, key: str, heading: str, hint: str) -> None:
        self.key = key
        self.heading = heading
        self.hint = hint


#: The note's sections, in order. Headings are part of the file format: change them only with a migration.
SECTIONS: tuple[Section, ...] = (
    Section("brief", "Project brief", "One or two sentences: the question this analysis answers and for whom."),
    Section("files", "Files used", "Each source file, one per line, as it is named in SOURCE/."),
    Section("columns", "Columns used", "The columns that matter and what they mean."),
    Section("filters", "Filters applied", "Rows or periods left out, and why."),
    Section("decisions", "Formulas and code decisions", "Definitions, formulas, libraries, choices made."),
    Section("outputs", "Generated outputs", "Every chart, table or file the chat produced, one per line."),
    Section("next_prompt", "Next prompt if the session expires", "The exact message to send in a new chat."),
    Section("notes", "Notes", "Anything else worth keeping."),
)


def render_note(title: str, content: Mapping[str, str] | None = None) -> str:
    """Render a restart note; sections without content show their hint as an HTML comment."""
    content = content or {}
    lines = [f"# Restart note: {title}", ""]
    for section in SECTIONS:
        lines.append(f"## {section.heading}")
        lines.append("")
        body = content.get(section.key, "").strip()
        lines.append(body if body else f"<!-- {section.hint} -->")
        lines.append("")
    return "\n".join(lines)


def rename_mentions(text: str, old: str, new: str, old_path: str | None = None,
                    new_path: str | None = None) -> tuple[str, int]:
    """``text`` with every mention of the file name ``old`` replaced by ``new``, and how many there were.

    Only whole names count: ``sales.csv`` is not a mention inside ``old_sales.csv`` or ``sales.csv.bak``.
    A mention written as a path (``SOURCE/sales.csv``) is the file only when it is ``old_path``; it then
    becomes ``new_path``. Any other path with that name (``OUTPUT/sales.csv``) is another file: left as it is.
    """
    import re

    if not old or (old == new and old_path == new_path):
        return text, 0
    pattern = re.compile(rf"(?<![\w.\-/])((?:[\w.\-]+/)*){re.escape(old)}(?![\w\-]|\.\w)")
    count = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal count
        folder = match[1]
        if not folder:
            count += 1
            return new
        written = folder.removeprefix("./") + old
        if old_path is not None and new_path is not None and written == old_path:
            count += 1
            return ("./" if folder.startswith("./") else "") + new_path
        return match[0]

    return pattern.sub(replace, text), count


def find_note(inventory: Inventory) -> FileRecord | None:
    """The project's restart note (``restart-note.md`` in a RESTART folder), if it has one."""
    from liferaft.core.roles import Role

    return next((record for record in inventory.by_role()[Role.RESTART] if record.name == NOTE_FILENAME), None)


def note_mentions(root: Path, inventory: Inventory, old_path: str) -> int:
    """How often the restart note mentions the file ``old_path`` (0 without a note, or one that cannot be read)."""
    from liferaft.core import storage

    record = find_note(inventory)
    if record is None:
        return 0
    try:
        text = storage.read_small_file(Path(root) / record.path).decode("utf-8", errors="replace")
    except OSError:
        return 0
    name = old_path.rpartition("/")[2]
    return rename_mentions(text, name, "\0", old_path, "\0")[1]


def rename_in_note(root: Path, inventory: Inventory, old_path: str, new_path: str) -> int:
    """Make the project's restart note say ``new_path``'s name where it mentions the file ``old_path`` (both
    relative to the project), atomically. Returns how many mentions changed (0, and nothing written, when
    there is no note or no mention). Raises OSError when the note cannot be read or written, or is a link
    (Liferaft does not write through links), UnicodeDecodeError when it is not UTF-8."""
    import os
    import stat

    from liferaft.core import storage

    record = find_note(inventory)
    if record is None:
        return 0
    path = Path(root) / record.path
    if "symlink" in record.flags or "outside_root" in record.flags or not stat.S_ISREG(os.lstat(path).st_mode):
        raise OSError(f"{record.display_path} is a link: Liferaft does not write through it; change the name there "
                      "by hand")
    limit = 4 * 1024 * 1024
    raw = storage.read_small_file(path, limit + 1)
    if len(raw) > limit:  # never write back a note that was not read whole
        raise OSError(f"{record.display_path} is larger than 4 MB: not changed")
    text = raw.decode("utf-8")
    old, new = old_path.rpartition("/")[2], new_path.rpartition("/")[2]
    updated, count = rename_mentions(text, old, new, old_path, new_path)
    if count:
        storage.write_text(path, updated)
    return count
