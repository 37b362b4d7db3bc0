"""The restart note on disk: found in the project, loaded and saved safely, its mentions of a renamed file
kept up to date, its empty sections filled from the project, and two edits of it merged.
"""

from __future__ import annotations

import re
from pathlib import Path

from liferaft.core.restart_note.document import (
    _BULLET,
    _FENCE,
    _KEYS,
    NoteSection,
    RestartNote,
    _blank_line_after,
    _normalise_heading,
    _rebody,
    _rx,
    new_note,
    parse_note,
    write_note,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from liferaft.core.scan import FileRecord, Inventory

#: File name of the restart note inside the RESTART folder.
NOTE_FILENAME = "restart-note.md"


def rename_mentions(text: str, old: str, new: str, old_path: str | None = None,
                    new_path: str | None = None) -> tuple[str, int]:
    """``text`` with every mention of the file name ``old`` replaced by ``new``, and how many there were.

    Only whole names count: ``sales.csv`` is not a mention inside ``old_sales.csv`` or ``sales.csv.bak``.
    A mention written as a path (``SOURCE/sales.csv``) is the file only when it is ``old_path``; it then
    becomes ``new_path``. Any other path with that name (``OUTPUT/sales.csv``) is another file: left as it is.
    """
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


#: The largest note Liferaft reads (and so ever writes back).
NOTE_LIMIT = 4 * 1024 * 1024


class NoteError(OSError):
    """The restart note cannot be read or written; the message is one line for the user."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "the restart note cannot be used"


def note_path(root: Path, inventory: Inventory) -> Path:
    """Where the project's restart note is, or goes when it has none: ``restart-note.md`` in the RESTART folder
    (``RESTART/``, or the folder that plays that role under another name, ``notes/`` say)."""
    record = find_note(inventory)
    if record is not None:
        return Path(root) / record.path
    return Path(root) / _restart_folder(Path(root), inventory) / NOTE_FILENAME


def _restart_folder(root: Path, inventory: Inventory) -> str:
    import os

    from liferaft.core.roles import Role, role_for_folder

    names = sorted(name for name, role in inventory.role_folders.items() if role is Role.RESTART)
    if not names:
        try:
            with os.scandir(root) as entries:
                names = sorted(entry.name for entry in entries
                               if role_for_folder(entry.name) is Role.RESTART and entry.is_dir())
        except OSError:
            names = []
    if Role.RESTART.folder in names:
        return Role.RESTART.folder
    return names[0] if names else Role.RESTART.folder


def _shown(root: Path, path: Path) -> str:
    from liferaft.core.scan import shown_name

    try:
        return shown_name(path.relative_to(root).as_posix())
    except ValueError:
        return shown_name(str(path))


def _refuse_odd_target(root: Path, path: Path) -> None:
    """NoteError when something that is not a regular file (a folder, a pipe, a dangling link) holds the name."""
    import os
    import stat

    try:
        st = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return
    except OSError as exc:
        raise NoteError(f"cannot use {_shown(root, path)}: {exc.strerror or exc}") from None
    shown = _shown(root, path)
    if stat.S_ISLNK(st.st_mode):
        raise NoteError(f"{shown} is a link: Liferaft does not read or write the restart note through it")
    if stat.S_ISDIR(st.st_mode):
        raise NoteError(f"{shown} is a folder, not a file: rename it so that Liferaft can keep the restart note "
                        "there")
    if not stat.S_ISREG(st.st_mode):
        raise NoteError(f"{shown} is not a regular file (a pipe, socket or device): Liferaft does not open it")


def load_note(root: Path, inventory: Inventory) -> tuple[RestartNote | None, FileRecord | None]:
    """The project's restart note, parsed, and its record; ``(None, None)`` when the project has none.

    Raises :class:`NoteError` (one line) when the note cannot be used: a link out of the project, a folder
    or a pipe in its place, larger than 4 MB, unreadable, or not UTF-8 text.
    """
    from liferaft.core import storage

    root = Path(root)
    record = find_note(inventory)
    if record is None:
        _refuse_odd_target(root, note_path(root, inventory))
        return None, None
    from liferaft.core.scan import shown_name

    shown = shown_name(record.display_path)
    if "outside_root" in record.flags:
        raise NoteError(f"{shown} is a link out of the project: Liferaft does not read it")
    try:
        raw = storage.read_small_file(root / record.path, NOTE_LIMIT + 1)
    except storage.NotARegularFile:
        raise NoteError(f"{shown} is not a regular file: Liferaft does not open it") from None
    except FileNotFoundError:
        raise NoteError(f"{shown} has gone: rescan the project") from None
    except OSError as exc:
        raise NoteError(f"cannot read {shown}: {exc.strerror or exc}") from None
    if len(raw) > NOTE_LIMIT:
        raise NoteError(f"{shown} is larger than 4 MB: Liferaft reads restart notes up to 4 MB")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NoteError(f"{shown} is not UTF-8 text (byte {exc.start:,}): save it as UTF-8 and try again") from None
    return parse_note(text), record


def save_note(root: Path, inventory: Inventory, note: RestartNote, *, replace: bool = False) -> Path:
    """Write ``note`` as the project's restart note, atomically, and return its path. A project without one
    gets ``restart-note.md`` in its RESTART folder (made if missing). Raises :class:`NoteError` when the note
    is a link (Liferaft never writes through one), a folder or pipe holds its name, or writing fails.
    A note that appeared since ``inventory`` was read is not overwritten unless ``replace`` says the caller
    has seen it (and merged it, or chose to replace it)."""
    import os
    import stat

    from liferaft.core import storage

    root = Path(root)
    record = find_note(inventory)
    path = note_path(root, inventory)
    shown = _shown(root, path)
    if record is not None:
        if "symlink" in record.flags or "outside_root" in record.flags:
            raise NoteError(f"{shown} is a link: Liferaft does not write through it; edit the note it points to")
        try:
            mode = os.lstat(path).st_mode
        except FileNotFoundError:
            mode = None
        except OSError as exc:
            raise NoteError(f"cannot write {shown}: {exc.strerror or exc}") from None
        if mode is not None and not stat.S_ISREG(mode):
            _refuse_odd_target(root, path)
    else:
        folder = path.parent
        if os.path.lexists(folder) and not os.path.isdir(folder):
            raise NoteError(f"{_shown(root, folder)} is not a folder: the restart note cannot be written there")
        _refuse_odd_target(root, path)
    text = write_note(note)
    if len(text.encode("utf-8")) > NOTE_LIMIT:
        raise NoteError(f"the restart note would be larger than 4 MB: {shown} not written")
    try:
        storage.write_text(path, text, overwrite=(record is not None or replace) and os.path.lexists(path))
    except FileExistsError:
        raise NoteError(f"{shown} appeared while writing: nothing was overwritten") from None
    except OSError as exc:
        raise NoteError(f"cannot write {shown}: {exc.strerror or exc}") from None
    return path


#: How many columns of one table, and how many tables, the prefilled "Columns used" names.
PREFILL_COLUMNS = 12
PREFILL_TABLES = 20
_TABLE_KINDS = frozenset({"csv", "tsv", "xlsx", "parquet"})


def _within_role_folder(record: FileRecord, inventory: Inventory) -> str:
    """``SOURCE/prepared/a.csv`` → ``prepared/a.csv``: how the note names a file (as in its role folder)."""
    folder, slash, rest = record.display_path.partition("/")
    return rest if slash and folder in inventory.role_folders else record.display_path


def _file_line(record: FileRecord, inventory: Inventory) -> str:
    from liferaft.core.units import format_size

    size = "link out of the project" if "outside_root" in record.flags else format_size(record.size)
    from liferaft.core.scan import shown_name_noted

    return f"- {shown_name_noted(_within_role_folder(record, inventory))} — {record.kind}, {size}"


def _columns_line(root: Path, record: FileRecord, inventory: Inventory) -> str | None:
    from liferaft.core.inspect import inspect_file

    if record.kind not in _TABLE_KINDS or {"outside_root", "unreadable", "empty"} & set(record.flags):
        return None
    preview = inspect_file(Path(root) / record.path, record.kind, max_rows=1)
    if preview.error or not preview.columns:
        return None
    from liferaft.core.scan import shown_name

    names = [shown_name(" ".join(column.name.split())) or "(blank)" for column in preview.columns]
    shown = ", ".join(names[:PREFILL_COLUMNS])
    if len(names) > PREFILL_COLUMNS:
        shown += f", … ({len(names)} columns)"
    sheet = f" (sheet {preview.sheet})" if preview.sheet and len(preview.sheets) > 1 else ""
    return f"- {shown_name(_within_role_folder(record, inventory))}{shown_name(sheet)}: {shown}"


def prefill_content(root: Path, inventory: Inventory) -> dict[str, str]:
    """What Liferaft can say from the project itself: files used (SOURCE), their columns, generated outputs
    (OUTPUT). Keys absent when there is nothing to say."""
    from liferaft.core.roles import Role

    groups = inventory.by_role()
    sources = sorted(groups[Role.SOURCE], key=lambda record: record.path)
    outputs = sorted(groups[Role.OUTPUT], key=lambda record: record.path)
    content: dict[str, str] = {}
    if sources:
        content["files"] = "\n".join(_file_line(record, inventory) for record in sources)
        columns: list[str] = []
        for record in sources:
            if len(columns) >= PREFILL_TABLES:
                columns.append("- …")
                break
            line = _columns_line(root, record, inventory)
            if line is not None:
                columns.append(line)
        if columns:
            content["columns"] = "\n".join(columns)
    if outputs:
        content["outputs"] = "\n".join(_file_line(record, inventory) for record in outputs)
    return content


def prefill_note(root: Path, inventory: Inventory, note: RestartNote | None = None) -> RestartNote:
    """``note`` (default: the project's note, or a fresh one) with its EMPTY sections filled from the project:
    files used, columns used, generated outputs. Text the user wrote is never replaced; the brief, filters,
    decisions and the next prompt are left to the user. Returns a new note; ``note`` is not changed.
    Raises :class:`NoteError` when ``note`` is None and the project's note cannot be read."""
    if note is None:
        note, _record = load_note(root, inventory)
        if note is None:
            note = new_note(Path(root).name or str(root))
    filled = note.copy()
    for key, text in prefill_content(root, inventory).items():
        if not filled.get(key):
            filled.set(key, text)
    return filled


def read_note_text(path: Path) -> str | None:
    """The note's text as it is on disk now, or None when there is no file. Raises :class:`NoteError` when it
    cannot be read as a note (not a regular file, larger than 4 MB, not UTF-8)."""
    from liferaft.core import storage

    shown = Path(path).name
    try:
        raw = storage.read_small_file(Path(path), NOTE_LIMIT + 1)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except storage.NotARegularFile:
        raise NoteError(f"{shown} is not a regular file: Liferaft does not open it") from None
    except OSError as exc:
        raise NoteError(f"cannot read {shown}: {exc.strerror or exc}") from None
    if len(raw) > NOTE_LIMIT:
        raise NoteError(f"{shown} is larger than 4 MB: Liferaft reads restart notes up to 4 MB")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NoteError(f"{shown} is not UTF-8 text (byte {exc.start:,})") from None


def _merge_text(base: str, mine: str, theirs: str) -> str:
    """One section's text, changed on both sides: ``mine`` as it is, then what ``theirs`` added (its lines that
    are in neither ``base`` nor ``mine``; all of it when it holds a code block, which must stay whole)."""
    if any(_rx(_FENCE).fullmatch(line) for line in theirs.split("\n")):
        added = theirs
    else:
        known = {line.strip() for line in (*base.split("\n"), *mine.split("\n")) if line.strip()}
        kept = [line for line in theirs.split("\n") if not line.strip() or line.strip() not in known]
        added = re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip("\n")
    if not added.strip():
        return mine
    if not mine.strip():
        return added
    last = mine.rstrip().split("\n")[-1]
    first = added.lstrip("\n").split("\n")[0]
    joint = "\n" if _rx(_BULLET).fullmatch(last) and _rx(_BULLET).fullmatch(first) else "\n\n"
    return mine.rstrip() + joint + added


def merge_notes(base: str, mine: str, theirs: str) -> RestartNote:
    """Both versions of a note that was changed in two places since ``base`` (the editor's ``mine`` and the
    file's ``theirs``), merged section by section without dropping either: a section only one side changed
    takes that side's text; one both changed keeps ``mine`` and adds what ``theirs`` added. A section
    Liferaft does not know is kept from both sides (by heading); one side deleting an unchanged section
    deletes it. The title and the text before the first section follow the same rule."""
    old, ours, other = parse_note(base), parse_note(mine), parse_note(theirs)
    merged = ours.copy()
    for key in _KEYS:
        b, m, t = old.get(key), ours.get(key), other.get(key)
        if t in (b, m):
            continue
        merged.set(key, t if m == b else _merge_text(b, m, t))
    if other.title != old.title and ours.title == old.title:
        merged.title = other.title
    if other.preamble != old.preamble and other.preamble != ours.preamble:
        merged.preamble = other.preamble if ours.preamble == old.preamble else \
            _merge_text(old.preamble, ours.preamble, other.preamble)

    def extra(note: RestartNote) -> dict[str, NoteSection]:
        found: dict[str, NoteSection] = {}
        for section in note.sections:
            if section.key is None:
                found.setdefault(_normalise_heading(section.heading), section)
        return found

    old_extra, our_extra = extra(old), extra(merged)
    for name, section in extra(other).items():
        before, now = old_extra.get(name), our_extra.get(name)
        if now is None:
            if before is not None and before.body == section.body:
                continue  # deleted here, unchanged there
            if merged.sections:
                merged.sections[-1].body = _blank_line_after(merged.sections[-1].body, merged._newline)
            merged.sections.append(section.copy())
        elif section.body != now.body and section.body != (before.body if before is not None else None):
            if before is not None and now.body == before.body:
                now.body = section.body
            else:
                text = _merge_text(before.text if before is not None else "", now.text, section.text)
                now.body = _rebody(now.body, text.replace("\n", merged._newline), merged._newline,
                                   now is merged.sections[-1])
    return merged
