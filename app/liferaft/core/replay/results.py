"""What a replay made, set against what the chat said it made: the expected outputs, each regenerated file compared
with the copy saved in OUTPUT, and accepting the ones OUTPUT lacks.

A replay writes into ``OUTPUT/replayed/<YYYY-MM-DD_HHMMSS>/``, each file at the path the script gave it within
``/mnt/data``. The expected outputs are the ones `liferaft status` knows (:func:`liferaft.core.risk.generated_outputs`:
the restart note's *Generated outputs* and the files an imported chat export generated), matched with OUTPUT's files
the way status matches them (:func:`liferaft.core.compose_context.output_key`). Files under ``OUTPUT/replayed/`` are
never the user's outputs (:func:`liferaft.core.summary.user_outputs`) until :func:`accept` moves them in.

Comparisons reuse the verification targets (:mod:`liferaft.core.verify`: a table streamed in slices, its rows,
column names and numeric column sums; a workbook's sheets and their shapes; an image's size from its header), so the
work is bounded whatever the size and a broken file is a sentence, never a traceback. Accepting never overwrites and
never touches a file already in OUTPUT.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import stat
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from liferaft.core import storage
from liferaft.core.compose_context import output_key
from liferaft.core.names import match_key
from liferaft.core.scan import Inventory
from liferaft.core.summary import REPLAYED_DIR

#: What a replay folder holds of Liferaft's own, at its top: the notebook run, its record, the record's lock.
OWN_FILES = frozenset({"replay.ipynb", "replay.json", "replay.lock", "replay.lock.held"})
#: The replay's record, where :func:`accept` adds what was accepted.
RECORD_NAME = "replay.json"
#: The folder of the figures cells showed (``figures/cell-<n>-<k>.png``): the replay's own, no outputs.
FIGURES_DIR = "figures"
_CELL_FIGURE = re.compile(r"cell-\d+-\d+\.png", re.IGNORECASE)
#: A replay folder's name: the time it started, ``YYYY-MM-DD_HHMMSS`` (a ``-2``... when two started in one second).
STAMP = re.compile(r"\d{4}-\d{2}-\d{2}_\d{6}(?:-\d+)?")
#: Sums closer than this (relative) are the same sum.
REL_TOLERANCE = 1e-9
#: Column sums named one by one in a detail; the rest are counted.
SUMS_SHOWN = 4
#: Bytes compared per read, for files compared byte for byte.
CHUNK = 1 << 20

Verdict = Literal["matches", "differs", "not compared"]


class ReplayError(OSError):
    """A replay folder that cannot be used; the message is one line."""


@dataclass(frozen=True, slots=True)
class Expected:
    """An output the restart note or an imported chat export says the chat generated."""

    name: str
    """Its file name (URL-decoded)."""
    path: str
    """Its path relative to OUTPUT (``/`` separators): where the replay writes it, under ``replayed/<stamp>/``,
    and where :func:`accept` puts it. The path within ``/mnt/data`` a chat export gives, or the note's name."""
    sources: tuple[str, ...]
    """Where it is named: ``restart note``, ``chat export: <title>``."""
    saved: str | None = None
    """The copy in OUTPUT (relative to the project), matched by name as `liferaft status` does; None: missing."""


@dataclass(frozen=True, slots=True)
class Comparison:
    """A regenerated file against its saved copy."""

    verdict: Verdict
    detail: str
    """One line: what matched, what differed (regenerated first, then saved), or why it was not compared."""


#: A row's status besides a comparison's verdict.
NEW = "new: can be accepted"
NOT_REGENERATED = "not regenerated"
EXTRA = "extra"


