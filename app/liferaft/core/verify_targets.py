"""What a file's verification finds (:class:`Targets`), and the targets of workbooks, images and Parquet files,
read from their previews' facts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

#: Numeric columns named one by one; the rest are counted.
SUMS_LISTED = 12


@dataclass(frozen=True, slots=True)
class Targets:
    """What a regenerated copy should match. Only the parts for the file's kind are set."""

    kind: str
    """"table", "workbook", "image", "parquet" or "other"."""
    rows: int | None = None
    columns: int | None = None
    names: tuple[str, ...] = ()
    """A table's column names, in order."""
    sums: tuple[tuple[str, str], ...] = ()
    """(column, its sum as text) for each numeric column, in order."""
    unsummed: tuple[str, ...] = ()
    """Why a column that looked numeric has no sum ("score: a value 'n/a ' is not a number")."""
    sheets: tuple[tuple[str, int, int], ...] = ()
    """A workbook's (sheet, rows, columns)."""
    pixels: str = ""
    """An image's size: "1,200 × 800 px" (an SVG's as its root element says)."""
    notes: tuple[str, ...] = ()
    summed_rows: int | None = None
    """Set when the sums are those of the first rows only (a table too big to sum in time)."""
    error: str | None = None
    """Set when the targets could not be computed: "could not compute: …"."""
    seconds: float = 0.0

    def text(self) -> str:
        """The targets on one line, as the prompt gives them (a line break or control character in a file or column
        name shown escaped, :func:`liferaft.core.scan.shown_name`)."""
        from liferaft.core.scan import shown_name

        return shown_name(self._text())

    def _text(self) -> str:
        if self.error:
            return self.error
        parts: list[str] = []
        if self.kind == "table" or self.kind == "parquet":
            if self.rows is not None and self.columns is not None:
                parts.append(f"{self.rows:,} {'row' if self.rows == 1 else 'rows'} × {self.columns:,} "
                             f"{'column' if self.columns == 1 else 'columns'}")
            if self.sums:
                shown = "; ".join(f"{name} {total}" for name, total in self.sums[:SUMS_LISTED])
                more = len(self.sums) - SUMS_LISTED
                what = "column sums" if self.summed_rows is None else \
                    f"column sums of the first {self.summed_rows:,} data rows"
                parts.append(f"{what}: " + shown + (f"; and {more} more numeric columns" if more > 0 else ""))
        elif self.kind == "workbook":
            parts.append("sheets: " + "; ".join(f"{name} {rows:,} × {columns:,}"
                                                 for name, rows, columns in self.sheets[:SUMS_LISTED])
                         + (f"; and {len(self.sheets) - SUMS_LISTED} more" if len(self.sheets) > SUMS_LISTED else ""))
        elif self.kind == "image" and self.pixels:
            parts.append(self.pixels)
        return "; ".join(parts + list(self.notes))


def _fail(kind: str, why: str) -> Targets:
    return Targets(kind, error=f"could not compute: {why}")


def workbook_targets(path: Path) -> Targets:
    from liferaft.core.inspect import inspect_file

    first = inspect_file(path, "xlsx", max_rows=0)
    if first.error:
        return _fail("workbook", first.error)
    sheets: list[tuple[str, int, int]] = []
    for name in first.sheets or ((first.sheet,) if first.sheet else ()):
        preview = first if name == first.sheet else inspect_file(path, "xlsx", max_rows=0, sheet=name)
        facts = dict(preview.facts)
        shape = re.search(r"\(([\d,]+) rows? × ([\d,]+) columns?\)", facts.get("dimensions", ""))
        rows = _number(shape[1]) if shape else _number(facts.get("rows", ""))
        columns = (_number(shape[2]) if shape else _number(facts.get("columns", ""))) or len(preview.columns)
        if preview.error or rows is None:
            return _fail("workbook", preview.error or f"the size of sheet {name} is not known")
        sheets.append((name, rows, columns or 0))
    if not sheets:
        return _fail("workbook", "it has no sheets")
    return Targets("workbook", sheets=tuple(sheets))


def _number(text: str) -> int | None:
    digits = text.replace(",", "").strip()
    return int(digits) if digits.isdigit() else None


def image_targets(path: Path) -> Targets:
    from liferaft.core.inspect.image import inspect_image

    preview = inspect_image(path)
    if preview.error:
        return _fail("image", preview.error)
    facts = dict(preview.facts)
    size = facts.get("dimensions")
    if not size:
        return _fail("image", "its size is not in its header")
    return Targets("image", pixels=size if size.endswith("px") else f"{size} (as its <svg> element says)")


def parquet_targets(path: Path) -> Targets:
    try:
        import pyarrow.parquet as pq

        meta = pq.ParquetFile(path).metadata
    except Exception as exc:  # a damaged footer, an unreadable file
        return _fail("parquet", f"cannot read its footer ({type(exc).__name__}: {str(exc)[:120]})")
    return Targets("parquet", rows=meta.num_rows, columns=meta.num_columns)
