"""Where an import writes, checked before a byte is written and never over another file: a target's folder can
be made, its name is free or holds the same bytes ("unchanged"), else it gets a new name; what a failed import
created is taken back.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from liferaft.core import storage

if TYPE_CHECKING:
    from liferaft.core.scan import Inventory


class RecoverWriteError(Exception):
    """The import cannot be done; the message is one line for the user."""


@dataclass
class _Target:
    """A file the import will write (``fresh``), or finds already there with the same bytes."""

    path: Path
    data: bytes
    fresh: bool


def _shown(root: Path, path: Path) -> str:
    from liferaft.core.scan import display_name

    try:
        return display_name(path.relative_to(root).as_posix())
    except ValueError:
        return display_name(str(path))


def _refused(root: Path, path: Path, reason: str) -> RecoverWriteError:
    return RecoverWriteError(f"cannot write {_shown(root, path)} in {root}: {reason}; nothing was written")


def _check_folder(root: Path, folder: Path, target: Path) -> None:
    """:class:`RecoverWriteError` naming the path in the way when ``folder`` (for ``target``) cannot be made or
    written into: a file where a folder must be, a folder Liferaft may not write into."""

    probe = folder
    while True:
        try:
            os.stat(probe)
        except FileNotFoundError:
            if probe.parent == probe:
                raise _refused(root, target, f"{_shown(root, probe)} does not exist") from None
            probe = probe.parent
            continue
        except NotADirectoryError:
            probe = probe.parent  # a file further up: found on the way up
            continue
        except OSError as exc:
            raise _refused(root, target, f"{_shown(root, probe)}: {exc.strerror or exc}") from None
        if not probe.is_dir():
            raise _refused(root, target, f"{_shown(root, probe)} is a file, not a folder")
        if not os.access(probe, os.W_OK | os.X_OK):
            raise _refused(root, target, f"{_shown(root, probe)} is not writable")
        return


def _plan_file(root: Path, folder: Path, stem: str, ext: str, data: bytes, taken: set[Path]) -> _Target:
    """Where ``data`` goes: ``folder/stem.ext`` (or ``stem-2.ext``…), the first name that is free or holds the same
    bytes. Nothing is written; :class:`RecoverWriteError` when the folder cannot be made or written into."""

    _check_folder(root, folder, folder / f"{stem}.{ext}")
    n = 1
    while True:
        path = folder / (f"{stem}.{ext}" if n == 1 else f"{stem}-{n}.{ext}")
        n += 1
        if path in taken:
            continue
        if not os.path.lexists(path):
            taken.add(path)
            return _Target(path, data, True)
        try:
            if path.is_file() and not path.is_symlink() and path.stat().st_size == len(data) and \
                    path.read_bytes() == data:
                taken.add(path)
                return _Target(path, data, False)
        except OSError:
            pass


def _make_folders(folder: Path, made: list[Path]) -> None:
    """Make ``folder`` and its missing parents, adding each one made to ``made`` (to remove on a failure)."""
    missing = []
    probe = folder
    while not probe.exists() and probe.parent != probe:
        missing.append(probe)
        probe = probe.parent
    for path in reversed(missing):
        try:
            path.mkdir()
        except FileExistsError:
            if not path.is_dir():
                raise
            continue  # made by someone else meanwhile: not ours to remove
        made.append(path)


def _undo(created: list[Path], folders: list[Path], restore: tuple[Path, bytes] | None) -> list[str]:
    """Take back what a failed import wrote: the files it created (only those), the folders it made (when empty),
    the note it changed (its old bytes back). Returns what could not be undone."""
    left = []
    for path in reversed(created):
        try:
            path.unlink()
        except FileNotFoundError:
            pass
        except OSError:
            left.append(str(path))
    if restore is not None:
        try:
            storage.write_bytes(*restore)
        except OSError:
            left.append(str(restore[0]))
    for folder in reversed(folders):
        with contextlib.suppress(OSError):  # not empty: something else is in it now
            folder.rmdir()
    return left


def _note_refusal(root: Path, inventory: Inventory) -> str | None:
    """Why Liferaft will not write the restart note (a link, something that is not a file in its place, a file
    where its folder goes), as ``save_note`` would say it, before anything is written; None when it can."""
    import stat

    from liferaft.core.restart_note import find_note, note_path

    record_ = find_note(inventory)
    path = note_path(root, inventory)
    shown = _shown(root, path)
    if record_ is not None and ("symlink" in record_.flags or "outside_root" in record_.flags):
        return f"{shown} is a link: Liferaft does not write through it; edit the note it points to"
    try:
        mode = os.lstat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        mode = None
    except OSError as exc:
        return f"cannot use {shown}: {exc.strerror or exc}"
    if mode is not None and not stat.S_ISREG(mode):
        return f"{shown} is not a regular file: Liferaft does not write it"
    try:
        _check_folder(root, path.parent, path)
    except RecoverWriteError:
        return f"{_shown(root, path.parent)} cannot be made a folder: the restart note cannot be written there"
    return None


def _rel(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()
