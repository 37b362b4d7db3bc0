"""The quick-fix checklist (l): seven steps, lowest effort first; stop as soon as one works.

space (or enter, or a click) ticks a step; the tick and its time are saved in ``.liferaft/checklist.json`` at
once. ``o`` does the highlighted step in Liferaft when it can (the "save your prompt" step goes to the
composer), ``x`` clears every tick for a new problem.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Group
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Label, OptionList, Static
from textual.widgets.option_list import Option

from liferaft.core.diagnose.checklist import ChecklistState, clear_ticks, load_checklist, set_tick
from liferaft.core.diagnose.knowledge import ChecklistStep, Knowledge
from liferaft.tui.screens.diagnose.actions import run_step_action


def step_prompt(knowledge: Knowledge, number: int, step: ChecklistStep, state: ChecklistState,
                now: float) -> Text:
    ticked = state.is_ticked(step.id)
    text = Text.assemble(("[x] " if ticked else "[ ] ", "bold green" if ticked else "bold"),
                         (f"{number}. ", "bold"), (step.text, "dim" if ticked else ""))
    when = state.ticked_at(step.id)
    if when is not None:
        local, today = time.localtime(when), time.localtime(now)
        fmt = "%H:%M" if (local.tm_year, local.tm_yday) == (today.tm_year, today.tm_yday) else "%Y-%m-%d %H:%M"
        text.append(f"  done {time.strftime(fmt, local)}", style="green")
    if step.action is not None:
        text.append(f"  o: {knowledge.actions.get(step.action, step.action)}", style="cyan")
    return text


class ChecklistScreen(Screen[None]):
    DEFAULT_CSS = """
    ChecklistScreen #checklist-title { width: 100%; text-style: bold; background: $panel; padding: 0 1; }
    ChecklistScreen #checklist-body { height: 1fr; padding: 0 1; }
    ChecklistScreen #checklist-list { height: auto; max-height: 1fr; border: round $primary; }
    ChecklistScreen #checklist-status { margin-top: 1; }
    ChecklistScreen #checklist-notes { margin-top: 1; color: $text-muted; }
    """

    BINDINGS = [
        Binding("escape", "close", "Close", id="checklist.close", tooltip="Back"),
        Binding("space", "toggle", "Tick", id="checklist.toggle", tooltip="Tick or untick the highlighted step"),
        Binding("o", "do_step", "Do it", id="checklist.do", tooltip="Do the highlighted step in Liferaft"),
        Binding("x", "clear", "Clear ticks", id="checklist.clear", tooltip="Untick every step, for a new problem"),
    ]
    HELP_TITLE = "the quick-fix checklist"
    HELP_KEYS = (("↑ ↓", "move between the steps"),)

    def __init__(self, root: Path, knowledge: Knowledge, now: Callable[[], float]) -> None:
        super().__init__()
        self._root = root
        self._knowledge = knowledge
        self._now = now
        self.state: ChecklistState = load_checklist(root)
        """The ticks as last saved (or loaded)."""

    @property
    def steps(self) -> list[ChecklistStep]:
        return self._knowledge.checklist

    def compose(self) -> ComposeResult:
        count = len(self.steps)
        yield Label(f"Quick fixes · {count} steps, lowest effort first · stop as soon as one works",
                    id="checklist-title")
        with Vertical(id="checklist-body"):
            now = self._now()
            yield OptionList(*[Option(step_prompt(self._knowledge, number, step, self.state, now), id=step.id)
                               for number, step in enumerate(self.steps, 1)], id="checklist-list")
            yield Static("", id="checklist-status")
            yield Static(Group(*self._symptom_note(),
                               *[Text(f"· {note}") for note in self._knowledge.checklist_notes.values()]),
                         id="checklist-notes")
        yield Footer()

    def _symptom_note(self) -> list[Text]:
        """Where the symptom last diagnosed sits in the list ("Turn off the VPN before step 2"), if it says."""
        from liferaft.tui.screens.diagnose.actions import memory_of

        symptom_id = memory_of(self.app).symptom_id
        note = self._knowledge.checklist_for.get(symptom_id) if symptom_id else None
        if note is None:
            return []
        title = self._knowledge.symptom(symptom_id).title if self._knowledge.is_symptom(symptom_id) else symptom_id
        return [Text.assemble((f"For “{title}”: ", "bold"), note)]

    def on_mount(self) -> None:
        for warning in self.state.warnings:
            self.notify(warning, title="Checklist", severity="warning", markup=False, timeout=10)
        options = self.query_one(OptionList)
        step_ids = [step.id for step in self.steps]
        first = self.state.next_step(step_ids)
        options.highlighted = step_ids.index(first) if first is not None else 0
        options.focus()
        self._show_status()

    def _show_status(self) -> None:
        step_ids = [step.id for step in self.steps]
        done = self.state.done(step_ids)
        following = self.state.next_step(step_ids)
        if following is None:
            line = Text.assemble((f"All {len(step_ids)} done. ", "bold green"),
                                 "Still broken: write to support (S) with the exact error.")
        else:
            step = next(step for step in self.steps if step.id == following)
            line = Text.assemble((f"{done} of {len(step_ids)} done. ", "bold"), ("Next: ", "bold"), step.text)
        self.query_one("#checklist-status", Static).update(line)

    def _refresh_rows(self) -> None:
        options = self.query_one(OptionList)
        now = self._now()
        for index, step in enumerate(self.steps):
            options.replace_option_prompt_at_index(index, step_prompt(self._knowledge, index + 1, step, self.state,
                                                                      now))
        self._show_status()

    def _highlighted_step(self) -> ChecklistStep | None:
        index = self.query_one(OptionList).highlighted
        return self.steps[index] if index is not None and 0 <= index < len(self.steps) else None

    def toggle(self, step: ChecklistStep) -> None:
        ticked = not self.state.is_ticked(step.id)
        try:
            self.state = set_tick(self._root, step.id, ticked, self._now())
        except OSError as exc:
            self.notify(f"Not saved: {exc.strerror or exc}", severity="error", markup=False, timeout=8)
            return
        self._refresh_rows()

    def action_toggle(self) -> None:
        step = self._highlighted_step()
        if step is not None:
            self.toggle(step)

    @on(OptionList.OptionSelected, "#checklist-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        step = next((step for step in self.steps if step.id == event.option.id), None)
        if step is not None:
            self.toggle(step)

    def action_do_step(self) -> None:
        step = self._highlighted_step()
        if step is not None:
            run_step_action(self.app, step.action, self)

    def action_clear(self) -> None:
        try:
            self.state = clear_ticks(self._root, [step.id for step in self.steps], self._now())
        except OSError as exc:
            self.notify(f"Not saved: {exc.strerror or exc}", severity="error", markup=False, timeout=8)
            return
        self._refresh_rows()
        self.query_one(OptionList).highlighted = 0
        self.notify("Every step is unticked.", timeout=2)

    def action_close(self) -> None:
        self.dismiss(None)
