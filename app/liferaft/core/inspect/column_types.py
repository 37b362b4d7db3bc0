"""Column types of a delimited table, told from its cells as text: integer, decimal (with a thousands separator
either way round), boolean, date, datetime or text, and why a column that looks numeric is typed as text. Cells
that mean "missing" (NA, null...) do not decide a column's type.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

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
