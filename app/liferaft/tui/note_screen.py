"""The restart note editor: the note's Markdown on the left, what each section holds on the right.

The text is the file, byte for byte: hand edits are kept as written. ctrl+s saves it atomically (never
through a link); ctrl+f fills the empty sections from the project (files, columns, outputs); ctrl+o imports
the chat's reply to the "ask for a restart note" prompt, section by section. Nothing is written until
ctrl+s; esc with unsaved changes asks once more.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Label, Static, TextArea

from liferaft.core.restart_note import (
    SECTIONS,
    NoteError,
    RestartNote,
    import_reply,
    new_note,
    note_path,
    parse_note,
    prefill_note,
    save_note,
    write_note,
)
from liferaft.core.scan import Inventory


def sections_view(note: RestartNote) -> Group:
    """Each known section: filled (with how many lines) or empty (with what goes in it)."""
    table = Table.grid(padding=(0, 1))
    table.add_column(width=1, no_wrap=True)
    table.add_column(overflow="fold")
    for section in SECTIONS:
        text = note.get(section.key)
        if text:
            lines = text.count("\n") + 1
            table.add_row(Text("✓", style="green"), Text.assemble((section.heading, "bold"),
                                                                 (f"  {lines} line{'s' if lines != 1 else ''}",
                                                                  "dim")))
        else:
            table.add_row(Text("·", style="dark_orange"), Text.assemble((section.heading, "bold"), "\n",
                                                                       (section.hint, "dim italic")))
    empty = len(note.empty_keys())
    head = Text("Sections", style="bold")
    head.append(f"  {len(SECTIONS) - empty} of {len(SECTIONS)} filled", style="green" if not empty else "dim")
    return Group(head, table)


class ImportScreen(ModalScreen[str | None]):
    """Paste the chat's reply; returns the text, or None."""

    BINDINGS = [
        Binding("ctrl+s", "done", "Import", id="note.import_done", priority=True,
                tooltip="Merge the pasted reply into the note, section by section"),
        Binding("escape", "cancel", "Cancel", id="note.import_cancel", tooltip="Import nothing"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="import-dialog"):
            yield Label("Paste the chat's reply (the restart note it wrote), then ctrl+s", id="import-title")
            yield TextArea("", id="import-text", soft_wrap=True)
            yield Label("Each section found in the reply replaces that section; the others stay as they are. "
                        "Nothing is saved until you save the note.", id="import-help")

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    def action_done(self) -> None:
        self.dismiss(self.query_one(TextArea).text)

    def action_cancel(self) -> None:
        self.dismiss(None)


class NoteScreen(Screen[bool]):
    """Returns True when the note was saved."""

    class Saved(Message):
        """The note was written to ``path`` (the app tells its watcher: this write is ours, not the user's)."""

        def __init__(self, path: Path) -> None:
            super().__init__()
            self.path = path

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="note.save", priority=True, tooltip="Save the note (atomically)"),
        Binding("ctrl+f", "prefill", "Fill from project", id="note.prefill", priority=True,
                tooltip="Fill the empty sections from the project: files, columns, outputs"),
        Binding("ctrl+o", "import_reply", "Import reply", id="note.import", priority=True,
                tooltip="Paste the chat's reply to \"ask for a restart note\" and merge it in"),
        Binding("escape", "close", "Close", id="note.close", tooltip="Back to the workbench"),
    ]

    def __init__(self, root: Path, inventory: Inventory, note: RestartNote | None, exists: bool,
                 project_name: str) -> None:
        super().__init__()
        self._root = root
        self._inventory = inventory
        self._exists = exists
        self._original = write_note(note) if note is not None else write_note(new_note(project_name))
        self._saved = False
        self._confirm_close = False
        self._note_pending: tuple[str, str] | None = None
        self._where = note_path(root, inventory)

    def compose(self) -> ComposeResult:
        try:
            shown = self._where.relative_to(self._root).as_posix()
        except ValueError:
            shown = str(self._where)
        state = "" if self._exists else "  (new: not saved yet)"
        yield Label(f"Restart note · {shown}{state}", id="note-title", markup=False)
        with Horizontal(id="note-body"):
            yield TextArea(self._original, id="note-text", soft_wrap=True)
            with VerticalScroll(id="note-side"):
                yield Static(sections_view(parse_note(self._original)), id="note-sections")
        yield Static("", id="note-status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    @property
    def text(self) -> str:
        return self.query_one("#note-text", TextArea).text

    @property
    def modified(self) -> bool:
        return self.text != self._original

    @on(TextArea.Changed, "#note-text")
    def _changed(self) -> None:
        self._confirm_close = False
        self.query_one("#note-sections", Static).update(sections_view(parse_note(self.text)))
        pending, self._note_pending = self._note_pending, None
        if pending is not None:  # what replaced the text says what it did ("filled: …", "imported: …")
            self._status(*pending)
        else:
            self._status("modified: ctrl+s saves" if self.modified else "")

    def _status(self, message: str, style: str = "dim") -> None:
        self.query_one("#note-status", Static).update(Text(message, style=style))

    def _replace(self, text: str, message: str, style: str = "green") -> None:
        """Put ``text`` in the editor; ``message`` shows once the editor reports the change (load_text posts
        TextArea.Changed, whose handler redraws the sections)."""
        self._note_pending = (message, style)
        self.query_one("#note-text", TextArea).load_text(text)  # simple and exact; not one undoable step

    def action_save(self) -> None:
        note = parse_note(self.text)
        try:
            path = save_note(self._root, self._inventory, note)
        except NoteError as exc:
            self._status(f"Not saved: {exc}", "bold red")
            self.notify(f"The restart note was not saved: {exc}", severity="error", markup=False, timeout=8)
            return
        self.post_message(self.Saved(path))
        self._original = self.text
        self._exists = True
        self._saved = True
        self._status(f"saved {path.name}", "green")
        self.notify("Restart note saved.", timeout=3)

    def action_prefill(self) -> None:
        note = parse_note(self.text)
        try:
            filled = prefill_note(self._root, self._inventory, note)
        except NoteError as exc:
            self._status(f"Cannot fill it: {exc}", "bold red")
            return
        before = set(note.empty_keys())
        added = [section.heading for section in SECTIONS if section.key in before and filled.get(section.key)]
        if not added:
            self._status("Nothing to fill: the sections the project can fill already have text.")
            return
        self._replace(write_note(filled), "filled: " + ", ".join(added) + " (check them, then ctrl+s)")

    def action_import_reply(self) -> None:
        def imported(reply: str | None) -> None:
            if not reply or not reply.strip():
                return
            merged, changed = import_reply(parse_note(self.text), reply)
            if not changed:
                self._status("No restart-note sections found in what was pasted: nothing changed.", "dark_orange")
                return
            headings = {section.key: section.heading for section in SECTIONS}
            self._replace(write_note(merged),
                          "imported: " + ", ".join(headings[key] for key in changed) + " (check, then ctrl+s)")

        self.app.push_screen(ImportScreen(), imported)

    def action_close(self) -> None:
        if self.modified and not self._confirm_close:
            self._confirm_close = True
            self._status("Unsaved changes: esc again drops them, ctrl+s saves.", "bold dark_orange")
            return
        self.dismiss(self._saved)
