"""The composer pane. For now: the files a new chat needs, in upload order (prepared copies in place of
the originals they fix, each with its upload verdict), and where the restart note is; ctrl+y copies this
as a project brief."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from liferaft.core.restart_note import NOTE_FILENAME
from liferaft.core.roles import Role
from liferaft.core.scan import Inventory
from liferaft.core.units import format_size
from liferaft.core.uploads import UploadPlan, plan_uploads
from liferaft.tui.text_pane import TextPane

#: Files listed at most; a longer list is summarised (and drawing it would slow the pane down).
SHOWN = 40


MARKS = {"block": ("✗", "red"), "warn": ("!", "dark_orange"), "ok": ("✓", "green")}


def composer_view(inventory: Inventory, plan: UploadPlan | None = None) -> RenderableType:
    if plan is None:
        plan = plan_uploads(inventory, check=False)
    items = plan.items
    parts: list[RenderableType] = [Text("Re-upload list", style="bold")]
    if items:
        table = Table.grid(padding=(0, 1), expand=True)
        table.add_column(style="dim", justify="right")
        table.add_column(width=1)
        table.add_column(overflow="ellipsis", no_wrap=True, ratio=1)
        table.add_column(justify="right", style="dim", no_wrap=True)
        for number, item in enumerate(items[:SHOWN], 1):
            mark = Text(*MARKS[item.check.verdict]) if item.check is not None else Text(" ")
            name = Text(item.record.name)
            if item.original is not None:
                name.append("  prepared", style="dim italic")
            table.add_row(str(number), mark, name, format_size(item.record.size))
        parts.append(table)
        if len(items) > SHOWN:
            more = items[SHOWN:]
            size = format_size(sum(item.record.size for item in more))
            parts.append(Text(f"… and {len(more):,} more ({size}): "
                              "that is more than one chat takes; upload only what the rerun needs", style="italic"))
    else:
        parts.append(Text("Nothing in SOURCE/ yet: put the original data there.", style="italic"))
    notes = [record for record in inventory.by_role()[Role.RESTART] if record.name == NOTE_FILENAME]
    parts.append(Text(""))
    if notes:
        parts.append(Text.assemble(("Restart note  ", "bold"), notes[0].path))
    else:
        parts.append(Text.assemble(("Restart note  ", "bold"), ("none yet: `liferaft init` makes one", "italic")))
    parts.append(Text("ctrl+y copies the project brief for a new chat", style="dim italic"))
    return Group(*parts)


class ComposerPane(TextPane):
    BORDER_TITLE = "Composer"

    def render_view(self, inventory: Inventory, now: float) -> RenderableType:
        return composer_view(inventory, self.plan)
