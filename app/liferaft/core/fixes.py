"""Which fixers fit a file, given what its pre-flight check found, and running one.

The workbench offers these as actions (the command line has `liferaft prepare`); both end in the fixers
of :mod:`liferaft.core.prepare`, which never change the original. The fixes that address a problem the
check found come first and are marked as recommended.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from liferaft.core.preflight import NEAR, UNREADABLE_CODES, FileCheck, default_limits
from liferaft.core.prepare_common import Prepared, PrepareUsage, Progress
from liferaft.core.vendor import UploadLimits

#: Problem codes each action addresses.
ADDRESSES: dict[str, frozenset[str]] = {
    "split": frozenset({"too_big", "near_size_limit"}),
    "utf8": frozenset({"encoding", "bad_bytes"}),
    "strip_nul": frozenset({"nul_bytes"}),
    "skip_rows": frozenset({"title_lines"}),
    "comma": frozenset({"encoding", "delimiter", "bad_bytes", "blank_header"}),
    "sheet": frozenset({"several_sheets", "too_big", "near_size_limit", "blank_header"}),
    "drop_columns": frozenset({"too_big", "near_size_limit", "wide", "unnamed_columns"}),
    "name": frozenset({"name", "odd_name"}),
}

#: What each action asks for before it runs: None (nothing), or a label for the value.
ASKS: dict[str, str | None] = {
    "split": "Largest part, in MB",
    "utf8": None,
    "strip_nul": None,
    "skip_rows": "Lines to skip above the header",
    "comma": None,
    "sheet": None,
    "drop_columns": "Columns to drop",
    "name": "New name",
}


@dataclass(frozen=True, slots=True)
class Fix:
    action: str
    """One of :data:`ADDRESSES`' keys."""
    title: str
    """What it does, in a line."""
    argument: str | None = None
    """The value it runs with (part size, sheet, name), as a default the user may change."""
    recommended: bool = False
    """It addresses a problem the check found."""
    fixes: tuple[str, ...] = ()
    """The problem codes of this file it addresses."""

    @property
    def asks(self) -> str | None:
        return ASKS[self.action]


def part_size_mb(limits: UploadLimits) -> int:
    """The default part size for a split: safely under the spreadsheet limit."""
    return max(1, math.floor(limits.spreadsheet_mb * (1 - NEAR)))


def available_fixes(check: FileCheck, *, sheets: Sequence[str] = (),
                    limits: UploadLimits | None = None) -> list[Fix]:
    """The fixers that can run on the checked file, recommended ones first."""
    limits = limits or default_limits()
    codes = {problem.code for problem in check.problems}
    if codes & (UNREADABLE_CODES | {"empty"}):
        return []  # nothing a fixer can read: the check's own fix says what to do
    name = check.path.rpartition("/")[2]
    candidates: list[tuple[str, str, str | None]] = []
    if check.kind in ("csv", "tsv"):
        mb = part_size_mb(limits)
        candidates += [
            ("split", f"Split into parts of at most {mb} MB, the header row in each", str(mb)),
            ("comma", "Write a clean copy: UTF-8, commas, no blank lines above the header", None),
            ("utf8", "Write a UTF-8 copy (delimiter kept)", None),
            ("strip_nul", "Write a copy without the stray NUL bytes", None),
            ("skip_rows", "Write a copy without the title lines above the header", _title_lines(check)),
            ("drop_columns", "Write a copy without some columns", None),
        ]
    elif check.kind == "xlsx":
        candidates += [("sheet", f"Export the sheet {sheet!r} to a UTF-8 CSV", sheet) for sheet in sheets]
    suggested = check.suggested_name
    if suggested:
        candidates.append(("name", f"Upload it as {suggested} (a copy; the original keeps its name)", suggested))
    else:
        candidates.append(("name", "Upload it under another name (a copy; the original keeps its name)", name))
    fixes = []
    for action, title, argument in candidates:
        addressed = tuple(sorted(ADDRESSES[action] & codes))
        # Converting an already-UTF-8 comma file would change nothing: offer it only when it helps.
        if action in ("utf8", "comma", "strip_nul", "skip_rows") and not addressed:
            continue
        fixes.append(Fix(action, title, argument, bool(addressed), addressed))
    fixes.sort(key=lambda fix: not fix.recommended)  # stable: the order above within each group
    return fixes


def _title_lines(check: FileCheck) -> str | None:
    """The number of title lines the check found above the header, as the skip's default."""
    problem = next((problem for problem in check.problems if problem.code == "title_lines"), None)
    if problem is None:
        return None
    count = problem.message.split(" ", 1)[0]
    return count if count.isdigit() else None


def run_fix(path: Path, action: str, argument: str | None = None, *,
            progress: Progress | None = None) -> Prepared:
    """Run one fixer on ``path``. Raises :class:`PrepareError` (or :class:`PrepareUsage` for a bad argument)."""
    from liferaft.core import prepare

    path = Path(path)
    if action == "split":
        if not (argument or "").strip():
            raise PrepareUsage("give the largest part size in MB, e.g. 45")
        try:
            limit = float((argument or "").strip())
        except ValueError:
            raise PrepareUsage(f"the part size must be a number of MB, not {argument!r}") from None
        return prepare.split_csv(path, limit, progress=progress)
    if action == "utf8":
        return prepare.to_utf8(path, progress=progress)
    if action == "comma":
        return prepare.to_comma(path, progress=progress)
    if action == "strip_nul":
        return prepare.strip_nul(path, progress=progress)
    if action == "skip_rows":
        try:
            count = int((argument or "").strip())
        except ValueError:
            raise PrepareUsage(f"the number of lines to skip must be a whole number, not {argument!r}") from None
        return prepare.skip_rows(path, count, progress=progress)
    if action == "sheet":
        return prepare.export_sheet(path, argument or "", progress=progress)
    if action == "drop_columns":
        names = [name for name in (argument or "").split(",") if name.strip()]
        return prepare.drop_columns(path, names, progress=progress)
    if action == "name":
        return prepare.copy_as(path, (argument or "").strip(), progress=progress)
    raise PrepareUsage(f"unknown fix {action!r}")


def relative(root: Path, path: Path) -> str:
    """``path`` relative to ``root``, with ``/`` separators (as the inventory names files)."""
    return Path(os.path.abspath(path)).relative_to(Path(os.path.abspath(root))).as_posix()
