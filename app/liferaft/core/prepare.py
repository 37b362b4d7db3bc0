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
* :func:`copy_as` copies any file under a clearer name (the original keeps its own).

Errors are :class:`PrepareError` (the fixer ran but failed) or :class:`PrepareUsage` (the request names a
sheet or a column the file does not have); either way nothing half-written is left behind.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import errno
import io
import itertools
import math
import os
import re
import stat
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from liferaft.core import storage
from liferaft.core.storage import atomic_writer

#: Decimal megabytes, as the upload limits are given.
MB = 1000 * 1000
#: The size of each read while streaming.
CHUNK = 4 << 20
#: The folder the prepared files go in, next to the original.
PREPARED = "prepared"
#: How far the encoding and delimiter are told from (as the preview does).
HEAD_BYTES = 1 << 20
#: How many parts of a split are copied and fsynced at once while the file is read on.
SPLIT_WRITERS = 3
#: The longest cell, and the longest line, the CSV fixers read (in characters): memory stays bounded.
MAX_CELL = 16 * MB
MAX_LINE = 32 * MB

Progress = Callable[[int, int], None]
"""Called with (work done, total work) as a fixer goes; the units are bytes (rows for a sheet)."""


class PrepareError(Exception):
    """The fixer could not do its work; the message says why in one line."""


class PrepareUsage(PrepareError):
    """The request does not fit the file (no such sheet, no such column); the message lists what there is."""


@dataclass(frozen=True, slots=True)
class Written:
    path: Path
    size: int
    rows: int | None = None
    """Data rows written (not counting the header), when known."""


@dataclass(frozen=True, slots=True)
class Prepared:
    written: tuple[Written, ...]
    notes: tuple[str, ...] = ()


# --- shared ----------------------------------------------------------------------------------------------


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_NOT_TEXT = re.compile(r"[\ud800-\udfff]")  # bytes that were not UTF-8 (os.fsdecode's escapes), lone surrogates


def _check_source(path: Path) -> int:
    """The size of ``path``, after making sure it is a regular file (a pipe is never opened)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            raise PrepareUsage(f"{path} is a link whose target does not exist") from None
        raise PrepareUsage(f"no such file: {path}") from None
    except OSError as exc:
        raise PrepareError(f"cannot read {path.name}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(st.st_mode):
        raise PrepareUsage(f"{path} is a folder, not a file")
    if not stat.S_ISREG(st.st_mode):
        raise PrepareUsage(f"{path} is not a regular file (a pipe, socket or device): Liferaft does not open it")
    if st.st_size == 0:
        raise PrepareError(f"{path.name} is empty: there is nothing to prepare")
    return st.st_size


def prepared_folder(path: Path) -> Path:
    """``prepared/`` next to ``path``. Raises :class:`PrepareError` when something other than a real folder
    stands there (a link would send the copies out of the project, a file cannot hold them)."""
    folder = Path(path).parent / PREPARED
    try:
        st = os.lstat(folder)
    except FileNotFoundError:
        return folder
    except OSError as exc:
        raise PrepareError(f"cannot use {folder}: {exc.strerror or exc}") from None
    if stat.S_ISLNK(st.st_mode):
        raise PrepareError(f"{folder} is a link: Liferaft writes prepared files only into a real folder there "
                           "(move the link away and run it again)")
    if not stat.S_ISDIR(st.st_mode):
        raise PrepareError(f"{folder} is a file, not a folder: move it away and run it again")
    return folder


def _check_destination(path: Path) -> None:
    """Refuse, before anything is read, a ``prepared/`` folder next to ``path`` that cannot be written in (or,
    when it does not exist yet, a folder it cannot be created in): a read-only folder or one not the user's."""
    folder = prepared_folder(path)
    where = folder if os.path.isdir(folder) else folder.parent
    effective = os.access in os.supports_effective_ids
    if os.access(where, os.W_OK | os.X_OK, effective_ids=effective):
        return
    if where == folder:
        raise PrepareError(f"cannot write in {folder}: the folder is read-only or not yours (nothing was written)")
    raise PrepareError(f"cannot create {folder}: {where} is read-only or not yours (nothing was written)")


def free_name(folder: Path, stem: str, tail: str) -> Path:
    """``folder/stem+tail``, or ``stem-2+tail``, ``stem-3+tail``… the first that does not exist."""
    number = 1
    while True:
        candidate = folder / (f"{stem}{tail}" if number == 1 else f"{stem}-{number}{tail}")
        if not os.path.lexists(candidate):
            return candidate
        number += 1


