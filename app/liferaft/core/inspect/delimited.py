"""CSV and TSV: the first rows, a schema inferred from a sample, and a row count, reading only what is shown.

The first megabyte is read and decoded (byte-order mark, strict UTF-8, or a guess), the delimiter is told
from how consistently each candidate splits the lines, and the rows are parsed with the csv module as text,
so "2" stays "2". The rows are counted by streaming the whole file's line breaks in fixed-size chunks; past
a time budget the count stops and is scaled to the file's size, and says so.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from liferaft.core.inspect import DEFAULT_ROWS, Column, Preview
from liferaft.core.inspect import text as textio
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
#: How many lines the delimiter is told from.
SNIFF_LINES = 200

DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}

#: Cell values that mean "missing" to pandas and to people; they do not decide a column's type.
NA_VALUES = frozenset({"na", "n/a", "nan", "null", "none", "#n/a", "<na>", "nat"})


# --- type inference ----------------------------------------------------------------------------------

_INT = re.compile(r"[+-]?\d+")
_DECIMAL = re.compile(r"[+-]?(?:\d+\.\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?\d+[eE][+-]?\d+")
# "1,234,567.89": comma thousands, dot decimals. "1.234.567,89": the other way round.
_GROUPED_DOT = re.compile(r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")
_GROUPED_COMMA = re.compile(r"[+-]?(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?")
_BOOLEANS = frozenset({"true", "false", "yes", "no"})
_MONTHS = frozenset({
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "january",
    "february", "march", "april", "june", "july", "august", "september", "october", "november", "december",
})
_TIME = r"(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:\s?[AaPp][Mm])?(?:\s?(?:Z|UTC|[+-]\d{2}:?\d{2}))?)"
_ISO = re.compile(rf"(\d{{4}})[-/.](\d{{1,2}})[-/.](\d{{1,2}}){_TIME}?")
_DMY = re.compile(rf"(\d{{1,2}})[-/.](\d{{1,2}})[-/.](\d{{4}}|\d{{2}}){_TIME}?")
_NAMED = re.compile(  # "2 Mar 2025", "2-Mar-2025", "March 2, 2025"
    rf"(?:(\d{{1,2}})[ -]([A-Za-z]{{3,9}})\.?,?[ -](\d{{4}})|([A-Za-z]{{3,9}})\.? (\d{{1,2}}),? (\d{{4}})){_TIME}?"
)


def _date_kind(value: str) -> str | None:
    """'date' or 'datetime' when ``value`` reads as one, else None."""
    match = _ISO.fullmatch(value)
    if match:
        month, day = int(match[2]), int(match[3])
        ok = 1 <= month <= 12 and 1 <= day <= 31
    elif (match := _DMY.fullmatch(value)) is not None:
        first, second = int(match[1]), int(match[2])
        # Day-month or month-day: one of the two must be a month, both must be days.
        ok = 1 <= min(first, second) <= 12 and max(first, second) <= 31
    elif (match := _NAMED.fullmatch(value)) is not None:
        month_name = (match[2] or match[4]).lower()
        day = int(match[1] or match[5])
        ok = month_name in _MONTHS and 1 <= day <= 31
    else:
        return None
    if not ok:
        return None
    return "datetime" if ":" in value else "date"


@dataclass(frozen=True, slots=True)
class Inferred:
    type: str
    """One of: integer, decimal, boolean, date, datetime, text, empty."""
    reason: str | None = None
    """Why a column that looks numeric is typed as text, for a note."""


def infer_type(values: Iterable[str]) -> Inferred:
    """The type that fits every non-empty value (missing markers such as "NA" are ignored)."""
    present = [value.strip() for value in values]
    present = [value for value in present if value]
    if not present:
        return Inferred("empty")
    real = [value for value in present if value.lower() not in NA_VALUES]
    if not real:
        return Inferred("text")
    if all(_INT.fullmatch(value) for value in real):
        padded = next((v for v in real if len(v.lstrip("+-")) > 1 and v.lstrip("+-").startswith("0")), None)
        if padded is not None:
            return Inferred("text", f"has leading zeros ({padded}): read it as text to keep them")
        return Inferred("integer")
    if all(_INT.fullmatch(value) or _DECIMAL.fullmatch(value) for value in real):
        return Inferred("decimal")
    grouped_dot = all(_GROUPED_DOT.fullmatch(value) for value in real)
    grouped_comma = all(_GROUPED_COMMA.fullmatch(value) for value in real)
    if grouped_dot and not grouped_comma:
        return Inferred("decimal" if any("." in value for value in real) else "integer")
    if grouped_comma and not grouped_dot:
        return Inferred("decimal" if any("," in value for value in real) else "integer")
    if grouped_dot and grouped_comma:
        example = next(value for value in real if "," in value or "." in value)
        return Inferred("text", f"numbers such as {example} could have a thousands separator or a decimal "
                                "comma: typed as text")
    lowered = {value.lower() for value in real}
    if lowered <= _BOOLEANS:
        return Inferred("boolean")
    kinds = set()
    for value in real:
        kind = _date_kind(value)
        if kind is None:
            return Inferred("text")
        kinds.add(kind)
    return Inferred("datetime" if "datetime" in kinds else "date")


# --- delimiter ---------------------------------------------------------------------------------------

_QUOTED = re.compile(r'"[^"]*"')
_QUOTED_BY = {'"': _QUOTED, "'": re.compile(r"'[^']*'")}
_OPENS = {quote: re.compile(rf"(?:^|[,;\t|]){quote}") for quote in "\"'"}
_CLOSES = {quote: re.compile(rf"{quote}(?:[,;\t|]|$)") for quote in "\"'"}


def sniff_quote(text: str) -> str:
    """``'`` when most of the first lines quote their cells with it (at a cell's start and at a cell's end) and
    hardly any with ``"``; else ``"``, the usual quote."""
    lines = [line for line in text[:65536].splitlines()[:SNIFF_LINES] if line.strip()]
    if len(lines) < 2:
        return '"'

    def quoting(quote: str) -> int:
        return sum(1 for line in lines if _OPENS[quote].search(line) and _CLOSES[quote].search(line))

    single, double = quoting("'"), quoting('"')
    return "'" if single * 2 >= len(lines) and double * 10 < len(lines) else '"'


def spaces_split(text: str) -> str | None:
    """"runs of spaces" or "single spaces" when the first lines, split at their spaces, have one number of fields
    (two or more) nearly all of them; None when they do not."""
    lines = [line for line in text[:65536].splitlines()[:SNIFF_LINES] if line.strip()]
    if len(lines) < 3:
        return None
    counts = Counter(len(line.split()) for line in lines)
    mode, frequency = counts.most_common(1)[0]
    if mode < 2 or frequency < 0.8 * len(lines):
        return None
    return "runs of spaces" if any(re.search(r"\S {2,}\S", line) for line in lines) else "single spaces"


def aligned_columns(text: str) -> int | None:
    """The number of columns when the first lines are laid out in fixed positions (what ``pandas.read_fwf``
    reads): at least two runs of positions that are blank on every long line, each with text on both sides, and
    most lines holding text between them. None when they are not (prose, a single column, a tab in the lines)."""
    lines = [line.rstrip() for line in text[:65536].splitlines()[:SNIFF_LINES] if line.strip()]
    if len(lines) < 5 or any("\t" in line for line in lines):
        return None
    width = max(len(line) for line in lines)
    # A line much shorter than the rest (a cut last line, a remark below the table) is not held against a gutter.
    long = [line for line in lines if len(line) >= 0.6 * width]
    if len(long) < 0.8 * len(lines) or len(long) < 5:
        return None
    blank = [all(position >= len(line) or line[position] == " " for line in long) for position in range(width)]
    spans: list[tuple[int, int]] = []  # the runs of positions holding text on some line
    start = None
    for position, empty in enumerate([*blank, True]):
        if not empty and start is None:
            start = position
        elif empty and start is not None:
            spans.append((start, position))
            start = None
    if len(spans) < 3:
        return None
    filled = sum(1 for line in long for begin, end in spans if line[begin:end].strip())
    return len(spans) if filled >= 0.9 * len(long) * len(spans) else None


def sniff_delimiter(text: str, preferred: str = ",", quote: str = '"') -> str | None:
    """The candidate that splits the sample's lines most consistently, or None when none splits them.

    Quoted cells are set aside first, so a delimiter or line break inside quotes does not count. A candidate is
    weighed over every line, the lines without it included: when more lines lack it than have its most common
    count, it is punctuation in the text (a stray ";" in free text), not what separates the columns.
    """
    window = text[:65536]
    lines = [line for line in _QUOTED_BY[quote].sub(quote * 2, window).splitlines() if line.strip()]
    if len(window) < len(text) and len(lines) > 1:
        lines.pop()  # the last line of a cut window may be partial
    lines = lines[:SNIFF_LINES]
    if not lines:
        return None
    candidates = [preferred, *(d for d in DELIMITER_NAMES if d != preferred)]
    best: tuple[float, int, int] | None = None
    chosen: str | None = None
    for order, delimiter in enumerate(candidates):
        counts = [line.count(delimiter) for line in lines]
        nonzero = [count for count in counts if count]
        if not nonzero:
            continue
        mode, frequency = Counter(nonzero).most_common(1)[0]
        if len(lines) - len(nonzero) > frequency:
            continue  # most lines do not have it: it does not separate columns
        # Consistency over every line (a line without it counts against it), then more columns, then order.
        score = (round(frequency / len(lines), 2), mode, -order)
        if best is None or score > best:
            best, chosen = score, delimiter
    return chosen


# --- title lines above the header --------------------------------------------------------------------

#: At most this many title lines are looked for above a header.
MAX_TITLE_LINES = 10
#: The rows after a header that tell it (all as wide as it, :data:`TITLE_EVIDENCE` of them with two cells filled).
TITLE_ROWS = 5
TITLE_EVIDENCE = 4


@dataclass(frozen=True, slots=True)
class TitleLines:
    """Lines above a table's real header: a title, a unit line, a source line, and blank lines among them."""

    lines: int
    """Physical lines above the header (what ``prepare --skip-rows`` takes)."""
    titles: int
    """Of them, those that hold text (the rest are blank)."""
    first: str
    """The first title's text, for the note."""


