"""The inventory of a project folder: one record per file, plus notes on what could not be listed.

The scan is a single pass of ``os.scandir`` (no second ``stat`` where the directory entry already
says enough), reads a file's first bytes only when its extension says nothing, and never follows a
link out of the project, into a folder, or through a loop. Every odd entry becomes a note or a flag;
nothing raises.
"""

from __future__ import annotations

import errno
import gc
import operator
import os
import stat
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from liferaft.core.roles import (
    FOLDER_ROLES,
    KIND_BY_EXTENSION,
    SNIFF_SAMPLE,
    Role,
    guess_role,
    kind_from_name,
    role_for_folder,
    sniff_kind,
)
from liferaft.core.storage import read_small_file

if TYPE_CHECKING:
    from typing import Any

# No dataclasses here: `liferaft scan` is benchmarked as a whole process, and importing dataclasses (with
# inspect) costs about a tenth of the floor.

#: File name of the project's ignore file (gitignore syntax).
IGNORE_FILENAME = ".liferaftignore"
#: Folder where Liferaft keeps its own state inside a project.
STATE_DIRNAME = ".liferaft"

#: Folders never descended into: version control, caches, Python environments and Node packages (thousands of
#: files that are not the analysis), and Liferaft's own state.
JUNK_DIRS = frozenset({".git", "__pycache__", ".ipynb_checkpoints", ".venv", "venv", "node_modules", STATE_DIRNAME})
#: Files never listed.
JUNK_FILES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini", IGNORE_FILENAME})
#: Partial downloads, by suffix: files, and Safari's folders (``X.csv.download/`` holding the partial file).
PARTIAL_SUFFIXES = (".crdownload", ".part", ".download")
#: Office lock files ("~$Budget.xlsx") and editor droppings, by prefix.
JUNK_PREFIXES = ("~$", ".liferaft-tmp-")

SNIFF_BYTES = SNIFF_SAMPLE

# Flags a record may carry.
FLAG_EMPTY = "empty"
FLAG_SYMLINK = "symlink"
FLAG_OUTSIDE = "outside_root"
FLAG_ODD_NAME = "odd_name"
FLAG_UNREADABLE = "unreadable"


class FileRecord(NamedTuple):
    """One file of the project (an immutable value).

    ``path`` is relative to the root, with ``/`` separators. Undecodable bytes are kept (surrogate escapes),
    so the path still opens the file; use :attr:`display_path` to show it. ``mtime`` is in seconds since
    the epoch. ``role_guessed`` is true when the role comes from the file's kind and name, not from its
    folder or the user.
    """

    path: str
    role: Role
    role_guessed: bool
    kind: str
    size: int
    mtime: float
    flags: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.path.rpartition("/")[2]

    @property
    def display_path(self) -> str:
        return display_name(self.path)

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.display_path,
            "role": self.role.value,
            "role_guessed": self.role_guessed,
            "kind": self.kind,
            "size": self.size,
            "mtime": self.mtime,
            "flags": list(self.flags),
        }


#: Builds a record from one tuple at C speed, skipping NamedTuple's Python-level constructor: the scan's
#: hot loop makes one record per file.
_new_record = tuple.__new__


#: What a scan notes of an entry that went away between being listed and being looked at.
VANISHED = "vanished during the scan"
FOLDER_VANISHED = "folder vanished during the scan"


class ScanNote(NamedTuple):
    """Something about one entry that the user should know (it may or may not be listed too)."""

    path: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"path": display_name(self.path), "message": self.message}


