"""The dialog that takes the chat's reply to the "ask for a restart note" prompt, for the note editor."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, TextArea

from liferaft.tui.screens.screen_help import HELP_BINDING


class ImportScreen(ModalScreen[str | None]):
    """Paste the chat's reply; returns the text, or None."""

    BINDINGS = [
        HELP_BINDING,
        Binding("ctrl+s", "done", "Import", id="note.import_done", priority=True,
                tooltip="Merge the pasted reply into the note, section by section"),
        Binding("escape", "cancel", "Cancel", id="note.import_cancel", tooltip="Import nothing"),
    ]
    HELP_TITLE = "importing the chat's reply"
    HELP_KEYS = (("ctrl+v", "paste (your terminal's paste works too)"),)

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