def _filled(fields: list[str]) -> int:
    return sum(1 for cell in fields if cell.strip())


def title_lines(text: str, delimiter: str, quote: str = '"') -> TitleLines | None:
    """The lines above the real header when ``text`` starts with lines that are not the table: a title (one
    filled cell, or a ``#`` comment), maybe a few more (narrow lines such as a unit, a source, ``key;value``
    report details: at most half as many filled cells as the header), then a consistent table: a header of at
    least two names, not all numbers, and rows as wide as it, most of them with two cells or more filled.

    When several lines could be the header, the first is taken, unless a later one names at least twice as
    many columns (report details above a table look like a narrow table of their own). None when the first
    line that holds text is the header, or no table follows."""
    if csv.field_size_limit() < len(text) + 1:
        csv.field_size_limit(len(text) + 1)
    reader = csv.reader(io.StringIO(text[:65536], newline=""), delimiter=delimiter, quotechar=quote, strict=False)
    records: list[tuple[list[str], int, int]] = []  # the non-blank records, the lines each starts and ends on
    previous = 0
    try:
        for fields in reader:
            if _filled(fields):
                records.append((fields, previous + 1, reader.line_num))
            previous = reader.line_num
            if len(records) > MAX_TITLE_LINES + TITLE_ROWS:
                break
    except csv.Error:
        return None
    if not records:
        return None
    # A first line of several cells may be a header with blanks in it: a line under it is taken for the header
    # only when that one holds names, not only numbers (a data row, or years, which a title line above allows).
    wide_first = _filled(records[0][0]) > 1 and not _first_filled(records[0][0]).startswith("#")
    best: int | None = None
    for start in range(1, min(MAX_TITLE_LINES, len(records)) + 1):
        header = records[start][0] if start < len(records) else []
        rows = [fields for fields, _, _ in records[start + 1 : start + 1 + TITLE_ROWS]]
        names = _filled(header)
        if names < 2 or len(rows) < TITLE_ROWS:
            continue
        if wide_first and all(_number(cell) for cell in header if cell.strip()):
            continue
        # A table follows: its rows as wide as the header, most with two cells or more filled.
        if any(len(row) != len(header) for row in rows) or sum(_filled(row) >= 2 for row in rows) < TITLE_EVIDENCE:
            continue
        # Each line above it is a title or a narrow note.
        if not all(_title_like(fields, names) for fields, _, _ in records[:start]):
            continue
        if best is None or names >= 2 * _filled(records[best][0]):
            best = start
    if best is None:
        return None
    return TitleLines(records[best][1] - 1, best, _first_filled(records[0][0]))


