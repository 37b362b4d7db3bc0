"""The replay screen (R on a script or notebook, or the palette's "Replay the code…"): run the recovered code
again here, cell by cell, in a sandboxed kernel, as ``liferaft replay`` does, through the same core calls.

1. The plan, read in a thread: the file, the cells, whether the kernel is sandboxed (and, when it cannot be,
   why, with a box to tick before it runs without), what will be installed, the imports nobody knows. Nothing
   runs before enter (or the Run button).
2. The run, in a thread (``run_replay`` blocks): cell N of M, its label and first line, the time, a bar, and a
   log of each cell's output beside what the chat showed. esc or ctrl+c interrupts the running cell; what ran
   is kept. A cell that fails stops the worker until the user chooses: edit the cell and run it again, skip
   it, or stop (closing the screen answers "stop").
3. The results: each output the project expects, regenerated or not, compared with a saved copy; the replay
   folder; ``a`` moves the regenerated missing outputs into OUTPUT (never overwriting).

The worker only posts messages (``liferaft.tui.messages``); everything on show changes on the UI thread.
"""

from __future__ import annotations

import queue
import threading
import time
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, DataTable, Footer, Label, ProgressBar, RichLog, Static, TextArea
from textual.worker import get_current_worker

from liferaft.core.scan import shown_name
from liferaft.tui.messages import (
    ReplayCellEnded,
    ReplayCellFailed,
    ReplayCellOutput,
    ReplayCellStarted,
    ReplayFailed,
    ReplayFinished,
    ReplayPlanned,
    ReplayStatus,
)
from liferaft.tui.screens.replay_results import (  # results_rows, accept_outputs: tests replace them here
    ReplayOutcome,
    ResultLine,
    _error_message,
    _one_line,
    _relative,
    accept_outputs,
    failure_view,
    output_view,
    plan_view,
    results_rows,
    results_summary,
)
from liferaft.tui.screens.screen_help import HELP_BINDING
from liferaft.tui.widgets.tail_log import TailLog

TYPE_CHECKING = False
if TYPE_CHECKING:
    from liferaft.core.replay.cells import Cell
    from liferaft.core.replay.prepare import Needs
    from liferaft.core.replay.session import CellRecord, Decision, Hooks, ReplayPlan, ReplayResult

#: The elapsed time is drawn this often (seconds).
TICK = 0.5


class NoEnterCheckbox(Checkbox, inherit_bindings=False):
    """A box ticked by space or a click only: enter on it runs the replay (the screen's enter), so that two
    presses of enter can never both tick "run without the sandbox" and run."""

    BINDINGS = [Binding("space", "toggle_button", "Tick", show=False)]


