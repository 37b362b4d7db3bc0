"""Fixers: new files, ready to upload, made from an original that is never changed.

Every file is written next to its original, under ``<folder>/prepared/``, atomically
(:func:`liferaft.core.storage.atomic_writer`) and never over an existing file: a taken name gets a numeric
suffix. Each fixer streams in constant memory:

* :func:`split_csv` cuts a CSV/TSV into parts of at most N bytes on record boundaries (a line break inside a
  quoted cell never cuts a record), repeating the header row; the bytes are copied as they are, so the parts
  minus their repeated header are the original, byte for byte.
* :func:`to_utf8` re-encodes a table or text to UTF-8 (the encoding told as the preview tells it).
* :func:`export_sheet` writes one sheet of a workbook as UTF-8 CSV, values shown as the preview shows them.
* :func:`drop_columns` writes a CSV without some columns, as UTF-8 with commas.
* :func:`to_comma` writes a CSV/TSV as UTF-8 with commas, re-encoded and re-delimited in one pass.
* :func:`strip_nul` writes a CSV or text without its stray NUL bytes, every other byte as it is.
* :func:`skip_rows` writes a table without the title lines above its header, every byte after them as it is.
* :func:`copy_as` copies any file under a clearer name (the original keeps its own).

Errors are :class:`PrepareError` (the fixer ran but failed) or :class:`PrepareUsage` (the request names a
sheet or a column the file does not have); either way nothing half-written is left behind.

This module splits and copies; what the fixers share is in :mod:`.prepare_common`, the lists of a split's parts
in :mod:`.prepare_sets`, the record rewriters in :mod:`.prepare_text` and the sheet export in
:mod:`.prepare_sheet`. Their public names are importable from here.
"""

from __future__ import annotations

import contextlib
import errno
import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from liferaft.core import storage
from liferaft.core.prepare_common import (
    _CONTROL,
    _NOT_TEXT,
    CHUNK,
    MB,
    PREPARED,
    Prepared,
    PrepareError,
    PrepareUsage,
    Progress,
    Written,
    _check_destination,
    _check_source,
    _head,
    _new_file,
    _split_name,
    _tidy,
    free_name,
    prepared_folder,
)
from liferaft.core.prepare_common import HEAD_BYTES as HEAD_BYTES
from liferaft.core.prepare_common import MAX_CELL as MAX_CELL
from liferaft.core.prepare_common import MAX_LINE as MAX_LINE
from liferaft.core.prepare_sets import MANIFEST_DIR, MANIFEST_SUFFIX, MANIFEST_VERSION, PENDING_SUFFIX
from liferaft.core.prepare_sets import SplitSet as SplitSet
from liferaft.core.prepare_sets import looks_like_part as looks_like_part
from liferaft.core.prepare_sets import manifest_path as manifest_path
from liferaft.core.prepare_sets import read_split_set as read_split_set
from liferaft.core.prepare_sets import split_original as split_original
from liferaft.core.prepare_sets import split_part_problem as split_part_problem
from liferaft.core.prepare_sheet import export_sheet as export_sheet
from liferaft.core.prepare_sheet import sheet_names as sheet_names
from liferaft.core.prepare_text import drop_columns as drop_columns
from liferaft.core.prepare_text import skip_rows as skip_rows
from liferaft.core.prepare_text import strip_nul as strip_nul
from liferaft.core.prepare_text import to_comma as to_comma
from liferaft.core.prepare_text import to_utf8 as to_utf8

#: How many parts of a split are copied and fsynced at once while the file is read on.
SPLIT_WRITERS = 3


def _write_all(fd: int, data: bytes | bytearray | memoryview) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


# Errors that mean "this way of copying does not work here": the next, plainer way is tried.
_NO_KERNEL_COPY = frozenset(
    getattr(errno, name) for name in ("EXDEV", "ENOSYS", "EINVAL", "EOPNOTSUPP", "ENOTSUP", "EPERM", "ENOTSOCK",
                                      "EBADF") if hasattr(errno, name)
)


