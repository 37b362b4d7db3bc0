"""CSV and TSV: the first rows, a schema inferred from a sample, and a row count, reading only what is shown.

The first megabyte is read and decoded (byte-order mark, strict UTF-8, or a guess), the delimiter is told
from how consistently each candidate splits the lines, and the rows are parsed with the csv module as text,
so "2" stays "2". The rows are counted by streaming the whole file's line breaks in fixed-size chunks; past
a time budget the count stops and is scaled to the file's size, and says so.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from liferaft.core.inspect import DEFAULT_ROWS, Column, Preview
from liferaft.core.inspect import text as textio
from liferaft.core.inspect.column_types import NA_VALUES as NA_VALUES
from liferaft.core.inspect.column_types import Inferred as Inferred
from liferaft.core.inspect.column_types import infer_type as infer_type
from liferaft.core.inspect.dialect import _CLOSES, _OPENS
from liferaft.core.inspect.dialect import DELIMITER_NAMES as DELIMITER_NAMES
from liferaft.core.inspect.dialect import HEADER_EVIDENCE_MIN as HEADER_EVIDENCE_MIN
from liferaft.core.inspect.dialect import HEADER_EVIDENCE_ROWS as HEADER_EVIDENCE_ROWS
from liferaft.core.inspect.dialect import MAX_TITLE_LINES as MAX_TITLE_LINES
from liferaft.core.inspect.dialect import SNIFF_LINES as SNIFF_LINES
from liferaft.core.inspect.dialect import TITLE_EVIDENCE as TITLE_EVIDENCE
from liferaft.core.inspect.dialect import TITLE_ROWS as TITLE_ROWS
from liferaft.core.inspect.dialect import TitleLines as TitleLines
from liferaft.core.inspect.dialect import aligned_columns as aligned_columns
from liferaft.core.inspect.dialect import second_header_row as second_header_row
from liferaft.core.inspect.dialect import sniff_delimiter as sniff_delimiter
from liferaft.core.inspect.dialect import sniff_quote as sniff_quote
from liferaft.core.inspect.dialect import spaces_split as spaces_split
from liferaft.core.inspect.dialect import title_lines as title_lines
from liferaft.core.roles import kind_from_name
from liferaft.core.units import format_size

#: How much of the file is read for the rows shown and the type sample.
SAMPLE_BYTES = 1 << 20
#: How many rows the types are inferred from (fewer when there are very many columns).
TYPE_ROWS = 1000
#: Cells longer than this are cut in the rows shown.
MAX_CELL = 500
#: Columns beyond this are counted but not shown.
MAX_COLUMNS = 500


# --- the parse ---------------------------------------------------------------------------------------


@dataclass
class _Parse:
    """What the csv module made of the sample."""

    leading: list[int] = field(default_factory=list)
    """Line numbers of blank or delimiter-only lines skipped before the header."""
    titles: TitleLines | None = None
    """Title lines above the header, skipped."""
    header: list[str] | None = None
    header_end: int = 0
    """The line the header ends on."""
    rows: list[list[str]] = field(default_factory=list)
    """Data rows kept for the preview and the type sample."""
    row_lines: list[tuple[int, int]] = field(default_factory=list)
    """Each kept row's first and last line."""
    records: int = 0
    """Data rows seen (kept or only counted)."""
    blank_lines: int = 0
    """Blank lines among the data."""
    last_line: int = 0
    """The line the last whole record ends on."""
    last_start: int = 0
    """The line the last record (the header, if no rows) starts on."""
    reached_end: bool = False
    error: str | None = None


def _parse(text: str, delimiter: str, keep: int, count_all: bool, quote: str = '"') -> _Parse:
    result = _Parse(titles=title_lines(text, delimiter, quote))
    skip = result.titles.lines if result.titles else 0
    # The whole sample may be one cell: let the csv module hold it.
    if csv.field_size_limit() < len(text) + 1:
        csv.field_size_limit(len(text) + 1)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar=quote, strict=False)
    previous_line = 0
    try:
        for fields in reader:
            start, end = previous_line + 1, reader.line_num
            previous_line = end
            if end <= skip:
                continue
            if result.header is None:
                if not fields or not any(cell.strip() for cell in fields):
                    result.leading.append(start)
                    continue
                result.header, result.header_end = fields, end
                result.last_line, result.last_start = end, start
                continue
            if not fields:
                result.blank_lines += 1
                result.last_line = end
                continue
            result.records += 1
            result.last_line, result.last_start = end, start
            if len(result.rows) < keep:
                result.rows.append(fields)
                result.row_lines.append((start, end))
            elif not count_all:
                return result
        result.reached_end = True
    except csv.Error as exc:
        result.error = f"the CSV reader stopped at line {reader.line_num:,}: {exc}"
    return result


