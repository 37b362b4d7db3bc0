"""Verification targets: numbers a new chat checks its regenerated copy of an output against.

* a table (CSV/TSV): rows, columns and the sum of every numeric column, read as a stream (the whole file, in
  slices cut at record boundaries, quote-aware, parsed by pyarrow on two threads; memory stays around the slice
  size whatever the file's size);
* a workbook: every sheet with its rows × columns;
* an image: its size in pixels (from the header);
* a Parquet file: rows and columns (from the footer).

Nothing here raises for a bad file: :attr:`Targets.error` says "could not compute: …" in words. Results are
cached per (path, size, modification time), and :func:`targets_for` can compute off the caller's thread and
report what is not ready yet, so a composer never waits on a 1 GB file twice.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import math
import os
import re
import stat
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from liferaft.core.units import format_count, format_size

#: Bytes read per slice (each slice is parsed whole; two are in flight at a time).
SLICE_BYTES = 4 << 20
#: A single record longer than this cannot be totalled (a quote never closed reads as one endless record).
MAX_RECORD_BYTES = 64 << 20
#: Totalling a table stops after this long, and says so.
SECONDS = 30.0
#: Summing stops after this long on a big table: its sums are then those of its first rows (the prompt says how
#: many), and its rows are counted to the end by their line breaks, which is ten times faster than parsing.
SUM_SECONDS = 1.2
#: Numeric columns named one by one; the rest are counted.
SUMS_LISTED = 12
#: Cached results kept.
CACHE_ENTRIES = 256
#: Cell values read as missing, as pandas reads them: they count as rows and add nothing to a sum.
NA_VALUES = ["", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>",
             "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"]

_PLAIN_INT = re.compile(r"[+-]?\d+")
_PLAIN_DECIMAL = re.compile(r"[+-]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?")
_COMMA_DECIMAL = re.compile(r"[+-]?\d+,\d+")
_COLUMN_ERROR = re.compile(r"In CSV column #(\d+)")


@dataclass(frozen=True, slots=True)
class Targets:
    """What a regenerated copy should match. Only the parts for the file's kind are set."""

    kind: str
    """"table", "workbook", "image", "parquet" or "other"."""
    rows: int | None = None
    columns: int | None = None
    names: tuple[str, ...] = ()
    """A table's column names, in order."""
    sums: tuple[tuple[str, str], ...] = ()
    """(column, its sum as text) for each numeric column, in order."""
    unsummed: tuple[str, ...] = ()
    """Why a column that looked numeric has no sum ("score: a value 'n/a ' is not a number")."""
    sheets: tuple[tuple[str, int, int], ...] = ()
    """A workbook's (sheet, rows, columns)."""
    pixels: str = ""
    """An image's size: "1,200 × 800 px" (an SVG's as its root element says)."""
    notes: tuple[str, ...] = ()
    summed_rows: int | None = None
    """Set when the sums are those of the first rows only (a table too big to sum in time)."""
    error: str | None = None
    """Set when the targets could not be computed: "could not compute: …"."""
    seconds: float = 0.0

    def text(self) -> str:
        """The targets on one line, as the prompt gives them (a line break or control character in a file or column
        name shown escaped, :func:`liferaft.core.scan.shown_name`)."""
        from liferaft.core.scan import shown_name

        return shown_name(self._text())

    def _text(self) -> str:
        if self.error:
            return self.error
        parts: list[str] = []
        if self.kind == "table" or self.kind == "parquet":
            if self.rows is not None and self.columns is not None:
                parts.append(f"{self.rows:,} {'row' if self.rows == 1 else 'rows'} × {self.columns:,} "
                             f"{'column' if self.columns == 1 else 'columns'}")
            if self.sums:
                shown = "; ".join(f"{name} {total}" for name, total in self.sums[:SUMS_LISTED])
                more = len(self.sums) - SUMS_LISTED
                what = "column sums" if self.summed_rows is None else \
                    f"column sums of the first {self.summed_rows:,} data rows"
                parts.append(f"{what}: " + shown + (f"; and {more} more numeric columns" if more > 0 else ""))
        elif self.kind == "workbook":
            parts.append("sheets: " + "; ".join(f"{name} {rows:,} × {columns:,}"
                                                 for name, rows, columns in self.sheets[:SUMS_LISTED])
                         + (f"; and {len(self.sheets) - SUMS_LISTED} more" if len(self.sheets) > SUMS_LISTED else ""))
        elif self.kind == "image" and self.pixels:
            parts.append(self.pixels)
        return "; ".join(parts + list(self.notes))


