"""Excel workbooks (.xlsx, .xlsm; .xls is recognised and explained): sheet names and the first rows of one sheet.

Before openpyxl sees the file, its zip directory is checked: a part that would expand far beyond its
compressed size (a zip bomb) or parts openpyxl must read whole (shared strings, styles) that are too big are
refused. openpyxl then opens it read-only with cached values (``data_only``), and only the first rows of the
chosen sheet are parsed; a sheet's size comes from its ``<dimension>`` record, never from reading it all.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from liferaft.core.inspect import DEFAULT_ROWS, Column, Preview
from liferaft.core.inspect.workbook_xml import OLE_MAGIC as OLE_MAGIC
from liferaft.core.inspect.workbook_xml import (
    _formulas_without_values,
    _not_a_workbook_zip,
    _not_a_zip_message,
    _ole_message,
    _strict,
)
from liferaft.core.inspect.workbook_xml import _open_read_only as _open_read_only
from liferaft.core.inspect.workbook_xml import ole_stream_names as ole_stream_names
from liferaft.core.units import format_count, format_size

if TYPE_CHECKING:
    import zipfile

#: Parts openpyxl reads whole (shared strings, styles, the workbook...) may expand to at most this much in total.
MAX_UNCOMPRESSED = 200 * 1000 * 1000
#: A part larger than :data:`RATIO_FLOOR` that expands more than this many times is taken for a zip bomb.
MAX_RATIO = 100
#: Parts smaller than this are never refused for their ratio (tiny repetitive XML compresses very well).
RATIO_FLOOR = 1024 * 1024
#: At most this many columns are shown.
MAX_COLUMNS = 200
#: More empty columns than this between the data and a used cell (or the saved used range's edge) make a sheet
#: "sparse and very wide": exported as it stands, every row would carry them.
WIDE_GAP = 64
#: At most this many blank rows are skipped looking for the header row.
MAX_LEADING_BLANK_ROWS = 1000
#: A cell's text is cut after this many characters.
MAX_CELL_CHARS = 1000

_MIDNIGHT = time(0, 0)
# Quoted literals and [..] sections (colours, locales) in a number format say nothing about dates.
_FORMAT_NOISE = re.compile(r'"[^"]*"|\[[^\]]*\]|\\.')
# Kinds of a cell value, merged per column by merge_types.
_NUMERIC = frozenset({"integer", "decimal"})
_TEMPORAL = frozenset({"date", "datetime"})


def inspect_workbook(path: Path, *, max_rows: int = DEFAULT_ROWS, sheet: str | None = None) -> Preview:
    """Sheet names and the first ``max_rows`` rows of ``sheet`` (default: the first worksheet). Never raises."""
    import zipfile

    path = Path(path)
    try:
        with open(path, "rb") as fh:
            head = fh.read(8)
            if not head:
                return Preview("xlsx", error=f"{path.name} is empty (0 bytes); export the workbook again")
            if head.startswith(OLE_MAGIC):
                return Preview("xlsx", error=_ole_message(fh, path))
            if not head.startswith(b"PK"):
                return Preview("xlsx", error=_not_a_zip_message(path, fh))
            fh.seek(0)
            try:
                archive = zipfile.ZipFile(fh)
            except (zipfile.BadZipFile, EOFError, ValueError):
                return Preview("xlsx", error=f"{path.name} is damaged or cut short (its zip directory is missing); "
                                            "download or export it again")
            with archive:
                refusal = check_archive(archive, path.name)
            if refusal:
                return Preview("xlsx", error=refusal)
            fh.seek(0)
            return _read(fh, path, max(0, max_rows), sheet)
    except OSError as exc:
        return Preview("xlsx", error=f"cannot read {path.name}: {exc.strerror or exc}")


# --- before parsing -------------------------------------------------------------------------------------------


def check_archive(archive: zipfile.ZipFile, name: str) -> str | None:
    """Why this zip must not be handed to openpyxl (zip bomb, oversized parts, not a workbook), or None."""
    infos = archive.infolist()
    names = {info.filename for info in infos}
    if "[Content_Types].xml" not in names:
        return _not_a_workbook_zip(archive, names, name)
    if _strict(archive, names):
        return (f"{name} is saved as Strict Open XML, which Liferaft cannot read (nor can many other programs); "
                "open it in Excel and save it as \"Excel Workbook (.xlsx)\", or export the sheet as CSV")
    if "xl/workbook.bin" in names:
        return (f"{name} is a binary workbook (.xlsb), which Liferaft cannot read; "
                "open it in Excel and save it as .xlsx, or export the sheet as CSV")
    whole = 0
    for info in infos:
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > RATIO_FLOOR and ratio > MAX_RATIO:
            return (f"{name} looks like a zip bomb: {info.filename} would expand {ratio:,.0f} times, "
                    f"to {format_size(info.file_size)}; Liferaft will not open it "
                    "(if you trust the file, export the sheet as CSV in Excel)")
        lowered = info.filename.lower()
        # Sheets are streamed (only the first rows are read); pivot caches, pictures, embedded files and
        # macros are not read at all in read-only mode.
        if lowered.endswith((".xml", ".rels", ".vml")) and not lowered.startswith(("xl/worksheets/", "xl/pivotcache/")):
            whole += info.file_size
    if whole > MAX_UNCOMPRESSED:
        return (f"{name} is too large to preview: its shared strings and styles expand to {format_size(whole)} "
                f"(the limit is {format_size(MAX_UNCOMPRESSED)}); export the sheet you need as CSV")
    return None


# --- reading --------------------------------------------------------------------------------------------------


def _read(fh: IO[bytes], path: Path, max_rows: int, wanted: str | None) -> Preview:
    import warnings

    try:
        with warnings.catch_warnings():
            # openpyxl warns about features it drops (data validation, conditional formats): irrelevant here.
            warnings.simplefilter("ignore")
            workbook = _open_read_only(fh)
            try:
                return _read_sheet(workbook, path, max_rows, wanted)
            finally:
                workbook.close()
    except MemoryError:
        raise
    except KeyError as exc:
        return Preview("xlsx", error=f"{path.name} is incomplete (a part is missing: {exc}); "
                                    "open it in Excel and save it again, or export the sheet as CSV")
    except Exception as exc:
        # openpyxl wraps XML errors in a ValueError naming the file object: the cause says more.
        detail = _one_line(exc.__cause__ if isinstance(exc, ValueError) and exc.__cause__ else exc)
        return Preview("xlsx", error=f"cannot read {path.name}: {detail}; "
                                    "open it in Excel and save it again, or export the sheet as CSV")


#: A sheet's cells are counted (to find the rows and columns that hold values) when its XML is at most this big;
#: a larger sheet's size is the one its file declares (a sheet that large is rarely mostly empty).
USED_RANGE_MAX_BYTES = 8 * 1000 * 1000


#: A cell holding something (a value, a formula, an inline string), with its reference: a formatted but empty
#: cell is saved self-closing (``<c r="A3" s="1"/>``) or with nothing inside (``<c r="A3" s="1"></c>``).
_FILLED_CELL = re.compile(rb'<(?:[A-Za-z_][\w.-]*:)?c\s[^>]*?\br="([A-Za-z]{1,3})([0-9]{1,7})"[^>]*?(?<!/)>(?!</)')


def _used_range(open_source: Any, max_bytes: int | None = None) -> tuple[int, int, int, int] | None:
    """(min_col, min_row, max_col, max_row) of the cells that hold something (a formatted, empty cell holds
    nothing), found in the sheet's XML at the regular-expression engine's speed; None when there are none, the
    sheet is larger than ``max_bytes`` or it cannot be read (the declared size is used then)."""
    from operator import itemgetter

    if max_bytes is None:  # read when called (a default bound at import would ignore a changed setting)
        max_bytes = USED_RANGE_MAX_BYTES
    letters: set[bytes] = set()
    min_row, max_row = 1 << 30, 0
    read = 0
    tail = b""
    try:
        with open_source() as source:
            while True:
                chunk = source.read(1 << 22)
                read += len(chunk)
                if read > max_bytes:
                    return None
                data = tail + chunk
                cut = data.rfind(b">") + 1 if chunk else len(data)  # a tag cut by the chunk waits for the next
                found = _FILLED_CELL.findall(data, 0, cut)
                if found:
                    letters.update(map(itemgetter(0), found))
                    rows = list(map(int, map(itemgetter(1), found)))
                    min_row, max_row = min(min_row, min(rows)), max(max_row, max(rows))
                tail = data[cut:]
                if not chunk:
                    break
    except Exception:  # a damaged sheet is reported by the main read
        return None
    if not letters:
        return None
    from openpyxl.utils import column_index_from_string

    columns = [column_index_from_string(letter.decode("ascii")) for letter in letters]
    return min(columns), min_row, max(columns), max_row


def _range_text(bounds: tuple[int, int, int, int]) -> str:
    """"A1:B3 (3 rows × 2 columns)" for (min_col, min_row, max_col, max_row)."""
    from openpyxl.utils import get_column_letter

    min_col, min_row, max_col, max_row = bounds
    ref = f"{get_column_letter(min_col)}{min_row}:{get_column_letter(max_col)}{max_row}"
    return f"{ref} ({format_count(max_row - min_row + 1, 'row')} × {format_count(max_col - min_col + 1, 'column')})"


def _read_sheet(workbook: Any, path: Path, max_rows: int, wanted: str | None) -> Preview:
    names = tuple(str(name) for name in workbook.sheetnames)
    worksheets = list(workbook.worksheets)
    notes: list[str] = []
    facts: list[tuple[str, str]] = [("sheets", f"{len(names):,}")]
    if not names:
        return Preview("xlsx", facts=tuple(facts), error=f"{path.name} has no sheets; check the file")
    if wanted is not None and wanted not in names:
        notes.append(f"there is no sheet called {wanted!r}; showing the first one")
        wanted = None
    if wanted is None:
        if not worksheets:
            return Preview("xlsx", facts=tuple(facts), sheets=names, sheet=names[0],
                           notes=("every sheet is a chart sheet: there are no cells to show",))
        ws = worksheets[0]
    else:
        ws = workbook[wanted]
        if not hasattr(ws, "iter_rows"):
            return Preview("xlsx", facts=tuple(facts), sheets=names, sheet=wanted,
                           notes=(f"{wanted} is a chart sheet: it holds a chart, not cells",))
    title = str(ws.title)
    facts.append(("sheet", title))
    declared = getattr(ws, "declared", None)
    # The size is that of the cells holding values: a saved used range may reach far past them (formatting
    # applied to whole columns, a cell once used and cleared: "A1:XFD1048576" for two rows of data).
    used = _used_range(ws.open_source) if hasattr(ws, "open_source") else None
    if used is not None:
        facts.append(("dimensions", _range_text(used)))
        if declared is not None and (declared[2] > used[2] or declared[3] > used[3]):
            notes.append(f"the file says the sheet spans {_range_text(declared)}; only {_range_text(used)} "
                         "hold values")
    elif declared is not None:
        facts.append(("dimensions", _range_text(declared)))
    if getattr(ws, "sheet_state", "visible") != "visible":
        notes.append(f"{title} is a hidden sheet")
    # The saved dimension may be wrong (some programs always write A1): read rows as they come, bounded here.
    ws.reset_dimensions()
    rows_read = ws.iter_rows(max_col=MAX_COLUMNS)
    try:
        header_index, header, body, gave_up = _take_rows(rows_read, max_rows)
    finally:
        getattr(rows_read, "close", lambda: None)()  # stop the parser and close the sheet's stream now
    if header_index is None:
        facts += [("rows shown", "0"), ("columns shown", "0")]
        if gave_up:
            notes.append(f"the first {MAX_LEADING_BLANK_ROWS:,} rows are blank; Liferaft looks no further")
        else:
            notes.append(f"{title} is empty")
        return Preview("xlsx", facts=tuple(facts), sheets=names, sheet=title, notes=tuple(notes))
    if header_index > 1:
        noun = "row 1 is" if header_index == 2 else f"rows 1–{header_index - 1} are"
        notes.append(f"{noun} blank; the column names are from row {header_index}")
    # Formatted but empty rows after the last value are not data (blank rows between values are kept).
    last_with_values = used[3] if used is not None else None
    while body and all(kind is None for _, kind in body[-1]) and \
            (last_with_values is None or header_index + len(body) > last_with_values):
        body.pop()
    first, last = _used_span([header, *body])
    from openpyxl.utils import get_column_letter

    columns: list[Column] = []
    for offset in range(first, last + 1):
        name = header[offset][0] if offset < len(header) else ""
        values = [row[offset] if offset < len(row) else ("", None) for row in body]
        kinds = [kind for _, kind in values if kind not in (None, "error")]
        nulls = sum(1 for _, kind in values if kind is None)
        columns.append(Column(name or get_column_letter(offset + 1), merge_types(kinds), nulls))
    rows = tuple(
        tuple(row[offset][0] if offset < len(row) else "" for offset in range(first, last + 1)) for row in body
    )
    widest = used or declared
    if widest is not None and widest[2] > MAX_COLUMNS:
        notes.append(f"showing the first {MAX_COLUMNS} of {widest[2]:,} columns")
    if first > 0:
        notes.append(f"the table starts in column {get_column_letter(first + 1)}")
    facts += [("rows shown", f"{len(rows):,}"), ("columns shown", f"{len(columns):,}")]
    last_row = header_index + len(body)
    sparse = _sparse_width([header, *body], _far_column(ws, last_row), declared)
    if sparse:
        notes.append(sparse)
    blank_formulas = _formulas_without_values(ws, last_row)
    if blank_formulas:
        cells = "1 cell is a formula" if blank_formulas == 1 else f"{blank_formulas:,} cells are formulas"
        notes.append(f"{cells} with no saved value (shown empty): the file was saved without calculating; "
                     "open it in Excel and save it to store the results")
    return Preview("xlsx", facts=tuple(facts), columns=tuple(columns), rows=rows, sheets=names, sheet=title,
                   notes=tuple(notes))


Cell = tuple[str, str | None]
"""A cell as shown (its text) and the kind of its value (None when empty, "error" for #N/A and the like)."""


def _take_rows(rows: Iterable[tuple[Any, ...]], max_rows: int) -> tuple[int | None, list[Cell], list[list[Cell]], bool]:
    """(header row number, header cells, up to ``max_rows`` body rows, whether the blank-row search gave up)."""
    header_index: int | None = None
    header: list[Cell] = []
    body: list[list[Cell]] = []
    for number, row in enumerate(rows, start=1):
        cells = [cell_text(cell) for cell in row]
        if header_index is None:
            if any(kind is not None for _, kind in cells):
                header_index, header = number, cells
                if max_rows == 0:
                    break
            elif number >= MAX_LEADING_BLANK_ROWS:
                return None, [], [], True
            continue
        body.append(cells)
        if len(body) >= max_rows:
            break
    return header_index, header, body, False


def _far_column(ws: Any, last_row: int) -> int | None:
    """The last column (from 1) right of the first :data:`MAX_COLUMNS` holding a value in rows 1–``last_row``, or
    None. Only the cells saved in the file are looked at: a far cell costs its row, not the whole width."""
    far = None
    rows = ws.iter_rows(min_col=MAX_COLUMNS + 1, max_row=last_row, values_only=True)
    try:
        for row in rows:
            for offset in range(len(row) - 1, -1, -1):
                if row[offset] is not None and row[offset] != "":
                    far = max(far or 0, MAX_COLUMNS + 1 + offset)
                    break
    except Exception:  # a damaged sheet is reported by the main read
        return None
    finally:
        getattr(rows, "close", lambda: None)()
    return far


def _sparse_width(rows: list[list[Cell]], far: int | None, declared: tuple[int, int, int, int] | None) -> str | None:
    """A note when the sheet's used range is much wider than the columns holding data: a lone value far right
    (XFD1), or a saved used range reaching far past the data; None otherwise."""
    from openpyxl.utils import get_column_letter as letter

    used = sorted({index + 1 for row in rows for index, (_, kind) in enumerate(row) if kind is not None})
    if not used:
        return None
    if far is not None:
        used.append(far)
    gaps = [before for before, after in pairwise(used) if after - before - 1 > WIDE_GAP]
    edge = declared[2] if declared else 0
    if gaps:
        data_end = gaps[0]
        lone = ", ".join(letter(column) for column in used if column > data_end)
        return (f"sparse and very wide: the used range reaches column {letter(used[-1])} ({used[-1]:,} columns) "
                f"but the data is in {letter(used[0])}–{letter(data_end)}, with a lone value in {lone}")
    if edge - used[-1] > WIDE_GAP:
        return (f"sparse and very wide: the saved used range reaches column {letter(edge)} ({edge:,} columns) but "
                f"the data is in {letter(used[0])}–{letter(used[-1])}")
    return None


def _used_span(rows: list[list[Cell]]) -> tuple[int, int]:
    """The first and last column offsets holding anything, across ``rows``."""
    used = [i for row in rows for i, (_, kind) in enumerate(row) if kind is not None]
    return (min(used), max(used)) if used else (0, -1)


def cell_text(cell: Any) -> Cell:
    """A cell's value as a user reads it in Excel (7 not 7.0, dates in ISO form) and the kind of that value."""
    value = getattr(cell, "value", None)
    if value is None:
        return "", None
    if getattr(cell, "data_type", None) == "e":
        return str(value), "error"
    if isinstance(value, bool):
        return ("TRUE" if value else "FALSE"), "boolean"
    if isinstance(value, int):
        return str(value), "integer"
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return str(value), "decimal"
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value)), "integer"
        return format(value, ".15g"), "decimal"
    if isinstance(value, datetime):
        if _shows_time(cell, value):
            return value.isoformat(sep=" ", timespec="seconds"), "datetime"
        return value.date().isoformat(), "date"
    if isinstance(value, date):
        return value.isoformat(), "date"
    if isinstance(value, time):
        return value.isoformat(timespec="seconds"), "text"
    if isinstance(value, timedelta):
        return str(value), "text"
    text = str(value)
    if not text.strip():
        return text, None
    return clip(text), "text"


def _shows_time(cell: Any, value: datetime) -> bool:
    try:
        number_format = _FORMAT_NOISE.sub("", str(cell.number_format)).lower()
    except Exception:
        number_format = ""
    if "h" in number_format or "s" in number_format:
        return True
    if "d" in number_format or "y" in number_format or "m" in number_format:
        return False
    return value.time() != _MIDNIGHT


def merge_types(kinds: Iterable[str]) -> str:
    """One column type for values of these kinds: integers and decimals make decimal, mixtures make text."""
    seen = set(kinds)
    if not seen:
        return "empty"
    if len(seen) == 1:
        return seen.pop()
    if seen <= _NUMERIC:
        return "decimal"
    if seen <= _TEMPORAL:
        return "datetime"
    return "text"


def clip(text: str, limit: int = MAX_CELL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return clip(text[0] if text else type(exc).__name__, 200)
