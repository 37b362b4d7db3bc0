"""The restart note: what lets a fresh chat pick up an analysis after its sandbox is gone.

The note is plain Markdown in RESTART/ with stable second-level headings, so people can edit it by hand
and Liferaft can read it back. This module holds the section list, renders a fresh note, and reads a note
as a structured document (:func:`parse_note` / :func:`write_note`, lossless: a hand-edited note comes back
byte for byte), loads and saves it, fills its empty sections from the project, and merges the chat's own
restart note (asked for with :func:`request_prompt`) into it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

TYPE_CHECKING = False
if TYPE_CHECKING:
    from liferaft.core.scan import FileRecord, Inventory

#: File name of the restart note inside the RESTART folder.
NOTE_FILENAME = "restart-note.md"


class Section:
    """One part of the note: ``key`` for code, ``heading`` as written in the file, ``hint`` for empty ones."""

    __slots__ = ("heading", "hint", "key")

    def __init__(self, key: str, heading: str, hint: str) -> None:
        self.key = key
        self.heading = heading
        self.hint = hint


#: The note's sections, in order. Headings are part of the file format: change them only with a migration.
SECTIONS: tuple[Section, ...] = (
    Section("brief", "Project brief", "One or two sentences: the question this analysis answers and for whom."),
    Section("files", "Files used", "Each source file, one per line, as it is named in SOURCE/."),
    Section("columns", "Columns used", "The columns that matter and what they mean."),
    Section("filters", "Filters applied", "Rows or periods left out, and why."),
    Section("decisions", "Formulas and code decisions", "Definitions, formulas, libraries, choices made."),
    Section("outputs", "Generated outputs", "Every chart, table or file the chat produced, one per line."),
    Section("next_prompt", "Next prompt if the session expires", "The exact message to send in a new chat."),
    Section("notes", "Notes", "Anything else worth keeping."),
)


def render_note(title: str, content: Mapping[str, str] | None = None) -> str:
    """Render a restart note; sections without content show their hint as an HTML comment. Control characters
    in ``title`` (the project folder's name) are shown as escapes."""
    from liferaft.core.scan import shown_name

    content = content or {}
    lines = [f"# Restart note: {shown_name(title)}", ""]
    for section in SECTIONS:
        lines.append(f"## {section.heading}")
        lines.append("")
        body = content.get(section.key, "").strip()
        lines.append(body if body else f"<!-- {section.hint} -->")
        lines.append("")
    return "\n".join(lines)


def rename_mentions(text: str, old: str, new: str, old_path: str | None = None,
                    new_path: str | None = None) -> tuple[str, int]:
    """``text`` with every mention of the file name ``old`` replaced by ``new``, and how many there were.

    Only whole names count: ``sales.csv`` is not a mention inside ``old_sales.csv`` or ``sales.csv.bak``.
    A mention written as a path (``SOURCE/sales.csv``) is the file only when it is ``old_path``; it then
    becomes ``new_path``. Any other path with that name (``OUTPUT/sales.csv``) is another file: left as it is.
    """
    if not old or (old == new and old_path == new_path):
        return text, 0
    pattern = re.compile(rf"(?<![\w.\-/])((?:[\w.\-]+/)*){re.escape(old)}(?![\w\-]|\.\w)")
    count = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal count
        folder = match[1]
        if not folder:
            count += 1
            return new
        written = folder.removeprefix("./") + old
        if old_path is not None and new_path is not None and written == old_path:
            count += 1
            return ("./" if folder.startswith("./") else "") + new_path
        return match[0]

    return pattern.sub(replace, text), count


def find_note(inventory: Inventory) -> FileRecord | None:
    """The project's restart note (``restart-note.md`` in a RESTART folder), if it has one."""
    from liferaft.core.roles import Role

    return next((record for record in inventory.by_role()[Role.RESTART] if record.name == NOTE_FILENAME), None)


def note_mentions(root: Path, inventory: Inventory, old_path: str) -> int:
    """How often the restart note mentions the file ``old_path`` (0 without a note, or one that cannot be read)."""
    from liferaft.core import storage

    record = find_note(inventory)
    if record is None:
        return 0
    try:
        text = storage.read_small_file(Path(root) / record.path).decode("utf-8", errors="replace")
    except OSError:
        return 0
    name = old_path.rpartition("/")[2]
    return rename_mentions(text, name, "\0", old_path, "\0")[1]


def rename_in_note(root: Path, inventory: Inventory, old_path: str, new_path: str) -> int:
    """Make the project's restart note say ``new_path``'s name where it mentions the file ``old_path`` (both
    relative to the project), atomically. Returns how many mentions changed (0, and nothing written, when
    there is no note or no mention). Raises OSError when the note cannot be read or written, or is a link
    (Liferaft does not write through links), UnicodeDecodeError when it is not UTF-8."""
    import os
    import stat

    from liferaft.core import storage

    record = find_note(inventory)
    if record is None:
        return 0
    path = Path(root) / record.path
    if "symlink" in record.flags or "outside_root" in record.flags or not stat.S_ISREG(os.lstat(path).st_mode):
        raise OSError(f"{record.display_path} is a link: Liferaft does not write through it; change the name there "
                      "by hand")
    limit = 4 * 1024 * 1024
    raw = storage.read_small_file(path, limit + 1)
    if len(raw) > limit:  # never write back a note that was not read whole
        raise OSError(f"{record.display_path} is larger than 4 MB: not changed")
    text = raw.decode("utf-8")
    old, new = old_path.rpartition("/")[2], new_path.rpartition("/")[2]
    updated, count = rename_mentions(text, old, new, old_path, new_path)
    if count:
        storage.write_text(path, updated)
    return count


# --- the note as a structured document ---------------------------------------------------------------------
#
# A note is parsed into: the text before its title (rarely any), the title line (``# ...``), the preamble (what
# follows the title up to the first ``##`` heading), and one section per ``##`` heading, each holding its
# heading line and its body exactly as written. Writing puts the same pieces back together, so a note that
# was not changed comes back byte for byte; only what was changed is written anew. Headings inside fenced
# code blocks or multi-line HTML comments are text, as Markdown renders them.
#
# The classes are plain slotted classes rather than dataclasses: importing dataclasses costs ~8 ms (it pulls
# in inspect), and this module is imported by every command, `liferaft scan` included.

#: The largest note Liferaft reads (and so ever writes back).
NOTE_LIMIT = 4 * 1024 * 1024

_COMPILED: dict[str, re.Pattern[str]] = {}


def _rx(pattern: str) -> re.Pattern[str]:
    """``pattern`` compiled, on first use: compiling them all at import would cost every command ~8 ms."""
    compiled = _COMPILED.get(pattern)
    if compiled is None:
        compiled = _COMPILED[pattern] = re.compile(pattern)
    return compiled


_H2 = r" {0,3}##(?!#)(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*"
_H1 = r" {0,3}#(?!#)(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*"
_ANY_HEADING = r" {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*"
_BOLD_HEADING = r" {0,3}(?:\*\*|__)(.+?)(?:\*\*|__)[ \t]*:?[ \t]*"
_FENCE = r" {0,3}(`{3,}|~{3,})(.*)"
_COMMENT = r"(?s)<!--.*?-->"
_BULLET = r"( {0,3})(?:[-*+]|\d{1,9}[.)])(?:[ \t]+(.*)|[ \t]*)"
_CHECKBOX = r"\[[ xX]\][ \t]+"
_RULE = r" {0,3}(?:(?:-[ \t]*){3,}|(?:\*[ \t]*){3,}|(?:_[ \t]*){3,})"

_KEYS = tuple(section.key for section in SECTIONS)
_BY_KEY = {section.key: section for section in SECTIONS}

#: Heading texts (normalised: see :func:`_normalise_heading`) that name a section.
_ALIASES: dict[str, str] = {
    alias: key
    for key, aliases in {
        "brief": ("brief", "project brief", "project", "summary", "project summary", "overview", "project overview",
                  "goal", "goals", "objective", "objectives", "purpose", "question", "the question", "background"),
        "files": ("files", "file", "files used", "source files", "data files", "input files", "data", "sources",
                  "source data", "inputs", "uploaded files", "files uploaded", "datasets", "data sets"),
        "columns": ("columns", "column", "columns used", "key columns", "fields", "variables", "schema",
                    "columns that matter", "columns and meaning", "data dictionary"),
        "filters": ("filters", "filter", "filters applied", "filtering", "exclusions", "filters and exclusions",
                    "rows excluded", "data cleaning", "cleaning", "cleaning steps"),
        "decisions": ("decisions", "formulas and code decisions", "formulas", "formula", "code decisions",
                      "formulas and decisions", "formulas and code", "definitions", "methods", "method",
                      "methodology", "assumptions", "code", "calculations"),
        "outputs": ("outputs", "output", "generated outputs", "generated files", "output files", "results",
                    "deliverables", "charts and tables", "artifacts", "artefacts", "outputs generated"),
        "next_prompt": ("next prompt", "next prompt if the session expires", "prompt", "restart prompt",
                        "rerun prompt", "re-run prompt", "next prompt to use", "prompt for a new chat",
                        "next prompt for a new chat", "continuation prompt", "resume prompt"),
        "notes": ("notes", "note", "other notes", "remarks", "anything else", "misc", "miscellaneous",
                  "open questions", "to do", "todo", "next steps"),
    }.items()
    for alias in aliases
}

#: Beginnings of a heading that name a section when no alias matches it whole ("Files used (SOURCE/)").
_PREFIXES: tuple[tuple[str, str], ...] = (
        (r"(?:project )?brief\b", "brief"),
        (r"next prompt\b|(?:restart|rerun|re-run|resume) prompt\b|prompt (?:for|to use)\b", "next_prompt"),
        (r"(?:source |data |input |uploaded )?files?\b", "files"),
        (r"(?:key )?columns?\b", "columns"),
        (r"filter(?:s|ing)?\b", "filters"),
        (r"formulas?\b|(?:code )?decisions?\b", "decisions"),
        (r"(?:generated )?outputs?\b", "outputs"),
    (r"(?:other )?notes?\b", "notes"),
)


def _normalise_heading(heading: str) -> str:
    """``"**1. Files used:**"`` → ``"files used"``: case, emphasis, numbering, punctuation and spacing dropped."""
    text = heading.replace("*", " ").replace("`", " ").replace("_", " ")
    text = re.sub(r"^\s*(?:step\s+)?(?:\d{1,3}|[a-z])[.):]\s+", "", text.strip(), flags=re.IGNORECASE)
    text = re.sub(r"^\s*\d{1,3}\s+", "", text)
    text = text.replace("&", " and ").replace("/", " and ").replace("+", " and ")
    text = re.sub(r"[^\w\s-]", " ", text.casefold())
    return " ".join(text.split())


def section_key(heading: str) -> str | None:
    """The section a heading names (``"Files used"``, ``"files"``, ``"Generated outputs"``...), or None."""
    normal = _normalise_heading(heading)
    if not normal:
        return None
    key = _ALIASES.get(normal)
    if key is None:
        # "Files used (SOURCE/)", "Next prompt — if the session expires": drop what is in brackets first.
        bare = _normalise_heading(re.sub(r"\(.*?\)|\[.*?\]", " ", heading))
        key = _ALIASES.get(bare)
        if key is None:
            key = next((key for pattern, key in _PREFIXES if _rx(pattern).match(bare or normal)), None)
    return key


def _lines(text: str) -> list[str]:
    """``text`` cut after each ``\\n`` (only there: a form feed or U+2028 is not a line break in Markdown)."""
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def _bare(line: str) -> str:
    return line.rstrip("\n").rstrip("\r")


class _BlockTracker:
    """Follows fenced code blocks and multi-line HTML comments, where a ``##`` line is not a heading."""

    __slots__ = ("comment", "fence")

    def __init__(self) -> None:
        self.fence: str | None = None
        self.comment = False

    @property
    def in_block(self) -> bool:
        return self.fence is not None or self.comment

    def feed(self, line: str) -> None:
        bare = _bare(line)
        if self.fence is not None:
            if _closes(line, self.fence):
                self.fence = None
            return
        if self.comment:
            if "-->" in bare:
                self.comment = "<!--" in bare.rpartition("-->")[2]
            return
        match = _rx(_FENCE).fullmatch(bare)
        if match and not (match[1][0] == "`" and "`" in match[2]):
            self.fence = match[1]
            return
        start = bare.rfind("<!--")
        if start != -1 and "-->" not in bare[start + 4 :]:
            self.comment = True


def _newline_of(text: str) -> str:
    crlf = text.count("\r\n")
    return "\r\n" if crlf and crlf * 2 >= text.count("\n") else "\n"


def _clean_text(text: str) -> str:
    """``text`` as a section's content: line breaks as ``\\n``, no blank lines around it, no trailing spaces."""
    text = text.replace("\r\n", "\n")
    return re.sub(r"\A(?:[ \t]*\n)+", "", text).rstrip()


def _hint_comment(key: str | None) -> str:
    section = _BY_KEY.get(key or "")
    return f"<!-- {section.hint} -->" if section is not None else ""


def _list_items(text: str) -> list[str]:
    """The top-level bullet items of ``text`` (``- a``, ``* a``, ``1. a``); without bullets, its non-blank lines.

    A lazy continuation line joins its item; nested bullets, code blocks and comments are not items.
    """
    items: list[str] = []
    plain: list[str] = []
    blocks = _BlockTracker()
    for line in _rx(_COMMENT).sub("", text).split("\n"):
        was_in_block = blocks.in_block
        blocks.feed(line)
        if was_in_block or blocks.in_block:
            continue
        if not line.strip():
            continue
        match = _rx(_BULLET).fullmatch(line.rstrip())
        if match and not _rx(_RULE).fullmatch(line.rstrip()):
            if len(match[1]) <= 1:
                item = _rx(_CHECKBOX).sub("", (match[2] or "").strip(), count=1)
                if item:
                    items.append(item)
            continue
        if items and line[:1] in (" ", "\t") and not _rx(_ANY_HEADING).fullmatch(line.strip()):
            items[-1] = f"{items[-1]} {line.strip()}"
        elif not _rx(_ANY_HEADING).fullmatch(line.strip()):
            plain.append(line.strip())
    return items if items else plain


class NoteSection:
    """One ``##`` section of a note. ``key`` is the section it is (one of :data:`SECTIONS`), None for a section
    Liferaft does not know (kept as it is); ``heading`` and ``body`` are as written in the file (the body may
    hold the hint comment an empty section shows)."""

    __slots__ = ("_heading_line", "_heading_parsed", "body", "heading", "key")

    def __init__(self, key: str | None, heading: str, body: str) -> None:
        self.key = key
        self.heading = heading
        self.body = body
        self._heading_line: str | None = None  # the heading line as read, written back while ``heading`` is unchanged
        self._heading_parsed: str | None = None

    @property
    def text(self) -> str:
        """The body without hint (or any HTML) comments, stripped: ``""`` when the section is empty."""
        return _clean_text(_rx(_COMMENT).sub("", self.body)).strip()

    def items(self) -> list[str]:
        """The bullet items' text (``- a``, ``* a``, ``1. a``...); without bullets, the non-blank lines."""
        return _list_items(self.text)

    def copy(self) -> NoteSection:
        section = NoteSection(self.key, self.heading, self.body)
        section._heading_line, section._heading_parsed = self._heading_line, self._heading_parsed
        return section

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, NoteSection):
            return NotImplemented
        return (self.key, self.heading, self.body) == (other.key, other.heading, other.body)

    __hash__ = None  # type: ignore[assignment]  # mutable, like a dataclass

    def __repr__(self) -> str:
        return f"NoteSection(key={self.key!r}, heading={self.heading!r}, body={self.body!r})"


