"""The workbench's own keys for its layout: focus a pane, zoom it, filter and sort the file list, read the folder
again; and the narrow screen's folding of the lower panes when one of them is focused."""

from __future__ import annotations

import contextlib

from textual import events
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Input

from liferaft.core.project import Project
from liferaft.tui.widgets.preview_pane import PreviewPane
from liferaft.tui.widgets.project_pane import ProjectPane

PANES: dict[str, str] = {"project": "#project", "preview": "#preview", "diagnosis": "#diagnosis",
                         "composer": "#composer"}


class WorkbenchLayout(Screen[None]):
    """The layout keys, as a part of the workbench (see ``Workbench``): what they need of the rest is declared here."""

    project: Project | None
    _filter_timer: Timer | None

    def _load_project(self) -> None:
        raise NotImplementedError  # the workbench's own

    def on_key(self, event) -> None:  # type: ignore[no-untyped-def]
        # esc clears the filter, from the filter box or from the file list.
        if event.key != "escape":
            return
        box = self.query_one("#filter", Input)
        if self.app.focused is box or (self.app.focused is self.query_one(ProjectPane) and box.value):
            self._clear_filter()
            event.stop()

    def _clear_filter(self) -> None:
        if self._filter_timer is not None:
            self._filter_timer.stop()
        box = self.query_one("#filter", Input)
        with box.prevent(Input.Changed):
            box.value = ""
        box.remove_class("-shown")
        pane = self.query_one(ProjectPane)
        pane.set_filter("")
        pane.focus()

    def action_rescan(self) -> None:
        self.query_one(ProjectPane).loading = self.project is None
        self._load_project()

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        # The diagnosis or composer focused: the right column widens on narrow screens (see the stylesheet).
        with contextlib.suppress(NoMatches):
            lower = self.query_one("#lower")
            inside = event.widget in lower.walk_children()
            self.query_one("#right").set_class(inside, "-lower-focused")
            for pane in lower.children:  # the unfocused one is a sliver: a few words instead of wrapped text
                pane.set_class(inside and event.widget is not pane and event.widget not in pane.walk_children(),
                               "-sliver")

    def action_focus_pane(self, name: str) -> None:
        if self.app.screen.maximized is not None:
            self.app.screen.minimize()
        if name == "preview":
            self.query_one(PreviewPane).focus_body()
        else:
            self.query_one(PANES[name]).focus()

    def action_zoom(self) -> None:
        screen = self.app.screen
        if screen.maximized is not None:
            screen.minimize()
            return
        focused = self.app.focused
        pane = next((node for node in (focused, *(focused.ancestors if focused else ()))
                     if getattr(node, "id", None) in {p.lstrip("#") for p in PANES.values()}), None)
        if pane is None:
            self.notify("Go to a pane first (1–4), then zoom it.", timeout=3)
            return
        screen.maximize(pane, container=False)  # type: ignore[arg-type]

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.add_class("-shown")
        box.focus()

    def action_cycle_sort(self) -> None:
        order = self.query_one(ProjectPane).cycle_sort()
        self.notify(f"Sorted by {order}.", timeout=2)
