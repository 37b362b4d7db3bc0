"""The replay screen's results and views (``tui/screens/replay.py``): the results table's rows, through a small
adapter over core's results module, what the screen hands back to the workbench, and the plan, a cell's output, a
failure and the summary as the screen draws them. Pure: no widget, no worker."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from liferaft.core.scan import shown_lines, shown_name

TYPE_CHECKING = False
if TYPE_CHECKING:
    from liferaft.core.replay.prepare import Needs
    from liferaft.core.replay.session import CellRecord, ReplayPlan, ReplayResult

#: Lines of a cell's output shown in the log (the executed notebook has all of it).
OUTPUT_LINES = 12


# --- the results, through a small adapter (core's results module is the one place that knows them) ----------


@dataclass(frozen=True, slots=True)
class ResultLine:
    """One row of the results table, as the screen shows it."""

    name: str
    verdict: str
    """"regenerated", "matches", "differs: …", "not regenerated"…"""
    acceptable: bool = False
    """``a`` would move it into OUTPUT (regenerated, and OUTPUT lacks it)."""


def results_rows(project: Path, folder: Path) -> list[ResultLine]:
    """Each output the project expects, and what the replay in ``folder`` made of it."""
    from liferaft.core.replay import results

    lines = []
    for row in results.results_table(project, folder):
        verdict = row.status if not row.detail or row.detail == row.status else f"{row.status} ({row.detail})"
        lines.append(ResultLine(row.path, verdict, row.status == results.NEW))
    return lines


def accept_outputs(project: Path, folder: Path) -> tuple[list[Path], list[Path]]:
    """Move the regenerated missing outputs into OUTPUT: (moved, kept because OUTPUT has one already)."""
    from liferaft.core.replay import results

    report = results.accept(project, folder)
    if report.problems:
        raise OSError(report.problems[0])
    return [Path(path) for path in report.accepted], [Path(path) for path in report.kept]


@dataclass(slots=True)
class ReplayOutcome:
    """What the screen hands back to the workbench: the replay folder (None when nothing ran), and whether
    outputs were moved into OUTPUT."""

    folder: Path | None
    accepted: bool = False


def _relative(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def _one_line(text: str, width: int = 70) -> str:
    text = shown_name(text.strip().splitlines()[0] if text.strip() else "")
    return text if len(text) <= width else text[: width - 1] + "…"


def _error_message(exc: BaseException) -> str:
    """A planning or running error as one line: core's own errors say what to do; anything else is a bug."""
    if type(exc).__name__ in ("ReplayError", "ReplayEnvironmentError", "CellsError"):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def plan_view(plan: ReplayPlan, needs: Needs, root: Path) -> RenderableType:
    """The plan, as the user reads it before anything runs."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    table.add_row("File", Text(shown_name(_relative(root, plan.script))))
    chosen = [cell for cell in plan.chosen if cell.number]
    setup = any(cell.number == 0 for cell in plan.cells)
    cells = f"{len(chosen)} of {plan.total}"
    if plan.first != 1 or plan.last != plan.total:
        cells += f" (cells {plan.first}-{plan.last})"
    if setup:
        cells += ", after the setup cell (the folders)"
    table.add_row("Cells", cells)
    if plan.sandbox_problem:
        table.add_row("Sandbox", Text.assemble(("not available here: ", "bold red"),
                                               shown_name(plan.sandbox_problem)))
    else:
        table.add_row("Sandbox", Text.assemble(("yes", "bold green"),
                                               ": no network, the project read-only, the home folder hidden"))
    if needs.python:
        table.add_row("Python", Text(f"{shown_name(needs.python)} (from config.toml, used as it is)"))
    elif not needs.shown:
        table.add_row("Packages", Text("environment ready (nothing to install)", style="green"))
    elif needs.ready:
        table.add_row("Packages", Text.assemble(("environment ready", "green"), " (cached): ", ", ".join(needs.shown)))
    else:
        table.add_row("Packages", Text.assemble("to install into a new environment: ", (", ".join(needs.shown),
                                                                                          "bold")))
    if needs.unknown:
        table.add_row("Unknown", Text.assemble(
            (", ".join(shown_name(name) for name in needs.unknown), "bold dark_orange"),
            ": no known package, never installed (name one in config.toml under [replay.packages], e.g. "
            'mymodule = "its-pypi-name")'))
    if needs.stand_ins:
        table.add_row("Stand-ins", Text(f"{', '.join(needs.stand_ins)}: the chat's own modules, which Liferaft "
                                        "stands in for"))
    table.add_row("Results", Text("OUTPUT/replayed/<date-time>/; nothing else in the project is changed"))
    return table


def output_view(record: CellRecord, width: int) -> RenderableType:
    """A finished cell in the log: its status and time, then its output, beside what the chat showed."""
    ok = record.status == "ok"
    mark, style = ("✓", "green") if ok else ("↷", "dark_orange") if "skipped" in record.status else ("✗", "red")
    head = Text.assemble((f"{mark} {shown_name(record.label)}", f"bold {style}"),
                         (f"  {record.seconds:.1f} s", "dim"))
    if record.edited:
        head.append("  edited", style="italic")
    if not ok:
        head.append(f"  {record.status}: {_one_line(record.error, 60)}", style=style)
    parts: list[RenderableType] = [head]
    here = _tail(record.output)
    said = _tail(record.chat_output)
    if record.figures:
        here = Text.assemble(here, (f"{', '.join(record.figures)}\n" if here.plain.endswith("\n") or not here
                                    else f"\n{', '.join(record.figures)}", "italic"))
    if said:
        if width >= 60:
            grid = Table(box=None, show_header=True, padding=(0, 1), expand=True, header_style="dim")
            grid.add_column("here", ratio=1, overflow="fold")
            grid.add_column("in the chat", ratio=1, overflow="fold")
            grid.add_row(here or Text("(nothing)", style="dim italic"), said)
            parts.append(grid)
        else:
            parts += [here, Text("in the chat:", style="dim"), said]
    elif here:
        parts.append(here)
    return Group(*parts)


def _tail(text: str) -> Text:
    lines = shown_lines(text.rstrip("\n")).split("\n") if text.strip() else []
    if len(lines) > OUTPUT_LINES:
        lines = [f"… {len(lines) - OUTPUT_LINES + 1} lines more in replay.ipynb", *lines[-OUTPUT_LINES + 1:]]
    return Text("\n".join(lines))


def failure_view(record: CellRecord) -> RenderableType:
    """A failed cell: which, the error, the traceback's last lines, the diagnosis."""
    parts: list[RenderableType] = [
        Text.assemble((f"{shown_name(record.label)} failed", "bold red"), f" ({record.status}): ",
                      shown_name(record.error)),
        Text(_one_line(record.first_line), style="dim"),
    ]
    if record.traceback:
        parts.append(Text("\n".join(shown_name(line) for line in record.traceback), style="red"))
    if record.diagnosis:
        parts.append(Text.assemble(("Reading: ", "bold"), shown_name(record.diagnosis)))
    return Group(*parts)


def results_summary(result: ReplayResult, root: Path, interrupted: bool) -> Text:
    ran = [record for record in result.cells if record.number]
    failed = [record for record in ran if record.status != "ok"]
    text = Text.assemble(
        (f"Replayed {len(ran)} cell{'s' if len(ran) != 1 else ''} in {result.seconds:.1f} s", "bold"),
        f" ({'sandboxed' if result.sandboxed else 'not sandboxed'}"
        f"{f', Python {result.python}' if result.python else ''}); ",
        (f"{len(failed)} failed", "red" if failed else ""),
    )
    stopped = result.stopped or ("interrupted" if interrupted else "")
    if stopped:
        text.append(f"; {stopped}", style="dark_orange")
    text.append(".\nResults in ")
    text.append(f"{shown_name(_relative(root, result.folder))}/", style="bold")
    text.append(" (replay.ipynb, replay.json)")
    return text