class RestartNote:
    """A parsed restart note. ``title`` is the text of its ``#`` heading (``"Restart note: Sales review"``),
    ``preamble`` what is written between the title and the first section, ``sections`` every ``##`` section in
    file order, unknown ones included. :func:`write_note` turns it back into the file."""

    __slots__ = ("_bom", "_lead", "_newline", "_title_line", "_title_parsed", "preamble", "sections", "title")

    def __init__(self, title: str, preamble: str = "", sections: list[NoteSection] | None = None) -> None:
        self.title = title
        self.preamble = preamble
        self.sections: list[NoteSection] = sections if sections is not None else []
        self._lead = ""  # text before the title line (a comment, front matter): kept as it is
        self._bom = False
        self._newline = "\n"
        self._title_line: str | None = None
        self._title_parsed: str | None = None

    # -- reading -------------------------------------------------------------------------------------------

    def section(self, key: str) -> NoteSection | None:
        """The section ``key`` names (the first, when the note has it twice), or None."""
        _check_key(key)
        return next((section for section in self.sections if section.key == key), None)

    def get(self, key: str) -> str:
        """The text of section ``key`` (``""`` when the note has no such section, or only its hint)."""
        section = self.section(key)
        return section.text if section is not None else ""

    def items(self, key: str) -> list[str]:
        """For list sections (files, outputs...): the bullet items' text; without bullets, the non-blank lines."""
        section = self.section(key)
        return section.items() if section is not None else []

    def is_empty(self) -> bool:
        """True when every known section is empty (missing, blank, or only its hint)."""
        return not any(section.text for section in self.sections if section.key is not None)

    def empty_keys(self) -> list[str]:
        """The known sections that are empty, in :data:`SECTIONS` order."""
        return [key for key in _KEYS if not self.get(key)]

    # -- changing ------------------------------------------------------------------------------------------

    def set(self, key: str, text: str) -> None:
        """Make ``text`` the body of section ``key`` (an empty ``text`` puts the hint back). The blank lines
        around the body are kept; a missing section is added where :data:`SECTIONS` puts it. Setting the text
        a section already has changes nothing, not even its hint or spacing."""
        _check_key(key)
        content = _clean_text(text)
        section = self.section(key)
        if section is not None and section.text == content.strip():
            return
        written = (content or _hint_comment(key)).replace("\n", self._newline)
        nl = self._newline
        if section is not None:
            last = section is self.sections[-1]
            section.body = _rebody(section.body, written, nl, last)
            return
        order = _KEYS.index(key)
        position = next((index for index, other in enumerate(self.sections)
                         if other.key is not None and _KEYS.index(other.key) > order), None)
        if position is None:
            known = [index for index, other in enumerate(self.sections) if other.key is not None]
            position = known[-1] + 1 if known else len(self.sections)
        last = position == len(self.sections)
        new = NoteSection(key, _BY_KEY[key].heading, f"{nl}{written}{nl}" + ("" if last else nl))
        if position > 0:
            before = self.sections[position - 1]
            before.body = _blank_line_after(before.body, nl)
        else:
            self.preamble = _blank_line_after(self.preamble, nl) if (self.preamble or self.title) else self.preamble
        self.sections.insert(position, new)

    def copy(self) -> RestartNote:
        """An independent copy (changing it leaves this note as it is)."""
        note = RestartNote(self.title, self.preamble, [section.copy() for section in self.sections])
        note._lead, note._bom, note._newline = self._lead, self._bom, self._newline
        note._title_line, note._title_parsed = self._title_line, self._title_parsed
        return note

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RestartNote):
            return NotImplemented
        return (self.title, self.preamble, self.sections, self._lead, self._bom) == \
            (other.title, other.preamble, other.sections, other._lead, other._bom)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"RestartNote(title={self.title!r}, preamble={self.preamble!r}, sections={self.sections!r})"