def _copy_range(src: int, dst: int, offset: int, count: int, name: str) -> None:
    """Append ``count`` bytes of ``src`` from ``offset`` to ``dst``, inside the kernel where it can.

    ``src`` is read at explicit offsets (its position is not moved), so other threads may use it meanwhile;
    without ``os.pread`` (Windows) see :func:`storage.read_at` (the split then gives its workers a descriptor
    of their own).
    """
    end = offset + count
    for way in ("copy_file_range", "sendfile"):
        call = getattr(os, way, None)
        if call is None or offset >= end:
            continue
        try:
            while offset < end:
                size = min(end - offset, 1 << 30)
                copied = call(src, dst, size, offset) if way == "copy_file_range" else call(dst, src, offset, size)
                if not copied:
                    break  # some filesystems say 0 rather than an error: fall back
                offset += copied
        except OSError as exc:
            if exc.errno not in _NO_KERNEL_COPY:
                raise
    while offset < end:
        data = storage.read_at(src, min(end - offset, CHUNK), offset)
        if not data:
            raise PrepareError(f"{name} got shorter while it was being copied: run it again once it is finished")
        _write_all(dst, data)
        offset += len(data)


# --- split -----------------------------------------------------------------------------------------------


def _first_boundary(buf: bytes) -> int | None:
    """The offset just after the first line feed outside quotes (``buf`` starts outside quotes), or None."""
    pos = 0
    quotes = 0
    while True:
        newline = buf.find(b"\n", pos)
        if newline < 0:
            return None
        quotes += buf.count(b'"', pos, newline)
        if quotes % 2 == 0:
            return newline + 1
        pos = newline + 1


class _Chunk:
    """One read of a file being split, with what is known of its quote marks."""

    __slots__ = ("before", "buf", "cursor", "cursor_quotes", "n", "quotes")

    def __init__(self, buf: bytearray, n: int, before: int) -> None:
        self.buf, self.n, self.before = buf, n, before
        first = buf.find(b'"', 0, n)  # memchr: a chunk without quotes is not counted byte by byte
        self.quotes = 0 if first < 0 else buf.count(b'"', first, n)
        self.cursor, self.cursor_quotes = 0, before

    def quotes_before(self, index: int) -> int:
        """Quote marks before ``buf[index]``, since the point outside quotes the count started from; counted
        from whichever known point is nearer (the chunk's end, or the last cut made in it)."""
        if index >= self.cursor and index - self.cursor <= self.n - index:
            return self.cursor_quotes + self.buf.count(b'"', self.cursor, index)
        return self.before + self.quotes - self.buf.count(b'"', index, self.n)

    def boundary_before(self, low: int, high: int) -> int:
        """The index of the last line feed in ``buf[low:high]`` that is outside quotes, or -1."""
        buf = self.buf
        newline = buf.rfind(b"\n", low, high)
        if newline < 0:
            return -1
        quotes = self.quotes_before(newline)
        while quotes % 2:  # inside a quoted cell: go back a line, counting only the bytes in between
            previous = buf.rfind(b"\n", low, newline)
            if previous < 0:
                return -1
            quotes -= buf.count(b'"', previous, newline)
            newline = previous
        return newline


class _Rows:
    """The data rows a split read, counted on the way: exact when the file holds no quote mark (every line break
    ends a record), else unknown (a line break inside a quoted cell does not end one, and telling which do
    would cost a pass over every byte in Python)."""

    __slots__ = ("breaks", "last", "quoted")

    def __init__(self) -> None:
        self.breaks = 0
        self.quoted = False
        self.last = 0  # the last byte read (10: the file ends with a line break)

    def count(self, chunk: _Chunk) -> None:
        if chunk.n:
            self.quoted = self.quoted or chunk.quotes > 0
            self.breaks += chunk.buf.count(b"\n", 0, chunk.n)
            self.last = chunk.buf[chunk.n - 1]

    def total(self, read_any: bool) -> int | None:
        if self.quoted:
            return None
        return self.breaks + (1 if read_any and self.last != 10 else 0)


