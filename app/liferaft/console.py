"""Printing core results for the CLI with Rich: colour on a terminal, plain text in a pipe or with NO_COLOR."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from liferaft.core.roles import Role
from liferaft.core.scan import Inventory
from liferaft.core.units import format_age, format_count, format_size

ROLE_COLOURS: dict[Role, str] = {
    Role.SOURCE: "cyan",
    Role.CODE: "magenta",
    Role.OUTPUT: "green",
    Role.RESTART: "yellow",
    Role.UNSORTED: "red",
}


def make_console(stderr: bool = False) -> Console:
    # Rich already honours NO_COLOR and drops escape codes when the output is not a terminal.
    return Console(stderr=stderr, highlight=False, soft_wrap=False)


def _shown(path: str) -> str:
    """A path safe to print on one line: line breaks become visible escapes."""
    return path.replace("\r", "\\r").replace("\n", "\\n")


def print_inventory(inventory: Inventory, console: Console | None = None) -> None:
    """The project's files grouped by role, then the notes."""
    console = console or make_console()
    console.print(f"[bold]{escape(str(inventory.root))}[/]")
    groups = inventory.by_role()
    total = len(inventory.files)
    if not total:
        console.print("No files yet. Put the original data in SOURCE/ (or run `liferaft init`).")
    for role, records in groups.items():
        if not records:
            continue
        size = sum(record.size for record in records)
        heading = f"{role.label}  {format_count(len(records), 'file')} · {format_size(size)}"
        if role is Role.UNSORTED:
            heading += "  (role unknown: set one in the workbench)"
        table = Table(show_header=False, box=None, pad_edge=False, padding=(0, 2, 0, 0))
        table.add_column("file", overflow="fold")
        table.add_column("kind")
        table.add_column("size", justify="right")
        table.add_column("modified")
        table.add_column("flags")
        for record in records:
            flags = list(record.flags)
            flag_text = Text(", ".join(flag.replace("_", " ") for flag in flags), style="dark_orange")
            if record.role_guessed:
                flag_text = Text.assemble(("role guessed", "italic dim"), ", " if flags else "", flag_text)
            table.add_row(
                Text(_shown(record.display_path)),
                record.kind,
                format_size(record.size),
                format_age(record.mtime),
                flag_text,
            )
        console.print()
        console.print(Text(heading, style=f"bold {ROLE_COLOURS[role]}"))
        console.print(table)
    if inventory.notes:
        console.print()
        console.print(f"[bold]Notes[/] ({len(inventory.notes)})")
        for note in inventory.notes:
            console.print(Text.assemble("  ", (_shown(note.to_json()["path"]), "bold"), ": ", note.message))
