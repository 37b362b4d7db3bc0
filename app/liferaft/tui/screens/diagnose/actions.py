"""What the diagnosis screens share: the memory of the current problem (the pasted error, the symptom, the last
status check), the status check in a worker, and running a step's action (copy the prompt, check the files,
open the checklist…) from wherever the step is shown."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

from rich.console import Group, RenderableType
from rich.text import Text
from textual.app import App
from textual.dom import DOMNode

from liferaft.core.diagnose.knowledge import Knowledge, load_knowledge, status_url
from liferaft.core.diagnose.status_page import StatusReport

TYPE_CHECKING = False
if TYPE_CHECKING:
    from liferaft.tui.app import LiferaftApp

LAYER_STYLES: dict[str, str] = {"SESSION": "magenta", "FILE": "dark_orange", "OUTAGE": "red", "FIX": "cyan"}
STATUS_STYLES: dict[str, str] = {"up": "green", "degraded": "dark_orange", "down": "bold red", "unknown": "dim"}


@dataclass(slots=True)
class DiagnoseMemory:
    """The problem being diagnosed, remembered while the app runs (the screens come and go)."""

    error_text: str = ""
    """The error as pasted, exactly."""
    symptom_id: str | None = None
    """The symptom last shown."""
    status: StatusReport | None = None
    """The last status-page check."""
    checking: bool = False
    """A status check is running."""
    listeners: list[Callable[[StatusReport], None]] = field(default_factory=list)


def memory_of(app: App[object]) -> DiagnoseMemory:
    """The app's memory of the problem being diagnosed."""
    return cast("LiferaftApp", app).diagnose_memory


def settings_other(app: App[object]) -> dict[str, object]:
    return cast("LiferaftApp", app).settings.other


def status_view(report: StatusReport | None, knowledge: Knowledge, *, checking: bool = False) -> RenderableType:
    """The OUTAGE evidence: what the status page said, or how to ask."""
    title = Text("Status page  ", style="bold")
    page = knowledge.status.page or knowledge.status.url
    if checking:
        return Group(title + Text("checking…", style="italic dim"))
    if report is None:
        return Group(title + Text("not checked", style="dim"),
                     Text(f"s looks at {page} (a few seconds at most).", style="dim italic"))
    style = STATUS_STYLES.get(report.state, "dim")
    lines: list[RenderableType] = [title + Text(report.state.upper(), style=f"bold {style}")]
    when = time.strftime("%H:%M", time.localtime(report.checked_at)) if report.checked_at else "?"
    if report.state == "unknown":
        lines.append(Text(f"Could not tell ({report.reason}): check {page} yourself.", style="dark_orange"))
    else:
        lines.append(Text(f"{report.description} (at {when})"))
    for incident in report.incidents[:4]:
        lines.append(Text.assemble(("! ", "red"), incident))
    for component in report.components[:4]:
        lines.append(Text.assemble(("· ", "dark_orange"), component))
    if report.state in ("degraded", "down"):
        lines.append(Text("During an incident, refreshing rarely helps: save your prompt and wait.", style="italic"))
    return Group(*lines)


def start_status_check(node: DOMNode, done: Callable[[StatusReport], None] | None = None) -> bool:
    """Check the vendor's status page in a thread worker on ``node`` (never blocking the screen); the report
    goes to the memory, to every listener and to ``done``. False when a check is already running."""
    app = node.app
    memory = memory_of(app)
    if memory.checking:
        return False
    knowledge = load_knowledge()
    url = status_url(settings_other(app), knowledge)
    memory.checking = True

    def finished(report: StatusReport) -> None:
        memory.checking = False
        memory.status = report
        for listener in list(memory.listeners):
            listener(report)
        if done is not None:
            done(report)
        severity = "information" if report.state == "up" else "warning"
        app.notify(f"Status page: {report.summary(knowledge.status.page)}", title="Status", severity=severity,
                   markup=False, timeout=8)

    def check() -> None:
        from liferaft.core.diagnose.status_page import check_status

        try:
            report = check_status(url, timeout=knowledge.status.timeout, components=knowledge.status.components)
        except Exception as exc:  # it should never raise; if it does, the screen must not hang on "checking"
            report = StatusReport("unknown", "could not check", reason=f"{type(exc).__name__}: {exc}",
                                  checked_at=time.time(), url=url)
        app.call_from_thread(finished, report)

    node.run_worker(check, thread=True, exclusive=True, group="status-page", exit_on_error=False,
                    description="check the vendor's status page")
    return True


def back_to_workbench(app: App[object]) -> None:
    """Close the diagnosis screens (and any dialog above them) down to the workbench."""
    while len(app.screen_stack) > 1:
        app.pop_screen()


def run_step_action(app: App[object], action: str | None, node: DOMNode | None = None) -> bool:
    """Do what a step's ``action`` names. False for a step with nothing to run (the notification says so)."""
    if action is None:
        app.notify("This one is up to you: Liferaft has nothing to run for it.", timeout=3)
        return False
    # The app's actions: the same code as their keys and their palette entries.
    liferaft = cast("LiferaftApp", app)
    if action == "copy_prompt":
        liferaft.action_copy_prompt()
    elif action == "composer":
        back_to_workbench(app)
        liferaft.action_focus_pane("composer")
        app.notify("The composer holds the prompt for a new chat: ctrl+y copies it and saves a copy in "
                   "RESTART/prompts/.", timeout=6)
    elif action == "check_files":
        from liferaft.tui.widgets.diagnosis_pane import files_summary

        back_to_workbench(app)
        liferaft.action_focus_pane("project")
        app.notify(files_summary(liferaft.plan), title="Files", markup=False, timeout=8)
    elif action == "edit_note":
        liferaft.action_edit_note()
    elif action == "checklist":
        liferaft.action_checklist()
    elif action == "support_report":
        liferaft.action_support_report()
    elif action == "status_check":
        if not start_status_check(node or app.screen):
            app.notify("The status page is being checked already.", timeout=3)
    else:
        app.notify(f"Liferaft has no action called {action!r}.", severity="warning", markup=False, timeout=4)
        return False
    return True
