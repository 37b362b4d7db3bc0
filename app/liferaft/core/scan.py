"""The inventory of a project folder: one record per file, plus notes on what could not be listed.

The scan is a single pass of ``os.scandir`` (no second ``stat`` where the directory entry already
says enough), reads a file's first bytes only when its extension says nothing, and never follows a
link out of the project, into a folder, or through a loop. Every odd entry becomes a note or a flag;
nothing raises.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from liferaft.core.roles import FOLDER_ROLES, Role, guess_role, kind_from_name, role_for_folder, sniff_kind

#: File name of the project's ignore file (gitignore syntax).
IGNORE_FILENAME = ".liferaftignore"
#: Folder where Liferaft keeps its own state inside a project.
STATE_DIRNAME = ".liferaft"

#: Folders never descended into.
JUNK_DIRS = frozenset({".git", "__pycache__", ".ipynb_checkpoints", STATE_DIRNAME})
#: Files never listed.
JUNK_FILES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini", IGNORE_FILENAME})
#: Partial downloads, by suffix.
PARTIAL_SUFFIXES = (".crdownload", ".part", ".download")
#: Office lock files ("~$Budget.xlsx") and editor droppings, by prefix.
JUNK_PREFIXES = ("~$", ".liferaft-tmp-")

SNIFF_BYTES = 512

# Flags a record may carry.
FLAG_EMPTY = "empty"
FLAG_SYMLINK = "symlink"
FLAG_OUTSIDE = "outside_root"
FLAG_ODD_NAME = "odd_name"
FLAG_UNREADABLE = "unreadable"


@dataclass(slots=True)
class FileRecord:
    """One file of the project."""

    path: str
    """Path relative to the root, with ``/`` separators. Undecodable bytes are kept (surrogate escapes),
    so the path still opens the file; use :attr:`display_path` to show it."""
    role: Role
    role_guessed: bool
    kind: str
    size: int
    mtime: float
    """Modification time, seconds since the epoch."""
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


@dataclass(slots=True, frozen=True)
class ScanNote:
    """Something about one entry that the user should know (it may or may not be listed too)."""

    path: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"path": display_name(self.path), "message": self.message}


@dataclass(slots=True)
class Inventory:
    """The result of a scan."""

    root: Path
    files: list[FileRecord] = field(default_factory=list)
    notes: list[ScanNote] = field(default_factory=list)
    role_folders: dict[str, Role] = field(default_factory=dict)
    """Top-level folders recognised as role folders, by their name as found on disk."""

    def by_role(self) -> dict[Role, list[FileRecord]]:
        groups: dict[Role, list[FileRecord]] = {role: [] for role in (*FOLDER_ROLES, Role.UNSORTED)}
        for record in self.files:
            groups[record.role].append(record)
        return groups

    def to_json(self) -> dict[str, Any]:
        return {
            "root": str(self.root),
            "files": [record.to_json() for record in self.files],
            "notes": [note.to_json() for note in self.notes],
        }


def display_name(path: str) -> str:
    """A path as it can be shown: undecodable bytes become U+FFFD."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(path).decode("utf-8", "replace")
    return path


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
    """The project's ignore file, in gitignore syntax (via pathspec)."""

    def __init__(self, lines: Iterable[str]) -> None:
        import pathspec  # deferred: only projects with an ignore file pay for it

        self._spec = pathspec.GitIgnoreSpec.from_lines(list(lines))

    def ignores(self, rel: str, is_dir: bool) -> bool:
        return self._spec.match_file(rel + "/" if is_dir else rel)


def _load_ignore(root: Path, notes: list[ScanNote]) -> _IgnoreMatcher | None:
    path = root / IGNORE_FILENAME
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            lines = handle.read(1_000_000).splitlines()
    except FileNotFoundError:
        return None
    except OSError as exc:
        notes.append(ScanNote(IGNORE_FILENAME, f"cannot read the ignore file: {exc.strerror or exc}"))
        return None
    try:
        return _IgnoreMatcher(lines)
    except Exception as exc:  # pathspec raises its own error types for bad patterns
        notes.append(ScanNote(IGNORE_FILENAME, f"the ignore file has a bad pattern ({exc}); it was not applied"))
        return None


