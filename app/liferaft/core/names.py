"""Names cut to fit a column: in the middle, keeping what tells them apart.

``transactions_2025.part1.csv`` … ``part4.csv`` cut at their end all read ``transactions_…``; cut by
:func:`cut_middle` they read ``trans….part1.csv`` … ``trans….part4.csv``. The extension is kept, and so is a
trailing part number or other short suffix that distinguishes siblings (``.part03``, ``-2``, `` (1)``,
``_v3``, ``_2025``, ``.utf8``, ``.comma``). Widths are terminal cells: East Asian wide characters take two,
combining marks none. Pure text: no Rich or Textual here (the TUI and the CLI both use it).
"""

from __future__ import annotations

import re
import unicodedata

ELLIPSIS = "…"

#: An extension: a dot and 1-6 letters or digits at the very end.
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,6}$")
#: A suffix that tells siblings apart, at the end of the stem: a part number, a copy number, a version, a year,
#: or one of the suffixes `liferaft prepare` writes.
_SUFFIX = re.compile(
    r"(?:\.part\d+|[._ -](?:v|p|part)?\d{1,8}|\s?\(\d+\)|\.(?:utf8|comma))$", re.IGNORECASE)
#: The suffixes that nearly always are the difference between siblings (parts, copies, versions): kept even
#: at the cost of the extension. A year (``_2025``) is kept only while the extension fits too.
_STRONG = re.compile(r"^(?:\.part\d+|[._ -](?:v|p|part)?\d{1,3}|\s?\(\d+\)|\.(?:utf8|comma))$", re.IGNORECASE)


def char_width(char: str) -> int:
    """Terminal cells one character takes: 0 for combining marks and zero-width characters, 2 for wide ones."""
    if unicodedata.combining(char) or char in "\u200b\u200c\u200d\u2060\ufeff":
        return 0
    category = unicodedata.category(char)
    if category in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def cell_width(text: str) -> int:
    """Terminal cells ``text`` takes (see :func:`char_width`)."""
    if text.isascii():
        return len(text)
    return sum(char_width(char) for char in text)


def _head(text: str, cells: int) -> str:
    """The longest start of ``text`` that fits in ``cells`` (a wide character that would straddle is left out)."""
    used = 0
    for index, char in enumerate(text):
        width = char_width(char)
        if used + width > cells:
            return text[:index]
        used += width
    return text


def _tail(text: str, cells: int) -> str:
    """The longest end of ``text`` that fits in ``cells``; it never starts with a combining mark."""
    used = 0
    start = len(text)
    for index in range(len(text) - 1, -1, -1):
        width = char_width(text[index])
        if used + width > cells:
            break
        used += width
        start = index
    while start < len(text) and char_width(text[start]) == 0:  # a mark without its base would join the "…"
        start += 1
    return text[start:]


def split_name(name: str) -> tuple[str, str]:
    """``name`` as (the part that may be cut, the end that is kept): the kept end is the extension with the
    suffix that tells siblings apart before it (``.part1.csv``, ``-2.png``, ``_2025.xlsx``)."""
    kept = ""
    stem = name
    extension = _EXTENSION.search(stem)
    if extension and extension.start() > 0:
        kept = extension.group()
        stem = stem[: extension.start()]
    suffix = _SUFFIX.search(stem)
    if suffix and suffix.start() > 0:
        kept = suffix.group() + kept
        stem = stem[: suffix.start()]
    return stem, kept


def cut_middle(name: str, width: int) -> str:
    """``name`` in at most ``width`` cells, cut in the middle with ``…`` where it is too long.

    The end that tells names apart (see :func:`split_name`) is kept whole when at least three cells of the rest
    still fit before the ``…``; otherwise the extension alone is kept, and failing that the name is cut at its
    end. With nothing distinguishing at the end, the cut falls about two thirds of the way in, so both ends
    show (``survey_r…ses.csv``). A path keeps its file name before its folders: ``prepared/transactions.csv``
    becomes ``prep…/transactions.csv``, then ``…/trans….csv``.
    """
    if width <= 0:
        return ""
    if cell_width(name) <= width:
        return name
    if width == 1:
        return ELLIPSIS
    folder, slash, base = name.rpartition("/")
    if slash:
        room = width - cell_width(base) - 1  # "folder…" + "/" + base
        if room >= 4:
            return _head(folder, room - 1) + ELLIPSIS + "/" + base
        if cell_width(base) + 2 <= width:
            return ELLIPSIS + "/" + base
        return cut_middle(base, width)  # the name matters more than where it sits
    _stem, kept = split_name(name)
    extension = _EXTENSION.search(name)
    ext = extension.group() if extension and extension.start() > 0 else ""
    suffix = kept[: len(kept) - len(ext)] if ext else kept
    ends: list[tuple[str, int]] = []  # (the end kept, the fewest cells of the start to keep with it)
    if suffix:
        strong = _STRONG.match(suffix) is not None
        ends.append((kept, 3 if strong else 6))  # a year is worth less than the start of the name
        if strong:
            ends += [(suffix, 3), (kept, 1), (suffix, 1)]
    if ext:
        ends.append((ext, 3))
    for end, least in ends:
        room = width - cell_width(end) - 1
        if room >= least:
            rest = name[: len(name) - len(end)]
            if end is not ext:
                return _head(rest, room) + ELLIPSIS + end  # a distinguishing suffix: all the room to the start
            back = room // 3 if room >= 9 else 0
            return _head(rest, room - back) + ELLIPSIS + _tail(rest, back) + end
    back = (width - 1) // 3 if width >= 10 else 0
    return _head(name, width - 1 - back) + ELLIPSIS + (_tail(name, back) if back else "")

__all__ = ["ELLIPSIS", "cell_width", "char_width", "cut_middle", "split_name"]