class Inventory:
    """The result of a scan. ``role_folders`` maps the top-level folders recognised as role folders, by
    their name as found on disk, to their role."""

    __slots__ = ("_summary", "files", "notes", "role_folders", "root")

    def __init__(self, root: Path, files: list[FileRecord] | None = None, notes: list[ScanNote] | None = None,
                 role_folders: dict[str, Role] | None = None) -> None:
        self.root = root
        self.files: list[FileRecord] = files if files is not None else []
        self.notes: list[ScanNote] = notes if notes is not None else []
        self.role_folders: dict[str, Role] = role_folders if role_folders is not None else {}
        self._summary: tuple[tuple[int, int], dict[Role, tuple[FileRecord, ...]], int] | None = None

    def __getstate__(self) -> tuple[Path, tuple[tuple[Any, ...], ...], list[ScanNote], dict[str, Role]]:
        # Sent to a worker process without the summary (it is made again there if needed), and by column: a
        # column of 50,000 names or sizes pickles in a fraction of the time 50,000 records take one by one,
        # and the pickling holds the sender's interpreter (the workbench's) while it runs.
        return self.root, tuple(zip(*self.files, strict=True)), self.notes, self.role_folders

    def __setstate__(self, state: tuple[Path, tuple[tuple[Any, ...], ...], list[ScanNote], dict[str, Role]]) -> None:
        self.root, columns, self.notes, self.role_folders = state
        self.files = [_new_record(FileRecord, row) for row in zip(*columns, strict=True)]
        self._summary = None

    def _summarised(self) -> tuple[tuple[int, int], dict[Role, tuple[FileRecord, ...]], int]:
        # Made once per inventory (a scan's thread makes it, so the UI thread finds it made), again only if the
        # list of files was replaced or grew since.
        key = (id(self.files), len(self.files))
        summary = self._summary
        if summary is None or summary[0] != key:
            groups: dict[Role, list[FileRecord]] = {role: [] for role in (*FOLDER_ROLES, Role.UNSORTED)}
            for record in self.files:
                groups[record.role].append(record)
            summary = (key, {role: tuple(records) for role, records in groups.items()},
                       sum(record.size for record in self.files))
            self._summary = summary
        return summary

    def records_changed(self) -> None:
        """Say that records in :attr:`files` were replaced in place (a role changed): what is made of them once
        per inventory is made again."""
        self._summary = None

    def grouped(self) -> dict[Role, tuple[FileRecord, ...]]:
        """The files by role, every role present (in the roles' order); the same mapping on every call: not to
        be changed (:meth:`by_role` gives lists of one's own)."""
        return self._summarised()[1]

    def by_role(self) -> dict[Role, list[FileRecord]]:
        return {role: list(records) for role, records in self.grouped().items()}

    @property
    def total_size(self) -> int:
        """The bytes of every file listed."""
        return self._summarised()[2]

    @property
    def read_while_changing(self) -> bool:
        """True when files or folders went away while the scan read them: the folder was being changed (a burst
        of files removed, say), and only a scan after the changes end shows it as it is."""
        return any(note.message in (VANISHED, FOLDER_VANISHED) for note in self.notes)

    def automatic_role(self, record: FileRecord) -> tuple[Role, bool]:
        """The role ``record`` has without an override: (role, guessed)."""
        folder, slash, _ = record.path.partition("/")
        role = self.role_folders.get(folder) if slash else None
        if role is not None:
            return role, False
        return guess_role(record.name, record.kind), True

    def to_json(self) -> dict[str, Any]:
        return {
            "root": str(self.root),
            "files": [record.to_json() for record in self.files],
            "notes": [note.to_json() for note in self.notes],
        }

    def to_json_text(self) -> str:
        """The same document as ``json.dumps(self.to_json())``, one file a line, and about twice as fast:
        `liferaft scan --json` on a 20,000-file project is benchmarked as a whole process."""
        import json
        from json.encoder import encode_basestring

        roles = _ROLE_JSON
        rows = [
            f'{{"path":{encode_basestring(r.path if r.path.isascii() else display_name(r.path))},'
            f'{roles[r.role, r.role_guessed]},"kind":"{r.kind}","size":{r.size},"mtime":{r.mtime!r},'
            f'"flags":{json.dumps(r.flags) if r.flags else "[]"}}}'
            for r in self.files
        ]
        notes = ",\n".join(json.dumps(note.to_json(), ensure_ascii=False) for note in self.notes)
        root = encode_basestring(display_name(str(self.root)))
        files = ",\n".join(rows)
        return f'{{"root":{root},\n"files":[\n{files}],\n"notes":[\n{notes}]}}\n'


