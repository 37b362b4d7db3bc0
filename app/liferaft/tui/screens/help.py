"""The help screen (F1 or ?): every key, by pane, and how recovery works."""

from __future__ import annotations

from collections.abc import Mapping

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from liferaft.tui.commands import COMMANDS, KEY_NAMES, SCOPES

#: Keys that come with the widgets rather than from the command list.
WIDGET_KEYS: dict[str, tuple[tuple[str, str], ...]] = {
    "project": (
        ("↑ ↓", "move between files"),
        ("PgUp PgDn Home End", "move by a page, or to the ends"),
        ("enter", "fold or unfold a group; on a file, go to its preview"),
    ),
    "preview": (("↑ ↓ ← →", "move around the table or text"),),
    "app": (
        ("tab  shift+tab", "go to the next or previous pane"),
        ("ctrl+p  f2", "the command palette: every command by name (f2 where the terminal keeps ctrl+p)"),
    ),
}

RECOVERY = (
    "How recovery works\n\n"
    "ChatGPT runs your analysis in a temporary sandbox. About 13 hours after the chat goes quiet the sandbox "
    "is destroyed: uploaded files, variables, charts and every sandbox:/mnt/data download link go with it. The "
    "chat text stays. Liferaft keeps the work outside the chat so that you can start again in minutes:\n\n"
    "1. Keep the original data in SOURCE/, and never edit it there.\n"
    "2. Save the code the chat wrote in CODE/, and download every output to OUTPUT/ as soon as it appears.\n"
    "3. Keep the restart note in RESTART/ up to date (n): files, columns, filters, decisions, outputs, next "
    "prompt. While the chat still works, the composer's \"ask for a restart note\" prompt (t) gets the chat to "
    "write it; paste its reply with ctrl+o in the note.\n"
    "4. Before uploading, fix what the upload check flags (p on a file in SOURCE).\n"
    "5. When the sandbox is gone: open a new chat, upload the files in the order the prompt lists them (u "
    "copies their paths, f opens their folder), and paste the prompt that ctrl+y copies.\n"
)

LEGEND = (
    "In the file list: ▦ table  λ code  ≡ text  ◩ image  ▤ PDF  ▣ archive  {} JSON  · other.\n"
    "Badges (in a narrow pane, the mark in brackets): "
    "block (✗) = a new chat will refuse it as it is, p shows the fix; "
    "warn (!) = it may be misread or is near a limit, see the preview; "
    "prepared (✓) = a fixed copy under prepared/ is uploaded instead; "
    "unsaved (⚑) = an output new or changed since the last checkpoint, k records one; "
    "downloading = a browser download still arriving; "
    "guess (?) = role guessed from the name and kind, o sets it; "
    "empty = the file has no bytes; link = a symbolic link; outside = a link out of the project; "
    "locked = unreadable; bad name = line breaks, control characters or invalid UTF-8 in the name; "
    "+2 = two more (see the preview); ! in a narrow pane also stands for any of these."
)


def key_display(keys: str) -> str:
    return "  ".join(KEY_NAMES.get(key.strip(), key.strip()) for key in keys.split(","))


def help_content(keymap: Mapping[str, str]) -> RenderableType:
    table = Table(show_header=False, box=None, padding=(0, 2), expand=False)
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    table.add_column(style="dim", no_wrap=True)
    for scope, title in SCOPES.items():
        table.add_row(Text(title, style="bold underline"), "", "")
        for command in COMMANDS:
            if command.scope == scope:
                table.add_row(key_display(keymap.get(command.id, command.keys)) or command.reach, command.help,
                              command.id if command.keys else "")
        for keys, what in WIDGET_KEYS.get(scope, ()):
            table.add_row(keys, what, "")
        table.add_row("", "", "")
    rebind = "To re-bind a key, put its id (right-hand column) in the [keys] table of the config file: "
    return Group(table, Text(LEGEND), Text(""), Text(RECOVERY),
                 Text(rebind + 'e.g.  "project.set_role" = "ctrl+o"', style="dim"))


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,f1,question_mark,q", "dismiss", "Close", id="help.close", tooltip="Close the help"),
    ]

    def __init__(self, keymap: Mapping[str, str]) -> None:
        super().__init__()
        self._keymap = keymap

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-dialog") as dialog:
            dialog.border_title = "Help · esc to close"
            yield Static(help_content(self._keymap), id="help-body")

    def on_mount(self) -> None:
        self.query_one("#help-dialog").focus()

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