def _split_name(path: Path) -> tuple[str, str]:
    suffix = path.suffix if path.suffix.lower() in (".csv", ".tsv", ".txt") else ".csv"
    stem = path.name[: -len(path.suffix)] if path.suffix else path.name
    return _clean_stem(stem), suffix


def _clean_stem(stem: str) -> str:
    """``stem`` for a prepared file's name: a line break, a control character or a byte that is not UTF-8 (in
    the original's name) becomes ``_``, so that the copy has a name a chat, and a shell, can take."""
    return _NOT_TEXT.sub("_", _CONTROL.sub("_", stem)) or "file"


@contextlib.contextmanager
def _new_file(path: Path) -> Iterator[BinaryIO]:
    try:
        with atomic_writer(path, overwrite=False) as handle:
            yield handle
    except FileExistsError:
        raise PrepareError(f"{path.name} appeared in {path.parent} while it was being written; run it again") \
            from None


def _head(path: Path) -> Any:
    """The start of ``path``, decoded as the preview decodes it."""
    from liferaft.core.inspect import text as textio

    head = textio.read_head(path, HEAD_BYTES)
    try:
        return textio.decode_head(head.data, head.complete)
    except textio.NotText as exc:
        raise PrepareError(f"{path.name} does not look like text: {exc}") from None


def _unlink_all(written: Sequence[Written]) -> None:
    for item in written:
        with contextlib.suppress(OSError):
            os.unlink(item.path)


@contextlib.contextmanager
def _tidy(folder: Path) -> Iterator[None]:
    """On failure, remove ``folder`` again if this call created it and it is still empty."""
    existed = os.path.lexists(folder)
    try:
        yield
    except BaseException:
        if not existed:
            with contextlib.suppress(OSError):
                os.rmdir(folder)  # only ever succeeds on an empty folder
        raise


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

    ``src`` is read at explicit offsets (its position is not moved), so other threads may use it meanwhile.
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
        data = os.pread(src, min(end - offset, CHUNK), offset)
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
        while any(folder.glob(f"{glob.escape(stem if tag == 1 else f'{stem}-{tag}')}.part[0-9]*{suffix}")) or \
                os.path.lexists(folder / MANIFEST_DIR / f"{stem if tag == 1 else f'{stem}-{tag}'}{suffix}"
                                f"{MANIFEST_SUFFIX}"):
            tag += 1
        base = stem if tag == 1 else f"{stem}-{tag}"
        with _tidy(folder):
            return _split_parts(source, header, size, limit - len(header), folder, base, suffix,
                                name=path.name, limit_mb=limit_mb, progress=progress)


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
    except BaseException:
        _shielded(lambda: _undo_split(pool, made, placed, None if manifests_existed else manifests))
        raise
    finally:
        pool.shutdown(wait=True)
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


# --- the list of a split's parts ---------------------------------------------------------------------------

#: The folder, inside ``prepared/``, that holds the lists of parts (skipped by scans, like the project's own).
MANIFEST_DIR = ".liferaft"
#: ``<base><suffix>.parts.json``: the list of the parts ``<base>.partN<suffix>`` of one split.
MANIFEST_SUFFIX = ".parts.json"
MANIFEST_VERSION = 1
_PART_NAME = re.compile(r"(?s)(?P<base>.+)\.part(?P<number>[0-9]+)(?P<suffix>\.(?i:csv|tsv|txt))\Z")
_set_cache: dict[tuple[str, str, str], tuple[Any, Any, dict[str, int] | str]] = {}


def looks_like_part(path: Path) -> bool:
    """Whether ``path`` is named like a part of a split (``NAME.partN.csv``) in a ``prepared/`` folder."""
    path = Path(path)
    return path.parent.name == PREPARED and _PART_NAME.match(path.name) is not None


def manifest_path(path: Path) -> Path | None:
    """Where the list of the parts of the split ``path`` belongs to is, or None when it is not named as a part."""
    path = Path(path)
    match = _PART_NAME.match(path.name)
    if match is None:
        return None
    return path.parent / MANIFEST_DIR / f"{match['base']}{match['suffix']}{MANIFEST_SUFFIX}"


def split_original(path: Path) -> Path | None:
    """The original the part ``path`` was most likely split from (``../NAME.csv`` beside ``prepared/``, the
    ``-2``… of a later split taken off), when it is there; else None."""
    match = _PART_NAME.match(Path(path).name)
    if match is None:
        return None
    base = match["base"]
    for stem in (base, re.sub(r"-[0-9]+\Z", "", base)):
        candidate = Path(path).parent.parent / f"{stem}{match['suffix']}"
        if os.path.isfile(candidate):
            return candidate
    return None


