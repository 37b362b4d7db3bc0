"""The status line: what is at risk and the checkpoints, the session clock, the files per role."""

from __future__ import annotations

import contextlib

from rich.text import Text
from textual import events
from textual.message import Message
from textual.widgets import Static

from liferaft.core.roles import Role
from liferaft.core.scan import Inventory
from liferaft.core.units import format_age_short, format_count, format_size

TYPE_CHECKING = False
if TYPE_CHECKING:
    from liferaft.core.diagnose.clock import SessionClock
    from liferaft.core.risk import Risk


def risk_text(risk: Risk, now: float, width: int = 1000) -> Text:
    """The at-risk part of the status line: outputs not checkpointed, missing or in Downloads (with the key that
    lists them: the line is clickable too), then the checkpoints (how many, how long ago) and the rework bar.
    Shorter words when ``width`` cells cannot hold the long ones, so that every count stays readable."""
    from datetime import datetime

    from liferaft.core.checkpoints import rework_percent

    rework = rework_percent(risk.checkpoints)
    filled = round(rework / 20)
    bar_style = "red" if rework > 50 else "dark_orange" if rework > 20 else "green"
    last = ""
    if risk.last_checkpoint is not None:
        with contextlib.suppress(ValueError):
            age = format_age_short(datetime.fromisoformat(risk.last_checkpoint).timestamp(), now)
            last = "just now" if age == "now" else f"{age} ago"
    flagged = risk.unsaved_outputs or risk.missing_outputs or risk.downloads
    text = Text()
    for short in (False, True):
        text = Text()
        gap = "  " if short else "   "
        if risk.unsaved_outputs:
            what = "unsaved" if short else "not checkpointed"
            text.append(f"⚑ {len(risk.unsaved_outputs)} {what}{gap}", style="bold dark_orange")
        if risk.missing_outputs:
            text.append(f"⚑ {len(risk.missing_outputs)} missing{gap}", style="bold red")
        if risk.downloads:
            what = "downloaded" if short else "in Downloads"
            text.append(f"⇣ {len(risk.downloads)} {what}{gap}", style="bold cyan")
        if flagged:
            text.append("(w)" if short else "w: what to do", style="bold")
            text.append(gap)
        if short:
            text.append(f"{format_count(risk.checkpoints, 'checkpoint')}", style="dim")
        else:
            text.append(f"checkpoints {risk.checkpoints}", style="dim")
            if last:
                text.append(f", last {last}", style="dim")
        text.append(" ")
        text.append("█" * filled, style=bar_style)
        text.append("░" * (5 - filled), style="dim")
        text.append(f" {rework:.0f} %" + ("" if short else " rework if lost"), style="dim")
        if text.cell_len <= width:
            break
    return text


def status_text(inventory: Inventory, now: float, risk: Risk | None, clock: SessionClock,
                 width: int = 1000) -> Text:
    """The status line, most urgent first (a narrow terminal cuts its end): what is at risk and the
    checkpoints, the session, then the files per role (the project pane shows those too)."""
    parts: list[Text] = []
    if risk is not None:
        parts.append(risk_text(risk, now, width))
    if clock.idle_hours is not None:
        parts.append(Text(f"session {clock.state.value} ({clock.idle_hours:.1f} h idle)"))
    counts = [f"{role.label} {len(records):,}" for role, records in inventory.grouped().items()
              if records or role is not Role.UNSORTED]
    line = " · ".join(counts) + f" ({format_size(inventory.total_size)})"
    if inventory.notes:
        line += f"   {format_count(len(inventory.notes), 'note')}"
    parts.append(Text(line, style="dim"))
    return Text("   ").join(parts)



class StatusLine(Static):
    """The status line. A click on it opens the list of what is at risk (as ``w`` does)."""

    DEFAULT_CLASSES = "status-line"

    class Resized(Message):
        """The line changed width: the screen draws it again (shorter words when it is narrower)."""

    async def on_click(self, event: events.Click) -> None:
        event.stop()
        await self.app.run_action("show_risk")

    def on_resize(self, event: events.Resize) -> None:
        self.post_message(self.Resized())
