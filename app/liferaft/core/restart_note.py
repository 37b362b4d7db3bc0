"""The restart note: what lets a fresh chat pick up an analysis after its sandbox is gone.

The note is plain Markdown in RESTART/ with stable second-level headings, so people can edit it by hand
and Liferaft can read it back. This module holds the section list and renders a note; parsing and the
composer build on the same list.
"""

from __future__ import annotations

from collections.abc import Mapping

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
    """Render a restart note; sections without content show their hint as an HTML comment."""
    content = content or {}
    lines = [f"# Restart note: {title}", ""]
    for section in SECTIONS:
        lines.append(f"## {section.heading}")
        lines.append("")
        body = content.get(section.key, "").strip()
        lines.append(body if body else f"<!-- {section.hint} -->")
        lines.append("")
    return "\n".join(lines)