def _signature(path: Path) -> Any:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def _read_set(folder: Path, base: str, suffix: str, manifest: Path) -> dict[str, int] | str:
    """The parts the split's list names, with their sizes, when the folder holds exactly those at those sizes;
    else why not (one line)."""
    import json

    shown = f"{PREPARED}/{MANIFEST_DIR}/{manifest.name}"
    try:
        raw = storage.read_small_file(manifest)
    except FileNotFoundError:
        return "the split that made it did not finish (there is no list of its parts)"
    except OSError as exc:
        return f"its list of parts ({shown}) cannot be read: {exc.strerror or exc}"
    try:
        data = json.loads(raw.decode("utf-8"))
        listed = {str(part["name"]): int(part["size"]) for part in data["parts"]}
        if not listed or any(size < 0 for size in listed.values()) or len(listed) != len(data["parts"]):
            raise ValueError
    except (ValueError, TypeError, KeyError, UnicodeDecodeError):
        return f"its list of parts ({shown}) is damaged"
    pattern = re.compile(re.escape(base) + r"\.part[0-9]+" + re.escape(suffix) + r"\Z", re.DOTALL)
    try:
        present = {name for name in os.listdir(folder) if pattern.match(name)}
    except OSError as exc:
        return f"{PREPARED}/ cannot be read: {exc.strerror or exc}"
    extra = sorted(present - listed.keys())
    if extra:
        return f"{extra[0]} is not one of the {len(listed)} parts the split wrote"
    for number, (name, size) in enumerate(listed.items(), start=1):
        try:
            st = os.stat(folder / name)
        except OSError:
            return f"part {number} of {len(listed)} ({name}) is missing"
        if st.st_size != size:
            return f"{name} is {st.st_size:,} bytes, but the split wrote {size:,}"
    return listed


def split_part_problem(path: Path, size: int | None = None) -> str | None:
    """Why the file ``path``, named as a part of a split in ``prepared/``, must not be uploaded as one: the split
    did not finish (no list of its parts), or the parts there do not match the list (one missing, one extra,
    one of another size). None when it is not named as a part, or belongs to a complete set.

    The list of a set is read once per change of the folder or the list; the part's own size is checked on
    every call.
    """
    path = Path(path)
    if not looks_like_part(path):
        return None
    manifest = manifest_path(path)
    assert manifest is not None
    match = _PART_NAME.match(path.name)
    assert match is not None
    folder = path.parent
    key = (os.fspath(folder), match["base"], match["suffix"])
    signature = (_signature(folder), _signature(manifest))
    cached = _set_cache.get(key)
    if cached is not None and cached[:2] == signature:
        result = cached[2]
    else:
        result = _read_set(folder, match["base"], match["suffix"], manifest)
        if len(_set_cache) > 256:
            _set_cache.clear()
        _set_cache[key] = (*signature, result)
    if isinstance(result, str):
        return result
    if size is None:
        try:
            size = os.stat(path).st_size
        except OSError as exc:
            return f"it cannot be read: {exc.strerror or exc}"
    expected = result.get(path.name)
    if expected is None:
        return f"{path.name} is not one of the {len(result)} parts the split wrote"
    if size != expected:
        return f"{path.name} is {size:,} bytes, but the split wrote {expected:,}"
    return None


@dataclass(frozen=True, slots=True)
class SplitSet:
    """What the list of a split's parts says: the table they were cut from, the parts in order, and the table's
    data rows (None when the split could not count them cheaply, or an older Liferaft wrote the list)."""

    source: str
    parts: tuple[str, ...]
    rows: int | None


def read_split_set(part: Path) -> SplitSet | None:
    """The list of the parts the part ``part`` belongs to, or None when it is not a part or the list cannot be
    read (:func:`split_part_problem` says why; a part in an unusable set is never uploaded anyway)."""
    import json

    manifest = manifest_path(Path(part))
    if manifest is None:
        return None
    try:
        data = json.loads(storage.read_small_file(manifest).decode("utf-8"))
        parts = tuple(str(entry["name"]) for entry in data["parts"])
        source = str(data.get("source") or "")
        rows = data.get("rows")
    except (OSError, ValueError, TypeError, KeyError, UnicodeDecodeError):
        return None
    if not isinstance(rows, int) or isinstance(rows, bool) or rows < 0:
        rows = None
    return SplitSet(source, parts, rows)


# --- re-encode -------------------------------------------------------------------------------------------


