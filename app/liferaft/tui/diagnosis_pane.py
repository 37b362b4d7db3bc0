"""The diagnosis pane. For now it shows what the project folder says about the chat's sandbox: how long
ago work was last saved here, against the vendor's inactivity window."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from liferaft.core.scan import Inventory
from liferaft.core.summary import SessionState, estimate_session, last_change
from liferaft.core.units import format_age
from liferaft.core.vendor import session_facts
from liferaft.tui.text_pane import TextPane

STATE_STYLES: dict[SessionState, str] = {
    SessionState.ACTIVE: "green",
    SessionState.IDLE: "yellow",
    SessionState.LIKELY_EXPIRED: "red",
    SessionState.UNKNOWN: "dim",
}


def session_view(inventory: Inventory, now: float) -> RenderableType:
    facts = session_facts()
    estimate = estimate_session(inventory, now, facts.inactivity_hours)
    style = STATE_STYLES[estimate.state]
    if estimate.idle_hours is None:
        return Group(
            Text("Session clock", style="bold"),
            Text("No files yet: the clock starts with the first file saved here.", style="italic"),
        )
    bar = Table.grid(expand=True)  # a grid row gives the bar the pane's width and ends its line
    bar.add_row(ProgressBar(total=1000, completed=round(estimate.used_fraction * 1000), width=None,
                            complete_style=style, finished_style=style, style="bright_black"))
    newest = last_change(inventory)
    lines: list[RenderableType] = [
        Text.assemble(("Session clock  ", "bold"), (estimate.state.value.upper(), f"bold {style}")),
        bar,
        Text(f"{estimate.idle_hours:.1f} h idle of the {facts.inactivity_hours:g} h window"),
        Text(f"Last saved here: {newest.path if newest else '?'}, {format_age(newest.mtime, now) if newest else ''}",
             style="dim"),
    ]
    if estimate.state is SessionState.LIKELY_EXPIRED:
        lines.append(Text("The chat's files and links are probably gone: re-upload and rerun (ctrl+y).", style=style))
    elif estimate.state is SessionState.IDLE and estimate.used_fraction > 0.75:
        lines.append(Text("Close to the limit: download your outputs now.", style=style))
    lines.append(Text(f"Estimated from this folder's activity; the sandbox is removed ~{facts.inactivity_hours:g} h "
                      "after the chat goes quiet.", style="dim italic"))
    return Group(*lines)


class DiagnosisPane(TextPane):
    BORDER_TITLE = "Diagnosis"

    def render_view(self, inventory: Inventory, now: float) -> RenderableType:
        # The state in the title too: below 120 columns the pane folds to its title.
        estimate = estimate_session(inventory, now, session_facts().inactivity_hours)
        if estimate.idle_hours is None:
            self.border_title = "Diagnosis"
        else:
            self.border_title = f"Diagnosis · {estimate.state.value.upper()} {estimate.idle_hours:.1f} h"
        return session_view(inventory, now)
