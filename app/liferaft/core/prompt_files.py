"""The files a prompt hands to the new chat, beside its text (pure logic for :mod:`liferaft.core.compose`).

* :func:`choose_code`: which scripts and notebooks of CODE/ go with the prompt (the ones the restart note
  names; else all of them, up to :data:`MAX_CODE_FILES`).
* :func:`upload_order`: the order to upload the tables in, the order the analysis reads them: as the note's
  *Files used* lists them, then as the code opens them (``read_csv``, ``read_excel``, ``open``, ``read.csv``…),
  the rest last by name.
* :func:`names_not_available`: the file names a prompt's text mentions that the chat will not have (neither
  uploaded, inlined nor an output it is asked to make), so that no prompt sends the chat looking for a file.
"""

from __future__ import annotations

import functools
import re
import urllib.parse
from collections.abc import Iterable, Sequence

from liferaft.core.names import written_form
from liferaft.core.scan import FileRecord, shown_name

#: Code kinds uploaded (or inlined) with a prompt: scripts and notebooks. A text file in CODE/ goes only when the
#: restart note names it.
SCRIPT_KINDS = frozenset({"python", "notebook", "sql", "r"})
#: Scripts and notebooks sent at most when the restart note names none: each one counts against the vendor's
#: files-per-window upload limit (80 every 3 hours), and a folder of a hundred drafts is not "the code".
MAX_CODE_FILES = 20

#: What a file name mentioned in a prompt may end with (a name like "e.g" or "v1.2" is not a file).
NAME_EXTENSIONS = frozenset({
    "csv", "tsv", "txt", "json", "jsonl", "ndjson", "xlsx", "xlsm", "xls", "parquet", "feather", "pkl", "pickle",
    "png", "jpg", "jpeg", "gif", "svg", "webp", "pdf", "html", "htm", "md", "docx", "pptx", "zip", "py", "ipynb",
    "sql", "r", "rmd",
})
#: An extension a mentioned name ends with: found first (a fast scan), then the name is read back from it.
_EXTENSION = re.compile(r"\.(?:" + "|".join("".join(f"[{char}{char.upper()}]" for char in extension) for extension
                                              in sorted(NAME_EXTENSIONS, key=len, reverse=True)) + r")(?![\w\-(])")
_QUOTED_NAME = re.compile(r"`([^`\n]+\.([A-Za-z0-9]{1,8}))`")
_DUPLICATE = re.compile(r"\s*\(\d+\)(?=\.[^.]+$)")


def name_key(name: str) -> str:
    """How names are matched: the last part of a path, URL-decoded, case-insensitive, without a "(1)" suffix, in
    one Unicode form (NFC: a name macOS wrote decomposed matches the same name typed elsewhere), and in the form
    Liferaft writes a name in (:func:`liferaft.core.names.portable_name`: a download the note calls
    ``Q1:Q2.png`` is moved into OUTPUT as ``Q1_Q2.png``, and is that output)."""
    name = shown_name(urllib.parse.unquote(name).strip()).rpartition("/")[2]
    return _DUPLICATE.sub("", written_form(name)).casefold()


def mentioned_names(text: str) -> list[str]:
    """File names in ``text``, in order, each once: every name with a known extension (a name with spaces only in
    backticks), as written (a path keeps its folders)."""
    return _unique(_mentions(text))


def _unique(found: Iterable[tuple[int, str]]) -> list[str]:
    names: list[str] = []
    seen: set[str] = set()
    for _start, name in found:
        key = name_key(name)
        if key and key not in seen:
            seen.add(key)
            names.append(name)
    return names


def _name_char(char: str) -> bool:
    """Whether a name written without backticks can hold ``char`` (a mention is read back over these)."""
    return char.isalnum() or char in "_-.%"


def _mentions(text: str) -> list[tuple[int, str]]:
    """(where, name) of every file name in ``text``, in order (see :func:`mentioned_names`)."""
    found: list[tuple[int, str]] = []
    quoted: list[tuple[int, int]] = []
    for match in _QUOTED_NAME.finditer(text):
        if match[2].lower() in NAME_EXTENSIONS:
            found.append((match.start(1), match[1]))
            quoted.append(match.span())
    end = (len(text) + 1, len(text) + 1)
    spans = iter(quoted)
    span = next(spans, end)
    for match in _EXTENSION.finditer(text):
        while match.start() >= span[1]:
            span = next(spans, end)
        if span[0] <= match.start():
            continue  # inside a name in backticks, taken whole above
        start = dot = match.start()
        floor = max(0, dot - 255)
        while start > floor and _name_char(text[start - 1]):
            start -= 1
        if text[start:dot].strip("."):
            found.append((start, text[start:match.end()]))
    return sorted((start, name.strip().strip("'\"")) for start, name in found)