def _fail(kind: str, why: str) -> Targets:
    return Targets(kind, error=f"could not compute: {why}")


# --- tables ------------------------------------------------------------------------------------------------


@dataclass
class _Plan:
    """How the stream of a table is read."""

    delimiter: str
    names: list[str]
    numeric: dict[int, str]
    """Column index → "int" or "float"."""
    decimal_comma: bool
    codec: str | None
    """None when the bytes can be parsed as they are (UTF-8 or a single-byte code that keeps ASCII)."""
    bom: int
    skip_lines: int
    """Physical lines before the first data row (blank lines and the header)."""
    separator: bytes
    """The line break records end with: b"\\n", or b"\\r" for old Mac files."""
    decimals: dict[int, int] = field(default_factory=dict)
    """Column index → most decimals seen in the sample (how its sum is shown)."""


def _plan(path: Path, kind: str) -> _Plan | Targets:
    from liferaft.core.inspect import text as textio
    from liferaft.core.inspect.delimited import SAMPLE_BYTES, TYPE_ROWS, sniff_delimiter

    try:
        head = textio.read_head(path, SAMPLE_BYTES)
    except OSError as exc:
        return _fail("table", f"cannot read {path.name} ({exc.strerror or exc})")
    if head.size == 0:
        return _fail("table", f"{path.name} is empty (0 bytes)")
    try:
        decoded = textio.decode_head(head.data, head.complete)
    except textio.NotText as exc:
        return _fail("table", f"{path.name} does not look like text ({exc})")
    text = decoded.text
    preferred = "\t" if kind == "tsv" else ","
    delimiter = sniff_delimiter(text, preferred) or preferred
    if csv.field_size_limit() < len(text) + 1:
        csv.field_size_limit(len(text) + 1)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"', strict=False)
    header: list[str] | None = None
    header_end = 0
    rows: list[list[str]] = []
    try:
        for fields in reader:
            if header is None:
                if any(cell.strip() for cell in fields):
                    header, header_end = fields, reader.line_num
                continue
            if fields:
                rows.append(fields)
            if len(rows) >= TYPE_ROWS:
                break
    except csv.Error as exc:
        return _fail("table", f"the CSV reader stopped at line {reader.line_num:,} ({exc})")
    if header is None:
        return _fail("table", f"{path.name} holds no header and no rows (only blank lines or delimiters)")
    if not head.complete and len(rows) < 1 and len(header) and reader.line_num >= text.count("\n") + 1:
        return _fail("table", f"the first row of {path.name} is longer than {format_size(SAMPLE_BYTES)}")
    if not head.complete and rows:
        rows.pop()  # the read may have stopped inside the last row
    # As wide as the header, or as most rows when most are wider (a delimiter at the end of every row): one row
    # with a field too many must not leave every other row "ragged" and its numbers out of the sums.
    lengths = Counter(len(row) for row in rows)
    common = max(lengths, key=lambda length: (lengths[length], length)) if rows else 0
    width = max(len(header), common)
    names = _names(header, width)
    numeric: dict[int, str] = {}
    decimals: dict[int, int] = {}
    comma_columns = 0
    dot_columns = 0
    for index in range(width):
        values = [row[index].strip() for row in rows if index < len(row)]
        real = [value for value in values if value not in NA_VALUES and value.lower() not in ("nan", "none")]
        if not real:
            continue
        if all(_PLAIN_INT.fullmatch(value) for value in real):
            if any(len(v.lstrip("+-")) > 1 and v.lstrip("+-").startswith("0") for v in real):
                continue  # leading zeros: an identifier, read as text
            numeric[index] = "int"
        elif all(_PLAIN_DECIMAL.fullmatch(value) for value in real):
            numeric[index] = "float"
            dot_columns += 1
        elif delimiter != "," and all(_PLAIN_INT.fullmatch(v) or _COMMA_DECIMAL.fullmatch(v) for v in real):
            numeric[index] = "float"
            comma_columns += 1
        else:
            continue
        decimals[index] = max((len(v.split(".")[1]) if "." in v else len(v.split(",")[1]) if "," in v else 0)
                              for v in real if "e" not in v.lower())  if any("e" not in v.lower() for v in real) \
            else 0
    decimal_comma = comma_columns > 0 and dot_columns == 0
    if comma_columns and not decimal_comma:  # both kinds in one file: the decimal-comma ones are not summed
        for index in [i for i, kind_ in numeric.items() if kind_ == "float" and any(
                _COMMA_DECIMAL.fullmatch(row[i].strip()) for row in rows if i < len(row))]:
            del numeric[index]
    ascii_safe = decoded.codec in ("utf-8", "ascii") or _keeps_ascii(decoded.codec)
    codec = None if ascii_safe else decoded.codec
    endings = textio.line_endings(text)
    separator = b"\r" if endings == "CR" else b"\n"
    return _Plan(delimiter, names, numeric, decimal_comma, codec, decoded.bom, header_end, separator, decimals)


