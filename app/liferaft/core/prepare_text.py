"""The table and text fixers that rewrite records: :func:`to_utf8` (re-encode), :func:`to_comma` (UTF-8 with
commas, re-encoded and re-delimited in one pass), :func:`drop_columns`, :func:`strip_nul` and :func:`skip_rows`
(title lines above the header left out), each streaming in bounded memory and each reading its copy back against
the original before publishing it.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import itertools
import os
from collections.abc import Generator, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from liferaft.core import storage
from liferaft.core.prepare_common import (
    CHUNK,
    HEAD_BYTES,
    MAX_CELL,
    MAX_LINE,
    MB,
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

if TYPE_CHECKING:
    from liferaft.core.inspect.text import Decoded


def _delimiter(path: Path, decoded: Decoded) -> tuple[str, bool]:
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


def _original_bytes(source: BinaryIO, decoded: Decoded) -> Iterator[bytes]:
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
        chunk = storage.read_at(fd, CHUNK, offset)
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


def _decoded_bytes(source: BinaryIO, decoded: Decoded) -> Iterator[bytes]:
    """The original decoded afresh as ``decoded`` tells (bytes that do not fit become "�") and encoded as UTF-8:
    what a re-encoded copy must hold, byte for byte."""
    source.seek(decoded.bom)
    decoder = codecs.getincrementaldecoder(decoded.codec)(errors="replace")
    while True:
        chunk = source.read(CHUNK)
        yield decoder.decode(chunk, final=not chunk).encode("utf-8")
        if not chunk:
            return


def _records_mismatch(path: Path, decoded: Decoded, source: BinaryIO, delimiter: str, skipped: int, fd: int, *,
                      columns: Sequence[int] | None = None, width: int = 0,
                      blank_rows: bool = True) -> tuple[int, str] | None:
    """The record (from 1, in the copy) where the comma-separated UTF-8 copy being written (descriptor ``fd``)
    differs from the original, and what differs (the rows, the cells in a row, a cell's value), or None.

    Both are parsed again, streaming: the original from its bytes when its encoding writes ASCII as ASCII (so its
    rows and cells do not depend on the guess; each cell is then decoded on its own), the copy read back.
    ``columns`` (the original's columns the copy keeps, in order, of the header's ``width``) and ``blank_rows``
    (False: the copy leaves blank lines out) describe what the copy is meant to hold."""
    from dataclasses import replace

    by_bytes = _ascii_compatible(decoded.codec)
    view = replace(decoded, codec="latin-1") if by_bytes else decoded
    codec = decoded.codec
    with os.fdopen(os.dup(fd), "rb") as copy, \
            contextlib.closing(_records(path, view, source, delimiter)) as original, \
            contextlib.closing(_records(path, replace(decoded, codec="utf-8", bom=0), copy, ",")) as written:
        copy.seek(0)
        for _ in range(skipped):
            next(original, None)
        before_rows: Iterator[list[str]] = original if blank_rows else (row for row in original if row)
        number = 0
        for number, (before, after) in enumerate(itertools.zip_longest(before_rows, written), start=1):
            if before is None or after is None:
                return number, "the number of rows"
            if by_bytes:
                before = [cell.encode("latin-1").decode(codec, "replace") for cell in before]
            if columns is not None:
                if any(cell.strip() for cell in before[width:]):
                    return number, "cells past the header's columns (the copy would lose them)"
                before = [before[index] if index < len(before) else "" for index in columns] if before else []
            if len(before) != len(after):
                return number, "the number of cells"
            if before != after:
                return number, "a cell's value"
    return None


def _wrong_reading(name: str, decoded: Decoded, line: int, what: str) -> PrepareError:
    return PrepareError(f"{name} read as {decoded.label} would change on line {line:,} ({what} differ from the "
                        "original's): the encoding does not fit it, so no copy was written")


def _not_verified(name: str, record: int, what: str) -> PrepareError:
    return PrepareError(f"the copy of {name} did not read back as the original: {what} differ at record "
                        f"{record:,}, so no copy was written")


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
        # Then every character: the copy must be the original's text, as read, and nothing else.
        line = _shape_mismatch(_decoded_bytes(source, decoded), _written_bytes(out.fileno()))
        if line is not None:
            raise PrepareError(f"the copy of {path.name} did not read back as the original: the text differs on "
                               f"line {line:,}, so no copy was written")
    notes.insert(0, f"read as {decoded.label}")
    if replaced:
        notes.insert(1, f"{replaced:,} byte(s) did not fit {decoded.label.split(' (')[0]}: written as �")
    return Prepared((Written(target, total),), tuple(notes))


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


def _records(path: Path, decoded: Decoded, source: BinaryIO, delimiter: str) -> Generator[list[str], None, None]:
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
        replaced_bytes = replaced.value  # the check below reads the original again
        mismatch = _records_mismatch(path, decoded, source, delimiter, skipped, out.fileno())
        if mismatch is not None:
            record, what = mismatch
            if what == "a cell's value":
                raise _not_verified(path.name, record, what)
            raise _wrong_reading(path.name, decoded, record, what)
        if progress is not None:  # before the copy is put in place: a cancel here still leaves nothing
            progress(size, size)
    notes = [f"read as {decoded.label}, columns separated by a {_delimiter_name(delimiter)}"]
    if skipped:
        notes.append(f"left out {skipped} blank line(s) above the header")
    if replaced_bytes:
        notes.append(f"{replaced_bytes:,} byte(s) did not fit {decoded.label.split(' (')[0]}: written as �")
    return Prepared((Written(target, os.path.getsize(target), max(records - 1, 0)),), tuple(notes))


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
            text_out.flush()
            text_out.detach()
            mismatch = _records_mismatch(path, decoded, source, delimiter, skipped, out.fileno(), columns=keep,
                                         width=len(header), blank_rows=False)
            if mismatch is not None:
                record, what = mismatch
                raise _not_verified(path.name, record, what)
            if progress is not None:  # before the copy is put in place: a cancel here still leaves nothing
                progress(size, size)
    notes = [f"dropped {len(header) - len(keep)} column(s); read as {decoded.label}"]
    if skipped:
        notes.append(f"left out {skipped} blank line(s) above the header")
    return Prepared((Written(target, os.path.getsize(target), rows),), tuple(notes))


def _without_nuls(chunks: Iterator[bytes]) -> Iterator[bytes]:
    for chunk in chunks:
        yield chunk.replace(b"\x00", b"")


def strip_nul(path: Path, *, progress: Progress | None = None) -> Prepared:
    """Write ``path`` without its stray NUL bytes, every other byte as it is (encoding, delimiter, line breaks)."""
    path = Path(path)
    size = _check_source(path)
    _check_destination(path)
    decoded = _head(path)
    if not _ascii_compatible(decoded.codec):
        raise PrepareError(f"{path.name} is {decoded.label}, whose characters hold zero bytes: write a UTF-8 copy "
                           "(--utf8) instead")
    stem, suffix = _split_name(path)
    folder = prepared_folder(path)
    target = free_name(folder, stem, f".no-nul{suffix}")
    removed = 0
    total = 0
    with _tidy(folder), open(path, "rb") as source, _new_file(target) as out:
        done = 0
        while True:
            chunk = source.read(CHUNK)
            if not chunk:
                break
            data = chunk.replace(b"\x00", b"")
            removed += len(chunk) - len(data)
            out.write(data)
            total += len(data)
            done += len(chunk)
            if progress is not None:
                progress(done, size)
        out.flush()
        if not removed:
            raise PrepareError(f"{path.name} holds no NUL bytes: there is nothing to remove")
        # The copy must be the original, byte for byte, less its NUL bytes.
        source.seek(0)
        line = _shape_mismatch(_without_nuls(iter(lambda: source.read(CHUNK), b"")), _written_bytes(out.fileno()))
        if line is not None:
            raise PrepareError(f"the copy of {path.name} did not read back as the original less its NUL bytes: it "
                               f"differs on line {line:,}, so no copy was written")
    plural = "s" if removed != 1 else ""
    return Prepared((Written(target, total),), (f"removed {removed:,} NUL byte{plural}; every other byte is as it "
                                                "was", ))


#: The most lines ``skip_rows`` leaves out: title lines sit at the top of a table, not a thousand lines down.
MAX_SKIP = 1000


def _line_break(decoded: Decoded) -> bytes:
    """The line break a table's lines end with, in its encoding (``\\r`` for old Mac files, else ``\\n``)."""
    from liferaft.core.inspect.text import line_endings

    return "\r".encode(decoded.codec) if line_endings(decoded.text[:65536]) == "CR" else decoded.newline


def _after_lines(head: bytes, start: int, count: int, newline: bytes) -> int | None:
    """The offset in ``head`` just after the ``count``-th line break from ``start`` (on a character boundary of
    the encoding, whose line break is ``newline``), or None when ``head`` holds fewer."""
    offset = start
    for _ in range(count):
        found = head.find(newline, offset)
        while found != -1 and (found - start) % len(newline):
            found = head.find(newline, found + 1)
        if found == -1:
            return None
        offset = found + len(newline)
    return offset


def skip_rows(path: Path, count: int, *, progress: Progress | None = None) -> Prepared:
    """Write ``path`` without its first ``count`` lines (title lines above the header), every byte after them as
    it is (and a byte-order mark kept). The copy is read back: the same bytes after the lines left out, and the
    same records."""
    path = Path(path)
    if count < 1 or count > MAX_SKIP:
        raise PrepareUsage(f"the number of lines to skip must be 1 to {MAX_SKIP:,}, not {count}")
    size = _check_source(path)
    _check_destination(path)
    decoded = _head(path)
    delimiter, _found = _delimiter(path, decoded)
    newline = _line_break(decoded)
    with open(path, "rb") as source:
        head = source.read(HEAD_BYTES)
    cut = _after_lines(head, decoded.bom, count, newline)
    if cut is None:
        raise PrepareUsage(f"{path.name} has fewer than {count + 1} lines in its first {HEAD_BYTES // (1 << 20)} MB: "
                           f"skipping {count} would leave no table")
    skipped_text = head[decoded.bom : cut].decode(decoded.codec, "replace")
    try:
        skipped = sum(1 for _ in csv.reader(io.StringIO(skipped_text, newline=""), delimiter=delimiter, strict=True))
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):
            raise PrepareError(f"line {count:,} of {path.name} ends inside a quoted cell: skipping {count} line(s) "
                               "would cut a record in two, so no copy was written") from None
        skipped = sum(1 for _ in csv.reader(io.StringIO(skipped_text, newline=""), delimiter=delimiter))
    rest = head[cut:].decode(decoded.codec, "replace")
    if not rest.replace(delimiter, "").strip():
        raise PrepareUsage(f"skipping {count} line(s) of {path.name} would leave no table")
    header = next(iter(rest.splitlines()), "")
    stem, suffix = _split_name(path)
    folder = prepared_folder(path)
    target = free_name(folder, stem, f".skip{count}{suffix}")

    def original_rest(source: BinaryIO) -> Iterator[bytes]:
        yield head[: decoded.bom]
        source.seek(cut)
        yield from iter(lambda: source.read(CHUNK), b"")

    records = 0
    with _tidy(folder), open(path, "rb") as source, _new_file(target) as out:
        done = cut
        for chunk in original_rest(source):
            out.write(chunk)
            done += len(chunk)
            if progress is not None:
                progress(min(done, size), size)
        out.flush()
        # The copy must be the original's bytes after the lines left out, byte for byte...
        line = _shape_mismatch(original_rest(source), _written_bytes(out.fileno()))
        if line is not None:
            raise PrepareError(f"the copy of {path.name} did not read back as the original after line {count:,}: "
                               f"it differs on line {line:,} of the copy, so no copy was written")
        # ...and hold the same records as the original after the records those lines made.
        with os.fdopen(os.dup(out.fileno()), "rb") as copy, \
                contextlib.closing(_records(path, decoded, source, delimiter)) as before_rows, \
                contextlib.closing(_records(path, decoded, copy, delimiter)) as after_rows:
            for _ in range(skipped):
                next(before_rows, None)
            for number, (before, after) in enumerate(itertools.zip_longest(before_rows, after_rows), start=1):
                if before != after:
                    raise _not_verified(path.name, number, "the rows" if before is None or after is None
                                        else "the cells")
                records += 1 if after else 0
    shown = header if len(header) <= 100 else header[:99] + "…"
    notes = (f"left out the first {count:,} line(s) ({skipped:,} record(s)); every byte after them is as it was",
             f"the first line is now: {shown}")
    return Prepared((Written(target, os.path.getsize(target), max(records - 1, 0)),), notes)
