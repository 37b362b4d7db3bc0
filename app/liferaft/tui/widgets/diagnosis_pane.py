"""The diagnosis pane: the session clock (how long since the project was last active, against the sandbox's
inactivity window) and the FILE step (whether the files a new chat needs will upload).

The clock is the workbench's (:class:`~liferaft.core.diagnose.session.SessionTracker`: the project's activity log,
``.liferaft/activity.json``, with the folder changing while watched and ``a`` for "I just used the chat", and the
files' modification times); the pane only shows it. ``d`` opens the full diagnosis.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.console import Group, RenderableType
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from liferaft.core.diagnose.clock import SessionClock, SessionWindow
from liferaft.core.diagnose.session import SessionTracker
from liferaft.core.scan import Inventory, shown_name
from liferaft.core.summary import SessionState
from liferaft.core.units import format_age, format_count
from liferaft.core.uploads import UploadPlan
from liferaft.tui.widgets.text_pane import TextPane, fit_title

STATE_STYLES: dict[SessionState, str] = {
    SessionState.ACTIVE: "green",
    SessionState.IDLE: "yellow",
    SessionState.LIKELY_EXPIRED: "red",
    SessionState.UNKNOWN: "dim",
}


def clock_time(when: float, now: float) -> str:
    """``14:05``, or ``Tue 14:05`` when it is not today."""
    local, today = time.localtime(when), time.localtime(now)
    same_day = (local.tm_year, local.tm_yday) == (today.tm_year, today.tm_yday)
    return time.strftime("%H:%M" if same_day else "%a %H:%M", local)


def _hours(hours: float) -> str:
    if hours * 60 < 1:
        return "under a minute"
    return f"{round(hours * 60)} min" if hours < 1 else f"{hours:.1f} h"


def clock_bar(clock: SessionClock) -> Table:
    style = STATE_STYLES[clock.state]
    bar = Table.grid(expand=True)  # a grid row gives the bar the pane's width and ends its line
    bar.add_row(ProgressBar(total=1000, completed=round(clock.used_fraction * 1000), width=None,
                            complete_style=style, finished_style=style, style="bright_black"))
    return bar


def timeline(clock: SessionClock) -> Text:
    """ACTIVE → IDLE → LIKELY EXPIRED, with the time each one starts; the one on now in bold."""
    assert clock.last_time is not None and clock.idle_from is not None and clock.expires_at is not None
    now = clock.now
    parts = [(SessionState.ACTIVE, f"since {clock_time(clock.last_time, now)}"),
             (SessionState.IDLE, f"from {clock_time(clock.idle_from, now)}"),
             (SessionState.LIKELY_EXPIRED, f"from {clock_time(clock.expires_at, now)}")]
    text = Text()
    for index, (state, when) in enumerate(parts):
        if index:
            text.append(" → ", style="dim")
        on = state is clock.state
        text.append(state.value.upper(), style=f"bold {STATE_STYLES[state]}" if on else "dim")
        text.append(f" {when}", style="" if on else "dim")
    return text


def clock_view(clock: SessionClock, window: SessionWindow, *, title: str = "Session clock",
               details: bool = False) -> RenderableType:
    """The clock: state, bar, idle time against the window, the last sign of life, and the warning if any.
    With ``details``, also the timeline and where the window comes from."""
    style = STATE_STYLES[clock.state]
    if clock.last_time is None or clock.idle_hours is None:
        return Group(
            Text(title, style="bold"),
            Text("Nothing yet: the clock starts with the first file saved here, or a to say you used the chat.",
                 style="italic"),
        )
    left = clock.remaining_hours or 0.0
    lines: list[RenderableType] = [
        Text.assemble((f"{title}  ", "bold"), (clock.state.value.upper(), f"bold {style}")),
        clock_bar(clock),
        Text(f"{_hours(clock.idle_hours)} idle of the {window.hours:g} h window"
             + (f" · {_hours(left)} left" if left > 0 else "")),
        Text(f"Last active {format_age(clock.last_time, clock.now)}: {clock.last_said()}.", style="dim"),
    ]
    if details:
        lines.insert(2, timeline(clock))
    if clock.warning:
        lines.append(Text(clock.warning, style=f"bold {style}"))
    if details:
        lines.append(Text(f"The window: {window.hours:g} h without activity ({window.source}). Liferaft sees this "
                          "folder, not the chat: press a in the workbench after you use the chat.",
                          style="dim italic"))
    else:
        lines.append(Text("a: I just used the chat · d: diagnose a problem", style="dim italic"))
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
        line = Text.assemble((f"{mark} ", style), (shown_name(item.record.name), "bold"),
                             f": {shown_name(worst.message)}")
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


def files_summary(plan: UploadPlan | None) -> str:
    """The FILE step in one line, for a notification."""
    if plan is None or (plan.items and not plan.checks):
        return "The files are still being checked against the upload limits."
    if not plan.items:
        return "There is nothing in SOURCE/ to upload yet: put the original data there."
    counts = plan.verdicts
    if counts["block"] or counts["warn"]:
        parts = [f"{counts['block']} blocked"] if counts["block"] else []
        parts += [f"{counts['warn']} to look at"] if counts["warn"] else []
        return (f"Of {format_count(len(plan.items), 'file')} to upload, {' and '.join(parts)}: select one in "
                "SOURCE and press p for a fixed copy.")
    return f"All {format_count(len(plan.items), 'file')} to upload pass the upload check."


class DiagnosisPane(TextPane):
    """Shows the session clock the workbench keeps (its :class:`SessionTracker`) and the FILE step."""

    BORDER_TITLE = "Diagnosis"

    def __init__(self, now: Callable[[], float], session: SessionTracker, *, id: str | None = None) -> None:
        super().__init__(now, id=id)
        self._session = session

    @property
    def window(self) -> SessionWindow:
        """The inactivity window on show."""
        return self._session.window

    def refresh_clock(self) -> None:
        """Draw the clock again (its activity log just changed)."""
        if self._inventory is not None:
            self.show(self._inventory)

    def clock(self, inventory: Inventory | None = None, now: float | None = None) -> SessionClock:
        """The session clock for ``inventory`` (default: the one on show) at ``now`` (default: the app's now)."""
        inventory = inventory if inventory is not None else self._inventory
        return self._session.clock(inventory, self._now() if now is None else now)

    _titles: tuple[str, ...] = ("Diagnosis",)

    def compose(self) -> ComposeResult:
        yield from super().compose()
        yield Static("", classes="pane-sliver")  # shown instead when the pane is a sliver beside the composer

    def render_view(self, inventory: Inventory, now: float) -> RenderableType:
        clock = self.clock(inventory, now)
        # The state in the title too: below 120 columns the pane folds to its title (short forms when narrow).
        if clock.idle_hours is None:
            self._titles = ("Diagnosis",)
            sliver = Text("Session\nclock: no\nsign yet", style="dim")
        else:
            state, hours = clock.state.value.upper(), f"{clock.idle_hours:.1f} h"
            self._titles = (f"Diagnosis · {state} {hours}", f"Session {state} {hours}", f"{state} {hours} idle",
                            f"{state} {hours}", state, "Diagnosis")
            sliver = Text.assemble((state.replace(" ", "\n"), f"bold {STATE_STYLES[clock.state]}"),
                                   f"\n{hours} idle", ("\n3 opens", "dim"))
        self._fit_title()
        self.query_one(".pane-sliver", Static).update(sliver)
        return Group(clock_view(clock, self.window), Text(""), files_view(self.plan))

    def _fit_title(self) -> None:
        self.border_title = fit_title(self, self._titles)

    def on_resize(self) -> None:
        self._fit_title()