@dataclass(frozen=True, slots=True)
class ResultRow:
    """One line of a replay's results: an expected output, or another file the replay wrote."""

    name: str
    path: str
    """Relative to OUTPUT, and to the replay folder (``/`` separators): the expected path, or where the extra file
    was written."""
    status: str
    """``matches``, ``differs`` or ``not compared`` (regenerated, and a copy is in OUTPUT), ``new: can be
    accepted`` (regenerated, OUTPUT lacks it), ``not regenerated`` (expected, the replay did not write it) or
    ``extra`` (written, but named by neither the note nor an export)."""
    detail: str
    """One line saying why (the comparison's detail, for a compared file)."""
    expected: bool
    sources: tuple[str, ...] = ()
    regenerated: str | None = None
    """The file the replay wrote, relative to the replay folder; None when it wrote none."""
    saved: str | None = None
    """The copy in OUTPUT, relative to the project; None when there is none."""


@dataclass(frozen=True, slots=True)
class AcceptReport:
    """What :func:`accept` did."""

    accepted: tuple[str, ...] = ()
    """Moved into OUTPUT: their paths relative to the project."""
    kept: tuple[str, ...] = ()
    """Not moved, because OUTPUT has the file already (also when it appeared while accepting): relative to OUTPUT."""
    skipped: tuple[str, ...] = ()
    """Asked for by name, but not something the replay regenerated: the names as given."""
    problems: tuple[str, ...] = ()
    """One line each: a file that could not be moved, or a record that could not be updated."""
    recorded: bool = False
    """The replay's ``replay.json`` now lists what was accepted."""


# --- the project -------------------------------------------------------------------------------------------


def _inventory(project: Path) -> Inventory:
    from liferaft.core.project import open_project

    return open_project(Path(project)).inventory


def output_dir(project: Path, inventory: Inventory | None = None) -> Path:
    """The project's OUTPUT folder (as status and the move of a download find it), made or not."""
    from liferaft.core.replay.session import top_level_roles
    from liferaft.core.risk import output_folder

    root = Path(project)
    return output_folder(root, inventory if inventory is not None else top_level_roles(root))


def latest_replay(project: Path) -> Path | None:
    """The newest replay folder, ``OUTPUT/replayed/<stamp>/`` by its stamp; None when there is none."""
    folder = output_dir(project) / REPLAYED_DIR
    try:
        with os.scandir(folder) as entries:
            stamps = [entry.name for entry in entries
                      if STAMP.fullmatch(entry.name) and entry.is_dir(follow_symlinks=False)]
    except OSError:
        return None
    if not stamps:
        return None

    def order(name: str) -> tuple[str, int]:
        stamp, _, number = name[:17], name[17:18], name[18:]  # "YYYY-MM-DD_HHMMSS" then "-2"...
        return (stamp, int(number) if number.isdigit() else 1)

    return folder / max(stamps, key=order)


def _expected(project: Path, inventory: Inventory) -> list[Expected]:
    from liferaft.core.recover.record import linked_outputs
    from liferaft.core.restart_note import load_note
    from liferaft.core.risk import generated_outputs
    from liferaft.core.summary import user_outputs

    try:
        note, _record = load_note(project, inventory)
    except OSError:  # a note that cannot be used names nothing (status says why)
        note = None
    outputs = user_outputs(inventory)
    found: list[Expected] = []
    for item in generated_outputs(note, linked_outputs(project)):
        same = [record.path for record in outputs if output_key(record.name) == item.key]
        # the copy at the expected path, if that is one of them; else the first (status only asks "is there one")
        at_path = [path for path in same if match_key(path.partition("/")[2]) == match_key(item.path)]
        chosen = at_path or same
        saved = chosen[0] if chosen else None
        found.append(Expected(item.name, item.path, item.sources, saved))
    return found


def expected_outputs(project: Path) -> list[Expected]:
    """Every output the restart note or an imported chat export says was generated, in the order status lists
    them, each with the copy OUTPUT holds (None: the output `liferaft status` lists as missing). Raises
    :class:`liferaft.core.project.ProjectError` for a folder that cannot be opened."""
    root = Path(project)
    return _expected(root, _inventory(root))


# --- the replay folder ---------------------------------------------------------------------------------------


