"""The snapshot a watcher compares against: one stat walk of the tree (:class:`_Walk`), the changes between two
walks (:func:`diff`), the kinds of :class:`Change`, and partial downloads (a file, or Safari's folder).

Split from :mod:`liferaft.core.watch`, which re-exports these names.
"""

from __future__ import annotations

import errno
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from liferaft.core.scan import JUNK_DIRS, JUNK_FILES, JUNK_PREFIXES, PARTIAL_SUFFIXES

#: Kinds of :class:`Change`.
ADDED = "added"
MODIFIED = "modified"
DELETED = "deleted"
DOWNLOADING = "downloading"
"""A partial download (``.crdownload``, ``.part``, ``.download``) appeared or grew; when it completes, the
partial name is reported ``deleted`` and the final name ``added``. Safari's partial download is a folder
(``X.csv.download/``): it is reported as one file, never what is inside it."""

Signature = tuple[int, int]


@dataclass(frozen=True)
class Change:
    """One changed file: ``kind`` is ``added``, ``modified``, ``deleted`` or ``downloading``; ``path`` is
    relative to the root, with ``/`` separators."""

    kind: str
    path: str


def is_partial(name: str) -> bool:
    return name.endswith(PARTIAL_SUFFIXES)


def partial_folder(rel: str) -> str | None:
    """The partial download folder ``rel`` is inside (Safari downloads ``X.csv`` into a folder ``X.csv.download``
    holding the partial file and an ``Info.plist``), else None."""
    parts = rel.split("/")
    for end, part in enumerate(parts[:-1], start=1):
        if is_partial(part):
            return "/".join(parts[:end])
    return None


def folder_signature(path: str) -> Signature | None:
    """A partial download folder's signature: its files' total size and the latest change in it (None when it
    is gone or cannot be read)."""
    try:
        latest = os.stat(path, follow_symlinks=False).st_mtime_ns
        size = 0
        with os.scandir(path) as it:
            for entry in it:
                if entry.is_file(follow_symlinks=False):
                    st = entry.stat(follow_symlinks=False)
                    size += st.st_size
                    latest = max(latest, st.st_mtime_ns)
    except OSError:
        return None
    return (size, latest)


def download_size(path: Path | str) -> int:
    """How much of a partial download (a file, or Safari's folder) is there; raises OSError when it is gone."""
    if os.path.isdir(path):
        signature = folder_signature(os.fspath(path))
        if signature is None:
            raise FileNotFoundError(errno.ENOENT, "gone", os.fspath(path))
        return signature[0]
    return os.stat(path).st_size


def _skipped_name(name: str) -> bool:
    """Files no scan lists and no event reports: junk, lock files, atomic-write temp files."""
    return name in JUNK_FILES or name.startswith(JUNK_PREFIXES)


# --- the snapshot --------------------------------------------------------------------------------------


class _Walk:
    """One stat walk of the tree: ``files`` maps relative paths to (size, mtime_ns); ``dirs`` holds the
    relative paths of the folders walked. Skips what the scan skips (except partial downloads, which are
    kept to be reported as downloading), never follows a link, never raises."""

    __slots__ = ("dirs", "files", "ok")

    def __init__(self, root: str, ignore: Callable[[str], bool] | None, stop: threading.Event,
                 give_way: Callable[[], object] | None = None) -> None:
        self.files: dict[str, Signature] = {}
        self.dirs: set[str] = set()
        self.ok = True  # False when the root itself could not be listed
        pending: list[tuple[str, str]] = [(root, "")]
        first = True
        while pending and not stop.is_set():
            if give_way is not None:
                give_way()
            folder, prefix = pending.pop()
            try:
                with os.scandir(folder) as it:
                    entries = list(it)
            except OSError:
                if first:
                    self.ok = False
                first = False
                continue
            first = False
            # Each entry is let go once looked at: it keeps the stat result it read (see liferaft.core.scan).
            entries.reverse()
            while entries:
                entry = entries.pop()
                name = entry.name
                rel = prefix + name
                try:
                    if entry.is_dir(follow_symlinks=False):
                        if name in JUNK_DIRS or (ignore is not None and ignore(rel + "/")):
                            continue
                        if is_partial(name):  # a download in progress (Safari's): one partial file
                            signature = folder_signature(entry.path)
                            if signature is not None:
                                self.files[rel] = signature
                            continue
                        self.dirs.add(rel)
                        pending.append((entry.path, rel + "/"))
                        continue
                    if _skipped_name(name) or (ignore is not None and ignore(rel)):
                        continue
                    st = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                self.files[rel] = (st.st_size, st.st_mtime_ns)


def diff(old: dict[str, Signature], new: dict[str, Signature]) -> list[Change]:
    """The changes from ``old`` to ``new`` (both path → signature), sorted by path."""
    changes: list[Change] = []
    for path, signature in new.items():
        before = old.get(path)
        if before is None:
            changes.append(Change(DOWNLOADING if is_partial(path) else ADDED, path))
        elif before != signature:
            changes.append(Change(DOWNLOADING if is_partial(path) else MODIFIED, path))
    changes.extend(Change(DELETED, path) for path in old.keys() - new.keys())
    changes.sort(key=lambda change: change.path)
    return changes
