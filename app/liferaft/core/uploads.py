"""The upload plan: which files a new chat gets, in what order, and whether each will go through.

The plan starts from the SOURCE files. An original that a fixer prepared (split, re-encoded, a sheet
exported, renamed...) is replaced by the files made from it, as the project state remembers them
(:class:`liferaft.core.state.PreparedFrom`), unless those files are gone or the original changed since.
Prepared files are followed in turn (a re-encoded copy that was then split uploads as its parts). Every
file in the plan carries its pre-flight verdict (:mod:`liferaft.core.preflight`); :func:`check_project`
checks a whole project as it will be uploaded.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from liferaft.core import tokens as token_count
from liferaft.core.preflight import (
    BLOCK,
    OK,
    WARN,
    CheckReport,
    FileCheck,
    Problem,
    check_file,
    default_limits,
    incomplete_split,
    set_problems,
)
from liferaft.core.roles import Role
from liferaft.core.scan import FileRecord, Inventory
from liferaft.core.state import PreparedFrom
from liferaft.core.vendor import UploadLimits


@dataclass(frozen=True, slots=True)
class UploadItem:
    record: FileRecord
    """The file to upload."""
    check: FileCheck | None
    """Its pre-flight check (None when the plan was made without checking)."""
    original: str | None = None
    """When this file stands in for an original that was prepared, the original's path."""


@dataclass(slots=True)
class UploadPlan:
    items: list[UploadItem] = field(default_factory=list)
    """What to upload, in order: smallest originals first, a prepared original's files in their order."""
    checks: dict[str, FileCheck] = field(default_factory=dict)
    """The check of every SOURCE file, by relative path (prepared files included)."""
    replaced: dict[str, list[str]] = field(default_factory=dict)
    """Originals uploaded as prepared files instead: original path → the files used."""
    stale: dict[str, str] = field(default_factory=dict)
    """Originals whose prepared files cannot be used: path → why (uploaded as they are)."""
    left_out: dict[str, str] = field(default_factory=dict)
    """Prepared files that are not uploaded: steps on the way to others, older copies, copies of a changed
    original. Path → why."""
    problems: tuple[Problem, ...] = ()
    """About the whole set (more files than one upload window takes)."""
    incomplete: dict[str, str] = field(default_factory=dict)
    """Parts of a split that never finished, or that no longer match the list of parts it wrote: never
    uploaded (they would pass for the whole table). Path → why."""

    @property
    def verdicts(self) -> dict[str, int]:
        counts = {OK: 0, WARN: 0, BLOCK: 0}
        for item in self.items:
            if item.check is not None:
                counts[item.check.verdict] += 1
        return counts

    @property
    def total_size(self) -> int:
        return sum(item.record.size for item in self.items)

    def check_of(self, path: str) -> FileCheck | None:
        return self.checks.get(path)


def _usable(prepared: PreparedFrom, original: FileRecord, by_path: Mapping[str, FileRecord],
            incomplete: Mapping[str, str]) -> str | None:
    """Why the prepared files cannot stand in for ``original``, or None when they can."""
    missing = [path for path in prepared.files if path not in by_path]
    if not prepared.files:
        return "no files were prepared"
    if missing:
        return f"{missing[0].rpartition('/')[2]} is gone from prepared/"
    for path in prepared.files:
        why = incomplete.get(path)
        if why is not None:
            return f"its parts are not the set the split wrote ({why}): run the split again"
    if original.size != prepared.source_size or abs(original.mtime - prepared.source_mtime) > 1e-3:
        return "it changed after it was prepared: prepare it again"
    return None