def _own(relative: str) -> bool:
    """A file a replay folder holds of Liferaft's own (the notebook, the record, cell figures, hidden files)."""
    parts = relative.split("/")
    if any(part.startswith(".") for part in parts):
        return True
    if len(parts) == 1:
        return parts[0] in OWN_FILES
    return len(parts) == 2 and parts[0] == FIGURES_DIR and bool(_CELL_FIGURE.fullmatch(parts[1]))


def written_files(replay_dir: Path) -> list[str]:
    """The files a replay wrote (relative to ``replay_dir``, ``/`` separators, sorted), leaving out Liferaft's own
    (:func:`_own`); links and other special files are not followed nor listed. Raises :class:`ReplayError`."""
    folder = Path(replay_dir)
    if not folder.is_dir():
        raise ReplayError(f"no replay folder at {folder}")
    found: list[str] = []
    pending = [(folder, "")]
    while pending:
        here, prefix = pending.pop()
        try:
            with os.scandir(here) as it:
                entries = list(it)
        except OSError as exc:
            if here == folder:
                raise ReplayError(f"cannot read the replay folder {folder}: {exc.strerror or exc}") from None
            continue
        for entry in entries:
            relative = prefix + entry.name
            try:
                if entry.is_dir(follow_symlinks=False):
                    if not entry.name.startswith("."):
                        pending.append((Path(entry.path), relative + "/"))
                elif entry.is_file(follow_symlinks=False) and not _own(relative):
                    found.append(relative)
            except OSError:
                continue
    return sorted(found)


def _pair(expected: list[Expected], written: list[str]) -> tuple[list[tuple[Expected, str | None]], list[str]]:
    """Each expected output with the file the replay wrote for it (by its path, else by its name alone, as status
    matches names), and the files left over."""
    left = list(written)
    pairs: list[tuple[Expected, str | None]] = []
    for item in expected:
        wanted = match_key(item.path)
        found = next((path for path in left if match_key(path) == wanted), None)
        if found is None:
            key = output_key(item.name)
            by_name = [path for path in left if output_key(path.rpartition("/")[2]) == key]
            found = by_name[0] if len(by_name) == 1 else None
        if found is not None:
            left.remove(found)
        pairs.append((item, found))
    return pairs, left


# --- comparing ------------------------------------------------------------------------------------------------


def _why(error: str) -> str:
    return error.removeprefix("could not compute: ")


def _not_read(path: Path, why: str) -> Comparison:
    return Comparison("not compared", f"not compared: could not read {path.name}: {why}")


def _number(text: str) -> float | None:
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return None


def _same_sum(first: str, second: str) -> bool:
    if first == second:
        return True
    a, b = _number(first), _number(second)
    if a is None or b is None:
        return False
    if math.isnan(a) and math.isnan(b):
        return True
    return math.isclose(a, b, rel_tol=REL_TOLERANCE, abs_tol=0.0)


def _rows(count: int | None) -> str:
    return "?" if count is None else f"{count:,} {'row' if count == 1 else 'rows'}"


def _compare_tables(new: Any, old: Any) -> Comparison:
    differences: list[str] = []
    if new.rows != old.rows:
        differences.append(f"{_rows(new.rows)} vs {old.rows:,}" if old.rows is not None else _rows(new.rows))
    if new.names != old.names:
        added = [name for name in new.names if name not in old.names]
        lost = [name for name in old.names if name not in new.names]
        if added or lost:
            parts = ([f"new column{'s' if len(added) > 1 else ''} " + ", ".join(added[:SUMS_SHOWN])] if added else []) \
                + ([f"no column{'s' if len(lost) > 1 else ''} " + ", ".join(lost[:SUMS_SHOWN])] if lost else [])
            differences.append("; ".join(parts))
        else:
            differences.append("the same columns in another order")
    partial = new.summed_rows is not None or old.summed_rows is not None
    sums_note = ""
    if partial and new.summed_rows != old.summed_rows:
        sums_note = "sums not compared (too big to sum in time)"
    else:
        theirs = dict(old.sums)
        unequal = [(name, total, theirs[name]) for name, total in new.sums
                   if name in theirs and not _same_sum(total, theirs[name])]
        for name, total, saved in unequal[:SUMS_SHOWN]:
            differences.append(f"column {name} sums {total} vs {saved}")
        if len(unequal) > SUMS_SHOWN:
            differences.append(f"and {len(unequal) - SUMS_SHOWN} more column sums")
        if partial:
            sums_note = f"sums of the first {new.summed_rows:,} rows only"
    if differences:
        return Comparison("differs", "differs: " + "; ".join(differences + ([sums_note] if sums_note else [])))
    shape = f"{_rows(new.rows)} × {new.columns:,} {'column' if new.columns == 1 else 'columns'}"
    summed = "no numeric columns" if not new.sums else f"the same sums of {len(new.sums)} numeric " \
        f"column{'s' if len(new.sums) > 1 else ''}"
    return Comparison("matches", f"same shape ({shape}), same columns, {summed}" + (f"; {sums_note}" if sums_note
                                                                                    else ""))


