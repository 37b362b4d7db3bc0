"""Files that arrived in the downloads folder and look like this project's outputs: move one into OUTPUT/.

Nothing moves until the user picks a file; other files in the downloads folder are never touched, and a
name already taken in OUTPUT/ gets a suffix instead of being overwritten.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from liferaft.core.scan import shown_name
from liferaft.core.units import format_size
from liferaft.tui.screens.screen_help import HELP_BINDING


class DownloadsScreen(ModalScreen[int | None]):
    """Returns the index of the download to move, or None."""

    BINDINGS = [HELP_BINDING, Binding("escape", "cancel", "Cancel", id="downloads.cancel", tooltip="Move nothing")]
    HELP_TITLE = "moving a download into OUTPUT"
    HELP_KEYS = (("↑ ↓", "pick a download"), ("enter", "move it into OUTPUT/ (never over a file)"))

    def __init__(self, downloads: Sequence[object]) -> None:
        super().__init__()
        self._downloads = list(downloads)

    def compose(self) -> ComposeResult:
        with Vertical(id="downloads-dialog"):
            yield Label("Move a download into OUTPUT/ (enter moves it, esc closes)", id="downloads-title")
            options = []
            for index, item in enumerate(self._downloads):
                name = str(getattr(item, "name", ""))
                matches = getattr(item, "matches", None)
                size = getattr(item, "size", None)
                label = Text(shown_name(name), style="bold")
                if matches and matches != name:
                    label.append(f"  → OUTPUT/{shown_name(str(matches))}", style="green")
                if size is not None:
                    label.append(f"  {format_size(int(size))}", style="dim")
                label.append(f"  {getattr(item, 'reason', '')}", style="dim italic")
                options.append(Option(label, id=str(index)))
            yield OptionList(*options, id="downloads-options")
            yield Label("Only the file you pick is moved; a name already in OUTPUT/ gets -2, -3…",
                        id="downloads-help")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.highlighted = 0
        options.focus()

    @on(OptionList.OptionSelected, "#downloads-options")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(int(event.option.id or 0))

    def action_cancel(self) -> None:
        self.dismiss(None)
