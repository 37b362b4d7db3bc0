"""The diagnosis screen (d): paste an error or pick a symptom, and see which layer failed, why, and what to do.

Left: a box for the exact error text, and the symptoms (the ones the text matches first, best first, with a
"guided" entry that asks the decision flow's yes/no questions). Right: the answer (layer, likely cause, why it
matched, the next steps lowest effort first, each with the key that does it in Liferaft) and the evidence
from the project: the session clock, the files a new chat needs, and the vendor's status page (on ``s``).
"""

from __future__ import annotations

from collections.abc import Callable

from rich.console import Group, RenderableType
from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Label, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from liferaft.core.diagnose.classify import Match, classify
from liferaft.core.diagnose.clock import SessionClock, SessionWindow
from liferaft.core.diagnose.knowledge import Knowledge, Question, Symptom
from liferaft.core.diagnose.status_page import StatusReport
from liferaft.core.uploads import UploadPlan
from liferaft.tui.screens.diagnose.actions import (
    LAYER_STYLES,
    memory_of,
    run_step_action,
    start_status_check,
    status_view,
)
from liferaft.tui.widgets.diagnosis_pane import clock_view, files_view

#: The option that starts the yes/no questions.
FLOW = "-flow-"
#: Steps that get a number key.
MAX_STEPS = 9


def layer_tag(knowledge: Knowledge, layer: str) -> Text:
    return Text(f" {layer:<7}", style=f"bold reverse {LAYER_STYLES.get(layer, 'white')}") + Text(" ")


def answer_view(knowledge: Knowledge, symptom: Symptom, match: Match | None) -> RenderableType:
    """One symptom: its layer, title and cause, the next steps with their keys (first: on a small screen they
    must show without scrolling), then why it matched and what the layer means."""
    layer = knowledge.layers[symptom.layer]
    lines: list[RenderableType] = [
        Text.assemble(layer_tag(knowledge, symptom.layer), (symptom.title, "bold")),
        Text.assemble(("Likely cause  ", "bold"), symptom.cause),
        *([Text.assemble(("The traceback says  ", "bold"), (match.detail, "bold red"))]
          if match is not None and match.detail else []),
        Text(""),
        Text.assemble(("Next steps, lowest effort first", "bold"),
                      ("  · keys 1–9 (from the paste box, tab out first)", "dim")),
    ]
    for number, step in enumerate(symptom.steps, 1):
        line = Text.assemble((f"{number}. ", "bold"), step.text)
        if step.action is not None and number <= MAX_STEPS:
            line.append(f"  [{number}] {knowledge.actions.get(step.action, step.action)}", style="bold cyan")
        lines.append(line)
    lines.append(Text(""))
    if match is not None:
        words = ", ".join(f"“{word}”" for word in match.matched)
        lines.append(Text.assemble(("Why  ", "bold"), f"your text says {words}",
                                   (f"  ({match.confidence}, score {match.score:.2f})", "dim")))
        for note in match.notes:
            lines.append(Text(f"     {note}", style="dim"))
    lines.append(Text(f"{symptom.layer}: {layer.about}", style="dim italic"))
    return Group(*lines)


def no_match_view(knowledge: Knowledge) -> RenderableType:
    """Honest about text Liferaft does not recognise: the general way through instead of a guess."""
    lines: list[RenderableType] = [
        Text("No known match", style="bold dark_orange"),
        Text("Nothing Liferaft knows fits this text, so it will not guess. Go through the layers in order, or "
             "answer the questions (g); the checklist (l) has the quick fixes, lowest effort first."),
        Text(""),
    ]
    for layer_id, layer in knowledge.layers.items():
        lines.append(Text.assemble(layer_tag(knowledge, layer_id), (layer.question, "bold")))
        lines.append(Text(f"   {layer.about}", style="dim"))
    return Group(*lines)


def question_view(knowledge: Knowledge, question: Question, trail: list[tuple[Question, bool]]) -> RenderableType:
    lines: list[RenderableType] = [Text("Guided diagnosis", style="bold")]
    for asked, answer in trail:
        lines.append(Text.assemble(layer_tag(knowledge, asked.layer), f"{asked.text} ",
                                   ("yes" if answer else "no", "bold")))
    lines += [Text(""), Text.assemble(layer_tag(knowledge, question.layer), (question.text, "bold")),
              Text(""), Text("y yes · n no · backspace the question before", style="dim")]
    return Group(*lines)


