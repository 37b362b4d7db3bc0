"""The checkpoints: every one recorded, and what changed between any two (or since one, until now).

The highlighted checkpoint is compared with the one before it; `b` makes the highlighted one the base, so
any two can be compared; "now" is the folder as it is.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from rich.console import Group, RenderableType
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Label, OptionList, Static
from textual.widgets.option_list import Option

from liferaft.core.checkpoints import Changes, Checkpoint, diff, rework_percent
from liferaft.core.scan import Inventory, shown_name
from liferaft.core.units import format_count

NOW = "now"
#: Paths listed at most per kind of change.
SHOWN = 200


def changes_view(changes: Changes, title: str) -> RenderableType:
    parts: list[RenderableType] = [Text(title, style="bold")]
    if not changes:
        parts.append(Text("Nothing changed.", style="green"))
        return Group(*parts)
    parts.append(Text(f"{format_count(changes.count, 'file')} changed", style="dim"))
    for label, paths, style in (("added", changes.added, "green"), ("changed", changes.changed, "dark_orange"),
                                ("removed", changes.removed, "red")):
        for path in paths[:SHOWN]:
            parts.append(Text.assemble((f"{label:<8}", style), shown_name(path)))
        if len(paths) > SHOWN:
            parts.append(Text(f"… and {len(paths) - SHOWN:,} more {label}", style="dim"))
    return Group(*parts)


def _when(checkpoint: Checkpoint) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(checkpoint.time))


class CheckpointsScreen(Screen[None]):
    BINDINGS = [
        Binding("b", "base", "Compare with this", id="checkpoints.base",
                tooltip="Compare the other checkpoints with the highlighted one"),
        Binding("escape", "close", "Close", id="checkpoints.close", tooltip="Back to the workbench"),
    ]
    HELP_TITLE = "the checkpoints"
    HELP_KEYS = (("↑ ↓", "pick a checkpoint: what changed since it (or since the one b picked)"),)

    def __init__(self, checkpoints: Sequence[Checkpoint], inventory: Inventory) -> None:
        super().__init__()
        self._checkpoints = list(checkpoints)
        self._inventory = inventory
        self._base_key: str | None = None

    def compose(self) -> ComposeResult:
        count = len(self._checkpoints)
        rework = rework_percent(count)
        yield Label(f"Checkpoints · {count} recorded · a lost session now costs about {rework:.0f} % of the work",
                    id="checkpoints-title")
        with Horizontal(id="checkpoints-body"):
            options = [Option(Text.assemble(("now", "bold"), ("  the folder as it is", "dim")), id=NOW)]
            for checkpoint in reversed(self._checkpoints):
                label = Text.assemble((f"#{checkpoint.number}", "bold"), f"  {_when(checkpoint)}",
                                      (f"  {format_count(len(checkpoint.files), 'file')}", "dim"))
                if checkpoint.message:
                    label.append(f"  {checkpoint.message}", style="italic")
                options.append(Option(label, id=str(checkpoint.number)))
            yield OptionList(*options, id="checkpoints-list")
            with VerticalScroll(id="checkpoints-side"):
                yield Static("", id="checkpoints-changes")
        yield Footer()

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.highlighted = 0
        options.focus()
        self._compare(NOW)

    def _by_id(self, key: str) -> Checkpoint | Inventory | None:
        if key == NOW:
            return self._inventory
        return next((c for c in self._checkpoints if str(c.number) == key), None)

    def _label_of(self, key: str) -> str:
        return "now" if key == NOW else f"#{key}"

    def _compare(self, key: str) -> None:
        target = self._by_id(key)
        base_key = self._base_key
        if base_key is None or base_key == key:
            # The one before: for "now" the latest checkpoint, for a checkpoint the one recorded before it.
            if key == NOW:
                base_key = str(self._checkpoints[-1].number) if self._checkpoints else None
            else:
                index = next(i for i, c in enumerate(self._checkpoints) if str(c.number) == key)
                base_key = str(self._checkpoints[index - 1].number) if index > 0 else None
        panel = self.query_one("#checkpoints-changes", Static)
        if target is None:
            return
        if base_key is None:
            if key == NOW:
                panel.update(Text("No checkpoint yet: k in the workbench records one.", style="italic"))
            else:
                files = format_count(len(target.files), "file") if isinstance(target, Checkpoint) else ""
                panel.update(Text(f"The first checkpoint: {files}.", style="italic"))
            return
        base = self._by_id(base_key)
        assert base is not None
        older, newer = (base, target)
        title = f"From {self._label_of(base_key)} to {self._label_of(key)}"
        if base_key == NOW or (key != NOW and int(base_key) > int(key)):
            older, newer = target, base
            title = f"From {self._label_of(key)} to {self._label_of(base_key)}"
        panel.update(changes_view(diff(older, newer), title))

    @on(OptionList.OptionHighlighted, "#checkpoints-list")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option.id is not None:
            self._compare(event.option.id)

    def action_base(self) -> None:
        options = self.query_one(OptionList)
        if options.highlighted is None:
            return
        key = options.get_option_at_index(options.highlighted).id
        self._base_key = key
        self.notify(f"Comparing with {self._label_of(key or NOW)}.", timeout=2)

    def action_close(self) -> None:
        self.dismiss(None)
