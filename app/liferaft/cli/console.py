"""Printing core results for the CLI with Rich: colour on a terminal, plain text in a pipe or with NO_COLOR."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from liferaft.core.roles import Role
from liferaft.core.scan import Inventory, display_name, shown_name
from liferaft.core.units import format_age, format_count, format_size

# Typing-only: the preview model is imported when a preview is printed.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path

    from liferaft.core.inspect import Preview
    from liferaft.core.preflight import CheckReport

ROLE_COLOURS: dict[Role, str] = {
    Role.SOURCE: "cyan",
    Role.CODE: "magenta",
    Role.OUTPUT: "green",
    Role.RESTART: "yellow",
    Role.UNSORTED: "red",
}


class _Console(Console):
    def on_broken_pipe(self) -> None:
        # Rich exits with status 1 here; a reader that stops early (`| head`) is not an error.
        self.quiet = True
        raise BrokenPipeError


def make_console(stderr: bool = False) -> Console:
    # Rich already honours NO_COLOR and drops escape codes when the output is not a terminal.
    return _Console(stderr=stderr, highlight=False, soft_wrap=False)


def _shown(path: str) -> str:
    """A path safe to print on one line: line breaks and control characters become visible escapes."""
    return shown_name(path)


def print_inventory(inventory: Inventory, console: Console | None = None, now: float | None = None) -> None:
    """The project's files grouped by role, then the notes.

    Rows are laid out here rather than with a Rich Table: a table measures every cell twice, which takes
    seconds for tens of thousands of files.
    """
    console = console or make_console()
    console.print(Text(_shown(display_name(str(inventory.root))), style="bold"), soft_wrap=True)
    if not inventory.files:
        console.print("No files yet. Put the original data in SOURCE/ (or run `liferaft init`).")
    for role, records in inventory.by_role().items():
        if not records:
            continue
        size = sum(record.size for record in records)
        heading = f"{role.label}  {format_count(len(records), 'file')} · {format_size(size)}"
        if role is Role.UNSORTED:
            heading += "  (role unknown: set one in the workbench)"
        paths = [_shown(record.display_path) for record in records]
        widest = max(map(len, paths))
        # On a terminal a long name is cut to fit the width; in a pipe or a file every name is whole.
        width = min(widest, max(20, console.width - 40)) if console.is_terminal else widest
        body = Text(no_wrap=True, overflow="ellipsis" if console.is_terminal else "ignore")
        for index, (record, path) in enumerate(zip(records, paths, strict=True)):
            if index:
                body.append("\n")
            if len(path) > width:
                path = path[: width - 1] + "…"
            body.append(f"{path:<{width}}  {record.kind:<8} {format_size(record.size):>8}  "
                        f"{format_age(record.mtime, now):<12}")
            flags = ", ".join(flag.replace("_", " ") for flag in record.flags)
            if record.role_guessed:
                body.append("role guessed" + (", " if flags else ""), style="italic dim")
            if flags:
                body.append(flags, style="dark_orange")
        console.print()
        console.print(Text(heading, style=f"bold {ROLE_COLOURS[role]}"))
        console.print(body, crop=False, soft_wrap=not console.is_terminal)
    if inventory.notes:
        console.print()
        console.print(Text(f"Notes ({len(inventory.notes)})", style="bold"))
        for note in inventory.notes:
            console.print(Text.assemble("  ", (_shown(note.to_json()["path"]), "bold"), ": ", note.message),
                          soft_wrap=not console.is_terminal)


#: The widest a column of the rows table may get, in characters.
_MAX_COLUMN_WIDTH = 24


def _one_line(value: str) -> str:
    """A cell safe to print in a table: tabs, line breaks and other control characters become escapes."""
    return shown_name(value)


def print_preview(preview: Preview, path: Path | None = None, console: Console | None = None, *,
                  show_error: bool = True) -> None:
    """A file's preview: facts, schema, the first rows (as many columns as fit), the text, then notes."""
    console = console or make_console()
    if path is not None:
        console.print(Text.assemble((_shown(str(path)), "bold"), f"  ({preview.kind})"))
    if preview.facts:
        facts = Table(show_header=False, box=None, pad_edge=False, padding=(0, 2, 0, 0))
        facts.add_column("fact", style="dim")
        facts.add_column("value", overflow="fold")
        for label, value in preview.facts:
            facts.add_row(label, Text(value))
        console.print(facts)
    if preview.sheets:
        console.print(Text.assemble(("sheets: ", "dim"), ", ".join(preview.sheets),
                                    f"  (showing {preview.sheet})" if preview.sheet else ""))
    if preview.columns:
        _print_schema(preview, console)
    if preview.rows:
        _print_rows(preview, console)
    if preview.text:
        console.print()
        _print_text(preview.text, preview.text_format, console)
    if preview.notes:
        console.print()
        console.print(f"[bold]Notes[/] ({len(preview.notes)})")
        notes = Table(show_header=False, box=None, pad_edge=False, padding=(0, 1, 0, 0))
        notes.add_column("bullet")
        notes.add_column("note", overflow="fold")
        for note in preview.notes:
            notes.add_row("  -", Text(note))
        console.print(notes)
    if preview.error and show_error:
        console.print()
        console.print(Text.assemble(("error: ", "bold red"), preview.error))