def _sniff(path: str) -> tuple[str, bool]:
    """(kind, readable) for a regular file whose extension says nothing."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError:
        return "other", False
    try:
        head = os.read(fd, SNIFF_BYTES)
    except OSError:
        return "other", False
    finally:
        os.close(fd)
    return sniff_kind(head), True


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


def scan(root: Path, overrides: Mapping[str, Role] | None = None) -> Inventory:
    """List every file below ``root``.

    ``overrides`` maps relative paths to roles the user chose; they win over folders and guesses.
    """
    root = Path(root)
    root_str = os.path.abspath(root)
    real_root = os.path.realpath(root_str)
    inventory = Inventory(root=Path(root_str))
    notes = inventory.notes
    files = inventory.files
    ignore = _load_ignore(Path(root_str), notes)
    overrides = overrides or {}
    sep = os.sep

    def add_file(rel: str, name: str, full: str, st: os.stat_result, role: Role | None,
                 flags: list[str]) -> None:
        kind = kind_from_name(name)
        size = st.st_size
        if size == 0:
            flags.append(FLAG_EMPTY)
            kind = kind or "other"
        elif kind is None:
            kind, readable = _sniff(full)
            if not readable:
                flags.append(FLAG_UNREADABLE)
                notes.append(ScanNote(rel, "cannot read this file: permission denied"))
        override = overrides.get(rel)
        if override is not None:
            files.append(FileRecord(rel, override, False, kind, size, st.st_mtime, tuple(flags)))
        elif role is not None:
            files.append(FileRecord(rel, role, False, kind, size, st.st_mtime, tuple(flags)))
        else:
            files.append(FileRecord(rel, guess_role(name, kind), True, kind, size, st.st_mtime, tuple(flags)))

    def handle_link(rel: str, name: str, full: str, role: Role | None, flags: list[str]) -> None:
        flags.append(FLAG_SYMLINK)
        try:
            target = os.path.realpath(full, strict=True)
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                notes.append(ScanNote(rel, "dangling link: its target does not exist"))
            else:
                notes.append(ScanNote(rel, f"link not followed: {_os_reason(exc)}"))
            return
        if not (target == real_root or target.startswith(real_root + sep)):
            # Listed so the user knows it is there, but nothing outside the project is read or walked.
            if os.path.isdir(target):
                notes.append(ScanNote(rel, "link to a folder outside the project: not followed"))
                return
            flags.append(FLAG_OUTSIDE)
            try:
                lst = os.lstat(full)
            except OSError:
                return
            kind = kind_from_name(name) or "other"
            resolved = overrides.get(rel)
            final_role, guessed = (
                (resolved, False) if resolved else (role, False) if role else (guess_role(name, kind), True)
            )
            files.append(FileRecord(rel, final_role, guessed, kind, lst.st_size, lst.st_mtime, tuple(flags)))
            notes.append(ScanNote(rel, "link to a file outside the project: listed, not read"))
            return
        try:
            st = os.stat(target)
        except OSError as exc:
            notes.append(ScanNote(rel, f"link not followed: {_os_reason(exc)}"))
            return
        if stat.S_ISDIR(st.st_mode):
            notes.append(ScanNote(rel, "link to a folder: not followed (its files are listed where they live)"))
            return
        if not stat.S_ISREG(st.st_mode):
            notes.append(ScanNote(rel, f"link to {_special_kind(st.st_mode)}: skipped"))
            return
        add_file(rel, name, target, st, role, flags)

    def walk(folder: str, prefix: str, role: Role | None, depth: int) -> None:
        try:
            with os.scandir(folder) as it:
                entries = list(it)
        except FileNotFoundError:
            if prefix:
                notes.append(ScanNote(prefix.rstrip("/"), "folder vanished during the scan"))
            return
        except OSError as exc:
            notes.append(ScanNote(prefix.rstrip("/") or ".", f"cannot read this folder: {_os_reason(exc)}"))
            return
        for entry in entries:
            name = entry.name
            rel = prefix + name
            try:
                if entry.is_dir(follow_symlinks=False):
                    if name in JUNK_DIRS:
                        continue
                    if ignore is not None and ignore.ignores(rel, True):
                        continue
                    child_role = role
                    if depth == 0:
                        child_role = role_for_folder(name)
                        if child_role is not None:
                            inventory.role_folders[name] = child_role
                    if _is_odd_name(name):
                        notes.append(ScanNote(rel, "folder " + _odd_name_message(name)))
                    walk(entry.path, rel + "/", child_role, depth + 1)
                    continue
                if name in JUNK_FILES or name.startswith(JUNK_PREFIXES) or name.endswith(PARTIAL_SUFFIXES):
                    continue
                if ignore is not None and ignore.ignores(rel, False):
                    continue
                flags: list[str] = []
                if _is_odd_name(name):
                    flags.append(FLAG_ODD_NAME)
                    notes.append(ScanNote(rel, _odd_name_message(name)))
                if entry.is_symlink():
                    handle_link(rel, name, entry.path, role, flags)
                    continue
                st = entry.stat(follow_symlinks=False)
                if not stat.S_ISREG(st.st_mode):
                    notes.append(ScanNote(rel, f"{_special_kind(st.st_mode)}: skipped"))
                    continue
                add_file(rel, name, entry.path, st, role, flags)
            except FileNotFoundError:
                notes.append(ScanNote(rel, "vanished during the scan"))
            except OSError as exc:
                notes.append(ScanNote(rel, f"cannot read: {_os_reason(exc)}"))

    walk(root_str, "", None, 0)
    files.sort(key=lambda record: record.path)
    notes.sort(key=lambda note: note.path)
    return inventory