def _delimiter(path: Path, decoded: Any) -> tuple[str, bool]:
    """The delimiter a table's columns are separated by, as the preview tells it, and whether one was found."""
    from liferaft.core.inspect.delimited import sniff_delimiter
    from liferaft.core.roles import kind_from_name

    preferred = "\t" if kind_from_name(path.name) == "tsv" else ","
    found = sniff_delimiter(decoded.text, preferred)
    return found or preferred, found is not None


def _delimiter_name(delimiter: str) -> str:
    from liferaft.core.inspect.delimited import DELIMITER_NAMES

    return DELIMITER_NAMES.get(delimiter, repr(delimiter))


def _ascii_compatible(codec: str) -> bool:
    """Whether ``codec`` writes line breaks, tabs, commas, semicolons and quotes as the ASCII bytes."""
    try:
        return '\n\t,;"|'.encode(codec) == b'\n\t,;"|'
    except (LookupError, UnicodeError):
        return False


def _shape(chunks: Iterator[bytes], keep: bytes) -> Iterator[bytes]:
    """Only the bytes ``keep`` (line feeds and a delimiter) of ``chunks``: the shape of a table, in order."""
    drop = bytes(byte for byte in range(256) if byte not in keep)
    for chunk in chunks:
        yield chunk.translate(None, drop)


def _original_bytes(source: BinaryIO, decoded: Any) -> Iterator[bytes]:
    """The original read again from its bytes, as they are when its encoding writes ASCII as ASCII (the shape of
    the table is then in the bytes, whatever the guess), else decoded afresh and encoded as UTF-8."""
    source.seek(decoded.bom)
    decoder = None if _ascii_compatible(decoded.codec) else \
        codecs.getincrementaldecoder(decoded.codec)(errors="replace")
    while True:
        chunk = source.read(CHUNK)
        yield chunk if decoder is None else decoder.decode(chunk, final=not chunk).encode("utf-8")
        if not chunk:
            return


def _written_bytes(fd: int) -> Iterator[bytes]:
    """The copy being written (its temporary file, by its descriptor), read back from the start."""
    offset = 0
    while True:
        chunk = os.pread(fd, CHUNK, offset)
        if not chunk:
            return
        offset += len(chunk)
        yield chunk


def _shape_mismatch(original: Iterator[bytes], copy: Iterator[bytes]) -> int | None:
    """The line (from 1) where two shapes (see :func:`_shape`) first differ, or None when they are the same."""
    ahead: list[bytes] = [b"", b""]
    done = [False, False]
    sources = (original, copy)
    line = 1
    while True:
        for side in (0, 1):
            while len(ahead[side]) < CHUNK and not done[side]:
                chunk = next(sources[side], None)
                if chunk is None:
                    done[side] = True
                else:
                    ahead[side] += chunk
        count = min(len(ahead[0]), len(ahead[1]))
        if ahead[0][:count] != ahead[1][:count]:
            same = next(index for index in range(count) if ahead[0][index] != ahead[1][index])
            return line + ahead[0].count(b"\n", 0, same)
        line += ahead[0].count(b"\n", 0, count)
        ahead = [ahead[0][count:], ahead[1][count:]]
        if done[0] and done[1]:
            return line if ahead[0] or ahead[1] else None
        if (done[0] and not ahead[0] and ahead[1]) or (done[1] and not ahead[1] and ahead[0]):
            return line


def _fields_mismatch(path: Path, decoded: Any, source: BinaryIO, delimiter: str, skipped: int,
                     fd: int) -> int | None:
    """The record (from 1, in the copy) where the comma-separated copy being written (descriptor ``fd``) has
    another number of cells than the original has, or None. The original is parsed again from its bytes when its
    encoding writes ASCII as ASCII (so its rows and cells do not depend on the guess), the copy is read back."""
    from dataclasses import replace

    view = replace(decoded, codec="latin-1") if _ascii_compatible(decoded.codec) else decoded
    with os.fdopen(os.dup(fd), "rb") as copy, \
            contextlib.closing(_records(path, view, source, delimiter)) as original, \
            contextlib.closing(_records(path, replace(decoded, codec="utf-8", bom=0), copy, ",")) as written:
        copy.seek(0)
        for _ in range(skipped):
            next(original, None)
        number = 0
        for number, (before, after) in enumerate(itertools.zip_longest(original, written), start=1):
            if before is None or after is None or len(before) != len(after):
                return number
    return None


def _wrong_reading(name: str, decoded: Any, line: int, what: str) -> PrepareError:
    return PrepareError(f"{name} read as {decoded.label} would change on line {line:,} ({what} differ from the "
                        "original's): the encoding does not fit it, so no copy was written")


