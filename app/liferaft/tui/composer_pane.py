"""The composer pane. For now: the files a new chat needs, in upload order, and where the restart note is;
ctrl+y copies this as a project brief."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from liferaft.core.restart_note import NOTE_FILENAME
from liferaft.core.roles import Role
from liferaft.core.scan import Inventory
from liferaft.core.summary import upload_list
from liferaft.core.units import format_size
from liferaft.tui.text_pane import TextPane

#: Files listed at most; a longer list is summarised (and drawing it would slow the pane down).
SHOWN = 40


def composer_view(inventory: Inventory) -> RenderableType:
    files = upload_list(inventory)
    parts: list[RenderableType] = [Text("Re-upload list", style="bold")]
    if files:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="dim", justify="right")
        table.add_column(overflow="ellipsis", no_wrap=True)
        table.add_column(justify="right", style="dim")
        for number, record in enumerate(files[:SHOWN], 1):
            table.add_row(str(number), Text(record.name), format_size(record.size))
        parts.append(table)
        if len(files) > SHOWN:
            more = files[SHOWN:]
            parts.append(Text(f"… and {len(more):,} more ({format_size(sum(r.size for r in more))}): "
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
        return composer_view(inventory)