def _compare_workbooks(new: Any, old: Any) -> Comparison:
    new_names = [name for name, _r, _c in new.sheets]
    old_names = [name for name, _r, _c in old.sheets]
    differences: list[str] = []
    if new_names != old_names:
        differences.append("sheets " + ", ".join(new_names) + " vs " + ", ".join(old_names))
    theirs = {name: (rows, columns) for name, rows, columns in old.sheets}
    for name, rows, columns in new.sheets:
        if name in theirs and theirs[name] != (rows, columns):
            saved_rows, saved_columns = theirs[name]
            differences.append(f"sheet {name} {rows:,} × {columns:,} vs {saved_rows:,} × {saved_columns:,}")
    if differences:
        return Comparison("differs", "differs: " + "; ".join(differences[:SUMS_SHOWN + 1]))
    return Comparison("matches", f"same sheets ({len(new_names)}), each the same size; cells not compared")


def _same_bytes(first: Path, second: Path) -> bool:
    with open(first, "rb") as one, open(second, "rb") as other:
        while True:
            a, b = one.read(CHUNK), other.read(CHUNK)
            if a != b:
                return False
            if not a:
                return True


def compare(regenerated: Path, saved: Path) -> Comparison:
    """``regenerated`` against ``saved`` (a detail names the regenerated file's facts first):

    - CSV/TSV: rows, column names, and each numeric column's sum (within :data:`REL_TOLERANCE`), the tables read
      as streams the way verification targets are (a big table's sums are those of its first rows, and the
      detail says so);
    - workbook: sheet names and each sheet's size; Parquet: rows and columns;
    - image: the size in pixels from its header ("same size, pixels not compared");
    - anything else: byte for byte.

    Never raises: a file that cannot be read is ``not compared: could not read NAME: why``."""
    from liferaft.core import verify
    from liferaft.core.roles import kind_from_name

    regenerated, saved = Path(regenerated), Path(saved)
    sizes: list[int] = []
    for path in (regenerated, saved):
        try:
            st = os.stat(path)
        except OSError as exc:
            return _not_read(path, exc.strerror or str(exc))
        if not stat.S_ISREG(st.st_mode):
            return _not_read(path, "it is not a regular file")
        sizes.append(st.st_size)
    kind = kind_from_name(saved.name) or kind_from_name(regenerated.name) or "other"
    if verify.supported(kind):
        new = verify.compute(regenerated, kind)
        old = verify.cached(saved, kind) or verify.compute(saved, kind)
        for path, targets in ((regenerated, new), (saved, old)):
            if targets.error:
                return _not_read(path, _why(targets.error))
        if new.kind == "table":
            return _compare_tables(new, old)
        if new.kind == "workbook":
            return _compare_workbooks(new, old)
        if new.kind == "image":
            if new.pixels == old.pixels:
                return Comparison("matches", f"same size ({new.pixels}), pixels not compared")
            return Comparison("differs", f"differs: {new.pixels} vs {old.pixels}")
        if new.kind == "parquet":
            if (new.rows, new.columns) == (old.rows, old.columns):
                return Comparison("matches", f"same shape ({_rows(new.rows)} × {new.columns:,} columns), "
                                             "values not compared")
            return Comparison("differs", f"differs: {_rows(new.rows)} × {new.columns:,} vs "
                                         f"{_rows(old.rows)} × {old.columns:,}")
    if sizes[0] != sizes[1]:
        return Comparison("differs", f"differs: {sizes[0]:,} bytes vs {sizes[1]:,}")
    try:
        same = _same_bytes(regenerated, saved)
    except OSError as exc:
        return Comparison("not compared", f"not compared: could not read both files: {exc.strerror or exc}")
    if same:
        return Comparison("matches", f"byte-identical ({sizes[0]:,} bytes)")
    return Comparison("differs", f"differs: the same size ({sizes[0]:,} bytes), other bytes")