def _keeps_ascii(codec: str) -> bool:
    try:
        info = codecs.lookup(codec)
        return '\n\r,;\t|"0123456789.-+eE'.encode(info.name) == b'\n\r,;\t|"0123456789.-+eE' and \
            "\n".encode(info.name) == b"\n" and "é".encode(info.name, errors="replace") != b"\x00\xe9"
    except LookupError:
        return False


def _names(header: list[str], width: int) -> list[str]:
    names: list[str] = []
    seen: dict[str, int] = {}
    for index in range(width):
        raw = header[index].strip() if index < len(header) else ""
        if not raw:
            names.append(f"Unnamed: {index}")
            continue
        count = seen.get(raw, 0)
        names.append(raw if not count else f"{raw}.{count}")
        seen[raw] = count + 1
    return names


class _TableError(Exception):
    pass


class _Position:
    """Where in the file the data handed out so far ends (bytes; only while the file is read as it is)."""

    end: int | None = None


def _stream(path: Path, plan: _Plan, deadline: float, position_out: _Position | None = None) -> Iterator[bytes]:
    """The file's data rows as ASCII-compatible bytes, in slices that each end at a record boundary."""
    separator = plan.separator
    with open(path, "rb", buffering=0) as handle:
        if hasattr(os, "posix_fadvise"):
            os.posix_fadvise(handle.fileno(), 0, 0, os.POSIX_FADV_SEQUENTIAL)
        decoder = codecs.getincrementaldecoder(plan.codec)("replace") if plan.codec else None
        raw = handle.read(SLICE_BYTES)
        first = raw[plan.bom:]
        if decoder is not None:
            first = decoder.decode(first, final=not raw).encode("utf-8")
        # Skip the header (and blank lines before it): its lines are counted from the sample's parse.
        position = 0
        for _ in range(plan.skip_lines):
            found = first.find(separator, position)
            if found < 0:
                return
            position = found + 1
        carry = first[position:]
        ended = not raw
        while True:
            if time.perf_counter() > deadline:
                raise _TableError("timeout")
            if not ended:
                raw = handle.read(SLICE_BYTES)
                ended = not raw
                chunk = (decoder.decode(raw, final=ended).encode("utf-8") if decoder is not None else raw)
                buffer = carry + chunk if carry else chunk
            else:
                buffer = carry
            if ended:
                if buffer.count(b'"') % 2:
                    raise _TableError("quote")
                if position_out is not None:
                    position_out.end = None
                if buffer.strip():
                    yield buffer
                return
            cut = _record_end(buffer, separator)
            if cut < 0:
                if len(buffer) > MAX_RECORD_BYTES:
                    raise _TableError("record")
                carry = buffer
                continue
            carry = buffer[cut:]
            if position_out is not None:
                position_out.end = handle.tell() - len(carry) if decoder is None else None
            yield buffer[:cut]


def _record_end(buffer: bytes, separator: bytes) -> int:
    """The end (exclusive) of the last whole record in ``buffer``: just after a line break outside quotes; -1
    when there is none. Quotes come in pairs inside a quoted cell (""), so a break is outside quotes exactly when
    the quotes before it are even in number, and every slice starts outside quotes."""
    position = buffer.rfind(separator)
    if position < 0:
        return -1
    after = buffer.count(b'"', position)
    total = buffer.count(b'"')
    steps = 0
    while position >= 0:
        if (total - after) % 2 == 0:
            return position + 1
        steps += 1
        previous = buffer.rfind(separator, 0, position)
        if previous < 0:
            return -1
        after += buffer.count(b'"', previous, position)
        position = previous
        if steps > 100_000:
            return -1
    return -1