def _title_like(fields: list[str], names: int) -> bool:
    """Whether a line above a header of ``names`` columns reads as a title or a note, not as a header itself:
    one filled cell, a ``#`` comment, or at most half as many filled cells as the header names."""
    filled = _filled(fields)
    return filled <= 1 or _first_filled(fields).startswith("#") or 2 * filled <= names


# --- a header of two rows ----------------------------------------------------------------------------

_NUMBER = re.compile(r"[-+(]?[$€£¥]?\s*\d[\d\s.,']*(?:[eE][-+]?\d+)?\s*[%)]?")
_MISSING = frozenset({"", "na", "n/a", "nan", "null", "none", "-", "--", ".", "?", "#n/a"})
#: Data rows (after the possible second header row) looked at, and how many of them at least.
HEADER_EVIDENCE_ROWS = 20
HEADER_EVIDENCE_MIN = 3


def _number(cell: str) -> bool:
    return bool(_NUMBER.fullmatch(cell.strip()))


def second_header_row(header: list[str], rows: list[list[str]]) -> bool:
    """Whether the first row under ``header`` is a second header row, told from the data rows after it:

    - units or sub-names: in the columns whose data is numbers it holds no number, and a word in one of them at
      least (not a missing-value mark such as NA);
    - sub-names under groups (``Sales,,Costs,`` over ``2024,2025,2024,2025``): it fills the header's blank cells
      (right of the first column: a blank first name is a saved index) and is blank in a column every data row
      fills (the row labels)."""
    body = [row for row in rows[1 : 1 + HEADER_EVIDENCE_ROWS] if _filled(row)]
    if not rows or len(body) < HEADER_EVIDENCE_MIN:
        return False
    second = rows[0]

    def cell(row: list[str], column: int) -> str:
        return row[column].strip() if column < len(row) else ""

    width = len(header)
    numeric = [column for column in range(width)
               if sum(_number(cell(row, column)) for row in body) >= 0.8 * len(body)]
    if numeric and not any(_number(cell(second, column)) for column in numeric) and \
            any(cell(second, column).lower() not in _MISSING for column in numeric):
        return True
    blanks = [column for column in range(1, width) if not header[column].strip()]
    labels = [column for column in range(width) if all(cell(row, column) for row in body)]
    return bool(blanks) and all(cell(second, column) for column in blanks) and \
        any(not cell(second, column) for column in labels)


def _first_filled(fields: list[str]) -> str:
    return next((cell.strip() for cell in fields if cell.strip()), "")


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