def _find_incomplete(plan: UploadPlan, inventory: Inventory, sources: list[FileRecord]) -> None:
    """Fill ``plan.incomplete``: the parts of a split (``prepared/NAME.partN.csv``) that are not a complete set
    (killed on the way, or a part missing, extra or changed since), every part of such a set included."""
    sets: dict[object, list[FileRecord]] = {}
    for record in sources:
        folder, _, name = record.path.rpartition("/")
        if folder.rpartition("/")[2] != "prepared" or ".part" not in name.lower():
            continue  # the common case, without importing the fixers
        from liferaft.core.prepare import looks_like_part, manifest_path, split_part_problem

        part = inventory.root / record.path
        if not looks_like_part(part):
            continue
        sets.setdefault(manifest_path(part), []).append(record)
        why = split_part_problem(part, record.size)
        if why is not None:
            plan.incomplete[record.path] = why
    for members in sets.values():
        reasons = [plan.incomplete[record.path] for record in members if record.path in plan.incomplete]
        for record in members if reasons else ():
            plan.incomplete.setdefault(record.path, reasons[0])
    if plan.checks and plan.incomplete:
        for path, why in plan.incomplete.items():
            check = plan.checks.get(path)
            if check is not None and "incomplete_split" not in {problem.code for problem in check.problems}:
                plan.checks[path] = replace(check, problems=(*check.problems, incomplete_split(
                    inventory.root / path, check.path, why)))


def plan_uploads(inventory: Inventory, prepared: Mapping[str, PreparedFrom] | None = None, *,
                 limits: UploadLimits | None = None, check: bool = True,
                 cancelled: Callable[[], bool] | None = None) -> UploadPlan:
    """The upload plan for ``inventory``. With ``check`` every SOURCE file is pre-flight checked (this reads
    inside tables: run it off the UI thread); ``cancelled`` is asked between files and stops the work early."""
    limits = limits or default_limits()
    sources = inventory.by_role()[Role.SOURCE]
    plan = UploadPlan()
    if check and not _check_sources(plan, inventory, sources, limits, cancelled):
        return plan
    _find_incomplete(plan, inventory, sources)
    walk = _Walk(plan, prepared or {}, {record.path: record for record in inventory.files})
    tops = _top_level(walk, sources)
    _add_items(plan, tops, walk.by_path)
    if check:
        plan.problems = set_problems([item.check for item in plan.items if item.check is not None], limits)
    return plan


def _check_sources(plan: UploadPlan, inventory: Inventory, sources: list[FileRecord], limits: UploadLimits,
                   cancelled: Callable[[], bool] | None) -> bool:
    """Pre-flight check every SOURCE file into ``plan.checks``; False when ``cancelled`` stopped it early."""
    budget = token_count.Budget()  # exact token counts share one time budget, as in `liferaft check`
    for record in sources:
        if cancelled is not None and cancelled():
            return False
        plan.checks[record.path] = check_file(inventory.root / record.path, record.display_path, record.kind,
                                              limits=limits, flags=record.flags, budget=budget)
    return True


@dataclass(slots=True)
class _Walk:
    """Following prepared files from their originals: what each original uploads as."""

    plan: UploadPlan
    prepared: Mapping[str, PreparedFrom]
    by_path: dict[str, FileRecord]
    made_from: dict[str, str] = field(default_factory=dict)
    """Which original each prepared file was made from."""
    older: dict[str, str] = field(default_factory=dict)
    """Superseded prepared copies → their original."""
    reached: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        # (A hand-edited state may hold loops: never follow one.)
        for original, entry in self.prepared.items():
            if original not in self.by_path:
                continue
            for path in entry.files:
                if path != original:
                    self.made_from.setdefault(path, original)
            for path in entry.superseded:
                if path != original:
                    self.older.setdefault(path, original)

    def name_of(self, path: str) -> str:
        return self.by_path[path].name if path in self.by_path else path.rpartition("/")[2]

    def expand(self, path: str, seen: frozenset[str]) -> list[str]:
        """The files ``path`` uploads as: itself, or (recursively) the usable files prepared from it."""
        self.reached.add(path)
        entry = self.prepared.get(path)
        if entry is None or path in seen:
            return [path]
        children = [child for child in entry.files if child != path]
        why = _usable(entry, self.by_path[path], self.by_path, self.plan.incomplete)
        if why is not None:
            self._stale(path, children, why)
            return [path]
        files: list[str] = []
        for child in children:
            if child in seen:
                continue
            files += self.expand(child, seen | {path})
        for child in children:
            if child not in files and child in self.by_path:
                self.plan.left_out.setdefault(child, f"a step on the way from {self.name_of(path)}: the copies "
                                              "made from it are uploaded instead")
        return files

    def _stale(self, path: str, children: list[str], why: str) -> None:
        """``path`` uploads as it is: its prepared files are left out."""
        self.plan.stale[path] = why
        for child in children:
            if child in self.by_path:
                self.reached.add(child)
                self.plan.left_out.setdefault(child, f"made from {self.name_of(path)}, uploaded as it is instead: "
                                              f"{why}")


