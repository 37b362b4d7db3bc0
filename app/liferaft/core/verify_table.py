"""Reading a CSV/TSV for its verification targets: the plan (which columns hold numbers, in which form), each
slice parsed into row counts and column sums, lines counted where a slice cannot be parsed.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import os
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from liferaft.core.units import format_size
from liferaft.core.verify_targets import Targets, _fail

#: Cell values read as missing, as pandas reads them: they count as rows and add nothing to a sum.
NA_VALUES = ["", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>",
             "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"]

_PLAIN_INT = re.compile(r"[+-]?\d+")
_PLAIN_DECIMAL = re.compile(r"[+-]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?")
_COMMA_DECIMAL = re.compile(r"[+-]?\d+,\d+")
_COLUMN_ERROR = re.compile(r"In CSV column #(\d+)")


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
                bad = re.search(r"invalid value '([^']{0,40})", message)
                with totals.lock:
                    if totals.types.get(index) == "int" and bad and _PLAIN_DECIMAL.fullmatch(bad[1].strip()):
                        totals.types[index] = "float"
                    else:
                        shown = f"a value {bad[1]!r} is not a number" if bad else "not every value is a number"
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
