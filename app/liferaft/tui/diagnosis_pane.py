"""The diagnosis pane. For now it shows what the project folder says about the chat's sandbox (how long
ago work was last saved here, against the vendor's inactivity window) and whether the files a new chat
needs will upload (the FILE step)."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from liferaft.core.scan import Inventory
from liferaft.core.summary import SessionState, estimate_session, last_change
from liferaft.core.units import format_age, format_count
from liferaft.core.uploads import UploadPlan
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


#: Files named at most in the FILE step; the preview and `liferaft check` tell the rest.
FILES_SHOWN = 4


def files_view(plan: UploadPlan | None) -> RenderableType:
    """The FILE step: will the files a new chat needs upload, and what to fix first."""
    title = Text("Files for a new chat  ", style="bold")
    if plan is None or (plan.items and not plan.checks):
        return Group(title, Text("Checking them against the upload limits…", style="italic dim"))
    if not plan.items:
        return Group(title, Text("None in SOURCE/ yet: put the original data there.", style="italic"))
    counts = plan.verdicts
    parts = []
    if counts["block"]:
        parts.append((f"{counts['block']} BLOCKED", "bold red"))
    if counts["warn"]:
        parts.append((f"{counts['warn']} to look at", "dark_orange"))
    parts.append((f"{counts['ok']} ok", "green"))
    for index, (text, style) in enumerate(parts):
        title.append((" · " if index else "") + text, style=style)
    lines: list[RenderableType] = [title]
    troubled = [item for item in plan.items if item.check is not None and item.check.verdict != "ok"]
    troubled.sort(key=lambda item: item.check.verdict != "block" if item.check else True)
    for item in troubled[:FILES_SHOWN]:
        check = item.check
        assert check is not None
        worst = max(check.problems, key=lambda problem: problem.severity == "block")
        mark, style = ("✗", "red") if check.verdict == "block" else ("!", "dark_orange")
        line = Text.assemble((f"{mark} ", style), (item.record.name, "bold"), f": {worst.message}")
        line.no_wrap, line.overflow = True, "ellipsis"  # one line a file: the preview has the whole story
        lines.append(line)
    if len(troubled) > FILES_SHOWN:
        lines.append(Text(f"… and {format_count(len(troubled) - FILES_SHOWN, 'more file')}", style="dim"))
    for problem in plan.problems:
        lines.append(Text.assemble(("! ", "dark_orange"), problem.message))
    if troubled:
        lines.append(Text("Select one in SOURCE and press p for a fixed copy.", style="dim italic"))
    else:
        lines.append(Text("All pass the upload check.", style="green"))
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
        return Group(session_view(inventory, now), Text(""), files_view(self.plan))