def _quote_left_open(text: str, start_line: int, delimiter: str) -> bool:
    """Whether the record starting on ``start_line`` opens a quote that the text never closes."""
    lines = io.StringIO(text, newline="").readlines()
    tail = "".join(lines[start_line - 1 :])
    if '"' not in tail:
        return False
    try:
        for _ in csv.reader(io.StringIO(tail, newline=""), delimiter=delimiter, strict=True):
            pass
    except csv.Error as exc:
        return "unexpected end of data" in str(exc)
    return False


def _column_names(header: list[str], width: int) -> tuple[list[str], list[str]]:
    """Names as pandas would give them (``Unnamed: 3``, ``a.1``), and notes about the odd ones."""
    names: list[str] = []
    unnamed: list[int] = []
    seen: Counter[str] = Counter()
    duplicates: dict[str, int] = {}
    for index in range(width):
        raw = header[index] if index < len(header) else ""
        if not raw.strip():
            unnamed.append(index)
            names.append(f"Unnamed: {index}")
            continue
        if seen[raw]:
            duplicates[raw] = seen[raw] + 1
            names.append(f"{raw}.{seen[raw]}")
        else:
            names.append(raw)
        seen[raw] += 1
    notes = []
    blank_in_header = [index for index in unnamed if index < len(header)]
    if blank_in_header:
        shown = ", ".join(str(index + 1) for index in blank_in_header[:8])
        more = "…" if len(blank_in_header) > 8 else ""
        notes.append(f"{len(blank_in_header)} column(s) have no name (column {shown}{more}): "
                     "shown as Unnamed: N, as pandas names them")
    if duplicates:
        listed = ", ".join(f"{_cut(name, 40)!r} ×{times}" for name, times in list(duplicates.items())[:8])
        notes.append(f"duplicate column names ({listed}): the repeats are shown as name.1, name.2…, as pandas does")
    return names, notes


