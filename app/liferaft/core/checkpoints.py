"""Checkpoints: what the project looked like at a moment the user chose to mark.

A checkpoint holds every file's size, modification time and content hash (BLAKE2b, streamed in 1 MiB chunks:
a file is never read into memory whole), the restart note's text, a message and the time. They live in
``.liferaft/checkpoints.json``, a versioned JSON file written atomically (see :mod:`liferaft.core.storage`):
a SIGKILL half-way through a write leaves the previous file as it was. A file that cannot be read, or that a
newer Liferaft wrote, is moved aside under a backup name and reported as a one-line warning; keys this version
does not know are kept.

Hashing reuses the previous checkpoint's hash of a file whose size and modification time (to the nanosecond)
have not changed, so a checkpoint of a large, mostly unchanged project costs little more than a scan.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, TypeGuard

from liferaft.core import storage
from liferaft.core.scan import FLAG_OUTSIDE, FLAG_UNREADABLE, STATE_DIRNAME, Inventory

if TYPE_CHECKING:
    from typing import Any

CHECKPOINTS_FILENAME = "checkpoints.json"
#: Version of the checkpoints file this Liferaft writes.
CHECKPOINTS_VERSION = 1
#: The most Liferaft reads of its checkpoints file (each checkpoint lists every file of the project).
FILE_LIMIT = 1 << 30
CHUNK = 1 << 20
#: BLAKE2b-256: 64 hex characters a file (each checkpoint lists every file).
DIGEST_SIZE = 32

#: A file's status in a checkpoint: hashed, changing while it was hashed (no hash), or not readable (no hash).
OK = "ok"
CHANGING = "changing"
UNREADABLE = "unreadable"


class CheckpointError(OSError):
    """A checkpoint cannot be recorded (the checkpoints file is unusable and could not be moved aside, or the
    folder is not writable); the message is one line."""


class FileEntry(NamedTuple):
    """One file in a checkpoint: relative path, size, mtime (seconds), mtime in nanoseconds, hash (hex BLAKE2b,
    None when it could not be hashed) and status (:data:`OK`, :data:`CHANGING`, :data:`UNREADABLE`)."""

    path: str
    size: int
    mtime: float
    mtime_ns: int
    hash: str | None
    status: str = OK

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"size": self.size, "mtime": self.mtime, "mtime_ns": self.mtime_ns, "hash": self.hash}
        if self.status != OK:
            data["status"] = self.status
        return data

    @classmethod
    def from_json(cls, path: str, data: object) -> FileEntry | None:
        if not isinstance(data, dict):
            return None
        size, mtime, mtime_ns, digest = data.get("size"), data.get("mtime"), data.get("mtime_ns"), data.get("hash")
        status = data.get("status", OK)
        if not _is_int(size) or not isinstance(mtime, int | float) or isinstance(mtime, bool):
            return None
        if not _is_int(mtime_ns):
            mtime_ns = int(mtime * 1e9)
        if digest is not None and not isinstance(digest, str):
            return None
        return cls(path, size, float(mtime), mtime_ns, digest, status if isinstance(status, str) else OK)


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


class Checkpoint:
    """One checkpoint. ``number`` counts from 1 in the order they were recorded; ``time`` is seconds since the
    epoch; ``files`` maps relative paths to :class:`FileEntry`; ``skipped`` maps paths not hashed (a link out of
    the project, unreadable) to why; ``note`` is the restart note's text (``""`` when there was none); ``extra``
    keeps keys this version does not know. ``warnings`` (not stored) is what recording it has to say."""

    __slots__ = ("count", "extra", "files", "message", "note", "number", "since_last", "skipped", "time",
                 "warnings")

    def __init__(self, number: int, time: float, message: str, note: str, files: dict[str, FileEntry],
                 skipped: dict[str, str] | None = None, extra: dict[str, Any] | None = None) -> None:
        self.number = number
        self.time = time
        self.message = message
        self.note = note
        self.files = files
        self.skipped: dict[str, str] = skipped if skipped is not None else {}
        self.extra: dict[str, Any] = extra if extra is not None else {}
        self.warnings: list[str] = []
        #: Set by :func:`record_checkpoint` (not stored): how many checkpoints there are now, and what changed
        #: (by content) since the one before, None for the first.
        self.count = 0
        self.since_last: Changes | None = None

    @property
    def iso_time(self) -> str:
        return iso_time(self.time)

    @property
    def changing(self) -> list[str]:
        return [path for path, entry in self.files.items() if entry.status == CHANGING]

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = dict(self.extra)
        data.update({"number": self.number, "time": self.time, "iso_time": self.iso_time, "message": self.message,
                     "note": self.note,
                     "files": {path: entry.to_json() for path, entry in sorted(self.files.items())}})
        if self.skipped:
            data["skipped"] = dict(sorted(self.skipped.items()))
        return data

    @classmethod
    def from_json(cls, data: object, position: int) -> Checkpoint | None:
        if not isinstance(data, dict):
            return None
        data = dict(data)
        when, message, note = data.pop("time", None), data.pop("message", ""), data.pop("note", "")
        raw_files = data.pop("files", {})
        number = data.pop("number", position)
        data.pop("iso_time", None)
        if not isinstance(when, int | float) or isinstance(when, bool) or not isinstance(raw_files, dict):
            return None
        files: dict[str, FileEntry] = {}
        for path, value in raw_files.items():
            entry = FileEntry.from_json(str(path), value)
            if entry is not None:
                files[str(path)] = entry
        raw_skipped = data.pop("skipped", {})
        skipped = {str(k): str(v) for k, v in raw_skipped.items()} if isinstance(raw_skipped, dict) else {}
        return cls(number if _is_int(number) else position, float(when), message if isinstance(message, str) else "",
                   note if isinstance(note, str) else "", files, skipped, data)


class Changes(NamedTuple):
    """What changed from one checkpoint (or inventory) to another: relative paths, sorted."""

    added: list[str]
    removed: list[str]
    changed: list[str]

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed)

    @property
    def count(self) -> int:  # type: ignore[override]  # the number of changes, not tuple.count(value)
        return len(self.added) + len(self.removed) + len(self.changed)


def iso_time(seconds: float) -> str:
    """ISO-8601 in local time with its offset, to the second: ``2026-03-02T12:00:00+00:00``."""
    import datetime

    return datetime.datetime.fromtimestamp(seconds, tz=datetime.UTC).astimezone().isoformat(
        timespec="seconds")


def rework_percent(checkpoints: int) -> float:
    """Expected rework if the session died now, in % of the work: the seed's model, rework ∝ 1/checkpoints
    (100 % with none or one, 50 % with two, 10 % with ten)."""
    return 100.0 / max(1, checkpoints)


def saved_message(checkpoint: Checkpoint, *, outputs: int, missing: Sequence[str] = ()) -> str:
    """What recording ``checkpoint`` bought, in words that hold from the first one: what is now recorded and
    safe, and what still is not. ``outputs`` is how many of its files are outputs; ``missing`` names the outputs
    only the chat has (see :func:`liferaft.core.risk.at_risk`). Two sentences; the CLI and the workbench say
    the same.

    "Checkpoint 1 saved: 9 files (2 outputs) and the restart note, as they are now. Safe: they are on this
    computer, and any change to them from here on shows. Not yet: monthly_trend.png (only the chat has it:
    ask for it again) and whatever the chat makes next (download it into OUTPUT/, then k)."
    """
    from liferaft.core.scan import shown_name
    from liferaft.core.units import format_count

    what = format_count(len(checkpoint.files), "file")
    if outputs:
        what += f" ({format_count(outputs, 'output')})"
    if checkpoint.note:
        what += " and the restart note"
    changes = checkpoint.since_last
    since = ""
    if changes is not None:
        since = f"; {changes.count:,} changed since the one before" if changes else "; none changed since"
    first = f"Checkpoint {checkpoint.number} saved: {what}, as they are now{since}."
    safe = "Safe: they are on this computer, and any change to them from here on shows."
    names = [shown_name(name) for name in missing[:3]]  # from the note or a chat export: shown, never obeyed
    later = "whatever the chat makes next (download it into OUTPUT/, then k)"
    if names:
        more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        it = "it" if len(missing) == 1 else "them"
        not_yet = f"Not yet: {', '.join(names)}{more} (only the chat has {it}: ask for {it} again) and {later}."
    else:
        not_yet = f"Not yet: {later}."
    return f"{first} {safe} {not_yet}"


def checkpoints_path(root: Path) -> Path:
    return Path(root) / STATE_DIRNAME / CHECKPOINTS_FILENAME


# --- the file ------------------------------------------------------------------------------------------


_Unusable = storage.UnusableFile


class LoadedCheckpoints(NamedTuple):
    checkpoints: list[Checkpoint]
    warnings: list[str]
    extra: dict[str, Any]
    writable: bool


def _parse(raw: bytes) -> tuple[list[Checkpoint], dict[str, Any], int]:
    data, _version = storage.load_versioned_json(raw, CHECKPOINTS_VERSION)
    data.pop("version", None)
    raw_list = data.pop("checkpoints", [])
    if not isinstance(raw_list, list):
        raise _Unusable("its checkpoints are not a list")
    checkpoints: list[Checkpoint] = []
    dropped = 0
    for position, item in enumerate(raw_list, 1):
        checkpoint = Checkpoint.from_json(item, position)
        if checkpoint is None:
            dropped += 1
        else:
            checkpoints.append(checkpoint)
    return checkpoints, data, dropped


def _load(root: Path) -> LoadedCheckpoints:
    path = checkpoints_path(root)
    shown = f"{STATE_DIRNAME}/{CHECKPOINTS_FILENAME}"
    storage.sweep_temp_files(path.parent)
    try:
        raw = storage.read_small_file(path, FILE_LIMIT + 1)
    except FileNotFoundError:
        return LoadedCheckpoints([], [], {}, True)
    except storage.NotARegularFile:
        return LoadedCheckpoints([], [f"{shown} is not a regular file; checkpoints cannot be read or saved"], {},
                                 False)
    except OSError as exc:
        return LoadedCheckpoints([], [f"cannot read {shown} ({exc.strerror or exc}); checkpoints not shown"], {},
                                 False)
    if len(raw) > FILE_LIMIT:
        return LoadedCheckpoints([], [f"{shown} is larger than 1 GB; Liferaft does not read it"], {}, False)
    try:
        checkpoints, extra, dropped = _parse(raw)
    except _Unusable as problem:
        try:
            backup = storage.move_aside(path, problem)
        except OSError as exc:
            return LoadedCheckpoints([], [f"{shown} is unusable: {problem}; could not move it aside "
                                          f"({exc.strerror or exc}), so no checkpoint will be saved"], {}, False)
        return LoadedCheckpoints([], [f"{shown} was unusable: {problem}. It is kept as "
                                      f"{STATE_DIRNAME}/{backup.name}; starting a new list of checkpoints"], {}, True)
    warnings = [f"{shown}: {dropped} damaged checkpoint(s) skipped"] if dropped else []
    return LoadedCheckpoints(checkpoints, warnings, extra, True)


#: The last list read per checkpoints file, with the file's identity when it was read: the workbench asks after
#: every change in the folder, and a long list takes a while to parse (10 checkpoints of 10,000 files: ~0.3 s).
_read_cache: dict[Path, tuple[tuple[int, int, int], list[Checkpoint]]] = {}
_read_cache_lock = threading.Lock()


def _identity(path: Path) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def load_checkpoints(root: Path) -> tuple[list[Checkpoint], list[str]]:
    """The project's checkpoints, oldest first, and one-line warnings; never raises for a bad file. Read again
    only when the file changed (it is always replaced whole, so its inode, size and time say so)."""
    path = checkpoints_path(root)
    before = _identity(path)
    with _read_cache_lock:
        cached = _read_cache.get(path)
    if before is not None and cached is not None and cached[0] == before:
        return list(cached[1]), []
    loaded = _load(root)
    if before is not None and not loaded.warnings and _identity(path) == before:
        with _read_cache_lock:
            _read_cache[path] = (before, list(loaded.checkpoints))
    return loaded.checkpoints, loaded.warnings


def _save(root: Path, checkpoints: list[Checkpoint], extra: dict[str, Any]) -> None:
    data: dict[str, Any] = dict(extra)
    data["version"] = CHECKPOINTS_VERSION
    data["checkpoints"] = [checkpoint.to_json() for checkpoint in checkpoints]
    # ASCII escapes keep names with undecodable bytes (surrogate escapes) intact through a round trip. Streamed
    # into the temporary file: a long list is never held as one string.
    encoder = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"))
    with storage.atomic_writer(checkpoints_path(root)) as handle:
        pending: list[str] = []
        size = 0
        for piece in encoder.iterencode(data):
            pending.append(piece)
            size += len(piece)
            if size >= CHUNK:
                handle.write("".join(pending).encode("ascii"))
                pending, size = [], 0
        pending.append("\n")
        handle.write("".join(pending).encode("ascii"))


@contextlib.contextmanager
def _locked(root: Path) -> Iterator[None]:
    """Two `liferaft checkpoint` at once must not lose one: an advisory lock around read-modify-write."""
    with storage.locked(checkpoints_path(root)):  # .liferaft/checkpoints.lock
        yield


# --- hashing --------------------------------------------------------------------------------------------


def _same(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_size, a.st_mtime_ns, a.st_ino, a.st_dev) == (b.st_size, b.st_mtime_ns, b.st_ino, b.st_dev)


def hash_file(path: Path, on_bytes: Callable[[int], None] | None = None) -> tuple[str | None, os.stat_result, str]:
    """Hash one file: (hex digest or None, its stat, status). Streams in 1 MiB chunks; a file that changes while
    being hashed (stat before and after differ) is hashed once more, then given up as :data:`CHANGING`. Raises
    OSError when it cannot be opened or is not a regular file (never opens a pipe for blocking reads)."""
    for attempt in range(2):
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
        try:
            before = os.fstat(fd)
            if not stat.S_ISREG(before.st_mode):
                raise storage.NotARegularFile(f"{path} is not a regular file")
            digest = hashlib.blake2b(digest_size=DIGEST_SIZE)
            remaining = before.st_size  # a file that keeps growing must not keep the loop going: stat tells
            while remaining > 0 and (chunk := os.read(fd, min(CHUNK, remaining))):
                digest.update(chunk)
                remaining -= len(chunk)
                if on_bytes is not None:
                    on_bytes(len(chunk))
            after = os.fstat(fd)
        finally:
            os.close(fd)
        try:
            now = os.stat(path)
        except FileNotFoundError:
            now = None
        if now is not None and _same(before, after) and _same(after, now):
            return digest.hexdigest(), after, OK
        if attempt == 1:
            return None, now or after, CHANGING
    raise AssertionError("unreachable")


def record_checkpoint(root: Path, inventory: Inventory, message: str, *, now: float,
                      progress: Callable[[int, int, str], None] | None = None) -> Checkpoint:
    """Record a checkpoint of every file in ``inventory`` and save it; returns it (with ``warnings``).

    ``progress(bytes_done, bytes_total, path)`` is called as files are hashed. Files flagged unreadable or out
    of the project are not read (listed in ``skipped``), nor files that vanish or cannot be opened. Raises
    :class:`CheckpointError` when it cannot be saved.
    """
    from liferaft.core.restart_note import NoteError, load_note, write_note

    root = Path(root)
    warnings: list[str] = []
    try:
        note, _record = load_note(root, inventory)
        note_text = write_note(note) if note is not None else ""
    except NoteError as exc:
        note_text = ""
        warnings.append(f"the restart note was not saved with the checkpoint: {exc}")
    try:
        with _locked(root):
            loaded = _load(root)
            warnings = [*loaded.warnings, *warnings]
            if not loaded.writable:
                raise CheckpointError(warnings[0] if warnings else "the checkpoints file cannot be written")
            previous = loaded.checkpoints[-1] if loaded.checkpoints else None
            files, skipped = _hash_all(root, inventory, previous, progress)
            number = (max(c.number for c in loaded.checkpoints) + 1) if loaded.checkpoints else 1
            checkpoint = Checkpoint(number, now, message, note_text, files, skipped)
            _save(root, [*loaded.checkpoints, checkpoint], loaded.extra)
            checkpoint.count = len(loaded.checkpoints) + 1
            checkpoint.since_last = diff(previous, checkpoint, by_hash=True) if previous is not None else None
    except CheckpointError:
        raise
    except OSError as exc:
        raise CheckpointError(f"cannot save the checkpoint in {root / STATE_DIRNAME}: {exc.strerror or exc}") from None
    checkpoint.warnings = warnings
    return checkpoint


def _hash_all(root: Path, inventory: Inventory, previous: Checkpoint | None,
              progress: Callable[[int, int, str], None] | None) -> tuple[dict[str, FileEntry], dict[str, str]]:
    files: dict[str, FileEntry] = {}
    skipped: dict[str, str] = {}
    old = previous.files if previous is not None else {}
    total = sum(record.size for record in inventory.files)
    done = 0
    for record in inventory.files:
        if FLAG_OUTSIDE in record.flags:
            skipped[record.path] = "a link out of the project: not read"
            done += record.size
            continue
        if FLAG_UNREADABLE in record.flags:
            skipped[record.path] = "unreadable"
            done += record.size
            continue
        full = root / record.path
        try:
            st = os.stat(full)
        except OSError as exc:
            skipped[record.path] = f"cannot read it: {exc.strerror or exc}"
            done += record.size
            continue
        earlier = old.get(record.path)
        if (earlier is not None and earlier.hash is not None and earlier.size == st.st_size
                and earlier.mtime_ns == st.st_mtime_ns and stat.S_ISREG(st.st_mode)):
            files[record.path] = FileEntry(record.path, st.st_size, st.st_mtime, st.st_mtime_ns, earlier.hash)
            done += record.size
            if progress is not None:
                progress(done, total, record.path)
            continue
        start = done

        def on_bytes(count: int, _path: str = record.path) -> None:
            nonlocal done
            done += count
            if progress is not None:
                progress(min(done, total), total, _path)

        try:
            digest, st, status = hash_file(full, on_bytes)
        except OSError as exc:
            reason = "not a regular file" if isinstance(exc, storage.NotARegularFile) else (exc.strerror or str(exc))
            skipped[record.path] = f"cannot read it: {reason}"
            done = start + record.size
            continue
        done = start + record.size
        files[record.path] = FileEntry(record.path, st.st_size, st.st_mtime, st.st_mtime_ns, digest, status)
    if progress is not None:
        progress(total, total, "")
    return files, skipped


# --- comparing ------------------------------------------------------------------------------------------


def _entries(side: Checkpoint | Inventory) -> dict[str, FileEntry]:
    if isinstance(side, Checkpoint):
        return side.files
    return {record.path: FileEntry(record.path, record.size, record.mtime, -1, None)
            for record in side.files if FLAG_OUTSIDE not in record.flags}


def diff(a: Checkpoint | Inventory, b: Checkpoint | Inventory, *, by_hash: bool = False,
         root: Path | None = None) -> Changes:
    """What changed from ``a`` to ``b`` (each a checkpoint or the current inventory).

    By default a file changed when its size or modification time differs. With ``by_hash`` the content
    decides where both hashes are known (a file touched but not changed is not changed); an inventory's files
    are then hashed from ``root`` (its own root by default), only where the size is the same.
    """
    old, new = _entries(a), _entries(b)
    added = sorted(path for path in new if path not in old)
    removed = sorted(path for path in old if path not in new)
    changed: list[str] = []
    for path in sorted(new.keys() & old.keys()):
        x, y = old[path], new[path]
        meta_differs = x.size != y.size or (
            x.mtime_ns != y.mtime_ns if x.mtime_ns >= 0 and y.mtime_ns >= 0 else x.mtime != y.mtime)
        if not by_hash or x.size != y.size:
            if meta_differs:
                changed.append(path)
            continue
        hx = x.hash if x.hash is not None else _current_hash(a, path, root)
        hy = y.hash if y.hash is not None else _current_hash(b, path, root)
        if hx is None or hy is None:
            if meta_differs:
                changed.append(path)
        elif hx != hy:
            changed.append(path)
    return Changes(added, removed, changed)


def _current_hash(side: Checkpoint | Inventory, path: str, root: Path | None) -> str | None:
    if isinstance(side, Checkpoint):
        return None
    try:
        digest, _st, _status = hash_file(Path(root or side.root) / path)
    except OSError:
        return None
    return digest
