"""The floor for time-to-first-frame: the smallest sensible Textual app, quitting after its first frame.

With ``--stay`` it stays open instead (the floor of the key-response figures: its command palette, ctrl+p)."""

import sys

from textual.app import App, ComposeResult
from textual.widgets import Footer, Header, Static


class MinimalApp(App[None]):
    def __init__(self, stay: bool = False) -> None:
        super().__init__()
        self._stay = stay

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("hello")
        yield Footer()

    def on_mount(self) -> None:
        if not self._stay:
            self.call_after_refresh(self.exit)


if __name__ == "__main__":
    MinimalApp(stay="--stay" in sys.argv[1:]).run()