def _find_cuts(source: Any, start: int, room: int, emit: Callable[[int, int], None], *, name: str,
               limit_mb: float, size: int, progress: Progress | None, rows: _Rows | None = None) -> bool:
    """Read ``source`` from ``start`` (a record boundary) to its end and call ``emit(begin, end)`` for each run of
    whole records of at most ``room`` bytes, in order. True when the quote marks are balanced at the end.
    ``rows``, when given, counts the records read (see :class:`_Rows`).

    Every byte is read once into one reused buffer and its quote marks counted; nothing is copied here (the
    parts are copied from the file by offset), so the memory used does not grow with the file.
    """
    buf = bytearray(CHUNK)
    source.seek(start)
    pos = start  # the file offset of buf[0]
    before = 0  # quote marks between ``start`` and ``pos``
    part_start, part_end, last = start, start + room, 0  # ``last``: the latest boundary seen in this part
    while True:
        n = source.readinto(buf)
        if not n:
            break
        chunk = _Chunk(buf, n, before)
        if rows is not None:
            rows.count(chunk)
        while part_end < pos + n:  # the current part ends within this chunk
            newline = chunk.boundary_before(max(part_start - pos, 0), part_end - pos)
            if newline >= 0:
                cut = pos + newline + 1
                chunk.cursor, chunk.cursor_quotes = newline, chunk.quotes_before(newline)
            elif last > part_start:
                cut = last
            else:
                raise PrepareError(f"the row at byte {part_start:,} of {name} is longer than {limit_mb:g} MB "
                                   "(or a quote is never closed): it cannot go into a part")
            emit(part_start, cut)
            part_start, part_end, last = cut, cut + room, 0
        newline = chunk.boundary_before(max(part_start - pos, 0), n)
        if newline >= 0:
            last = pos + newline + 1
        before += chunk.quotes
        pos += n
        if progress is not None:
            progress(pos, size)
    if part_start < pos:
        emit(part_start, pos)  # the rest, its last line maybe without a line break
    return before % 2 == 0


def _write_part(folder: Path, header: bytes, src: int, begin: int, end: int, name: str,
                made: list[tuple[Path, tuple[int, int]]]) -> tuple[Path, tuple[int, int]]:
    """One part as a temporary file in ``folder``: the header, then ``src[begin:end]``, fsynced and closed.
    Returns its path and identity (device, inode); both are added to ``made`` as soon as the file exists, so
    that it is removed on an interruption even when the caller never got this result."""
    fd, tmp = storage.new_temp_file(folder, made)
    try:
        st = os.fstat(fd)
        _write_all(fd, header)
        _copy_range(src, fd, begin, end - begin, name)
        getattr(os, "fdatasync", os.fsync)(fd)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    os.close(fd)
    return tmp, (st.st_dev, st.st_ino)


def _read_header(source: Any, name: str, limit: int, limit_mb: float) -> bytes:
    """The first record of ``source`` (the header row, with its line break)."""
    buf = b""
    eof = False
    while True:
        cut = _first_boundary(buf)
        if cut is not None or eof:
            break
        if len(buf) > limit:
            raise PrepareError(f"the header row of {name} is longer than {limit_mb:g} MB")
        chunk = source.read(CHUNK)
        eof = not chunk
        buf += chunk
    if cut is not None and cut >= len(buf) and not eof:
        buf += source.read(1)
    if cut is None or cut >= len(buf):
        raise PrepareError(f"{name} holds only a header row: there are no rows to split")
    return buf[:cut]