class DiagnoseScreen(Screen[None]):
    """Paste an error, or pick a symptom, or answer the questions; see the answer and the evidence."""

    DEFAULT_CSS = """
    DiagnoseScreen #diagnose-title { width: 100%; text-style: bold; background: $panel; padding: 0 1; }
    DiagnoseScreen #diagnose-body { height: 1fr; }
    DiagnoseScreen #diagnose-left { width: 2fr; min-width: 30; }
    DiagnoseScreen #diagnose-paste { height: 6; border: round $primary 40%; }
    DiagnoseScreen #diagnose-paste:focus { border: round $primary; }
    DiagnoseScreen #diagnose-list { height: 1fr; border: round $primary 40%; }
    DiagnoseScreen #diagnose-list:focus { border: round $primary; }
    DiagnoseScreen #diagnose-right { width: 3fr; }
    DiagnoseScreen #diagnose-side { height: 3fr; border: round $primary 40%; padding: 0 1; }
    DiagnoseScreen #diagnose-proof { height: 2fr; border: round $primary 40%; padding: 0 1; }
    DiagnoseScreen #diagnose-side:focus, DiagnoseScreen #diagnose-proof:focus { border: round $primary; }
    """

    BINDINGS = [
        Binding("escape", "close", "Close", id="diagnose.close", tooltip="Back to the workbench"),
        Binding("ctrl+l", "focus_paste", "Paste box", id="diagnose.paste",
                tooltip="Go to the box for the error text (ctrl+v pastes)"),
        Binding("g", "flow", "Guided", id="diagnose.flow", tooltip="Answer yes/no questions to find the layer"),
        # Always enabled: a key a screen refuses goes on to the workbench's bindings (n would open the note).
        Binding("y", "answer(True)", "Yes", id="diagnose.yes", show=False, tooltip="Answer the question: yes"),
        Binding("n", "answer(False)", "No", id="diagnose.no", show=False, tooltip="Answer the question: no"),
        Binding("backspace", "back", "Back", id="diagnose.back", show=False, tooltip="The question before"),
        Binding("s", "status", "Status page", id="diagnose.status", tooltip="Check the vendor's status page"),
        Binding("l", "app.checklist", "Checklist", id="diagnose.checklist", tooltip="The quick-fix checklist"),
        Binding("S", "app.support_report", "Support", id="diagnose.support", tooltip="Write a support report"),
        *[Binding(str(n), f"step({n})", f"Step {n}", id=f"diagnose.step{n}", show=False,
                  tooltip=f"Do the answer's step {n}") for n in range(1, MAX_STEPS + 1)],
    ]
    HELP_TITLE = "the diagnosis"
    HELP_KEYS = (("tab  shift+tab", "move between the paste box, the list and the answer"),
                 ("↑ ↓", "in the list: show that symptom's answer"),
                 ("enter", "in the list, on Guided: start the questions"),
                 ("in the box", "a digit is text there: tab to the list first for 1…9 (after a paste Liferaft "
                  "goes there by itself)"))

    def __init__(self, knowledge: Knowledge, clock: Callable[[], SessionClock], window: SessionWindow,
                 plan: Callable[[], UploadPlan | None], *, text: str = "") -> None:
        super().__init__()
        self._knowledge = knowledge
        self._clock_of = clock
        self._window = window
        self._plan_of = plan
        self._first_text = text
        self._matches: list[Match] = []
        self._shown: Symptom | None = None
        self._flow_at: Question | None = None
        self._trail: list[tuple[Question, bool]] = []
        self._classify_timer: Timer | None = None
        self._evidence_plan: UploadPlan | None = None
        self._pasted = False
        self.status_on_mount = False
        """Check the status page as soon as the screen is up (the palette's "Check the status page")."""

    # --- layout -----------------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Label("Diagnose · paste the exact error, or pick what you see", id="diagnose-title")
        with Horizontal(id="diagnose-body"):
            with Vertical(id="diagnose-left"):
                paste = TextArea(self._first_text, id="diagnose-paste", soft_wrap=True, show_line_numbers=False)
                paste.border_title = "The error, as shown (ctrl+l)"
                paste.border_subtitle = "tab, then 1–9: the steps"
                yield paste
                options = OptionList(id="diagnose-list")
                options.border_title = "What you see"
                yield options
            with Vertical(id="diagnose-right"):
                with VerticalScroll(id="diagnose-side") as side:
                    side.border_title = "What it is, what to do"
                    yield Static("", id="diagnose-answer")
                with VerticalScroll(id="diagnose-proof") as proof:
                    proof.border_title = "Evidence from this project"
                    yield Static("", id="diagnose-evidence")
        yield Footer()

    def on_mount(self) -> None:
        memory_of(self.app).listeners.append(self._status_arrived)
        self._classify(self._first_text)
        if self._first_text.strip():
            self.query_one(OptionList).focus()
        else:
            self.query_one(TextArea).focus()
        if self.status_on_mount:
            self.call_after_refresh(self.action_status)
        self.set_interval(60, self._show_evidence)  # the clock moves
        self.set_interval(0.5, self._look_at_plan)  # the upload check may finish after the screen opens

    def on_unmount(self) -> None:
        listeners = memory_of(self.app).listeners
        if self._status_arrived in listeners:
            listeners.remove(self._status_arrived)

    # --- the list and the answer ------------------------------------------------------------------------

    @property
    def text(self) -> str:
        return self.query_one(TextArea).text

    @property
    def symptom(self) -> Symptom | None:
        """The symptom on show; None for the questions or for no match."""
        return self._shown

    def _classify(self, text: str) -> None:
        memory = memory_of(self.app)
        memory.error_text = text
        # The workbench is the project's session clock: the text comes from its ChatGPT chat (issue 18).
        self._matches = classify(text, self._knowledge, evidence=True) if text.strip() else []
        options: list[Option | None] = []
        matched = {match.symptom.id for match in self._matches}
        for match in self._matches:
            options.append(Option(Text.assemble(layer_tag(self._knowledge, match.symptom.layer),
                                                (match.symptom.title, "bold"), (f"  {match.score:.2f}", "dim")),
                                  id=match.symptom.id))
        if text.strip() and not self._matches:
            options.append(Option(Text("No known match: try the questions", style="bold dark_orange"), id=FLOW))
        else:
            options.append(Option(Text("Guided: answer yes/no questions", style="italic"), id=FLOW))
        if self._matches:
            options.append(None)  # a separator: the rest are not matches
        for symptom in self._knowledge.symptoms:
            if symptom.id not in matched:
                options.append(Option(Text.assemble(layer_tag(self._knowledge, symptom.layer), symptom.title),
                                      id=symptom.id))
        option_list = self.query_one(OptionList)
        option_list.set_options(options)
        option_list.highlighted = 0
        self._flow_at = None
        if self._matches:
            self._show(self._matches[0].symptom)
        elif text.strip():
            self._show_no_match()
        else:
            self._show_flow_start()
        if self._pasted and text.strip():
            self._pasted = False
            option_list.focus()
            if self._matches:
                self.notify("1–9 do the answer's steps; ctrl+l goes back to the paste box.", timeout=4)

    def _show(self, symptom: Symptom) -> None:
        self._shown = symptom
        self._flow_at = None
        memory_of(self.app).symptom_id = symptom.id
        match = next((m for m in self._matches if m.symptom.id == symptom.id), None)
        self.query_one("#diagnose-answer", Static).update(answer_view(self._knowledge, symptom, match))
        self._show_evidence()

    def _show_no_match(self) -> None:
        self._shown = None
        memory_of(self.app).symptom_id = None
        self.query_one("#diagnose-answer", Static).update(no_match_view(self._knowledge))
        self._show_evidence()

    def _show_flow_start(self) -> None:
        self._shown = None
        self.query_one("#diagnose-answer", Static).update(Group(
            Text("What do you see?", style="bold"),
            Text("Paste the exact error in the box (the words matter, not the layout), pick a symptom from the "
                 "list, or press g to answer a few yes/no questions."),
            Text(""),
            Text("The layers, in the order to rule them out: SESSION → FILE → OUTAGE → FIX.", style="dim"),
        ))
        self._show_evidence()

    def _look_at_plan(self) -> None:
        if self._plan_of() is not self._evidence_plan:
            self._show_evidence()

    def refresh_evidence(self) -> None:
        """Show the evidence again (the clock just changed)."""
        self._show_evidence()

    def _show_evidence(self) -> None:
        self._evidence_plan = self._plan_of()
        memory = memory_of(self.app)
        sections = {
            "SESSION": clock_view(self._clock_of(), self._window, details=True),
            "FILE": files_view(self._evidence_plan),
            "OUTAGE": status_view(memory.status, self._knowledge, checking=memory.checking),
        }
        first = self._shown.layer if self._shown is not None and self._shown.layer in sections else "SESSION"
        order = [first] + [layer for layer in sections if layer != first]
        parts: list[RenderableType] = []
        for layer in order:
            parts += [Text(""), sections[layer]] if parts else [sections[layer]]
        self.query_one("#diagnose-evidence", Static).update(Group(*parts))

    def on_paste(self, event: events.Paste) -> None:
        # Pasted into the box: once it is read, the list takes the keys, so that 1–9 do the steps (in the box a
        # digit is text); ctrl+l goes back to the box.
        if self.query_one(TextArea).has_focus:
            self._pasted = True

    @on(TextArea.Changed, "#diagnose-paste")
    def _text_changed(self, event: TextArea.Changed) -> None:
        if self._classify_timer is not None:
            self._classify_timer.stop()
        text = event.text_area.text
        self._classify_timer = self.set_timer(0.15, lambda: self._classify(text))

    @on(OptionList.OptionHighlighted, "#diagnose-list")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        option_id = event.option.id
        if option_id is None or option_id == FLOW:
            return
        if self._shown is None or self._shown.id != option_id:
            self._show(self._knowledge.symptom(option_id))

    @on(OptionList.OptionSelected, "#diagnose-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id == FLOW:
            self.action_flow()

    # --- the guided flow --------------------------------------------------------------------------------

    def _ask(self, question: Question) -> None:
        self._flow_at = question
        self._shown = None
        self.query_one("#diagnose-answer", Static).update(question_view(self._knowledge, question, self._trail))

    def action_flow(self) -> None:
        self._trail = []
        self._ask(self._knowledge.first_question)
        self.query_one(OptionList).focus()

    def action_answer(self, yes: bool) -> None:
        question = self._flow_at
        if question is None:
            self.notify("g asks the questions; y and n answer them.", timeout=3)
            return
        self._trail.append((question, yes))
        target = question.yes if yes else question.no
        if self._knowledge.is_symptom(target):
            symptom = self._knowledge.symptom(target)
            self._select_option(symptom.id)
            self._show(symptom)
            trail = " → ".join(f"{asked.layer} {'yes' if answer else 'no'}" for asked, answer in self._trail)
            self.notify(f"{trail}: {symptom.title}", timeout=4, markup=False)
        else:
            self._ask(self._knowledge.question(target))

    def action_back(self) -> None:
        if self._flow_at is None and not self._trail:
            return
        if self._trail:
            question, _answer = self._trail.pop()
            self._ask(question)

    def _select_option(self, option_id: str) -> None:
        option_list = self.query_one(OptionList)
        try:
            index = option_list.get_option_index(option_id)
        except Exception:  # OptionDoesNotExist: the list was rebuilt meanwhile
            return
        with option_list.prevent(OptionList.OptionHighlighted):
            option_list.highlighted = index

    # --- actions ----------------------------------------------------------------------------------------

    def action_step(self, number: int) -> None:
        symptom = self._shown
        if symptom is None:
            self.notify("Pick a symptom first: its next steps are numbered.", timeout=3)
            return
        if not 1 <= number <= len(symptom.steps):
            self.notify(f"This one has {len(symptom.steps)} steps.", timeout=3)
            return
        run_step_action(self.app, symptom.steps[number - 1].action, self)

    def action_status(self) -> None:
        if start_status_check(self):
            self._show_evidence()
        else:
            self.notify("The status page is being checked already.", timeout=3)

    def _status_arrived(self, report: StatusReport) -> None:
        if self.is_attached:
            self._show_evidence()

    def action_focus_paste(self) -> None:
        box = self.query_one(TextArea)
        box.focus()
        box.select_all()  # the error kept from last time: what is pasted or typed now replaces it

    def action_close(self) -> None:
        self.dismiss(None)