def to_utf8(path: Path, *, progress: Progress | None = None) -> Prepared:
    """Re-encode ``path`` to UTF-8 (no byte-order mark), line breaks and everything else kept."""
    from liferaft.core.roles import kind_from_name

    path = Path(path)
    size = _check_source(path)
    _check_destination(path)
    decoded = _head(path)
    notes: list[str] = []
    table_delimiter = ""
    if kind_from_name(path.name) in ("csv", "tsv"):
        delimiter, found = _delimiter(path, decoded)
        table_delimiter = delimiter if found and len(delimiter) == 1 and delimiter.isascii() else ""
        if found and delimiter != "," and kind_from_name(path.name) == "csv":
            notes.append(f"the columns are still separated by a {_delimiter_name(delimiter)}: use --comma instead "
                         "for a UTF-8 copy with commas")
    if decoded.codec == "utf-8" and not decoded.bom and not decoded.replaced:
        return Prepared((), (f"{path.name} is already UTF-8: nothing to re-encode", *notes))
    stem, suffix = _split_name(path)
    folder = prepared_folder(path)
    target = free_name(folder, stem, f".utf8{suffix}")
    decoder = codecs.getincrementaldecoder(decoded.codec)(errors="replace")
    replaced = 0
    total = 0
    # The line breaks (and a table's delimiters) the copy must keep, row by row: a wrong guess loses some.
    keep = b"\n" + (table_delimiter.encode() if table_delimiter else b"")
    with _tidy(folder), open(path, "rb") as source, _new_file(target) as out:
        source.seek(decoded.bom)
        done = decoded.bom
        while True:
            chunk = source.read(CHUNK)
            text = decoder.decode(chunk, final=not chunk)
            replaced += text.count("\ufffd")
            data = text.encode("utf-8")
            out.write(data)
            total += len(data)
            done += len(chunk)
            if progress is not None:
                progress(done, size)
            if not chunk:
                break
        out.flush()
        line = _shape_mismatch(_shape(_original_bytes(source, decoded), keep),
                               _shape(_written_bytes(out.fileno()), keep))
        if line is not None:
            what = "line breaks" + (f" or {_delimiter_name(table_delimiter)}s" if table_delimiter else "")
            raise _wrong_reading(path.name, decoded, line, what)
    notes.insert(0, f"read as {decoded.label}")
    if replaced:
        notes.insert(1, f"{replaced:,} byte(s) did not fit {decoded.label.split(' (')[0]}: written as �")
    return Prepared((Written(target, total),), tuple(notes))


# --- reading a table -------------------------------------------------------------------------------------

# Fed to the csv reader after the last line: read back as a row of its own, the input ended outside quotes;
# found at the end of a cell instead, a quote was left open and took in the rest of the file.
_END = "\uffff liferaft: end of input \uffff"
_REPLACE_ERRORS = "liferaft-replace"
_replaced: Any = None


def _replacement_count() -> Any:
    """A per-thread count of the bytes the "liferaft-replace" decoding error handler turned into "�"."""
    global _replaced
    if _replaced is None:
        import threading

        counter = threading.local()

        def replace(exc: UnicodeError) -> tuple[str, int]:
            if not isinstance(exc, UnicodeDecodeError):
                raise exc
            counter.value = getattr(counter, "value", 0) + (exc.end - exc.start)
            return "\ufffd", exc.end

        codecs.register_error(_REPLACE_ERRORS, replace)
        _replaced = counter
    _replaced.value = 0
    return _replaced


def _lines(stream: io.TextIOWrapper, name: str) -> Iterator[str]:
    readline = stream.readline
    number = 0
    while True:
        line = readline(MAX_LINE)
        if not line:
            break
        number += 1
        if len(line) >= MAX_LINE and line[-1] not in "\r\n":
            raise PrepareError(f"line {number:,} of {name} is longer than {MAX_LINE // MB} million characters: "
                               "it does not look like a table")
        yield line
    yield _END


