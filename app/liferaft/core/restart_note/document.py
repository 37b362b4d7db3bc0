"""The restart note as a document: its sections, a fresh note, and a note read as a structure
(:func:`parse_note` / :func:`write_note`, lossless: a hand-edited note comes back byte for byte).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

# A note is parsed into: the text before its title (rarely any), the title line (``# ...``), the preamble (what
# follows the title up to the first ``##`` heading), and one section per ``##`` heading, each holding its
# heading line and its body exactly as written. Writing puts the same pieces back together, so a note that
# was not changed comes back byte for byte; only what was changed is written anew. Headings inside fenced
# code blocks or multi-line HTML comments are text, as Markdown renders them.
#
# The classes are plain slotted classes rather than dataclasses: importing dataclasses costs ~8 ms (it pulls
# in inspect), and this module is imported by every command, `liferaft scan` included.


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


def changed_keys(before: RestartNote, after: RestartNote) -> list[str]:
    """The known sections whose text differs between two notes, in :data:`SECTIONS` order."""
    return [key for key in _KEYS if before.get(key) != after.get(key)]


def _closes(line: str, fence: str) -> bool:
    """Whether ``line`` closes a fenced block opened with ``fence``."""
    bare = _bare(line)
    stripped = bare.strip()
    return bool(stripped) and set(stripped) == {fence[0]} and len(stripped) >= len(fence) \
        and len(bare) - len(bare.lstrip(" ")) <= 3