class ReplayScreen(ModalScreen[ReplayOutcome | None]):
    """Returns a :class:`ReplayOutcome` once something ran, or None when closed before running."""

    DEFAULT_CSS = """
    ReplayScreen { align: center middle; }
    """

    BINDINGS = [
        HELP_BINDING,
        Binding("enter", "run", "Run", id="replay.run", tooltip="Run the replay as planned (nothing runs before)"),
        # One key, three meanings: the first whose check_action allows it runs (and only it shows in the footer).
        Binding("escape", "back", "Back", id="replay.back", tooltip="While editing a cell: back to the choices"),
        Binding("escape,ctrl+c", "interrupt", "Interrupt", id="replay.interrupt",
                tooltip="While the replay runs: interrupt the running cell and stop (what ran is kept)"),
        Binding("escape", "close", "Close", id="replay.close",
                tooltip="Close (nothing runs before enter); while stopping, close without waiting"),
        Binding("e", "edit", "Edit", id="replay.edit", tooltip="After an error: edit the cell, then run it again"),
        Binding("s", "skip", "Skip", id="replay.skip", tooltip="After an error: skip the cell and go on"),
        Binding("t", "stop", "Stop", id="replay.stop", tooltip="After an error: stop here (what ran is kept)"),
        Binding("ctrl+r", "retry", "Run again", id="replay.retry", tooltip="While editing: run the edited cell"),
        Binding("a", "accept", "Accept", id="replay.accept",
                tooltip="At the end: move the regenerated missing outputs into OUTPUT (never overwriting)"),
    ]
    HELP_TITLE = "replaying the code"
    HELP_KEYS = (("space", "tick \"run without the sandbox\" when the sandbox is not available"),
                 ("tab", "between the buttons"))

    def __init__(self, root: Path, script: Path | None = None, *, cell_timeout: float | None = None) -> None:
        """``script``: the script or notebook to replay; None for the default (the newest recovered script,
        else the one script in CODE)."""
        super().__init__()
        self._root = root
        self._script = script
        self._cell_timeout = cell_timeout
        self._state = "planning"
        """planning, plan, running, error, editing, stopping, done, failed."""
        self._plan: ReplayPlan | None = None
        self._needs: Needs | None = None
        self._hooks: Hooks | None = None
        self._answers: queue.SimpleQueue[Decision] = queue.SimpleQueue()
        self._gone = threading.Event()
        self._failed: tuple[CellRecord, Cell] | None = None
        self._interrupted = False
        self._result: ReplayResult | None = None
        self._rows: list[ResultLine] = []
        self._accepted = False
        self._started = 0.0
        self._cell_started = 0.0
        self._cell_line = ""
        self._last_output = ""

    # --- layout -----------------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Vertical(id="replay-dialog"):
            yield Label("Replay: run the code again here, cell by cell", id="replay-title", markup=False)
            with VerticalScroll(id="replay-plan"):
                yield Static(Text("Reading the script and what it imports…", style="italic"), id="replay-plan-body")
            yield NoEnterCheckbox("Run WITHOUT the sandbox: the code gets my network and my files",
                                  id="replay-unsandboxed", compact=True)
            with Vertical(id="replay-progress"):
                yield Label("", id="replay-progress-label", markup=False)
                yield ProgressBar(id="replay-bar", show_eta=False)
                yield Label("", id="replay-last-output", markup=False)
            with Vertical(id="replay-failure"):
                with VerticalScroll(id="replay-failure-scroll"):
                    yield Static("", id="replay-failure-body")
                yield TextArea("", id="replay-editor", language=None, soft_wrap=False, show_line_numbers=True)
            with Vertical(id="replay-results"):
                yield Static("", id="replay-summary")
                yield DataTable(id="replay-table", cursor_type="row", zebra_stripes=False)
                yield Label("", id="replay-accept-hint", markup=False)
            yield TailLog(id="replay-log", wrap=True, markup=False, auto_scroll=True)
            yield Static("", id="replay-message")
            with Horizontal(id="replay-buttons"):
                yield Button("Run", id="replay-run-button", variant="primary", compact=True)
                yield Button("Edit", id="replay-edit-button", compact=True)
                yield Button("Run again", id="replay-retry-button", variant="primary", compact=True)
                yield Button("Skip", id="replay-skip-button", compact=True)
                yield Button("Stop", id="replay-stop-button", variant="error", compact=True)
                yield Button("Accept", id="replay-accept-button", variant="success", compact=True)
                yield Button("Close", id="replay-close-button", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#replay-table", DataTable)
        table.add_columns("Output", "Result")
        self._show("planning")
        self._read_plan()
        self.set_interval(TICK, self._tick)

    def _show(self, state: str) -> None:
        """Show what belongs to ``state`` and hide the rest."""
        self._state = state
        planning = state in ("planning", "plan")
        running = state in ("running", "error", "editing", "stopping")
        self.query_one("#replay-plan").display = planning or state == "failed"
        self.query_one("#replay-unsandboxed").display = (state == "plan" and self._plan is not None
                                                         and bool(self._plan.sandbox_problem))
        self.query_one("#replay-progress").display = running
        self.query_one("#replay-failure").display = state in ("error", "editing")
        self.query_one("#replay-editor").display = state == "editing"
        self.query_one("#replay-results").display = state == "done"
        log = self.query_one("#replay-log", RichLog)
        log.display = (running and state != "editing") or state == "done"
        if log.display:
            self.call_after_refresh(log.scroll_end, animate=False)
        self.set_class(state in ("error", "editing"), "-failure")
        self.set_class(state == "done", "-done")
        buttons = {
            "replay-run-button": state == "plan",
            "replay-edit-button": state == "error",
            "replay-retry-button": state == "editing",
            "replay-skip-button": state in ("error", "editing"),
            "replay-stop-button": state in ("error", "editing"),
            "replay-accept-button": state == "done" and any(row.acceptable for row in self._rows)
            and not self._accepted,
            "replay-close-button": state in ("planning", "plan", "done", "failed"),
        }
        for name, shown in buttons.items():
            self.query_one(f"#{name}", Button).display = shown
        close = self.query_one("#replay-close-button", Button)
        close.label = "Close"
        self.refresh_bindings()

    def _say(self, message: str | Text, style: str = "") -> None:
        box = self.query_one("#replay-message", Static)
        box.update(Text(message, style=style) if isinstance(message, str) else message)
        box.display = bool(str(message))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        state = self._state
        if action == "run":
            return state == "plan"
        if action in ("edit",):
            return state == "error"
        if action in ("skip", "stop"):
            return state in ("error", "editing")
        if action == "retry":
            return state == "editing"
        if action == "accept":
            return state == "done" and any(row.acceptable for row in self._rows) and not self._accepted
        if action == "interrupt":
            return state in ("running", "error", "editing")
        if action == "back":
            return state == "editing"
        if action == "close":
            return state in ("planning", "plan", "done", "failed", "stopping")
        return True

    # --- the plan ---------------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="replay-plan", description="plan a replay")
    def _read_plan(self) -> None:
        from liferaft.core.replay import prepare, session

        try:
            plan = session.plan_replay(self._root, script=self._script)
            needs = prepare.requirements_for(plan)
        except Exception as exc:  # ReplayError, ReplayEnvironmentError (a bad setting): one line; a bug: its type
            self.post_message(ReplayFailed(_error_message(exc), planning=True))
            return
        self.post_message(ReplayPlanned(plan, needs))

    def on_replay_planned(self, message: ReplayPlanned) -> None:
        self._plan, self._needs = message.plan, message.needs
        plan = message.plan
        self.query_one("#replay-title", Label).update(
            f"Replay {shown_name(_relative(self._root, plan.script))}: run it again here, cell by cell")
        self.query_one("#replay-plan-body", Static).update(plan_view(plan, message.needs, self._root))
        self._show("plan")
        if plan.sandbox_problem:
            self._say("No sandbox here: tick the box (space) to run without it, or esc to close.",
                      "dark_orange")
            self.query_one("#replay-unsandboxed", Checkbox).focus()
        else:
            self._say("Nothing has run yet. enter runs it; esc closes.", "italic")
            self.query_one("#replay-run-button", Button).focus()

    def on_replay_failed(self, message: ReplayFailed) -> None:
        if message.planning:
            self.query_one("#replay-plan-body", Static).update(
                Text.assemble(("Nothing to replay: ", "bold red"), shown_name(message.message)))
            self._show("failed")
            self._say("esc closes.", "italic")
        else:
            self._show("failed")
            self.query_one("#replay-plan-body", Static).update(
                Text.assemble(("The replay could not run: ", "bold red"), shown_name(message.message)))
            self._say("Nothing ran. esc closes.", "italic")
        self.query_one("#replay-close-button", Button).focus()

    # --- running ----------------------------------------------------------------------------------------

    def action_run(self) -> None:
        if self._state != "plan" or self._plan is None or self._needs is None:
            return
        sandboxed = not self._plan.sandbox_problem
        if not sandboxed and not self.query_one("#replay-unsandboxed", Checkbox).value:
            self._say("No sandbox here: tick the box (space) to run without it, or esc to close.", "bold red")
            self.query_one("#replay-unsandboxed", Checkbox).focus()
            return
        from liferaft.core.replay.session import Hooks

        self._hooks = Hooks(
            on_cell_start=lambda cell, at, of: self.post_message(ReplayCellStarted(cell, at, of)),
            on_output=self._on_output,
            on_cell_end=lambda record: self.post_message(ReplayCellEnded(record)),
            on_error=self._on_error,
            on_status=lambda text: self.post_message(ReplayStatus(text)),
        )
        self._started = time.monotonic()
        self._cell_started = self._started
        self._cell_line = "Getting the environment ready…"
        self._show("running")
        bar = self.query_one("#replay-bar", ProgressBar)
        bar.update(total=max(len(self._plan.chosen), 1), progress=0)
        self._say("esc or ctrl+c interrupts the running cell (what ran is kept).", "italic")
        self.query_one("#replay-log", RichLog).focus()
        self._tick()
        self._run(self._plan, self._needs, self._hooks, sandboxed)

    @work(thread=True, exclusive=True, exit_on_error=False, group="replay-run", description="replay the code")
    def _run(self, plan: ReplayPlan, needs: Needs, hooks: Hooks, sandboxed: bool) -> None:
        from liferaft.core.replay import prepare, session

        try:
            python = prepare.environment_for(needs, progress=lambda text: self.post_message(ReplayStatus(text)),
                                             cancel=hooks.stop)
            if hooks.stop.is_set():
                self.post_message(ReplayFailed("interrupted before the first cell: nothing ran"))
                return
            timeout = self._cell_timeout or needs.cell_timeout or session.DEFAULT_CELL_TIMEOUT
            result = session.run_replay(plan, python, sandboxed=sandboxed, cell_timeout=timeout, hooks=hooks)
        except Exception as exc:  # ReplayError, ReplayEnvironmentError: one line; anything else: its type too
            self.post_message(ReplayFailed(_error_message(exc)))
            return
        rows: list[ResultLine] = []
        problem = ""
        try:
            rows = results_rows(plan.project, result.folder)
        except Exception as exc:  # the results are an extra: the replay's own record is written anyway
            problem = f"The results table could not be made: {_error_message(exc)}"
        self.post_message(ReplayFinished(result, rows, problem))

    def _on_output(self, cell: Cell, output: dict[str, Any]) -> None:
        text = output.get("text") if output.get("output_type") == "stream" else \
            output.get("data", {}).get("text/plain")
        if isinstance(text, str) and text.strip():
            self.post_message(ReplayCellOutput(text))

    def _on_error(self, record: CellRecord, cell: Cell) -> Decision:
        """On the worker's thread: show the failure, then wait for the user's choice (stop if the screen
        closes or the run is interrupted meanwhile)."""
        worker = get_current_worker()
        while not self._answers.empty():  # an answer left from an earlier failure
            self._answers.get_nowait()
        self.post_message(ReplayCellFailed(record, cell))
        while True:
            try:
                return self._answers.get(timeout=0.2)
            except queue.Empty:
                if self._gone.is_set() or worker.is_cancelled or \
                        (self._hooks is not None and self._hooks.stop.is_set()):
                    return ("stop", None)

    def on_replay_status(self, message: ReplayStatus) -> None:
        if self._state == "running":
            self._cell_line = message.text[:1].upper() + message.text[1:]
            self._tick()

    def on_replay_cell_started(self, message: ReplayCellStarted) -> None:
        cell = message.cell
        self._cell_started = time.monotonic()
        self._last_output = ""
        number = f"cell {message.at} of {message.of}"
        self._cell_line = f"{number} · {shown_name(cell.label)} · {_one_line(cell.first_line, 60)}"
        self.query_one("#replay-bar", ProgressBar).update(total=message.of, progress=message.at - 1)
        self.query_one("#replay-last-output", Label).update("")
        if self._state in ("error", "editing"):
            self._show("running")
            self.query_one("#replay-log", RichLog).focus()
        self._tick()

    def on_replay_cell_output(self, message: ReplayCellOutput) -> None:
        lines = [line for line in message.text.splitlines() if line.strip()]
        if lines:
            self.query_one("#replay-last-output", Label).update(f"› {_one_line(lines[-1], 100)}")

    def on_replay_cell_ended(self, message: ReplayCellEnded) -> None:
        log = self.query_one("#replay-log", RichLog)
        log.write(output_view(message.record, log.scrollable_content_region.width or 76), expand=True)
        bar = self.query_one("#replay-bar", ProgressBar)
        bar.advance(1)

    def on_replay_cell_failed(self, message: ReplayCellFailed) -> None:
        if self._gone.is_set():
            self._answers.put(("stop", None))
            return
        self._failed = (message.record, message.cell)
        self.query_one("#replay-failure-body", Static).update(failure_view(message.record))
        self.query_one("#replay-editor", TextArea).text = message.record.code
        self._show("error")
        self._say("e edits the cell to run it again · s skips it · t stops (what ran is kept)", "bold")
        self.query_one("#replay-edit-button", Button).focus()

    def on_replay_finished(self, message: ReplayFinished) -> None:
        self._result = message.result
        self._rows = message.rows
        self._show_results(message.rows_problem)

    def _show_results(self, problem: str = "") -> None:
        result = self._result
        if result is None:
            return
        self.query_one("#replay-summary", Static).update(results_summary(result, self._root, self._interrupted))
        table = self.query_one("#replay-table", DataTable)
        table.clear()
        for row in self._rows:
            style = "green" if row.verdict.startswith(("regenerated", "matches")) else \
                "dark_orange" if row.verdict.startswith("differs") else "dim"
            table.add_row(Text(shown_name(row.name)), Text(shown_name(row.verdict), style=style))
        table.display = bool(self._rows)
        hint = self.query_one("#replay-accept-hint", Label)
        if problem:
            hint.update(problem)
        elif not self._rows:
            hint.update("The project names no outputs to compare (the restart note's Generated outputs, or the "
                        "export's record).")
        elif self._accepted:
            hint.update("Accepted: the regenerated missing outputs are in OUTPUT.")
        elif any(row.acceptable for row in self._rows):
            hint.update("a moves the regenerated missing outputs into OUTPUT under their names (never overwriting).")
        else:
            hint.update("Nothing to accept: OUTPUT has every output this replay regenerated.")
        self._show("done")
        self._say("esc closes.", "italic")
        focus = "#replay-accept-button" if self.query_one("#replay-accept-button").display else "#replay-table"
        self.query_one(focus).focus()

    def _tick(self) -> None:
        if self._state not in ("running", "error", "editing", "stopping"):
            return
        now = time.monotonic()
        total = now - self._started
        text = self._cell_line
        if self._state == "running":
            text += f"  {now - self._cell_started:.0f} s"
        elif self._state == "stopping":
            text = "Stopping the running cell… (what ran is kept)"
        self.query_one("#replay-progress-label", Label).update(f"{text}  (total {total:.0f} s)")

    # --- the choice after an error ----------------------------------------------------------------------

    def _answer(self, decision: Decision) -> None:
        self._failed = None
        self._show("running")
        self._say("esc or ctrl+c interrupts the running cell (what ran is kept).", "italic")
        self.query_one("#replay-log", RichLog).focus()
        self._answers.put(decision)

    def action_edit(self) -> None:
        if self._state != "error":
            return
        self._show("editing")
        self._say("Edit the cell; ctrl+r runs it again · esc goes back to the choices", "bold")
        self.query_one("#replay-editor", TextArea).focus()

    def action_retry(self) -> None:
        if self._state != "editing" or self._failed is None:
            return
        code = self.query_one("#replay-editor", TextArea).text
        self._answer(("retry", code))

    def action_skip(self) -> None:
        if self._state in ("error", "editing"):
            self._answer(("skip", None))

    def action_stop(self) -> None:
        if self._state in ("error", "editing"):
            self._answer(("stop", None))

    # --- interrupting, accepting, closing ---------------------------------------------------------------

    def action_interrupt(self) -> None:
        if self._hooks is None or self._state not in ("running", "error", "editing"):
            return
        self._interrupted = True
        self._hooks.stop.set()
        if self._state in ("error", "editing"):
            self._answers.put(("stop", None))
        self._show("stopping")
        self._say("Stopping the running cell… (what ran is kept; esc again closes without waiting)", "dark_orange")
        self._tick()

    def action_back(self) -> None:
        if self._state != "editing":
            return
        self._show("error")
        self._say("e edits the cell to run it again · s skips it · t stops (what ran is kept)", "bold")
        self.query_one("#replay-edit-button", Button).focus()

    def action_close(self) -> None:
        state = self._state
        if state in ("running", "error"):
            self.action_interrupt()
            return
        if state == "editing":
            self.action_back()
            return
        self._gone.set()
        if self._hooks is not None:
            self._hooks.stop.set()
        self._answers.put(("stop", None))
        if state == "stopping":
            self.app.notify("The replay stops in the background; what ran is kept in OUTPUT/replayed/.", timeout=6)
        ran = self._result.folder if self._result is not None else None
        self.dismiss(ReplayOutcome(ran, self._accepted) if ran is not None or self._hooks is not None else None)

    def on_unmount(self) -> None:
        """Gone (closed, or the app quit): a worker waiting for a choice is answered "stop", a cell interrupted."""
        self._gone.set()
        if self._hooks is not None:
            self._hooks.stop.set()
        self._answers.put(("stop", None))

    def action_accept(self) -> None:
        if self._result is None or self._state != "done" or self._accepted:
            return
        if not any(row.acceptable for row in self._rows):
            self.app.notify("Nothing to accept: the replay regenerated no output that OUTPUT lacks.", timeout=4)
            return
        self._accept(self._result.folder)

    @work(thread=True, exclusive=True, exit_on_error=False, group="replay-accept", description="accept outputs")
    def _accept(self, folder: Path) -> None:
        try:
            moved, kept = accept_outputs(self._root, folder)
            rows = results_rows(self._root, folder)
        except Exception as exc:
            self.app.call_from_thread(self.app.notify, f"Nothing was moved: {_error_message(exc)}",
                                      severity="error", markup=False, timeout=8)
            return
        self.app.call_from_thread(self._accepted_outputs, moved, kept, rows)

    def _accepted_outputs(self, moved: list[Path], kept: list[Path], rows: list[ResultLine]) -> None:
        self._accepted = bool(moved)
        # A moved output is no longer in the replay folder: its row says where it went, not "not regenerated".
        moved_names = {_relative(self._root, path).split("/", 1)[-1] for path in moved}
        self._rows = [ResultLine(row.name, "accepted: moved into OUTPUT", False) if row.name in moved_names
                      else row for row in rows]
        names = [shown_name(_relative(self._root, path)) for path in moved]
        message = f"Moved into OUTPUT: {', '.join(names)}." if names else "Nothing was moved."
        if kept:
            message += (" Kept in the replay folder (OUTPUT already has one; compare them yourself): "
                        + ", ".join(shown_name(path.name) for path in kept) + ".")
        self.app.notify(message, title="Accepted", markup=False, timeout=10)
        self._show_results()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        action = {"replay-run-button": self.action_run, "replay-edit-button": self.action_edit,
                  "replay-retry-button": self.action_retry, "replay-skip-button": self.action_skip,
                  "replay-stop-button": self.action_stop, "replay-accept-button": self.action_accept,
                  "replay-close-button": self.action_close}.get(event.button.id or "")
        if action is not None:
            event.stop()
            action()

    @on(Checkbox.Changed, "#replay-unsandboxed")
    def _ticked(self, event: Checkbox.Changed) -> None:
        if event.value:
            self._say("It will run WITHOUT the sandbox: enter runs it; esc closes.", "bold dark_orange")
        else:
            self._say("No sandbox here: tick the box (space) to run without it, or esc to close.",
                      "dark_orange")