def split_csv(path: Path, limit_mb: float, *, progress: Progress | None = None) -> Prepared:
    """Cut ``path`` into parts of at most ``limit_mb`` MB, each starting with the header row.

    The file is read once, in the calling thread, to find where each part ends (a record boundary: a line feed
    outside quotes); each part is copied from the file in a worker thread as soon as its end is known, and
    fsynced there, so the disk works while the reading goes on. The parts appear together at the end, each
    under its own name, never over an existing file, and then, last, the list of them with their sizes
    (``prepared/.liferaft/NAME.csv.parts.json``): a set without it, or that does not match it, is never taken
    for the table (:func:`split_part_problem`). On any failure (or Ctrl-C) none is left behind.
    """
    path = Path(path)
    if not (limit_mb > 0) or not math.isfinite(limit_mb * MB):
        raise PrepareUsage(f"the part size must be a positive number of MB, not {limit_mb!r}")
    limit = int(limit_mb * MB)
    size = _check_source(path)
    _check_destination(path)
    decoded = _head(path)
    if decoded.codec.startswith(("utf-16", "utf-32")):
        raise PrepareError(f"{path.name} is {decoded.label}: re-encode it to UTF-8 first (--utf8), then split that")
    stem, suffix = _split_name(path)
    folder = prepared_folder(path)
    with open(path, "rb", buffering=0) as source:
        if hasattr(os, "posix_fadvise"):
            os.posix_fadvise(source.fileno(), 0, 0, os.POSIX_FADV_SEQUENTIAL)
        header = _read_header(source, path.name, limit, limit_mb)
        if size <= limit:
            return Prepared((), (f"{path.name} is already {size:,} bytes, within {limit_mb:g} MB: nothing to split",))
        if len(header) >= limit:
            raise PrepareError(f"the header row alone is {len(header):,} bytes, over {limit_mb:g} MB")
        import glob

        tag = 1  # a new set of parts never mixes with an earlier one: -2, -3… on the stem
        def taken(base: str) -> bool:  # parts, a list or the mark of an unfinished split under that name
            return any(folder.glob(f"{glob.escape(base)}.part[0-9]*{suffix}")) or any(
                os.path.lexists(folder / MANIFEST_DIR / f"{base}{suffix}{end}") for end in (MANIFEST_SUFFIX,
                                                                                            PENDING_SUFFIX))

        while taken(stem if tag == 1 else f"{stem}-{tag}"):
            tag += 1
        base = stem if tag == 1 else f"{stem}-{tag}"
        with _tidy(folder):
            return _split_parts(source, header, size, limit - len(header), folder, base, suffix,
                                name=path.name, limit_mb=limit_mb, progress=progress)


