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

Errors are :class:`PrepareError` (the fixer ran but failed) or :class:`PrepareUsage` (the request names a
sheet or a column the file does not have); either way nothing half-written is left behind.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import os
import re
import stat
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from liferaft.core.storage import atomic_writer

#: Decimal megabytes, as the upload limits are given.
MB = 1000 * 1000
#: The size of each read while streaming.
CHUNK = 4 << 20
#: The folder the prepared files go in, next to the original.
PREPARED = "prepared"
#: How far the encoding and delimiter are told from (as the preview does).
HEAD_BYTES = 1 << 20

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


def _check_source(path: Path) -> int:
    """The size of ``path``, after making sure it is a regular file (a pipe is never opened)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
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
    return Path(path).parent / PREPARED


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
    return stem or "file", suffix


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


def _last_boundary(buf: bytes, end: int, quotes: int) -> tuple[int, int] | None:
    """The offset just after the last line feed outside quotes before ``end``, and the quotes before it.

    ``buf`` starts outside quotes and holds ``quotes`` quote characters in all: only the bytes after the
    line feeds looked at are counted again, so each byte is counted about once.
    """
    high = len(buf)
    while True:
        newline = buf.rfind(b"\n", 0, min(high, end))
        if newline < 0:
            return None
        quotes -= buf.count(b'"', newline, high)
        if quotes % 2 == 0:
            return newline + 1, quotes
        high = newline


def split_csv(path: Path, limit_mb: float, *, progress: Progress | None = None) -> Prepared:
    """Cut ``path`` into parts of at most ``limit_mb`` MB, each starting with the header row."""
    path = Path(path)
    if not (limit_mb > 0) or limit_mb != limit_mb or limit_mb == float("inf"):
        raise PrepareUsage(f"the part size must be a positive number of MB, not {limit_mb!r}")
    limit = int(limit_mb * MB)
    size = _check_source(path)
    decoded = _head(path)
    if decoded.codec.startswith(("utf-16", "utf-32")):
        raise PrepareError(f"{path.name} is {decoded.label}: re-encode it to UTF-8 first (--utf8), then split that")
    stem, suffix = _split_name(path)
    folder = prepared_folder(path)
    written: list[Written] = []
    try:
        with open(path, "rb", buffering=0) as source:
            if hasattr(os, "posix_fadvise"):
                os.posix_fadvise(source.fileno(), 0, 0, os.POSIX_FADV_SEQUENTIAL)
            buf = b""
            eof = False
            while True:  # the header: the first record
                cut = _first_boundary(buf)
                if cut is not None or eof:
                    break
                if len(buf) > limit:
                    raise PrepareError(f"the header row of {path.name} is longer than {limit_mb:g} MB")
                chunk = source.read(CHUNK)
                eof = not chunk
                buf += chunk
            if cut is not None and cut >= len(buf) and not eof:
                chunk = source.read(CHUNK)
                eof = not chunk
                buf += chunk
            if cut is None or cut >= len(buf):
                raise PrepareError(f"{path.name} holds only a header row: there are no rows to split")
            if size <= limit:
                return Prepared((), (f"{path.name} is already {size:,} bytes, within {limit_mb:g} MB: "
                                     "nothing to split",))
            header, buf = buf[:cut], buf[cut:]
            quotes = buf.count(b'"')
            if len(header) >= limit:
                raise PrepareError(f"the header row alone is {len(header):,} bytes, over {limit_mb:g} MB")
            tag = 1
            while os.path.lexists(folder / f"{stem}{'' if tag == 1 else f'-{tag}'}.part1{suffix}"):
                tag += 1
            base = stem if tag == 1 else f"{stem}-{tag}"
            done = len(header)
            part_number = 0
            while buf or not eof:
                part_number += 1
                target = folder / f"{base}.part{part_number}{suffix}"
                with _new_file(target) as out:
                    out.write(header)
                    filled = len(header)
                    while True:
                        if not eof and len(buf) < CHUNK:
                            chunk = source.read(CHUNK)
                            eof = not chunk
                            buf += chunk
                            quotes += chunk.count(b'"')
                        room = limit - filled
                        if eof and len(buf) <= room:
                            # The rest of the file, its last line maybe without a line break.
                            take, taken_quotes = len(buf), quotes
                        else:
                            take, taken_quotes = _last_boundary(buf, room, quotes) or (0, 0)
                        if take == 0:
                            if filled > len(header):
                                break  # the next record goes in the next part
                            if len(buf) < room and not eof:
                                chunk = source.read(CHUNK)  # a long record: read on
                                eof = not chunk
                                buf += chunk
                                quotes += chunk.count(b'"')
                                continue
                            raise PrepareError(
                                f"the row at byte {done:,} of {path.name} is longer than {limit_mb:g} MB "
                                "(or a quote is never closed): it cannot go into a part")
                        out.write(memoryview(buf)[:take])
                        filled += take
                        done += take
                        buf = buf[take:]
                        quotes -= taken_quotes
                        if progress is not None:
                            progress(done, size)
                        if eof and not buf:
                            break
                written.append(Written(target, filled))
    except BaseException:
        _unlink_all(written)
        raise
    return Prepared(tuple(written))


# --- re-encode -------------------------------------------------------------------------------------------


def to_utf8(path: Path, *, progress: Progress | None = None) -> Prepared:
    """Re-encode ``path`` to UTF-8 (no byte-order mark), line breaks and everything else kept."""
    path = Path(path)
    size = _check_source(path)
    decoded = _head(path)
    if decoded.codec == "utf-8" and not decoded.bom and not decoded.replaced:
        return Prepared((), (f"{path.name} is already UTF-8: nothing to re-encode",))
    stem, suffix = _split_name(path)
    target = free_name(prepared_folder(path), stem, f".utf8{suffix}")
    decoder = codecs.getincrementaldecoder(decoded.codec)(errors="replace")
    replaced = 0
    total = 0
    with open(path, "rb") as source, _new_file(target) as out:
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
    notes = [f"read as {decoded.label}"]
    if replaced:
        notes.append(f"{replaced:,} byte(s) did not fit {decoded.label.split(' (')[0]}: written as �")
    return Prepared((Written(target, total),), tuple(notes))


# --- drop columns ----------------------------------------------------------------------------------------


def _csv_reader(path: Path, decoded: Any, source: BinaryIO) -> tuple[Any, str]:
    from liferaft.core.inspect.delimited import sniff_delimiter
    from liferaft.core.roles import kind_from_name

    preferred = "\t" if kind_from_name(path.name) == "tsv" else ","
    delimiter = sniff_delimiter(decoded.text, preferred) or preferred
    source.seek(decoded.bom)
    text = io.TextIOWrapper(source, encoding=decoded.codec, errors="replace", newline="")
    csv.field_size_limit(2**31 - 1)
    return csv.reader(text, delimiter=delimiter, quotechar='"', strict=False), delimiter


def drop_columns(path: Path, names: Sequence[str], *, progress: Progress | None = None) -> Prepared:
    """Write ``path`` without the columns ``names``, as UTF-8 with commas."""
    path = Path(path)
    wanted = [name.strip() for name in names if name.strip()]
    if not wanted:
        raise PrepareUsage("no column names given: list them as A,B")
    size = _check_source(path)
    decoded = _head(path)
    stem, _ = _split_name(path)
    target = free_name(prepared_folder(path), stem, ".trimmed.csv")
    with open(path, "rb") as source:
        reader, _delimiter = _csv_reader(path, decoded, source)
        header: list[str] | None = None
        skipped = 0
        try:
            for fields in reader:
                if fields and any(cell.strip() for cell in fields):
                    header = fields
                    break
                skipped += 1
        except csv.Error as exc:
            raise PrepareError(f"cannot read {path.name}: {exc}") from None
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
        with _new_file(target) as out:
            text_out = io.TextIOWrapper(out, encoding="utf-8", newline="")
            writer = csv.writer(text_out, lineterminator="\n")
            writer.writerow([header[index] for index in keep])
            try:
                for fields in reader:
                    if not fields:
                        continue
                    writer.writerow([fields[index] if index < len(fields) else "" for index in keep])
                    rows += 1
                    if progress is not None and rows % 20000 == 0:
                        progress(source.tell(), size)
            except csv.Error as exc:
                raise PrepareError(f"cannot read {path.name} past row {rows:,}: {exc}") from None
            text_out.flush()
            text_out.detach()
        if progress is not None:
            progress(size, size)
    notes = [f"dropped {len(header) - len(keep)} column(s); read as {decoded.label}"]
    if skipped:
        notes.append(f"left out {skipped} blank line(s) above the header")
    return Prepared((Written(target, os.path.getsize(target), rows),), tuple(notes))


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
    with _open_workbook(path) as workbook:
        names = [str(name) for name in workbook.sheetnames]
        if sheet not in names:
            raise PrepareUsage(f"no sheet {sheet!r} in {path.name}; its sheets are: "
                               + ", ".join(repr(name) for name in names))
        ws = workbook[sheet]
        if not hasattr(ws, "iter_rows"):
            raise PrepareError(f"{sheet} is a chart sheet: it holds a chart, not cells")
        declared = getattr(ws, "declared", None)
        total_rows = declared[3] if declared else 0
        ws.reset_dimensions()
        stem = path.name[: -len(path.suffix)] if path.suffix else path.name
        target = free_name(prepared_folder(path), stem, f".{_slug(sheet)}.csv")
        rows = 0
        width = 0
        blank_run = 0
        with _new_file(target) as out:
            text_out = io.TextIOWrapper(out, encoding="utf-8", newline="")
            writer = csv.writer(text_out, lineterminator="\n")
            try:
                for number, row in enumerate(ws.iter_rows(), start=1):
                    cells = [_cell(cell) for cell in row]
                    while cells and cells[-1] == "":
                        cells.pop()
                    if not width:
                        if not cells:
                            continue  # blank rows above the header are left out
                        width = len(cells)
                        writer.writerow(cells)
                        continue
                    if not cells:
                        blank_run += 1  # trailing blank rows are left out, blank rows inside are kept
                        continue
                    for _ in range(blank_run):
                        writer.writerow([""] * width)
                        rows += 1
                    blank_run = 0
                    writer.writerow(cells + [""] * (width - len(cells)))
                    rows += 1
                    if progress is not None and total_rows and number % 5000 == 0:
                        progress(min(number, total_rows), total_rows)
            except Exception as exc:
                raise PrepareError(f"cannot read sheet {sheet!r} of {path.name}: {exc}") from None
            if not width:
                raise PrepareError(f"sheet {sheet!r} of {path.name} is empty: there is nothing to export")
            text_out.flush()
            text_out.detach()
    return Prepared((Written(target, os.path.getsize(target), rows),))