# --- which code ------------------------------------------------------------------------------------------


def choose_code(records: Sequence[FileRecord], note_text: str) -> tuple[list[FileRecord], str | None]:
    """The code files of CODE/ (and CODE/recovered/) that go with the prompt, in order, and a warning when some
    were left out. The restart note names them: those, in the note's order. It names none: every script and
    notebook, by path, or the :data:`MAX_CODE_FILES` changed last when there are more."""
    named = {name_key(name): index for index, name in enumerate(mentioned_names(note_text))}
    usable = [record for record in records
              if record.kind in SCRIPT_KINDS or (record.kind == "text" and name_key(record.name) in named)]
    chosen = [record for record in usable if name_key(record.name) in named]
    if chosen:
        chosen.sort(key=lambda record: (named[name_key(record.name)], record.path))
        others = [record.display_path for record in usable if record not in chosen and record.kind in SCRIPT_KINDS]
        if not others:
            return chosen, None
        return chosen, (f"{len(others):,} {'script' if len(others) == 1 else 'scripts'} in CODE/ not sent: "
                        f"{', '.join(others[:3])}{' …' if len(others) > 3 else ''} (only the code the restart note "
                        "names goes with the prompt)")
    scripts = sorted((record for record in usable if record.kind in SCRIPT_KINDS), key=lambda record: record.path)
    if len(scripts) <= MAX_CODE_FILES:
        return scripts, None
    latest = sorted(scripts, key=lambda record: (-record.mtime, record.path))[:MAX_CODE_FILES]
    kept = sorted(latest, key=lambda record: record.path)
    return kept, (f"CODE/ holds {len(scripts):,} scripts and notebooks and the restart note names none: only the "
                  f"{MAX_CODE_FILES} changed last go with the prompt (name the ones the work needs in the note)")


# --- reading order ----------------------------------------------------------------------------------------

#: Calls that read a file, in Python (pandas, polars, openpyxl, numpy, open) and R (base, readr, readxl,
#: data.table). The file is the first string in the call, or a name assigned a string before.
_READ_CALL = re.compile(
    r"(?<![\w.])(?:[A-Za-z_]\w*(?:\.|::))?"
    r"(?:read_[a-z_]+|scan_(?:csv|parquet|ndjson|ipc)|read\.(?:csv2?|delim2?|table|xlsx)|fread|open|"
    r"load_workbook|ExcelFile|loadtxt|genfromtxt|read_file)\s*\(")
_STRING = re.compile(r"""(['"])((?:(?!\1)[^\\\n]|\\.)*)\1""")
_ASSIGN = re.compile(r"^[ \t]*([A-Za-z_][\w.]*)[ \t]*(?:=|<-)[ \t]*([^\n]+)", re.MULTILINE)
_IDENTIFIER = re.compile(r"[A-Za-z_][\w.]*")
#: How far into a call its arguments are looked for (characters).
_CALL_WINDOW = 400


def _call_arguments(text: str, start: int) -> str:
    """The text of a call's arguments from ``start`` (just after its opening parenthesis) to the matching one,
    at most :data:`_CALL_WINDOW` characters."""
    depth = 0
    window = text[start:start + _CALL_WINDOW]
    quote = ""
    for index, char in enumerate(window):
        if quote:
            if char in (quote, "\n"):
                quote = ""
        elif char in "'\"":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            if depth == 0:
                return window[:index]
            depth -= 1
    return window


def code_reads(code: Sequence[tuple[str, str]], known: Iterable[str]) -> dict[str, tuple[int, int, int]]:
    """Where the code first opens each of the ``known`` names (keys, :func:`name_key`): key → (how, which file,
    offset), ``how`` 0 for a read call, 1 for a mere mention in a string (a path set up to be read later)."""
    wanted = set(known)
    found: dict[str, tuple[int, int, int]] = {}
    if not wanted:
        return found
    for file_index, (_path, text) in enumerate(code):
        assigned: dict[str, str] = {}
        for match in _ASSIGN.finditer(text):
            for string in _STRING.finditer(match[2]):
                key = name_key(string[2])
                if key in wanted:
                    assigned.setdefault(match[1], key)
                    break
        for match in _READ_CALL.finditer(text):
            arguments = _call_arguments(text, match.end())
            keys = [name_key(string[2]) for string in _STRING.finditer(arguments)]
            keys += [assigned[word] for word in _IDENTIFIER.findall(_STRING.sub(" ", arguments)) if word in assigned]
            for key in keys:
                if key in wanted:
                    found.setdefault(key, (0, file_index, match.start()))
                    break
        for string in _STRING.finditer(text):
            key = name_key(string[2])
            if key in wanted:
                found.setdefault(key, (1, file_index, string.start()))
    return found


