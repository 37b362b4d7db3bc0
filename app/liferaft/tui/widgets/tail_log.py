"""A log that keeps its end in view when its box shrinks or grows.

RichLog scrolls to its end when a line is written, but not when the box around it changes size: a log written
to its end, then made shorter by a table that fills in above it, is left showing its first lines."""

from __future__ import annotations

from textual import events
from textual.widgets import RichLog


class TailLog(RichLog):
    """A RichLog that stays at its end across a resize, when it was at its end before (a reader who scrolled
    up to read is left where they are)."""

    _seen_height = 0

    def on_resize(self, event: events.Resize) -> None:
        # RichLog's own handler runs after this one (handlers run down the class tree): it only renders the
        # writes made before the size was known, and those scroll themselves.
        before = self._seen_height
        self._seen_height = self.scrollable_content_region.height
        if not self.auto_scroll or before == 0 or before == self._seen_height:
            return
        if self.scroll_y >= max(0, self.virtual_size.height - before):
            self.scroll_end(animate=False, immediate=False, x_axis=False)
