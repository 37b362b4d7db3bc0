"""The secret gate's dialog: credentials found in the prompt, masked, with where each came from.

Nothing leaves until the user chooses: "redact and copy" replaces each value by a marker naming its type;
"cancel" copies nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from liferaft.tui.screens.screen_help import HELP_BINDING

REDACT = "redact"
CANCEL = "cancel"


class SecretsScreen(ModalScreen[str | None]):
    """Returns :data:`REDACT`, or None (cancel, esc)."""

    BINDINGS = [HELP_BINDING, Binding("escape", "cancel", "Cancel", id="secrets.cancel", tooltip="Copy nothing")]
    HELP_TITLE = "the secret check"
    HELP_KEYS = (("↑ ↓", "redact and copy, or cancel"), ("enter", "do the highlighted choice"))

    def __init__(self, findings: Sequence[object], what: str) -> None:
        super().__init__()
        self._findings = list(findings)
        self._what = what

    def compose(self) -> ComposeResult:
        count = len(self._findings)
        with Vertical(id="secrets-dialog"):
            yield Label(f"{count} possible secret{'s' if count != 1 else ''} in {self._what}: nothing was copied",
                        id="secrets-title", markup=False)
            table = Table.grid(padding=(0, 2))
            table.add_column(style="bold", no_wrap=True)
            table.add_column(no_wrap=True)
            table.add_column(style="dim", overflow="fold")
            for finding in self._findings:
                table.add_row(Text(str(getattr(finding, "kind", "secret"))), Text(str(getattr(finding, "masked", ""))),
                              Text(str(getattr(finding, "source", ""))))
            with VerticalScroll(id="secrets-list"):
                yield Static(table)
            yield OptionList(
                Option("Redact and copy: each value becomes [REDACTED: its type]", id=REDACT),
                Option("Cancel: copy nothing", id=CANCEL),
                id="secrets-options",
            )
            yield Label("Only the first and last characters are shown; the values never leave this machine to be "
                        "checked.", id="secrets-help")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.highlighted = 0
        options.focus()

    @on(OptionList.OptionSelected, "#secrets-options")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(REDACT if event.option.id == REDACT else None)

    def action_cancel(self) -> None:
        self.dismiss(None)