class _Totals:
    def __init__(self, plan: _Plan) -> None:
        self.plan = plan
        self.lock = threading.Lock()
        self.rows = 0
        self.ragged = 0
        """Rows with more fields than the header: counted, not summed (pandas refuses such a file)."""
        self.short = 0
        """Rows with fewer fields than the header: summed, their missing fields empty (as pandas reads them)."""
        self.sums: dict[int, list[float | int]] = {index: [] for index in plan.numeric}
        self.types = dict(plan.numeric)
        self.dropped: dict[int, str] = {}
        self.quoted_breaks = False
        """A slice held a line break inside quotes: its records cannot be counted by their line breaks."""
        self.counted = 0
        """Rows counted by their line breaks, after the summing stopped."""
        self.summed: int | None = None


def _parse_slice(data: bytes, totals: _Totals) -> None:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    plan = totals.plan
    names = [f"c{index}" for index in range(len(plan.names))]
    newlines = False
    tolerate = False
    for _attempt in range(len(plan.numeric) + 4):
        with totals.lock:
            wanted = {index: kind for index, kind in totals.types.items() if index not in totals.dropped}
        types = {f"c{index}": (pa.int64() if kind == "int" else pa.float64()) for index, kind in wanted.items()}
        include = list(types) or [names[0]]
        ragged = [0]
        short: list[str] = []

        def on_invalid(row: Any, ragged: list[int] = ragged, short: list[str] = short) -> str:
            ragged[0] += 1
            if row.actual_columns < row.expected_columns:
                short.append(row.text)  # summed below, its missing fields empty
            return "skip"

        try:
            table = pacsv.read_csv(
                pa.BufferReader(pa.py_buffer(data)),
                read_options=pacsv.ReadOptions(column_names=names, use_threads=False, block_size=len(data) + 1),
                parse_options=pacsv.ParseOptions(delimiter=plan.delimiter, newlines_in_values=newlines,
                                                 invalid_row_handler=on_invalid if tolerate else None),
                convert_options=pacsv.ConvertOptions(
                    include_columns=include, column_types=types if types else {names[0]: pa.binary()},
                    check_utf8=False, null_values=NA_VALUES, strings_can_be_null=True,
                    decimal_point="," if plan.decimal_comma else "."),
                memory_pool=pa.system_memory_pool())  # returned to the system at once: RSS stays near the slice
        except pa.ArrowInvalid as exc:
            message = str(exc)
            column = _COLUMN_ERROR.search(message)
            if column is not None:
                index = int(column[1])
                value = re.search(r"invalid value '([^']{0,40})", message)
                with totals.lock:
                    if totals.types.get(index) == "int" and value and _PLAIN_DECIMAL.fullmatch(value[1].strip()):
                        totals.types[index] = "float"
                    else:
                        shown = f"a value {value[1]!r} is not a number" if value else "not every value is a number"
                        totals.dropped.setdefault(index, f"{plan.names[index]}: {shown}")
                continue
            if not newlines:
                newlines = True
                continue
            if not tolerate and "Expected" in message:
                tolerate = True
                continue
            raise _TableError("parse: " + message.splitlines()[0][:200]) from None
        rows = table.num_rows + ragged[0]
        separator = plan.separator
        lines = data.count(separator) - data.count(separator + separator) + (not data.endswith(separator))
        partial: dict[int, float | int] = {}
        for index in wanted:
            total = pc.sum(table.column(f"c{index}")).as_py()
            partial[index] = total or 0
        dropped = _sum_short_rows(short, wanted, plan, partial)
        with totals.lock:
            for index, why in dropped.items():
                totals.dropped.setdefault(index, why)
            totals.short += len(short)
            totals.ragged -= len(short)
            if lines != rows:  # a record spans lines (a line break in quotes): the rest cannot be counted by lines
                totals.quoted_breaks = True
            totals.rows += rows
            totals.ragged += ragged[0]
            for index, value in partial.items():
                totals.sums[index].append(value)
        return
    raise _TableError("parse: too many retries")