# --- the results table ------------------------------------------------------------------------------------------


def results_table(project: Path, replay_dir: Path) -> list[ResultRow]:
    """One row per expected output (in status's order), compared with OUTPUT's copy when the replay regenerated it,
    then one per other file the replay wrote (``extra``). Raises :class:`ReplayError` for a replay folder that
    cannot be read, :class:`liferaft.core.project.ProjectError` for a project that cannot be opened."""
    root = Path(project)
    replay = Path(replay_dir)
    written = written_files(replay)
    inventory = _inventory(root)
    pairs, extra = _pair(_expected(root, inventory), written)
    rows: list[ResultRow] = []
    for item, made in pairs:
        if made is None:
            detail = f"the replay did not write {item.path}" + ("" if item.saved else "; OUTPUT lacks it too")
            rows.append(ResultRow(item.name, item.path, NOT_REGENERATED, detail, True, item.sources, None,
                                  item.saved))
        elif item.saved is None:
            rows.append(ResultRow(item.name, item.path, NEW, "OUTPUT lacks it: accepting moves it in", True,
                                  item.sources, made, None))
        else:
            result = compare(replay / made, root / item.saved)
            rows.append(ResultRow(item.name, item.path, result.verdict, result.detail, True, item.sources, made,
                                  item.saved))
    for path in extra:
        rows.append(ResultRow(path.rpartition("/")[2], path, EXTRA, "named neither in the restart note nor in a chat "
                              "export", False, (), path, None))
    return rows


# --- accepting --------------------------------------------------------------------------------------------------


class _Taken(Exception):
    """The target name exists: nothing was moved."""


def _move_no_replace(source: Path, target: Path) -> None:
    """Move ``source`` to ``target``, never over an existing file: a hard link then the source unlinked (the link
    fails if the name exists), or where links are refused, the name taken first by an exclusive create and then
    the source renamed over that empty placeholder (so a file appearing meanwhile finds the name taken). Raises
    :class:`_Taken`, or OSError (:class:`storage.PathTooLong` before anything is made, on Windows without long
    paths)."""
    storage.check_path_length(target, temp_in_folder=False)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target, follow_symlinks=False)
    except FileExistsError:
        raise _Taken from None
    except OSError:  # no hard links here (another filesystem; FAT, exFAT or a share: EINVAL and others)
        pass
    else:
        storage.fsync_dir(target.parent)
        os.unlink(source)
        storage.fsync_dir(source.parent)
        return
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o644)
    except FileExistsError:
        raise _Taken from None
    placeholder = os.fstat(fd)
    os.close(fd)
    try:
        storage.replace_file(source, target)  # over our own empty placeholder only
    except BaseException:
        with contextlib.suppress(OSError):
            now = os.lstat(target)
            if (now.st_dev, now.st_ino, now.st_size) == (placeholder.st_dev, placeholder.st_ino, 0):
                os.unlink(target)
        raise
    storage.fsync_dir(target.parent)
    storage.fsync_dir(source.parent)


def _wanted(names: Iterable[str] | None) -> set[str] | None:
    return None if names is None else {match_key(name.strip().replace("\\", "/")) for name in names}