def _records(path: Path, decoded: Any, source: BinaryIO, delimiter: str) -> Iterator[list[str]]:
    """The records of the table ``source`` (opened from ``path``), decoded; raises :class:`PrepareError` for a
    quote never closed, a cell over :data:`MAX_CELL` characters or a line over :data:`MAX_LINE`."""
    source.seek(decoded.bom)
    stream = io.TextIOWrapper(source, encoding=decoded.codec, errors=_REPLACE_ERRORS, newline="")
    reader = csv.reader(_lines(stream, path.name), delimiter=delimiter, quotechar='"', strict=False)
    previous_limit = csv.field_size_limit(MAX_CELL)
    line = 0
    try:
        for fields in reader:
            if fields and fields[-1].endswith(_END):
                if len(fields) == 1 and fields[0] == _END:
                    return
                raise PrepareError(f"a quote opened on line {line + 1:,} of {path.name} is never closed: everything "
                                   "after it would be one cell (close it in the original program and export again)")
            line = reader.line_num
            yield fields
    except csv.Error as exc:
        if "field limit" in str(exc):
            raise PrepareError(f"a cell from line {line + 1:,} of {path.name} is longer than {MAX_CELL // MB} "
                               "million characters (or a quote is never closed)") from None
        raise PrepareError(f"cannot read {path.name} at line {reader.line_num:,}: {exc}") from None
    finally:
        csv.field_size_limit(previous_limit)
        with contextlib.suppress(ValueError):  # the file may be closed already
            stream.detach()


# --- comma-separated ---------------------------------------------------------------------------------------


def to_comma(path: Path, *, progress: Progress | None = None) -> Prepared:
    """Write the table ``path`` as UTF-8 with commas between the columns: re-encoded from the encoding it is in
    and re-delimited in the same pass, each cell quoted as CSV needs, blank lines above the header left out.
    Line breaks stay as they were."""
    from liferaft.core.inspect.text import line_endings

    path = Path(path)
    size = _check_source(path)
    _check_destination(path)
    decoded = _head(path)
    delimiter, _found = _delimiter(path, decoded)
    utf8 = decoded.codec == "utf-8" and not decoded.bom and not decoded.replaced
    first_line = decoded.text.split("\n", 1)[0]
    blank_start = not first_line.replace(delimiter, "").strip()
    if delimiter == "," and utf8 and not blank_start:
        return Prepared((), (f"{path.name} is already UTF-8 with commas: nothing to change",))
    stem, _ = _split_name(path)
    folder = prepared_folder(path)
    target = free_name(folder, stem, ".comma.csv")
    terminator = "\r\n" if line_endings(decoded.text[:65536]).startswith("CRLF") else "\n"
    replaced = _replacement_count()
    records = 0
    skipped = 0
    with _tidy(folder), open(path, "rb") as source, _new_file(target) as out:
        text_out = io.TextIOWrapper(out, encoding="utf-8", newline="")
        writer = csv.writer(text_out, lineterminator=terminator)
        writerow = writer.writerow
        rows = _records(path, decoded, source, delimiter)
        for fields in rows:  # blank lines above the header: a new chat would take them for the column names
            if any(cell.strip() for cell in fields):
                writerow(fields)
                records += 1
                break
            skipped += 1
        for fields in rows:
            writerow(fields)
            if fields:
                records += 1
                if progress is not None and records % 20000 == 0:
                    progress(source.tell(), size)
        text_out.flush()
        text_out.detach()
        line = _fields_mismatch(path, decoded, source, delimiter, skipped, out.fileno())
        if line is not None:
            raise _wrong_reading(path.name, decoded, line, "the rows or the cells in a row")
        if progress is not None:  # before the copy is put in place: a cancel here still leaves nothing
            progress(size, size)
    notes = [f"read as {decoded.label}, columns separated by a {_delimiter_name(delimiter)}"]
    if skipped:
        notes.append(f"left out {skipped} blank line(s) above the header")
    if replaced.value:
        notes.append(f"{replaced.value:,} byte(s) did not fit {decoded.label.split(' (')[0]}: written as �")
    return Prepared((Written(target, os.path.getsize(target), max(records - 1, 0)),), tuple(notes))


# --- drop columns ----------------------------------------------------------------------------------------