def _sum_short_rows(texts: list[str], wanted: dict[int, str], plan: _Plan,
                    partial: dict[int, float | int]) -> dict[int, str]:
    """Add the numeric fields of rows with fewer fields than the header (the parser skips them; pandas reads their
    missing fields as empty) to ``partial``; return the columns one of them shows not to be numeric."""
    dropped: dict[int, str] = {}
    if not texts or not wanted:
        return dropped
    for fields in csv.reader(texts, delimiter=plan.delimiter, quotechar='"', strict=False):
        for index, kind in wanted.items():
            if index >= len(fields) or index in dropped:
                continue
            value = fields[index].strip()
            if value in NA_VALUES:
                continue
            number: float | int
            if kind == "int" and _PLAIN_INT.fullmatch(value):
                number = int(value)
            elif _PLAIN_DECIMAL.fullmatch(value.replace(",", ".", 1) if plan.decimal_comma else value):
                number = float(value.replace(",", ".", 1) if plan.decimal_comma else value)
            else:
                dropped[index] = f"{plan.names[index]}: a value {value[:40]!r} is not a number"
                continue
            partial[index] = partial.get(index, 0) + number
    return dropped


def table_targets(path: Path, kind: str = "csv", *, seconds: float = SECONDS, workers: int = 2,
                  sum_seconds: float = SUM_SECONDS) -> Targets:
    """Rows, columns and numeric column sums of a CSV/TSV, streaming the whole file. Never raises."""
    started = time.perf_counter()
    path = Path(path)
    try:
        planned = _plan(path, kind)
    except MemoryError:
        return _fail("table", "not enough memory to read its first megabyte")
    if isinstance(planned, Targets):
        return planned
    plan = planned
    totals = _Totals(plan)
    deadline = started + seconds
    try:
        _run(path, plan, totals, deadline, max(1, min(workers, os.cpu_count() or 1)), started + sum_seconds)
    except _TableError as exc:
        why = str(exc)
        if why == "timeout":
            return _fail("table", f"totalling {path.name} ({format_size(path.stat().st_size)}) takes longer than "
                                  f"{seconds:g} s")
        if why == "quote":
            return _fail("table", "a quote is opened and never closed, so the rows cannot be told apart")
        if why == "record":
            return _fail("table", f"one row is longer than {format_size(MAX_RECORD_BYTES)} (a quote never closed?)")
        return _fail("table", why)
    except OSError as exc:
        return _fail("table", f"cannot read {path.name} ({exc.strerror or exc})")
    except MemoryError:
        return _fail("table", "not enough memory")
    sums: list[tuple[str, str]] = []
    for index in sorted(totals.sums):
        if index in totals.dropped:
            continue
        values = totals.sums[index]
        sums.append((plan.names[index], _format_sum(values, totals.types[index], plan.decimals.get(index, 0))))
    notes = []
    if totals.ragged:
        notes.append(f"{format_count(totals.ragged, 'row')} {'has' if totals.ragged == 1 else 'have'} more fields "
                     "than the header: counted, not summed")
    if totals.short:
        notes.append(f"{format_count(totals.short, 'row')} {'has' if totals.short == 1 else 'have'} fewer fields "
                     "than the header: summed, the missing fields empty")
    return Targets("table", rows=totals.rows + totals.counted, columns=len(plan.names), names=tuple(plan.names),
                   sums=tuple(sums), unsummed=tuple(totals.dropped.values()), notes=tuple(notes),
                   summed_rows=totals.summed, seconds=time.perf_counter() - started)


def _run(path: Path, plan: _Plan, totals: _Totals, deadline: float, workers: int, sum_deadline: float) -> None:
    """Parse and total every slice; past ``sum_deadline`` (and when no record so far held a line break inside
    quotes), the rest of the slices are only counted, by their line breaks."""
    from concurrent.futures import Future, ThreadPoolExecutor

    position = _Position()
    stream = _stream(path, plan, deadline, position)
    pending: list[Future[None]] = []
    submitted_end: int | None = None
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="liferaft-verify") as pool:
        try:
            for data in stream:
                if time.perf_counter() > sum_deadline and not totals.quoted_breaks and submitted_end is not None:
                    for future in pending:
                        future.result()
                    pending.clear()
                    if not totals.quoted_breaks:
                        totals.summed = totals.rows
                        stream.close()
                        totals.counted = _count_lines(path, submitted_end, plan.separator, deadline)
                        return
                submitted_end = position.end
                pending.append(pool.submit(_parse_slice, data, totals))
                while len(pending) >= workers + 1:
                    pending.pop(0).result()
            for future in pending:
                future.result()
        finally:
            for future in pending:
                future.cancel()