def upload_order(groups: Sequence[Sequence[str]], note_files: str,
                 code: Sequence[tuple[str, str]]) -> tuple[list[int], str]:
    """The order to upload ``groups`` in (each the names one table goes by: its original's, its files'), as
    indexes into ``groups``, and a sentence that says how it was chosen ("" for a single table)."""
    listed: dict[str, int] = {}
    for index, name in enumerate(mentioned_names(note_files)):
        listed.setdefault(name_key(name), index)
    keys = [[name_key(name) for name in names] for names in groups]
    reads = code_reads(code, {key for group in keys for key in group})
    ranks: list[tuple[object, ...]] = []
    for names, group in zip(groups, keys, strict=True):
        in_note = [listed[key] for key in group if key in listed]
        in_code = [reads[key] for key in group if key in reads]
        if in_note:
            ranks.append((0, min(in_note)))
        elif in_code:
            how, file_index, offset = min(in_code)
            ranks.append((1, file_index, offset, how))
        else:
            first = names[0] if names else ""
            ranks.append((2, first.casefold(), first))
    order = sorted(range(len(groups)), key=lambda index: ranks[index])
    if len(groups) < 2:
        return order, ""
    tiers = {rank[0] for rank in ranks}
    if tiers == {2}:
        return order, "They are listed by name: neither my notes nor the code say which one the analysis reads first."
    steps = []
    if 0 in tiers:
        steps.append("as my notes list them")
    if 1 in tiers:
        steps.append("as the code opens them")
    if 2 in tiers:
        steps.append("the rest by name")
    said = steps[0] + ("" if len(steps) == 1 else ", then " + ", then ".join(steps[1:]))
    return order, f"They are in the order the analysis reads them: {said}."


# --- the check ----------------------------------------------------------------------------------------------


class NameIndex:
    """The names the chat will have, made ready for matching mentions against (see :func:`names_not_available`):
    made once per set of names, since the composer checks every keystroke's prompt against the same ones, and a
    project's outputs may be tens of thousands."""

    __slots__ = ("have", "spaced")

    def __init__(self, available: Iterable[str]) -> None:
        names = [name for name in available if name]
        self.have = frozenset(name_key(name) for name in names)
        # "revenue by region.csv" (or "sales`q1.csv", "📈trend.png") written without backticks is one name, not
        # "region.csv": a name's tail from its last character a mention cannot hold, and the rest before it.
        self.spaced: dict[str, list[str]] = {}
        for name in names:
            shown = shown_name(name.rpartition("/")[2])
            cut = next((index for index in range(len(shown) - 1, -1, -1) if not _name_char(shown[index])), -1)
            if 0 <= cut < len(shown) - 1:
                self.spaced.setdefault(shown[cut + 1:].casefold(), []).append(shown[:cut + 1].casefold())


def names_not_available(text: str, available: Iterable[str] | NameIndex, also: Sequence[str] = ()) -> list[str]:
    """The file names ``text`` (and then the texts ``also``: code, scanned once and remembered, since the composer
    assembles the same code on every keystroke) mentions that are not among ``available`` (names, or a
    :class:`NameIndex` of them; matched by :func:`name_key`), in order, each once, as written."""
    index = available if isinstance(available, NameIndex) else NameIndex(available)
    have, spaced = index.have, index.spaced
    found = []
    for number, body in enumerate([text, *also]):
        for start, name in (_mentions(body) if number == 0 else _remembered_mentions(body)):
            heads = spaced.get(name.casefold())
            if heads and any(body[max(0, start - len(head)):start].casefold() == head for head in heads):
                continue
            found.append((start, name))
    return [name for name in _unique(found) if name_key(name) not in have]


@functools.lru_cache(maxsize=64)
def _remembered_mentions(text: str) -> tuple[tuple[int, str], ...]:
    return tuple(_mentions(text))
