"""How one file's upload check reads on screen: the verdict, then each problem with its fix."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from liferaft.core.preflight import BLOCK, FileCheck

VERDICT_STYLES = {"ok": "green", "warn": "dark_orange", "block": "red"}


def check_view(check: FileCheck) -> RenderableType:
    """The problems the check found, each with its fix, blocking ones first."""
    verdict = check.verdict
    head = Text.assemble(("Upload check  ", "bold"), (verdict.upper(), f"bold {VERDICT_STYLES[verdict]}"))
    if check.tokens is not None:
        head.append(f"   {check.tokens:,} tokens" + ("" if check.tokens_exact else " (estimate)"), style="dim")
    if not check.problems:
        head.append("  nothing to fix", style="green")
        return head
    # A grid keeps wrapped lines under their text, not under the mark.
    grid = Table.grid(padding=(0, 1))
    grid.add_column(width=2, no_wrap=True)
    grid.add_column(overflow="fold")
    for problem in sorted(check.problems, key=lambda p: p.severity != BLOCK):
        mark, style = ("✗", "red") if problem.severity == BLOCK else ("!", "dark_orange")
        grid.add_row(Text(mark, style=style), Text(problem.message))
        grid.add_row(Text(" →", style="dim"), Text(problem.fix, style="italic"))
    return Group(head, grid)