def _count_lines(path: Path, start: int, separator: bytes, deadline: float) -> int:
    """The records from byte ``start`` (a record's start) to the end, counted by their line breaks as the parser
    reads them (blank lines are no records; a last line without a break is one), with numpy over the file mapped
    a window at a time (memory stays at one window): ~0.3 s a GB, against ~5 s to parse it."""
    import mmap

    import numpy as np

    mark = separator[0]
    window = 8 << 20  # a multiple of the mapping granularity
    count = 0
    previous = True  # the region starts just after a line break
    last = mark
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        offset = start - start % mmap.ALLOCATIONGRANULARITY
        while offset < size:
            if time.perf_counter() > deadline:
                raise _TableError("timeout")
            length = min(window, size - offset)
            with mmap.mmap(handle.fileno(), length, access=mmap.ACCESS_READ, offset=offset) as mapped:
                skip = max(0, start - offset)
                data = np.frombuffer(mapped, dtype=np.uint8)[skip:]
                if data.size:
                    breaks = data == mark
                    count += int(np.count_nonzero(breaks))
                    count -= int(np.count_nonzero(breaks[1:] & breaks[:-1])) + int(previous and bool(breaks[0]))
                    previous = bool(breaks[-1])
                    last = int(data[-1])
                    del breaks
                del data
            offset += length
    if last != mark:
        count += 1  # the last record has no line break
    return count


def _format_sum(values: list[float | int], kind: str, decimals: int) -> str:
    if kind == "int" and all(isinstance(value, int) for value in values):
        return f"{sum(values):,}"
    total = math.fsum(float(value) for value in values)
    if not math.isfinite(total):
        return str(total)
    places = min(max(decimals, 0), 6)
    return f"{total:,.{places}f}"


# --- workbooks, images, parquet -----------------------------------------------------------------------------


def workbook_targets(path: Path) -> Targets:
    from liferaft.core.inspect import inspect_file

    first = inspect_file(path, "xlsx", max_rows=0)
    if first.error:
        return _fail("workbook", first.error)
    sheets: list[tuple[str, int, int]] = []
    for name in first.sheets or ((first.sheet,) if first.sheet else ()):
        preview = first if name == first.sheet else inspect_file(path, "xlsx", max_rows=0, sheet=name)
        facts = dict(preview.facts)
        shape = re.search(r"\(([\d,]+) rows? × ([\d,]+) columns?\)", facts.get("dimensions", ""))
        rows = _number(shape[1]) if shape else _number(facts.get("rows", ""))
        columns = (_number(shape[2]) if shape else _number(facts.get("columns", ""))) or len(preview.columns)
        if preview.error or rows is None:
            return _fail("workbook", preview.error or f"the size of sheet {name} is not known")
        sheets.append((name, rows, columns or 0))
    if not sheets:
        return _fail("workbook", "it has no sheets")
    return Targets("workbook", sheets=tuple(sheets))


def _number(text: str) -> int | None:
    digits = text.replace(",", "").strip()
    return int(digits) if digits.isdigit() else None


def image_targets(path: Path) -> Targets:
    from liferaft.core.inspect.image import inspect_image

    preview = inspect_image(path)
    if preview.error:
        return _fail("image", preview.error)
    facts = dict(preview.facts)
    size = facts.get("dimensions")
    if not size:
        return _fail("image", "its size is not in its header")
    return Targets("image", pixels=size if size.endswith("px") else f"{size} (as its <svg> element says)")


def parquet_targets(path: Path) -> Targets:
    try:
        import pyarrow.parquet as pq

        meta = pq.ParquetFile(path).metadata
    except Exception as exc:  # a damaged footer, an unreadable file
        return _fail("parquet", f"cannot read its footer ({type(exc).__name__}: {str(exc)[:120]})")
    return Targets("parquet", rows=meta.num_rows, columns=meta.num_columns)


