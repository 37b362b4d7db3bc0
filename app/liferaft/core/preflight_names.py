"""File names a chat reads badly: ones that say nothing (``data.csv``, ``final2.xlsx``, ``Copy of …(1)``), and
the clearer name a table's own columns and dates suggest.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from liferaft.core.inspect import Preview

# Names that tell a new chat nothing, or mislead it. Matched per word of the name, case-insensitively.
_CONFUSING_WORDS = re.compile(r"(final|untitled|new|test|copy|temp|tmp)\d*")
_BARE_NAMES = re.compile(r"(data|file|export|download|sheet|book|table|df)\d*")
_DOWNLOAD_DUPLICATE = re.compile(r"\(\d+\)|\bcopy of\b|-\s*copy\b")
_DATE_PREFIX = re.compile(r"(\d{4})(?:[-/.](\d{1,2}))?")
_ID_NAME = re.compile(r"(?:^|_)(id|key|uuid|index)$")


def _words(stem: str) -> list[str]:
    return [word for word in re.split(r"[^a-z0-9]+", stem.lower()) if word]


def confusing_name(name: str) -> str | None:
    """Why ``name`` would confuse a new chat, or None when it is fine."""
    stem = name.rsplit(".", 1)[0] if "." in name.strip(".") else name
    lowered = stem.lower()
    if _DOWNLOAD_DUPLICATE.search(lowered):
        return "looks like a download duplicate or a copy"
    words = _words(stem)
    if not words:
        return "says nothing about what the file holds"
    vague = [word for word in words if _CONFUSING_WORDS.fullmatch(word)]
    if vague:
        return f"{vague[0]!r} says nothing about what the file holds"
    if len(words) == 1 and _BARE_NAMES.fullmatch(words[0]):
        return f"{stem!r} says nothing about what the file holds"
    return None


def _slug(value: str) -> str:
    return "_".join(_words(value))[:30].strip("_")


def suggest_name(preview: Preview | None, extension: str) -> str | None:
    """A clearer name from a table's columns (two informative ones) and the date range of its first rows."""
    if preview is None or not preview.columns:
        return None
    date_index: int | None = None
    informative: list[str] = []
    for index, column in enumerate(preview.columns):
        name = column.name
        slug = _slug(name)
        if not slug or name.startswith("Unnamed: "):
            continue
        values = [row[index] for row in preview.rows if index < len(row) and row[index].strip()]
        looks_dated = column.type in ("date", "datetime") or (
            values and all(_DATE_PREFIX.match(value.strip()) for value in values[:20])
            and re.search(r"date|month|time|day|year|period", slug))
        if looks_dated and date_index is None:
            date_index = index
            continue
        if _ID_NAME.search(slug) or slug in informative:
            continue
        informative.append(slug)
    parts = informative[:2]
    if date_index is not None:
        found = []
        for row in preview.rows:
            if date_index < len(row) and (match := _DATE_PREFIX.match(row[date_index].strip())):
                found.append(match[1] + (f"-{int(match[2]):02d}" if match[2] else ""))
        if found:
            low, high = min(found), max(found)
            if low[:4] == high[:4] and low != high and len(low) > 4 and low.endswith("-01") and \
                    high.endswith("-12"):
                parts.append(low[:4])
            else:
                parts.append(low if low == high else f"{low}_to_{high}")
    if not parts:
        return None
    return "_".join(parts) + extension