def _check_key(key: str) -> None:
    if key not in _BY_KEY:
        raise KeyError(f"no such restart-note section: {key!r} (one of {', '.join(_KEYS)})")


def _rebody(old: str, content: str, nl: str, last: bool) -> str:
    """``content`` in place of the body ``old``, with the blank lines ``old`` had around its text."""
    if not old.strip():
        return f"{nl}{content}{nl}" + ("" if last else nl)
    leading = re.match(r"(?:[ \t]*\r?\n)*", old)
    head = re.sub(r"[ \t]+", "", leading[0] if leading else "")
    tail = old[len(old.rstrip()) :]
    tail = re.sub(r"[ \t]+", "", tail)
    if "\n" not in tail:
        tail = nl if last else nl + nl
    return head + content + tail


def _blank_line_after(text: str, nl: str) -> str:
    """``text`` ending in a blank line, so that a heading can follow it."""
    if not text or (not text.strip() and "\n" in text):  # nothing but blank lines: already a blank line
        return text
    stripped = text.rstrip(" \t")
    if stripped.endswith(("\n\n", "\r\n\r\n", "\n\r\n")):
        return text
    if stripped.endswith("\n"):
        return stripped + nl
    return stripped + nl + nl


def parse_note(text: str) -> RestartNote:
    """Read a restart note. Never fails: any text is a note (one without headings is all preamble).
    ``write_note(parse_note(text)) == text`` for every text."""
    bom = text.startswith("\ufeff")
    if bom:
        text = text[1:]
    lead: list[str] = []
    head: list[str] = []  # after the title, before the first section
    title_line: str | None = None
    title = ""
    sections: list[NoteSection] = []
    bodies: list[list[str]] = []
    blocks = _BlockTracker()
    for line in _lines(text):
        if not blocks.in_block:
            bare = _bare(line)
            match = _rx(_H2).fullmatch(bare)
            if match:
                section = NoteSection(None, (match[1] or "").strip(), "")
                section._heading_line, section._heading_parsed = line, section.heading
                sections.append(section)
                bodies.append([])
                continue
            if title_line is None and not sections:
                match = _rx(_H1).fullmatch(bare)
                if match:
                    title_line, title = line, (match[1] or "").strip()
                    lead, head = head, []
                    continue
        blocks.feed(line)
        (bodies[-1] if bodies else head).append(line)
    seen: set[str] = set()
    for section, body in zip(sections, bodies, strict=True):
        section.body = "".join(body)
        key = section_key(section.heading)
        if key is not None and key not in seen:  # a second "## Files" is kept, as an extra section
            section.key = key
            seen.add(key)
    note = RestartNote(title, "".join(head), sections)
    note._lead, note._bom, note._newline = "".join(lead), bom, _newline_of(text)
    note._title_line, note._title_parsed = title_line, (title if title_line is not None else None)
    return note


def write_note(note: RestartNote) -> str:
    """The note as Markdown: a parsed note that was not changed comes back exactly as it was read."""
    nl = note._newline
    out: list[str] = ["\ufeff" if note._bom else "", note._lead]

    def at_line_start() -> None:  # only ever needed for a note changed in code: a parsed one has its breaks
        if out[-1] and not out[-1].endswith("\n"):
            out.append(nl)

    if note._title_line is not None and note.title == note._title_parsed:
        out.append(note._title_line)
    elif note.title.strip():
        at_line_start()
        out.append(f"# {' '.join(note.title.split())}{nl}")
        if note._title_line is None and note.preamble[:1] not in ("\n", "\r") and (note.preamble or note.sections):
            out.append(nl)
    if note.preamble:
        at_line_start()
        out.append(note.preamble)
    for section in note.sections:
        at_line_start()
        if section._heading_line is not None and section.heading == section._heading_parsed:
            out.append(section._heading_line)
        else:
            out.append(f"## {' '.join(section.heading.split())}{nl}")
        if section.body:
            at_line_start()
            out.append(section.body)
    return "".join(out)