_ROLE_JSON = {
    (role, guessed): f'"role":"{role.value}","role_guessed":{"true" if guessed else "false"}'
    for role in Role
    for guessed in (True, False)
}


def display_name(path: str) -> str:
    """A path as it can be shown: undecodable bytes become U+FFFD."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(path).decode("utf-8", "replace")
    return path


#: How :func:`shown_name` writes the control characters that have a short, familiar escape.
_SHORT_ESCAPES = {0x1B: "\\e", 0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r"}

#: Bidirectional overrides, embeddings, isolates and marks: they reorder what is shown ("d\u202egnp.exe.csv"
#: looks like "dexe.png.csv" spelled backwards).
_BIDI = frozenset([*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C])


def _visible(char: str) -> str:
    code = ord(char)
    if code < 0x20 or 0x7F <= code <= 0x9F:  # C0, DEL, C1: ESC starts terminal commands, BEL ends them
        return _SHORT_ESCAPES.get(code) or f"\\x{code:02x}"
    if code in _BIDI or code in (0x2028, 0x2029):  # reordering, and the line and paragraph separators
        return f"\\u{code:04x}"
    if 0xDC80 <= code <= 0xDCFF:  # a byte of the name that is not UTF-8 (os.fsdecode's surrogate escape)
        return f"\\x{code - 0xDC00:02x}"
    if 0xD800 <= code <= 0xDFFF:
        return f"\\u{code:04x}"
    return char


def shown_name(text: str) -> str:
    """``text`` (a file name, a path, any text from outside) safe to show in a terminal, a widget or a prompt.

    Control characters are made visible instead of acting: ESC as ``\\e``, other C0, DEL and C1 characters as
    ``\\x07`` and the like (tab and line breaks as ``\\t``, ``\\n``, ``\\r``), bidirectional overrides and
    isolates as ``\\u202e`` and the like, bytes that are not UTF-8 as ``\\xff``. So a name holding
    ``ESC ] 2 ; … BEL`` cannot retitle the terminal, set the clipboard or clear the screen, and one holding
    U+202E cannot pass for another. Everything else, accents and emoji included, is kept. This is the one
    place names are made safe for display; never use its result to open a file.
    """
    if text.isprintable():  # the common case; every character escaped below is not printable
        return text
    return "".join(char if char.isprintable() else _visible(char) for char in text)


def shown_lines(text: str) -> str:
    """:func:`shown_name` for a text of many lines: its line breaks and tabs are kept."""
    return "\n".join("\t".join(map(shown_name, line.split("\t"))) for line in text.split("\n"))



#: What the prompt and the restart note say after a name :func:`shown_name` had to escape.
CONTROL_NOTE = "(the name holds control characters, shown escaped)"


def shown_name_noted(text: str) -> str:
    """:func:`shown_name`; when the name holds control characters, in backticks (the restart note reads it whole
    from there) and followed by :data:`CONTROL_NOTE`."""
    shown = shown_name(text)
    return shown if shown == text else f"`{shown}` {CONTROL_NOTE}"


def _is_odd_name(name: str) -> bool:
    if "\n" in name or "\r" in name:
        return True
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _odd_name_message(name: str) -> str:
    if "\n" in name or "\r" in name:
        return "the name contains a line break; rename it before uploading"
    return "the name is not valid UTF-8; rename it before uploading"


class _IgnoreMatcher:
    """The project's ignore file, in gitignore syntax (via pathspec).

    Most paths match no pattern at all, so one combined regular expression answers "could any pattern
    match?" first; only paths that pass it go through pathspec's ordered rules (negation, last match wins).
    """

    def __init__(self, lines: Iterable[str]) -> None:
        import re

        import pathspec  # deferred: only projects with an ignore file pay for it

        self._spec = pathspec.GitIgnoreSpec.from_lines(list(lines))
        sources = [
            cast(Any, pattern).regex.pattern.replace("(?P<ps_d>", "(?:")
            for pattern in self._spec.patterns
            if getattr(pattern, "include", None) is not None and getattr(pattern, "regex", None) is not None
        ]
        self._any: re.Pattern[str] | None
        try:
            self._any = re.compile("|".join(f"(?:{source})" for source in sources)) if sources else None
        except (re.error, TypeError):  # an unexpected pattern shape: use pathspec alone
            self._any = None
        self._empty = not sources
        # With a negation ("!keep.csv") a file may be re-included below an ignored folder, so folders are
        # then never skipped whole: each file is decided on its own, as git does.
        self.prunes_folders = not any(getattr(p, "include", None) is False for p in self._spec.patterns)

    def ignores(self, rel: str, is_dir: bool) -> bool:
        if self._empty or (is_dir and not self.prunes_folders):
            return False
        path = rel + "/" if is_dir else rel
        if self._any is not None and self._any.search(path) is None:
            return False
        return self._spec.match_file(path)


def _load_ignore(root: Path, notes: list[ScanNote]) -> _IgnoreMatcher | None:
    path = root / IGNORE_FILENAME
    try:
        lines = read_small_file(path, limit=1_000_000).decode("utf-8-sig", errors="replace").splitlines()
    except FileNotFoundError:
        return None
    except OSError as exc:
        notes.append(ScanNote(IGNORE_FILENAME, f"cannot read the ignore file: {exc.strerror or exc}"))
        return None
    try:
        return _IgnoreMatcher(lines)
    except Exception:  # pathspec raises its own error types for bad patterns: find them, keep the rest
        import pathspec

        good = []
        for number, line in enumerate(lines, 1):
            try:
                pathspec.GitIgnoreSpec.from_lines([line])
            except Exception:
                notes.append(ScanNote(IGNORE_FILENAME, f"line {number} ({line.strip()!r}) is not a valid pattern; "
                                                       "it was skipped"))
            else:
                good.append(line)
        return _IgnoreMatcher(good)


def _sniff(path: str) -> tuple[str, OSError | None]:
    """(kind, the error if the file could not be read) for a regular file whose extension says nothing."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        return "other", exc
    try:
        head = os.read(fd, SNIFF_BYTES)
    except OSError as exc:
        return "other", exc
    finally:
        os.close(fd)
    return sniff_kind(head), None


