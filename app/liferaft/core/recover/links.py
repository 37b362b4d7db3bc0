"""The files a conversation names: ``sandbox:/mnt/data/...`` links in the assistant's text (Markdown links, code
spans, bare paths) and the ``/mnt/data`` paths its code writes.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterable

#: A bare link runs to white space or a character that cannot be in one; its trailing punctuation is trimmed after.
SANDBOX_LINK = re.compile(r"sandbox:(/mnt/data/[^\s>`\"'<]+)")
#: Where a Markdown link's target starts (``[text](`` or ``![alt](``, optionally ``<`` for one with spaces).
_MD_TARGET = re.compile(r"\]\(\s*(<?)sandbox:/mnt/data/")
#: A code span on one line (backticks paired left to right): a link in one runs to the closing backtick.
_CODE_SPAN = re.compile(r"`([^`\n]*)`")
#: What ends a bare link (GitHub's rules for autolinks): these at its end are punctuation, not the name.
_TRAILING = ".,;:!?*_~'\""
_MNT_PATH = re.compile(r"(?<![\w/])/mnt/data/[^\s\"'`)\]>,;{}*?<|]+")
_MNT_LITERAL = re.compile(r"""(?<![\w])[rRuU]?(["'])(/mnt/data/[^"'\n{}*?]+)\1""")


_READS = re.compile(r"(?:read_\w+|load\w*|open_workbook|ZipFile|Image\.open|imread|listdir|glob|exists|isfile|"
                    r"isdir|walk|scandir|stat|getsize)\s*\(\s*[rRuU]?$")
_WRITES = re.compile(r"(?:to_\w+|save\w*|savefig|output|write\w*|dump|export|copy\w*|move|rename|makedirs|mkdir)"
                     r"\s*\(")


def _decode_path(raw: str) -> str | None:
    """``/mnt/data/a%20b/c.png.`` → ``a b/c.png``: relative to /mnt/data, URL-decoded, trailing punctuation off."""
    raw = raw.rstrip(".,;:!?")
    path = urllib.parse.unquote(raw).removeprefix("/mnt/data").strip("/")
    parts = [part for part in path.split("/") if part not in ("", ".")]
    if not parts or ".." in parts:
        return None
    return "/".join(parts)


def _markdown_target(text: str, start: int, angled: bool) -> int | None:
    """The end of a Markdown link's target that starts at ``start``: the ``>`` of an angled one, else the ``)``
    that balances the link's ``(`` (so ``chart_(v2).png`` stays whole), a title (`` "..."``) cut off. None when
    the link is not closed on its line."""
    if angled:
        end = text.find(">", start)
        return end if end != -1 and "\n" not in text[start:end] else None
    depth = 0
    for index in range(start, len(text)):
        char = text[index]
        if char == "\n":
            return None
        if char == "(":
            depth += 1
        elif char == ")":
            if depth == 0:
                return index
            depth -= 1
        elif char.isspace() and text[index + 1:index + 2] in ('"', "'", "("):
            return index  # [text](sandbox:/mnt/data/a.csv "title")
    return None


def _trim_bare(link: str) -> str:
    """A bare link without its trailing punctuation: ``.,;:!?*_~`` and quotes, and a ``)`` or ``]`` that closes
    nothing in it (``(see sandbox:/mnt/data/a.csv)``)."""
    while link:
        last = link[-1]
        unbalanced = (last == ")" and link.count(")") > link.count("(")) or \
            (last == "]" and link.count("]") > link.count("["))
        if last not in _TRAILING and not unbalanced:
            break
        link = link[:-1]
    return link


def sandbox_links(text: str) -> list[str]:
    """The ``sandbox:/mnt/data/...`` links in assistant text, decoded, in order: Markdown links (parentheses in
    the name balanced, ``<...>`` targets with spaces), links in backticks (everything up to the closing backtick,
    spaces included), and bare ones (up to white space, trailing punctuation left out)."""
    found: list[tuple[int, str]] = []
    taken: list[tuple[int, int]] = []

    def free(start: int) -> bool:
        return not any(low <= start < high for low, high in taken)

    for match in _MD_TARGET.finditer(text):
        start = match.end() - len("/mnt/data/")
        end = _markdown_target(text, start, bool(match[1]))
        if end is None:
            continue
        found.append((start, text[start:end].strip()))
        taken.append((match.start(), end + 1))
    for match in _CODE_SPAN.finditer(text):
        if "sandbox:/mnt/data/" not in match[1] or not free(match.start(1)):
            continue
        body, offset = match[1], match.start(1)
        pieces = body.split("sandbox:")  # `sandbox:/mnt/data/a b.csv` (and more than one in a span)
        at = len(pieces[0])
        for piece in pieces[1:]:
            at += len("sandbox:")
            if piece.startswith("/mnt/data/"):
                found.append((offset + at, piece.strip()))
            at += len(piece)
        taken.append((match.start(), match.end()))
    for match in SANDBOX_LINK.finditer(text):
        if free(match.start()):
            found.append((match.start(1), _trim_bare(match[1])))
    paths: list[str] = []
    for _start, raw in sorted(found):
        path = _decode_path(raw)
        if path and path not in paths:
            paths.append(path)
    return paths


def _has_extension(path: str) -> bool:
    name = path.rpartition("/")[2]
    stem, dot, ext = name.rpartition(".")
    return bool(dot and stem and ext and len(ext) <= 8 and ext.isalnum())


def written_paths(code: str, uploads: Iterable[str] = ()) -> list[str]:
    """``/mnt/data/...`` files a cell's code probably wrote: path literals that are not uploads and not only read
    (``read_csv(...)``, ``open(...)`` without a write mode), with an extension (folders are not outputs)."""
    upload_keys = {name.casefold() for name in uploads}
    found: list[str] = []
    matches = [(match.start(), match.end(), match[2]) for match in _MNT_LITERAL.finditer(code)]
    covered = [(start, end) for start, end, _text in matches]
    matches += [(match.start(), match.end(), match[0]) for match in _MNT_PATH.finditer(code)
                if not any(start <= match.start() < end for start, end in covered)]
    matches.sort()
    for start, end, text in matches:
        path = _decode_path(text.rstrip("\\"))
        if not path or not _has_extension(path) or path.casefold() in upload_keys:
            continue
        before = code[max(0, start - 60):start].rstrip("\"'")
        line = code[code.rfind("\n", 0, start) + 1:start]
        if _READS.search(before) and not _WRITES.search(before[-30:]):
            continue
        if re.search(r"\bopen\s*\(\s*[rRuU]?$", before):
            after = code[end:end + 40]
            if not re.match(r"""\s*["']?\s*,\s*(?:mode\s*=\s*)?["'][^"']*[wax]""", after):
                continue
        if "#" in line and line.lstrip().startswith("#"):
            continue
        if path not in found:
            found.append(path)
    return found