def new_note(title: str) -> RestartNote:
    """A fresh note, as `liferaft init` writes it: every section empty, with its hint."""
    return parse_note(render_note(title))


# --- the note on disk ---------------------------------------------------------------------------------------


class NoteError(OSError):
    """The restart note cannot be read or written; the message is one line for the user."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "the restart note cannot be used"


def note_path(root: Path, inventory: Inventory) -> Path:
    """Where the project's restart note is, or goes when it has none: ``restart-note.md`` in the RESTART folder
    (``RESTART/``, or the folder that plays that role under another name, ``notes/`` say)."""
    record = find_note(inventory)
    if record is not None:
        return Path(root) / record.path
    return Path(root) / _restart_folder(Path(root), inventory) / NOTE_FILENAME


def _restart_folder(root: Path, inventory: Inventory) -> str:
    import os

    from liferaft.core.roles import Role, role_for_folder

    names = sorted(name for name, role in inventory.role_folders.items() if role is Role.RESTART)
    if not names:
        try:
            with os.scandir(root) as entries:
                names = sorted(entry.name for entry in entries
                               if role_for_folder(entry.name) is Role.RESTART and entry.is_dir())
        except OSError:
            names = []
    if Role.RESTART.folder in names:
        return Role.RESTART.folder
    return names[0] if names else Role.RESTART.folder


def _shown(root: Path, path: Path) -> str:
    from liferaft.core.scan import shown_name

    try:
        return shown_name(path.relative_to(root).as_posix())
    except ValueError:
        return shown_name(str(path))


def _refuse_odd_target(root: Path, path: Path) -> None:
    """NoteError when something that is not a regular file (a folder, a pipe, a dangling link) holds the name."""
    import os
    import stat

    try:
        st = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return
    except OSError as exc:
        raise NoteError(f"cannot use {_shown(root, path)}: {exc.strerror or exc}") from None
    shown = _shown(root, path)
    if stat.S_ISLNK(st.st_mode):
        raise NoteError(f"{shown} is a link: Liferaft does not read or write the restart note through it")
    if stat.S_ISDIR(st.st_mode):
        raise NoteError(f"{shown} is a folder, not a file: rename it so that Liferaft can keep the restart note "
                        "there")
    if not stat.S_ISREG(st.st_mode):
        raise NoteError(f"{shown} is not a regular file (a pipe, socket or device): Liferaft does not open it")


def load_note(root: Path, inventory: Inventory) -> tuple[RestartNote | None, FileRecord | None]:
    """The project's restart note, parsed, and its record; ``(None, None)`` when the project has none.

    Raises :class:`NoteError` (one line) when the note cannot be used: a link out of the project, a folder
    or a pipe in its place, larger than 4 MB, unreadable, or not UTF-8 text.
    """
    from liferaft.core import storage

    root = Path(root)
    record = find_note(inventory)
    if record is None:
        _refuse_odd_target(root, note_path(root, inventory))
        return None, None
    from liferaft.core.scan import shown_name

    shown = shown_name(record.display_path)
    if "outside_root" in record.flags:
        raise NoteError(f"{shown} is a link out of the project: Liferaft does not read it")
    try:
        raw = storage.read_small_file(root / record.path, NOTE_LIMIT + 1)
    except storage.NotARegularFile:
        raise NoteError(f"{shown} is not a regular file: Liferaft does not open it") from None
    except FileNotFoundError:
        raise NoteError(f"{shown} has gone: rescan the project") from None
    except OSError as exc:
        raise NoteError(f"cannot read {shown}: {exc.strerror or exc}") from None
    if len(raw) > NOTE_LIMIT:
        raise NoteError(f"{shown} is larger than 4 MB: Liferaft reads restart notes up to 4 MB")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NoteError(f"{shown} is not UTF-8 text (byte {exc.start:,}): save it as UTF-8 and try again") from None
    return parse_note(text), record


def save_note(root: Path, inventory: Inventory, note: RestartNote, *, replace: bool = False) -> Path:
    """Write ``note`` as the project's restart note, atomically, and return its path. A project without one
    gets ``restart-note.md`` in its RESTART folder (made if missing). Raises :class:`NoteError` when the note
    is a link (Liferaft never writes through one), a folder or pipe holds its name, or writing fails.
    A note that appeared since ``inventory`` was read is not overwritten unless ``replace`` says the caller
    has seen it (and merged it, or chose to replace it)."""
    import os
    import stat

    from liferaft.core import storage

    root = Path(root)
    record = find_note(inventory)
    path = note_path(root, inventory)
    shown = _shown(root, path)
    if record is not None:
        if "symlink" in record.flags or "outside_root" in record.flags:
            raise NoteError(f"{shown} is a link: Liferaft does not write through it; edit the note it points to")
        try:
            mode = os.lstat(path).st_mode
        except FileNotFoundError:
            mode = None
        except OSError as exc:
            raise NoteError(f"cannot write {shown}: {exc.strerror or exc}") from None
        if mode is not None and not stat.S_ISREG(mode):
            _refuse_odd_target(root, path)
    else:
        folder = path.parent
        if os.path.lexists(folder) and not os.path.isdir(folder):
            raise NoteError(f"{_shown(root, folder)} is not a folder: the restart note cannot be written there")
        _refuse_odd_target(root, path)
    text = write_note(note)
    if len(text.encode("utf-8")) > NOTE_LIMIT:
        raise NoteError(f"the restart note would be larger than 4 MB: {shown} not written")
    try:
        storage.write_text(path, text, overwrite=(record is not None or replace) and os.path.lexists(path))
    except FileExistsError:
        raise NoteError(f"{shown} appeared while writing: nothing was overwritten") from None
    except OSError as exc:
        raise NoteError(f"cannot write {shown}: {exc.strerror or exc}") from None
    return path


# --- filling the note from the project ----------------------------------------------------------------------

#: How many columns of one table, and how many tables, the prefilled "Columns used" names.
PREFILL_COLUMNS = 12
PREFILL_TABLES = 20
_TABLE_KINDS = frozenset({"csv", "tsv", "xlsx", "parquet"})


def _within_role_folder(record: FileRecord, inventory: Inventory) -> str:
    """``SOURCE/prepared/a.csv`` → ``prepared/a.csv``: how the note names a file (as in its role folder)."""
    folder, slash, rest = record.display_path.partition("/")
    return rest if slash and folder in inventory.role_folders else record.display_path


def _file_line(record: FileRecord, inventory: Inventory) -> str:
    from liferaft.core.units import format_size

    size = "link out of the project" if "outside_root" in record.flags else format_size(record.size)
    from liferaft.core.scan import shown_name_noted

    return f"- {shown_name_noted(_within_role_folder(record, inventory))} — {record.kind}, {size}"


def _columns_line(root: Path, record: FileRecord, inventory: Inventory) -> str | None:
    from liferaft.core.inspect import inspect_file

    if record.kind not in _TABLE_KINDS or {"outside_root", "unreadable", "empty"} & set(record.flags):
        return None
    preview = inspect_file(Path(root) / record.path, record.kind, max_rows=1)
    if preview.error or not preview.columns:
        return None
    from liferaft.core.scan import shown_name

    names = [shown_name(" ".join(column.name.split())) or "(blank)" for column in preview.columns]
    shown = ", ".join(names[:PREFILL_COLUMNS])
    if len(names) > PREFILL_COLUMNS:
        shown += f", … ({len(names)} columns)"
    sheet = f" (sheet {preview.sheet})" if preview.sheet and len(preview.sheets) > 1 else ""
    return f"- {shown_name(_within_role_folder(record, inventory))}{shown_name(sheet)}: {shown}"


def prefill_content(root: Path, inventory: Inventory) -> dict[str, str]:
    """What Liferaft can say from the project itself: files used (SOURCE), their columns, generated outputs
    (OUTPUT). Keys absent when there is nothing to say."""
    from liferaft.core.roles import Role

    groups = inventory.by_role()
    sources = sorted(groups[Role.SOURCE], key=lambda record: record.path)
    outputs = sorted(groups[Role.OUTPUT], key=lambda record: record.path)
    content: dict[str, str] = {}
    if sources:
        content["files"] = "\n".join(_file_line(record, inventory) for record in sources)
        columns: list[str] = []
        for record in sources:
            if len(columns) >= PREFILL_TABLES:
                columns.append("- …")
                break
            line = _columns_line(root, record, inventory)
            if line is not None:
                columns.append(line)
        if columns:
            content["columns"] = "\n".join(columns)
    if outputs:
        content["outputs"] = "\n".join(_file_line(record, inventory) for record in outputs)
    return content


def prefill_note(root: Path, inventory: Inventory, note: RestartNote | None = None) -> RestartNote:
    """``note`` (default: the project's note, or a fresh one) with its EMPTY sections filled from the project:
    files used, columns used, generated outputs. Text the user wrote is never replaced; the brief, filters,
    decisions and the next prompt are left to the user. Returns a new note; ``note`` is not changed.
    Raises :class:`NoteError` when ``note`` is None and the project's note cannot be read."""
    if note is None:
        note, _record = load_note(root, inventory)
        if note is None:
            note = new_note(Path(root).name or str(root))
    filled = note.copy()
    for key, text in prefill_content(root, inventory).items():
        if not filled.get(key):
            filled.set(key, text)
    return filled


def changed_keys(before: RestartNote, after: RestartNote) -> list[str]:
    """The known sections whose text differs between two notes, in :data:`SECTIONS` order."""
    return [key for key in _KEYS if before.get(key) != after.get(key)]


# --- asking the chat for a note, and reading its reply ------------------------------------------------------

#: What the chat is asked to put under each heading (the product's wording; the hints are for people).
_ASK: dict[str, str] = {
    "brief": "One or two sentences: the question this analysis answers, for whom, and where it stands now.",
    "files": "Every file I uploaded, one bullet each, with its exact file name and what it holds.",
    "columns": "The columns that matter, one bullet each: exact name, what it means, units or codes.",
    "filters": "Every filter or exclusion applied to the data (rows, periods, outliers), with how many rows it "
               "removed and why.",
    "decisions": "The formulas, definitions, joins, libraries and code choices made, precisely enough to redo "
                 "them.",
    "outputs": "Every chart, table or file you produced, one bullet each, with its exact file name and what it "
               "shows.",
    "next_prompt": "The exact message I should send in a new chat, with the files above re-uploaded, to pick up "
                   "where we are if this session expires.",
    "notes": "Anything else worth keeping: open questions, checks to rerun, figures to verify against.",
}


def request_prompt(project_name: str) -> str:
    """The message that asks the chat to write the restart note itself, in exactly the note's structure."""
    name = " ".join(project_name.split()) or "this analysis"
    lines = [
        f"Please write a restart note for our analysis \u201c{name}\u201d, so that I can continue it in a new "
        "chat if this session expires and its files are gone.",
        "",
        "Fill every section from our conversation so far. Name every file by its exact file name, and list "
        "every output you generated. Be specific: column names, filter values and formulas as you used them.",
        "",
        "Reply with the note only, in Markdown, using exactly these headings in this order (leave a heading "
        "with nothing under it if it does not apply):",
        "",
    ]
    for section in SECTIONS:
        lines.append(f"## {section.heading}")
        lines.append(_ASK[section.key])
        lines.append("")
    lines.append("Write the next prompt as plain text, not in a code block.")
    return "\n".join(lines) + "\n"


_CHATTER = (
    r"(?i)(?:let me know|if you(?:'d| would) like me to|if you want me to|feel free|hope (?:this|that|it) helps|"
    r"i can also|would you like me to|do you want me to|want me to|shall i\b|happy to help|"
    r"you can now (?:copy|paste|save)|anything else\b.{0,40}\?\s*$)"
)
_PLAIN_FENCE_INFO = frozenset({"", "text", "txt", "plain", "plaintext", "markdown", "md"})


#: Headings of handoffs and summaries a chat writes on its own ("Current status", "Your files", "First message
#: to send in the new convo"), matched against the normalised heading (see :func:`_normalise_heading`) when
#: :func:`section_key` does not know it. Only replies are read this way: the note's own headings are not.
#: Order matters: "what to paste and upload" is files, "questions for next session" is notes.
_HANDOFF_KEYS: tuple[tuple[str, str], ...] = (
    (r"what to (?:paste and |paste or )?(?:re-?)?upload\b|(?:files?|data) to (?:re-?)?upload\b|"
     r"(?:re-?)?uploads?\b|attachments?\b", "files"),
    (r"(?:your |the |key |relevant |important |tracking |reference |input |source )?"
     r"(?:files?|data(?:sets?| sets?)?|documents?|docs|sources|inputs|resources|spreadsheets?|tables?)\b|"
     r"(?:[\w-]+ ){1,3}files?$", "files"),
    (r"(?:open |unresolved |remaining |pending )?questions?\b|(?:known )?(?:issues|bugs|caveats|gotchas|risks|"
     r"blockers|warnings|limitations|problems)\b|lessons?\b|(?:loose ends|to ?do|todos?)\b|"
     r"(?:immediate |recommended |suggested |exact )?next (?:steps?|phase|actions?|tasks?|up|session)\b|"
     r"what (?:s |is )?next\b|what to do next\b|what remains\b|remaining\b|pending\b|follow[- ]?ups?\b|"
     r"(?:the )?(?:plan|roadmap|backlog)\b|what (?:doesn t|didn t|did not) work\b", "notes"),
    (r"(?:(?:the )?(?:first|opening|kickoff|kick-off|bootstrap|continuation|starter|resume|restart|handoff|"
     r"handover|transition(?:al)?) )(?:\w+ )?(?:message|prompt)\b|"
     r".*\b(?:paste|send|use|say|type|tell)\b.*\b(?:new|next|fresh) "
     r"(?:chat|convo|conversation|session|thread|account)\b|"
     r".*\b(?:new|next|fresh) (?:chat|convo|conversation|session|thread|agent) "
     r"(?:should )?(?:start|begin|open)s? with\b|"
     r"(?:[\w-]+ )?(?:kickoff|kick-off|starter|restart|resume|continuation) (?:template|message|prompt)\b|"
     r".*\b(?:prompt|message|summary|starter) (?:for|to paste into|to start) (?:a |the )?(?:new|next|fresh) "
     r"(?:chat|convo|conversation|session|thread)\b|"
     r"(?:how )?to (?:continue|resume) in a (?:new|fresh) (?:chat|convo|conversation|session|account)\b|"
     r"resuming in a (?:new|fresh) (?:chat|convo|conversation|session|account)\b|"
     r"(?:new chat|new convo|new conversation) (?:starter|prompt|message)\b", "next_prompt"),
    (r"(?:generated |final |key |completed )?(?:outputs?|deliverables?|results?|artifacts?|artefacts?|"
     r"downloads?|exports?|reports?)\b|what (?:was|we) (?:produced|generated|delivered)\b|"
     r"(?:the )?(?:(?!(?:why|how|what|when|where|which|who|do|does|did|is|are|can|should)\b)[\w-]+ ){1,2}"
     r"(?:outputs|deliverables|results|artifacts|artefacts)(?: [\w-]+){0,2}$", "outputs"),
    (r"(?:key |important |design |technical |main |architectural )?(?:decisions?|assumptions?|constraints?|"
     r"conventions?|rules|formulas?|definitions?|approach|methods?|methodology|technical context|"
     r"architecture|tech stack|stack|setup|configuration|commands?)\b|how (?:to run|it works)\b|"
     r"(?:(?!(?:why|how|what|when|where|which|who|do|does|did|is|are|can|should)\b)[\w-]+ ){1,2}"
     r"(?:decisions?|assumptions?|constraints?|conventions?|rules|commitments|guardrails|invariants|"
     r"architecture)(?: [\w-]+){0,2}$", "decisions"),
    (r"(?:current |main |overall |project |session |the )?(?:goals?|objectives?|context|overview|purpose|"
     r"background|task|mission|brief|summary|recap|status|state|progress|where we are|where things stand)\b|"
     r"what (?:this|we(?: re| are)?) (?:is|are|building|doing|did|accomplished|have done|built)\b|"
     r"tl ?dr\b|what (?:[\w-]+ ){1,3}(?:is|are)$|"
     r"(?:(?!(?:why|how|what|when|where|which|who|do|does|did|is|are|can|should)\b)[\w-]+ )"
     r"(?:goals?|objectives?|overview|purpose)(?: [\w-]+){0,2}$|"
     r"what (?:s |has |was |is )?(?:been )?(?:done|built|working|completed|accomplished)\b|"
     r"(?:work |steps )?(?:done|completed)(?: so far)?\b|accomplishments?\b|achievements?\b|"
     r"(?:handoff|handover|session|context)\b", "brief"),
)

#: A first line that only introduces the reply ("Sure! Here is the restart note:"): chat, not content.
_LEAD_IN = (r"(?i)(?:sure|certainly|of course|absolutely|great|okay|ok|got it|as requested|below is|"
            r"here(?:'s| is| are| you go)\b)")
_SANDBOX = "sandbox:/mnt/data/"

#: A heading over the files a fix changed ("Files updated (53 total)", "Files built so far"): a changelog of code,
#: not the files the work uses; its text goes to Notes, and it does not make a reply a restart note.
#: So is a checklist or a definition of done: a list to tick, not formulas or decisions.
_NO_SECTION = (r"(?:[\w-]+ )?files? (?:updated|changed|modified|created|edited|renamed|touched|added|deleted|"
               r"removed|built|written|fixed)\b|(?:changed|modified|updated|edited|new) files\b|"
               r"definition of done\b|(?:acceptance|success|done|exit) criteria\b|(?:[\w-]+ ){0,3}checklist\b")

#: Words that say the reply is meant for a new chat ("paste this into a new chat", "for the next session",
#: "Handoff", "Kickoff"): in its title, or in the lines before its first section.
#: A line offering a message to carry into a new chat ("Paste this into the new chat to begin:").
_OFFER = (r"(?i)\b(?:paste|send|copy|use|say)\b.*\b(?:new|next|fresh)(?: [\w/]+){0,3} (?:chat|convo|conversation|"
          r"session|thread|agent)\b")

_FOR_NEW_CHAT = (r"(?i)hand-?off|handover|hand over|kick-?off|restart (?:note|prompt)|transition|"
                 r"\b(?:new|next|fresh|another)(?: [\w/]+){0,3} (?:chat|convo|conversation|session|thread|agent|"
                 r"llm chat)\b")


def reply_section_key(heading: str) -> str | None:
    """The note section a heading in the chat's reply stands for: any heading :func:`section_key` knows, and
    the usual headings of a handoff or session summary, mapped by meaning ("Current status" → Project brief,
    "Your files" → Files used, "First message to send in the new chat" → Next prompt…), or None."""
    whole = _normalise_heading(heading)
    if _rx(_NO_SECTION).match(whole):
        return None
    key = section_key(heading)
    if key is not None:
        return key
    normal = _normalise_heading(re.sub(r"\(.*?\)|\[.*?\]", " ", heading)) or whole
    if not normal or len(normal) > 80:
        return None
    for text in (normal, whole) if whole != normal and len(whole) <= 80 else (normal,):
        key = next((key for pattern, key in _HANDOFF_KEYS if _rx(pattern).match(text)), None)
        if key is not None:
            return key
    return None


def _heading_of(line: str) -> tuple[int, str] | None:
    """(level, text) when ``line`` is a Markdown heading or a heading-like bold line (level 7), else None."""
    bare = _bare(line)
    match = _rx(_ANY_HEADING).fullmatch(bare)
    if match:
        return len(match[1]), (match[2] or "").strip()
    match = _rx(_BOLD_HEADING).fullmatch(bare)
    if match and reply_section_key(match[1]) is not None:
        return 7, match[1].strip()
    return None


def _closes(line: str, fence: str) -> bool:
    """Whether ``line`` closes a fenced block opened with ``fence``."""
    bare = _bare(line)
    stripped = bare.strip()
    return bool(stripped) and set(stripped) == {fence[0]} and len(stripped) >= len(fence) \
        and len(bare) - len(bare.lstrip(" ")) <= 3


class ReplyParts:
    """A chat's reply cut into the note's sections. ``sections``: key → text, in the order found (text under a
    heading that names no section, or before the first section, is in ``notes``, under its heading in bold;
    lines with a ``sandbox:/mnt/data/`` link are in ``outputs``). ``left_out``: the lines that are only the
    chat talking ("Sure! Here is…", "Let me know…"). ``headings``: (heading, key) of each section heading.
    ``refused``: why the reply is not a restart note (one line), or None."""

    __slots__ = ("headings", "left_out", "refused", "sections")

    def __init__(self) -> None:
        self.sections: dict[str, str] = {}
        self.left_out: list[str] = []
        self.headings: list[tuple[str, str | None]] = []
        self.refused: str | None = None


_PLAIN_NAMES = {
    "brief": ("brief", "project brief"), "files": ("files", "file", "files used"),
    "columns": ("columns", "column", "columns used"), "filters": ("filters", "filter", "filters applied"),
    "decisions": ("decisions", "formulas and code decisions"), "outputs": ("outputs", "output", "generated outputs"),
    "next_prompt": ("next prompt", "next prompt if the session expires"), "notes": ("notes", "note"),
}


def _is_rule(line: str) -> bool:
    return bool(_rx(_RULE).fullmatch(line.rstrip()))


def _is_chatter(line: str) -> bool:
    return bool(_rx(_CHATTER).match(line.strip().lstrip("*_> ").strip()))


def _is_lead_in(line: str) -> bool:
    return bool(_rx(_LEAD_IN).match(line.strip().lstrip("*_> ").replace("\u2019", "'")))


def split_reply(reply: str) -> ReplyParts:
    """Cut the chat's reply into the note's sections, losing no line: see :class:`ReplyParts`.

    Headings inside fenced code blocks are code. A fence around the whole note is layout; so are the section
    headings and the rules between sections. Whatever stands before the first section (a title, a date) goes
    to Notes, except the chat's lead-in; so does the text under a heading that names no section, and any text
    after a fence that wrapped the note, except the chat's closing words.
    """
    parts = ReplyParts()
    lines = [_bare(line) for line in reply.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    found: list[tuple[int, int, str | None, str]] = []  # (line index, level, key, heading), outside code
    code = [False] * len(lines)
    wrapper: list[int] = []  # the fence lines around a note sent as one block ("```markdown")
    fence: str | None = None
    seen = False  # any content yet (a fence after content is code, not a wrapper)
    blocks = _BlockTracker()
    for index, line in enumerate(lines):
        if not blocks.in_block:
            match = _rx(_FENCE).fullmatch(line)
            if fence is None and not seen and match and match[2].strip().casefold() in _PLAIN_FENCE_INFO:
                fence = match[1]
                wrapper.append(index)
                continue
            if fence is not None and len(wrapper) == 1 and _closes(line, fence):
                wrapper.append(index)
                continue
            heading = _heading_of(line)
            if heading is not None:
                found.append((index, heading[0], reply_section_key(heading[1]), heading[1]))
                continue
        was = blocks.in_block
        blocks.feed(line)
        code[index] = was or blocks.in_block
        if line.strip() and not code[index] and not _is_lead_in(line) and not _is_chatter(line):
            seen = True
    known = [entry for entry in found if entry[2] is not None]
    if len(known) > 1 and known[0][1] == 1 and all(entry[1] > 1 for entry in known[1:]):
        known = known[1:]  # "# Handoff summary" over "##" sections is the reply's title, not a section
    if not known:
        parts.refused = "no restart-note sections found"
        return parts
    levels = [level for _index, level, _key, _heading in known]
    level = max(set(levels), key=lambda value: (levels.count(value), -value))
    first = known[0][0]
    end = wrapper[1] if len(wrapper) == 2 and wrapper[1] > first else len(lines)
    pieces: list[tuple[str | None, str, list[str]]] = []  # (key, heading, lines), in order
    lead_lines: list[str] = []  # above the first heading of the sections' level
    for index in range(first, end):
        line = lines[index]
        if index in wrapper:
            continue
        if not code[index]:
            heading = _heading_of(line)
            if heading is not None and (heading[0] == level or heading[0] < min(level, 7)):
                pieces.append((reply_section_key(heading[1]), heading[1], []))
                continue
        (pieces[-1][2] if pieces else lead_lines).append(line)
    after = lines[end + 1 :]
    preamble = [line for index, line in enumerate(lines[:first]) if index not in wrapper] + lead_lines
    collected: dict[str, list[str]] = {}

    def add(key: str, text: str) -> None:
        text = _clean_text(text)
        if text.strip():
            collected.setdefault(key, []).append(text)

    # Before the first section: the chat's lead-in is left out, the rest (a title, a date) kept in Notes.
    kept: list[str] = []
    lead = 0
    for line in preamble:
        stripped = line.strip()
        if not stripped or _is_rule(line):
            continue
        if not kept and (_is_lead_in(stripped) or _is_chatter(stripped)):
            parts.left_out.append(stripped)
            continue
        heading = _rx(_ANY_HEADING).fullmatch(stripped)
        if heading is not None:
            text = (heading[2] or "").strip()
            if re.match(r"(?i)restart note\b", text):  # the title of the note Liferaft asked for: layout
                continue
            line = f"**{text}**" if text else stripped
        kept.append(line)
        lead += 1
    add("notes", "\n".join(kept))
    for position, (key, heading, body) in enumerate(pieces):
        text, dropped = _reply_body(body, last=position == len(pieces) - 1 and not after)
        parts.left_out.extend(dropped)
        parts.headings.append((heading, key))
        target = key if key is not None else "notes"
        if target != "next_prompt":
            text, links = _move_links(text)
            add("outputs", links)
            text, offered = _move_prompt(text)
            add("next_prompt", offered)
        else:
            text = _unfence(text)
        if _normalise_heading(re.sub(r"\(.*?\)", " ", heading)) not in _PLAIN_NAMES[target]:
            label = f"**{' '.join(heading.split()).strip('*_ ').rstrip(':')}**"
            text = f"{label}\n{text}" if text.strip() else label
        add(target, text)
    tail, dropped = _reply_body(after, last=True)
    parts.left_out.extend(line.strip() for line in after if _is_chatter(line) and line.strip() not in dropped)
    parts.left_out.extend(dropped)
    tail = "\n".join(line for line in tail.split("\n") if not _is_chatter(line) and not _rx(_FENCE).fullmatch(line))
    add("notes", tail)
    parts.sections = {key: "\n\n".join(texts) for key, texts in collected.items()}
    title = found[0][3] if found and found[0][1] == 1 else ""
    opening = " ".join([title, *(line for line in preamble if line.strip())])
    handoff = bool(_rx(_FOR_NEW_CHAT).search(opening))
    parts.refused = None if handoff else _refusal(pieces, lead)
    return parts


def _move_prompt(text: str) -> tuple[str, str]:
    """``text`` without a message it offers for a new chat (a line such as "Paste this into the new chat:" and the
    quote or fenced block right after it), and that message: it belongs in the next prompt."""
    lines = text.split("\n")
    blocks = _BlockTracker()
    for index, line in enumerate(lines):
        was = blocks.in_block
        blocks.feed(line)
        if was or blocks.in_block:
            continue
        bare = line.strip().strip("*_> ").strip()
        if not bare.endswith(":") or not _rx(_OFFER).search(bare):
            continue
        start = index + 1
        while start < len(lines) and not lines[start].strip():
            start += 1
        if start >= len(lines):
            return text, ""
        end = start
        fence = _rx(_FENCE).fullmatch(lines[start])
        if fence:
            end = next((after for after in range(start + 1, len(lines)) if _closes(lines[after], fence[1])), None)
            if end is None:
                return text, ""
            end += 1
        elif lines[start].lstrip().startswith(">"):
            while end < len(lines) and lines[end].lstrip().startswith(">"):
                end += 1
        else:
            return text, ""
        moved = "\n".join(lines[index:end])
        kept = "\n".join(lines[:index] + lines[end:])
        return _clean_text(kept), moved
    return text, ""


def _reply_body(lines: list[str], last: bool) -> tuple[str, list[str]]:
    """A section's text from its lines (rules around it are layout), and the chat it ends with, left out."""
    body = list(lines)
    while body and (not body[-1].strip() or _is_rule(body[-1])):
        body.pop()
    while body and (not body[0].strip() or _is_rule(body[0])):
        body.pop(0)
    dropped: list[str] = []
    if last:
        # After the last section: paragraphs of chat ("Let me know…"), and a rule before them, are not the note.
        while body:
            start = len(body)
            while start > 0 and body[start - 1].strip():
                start -= 1
            paragraph = body[start:]
            if start == 0 or not paragraph or not all(_is_chatter(line) for line in paragraph):
                break
            dropped[:0] = [line.strip() for line in paragraph]
            body = body[:start]
            while body and (not body[-1].strip() or _is_rule(body[-1])):
                body.pop()
    return _clean_text("\n".join(body)), dropped


def _move_links(text: str) -> tuple[str, str]:
    """``text`` without its lines (outside code) that link to a file the chat made (``sandbox:/mnt/data/…``),
    and those lines, as list items."""
    if _SANDBOX not in text:
        return text, ""
    kept: list[str] = []
    links: list[str] = []
    blocks = _BlockTracker()
    for line in text.split("\n"):
        was = blocks.in_block
        blocks.feed(line)
        if not was and not blocks.in_block and _SANDBOX in line:
            item = line.strip()
            links.append(item if _rx(_BULLET).fullmatch(item) else f"- {item}")
        else:
            kept.append(line)
    return "\n".join(kept), "\n".join(links)


def _refusal(pieces: list[tuple[str | None, str, list[str]]], lead: int) -> str | None:
    """Why a reply with a section heading is still not a restart note (one line), or None when it is one: a
    reply that names two sections or more is one; so is one that is a single section from its first line."""
    named = [(key, heading) for key, heading, _body in pieces if key is not None]
    if len({key for key, _heading in named}) >= 2 or lead == 0:
        return None
    if named and {key for key, _heading in named} == {"next_prompt"}:
        return None  # a reply whose one section is the message for a new chat is a handoff, whatever precedes it
    heading = " ".join(named[0][1].split()) if named else ""
    return (f"only one heading (\u201c{heading}\u201d) names a section of the note, after {lead} "
            f"{'line' if lead == 1 else 'lines'} of other text: this reads as an ordinary answer, not a "
            "summary of the session")


def _unfence(text: str) -> str:
    """The text of a section that is one plain fenced block (a prompt offered "to copy"), without the fence."""
    lines = text.split("\n")
    if len(lines) < 2:
        return text
    match = _rx(_FENCE).fullmatch(lines[0])
    closing = lines[-1].strip()
    if match and match[2].strip().casefold() in _PLAIN_FENCE_INFO and closing and set(closing) == {match[1][0]} \
            and len(closing) >= len(match[1]):
        inner = lines[1:-1]
        if not any(_rx(_FENCE).fullmatch(line) for line in inner):
            return _clean_text("\n".join(inner))
    return text


def reply_sections(reply: str) -> dict[str, str]:
    """The sections found in a chat's reply (Markdown, perhaps fenced, perhaps with ``###`` headings or bold
    lines, perhaps with chatter around it): key → text, in the order found. Text under other headings, or
    before the first section, is in ``notes``; two sections with the same key are joined. Empty (``{}``) when
    the reply is not a restart note (see :func:`split_reply`)."""
    parts = split_reply(reply)
    return {} if parts.refused else dict(parts.sections)


class ReplyImport:
    """What importing the chat's reply did. ``note``: the merged note (the note passed in is not changed);
    ``changed``: the sections whose text changed, in :data:`SECTIONS` order; ``lines``: key → how many
    non-blank lines of the reply went into that section; ``kept``: the sections where the user's own text was
    kept and the chat's added below it; ``left_out``: the lines that were only the chat talking;
    ``refused``: why nothing was imported (one line), or None."""

    __slots__ = ("changed", "kept", "left_out", "lines", "note", "refused")

    def __init__(self, note: RestartNote) -> None:
        self.note = note
        self.changed: list[str] = []
        self.lines: dict[str, int] = {}
        self.kept: list[str] = []
        self.left_out: list[str] = []
        self.refused: str | None = None


def _count(text: str) -> int:
    return sum(1 for line in text.split("\n") if line.strip())


def merge_reply(note: RestartNote, reply: str, date: str | None = None) -> ReplyImport:
    """Merge the chat's reply (to :func:`request_prompt`, or a handoff or summary it wrote) into ``note``,
    section by section, never replacing what the user wrote: an empty section takes the chat's text; one with
    text keeps it and gets the chat's text below, after a line "(from the chat, ``date``)" (today by default);
    a section that already holds every line the chat wrote is left as it is. Text that fits no section goes
    to Notes, links to the chat's files to Generated outputs. A reply that is not a restart note (no section
    heading, or one stray heading after other text) is refused: ``refused`` says why, nothing changes."""
    parts = split_reply(reply)
    result = ReplyImport(note.copy())
    result.left_out = parts.left_out
    if parts.refused:
        result.refused = parts.refused
        return result
    if date is None:
        import datetime

        date = datetime.date.today().isoformat()
    merged = result.note
    for key in _KEYS:
        text = parts.sections.get(key, "")
        if not text:
            continue
        mine = merged.get(key)
        if not mine:
            merged.set(key, text)
        else:
            have = {line.strip() for line in mine.split("\n")}
            if all(line.strip() in have for line in text.split("\n")):
                continue  # already there (an earlier import of the same reply)
            merged.set(key, f"{mine}\n\n(from the chat, {date})\n\n{text}")
            result.kept.append(key)
        result.lines[key] = _count(text)
    result.changed = changed_keys(note, merged)
    result.lines = {key: count for key, count in result.lines.items() if key in result.changed}
    result.kept = [key for key in result.kept if key in result.changed]
    return result


def import_reply(note: RestartNote, reply: str, date: str | None = None) -> tuple[RestartNote, list[str]]:
    """:func:`merge_reply`, as (the merged note, the keys of the sections whose text changed)."""
    result = merge_reply(note, reply, date)
    return result.note, result.changed


# --- changes made to the note outside the editor ------------------------------------------------------------


def read_note_text(path: Path) -> str | None:
    """The note's text as it is on disk now, or None when there is no file. Raises :class:`NoteError` when it
    cannot be read as a note (not a regular file, larger than 4 MB, not UTF-8)."""
    from liferaft.core import storage

    shown = Path(path).name
    try:
        raw = storage.read_small_file(Path(path), NOTE_LIMIT + 1)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except storage.NotARegularFile:
        raise NoteError(f"{shown} is not a regular file: Liferaft does not open it") from None
    except OSError as exc:
        raise NoteError(f"cannot read {shown}: {exc.strerror or exc}") from None
    if len(raw) > NOTE_LIMIT:
        raise NoteError(f"{shown} is larger than 4 MB: Liferaft reads restart notes up to 4 MB")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NoteError(f"{shown} is not UTF-8 text (byte {exc.start:,})") from None


def _merge_text(base: str, mine: str, theirs: str) -> str:
    """One section's text, changed on both sides: ``mine`` as it is, then what ``theirs`` added (its lines that
    are in neither ``base`` nor ``mine``; all of it when it holds a code block, which must stay whole)."""
    if any(_rx(_FENCE).fullmatch(line) for line in theirs.split("\n")):
        added = theirs
    else:
        known = {line.strip() for line in (*base.split("\n"), *mine.split("\n")) if line.strip()}
        kept = [line for line in theirs.split("\n") if not line.strip() or line.strip() not in known]
        added = re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip("\n")
    if not added.strip():
        return mine
    if not mine.strip():
        return added
    last = mine.rstrip().split("\n")[-1]
    first = added.lstrip("\n").split("\n")[0]
    joint = "\n" if _rx(_BULLET).fullmatch(last) and _rx(_BULLET).fullmatch(first) else "\n\n"
    return mine.rstrip() + joint + added


def merge_notes(base: str, mine: str, theirs: str) -> RestartNote:
    """Both versions of a note that was changed in two places since ``base`` (the editor's ``mine`` and the
    file's ``theirs``), merged section by section without dropping either: a section only one side changed
    takes that side's text; one both changed keeps ``mine`` and adds what ``theirs`` added. A section
    Liferaft does not know is kept from both sides (by heading); one side deleting an unchanged section
    deletes it. The title and the text before the first section follow the same rule."""
    old, ours, other = parse_note(base), parse_note(mine), parse_note(theirs)
    merged = ours.copy()
    for key in _KEYS:
        b, m, t = old.get(key), ours.get(key), other.get(key)
        if t in (b, m):
            continue
        merged.set(key, t if m == b else _merge_text(b, m, t))
    if other.title != old.title and ours.title == old.title:
        merged.title = other.title
    if other.preamble != old.preamble and other.preamble != ours.preamble:
        merged.preamble = other.preamble if ours.preamble == old.preamble else \
            _merge_text(old.preamble, ours.preamble, other.preamble)

    def extra(note: RestartNote) -> dict[str, NoteSection]:
        found: dict[str, NoteSection] = {}
        for section in note.sections:
            if section.key is None:
                found.setdefault(_normalise_heading(section.heading), section)
        return found

    old_extra, our_extra = extra(old), extra(merged)
    for name, section in extra(other).items():
        before, now = old_extra.get(name), our_extra.get(name)
        if now is None:
            if before is not None and before.body == section.body:
                continue  # deleted here, unchanged there
            if merged.sections:
                merged.sections[-1].body = _blank_line_after(merged.sections[-1].body, merged._newline)
            merged.sections.append(section.copy())
        elif section.body != now.body and section.body != (before.body if before is not None else None):
            if before is not None and now.body == before.body:
                now.body = section.body
            else:
                text = _merge_text(before.text if before is not None else "", now.text, section.text)
                now.body = _rebody(now.body, text.replace("\n", merged._newline), merged._newline,
                                   now is merged.sections[-1])
    return merged
