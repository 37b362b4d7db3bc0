"""The restart note editor: the note's Markdown on the left, what each section holds on the right.

The text is the file, byte for byte: hand edits are kept as written. ctrl+s saves it atomically (never
through a link); ctrl+f fills the empty sections from the project (files, columns, outputs); ctrl+o imports
the chat's reply to the "ask for a restart note" prompt, section by section. Nothing is written until
ctrl+s; esc with unsaved changes asks once more.

The file may change while it is open (an editor, ``liferaft import``, ``liferaft note --prefill``): the app
tells the editor when its watcher sees that, and every save reads the file again first. Without unsaved
edits the editor shows the new text; with them, ctrl+s asks: keep both (merged section by section), reload
(drop the edits) or overwrite (keep the edits). An outside change is never saved over without that choice.
"""

from __future__ import annotations

from collections.abc import Collection
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
from textual.widgets import Button, Footer, Label, Static, TextArea

from liferaft.core.restart_note import (
    SECTIONS,
    NoteError,
    RestartNote,
    import_reply,
    merge_notes,
    new_note,
    note_path,
    parse_note,
    prefill_note,
    read_note_text,
    save_note,
    write_note,
)
from liferaft.core.scan import Inventory
from liferaft.tui.screens.note_import import ImportScreen
from liferaft.tui.screens.screen_help import HELP_BINDING


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


class NoteConflictScreen(ModalScreen[str | None]):
    """The note changed on disk while it had unsaved edits: returns "both", "reload", "overwrite", or None."""

    BINDINGS = [
        HELP_BINDING,
        Binding("b", "choose('both')", "Keep both", id="note.conflict_both",
                tooltip="Merge the file's text into yours, section by section, and save"),
        Binding("r", "choose('reload')", "Reload", id="note.conflict_reload",
                tooltip="Show the file as it is now; your unsaved edits are dropped"),
        Binding("o", "choose('overwrite')", "Overwrite", id="note.conflict_overwrite",
                tooltip="Save your text over the file; the change made outside is dropped"),
        Binding("escape", "choose(None)", "Cancel", id="note.conflict_cancel", tooltip="Save nothing yet"),
    ]
    HELP_TITLE = "a note changed on disk"
    HELP_KEYS = (("tab  enter", "move between the buttons, press one"),)

    def __init__(self, name: str) -> None:
        super().__init__()
        self._name = name

    def compose(self) -> ComposeResult:
        with Vertical(id="note-conflict-dialog"):
            yield Label(f"{self._name} changed on disk since you opened it", id="note-conflict-title",
                        markup=False)
            yield Label("You have unsaved edits too. What should be kept?", markup=False)
            with Horizontal(id="note-conflict-buttons"):
                yield Button("b Keep both", id="both", variant="primary")
                yield Button("r Reload", id="reload")
                yield Button("o Overwrite", id="overwrite", variant="warning")
            yield Label("Keep both: the file's changes are merged into your text, section by section, and "
                        "saved. Reload: your edits are dropped. Overwrite: the outside change is dropped. "
                        "esc: nothing is saved yet.", id="note-conflict-help", markup=False)

    def action_choose(self, choice: str | None) -> None:
        self.dismiss(choice)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id)