def drop_columns(path: Path, names: Sequence[str], *, progress: Progress | None = None) -> Prepared:
    """Write ``path`` without the columns ``names``, as UTF-8 with commas."""
    path = Path(path)
    wanted = [name.strip() for name in names if name.strip()]
    if not wanted:
        raise PrepareUsage("no column names given: list them as A,B")
    size = _check_source(path)
    _check_destination(path)
    decoded = _head(path)
    stem, _ = _split_name(path)
    folder = prepared_folder(path)
    target = free_name(folder, stem, ".trimmed.csv")
    delimiter, _found = _delimiter(path, decoded)
    with open(path, "rb") as source, contextlib.closing(_records(path, decoded, source, delimiter)) as reader:
        header: list[str] | None = None
        skipped = 0
        for fields in reader:
            if fields and any(cell.strip() for cell in fields):
                header = fields
                break
            skipped += 1
        if header is None:
            raise PrepareError(f"{path.name} has no header row: there are no columns to drop")
        stripped = [cell.strip() for cell in header]
        missing = [name for name in wanted if name not in stripped]
        if missing:
            listed = ", ".join(repr(cell) for cell in stripped[:40]) + ("…" if len(stripped) > 40 else "")
            raise PrepareUsage(f"no column {missing[0]!r} in {path.name}; its columns are: {listed}")
        keep = [index for index, cell in enumerate(stripped) if cell not in wanted]
        if not keep:
            raise PrepareUsage("that would drop every column: nothing would be left")
        rows = 0
        with _tidy(folder), _new_file(target) as out:
            text_out = io.TextIOWrapper(out, encoding="utf-8", newline="")
            writer = csv.writer(text_out, lineterminator="\n")
            writer.writerow([header[index] for index in keep])
            for fields in reader:
                if not fields:
                    continue
                writer.writerow([fields[index] if index < len(fields) else "" for index in keep])
                rows += 1
                if progress is not None and rows % 20000 == 0:
                    progress(source.tell(), size)
            if progress is not None:  # before the copy is put in place: a cancel here still leaves nothing
                progress(size, size)
            text_out.flush()
            text_out.detach()
    notes = [f"dropped {len(header) - len(keep)} column(s); read as {decoded.label}"]
    if skipped:
        notes.append(f"left out {skipped} blank line(s) above the header")
    return Prepared((Written(target, os.path.getsize(target), rows),), tuple(notes))


# --- a clearer name --------------------------------------------------------------------------------------

def new_name_for(path: Path, new_name: str) -> str:
    """The file name :func:`copy_as` gives a copy of ``path`` asked to be called ``new_name``: surrounding
    blanks taken off, and the original's extension added when ``new_name`` has none it knows.

    Raises :class:`PrepareUsage` for a name that cannot be one: empty, ``.`` or ``..``, a path (with ``/`` or
    ``\\``), a hidden name, control characters or line breaks, bytes that are not text, over 255 bytes.
    """
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
    name = name.rstrip(". ")
    original = Path(path).name
    extension = original[original.rfind("."):] if original.rfind(".") > 0 else ""
    if extension and kind_from_name(name) is None and not name.lower().endswith(extension.lower()):
        name += extension
    if len(os.fsencode(name)) > 255:
        raise PrepareUsage(f"the new name is {len(os.fsencode(name))} bytes long: at most 255 fit in a file name")
    return name


def copy_as(path: Path, new_name: str, *, progress: Progress | None = None) -> Prepared:
    """Copy ``path`` under a clearer name into ``prepared/`` next to it; the original keeps its name.

    The name is checked by :func:`new_name_for` first (:class:`PrepareUsage` when it cannot be used). A name
    already taken gets a numeric suffix, as every prepared file does, and a note says so.
    """
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
    if name != new_name.strip().rstrip(". "):
        notes.append(f"named {name} (the extension of {path.name} kept)")
    if target.name != name:
        notes.append(f"{name} is already taken in {PREPARED}/: the copy is {target.name}")
    return Prepared((Written(target, size),), tuple(notes))


# --- workbook sheet --------------------------------------------------------------------------------------