def _special_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def _os_reason(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "a symbolic link loop"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    return exc.strerror or str(exc)


def scan(root: Path, overrides: Mapping[str, Role] | None = None, *,
         give_way: Callable[[], object] | None = None) -> Inventory:
    """List every file below ``root``.

    ``overrides`` maps relative paths to roles the user chose; they win over folders and guesses. ``give_way``,
    when given, is called before each folder is read (see :func:`liferaft.core.pace.give_way`).
    """
    root_str = os.path.abspath(root)
    inventory = Inventory(root=Path(root_str))
    scanner = _Scanner(inventory, os.path.realpath(root_str), overrides or {})
    scanner.give_way = give_way
    # The scan makes tens of thousands of small objects and no reference cycles: the cyclic collector
    # would only re-examine them again and again.
    gc_was_on = gc.isenabled()
    gc.disable()
    try:
        scanner.walk_all(root_str)
    finally:
        if gc_was_on:
            gc.enable()
    _note_name_clashes(inventory)
    by_path = operator.attrgetter("path")
    inventory.files.sort(key=by_path)
    inventory.notes.sort(key=by_path)
    return inventory


def _note_name_clashes(inventory: Inventory) -> None:
    """A note on each file whose path differs from another's only by case or by Unicode form (NFC/NFD): macOS
    and Windows folders usually ignore case (and macOS the form), so only one of them could be there."""
    from liferaft.core.names import case_clashes, same_name_key

    for first, *others in case_clashes([record.path for record in inventory.files]):
        for other in others:
            if same_name_key(other) == same_name_key(first):
                message = (f"the same name as {display_name(first)} written another way (Unicode NFC/NFD): macOS "
                           "takes them for one file")
            else:
                message = (f"differs from {display_name(first)} only by case: macOS and Windows folders usually "
                           "ignore case, so only one of the two can be there")
            inventory.notes.append(ScanNote(other, message))


class _Scanner:
    """One scan's state. The loop in :meth:`walk` is the hot path: a plain file with a known extension
    costs one ``stat`` and a few dictionary look-ups; everything unusual goes to :meth:`_odd_file`."""

    def __init__(self, inventory: Inventory, real_root: str, overrides: Mapping[str, Role]) -> None:
        self.inventory = inventory
        self.notes = inventory.notes
        self.files = inventory.files
        self.real_root = real_root
        self.overrides = overrides
        self.ignore = _load_ignore(inventory.root, inventory.notes)
        self.give_way: Callable[[], object] | None = None

    def note(self, rel: str, message: str) -> None:
        self.notes.append(ScanNote(rel, message))

    def walk_all(self, root: str) -> None:
        """Walk the tree with an explicit stack: a folder nested thousands deep must not hit the
        recursion limit."""
        self.pending: list[tuple[str, str, Role | None, int]] = [(root, "", None, 0)]
        give_way = self.give_way
        while self.pending:
            if give_way is not None:
                give_way()
            self.walk(*self.pending.pop())

    def walk(self, folder: str, prefix: str, role: Role | None, depth: int) -> None:
        """List one folder; its sub-folders go on :attr:`pending`."""
        try:
            with os.scandir(folder) as it:
                entries = list(it)
        except FileNotFoundError:
            self.note(prefix.rstrip("/") or ".", FOLDER_VANISHED)
            return
        except OSError as exc:
            self.note(prefix.rstrip("/") or ".", f"cannot read this folder: {_os_reason(exc)}")
            return
        ignore = self.ignore
        overrides = self.overrides
        append = self.files.append
        kinds = KIND_BY_EXTENSION
        # Each entry is let go once looked at: it keeps the stat result it read, and a folder of 50,000 files
        # held whole until its end is ~40 MB of them at once, most of which the allocator keeps afterwards.
        entries.reverse()
        pop = entries.pop
        while entries:
            entry = pop()
            name = entry.name
            rel = prefix + name
            try:
                if entry.is_dir(follow_symlinks=False):
                    self._folder(entry, name, rel, role, depth)
                    continue
                if name in JUNK_FILES or name.startswith(JUNK_PREFIXES) or name.endswith(PARTIAL_SUFFIXES):
                    continue
                if ignore is not None and ignore.ignores(rel, False):
                    continue
                # is_file() without following links is false for links, pipes, sockets and devices;
                # isprintable() is false for names with line breaks or undecodable bytes.
                if not (entry.is_file(follow_symlinks=False) and name.isascii() and name.isprintable()):
                    self._odd_file(entry, name, rel, role)
                    continue
                st = entry.stat(follow_symlinks=False)
                size = st.st_size
                dot = name.rfind(".")
                kind = kinds.get(name[dot:].lower()) if dot > 0 else None
                if kind is None or size == 0 or rel in overrides:
                    self._add(rel, name, entry.path, st, role, [])
                elif role is not None:
                    append(_new_record(FileRecord, (rel, role, False, kind, size, st.st_mtime, ())))
                else:
                    append(_new_record(FileRecord, (rel, guess_role(name, kind), True, kind, size, st.st_mtime, ())))
            except FileNotFoundError:
                self.note(rel, VANISHED)
            except OSError as exc:
                self.note(rel, f"cannot read: {_os_reason(exc)}")

    def _folder(self, entry: os.DirEntry[str], name: str, rel: str, role: Role | None, depth: int) -> None:
        if name in JUNK_DIRS or name.endswith(PARTIAL_SUFFIXES):  # Safari's partial download is a folder
            return
        if self.ignore is not None and self.ignore.ignores(rel, True):
            return
        if depth == 0:
            role = role_for_folder(name)
            if role is not None:
                self.inventory.role_folders[name] = role
        if _is_odd_name(name):
            self.note(rel, "folder " + _odd_name_message(name))
        self.pending.append((entry.path, rel + "/", role, depth + 1))

    def _add(self, rel: str, name: str, full: str, st: os.stat_result, role: Role | None,
             flags: list[str]) -> None:
        """Record a file, with the checks the hot path skips: special files, sniffing, flags, overrides."""
        if not stat.S_ISREG(st.st_mode):
            self.note(rel, f"{_special_kind(st.st_mode)}: skipped")
            return
        kind = kind_from_name(name)
        size = st.st_size
        if size == 0:
            flags.append(FLAG_EMPTY)
            kind = kind or "other"
        elif kind is None:
            kind, error = _sniff(full)
            if error is not None:
                flags.append(FLAG_UNREADABLE)
                self.note(rel, f"cannot read this file: {_os_reason(error)}")
        self.files.append(self._record(rel, name, kind, size, st.st_mtime, role, flags))

    def _record(self, rel: str, name: str, kind: str, size: int, mtime: float, role: Role | None,
                flags: list[str]) -> FileRecord:
        override = self.overrides.get(rel)
        if override is not None:
            return FileRecord(rel, override, False, kind, size, mtime, tuple(flags))
        if role is not None:
            return FileRecord(rel, role, False, kind, size, mtime, tuple(flags))
        return FileRecord(rel, guess_role(name, kind), True, kind, size, mtime, tuple(flags))

    def _odd_file(self, entry: os.DirEntry[str], name: str, rel: str, role: Role | None) -> None:
        flags: list[str] = []
        if _is_odd_name(name):
            flags.append(FLAG_ODD_NAME)
            self.note(rel, _odd_name_message(name))
        if entry.is_symlink():
            self._link(rel, name, entry.path, role, flags)
        else:
            self._add(rel, name, entry.path, entry.stat(follow_symlinks=False), role, flags)

    def _link(self, rel: str, name: str, full: str, role: Role | None, flags: list[str]) -> None:
        flags.append(FLAG_SYMLINK)
        try:
            target = os.path.realpath(full, strict=True)
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                self.note(rel, "dangling link: its target does not exist")
            else:
                self.note(rel, f"link not followed: {_os_reason(exc)}")
            return
        if not (target == self.real_root or target.startswith(self.real_root + os.sep)):
            # Listed so the user knows it is there, but nothing outside the project is read or walked.
            if os.path.isdir(target):
                self.note(rel, "link to a folder outside the project: not followed")
                return
            flags.append(FLAG_OUTSIDE)
            lst = os.lstat(full)
            kind = kind_from_name(name) or "other"
            # Size 0: the target is not looked at, and the link's own length means nothing to anyone.
            self.files.append(self._record(rel, name, kind, 0, lst.st_mtime, role, flags))
            self.note(rel, "link to a file outside the project: listed, not read")
            return
        st = os.stat(target)
        if stat.S_ISDIR(st.st_mode):
            self.note(rel, "link to a folder: not followed (its files are listed where they live)")
            return
        if not stat.S_ISREG(st.st_mode):
            self.note(rel, f"link to {_special_kind(st.st_mode)}: skipped")
            return
        self._add(rel, name, target, st, role, flags)