def _top_level(walk: _Walk, sources: list[FileRecord]) -> list[tuple[FileRecord, list[str]]]:
    """Each SOURCE file that is not itself a prepared copy, with the files it uploads as; smallest first."""
    tops: list[tuple[FileRecord, list[str]]] = []
    for record in sorted(sources, key=lambda record: (record.size, record.path)):
        if record.path not in walk.made_from and record.path not in walk.older:
            tops.append((record, walk.expand(record.path, frozenset())))
    for record in sources:  # in a loop or made from a file that is not uploaded: listed as it is
        if record.path not in walk.reached and record.path not in walk.older:
            tops.append((record, [record.path]))
    for path, original in walk.older.items():
        if path in walk.by_path and path not in walk.reached:
            walk.plan.left_out.setdefault(path, f"an older prepared copy of {walk.name_of(original)}: a newer one "
                                          "is used")
    tops.sort(key=lambda top: (top[0].size, top[0].path))
    return tops


def _add_items(plan: UploadPlan, tops: list[tuple[FileRecord, list[str]]], by_path: Mapping[str, FileRecord]) -> None:
    """The plan's items, in order, leaving out parts of an incomplete split."""
    for record, files in tops:
        files = [path for path in files if path not in plan.incomplete]
        if not files:
            continue
        if files != [record.path]:
            plan.replaced[record.path] = files
        for path in files:
            original = record.path if path != record.path else None
            plan.items.append(UploadItem(by_path[path], plan.checks.get(path), original))


def check_project(root: Path, *, limits: UploadLimits | None = None) -> CheckReport:
    """Check every file whose role is SOURCE, and every odd SOURCE entry the scan could not list."""
    from liferaft.core.project import open_project

    limits = limits or default_limits()
    budget = token_count.Budget()
    project = open_project(root)
    inventory = project.inventory
    checks: list[FileCheck] = []
    listed = set()
    for record in inventory.files:
        listed.add(record.path)
        if record.role is not Role.SOURCE:
            continue
        checks.append(check_file(project.root / record.path, record.display_path, record.kind, limits=limits,
                                 flags=record.flags, budget=budget))
    for note in inventory.notes:
        folder, slash, _ = note.path.partition("/")
        if not slash or inventory.role_folders.get(folder) is not Role.SOURCE or note.path in listed:
            continue
        checks.append(FileCheck(note.to_json()["path"], "other", 0, None, False, (Problem(
            "unreadable", f"cannot read: {note.message}", "put a regular file in its place, or remove the entry",
            BLOCK),)))
    checks.sort(key=lambda check: check.path)
    files = tuple(checks)
    shown = {record.path: record.display_path for record in inventory.files}
    plan = plan_uploads(inventory, project.state.prepared, limits=limits, check=False)
    if plan.incomplete:  # a part whose own check passed, in a set another part of which does not match
        by_shown = {shown[path]: path for path in plan.incomplete}
        files = tuple(check if check.path not in by_shown or "incomplete_split" in {p.code for p in check.problems}
                      else replace(check, problems=(*check.problems, incomplete_split(
                          project.root / by_shown[check.path], check.path, plan.incomplete[by_shown[check.path]])))
                      for check in files)
    replaced = {shown[original]: tuple(shown[path] for path in made) for original, made in plan.replaced.items()}
    left_out = {shown[path]: why for path, why in plan.left_out.items()}
    stale = {shown[path]: why for path, why in plan.stale.items()}
    report = CheckReport(files, (), limits, replaced, left_out, stale)
    return replace(report, problems=set_problems(report.uploaded, limits))
