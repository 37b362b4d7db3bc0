"""Names cut to fit a column: in the middle, keeping what tells them apart.

``transactions_2025.part1.csv`` … ``part4.csv`` cut at their end all read ``transactions_…``; cut by
:func:`cut_middle` they read ``trans….part1.csv`` … ``trans….part4.csv``. The extension is kept, and so is a
trailing part number or other short suffix that distinguishes siblings (``.part03``, ``-2``, `` (1)``,
``_v3``, ``_2025``, ``.utf8``, ``.comma``). Widths are terminal cells: East Asian wide characters take two,
combining marks none. Pure text: no Rich or Textual here (the TUI and the CLI both use it).

Names valid everywhere: every name Liferaft suggests or writes goes through :func:`portable_name` (or, for a
name the user typed, is checked by :func:`name_problem`): no name Windows reserves (``CON``, ``PRN``, ``AUX``,
``NUL``, ``COM1``-``COM9``, ``LPT1``-``LPT9``, with or without an extension), no trailing dot or space, none of
``<>:"|?*\\/`` nor a control character, at most 255 bytes (Linux, macOS) and 255 UTF-16 units (Windows).
Names are compared with :func:`same_name_key`: NFC, so that a name typed on macOS (NFD) and the same name
typed on Linux (NFC) are one name.
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

# --- names valid everywhere ---------------------------------------------------------------------------------

#: The names Windows keeps for devices, whatever the case and with any extension (``con.txt`` too);
#: the superscript digits count as digits there.
WINDOWS_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {f"{device}{digit}" for device in ("COM", "LPT") for digit in "123456789\u00b9\u00b2\u00b3"})
#: Characters a file name cannot hold on Windows (and ``/`` nowhere); control characters neither.
_FORBIDDEN = re.compile(r'[<>:"|?*/\\\x00-\x1f\x7f]')
#: The longest file name: 255 bytes on Linux and macOS, 255 UTF-16 code units on Windows.
MAX_NAME = 255


def _reserved(name: str) -> bool:
    """Whether Windows takes ``name`` for a device: its part before the first dot, blanks after it ignored."""
    return name.split(".", 1)[0].rstrip(" ").upper() in WINDOWS_RESERVED


def _name_length(name: str) -> int:
    """How long ``name`` is where it counts most: the larger of its UTF-8 bytes and its UTF-16 units."""
    return max(len(name.encode("utf-8", "surrogateescape")), len(name.encode("utf-16-le", "surrogatepass")) // 2)


def name_problem(name: str) -> str | None:
    """Why ``name`` (one file name, not a path) would not work on Linux, macOS and Windows alike, in a few words;
    None when it is fine everywhere."""
    if not name or name in (".", ".."):
        return "it is not a file name"
    bad = _FORBIDDEN.search(name)
    if bad:
        char = bad.group()
        shown = repr(char) if char.isprintable() else "a control character or line break"
        return f"it has {shown}, which Windows does not allow in a file name"
    if name != name.rstrip(". "):
        return "it ends with a dot or a space, which Windows drops"
    if _reserved(name):
        return f"{name.split('.', 1)[0].rstrip(' ')!r} is a device name on Windows"
    if _name_length(name) > MAX_NAME:
        return f"it is {_name_length(name)} bytes long: at most {MAX_NAME} fit in a file name"
    return None


def _cut_to(text: str, limit: int) -> str:
    while text and _name_length(text) > limit:
        text = text[:-1]
    return text


def portable_name(name: str, fallback: str = "file", *, keep: int = 0, limit: int = MAX_NAME) -> str:
    """``name`` made a file name that works on Linux, macOS and Windows alike (see :func:`name_problem`).

    A character Windows does not allow (or a control character) becomes ``_``; trailing dots and spaces go; a
    device name gets ``_`` after its first part (``con.csv`` -> ``con_.csv``); a name too long is cut before
    its extension to ``limit`` (the last ``keep`` characters are never cut: pass the length of a suffix); an
    empty result is ``fallback``. NFC, so that the same name never comes out in two forms."""
    name = unicodedata.normalize("NFC", name)
    name = _FORBIDDEN.sub("_", name).rstrip(". ")
    if not name.strip(" ."):
        name = fallback
    if _reserved(name):
        first, dot, rest = name.partition(".")
        name = f"{first.rstrip(' ')}_{dot}{rest}"
    if _name_length(name) > limit:
        end = name[len(name) - keep:] if 0 < keep < len(name) else ""
        if not end:
            extension = _EXTENSION.search(name)
            end = extension.group() if extension and extension.start() > 0 else ""
        head = _cut_to(name[: len(name) - len(end)], limit - _name_length(end)).rstrip(". ")
        name = (head or fallback) + end
    return name


def written_form(name: str) -> str:
    """``name`` as Liferaft writes it (:func:`portable_name`, with nothing in place of an empty name), at once
    when it needs no change (most names): so that a file written under its portable form is matched to the
    name it came from."""
    if (len(name) < MAX_NAME // 4 and _FORBIDDEN.search(name) is None and not name.endswith((".", " "))
            and not _reserved(name)):
        return unicodedata.normalize("NFC", name) if not name.isascii() else name
    return portable_name(name, fallback="")


def same_name_key(name: str) -> str:
    """The form in which two names are compared: NFC (macOS writes names decomposed, NFD; Linux and Windows
    keep them as typed), so ``café`` typed either way is one name."""
    return unicodedata.normalize("NFC", name)


def match_key(name: str) -> str:
    """The form in which two names are matched ignoring case: NFC, then case-folded (``Café.csv`` typed on Linux
    and ``café.csv`` as macOS writes it, decomposed, are one name)."""
    return name.casefold() if name.isascii() else unicodedata.normalize("NFC", name).casefold()


def case_clashes(paths: list[str]) -> list[list[str]]:
    """The groups of ``paths`` (``/``-separated) that differ only by case or by Unicode form: on macOS and
    Windows, whose folders usually ignore case, only one of each group could exist. Each group sorted, the
    groups in order of their first path."""
    groups: dict[str, list[str]] = {}
    for path in paths:
        key = match_key(path)
        groups.setdefault(key, []).append(path)
    return [sorted(group) for group in groups.values() if len(group) > 1]


__all__ = ["ELLIPSIS", "MAX_NAME", "WINDOWS_RESERVED", "case_clashes", "cell_width", "char_width", "cut_middle",
           "match_key", "name_problem", "portable_name", "same_name_key", "split_name"]
