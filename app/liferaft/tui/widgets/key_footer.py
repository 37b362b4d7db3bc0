"""The workbench's footer: Textual's, holding only the keys that fit, and not rebuilt while it is covered."""

from __future__ import annotations

from rich.cells import cell_len
from textual import events
from textual.app import ComposeResult
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

#: Cells a key takes besides its key and description: a space between them, a cell of padding each side.
KEY_EXTRA = 3


class KeyFooter(Footer):
    """Textual's footer makes a widget per key the screen shows (a few dozen on the workbench), most of them past
    the right edge; making them costs tens of milliseconds before the first frame and again each time the keys
    change (a pane focused, the palette opened). This one makes only the keys that fit (all of them are in the
    help, F1, and the palette), makes them again when the width changes, and skips rebuilding while another
    screen covers it (when its screen is on top again Textual refreshes its keys, and it is rebuilt then)."""

    _made_for_width = -1
    _made_for: tuple[object, ...] | None = None

    def _keys_shown(self, width: int) -> tuple[object, ...] | None:
        """What the keys would be made from (the width and the screen's shown bindings, enabled or not), or None
        before the screen's bindings are known."""
        if not self._bindings_ready or not self.is_attached:
            return None
        active = self.screen.active_bindings
        shown = tuple((binding.key, binding.action, binding.description, enabled, tooltip,
                       binding.group.description if binding.group else None)
                      for _node, binding, enabled, tooltip in active.values()
                      if binding.show or binding.action == "command_palette")
        return (width, self.compact, shown)

    def compose(self) -> ComposeResult:
        width = self.size.width or self.app.size.width
        self._made_for_width = width
        self._made_for = self._keys_shown(width)
        made = list(super().compose())
        palette = [w for w in made if isinstance(w, FooterKey) and w.has_class("-command-palette")]
        room = width - sum(_width(w) for w in palette)
        for widget in made:
            if isinstance(widget, FooterKey) and widget not in palette:
                if _width(widget) > room and " " in widget.description:  # "Copy prompt": "Copy" may fit
                    widget.description = widget.description.split(" ", 1)[0]
                if _width(widget) > room:
                    continue  # past the edge: not made (a shorter one further on may fit)
                room -= _width(widget)
            yield widget

    async def recompose(self) -> None:
        if self.is_attached and self.screen is not self.app.screen:
            return
        # The keys change less often than Textual asks (every focus move asks): the same keys are not made again
        # (a dozen widgets removed and mounted, ~6 ms each time).
        shown = self._keys_shown(self.size.width or self.app.size.width)
        if shown is not None and shown == self._made_for:
            return
        await super().recompose()

    def on_resize(self, event: events.Resize) -> None:
        if event.size.width != self._made_for_width and self._bindings_ready:
            self.call_later(self.recompose)


def _width(key: FooterKey) -> int:
    return cell_len(key.key_display) + cell_len(key.description) + KEY_EXTRA
