"""F1 on a screen in front of the workbench (a dialog, the diagnosis, the note...): that screen's own keys.

The keys come from the screen's bindings (their tooltips say what they do), numbered keys that do the same
thing for different numbers folded into one line (``1…9``), then the keys of the widgets on it that a binding
does not list, which a screen names in ``HELP_KEYS``. The workbench's full help stays on F1 there.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from liferaft.tui.screens.help import key_display

_NUMBER = re.compile(r"\d+")

#: F1 on a dialog: a dialog (a modal screen) keeps the workbench's keys from reaching the app, so each one binds
#: F1 itself, to the app's help (which shows the keys of the screen in front).
HELP_BINDING = Binding("f1", "app.help", "Keys", id="dialog.help", show=False, tooltip="The keys of this dialog")


def _own_bindings(screen: Screen) -> list[Binding]:
    """The bindings Liferaft's screen classes declare (their bases' first), not Textual's own."""
    found: list[Binding] = []
    for cls in reversed(type(screen).__mro__):
        if not cls.__module__.startswith("liferaft."):
            continue
        for binding in cls.__dict__.get("BINDINGS", ()):
            if isinstance(binding, Binding) and binding.action != "app.help":
                found.append(binding)
    return found


def screen_keys(screen: Screen) -> list[tuple[str, str]]:
    """(keys, what they do) for ``screen``: its bindings, then its ``HELP_KEYS``."""
    rows: list[tuple[str, str]] = []
    numbered: dict[str, list[str]] = {}
    for binding in _own_bindings(screen):
        what = binding.tooltip or binding.description
        keys = key_display(binding.key)
        if _NUMBER.fullmatch(keys) and _NUMBER.search(what):
            pattern = _NUMBER.sub("N", what)
            if pattern not in numbered:
                numbered[pattern] = []
                rows.append(("\0" + pattern, pattern))  # placeholder, filled below
            numbered[pattern].append(keys)
            continue
        rows.append((keys.replace("escape", "esc"), what))
    result: list[tuple[str, str]] = []
    for keys, what in rows:
        if keys.startswith("\0"):
            numbers = numbered[what]
            keys = numbers[0] if len(numbers) == 1 else f"{numbers[0]}…{numbers[-1]}"
            what = what.replace(" N", " with that number" if len(numbers) > 1 else f" {numbers[0]}", 1)
        result.append((keys, what))
    extra: Iterable[tuple[str, str]] = getattr(screen, "HELP_KEYS", ())
    result += list(extra)
    return result


def screen_title(screen: Screen) -> str:
    title = getattr(screen, "HELP_TITLE", "")
    if title:
        return str(title)
    return re.sub(r"(?<!^)(?=[A-Z])", " ", type(screen).__name__.removesuffix("Screen")).strip() or "This screen"


def screen_help_content(screen: Screen) -> RenderableType:
    table = Table(show_header=False, box=None, padding=(0, 2), expand=False)
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    for keys, what in screen_keys(screen):
        table.add_row(keys, what)
    return Group(
        Text(f"Keys of {screen_title(screen)}", style="bold underline"),
        Text(""),
        table,
        Text(""),
        Text("F1 on the workbench lists every key and how recovery works; ctrl+q quits Liferaft.", style="dim"),
    )


class ScreenHelpScreen(ModalScreen[None]):
    """The keys of the screen that was in front when F1 was pressed."""

    DEFAULT_CSS = """
    ScreenHelpScreen { align: center middle; background: $background 60%; }
    ScreenHelpScreen #screen-help-dialog {
        width: 90; max-width: 100%; height: auto; max-height: 90%; border: round $accent;
        border-title-color: $text-accent; background: $surface; padding: 0 1;
    }
    """

    BINDINGS = [
        Binding("escape,f1,question_mark,q", "dismiss", "Close", id="screen_help.close",
                tooltip="Close these keys"),
    ]

    def __init__(self, screen: Screen) -> None:
        super().__init__()
        self._screen = screen

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="screen-help-dialog") as dialog:
            dialog.border_title = "Keys here · esc to close"
            yield Static(screen_help_content(self._screen), id="screen-help-body")

    def on_mount(self) -> None:
        self.query_one("#screen-help-dialog").focus()

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
