"""What is at risk (w, or a click on the status line): each output that would be lost if the sandbox died now,
and what to do about it.

Three kinds, most urgent first: outputs only the chat has (named in the restart note or a chat export, missing
from OUTPUT), files waiting in the downloads folder that look like outputs, and outputs in OUTPUT that no
checkpoint has recorded yet. The keys do what the list says (k records a checkpoint, m moves a download in);
nothing happens until one is pressed.
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from liferaft.core.names import cut_middle
from liferaft.core.risk import Risk, RiskItem
from liferaft.core.scan import shown_name
from liferaft.core.units import format_count, format_size
from liferaft.tui.screens.screen_help import HELP_BINDING

#: Items listed at most per kind (the CLI's `liferaft status` lists them all).
SHOWN = 50
#: Cells a name takes at most in the list: a long one is cut in the middle, keeping its extension.
NAME_CELLS = 36

MISSING_TODO = ("ask the chat for it again while the session lasts (composer: t → Regenerate one output) and "
                "save it in OUTPUT/; once the session is gone, the rerun prompt (ctrl+y) asks for it.")
DOWNLOAD_TODO = "m moves it into OUTPUT/ (under the missing output's name when it stands for one)."
UNSAVED_TODO = "k records a checkpoint: they are in OUTPUT already, a checkpoint records them as they are."


def _name(item: RiskItem) -> str:
    return cut_middle(shown_name(item.path if item.path and not item.path.startswith("/") else item.name), NAME_CELLS)


def _detail(item: RiskItem) -> Text:
    if item.matches:
        detail = Text(f"→ OUTPUT/{shown_name(item.matches)}", style="green")
    elif item.sources:
        detail = Text(f"named in: {shown_name(', '.join(item.sources))}", style="dim")  # a chat's title
    elif item.size is not None:
        detail = Text("looks like an output", style="dim")
    else:
        detail = Text(shown_name(item.reason), style="dim")
    if item.size is not None:
        detail.append(f"  {format_size(item.size)}", style="dim")
    return detail


def risk_view(risk: Risk) -> RenderableType:
    """The list: per kind a heading, one line per item (name, then where it is named or goes), and what to do."""
    sections = (
        ("⚑", "Missing", "made in the chat, never saved here", "bold red", risk.missing_outputs, MISSING_TODO),
        ("⇣", "In your downloads folder", "waiting to be moved in", "bold cyan", risk.downloads, DOWNLOAD_TODO),
        ("⚑", "Not in a checkpoint", "saved in OUTPUT, not recorded yet", "bold dark_orange", risk.unsaved_outputs,
         UNSAVED_TODO),
    )
    parts: list[RenderableType] = []
    for mark, title, about, style, items, todo in sections:
        if not items:
            continue
        if parts:
            parts.append(Text(""))
        parts.append(Text.assemble((f"{mark} {title} ({len(items)})", style), (f": {about}", "dim")))
        rows = Table.grid(padding=(0, 2))
        rows.add_column(no_wrap=True)
        rows.add_column(no_wrap=True, overflow="ellipsis")
        for item in items[:SHOWN]:
            rows.add_row(Text(f"  {_name(item)}", style="bold"), _detail(item))
        parts.append(rows)
        if len(items) > SHOWN:
            parts.append(Text(f"  … and {len(items) - SHOWN:,} more: `liferaft status` lists them all", style="dim"))
        parts.append(Padding(Text.assemble(("What to do: ", "bold italic"), (todo, "italic")), (0, 0, 0, 2)))
    if not parts:
        parts.append(Text("Nothing at risk: every output is saved in OUTPUT and in a checkpoint.", style="green"))
    return Group(*parts)


def risk_footer(risk: Risk) -> Text:
    if not risk.checkpoints:
        return Text("No checkpoint yet: k records one.", style="dim")
    text = Text(format_count(risk.checkpoints, "checkpoint"), style="dim")
    if risk.last_checkpoint:
        text.append(f", the last at {risk.last_checkpoint.replace('T', ' ')[:16]}", style="dim")
    text.append(" · K lists them and what changed", style="dim")
    return text


class RiskScreen(ModalScreen[str | None]):
    """Returns the action to run (``checkpoint`` or ``move_downloads``), or None."""

    # The key hints are links (a click does what the key does) that look like the text they were.
    DEFAULT_CSS = """
    RiskScreen #risk-help { link-color: $foreground; link-background: transparent; link-style: none; }
    """

    BINDINGS = [
        HELP_BINDING,
        Binding("escape,w,q", "close", "Close", id="risk.close", tooltip="Back to the workbench"),
        Binding("k", "do('checkpoint')", "Checkpoint", id="risk.checkpoint",
                tooltip="Record a checkpoint: the outputs in OUTPUT are then in it"),
        Binding("m", "do('move_downloads')", "Move download", id="risk.move",
                tooltip="Move a file from your downloads folder into OUTPUT/"),
    ]

    def __init__(self, risk: Risk, now: float) -> None:
        super().__init__()
        self._risk = risk
        self._now = now

    def compose(self) -> ComposeResult:
        risk = self._risk
        total = len(risk.missing_outputs) + len(risk.downloads) + len(risk.unsaved_outputs)
        with Vertical(id="risk-dialog"):
            yield Label(f"What is at risk · {format_count(total, 'item')}", id="risk-title")
            with VerticalScroll(id="risk-scroll"):
                yield Static(risk_view(risk), id="risk-list")
            yield Static(risk_footer(risk), id="risk-footer")
            # Each key named here is also a link: the mouse does what the key does.
            keys = [("k checkpoint", "screen.do('checkpoint')")] if risk.unsaved_outputs else []
            keys += [("m move a download", "screen.do('move_downloads')")] if risk.downloads else []
            keys.append(("esc close", "screen.close"))
            yield Label(Content(" · ").join(Content.from_markup(f"[@click={action}]{label}[/]")
                                            for label, action in keys), id="risk-help")

    def on_mount(self) -> None:
        self.query_one("#risk-scroll").focus()

    def action_do(self, action: str) -> None:
        if action == "move_downloads" and not self._risk.downloads:
            self.notify("Nothing in your downloads looks like this project's output.", timeout=3)
            return
        self.dismiss(action)

    def action_close(self) -> None:
        self.dismiss(None)