def _print_schema(preview: Preview, console: Console) -> None:
    console.print()
    console.print(f"[bold]Columns[/] ({len(preview.columns):,})")
    schema = Table(show_header=False, box=None, pad_edge=False, padding=(0, 2, 0, 0))
    schema.add_column("name", overflow="fold", max_width=48)
    schema.add_column("type", style="cyan")
    schema.add_column("empty", style="dim")
    for column in preview.columns:
        empty = f"{column.sample_nulls:,} empty" if column.sample_nulls else ""
        schema.add_row(Text("  " + _one_line(column.name)), column.type, empty)
    console.print(schema)


def _print_rows(preview: Preview, console: Console) -> None:
    names = [column.name for column in preview.columns] or [f"{index + 1}" for index in range(len(preview.rows[0]))]
    # As many whole columns as fit the width; the rest are listed in the schema above.
    widths: list[int] = []
    used = 0
    for index, name in enumerate(names):
        widest = max([len(_one_line(name)), *(len(_one_line(row[index])) for row in preview.rows if index < len(row))])
        width = max(3, min(widest, _MAX_COLUMN_WIDTH))
        if widths and used + width + 3 > console.width:
            break
        widths.append(width)
        used += width + 3
    console.print()
    hidden = len(names) - len(widths)
    heading = f"[bold]First {format_count(len(preview.rows), 'row')}[/]"
    if hidden:
        heading += f" [dim](the first {len(widths)} of {len(names)} columns fit; see --json for all)[/]"
    console.print(heading)
    table = Table(box=None, pad_edge=False, padding=(0, 3, 0, 0), show_edge=False, header_style="bold")
    for index, width in enumerate(widths):
        table.add_column(Text(_one_line(names[index])), max_width=width, no_wrap=True, overflow="ellipsis")
    for row in preview.rows:
        table.add_row(*(Text(_one_line(row[index]) if index < len(row) else "") for index in range(len(widths))))
    console.print(table)


def _print_text(text: str, text_format: str | None, console: Console) -> None:
    if console.is_terminal and text_format not in (None, "text", "markdown"):
        from rich.syntax import Syntax

        console.print(Syntax(text, text_format, theme="ansi_dark", word_wrap=False))
        return
    console.print(Text(text), soft_wrap=True)


_VERDICT_STYLES = {"ok": ("OK   ", "bold green"), "warn": ("WARN ", "bold yellow"), "block": ("BLOCK", "bold red")}


def print_check(report: CheckReport, console: Console | None = None) -> None:
    """`liferaft check`: one block per file (verdict, kind, size, problems and fixes), then a summary line."""
    from liferaft.core.preflight import summary_line

    console = console or make_console()
    if not report.files:
        console.print("No files to check. Put the original data in SOURCE/ (or name the files).")
    for check in report.files:
        made = report.replaced.get(check.path)
        if made is not None:
            # Its problems are what the prepared copies fix: they are checked in their own right.
            console.print(Text.assemble(("PREP ", "bold cyan"), "  ", (_shown(check.path), "bold"),
                                        (f"  {check.kind} · {format_size(check.size)}", "dim")), soft_wrap=True)
            console.print(Text.assemble("       → a new chat gets ", _shown(", ".join(made)), " instead"),
                          soft_wrap=True)
            continue
        why = report.left_out.get(check.path)
        if why is not None:
            console.print(Text.assemble(("SKIP ", "bold"), "  ", (_shown(check.path), "bold"),
                                        (f"  not uploaded: {why}", "dim")), soft_wrap=True)
            continue
        badge, style = _VERDICT_STYLES[check.verdict]
        facts = f"  {check.kind} · {format_size(check.size)}"
        if check.tokens is not None:
            facts += (f" · {check.tokens:,} tokens (exact)" if check.tokens_exact
                      else f" · ≈ {check.tokens:,} tokens (estimate)")
        console.print(Text.assemble((badge, style), "  ", (_shown(check.path), "bold"), (facts, "dim")),
                      soft_wrap=True)
        if check.path in report.stale:
            console.print(Text(f"       ! its prepared copies are not used: {report.stale[check.path]}"),
                          soft_wrap=True)
        for problem in check.problems:
            mark = "✗" if problem.severity == "block" else "!"
            console.print(Text.assemble(f"       {mark} ", problem.message), soft_wrap=True)
            console.print(Text.assemble("         ", ("fix: ", "dim"), problem.fix), soft_wrap=True)
    console.print()
    for problem in report.problems:
        badge = ("NOTE ", "bold") if problem.severity == "note" else ("WARN ", "bold yellow")
        console.print(Text.assemble(badge, "  ", problem.message), soft_wrap=True)
        console.print(Text.assemble("         ", ("fix: ", "dim"), problem.fix), soft_wrap=True)
    if any(check.tokens is not None and not check.tokens_exact for check in report.files):
        from liferaft.core import tokens

        if tokens.data_file() is None:
            console.print(Text("Token counts are estimates (size ÷ 4); `liferaft check --fetch-tokenizer` once "
                               f"makes them exact ({tokens.ENCODING}).", style="dim"), soft_wrap=True)
    console.print(Text(summary_line(report), style="bold"), soft_wrap=True)
