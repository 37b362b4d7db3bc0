"""A scrollable, focusable pane that shows one rendering of the project (the diagnosis and composer)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.console import RenderableType
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Static

from liferaft.core.scan import Inventory
from liferaft.core.uploads import UploadPlan


def fit_title(widget: Widget, titles: Sequence[str]) -> str:
    """The first of ``titles`` (longest first) that fits on ``widget``'s top border, else the last."""
    room = widget.outer_size.width - 6  # "╭─ " and " ─╮"
    if room <= 0:
        return titles[0]
    return next((title for title in titles if len(title) <= room), titles[-1])


class TextPane(VerticalScroll):
    """Subclasses set BORDER_TITLE and implement :meth:`render_view`."""

    ALLOW_MAXIMIZE = True
    can_focus = True

    def __init__(self, now: Callable[[], float], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._now = now
        self._inventory: Inventory | None = None
        self.plan: UploadPlan | None = None
        """The upload plan (checked or not) for the inventory on show."""

    def compose(self) -> ComposeResult:
        yield Static("", classes="pane-body")

    def render_view(self, inventory: Inventory, now: float) -> RenderableType:
        raise NotImplementedError

    def show(self, inventory: Inventory) -> None:
        self._inventory = inventory
        self.query_one(".pane-body", Static).update(self.render_view(inventory, self._now()))

    def set_plan(self, plan: UploadPlan | None) -> None:
        self.plan = plan
        if self._inventory is not None:
            self.show(self._inventory)
