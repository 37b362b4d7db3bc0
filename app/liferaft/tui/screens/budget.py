"""A one-line dialog: the most tokens the composer's prompt may take."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from liferaft.tui.screens.screen_help import HELP_BINDING

#: Fewer tokens than this cannot hold a useful prompt.
MIN_BUDGET = 500


class BudgetScreen(ModalScreen[int | None]):
    """Returns the new budget, or None when cancelled."""

    BINDINGS = [HELP_BINDING,
                Binding("escape", "cancel", "Cancel", id="budget.cancel", tooltip="Keep the budget as it is")]
    HELP_TITLE = "the token budget"
    HELP_KEYS = (("enter", "set the budget (a whole number of tokens, at least 500)"),)

    def __init__(self, budget: int) -> None:
        super().__init__()
        self._budget = budget

    def compose(self) -> ComposeResult:
        with Vertical(id="budget-dialog"):
            yield Label("The most tokens the prompt may take (the code is cut to fit)", id="budget-title")
            yield Input(str(self._budget), type="integer", id="budget-input", select_on_focus=False)
            yield Label(f"enter sets it · esc cancels · at least {MIN_BUDGET:,}", id="budget-help")

    def on_mount(self) -> None:
        box = self.query_one(Input)
        box.focus()
        box.select_all()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        try:
            value = int(event.value.replace(",", "").replace("_", "").strip())
        except ValueError:
            self.query_one("#budget-help", Label).update(f"A whole number of tokens, please (at least {MIN_BUDGET:,})")
            return
        if value < MIN_BUDGET:
            self.query_one("#budget-help", Label).update(f"At least {MIN_BUDGET:,} tokens: a prompt needs room")
            return
        self.dismiss(value)

    def action_cancel(self) -> None:
        self.dismiss(None)