def _own_handle(source: Any, name: str) -> int:
    """A new descriptor on the file ``source`` has open (by its name), checked to be that very file."""
    try:
        fd = os.open(source.name, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        raise PrepareError(f"cannot open {name} again to copy it ({exc.strerror or exc})") from None
    before, now = os.fstat(source.fileno()), os.fstat(fd)
    if (before.st_dev, before.st_ino) != (now.st_dev, now.st_ino):
        os.close(fd)
        raise PrepareError(f"{name} was replaced while it was being split: run it again")
    return fd


def _split_parts(source: Any, header: bytes, size: int, room: int, folder: Path, base: str, suffix: str, *,
                 name: str, limit_mb: float, progress: Progress | None) -> Prepared:
    from concurrent.futures import Future, ThreadPoolExecutor

    folder.mkdir(parents=True, exist_ok=True)
    src = source.fileno()
    spans: list[tuple[int, int]] = []
    futures: list[Future[tuple[Path, tuple[int, int]]]] = []
    made: list[tuple[Path, tuple[int, int]]] = []  # every temporary file the workers created, as they create it
    placed: list[tuple[Path, tuple[int, int]]] = []  # every name a part (or the manifest) may have been given
    manifests = folder / MANIFEST_DIR
    manifests_existed = os.path.lexists(manifests)
    if (manifests_existed and not os.path.isdir(manifests)) or os.path.islink(manifests):
        raise PrepareError(f"{manifests} is not a folder: move it away and run it again (the list of the parts "
                           "goes there)")
    if not hasattr(os, "pread"):
        # Windows: the workers read by seeking (storage.read_at), which would move the position this thread
        # reads the file at; they get a handle of their own on the same file.
        src = _own_handle(source, name)
    pool = ThreadPoolExecutor(max_workers=SPLIT_WRITERS, thread_name_prefix="liferaft-split")

    checked = 0  # the parts before this one are written and were fine: not looked at again

    def emit(begin: int, end: int) -> None:
        nonlocal checked
        while checked < len(futures) and futures[checked].done():  # a part that failed (a full disk, say)
            futures[checked].result()  # stops the reading at once
            checked += 1
        spans.append((begin, end))
        futures.append(pool.submit(_write_part, folder, header, src, begin, end, name, made))

    rows = _Rows()
    try:
        balanced = _find_cuts(source, len(header), room, emit, name=name, limit_mb=limit_mb, size=size,
                              progress=progress, rows=rows)
        temps = [future.result() for future in futures]
        # part01…part12 when there are ten or more: they sort in order everywhere (file pickers included).
        width = len(str(len(temps)))
        targets = [folder / f"{base}.part{number:0{width}d}{suffix}" for number in range(1, len(temps) + 1)]
        # First, durably: the mark of a split under way. Parts beside it without the list are a split that did
        # not finish (killed here), never a set; parts with neither are files of the user's own.
        pending = manifests / f"{base}{suffix}{PENDING_SUFFIX}"
        _write_manifest(pending, {"version": MANIFEST_VERSION, "made_by": "liferaft prepare --split-mb",
                                  "source": name, "pid": os.getpid(), "parts": [t.name for t in targets]},
                        made, placed)
        for target, (tmp, ident) in zip(targets, temps, strict=True):
            placed.append((target, ident))  # first: interrupted inside publish, the name may be ours already
            try:
                storage.publish(tmp, target)
            except FileExistsError:
                raise PrepareError(f"{target.name} appeared in {folder} while it was being written; run it again") \
                    from None
        storage.fsync_dir(folder)
        # Last, once every part is in place and durable: the list that makes the set complete. Parts without
        # it (a split killed on the way) are never taken for a finished set (see :func:`split_part_problem`).
        parts = [{"name": target.name, "size": len(header) + end - begin}
                 for target, (begin, end) in zip(targets, spans, strict=True)]
        manifest: dict[str, Any] = {
            "version": MANIFEST_VERSION, "made_by": "liferaft prepare --split-mb", "source": name,
            "source_size": size, "header_size": len(header), "parts": parts}
        total_rows = rows.total(bool(spans))
        if total_rows is not None:
            manifest["rows"] = total_rows  # the data rows of the whole table: what the parts add up to
        _write_manifest(manifests / f"{base}{suffix}{MANIFEST_SUFFIX}", manifest, made, placed)
        with contextlib.suppress(OSError):  # the list is there: the mark no longer says anything
            os.unlink(pending)
            storage.fsync_dir(manifests)
    except BaseException:
        _shielded(lambda: _undo_split(pool, made, placed, None if manifests_existed else manifests))
        raise
    finally:
        pool.shutdown(wait=True)
        if src != source.fileno():
            os.close(src)
    written = tuple(Written(target, len(header) + end - begin)
                    for target, (begin, end) in zip(targets, spans, strict=True))
    notes = () if balanced else (
        f"{name} has an odd number of quote marks: a quote may never be closed, so everything after it reads as "
        "one cell (in the last part, as in the original)",)
    return Prepared(written, notes)


def _write_manifest(path: Path, data: dict[str, Any], made: list[tuple[Path, tuple[int, int]]],
                    placed: list[tuple[Path, tuple[int, int]]]) -> None:
    """Write the list of a split's parts at ``path`` (in a ``.liferaft`` folder that scans and the watcher skip),
    never over an existing file, fsynced with its folder; ``made``/``placed`` get its names as in
    :func:`_split_parts`, so that an interruption removes it again."""
    import json

    fd, tmp = storage.new_temp_file(path.parent, made)
    try:
        st = os.fstat(fd)
        ident = (st.st_dev, st.st_ino)
        _write_all(fd, (json.dumps(data, indent=1, ensure_ascii=True) + "\n").encode("ascii"))
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    os.close(fd)
    placed.append((path, ident))
    try:
        storage.publish(tmp, path)
    except FileExistsError:
        raise PrepareError(f"{path.name} appeared in {path.parent} while it was being written; run it again") \
            from None
    storage.fsync_dir(path.parent)


def _remove_if_ours(path: Path, ident: tuple[int, int]) -> None:
    """Remove ``path`` if it is still the file this split created (same device and inode); never another."""
    try:
        st = os.lstat(path)
        if (st.st_dev, st.st_ino) == ident:
            os.unlink(path)
    except OSError:
        pass


def _undo_split(pool: Any, made: Sequence[tuple[Path, tuple[int, int]]],
                placed: Sequence[tuple[Path, tuple[int, int]]], manifests: Path | None) -> None:
    """Take back everything an unfinished split made: its temporary files, the parts (and the list of them)
    already given their names, the manifests folder if it made it. Safe to run again (see :func:`_shielded`)."""
    pool.shutdown(wait=True, cancel_futures=True)  # no worker creates a file after this: all are in ``made``
    for path, ident in reversed(placed):  # the manifest first: the parts stop counting as a set at once
        _remove_if_ours(path, ident)
    for path, ident in made:
        _remove_if_ours(path, ident)
    if manifests is not None:
        with contextlib.suppress(OSError):
            os.rmdir(manifests)  # only ever succeeds on an empty folder


def _shielded(cleanup: Callable[[], None]) -> None:
    """Run ``cleanup`` to the end even when Ctrl-C is pressed again meanwhile (it is run once more)."""
    for _attempt in range(100):
        try:
            cleanup()
            return
        except KeyboardInterrupt:
            continue


# --- a clearer name --------------------------------------------------------------------------------------

def new_name_for(path: Path, new_name: str) -> str:
    """The file name :func:`copy_as` gives a copy of ``path`` asked to be called ``new_name``: surrounding
    blanks taken off, and the original's extension added when ``new_name`` has none it knows.

    Raises :class:`PrepareUsage` for a name that cannot be one: empty, ``.`` or ``..``, a path (with ``/`` or
    ``\\``), a hidden name, control characters or line breaks, bytes that are not text, or one that does not work
    on every system (:func:`liferaft.core.names.name_problem`: ``<>:"|?*``, a Windows device name such as
    ``CON``, over 255 bytes).
    """
    import unicodedata

    from liferaft.core.names import name_problem
    from liferaft.core.roles import kind_from_name

    name = new_name.strip()
    if not name:
        raise PrepareUsage("the new name is empty")
    if name in (".", ".."):
        raise PrepareUsage(f"{name!r} is not a file name")
    if "/" in name or "\\" in name or (os.altsep and os.altsep in name):
        raise PrepareUsage(f"the new name {name!r} is a path: give a name only (no / or \\), the copy goes in "
                           f"{PREPARED}/")
    if _CONTROL.search(name):
        raise PrepareUsage(f"the new name {name!r} has a line break or a control character: use letters, digits, "
                           "- and _")
    if _NOT_TEXT.search(name):
        raise PrepareUsage(f"the new name {name!r} has bytes that are not valid text: use letters, digits, - and _")
    if name.startswith("."):
        raise PrepareUsage(f"the new name {name!r} starts with a dot, which makes a hidden file")
    name = unicodedata.normalize("NFC", name.rstrip(". "))
    original = Path(path).name
    extension = original[original.rfind("."):] if original.rfind(".") > 0 else ""
    if extension and kind_from_name(name) is None and not name.lower().endswith(extension.lower()):
        name += extension
    if len(os.fsencode(name)) > 255:
        raise PrepareUsage(f"the new name is {len(os.fsencode(name))} bytes long: at most 255 fit in a file name")
    problem = name_problem(name)  # a name that macOS or Windows could not take: the copy must work everywhere
    if problem:
        raise PrepareUsage(f"the new name {name!r} cannot be used: {problem}")
    return name


def copy_as(path: Path, new_name: str, *, progress: Progress | None = None) -> Prepared:
    """Copy ``path`` under a clearer name into ``prepared/`` next to it; the original keeps its name.

    The name is checked by :func:`new_name_for` first (:class:`PrepareUsage` when it cannot be used). A name
    already taken gets a numeric suffix, as every prepared file does, and a note says so.
    """
    import unicodedata

    path = Path(path)
    name = new_name_for(path, new_name)
    size = _check_source(path)
    _check_destination(path)
    folder = prepared_folder(path)
    dot = name.rfind(".")
    stem, tail = (name[:dot], name[dot:]) if dot > 0 else (name, "")
    target = free_name(folder, stem, tail)
    with _tidy(folder), open(path, "rb") as source, _new_file(target) as out:
        done = 0
        while done < size:
            step = min(size - done, 16 * CHUNK)
            _copy_range(source.fileno(), out.fileno(), done, step, path.name)
            done += step
            if progress is not None:
                progress(done, size)
    notes = []
    if name != unicodedata.normalize("NFC", new_name.strip().rstrip(". ")):
        notes.append(f"named {name} (the extension of {path.name} kept)")
    if target.name != name:
        notes.append(f"{name} is already taken in {PREPARED}/: the copy is {target.name}")
    return Prepared((Written(target, size),), tuple(notes))