def _slug(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", value).strip("_").lower()[:40] or "sheet"


def _cell(cell: Any) -> str:
    from liferaft.core.inspect.workbook import cell_text

    value = getattr(cell, "value", None)
    if isinstance(value, str):
        return value  # in full: the preview cuts long cells, an export must not
    return cell_text(cell)[0]


def sheet_names(path: Path) -> tuple[str, ...]:
    with _open_workbook(Path(path)) as workbook:
        return tuple(str(name) for name in workbook.sheetnames)


@contextlib.contextmanager
def _open_workbook(path: Path) -> Iterator[Any]:
    import warnings
    import zipfile

    from liferaft.core.inspect.workbook import _open_read_only, check_archive

    _check_source(path)
    with open(path, "rb") as handle:
        if not handle.read(4).startswith(b"PK"):
            raise PrepareError(f"{path.name} is not an .xlsx workbook (it is not a zip archive)")
        handle.seek(0)
        try:
            with zipfile.ZipFile(handle) as archive:
                refusal = check_archive(archive, path.name)
        except (zipfile.BadZipFile, EOFError, ValueError):
            raise PrepareError(f"{path.name} is damaged or cut short (its zip directory is missing)") from None
        if refusal:
            raise PrepareError(refusal)
        handle.seek(0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                workbook = _open_read_only(handle)
            except Exception as exc:
                raise PrepareError(f"cannot read {path.name}: {str(exc).strip().splitlines()[0:1]}") from None
            try:
                yield workbook
            finally:
                workbook.close()


def export_sheet(path: Path, sheet: str, *, progress: Progress | None = None) -> Prepared:
    """Write the sheet ``sheet`` of the workbook ``path`` as a UTF-8 CSV with commas."""
    path = Path(path)
    _check_destination(path)
    with _open_workbook(path) as workbook:
        names = [str(name) for name in workbook.sheetnames]
        if sheet not in names:
            raise PrepareUsage(f"no sheet {sheet!r} in {path.name}; its sheets are: "
                               + ", ".join(repr(name) for name in names))
        ws = workbook[sheet]
        if not hasattr(ws, "iter_rows"):
            raise PrepareError(f"{sheet} is a chart sheet: it holds a chart, not cells")
        declared = getattr(ws, "declared", None)
        ws.reset_dimensions()
        # First pass: which columns hold a value, so that a stray cell far right (XFD1) does not make every
        # row 16,384 cells wide. Second pass: write those.
        counted, keep, dropped = _used_columns(ws, declared[3] if declared else 0, progress, sheet, path.name)
        if not keep:
            raise PrepareError(f"sheet {sheet!r} of {path.name} is empty: there is nothing to export")
        stem = _clean_stem(path.name[: -len(path.suffix)] if path.suffix else path.name)
        target = free_name(prepared_folder(path), stem, f".{_slug(sheet)}.csv")
        rows = 0
        header = False
        blank_run = 0
        blank = [""] * len(keep)
        with _tidy(target.parent), _new_file(target) as out:
            text_out = io.TextIOWrapper(out, encoding="utf-8", newline="")
            writer = csv.writer(text_out, lineterminator="\n")
            try:
                for number, row in enumerate(ws.iter_rows(), start=1):
                    width = len(row)
                    cells = [_cell(row[index]) if index < width else "" for index in keep]
                    if cells == blank:
                        blank_run += header  # blank rows above the header and at the end are left out
                        continue
                    if header:
                        for _ in range(blank_run):
                            writer.writerow(blank)
                        rows += blank_run
                        rows += 1
                    header = True
                    blank_run = 0
                    writer.writerow(cells)
                    if progress is not None and number % 1000 == 0:
                        progress(counted + min(number, counted), 2 * counted)
            except Exception as exc:
                raise PrepareError(f"cannot read sheet {sheet!r} of {path.name}: {exc}") from None
            if progress is not None:  # before the copy is put in place: a cancel here still leaves nothing
                progress(2 * counted, 2 * counted)
            text_out.flush()
            text_out.detach()
    notes = ()
    if dropped:
        from openpyxl.utils import get_column_letter

        far = ", ".join(get_column_letter(index + 1) for index in keep if index > dropped[0][0])
        left = sum(last - first + 1 for first, last in dropped)
        notes = (f"{left:,} empty column(s) left out (a value far to the right, in {far}, was kept next to the "
                 "data): check that it belongs there",)
    return Prepared((Written(target, os.path.getsize(target), rows),), notes)


#: Empty columns in a row (no value in any row of the sheet) up to this many are kept between used ones; a wider
#: gap is left out of an export, with a note.
SHEET_GAP = 64


def _used_columns(ws: Any, declared_rows: int, progress: Progress | None, sheet: str,
                  name: str) -> tuple[int, list[int], list[tuple[int, int]]]:
    """(rows read, the column offsets to export, the runs of empty columns left out) of the read-only sheet
    ``ws``: every column up to the last that holds a value, except runs of more than :data:`SHEET_GAP` columns
    with no value at all (the empty tail is never kept)."""
    used: set[int] = set()
    number = 0
    try:
        for number, row in enumerate(ws.iter_rows(values_only=True), start=1):
            used.update(index for index, value in enumerate(row) if value is not None and value != "")
            if progress is not None and number % 1000 == 0:
                total = max(declared_rows, number)
                progress(number, 2 * total)
    except Exception as exc:
        raise PrepareError(f"cannot read sheet {sheet!r} of {name}: {exc}") from None
    keep: list[int] = []
    dropped: list[tuple[int, int]] = []
    previous = -1
    for index in sorted(used):
        if index - previous - 1 > SHEET_GAP and keep:
            dropped.append((previous + 1, index - 1))
        else:
            keep.extend(range(previous + 1, index))
        keep.append(index)
        previous = index
    return number, keep, dropped

