"""How a delimited text is laid out, told from its first lines: the quote character, the delimiter (or columns
split by spaces, or lined up in fixed positions), title lines above the real header, and a header of two rows.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from dataclasses import dataclass

#: How many lines the delimiter is told from.
SNIFF_LINES = 200

DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


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
