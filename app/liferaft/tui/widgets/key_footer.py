"""The workbench's footer: Textual's, but it does not rebuild its keys while a dialog or the palette covers it."""

from __future__ import annotations

from textual.widgets import Footer


class KeyFooter(Footer):
    """Textual's footer rebuilds its row of keys (a widget per key, a few dozen on the workbench) whenever its
    screen's keys change, which happens as the palette or a dialog opens over it: tens of milliseconds spent on
    a row nobody sees, while the palette waits to be drawn. Here the rebuild is skipped while the screen is
    covered; when it is on top again Textual refreshes its keys (a resumed screen always does), and the footer
    is rebuilt then."""

    async def recompose(self) -> None:
        if self.is_attached and self.screen is not self.app.screen:
            return
        await super().recompose()
