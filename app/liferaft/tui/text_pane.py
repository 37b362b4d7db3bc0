"""A scrollable, focusable pane that shows one rendering of the project (the diagnosis and composer)."""

from __future__ import annotations

from collections.abc import Callable

from rich.console import RenderableType
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from liferaft.core.scan import Inventory


class TextPane(VerticalScroll):
    """Subclasses set BORDER_TITLE and implement :meth:`render_view`."""

    ALLOW_MAXIMIZE = True
    can_focus = True

    def __init__(self, now: Callable[[], float], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._now = now

    def compose(self) -> ComposeResult:
        yield Static("", classes="pane-body")

    def render_view(self, inventory: Inventory, now: float) -> RenderableType:
        raise NotImplementedError

    def show(self, inventory: Inventory) -> None:
        self.query_one(".pane-body", Static).update(self.render_view(inventory, self._now()))
