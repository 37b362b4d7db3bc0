"""Exporting one sheet of a workbook as UTF-8 CSV, values shown as the preview shows them.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from liferaft.core.prepare_common import (
    Prepared,
    PrepareError,
    PrepareUsage,
    Progress,
    Written,
    _check_destination,
    _check_source,
    _clean_stem,
    _new_file,
    _tidy,
    free_name,
    prepared_folder,
)


def _slug(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", value).strip("_").lower()[:40] or "sheet"


def _cell(cell: Any) -> str:
    from liferaft.core.inspect.workbook import cell_text

    value = getattr(cell, "value", None)
    if isinstance(value, str):
        return value  # in full: the preview cuts long cells, an export must not
    return cell_text(cell)[0]


def sheet_names(path: Path) -> tuple[str, ...]:
    with _open_workbook(Path(path)) as workbook:
        return tuple(str(name) for name in workbook.sheetnames)


@contextlib.contextmanager
def _open_workbook(path: Path) -> Iterator[Any]:
    import warnings
    import zipfile

    from liferaft.core.inspect.workbook import _open_read_only, check_archive

    _check_source(path)
    with open(path, "rb") as handle:
        if not handle.read(4).startswith(b"PK"):
            raise PrepareError(f"{path.name} is not an .xlsx workbook (it is not a zip archive)")
        handle.seek(0)
        try:
            with zipfile.ZipFile(handle) as archive:
                refusal = check_archive(archive, path.name)
        except (zipfile.BadZipFile, EOFError, ValueError):
            raise PrepareError(f"{path.name} is damaged or cut short (its zip directory is missing)") from None
        if refusal:
            raise PrepareError(refusal)
        handle.seek(0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                workbook = _open_read_only(handle)
            except Exception as exc:
                raise PrepareError(f"cannot read {path.name}: {str(exc).strip().splitlines()[0:1]}") from None
            try:
                yield workbook
            finally:
                workbook.close()


def export_sheet(path: Path, sheet: str, *, progress: Progress | None = None) -> Prepared:
    """Write the sheet ``sheet`` of the workbook ``path`` as a UTF-8 CSV with commas."""
    path = Path(path)
    _check_destination(path)
    with _open_workbook(path) as workbook:
        names = [str(name) for name in workbook.sheetnames]
        if sheet not in names:
            raise PrepareUsage(f"no sheet {sheet!r} in {path.name}; its sheets are: "
                               + ", ".join(repr(name) for name in names))
        ws = workbook[sheet]
        if not hasattr(ws, "iter_rows"):
            raise PrepareError(f"{sheet} is a chart sheet: it holds a chart, not cells")
        declared = getattr(ws, "declared", None)
        ws.reset_dimensions()
        # First pass: which columns hold a value, so that a stray cell far right (XFD1) does not make every
        # row 16,384 cells wide. Second pass: write those.
        counted, keep, dropped = _used_columns(ws, declared[3] if declared else 0, progress, sheet, path.name)
        if not keep:
            raise PrepareError(f"sheet {sheet!r} of {path.name} is empty: there is nothing to export")
        stem = _clean_stem(path.name[: -len(path.suffix)] if path.suffix else path.name)
        target = free_name(prepared_folder(path), stem, f".{_slug(sheet)}.csv")
        rows = 0
        header = False
        blank_run = 0
        blank = [""] * len(keep)
        with _tidy(target.parent), _new_file(target) as out:
            text_out = io.TextIOWrapper(out, encoding="utf-8", newline="")
            writer = csv.writer(text_out, lineterminator="\n")
            try:
                for number, row in enumerate(ws.iter_rows(), start=1):
                    width = len(row)
                    cells = [_cell(row[index]) if index < width else "" for index in keep]
                    if cells == blank:
                        blank_run += header  # blank rows above the header and at the end are left out
                        continue
                    if header:
                        for _ in range(blank_run):
                            writer.writerow(blank)
                        rows += blank_run
                        rows += 1
                    header = True
                    blank_run = 0
                    writer.writerow(cells)
                    if progress is not None and number % 1000 == 0:
                        progress(counted + min(number, counted), 2 * counted)
            except Exception as exc:
                raise PrepareError(f"cannot read sheet {sheet!r} of {path.name}: {exc}") from None
            if progress is not None:  # before the copy is put in place: a cancel here still leaves nothing
                progress(2 * counted, 2 * counted)
            text_out.flush()
            text_out.detach()
    notes: tuple[str, ...] = ()
    if dropped:
        from openpyxl.utils import get_column_letter

        far = ", ".join(get_column_letter(index + 1) for index in keep if index > dropped[0][0])
        left = sum(last - first + 1 for first, last in dropped)
        notes = (f"{left:,} empty column(s) left out (a value far to the right, in {far}, was kept next to the "
                 "data): check that it belongs there",)
    return Prepared((Written(target, os.path.getsize(target), rows),), notes)


#: Empty columns in a row (no value in any row of the sheet) up to this many are kept between used ones; a wider
#: gap is left out of an export, with a note.
SHEET_GAP = 64


def _used_columns(ws: Any, declared_rows: int, progress: Progress | None, sheet: str,
                  name: str) -> tuple[int, list[int], list[tuple[int, int]]]:
    """(rows read, the column offsets to export, the runs of empty columns left out) of the read-only sheet
    ``ws``: every column up to the last that holds a value, except runs of more than :data:`SHEET_GAP` columns
    with no value at all (the empty tail is never kept)."""
    used: set[int] = set()
    number = 0
    try:
        for number, row in enumerate(ws.iter_rows(values_only=True), start=1):
            used.update(index for index, value in enumerate(row) if value is not None and value != "")
            if progress is not None and number % 1000 == 0:
                total = max(declared_rows, number)
                progress(number, 2 * total)
    except Exception as exc:
        raise PrepareError(f"cannot read sheet {sheet!r} of {name}: {exc}") from None
    keep: list[int] = []
    dropped: list[tuple[int, int]] = []
    previous = -1
    for index in sorted(used):
        if index - previous - 1 > SHEET_GAP and keep:
            dropped.append((previous + 1, index - 1))
        else:
            keep.extend(range(previous + 1, index))
        keep.append(index)
        previous = index
    return number, keep, dropped