class NoteScreen(Screen[bool]):
    """Returns True when the note was saved."""

    class Saved(Message):
        """The note was written to ``path`` (the app tells its watcher: this write is ours, not the user's)."""

        def __init__(self, path: Path) -> None:
            super().__init__()
            self.path = path

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="note.save", priority=True, tooltip="Save the note (atomically)"),
        # f3 too: VS Code's terminal keeps ctrl+f for its own search.
        Binding("ctrl+f,f3", "prefill", "Fill from project", id="note.prefill", priority=True,
                tooltip="Fill the empty sections from the project: files, columns, outputs"),
        Binding("ctrl+o", "import_reply", "Import reply", id="note.import", priority=True,
                tooltip="Paste the chat's reply to \"ask for a restart note\" and merge it in"),
        Binding("escape", "close", "Close", id="note.close", tooltip="Back to the workbench"),
    ]
    HELP_TITLE = "the restart note"
    HELP_KEYS = (("tab", "between the text and the sections list"),
                 ("ctrl+z  ctrl+c  ctrl+v", "undo, copy and paste in the text"))

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
        self._disk: str | None = self._original if exists else None
        """The file's text when the editor last read or wrote it (None: there was no file)."""

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

    def _read_disk(self) -> str | None:
        """The file's text now (None: no file). Raises NoteError when it cannot be read."""
        return read_note_text(self._where)

    def files_changed(self, paths: Collection[str], reconciled: bool) -> None:
        """The app's watcher saw ``paths`` (relative to the project root) change, or walked the whole tree."""
        try:
            mine = self._where.relative_to(self._root).as_posix()
        except ValueError:
            mine = None
        if reconciled or mine in paths:
            self.disk_changed()

    def disk_changed(self) -> None:
        """The app's watcher saw the note change: show the new text when nothing here is unsaved, else say so
        (the next ctrl+s offers the choice)."""
        try:
            disk = self._read_disk()
        except NoteError as exc:
            self._status(f"The note changed outside the editor and cannot be read: {exc}", "bold dark_orange")
            return
        if disk == self._disk:
            return  # our own save, or the same text
        if disk is None:
            self._disk = None
            self._status("The note was deleted outside the editor: ctrl+s writes it again.", "bold dark_orange")
            return
        if not self.modified:
            self._reload(disk, "reloaded: the note was changed outside the editor")
            self.notify("The restart note changed on disk: the editor shows it as it is now.", timeout=5)
            return
        self._status("The note changed outside the editor too: ctrl+s offers to keep both, reload or overwrite.",
                     "bold dark_orange")
        self.notify("The restart note changed on disk while you edit it. ctrl+s lets you keep both.",
                    severity="warning", timeout=8)

    def _reload(self, disk: str, message: str) -> None:
        self._original = disk
        self._disk = disk
        self._exists = True
        self._replace(disk, message, "dark_orange")

    def action_save(self) -> None:
        try:
            disk = self._read_disk()
        except NoteError as exc:
            self._status(f"Not saved: {exc}", "bold red")
            self.notify(f"The restart note was not saved: {exc}", severity="error", markup=False, timeout=8)
            return
        if disk is not None and disk != self._disk:  # changed (or created) outside the editor since read
            if not self.modified:
                self._reload(disk, "reloaded: the note was changed outside the editor; nothing of yours to save")
                return
            mine, base = self.text, self._original

            def chosen(choice: str | None) -> None:
                if choice is None:
                    self._status("Not saved: the note changed outside the editor (ctrl+s to choose again).",
                                 "bold dark_orange")
                    return
                try:
                    now = self._read_disk()
                except NoteError:
                    now = None
                if now != disk:  # changed again while the question was open: ask about what is there now
                    self.action_save()
                    return
                if choice == "reload":
                    self._reload(disk, "reloaded: your unsaved edits were dropped")
                elif choice == "both":
                    self._write(write_note(merge_notes(base, mine, disk)), replace=True,
                                message="saved both: your edits and the outside change, merged by section")
                elif choice == "overwrite":
                    self._write(mine, replace=True, message="saved yours over the outside change")

            self.app.push_screen(NoteConflictScreen(self._where.name), chosen)
            return
        self._write(self.text, replace=disk is not None)

    def _write(self, text: str, *, replace: bool, message: str = "") -> None:
        """Save ``text``; ``replace``: the file there now was seen (unchanged, merged or chosen over)."""
        note = parse_note(text)
        try:
            path = save_note(self._root, self._inventory, note, replace=replace)
        except NoteError as exc:
            self._status(f"Not saved: {exc}", "bold red")
            self.notify(f"The restart note was not saved: {exc}", severity="error", markup=False, timeout=8)
            return
        self.post_message(self.Saved(path))
        self._disk = text
        self._original = text
        self._exists = True
        self._saved = True
        said = f"{message} ({path.name})" if message else f"saved {path.name}"
        if text != self.text:  # the merge: the editor shows what was saved
            self._replace(text, said)
        else:
            self._status(said, "green")
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