def accept(project: Path, replay_dir: Path, names: Iterable[str] | None = None) -> AcceptReport:
    """Move the regenerated outputs OUTPUT lacks into it, each at its path (its folders made): every expected
    output the replay wrote that `liferaft status` lists as missing; with ``names`` (names or paths relative to
    OUTPUT, matched ignoring case) only those, and an extra file named there is moved in too.

    Never over a file: one already in OUTPUT (by name, as status matches, or at that path) is ``kept``, and so is
    one that appears between the check and the move. Nothing in OUTPUT is touched. What was moved is added to the
    replay's ``replay.json`` (an ``accepted`` list) when that is there and readable. Raises :class:`ReplayError`
    for a replay folder that cannot be read."""
    root = Path(project)
    replay = Path(replay_dir)
    written = written_files(replay)
    inventory = _inventory(root)
    output = output_dir(root, inventory)
    pairs, extra = _pair(_expected(root, inventory), written)
    wanted = _wanted(names)
    candidates: list[tuple[str, str | None, str]] = []  # (path in OUTPUT, saved copy, regenerated)
    used: set[str] = set()

    def asked(*keys: str) -> bool:
        hit = [key for key in keys if key in (wanted or set())]
        used.update(hit)
        return wanted is None or bool(hit)

    for item, made in pairs:
        if made is not None and asked(match_key(item.name), match_key(item.path), match_key(made)):
            candidates.append((item.path, item.saved, made))
    if wanted is not None:
        from liferaft.core.summary import user_outputs

        present = {output_key(record.name) for record in user_outputs(inventory)}
        for path in extra:
            if asked(match_key(path), match_key(path.rpartition("/")[2])):
                candidates.append((path, path if output_key(path.rpartition("/")[2]) in present else None, path))
    skipped = tuple(name for name in (names or ()) if match_key(name.strip().replace("\\", "/")) not in used)
    accepted: list[str] = []
    kept: list[str] = []
    problems: list[str] = []
    for path, saved, made in candidates:
        if saved is not None:
            kept.append(path)
            continue
        source = replay / made
        target = output / path
        try:
            if not stat.S_ISREG(os.lstat(source).st_mode):
                problems.append(f"{made} is not a regular file: not moved")
                continue
            _move_no_replace(source, target)
        except _Taken:
            kept.append(path)
            continue
        except OSError as exc:
            problems.append(f"cannot move {made} into {output.name}/{path}: {exc.strerror or exc}")
            continue
        accepted.append(target.relative_to(root).as_posix())
    recorded = False
    if accepted:
        recorded, problem = _record(replay, accepted)
        if problem:
            problems.append(problem)
    return AcceptReport(tuple(accepted), tuple(kept), skipped, tuple(problems), recorded)


def _record(replay: Path, accepted: list[str]) -> tuple[bool, str]:
    """Add ``accepted`` to the replay's record; a record that is missing or not a JSON object is left alone."""
    path = replay / RECORD_NAME
    if not path.is_file():
        return False, ""
    try:
        with storage.locked(path):  # read again under the lock: another accept may be saving
            try:
                raw = storage.read_small_file(path)
                data = json.loads(raw.decode("utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError):
                return False, ""
            if not isinstance(data, dict):
                return False, ""
            listed = data.get("accepted")
            entries = listed if isinstance(listed, list) else []
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z")
            entries.extend({"path": item, "at": stamp} for item in accepted)
            data["accepted"] = entries
            storage.write_text(path, json.dumps(data, indent=2, ensure_ascii=True) + "\n")
    except OSError as exc:
        return False, f"moved, but could not note it in {RECORD_NAME}: {exc.strerror or exc}"
    return True, ""


__all__ = ["EXTRA", "NEW", "NOT_REGENERATED", "AcceptReport", "Comparison", "Expected", "ReplayError", "ResultRow",
           "accept", "compare", "expected_outputs", "latest_replay", "output_dir", "results_table", "written_files"]