def _cut(value: str, limit: int = MAX_CELL) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def inspect_delimited(path: Path, *, max_rows: int = DEFAULT_ROWS, sheet: str | None = None) -> Preview:
    """Preview a CSV or TSV file: first rows, schema, row count, encoding, delimiter. Never raises for a bad
    file."""
    del sheet
    path = Path(path)
    kind = "tsv" if kind_from_name(path.name) == "tsv" else "csv"
    opened = _read_sample(path, kind)
    if isinstance(opened, Preview):
        return opened
    head, decoded = opened
    facts: list[tuple[str, str]] = [("size", format_size(head.size))]
    text = decoded.text
    notes: list[str] = []
    endings = textio.line_endings(text)

    preferred = "\t" if kind == "tsv" else ","
    quote = sniff_quote(text)
    delimiter = sniff_delimiter(text, preferred, quote)
    spaces = spaces_split(text) if delimiter is None else None
    fixed = aligned_columns(text) if delimiter is None and spaces is None else None
    found = delimiter is not None
    if delimiter is None:
        delimiter = preferred
    keep = max(max_rows, TYPE_ROWS)
    parse = _parse(text, delimiter, keep=keep, count_all=head.complete, quote=quote)
    if quote == '"' and found and _ragged(parse):
        # Some rows quoted with ' and the rest bare (a few cells needed quotes): fewer rows fit no quote at all
        # than most do, so ' is taken when it makes the rows agree better with the header.
        window = text[:65536]
        if '"' not in window and _OPENS["'"].search(window) and _CLOSES["'"].search(window):
            other = _parse(text, delimiter, keep=keep, count_all=head.complete, quote="'")
            if other.header is not None and _ragged(other) < _ragged(parse):
                parse, quote = other, "'"
    if quote != '"':
        notes.append("quoted with ' (not \"): an unusual dialect, read here with ' as the quote character; a "
                     "reader that expects \" splits the cells that hold a delimiter")
    if parse.error:
        notes.append(parse.error)
    header = parse.header
    if header is None:
        facts += [("rows", "0"), ("columns", "0"), ("encoding", decoded.label), ("line endings", endings)]
        return Preview(kind, facts=tuple(facts),
                       notes=("no header and no rows: the file holds only blank lines or delimiters",
                              *textio.encoding_notes(decoded)))

    records = _trim_cut_record(parse, head, text, delimiter, notes)
    if spaces is not None:
        notes.append(f"separated by {spaces}, not by a comma, semicolon, tab or pipe: an unusual dialect, shown "
                     "here as one column (pandas reads it with sep=r'\\s+')")
    elif fixed is not None:
        notes.append(f"columns in fixed positions ({fixed} columns lined up by spaces), no delimiter: an unusual "
                     "dialect, shown here as one column (pandas reads it with read_fwf; split at spaces, a value "
                     "holding a space would become two)")
    else:
        _note_layout(parse, header, text, delimiter, notes, found)
        if second_header_row(header, parse.rows):
            line = parse.header_end + 1
            notes.append(f"the header spans 2 rows (lines {line - 1:,}–{line:,}): names in line {line:,} sit under "
                         f"the ones above (groups, or units); a chat would take only line {line - 1:,} for the "
                         f"column names and line {line:,} for data")
    rows = parse.rows
    width, names = _shape(header, rows, notes)
    shown_width = min(width, MAX_COLUMNS)
    if width > MAX_COLUMNS:
        notes.append(f"showing the first {MAX_COLUMNS:,} of {width:,} columns")
    # Types from a sample of the rows, smaller when there are very many columns.
    type_rows = rows[: max(50, min(TYPE_ROWS, 200_000 // max(shown_width, 1)))]
    columns = _columns(type_rows, names, shown_width, notes)
    shown_rows = _shown_rows(rows[:max_rows], names, shown_width, notes)
    row_fact = _row_fact(path, head, decoded, parse, records, endings, len(type_rows), notes)

    facts += [
        ("rows", row_fact),
        ("columns", f"{width:,}"),
        ("encoding", decoded.label),
        ("delimiter", "space" if spaces is not None else "none (fixed width)" if fixed is not None
         else DELIMITER_NAMES[delimiter]),
        ("line endings", endings),
    ]
    notes += textio.encoding_notes(decoded)
    return Preview(kind, facts=tuple(facts), columns=tuple(columns), rows=tuple(shown_rows), notes=tuple(notes))


def _ragged(parse: _Parse) -> int:
    """Rows of the sample that do not have as many fields as the header."""
    width = len(parse.header) if parse.header is not None else 0
    return sum(1 for row in parse.rows if len(row) != width)


def _read_sample(path: Path, kind: str) -> tuple[textio.Head, textio.Decoded] | Preview:
    """The start of the file and its decoded text, or the preview that says why there is none."""
    try:
        head = textio.read_head(path, SAMPLE_BYTES)
    except OSError as exc:
        return Preview(kind, error=f"cannot read {path.name}: {exc.strerror or exc}")
    facts = (("size", format_size(head.size)),)
    if head.size == 0:
        return Preview(kind, facts=(*facts, ("rows", "0"), ("columns", "0")), notes=("the file is empty",))
    try:
        decoded = textio.decode_head(head.data, head.complete)
    except textio.NotText as exc:
        return Preview(kind, facts=facts, error=f"this does not look like text: {exc}")
    return head, decoded


def _trim_cut_record(parse: _Parse, head: textio.Head, text: str, delimiter: str, notes: list[str]) -> int:
    """The number of data records, less the last one when the read stopped inside it (it is left out of
    ``parse``, unless it is all there is to show); notes about a cut record or a quote never closed."""
    rows = parse.rows
    records = parse.records
    if not head.complete and parse.reached_end:
        # The read stopped inside the last record: leave it out, unless it is all there is to show.
        if len(rows) > 1:
            rows.pop()
            parse.row_lines.pop()
            records -= 1
            parse.last_line = parse.row_lines[-1][1]
        elif rows:
            notes.append(f"row 1 is longer than the {SAMPLE_BYTES // (1 << 20)} MB read: it is cut")
        else:
            notes.append(f"the header line is longer than the {SAMPLE_BYTES // (1 << 20)} MB read: it is cut")
    elif head.complete and parse.reached_end and _quote_left_open(text, parse.last_start, delimiter):
        notes.append(f"a quote opened on line {parse.last_start:,} is never closed: everything after it is read as "
                     "one cell")
    return records


def _note_layout(parse: _Parse, header: list[str], text: str, delimiter: str, notes: list[str],
                 found: bool = True) -> None:
    """Notes about a file read as one column (no delimiter, or none that most lines agree on), and about blank
    lines skipped before the header."""
    if (delimiter not in text[:65536] or not found) and len(header) == 1:
        notes.append("no delimiter found (comma, semicolon, tab or pipe): the file is read as one column")
    if parse.leading:
        what = "line" if len(parse.leading) == 1 else f"{len(parse.leading)} lines"
        notes.append(f"skipped the first {what} (blank, or only delimiters: an empty header row); "
                     f"line {parse.leading[-1] + 1:,} is the header")
    if parse.titles is not None:
        titles = parse.titles
        what = "1 title line" if titles.lines == 1 else f"{titles.lines} title lines"
        notes.append(f"{what} above the header (the first: {_cut(titles.first, 60)!r}): line {titles.lines + 1:,} "
                     "is the header, and the preview starts there; a chat would take the first line for the column "
                     "names")


def _shape(header: list[str], rows: list[list[str]], notes: list[str]) -> tuple[int, list[str]]:
    """The number of columns (the header's, or a longer row's) and their names; notes about odd names and
    ragged rows."""
    widths = Counter(len(row) for row in rows)
    width = max([len(header), *widths])
    names, name_notes = _column_names(header, width)
    notes += name_notes
    ragged = sum(times for length, times in widths.items() if length != len(header))
    if ragged:
        lengths = sorted(widths)
        notes.append(f"ragged rows: {ragged:,} of the first {len(rows):,} rows do not have the header's "
                     f"{len(header):,} fields (they have {lengths[0]:,} to {lengths[-1]:,})")
        if width > len(header):
            notes.append("rows with more fields than the header get extra Unnamed columns")
    return width, names


def _columns(type_rows: list[list[str]], names: list[str], shown_width: int, notes: list[str]) -> list[Column]:
    """The first ``shown_width`` columns with the type inferred from ``type_rows`` and their empty cells."""
    columns: list[Column] = []
    for index in range(shown_width):
        values = [row[index] if index < len(row) else "" for row in type_rows]
        inferred = infer_type(values)
        nulls = sum(1 for value in values if not value.strip())
        columns.append(Column(_cut(names[index], 200), inferred.type, nulls))
        if inferred.reason:
            notes.append(f"column {_cut(names[index], 40)!r} {inferred.reason}")
    return columns


def _shown_rows(rows: list[list[str]], names: list[str], shown_width: int, notes: list[str]) -> list[tuple[str, ...]]:
    """The preview's rows, padded to ``shown_width`` cells, long cells cut."""
    cut_cells = False
    shown_rows: list[tuple[str, ...]] = []
    for row in rows:
        cells = [row[index] if index < len(row) else "" for index in range(shown_width)]
        if any(len(cell) > MAX_CELL for cell in cells):
            cut_cells = True
            cells = [_cut(cell) for cell in cells]
        shown_rows.append(tuple(cells))
    if cut_cells or any(len(name) > 200 for name in names[:shown_width]):
        notes.append(f"cells longer than {MAX_CELL:,} characters are cut in the preview")
    return shown_rows


def _row_fact(path: Path, head: textio.Head, decoded: textio.Decoded, parse: _Parse, records: int, endings: str,
              typed: int, notes: list[str]) -> str:
    """The "rows" fact: exact, approximate or "?"; notes on how it was found and on the ``typed`` rows."""
    total, estimated, count_notes = _row_count(path, head, decoded, parse, records, endings)
    notes += count_notes
    if total is None:
        return "?"
    if typed < total:
        plural = "s" if typed != 1 else ""
        notes.append(f"types and empty cells are from the first {typed:,} row{plural}")
    if total == 0:
        notes.append("only a header: the file has no data rows")
    return textio.approx(total) if estimated else f"{total:,}"


def _count_records(path: Path, head: textio.Head, decoded: textio.Decoded, parse: _Parse, records: int,
                   newline: bytes) -> tuple[int | None, bool, list[str]] | None:
    """The data rows of a file whose cells hold line breaks, from its line breaks outside quotes (records, not
    lines), counted to the end when that is quick, or None when that count does not fit the sample (a stray quote
    in an unquoted cell, an encoding whose bytes are not ASCII's)."""
    try:
        ascii_like = '\n\r"'.encode(decoded.codec) == b'\n\r"'
    except (LookupError, UnicodeError):
        ascii_like = False
    if not ascii_like or decoded.replaced:
        return None
    line_break = newline.decode(decoded.codec).encode("utf-8")
    lines = io.StringIO(decoded.text, newline="").readlines()
    header_count, inside = textio.outside_quotes("".join(lines[: parse.header_end]).encode(), line_break)
    if inside:
        return None
    data_count, inside = textio.outside_quotes("".join(lines[parse.header_end : parse.last_line]).encode(),
                                               line_break)
    if inside or data_count != records + parse.blank_lines:
        return None  # the quotes do not pair up as the reader reads them: count lines instead
    try:
        counted = textio.count_records(path, newline, start=decoded.bom)
        if not counted.estimated and not textio.ends_with(path, newline):
            counted = textio.LineCount(counted.count + 1, False, counted.bytes_read)  # the last record has no break
    except OSError as exc:
        return None, False, [f"could not count the rows: {exc.strerror or exc}"]
    data = counted.count - header_count
    if parse.blank_lines:
        data = round(data * records / (records + parse.blank_lines))
    notes = ["some rows span several lines (line breaks inside quoted cells): the rows are counted as records, "
             "not lines"]
    if parse.blank_lines:
        notes.append("blank lines among the rows: the row count is scaled from the first rows")
    if counted.estimated:
        notes.append(f"row count estimated: counting stopped after {textio.COUNT_SECONDS:g} s, at "
                     f"{format_size(counted.bytes_read)} of {format_size(head.size)}")
    return max(data, records), counted.estimated or bool(parse.blank_lines), notes


def _row_count(path: Path, head: textio.Head, decoded: textio.Decoded, parse: _Parse, records: int,
               endings: str) -> tuple[int | None, bool, list[str]]:
    """The number of data rows, whether it is an estimate, and notes saying how it was found.

    Exact from the parse when the whole file was read; otherwise from the file's line breaks, scaled by the
    sample's rows per line when some rows span several lines, and extrapolated when the count ran out of time.
    """
    if head.complete and parse.reached_end:
        return records, False, []
    newline = "\r".encode(decoded.codec) if endings == "CR" else decoded.newline
    try:
        counted = textio.count_lines(path, newline)
        lines = counted.count
        if not counted.estimated and not textio.ends_with(path, newline):
            lines += 1  # the last line has no line break
    except OSError as exc:
        return None, False, [f"could not count the rows: {exc.strerror or exc}"]
    notes: list[str] = []
    data_lines = lines - parse.header_end
    estimated = counted.estimated
    sample_lines = parse.last_line - parse.header_end
    if records and sample_lines > records + parse.blank_lines:
        by_records = _count_records(path, head, decoded, parse, records, newline)
        if by_records is not None:
            return by_records
    if records and sample_lines > records:
        # Blank lines or quoted cells holding line breaks: scale by the sample's rows per line.
        data_lines = round(data_lines * records / sample_lines)
        estimated = True
        notes.append("some of the first rows span several lines (line breaks inside quoted cells) or are blank: "
                     "the row count is scaled from them")
    elif not counted.estimated:
        notes.append(f"rows past the first {SAMPLE_BYTES // (1 << 20)} MB are counted by line breaks: a line break "
                     "inside a quoted cell would make the count approximate")
    if counted.estimated:
        notes.append(f"row count estimated: counting stopped after {textio.COUNT_SECONDS:g} s, at "
                     f"{format_size(counted.bytes_read)} of {format_size(head.size)}")
    return max(data_lines, records), estimated, notes