_BY_KIND: dict[str, Callable[[Path], Targets]] = {
    "csv": lambda path: table_targets(path, "csv"),
    "tsv": lambda path: table_targets(path, "tsv"),
    "xlsx": workbook_targets,
    "image": image_targets,
    "parquet": parquet_targets,
}


def supported(kind: str) -> bool:
    return kind in _BY_KIND


def compute(path: Path, kind: str) -> Targets:
    """The targets for one file of ``kind`` (a kind from :mod:`liferaft.core.roles`). Never raises."""
    path = Path(path)
    function = _BY_KIND.get(kind)
    if function is None:
        return Targets("other")
    try:
        st = os.stat(path)
    except OSError as exc:
        return _fail(kind, f"cannot read {path.name} ({exc.strerror or exc})")
    if not stat.S_ISREG(st.st_mode):  # a named pipe would block the read for ever, a device never end
        what = "a folder" if stat.S_ISDIR(st.st_mode) else "a named pipe" if stat.S_ISFIFO(st.st_mode) else \
            "a device" if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode) else "not a regular file"
        return _fail(kind, f"{path.name} is {what}, not a file with data in it")
    try:
        return function(path)
    except MemoryError:
        return _fail(kind, "not enough memory")
    except Exception as exc:  # a bug here must never reach the prompt as a traceback
        return _fail(kind, f"{type(exc).__name__}: {str(exc)[:160]}")


# --- the cache ----------------------------------------------------------------------------------------------


_Key = tuple[str, str, int, int, str]
_lock = threading.Lock()
_cache: OrderedDict[_Key, Targets] = OrderedDict()
_running: dict[_Key, threading.Event] = {}
_listeners: list[Callable[[], None]] = []


def _key(path: Path, kind: str) -> _Key | None:
    """The file (links resolved), its name as given and its kind: two links to one file, named differently or read
    as different kinds, have targets of their own (a result names the file and depends on its kind)."""
    try:
        st = os.stat(path)
        resolved = str(Path(path).resolve())
    except (OSError, RuntimeError):  # RuntimeError: a loop of links, on older Pythons
        return None
    return (resolved, Path(path).name, st.st_size, st.st_mtime_ns, kind)


def cached(path: Path, kind: str | None = None) -> Targets | None:
    """The targets cached for ``path`` read as ``kind`` (default: the kind its name gives)."""
    if kind is None:
        from liferaft.core.roles import kind_from_name

        kind = kind_from_name(Path(path).name) or "other"
    key = _key(path, kind)
    if key is None:
        return None
    with _lock:
        found = _cache.get(key)
        if found is not None:
            _cache.move_to_end(key)
        return found


def targets_for(path: Path, kind: str, *, wait: float | None = None) -> Targets | None:
    """The targets for ``path``, from the cache or computed once: on a background thread, waited for up to
    ``wait`` seconds (None: until done). None when not ready in time; :func:`on_ready` callbacks run when it is."""
    path = Path(path)
    key = _key(path, kind)
    if key is None:
        return compute(path, kind)  # it cannot be read: say why, nothing to cache
    with _lock:
        found = _cache.get(key)
        if found is not None:
            _cache.move_to_end(key)
            return found
        event = _running.get(key)
        if event is None:
            event = threading.Event()
            _running[key] = event
            threading.Thread(target=_work, args=(key, path, kind, event), name="liferaft-targets",
                             daemon=True).start()
    if not event.wait(wait):
        return None
    with _lock:
        return _cache.get(key)


def _work(key: _Key, path: Path, kind: str, event: threading.Event) -> None:
    try:
        result = compute(path, kind)
    finally:
        with _lock:
            _running.pop(key, None)
    with _lock:
        _cache[key] = result
        while len(_cache) > CACHE_ENTRIES:
            _cache.popitem(last=False)
        listeners = list(_listeners)
    event.set()
    for listener in listeners:
        with contextlib.suppress(Exception):  # a listener's bug must not stop the others
            listener()


def on_ready(listener: Callable[[], None]) -> Callable[[], None]:
    """Call ``listener`` (on a worker thread) whenever targets computed in the background are ready; returns a
    function that removes it."""
    with _lock:
        _listeners.append(listener)

    def remove() -> None:
        with _lock:
            if listener in _listeners:
                _listeners.remove(listener)

    return remove


def clear_cache() -> None:
    with _lock:
        _cache.clear()
