"""Looking inside one file without loading it: the first rows, a schema, an outline, or its metadata.

Every inspector reads only what it shows (a bounded sample, a file's header or footer), stays within a
time and memory budget, and never raises for a bad file: problems come back in :attr:`Preview.error` or
:attr:`Preview.notes`. Inspectors live in their own modules and are imported only when a file of their
kind is inspected, so heavy libraries (openpyxl, pyarrow, Pillow, pypdf) cost nothing until needed.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

#: How many rows a tabular preview shows by default.
DEFAULT_ROWS = 50
#: How much of a text file a preview shows by default.
DEFAULT_TEXT_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a table: its name and the type inferred from a sample of its values."""

    name: str
    type: str
    """One of: integer, decimal, boolean, date, datetime, text, empty."""
    sample_nulls: int = 0
    """Empty cells among the sampled rows."""


@dataclass(frozen=True, slots=True)
class Preview:
    """What an inspector found. Only the parts that fit the file's kind are filled in."""

    kind: str
    facts: tuple[tuple[str, str], ...] = ()
    """Short labelled facts, in display order: ("rows", "≈ 1,204,000"), ("encoding", "utf-8"), ..."""
    columns: tuple[Column, ...] = ()
    """For tables: the schema."""
    rows: tuple[tuple[str, ...], ...] = ()
    """For tables: the first rows, as text exactly as in the file (no "2" turned into "2.0")."""
    sheets: tuple[str, ...] = ()
    """For workbooks: every sheet's name, in order; the rows are from :attr:`sheet`."""
    sheet: str | None = None
    text: str | None = None
    """For text-like files: what to show (the first part of the file, an outline, cells...)."""
    text_format: str | None = None
    """How to render :attr:`text`: "markdown", "text", or a Pygments lexer name ("python", "json", "sql")."""
    notes: tuple[str, ...] = ()
    """Things the user should know ("showing the first 64 KB", "row count is an estimate")."""
    error: str | None = None
    """Set when the file could not be read; one line saying what is wrong and what to do."""


class Inspector(Protocol):
    def __call__(self, path: Path, *, max_rows: int = ..., sheet: str | None = ...) -> Preview: ...


#: Which module inspects which kind: "module:function", imported on first use.
INSPECTORS: dict[str, str] = {
    "csv": "liferaft.core.inspect.delimited:inspect_delimited",
    "tsv": "liferaft.core.inspect.delimited:inspect_delimited",
    "xlsx": "liferaft.core.inspect.workbook:inspect_workbook",
    "parquet": "liferaft.core.inspect.parquet:inspect_parquet",
    "json": "liferaft.core.inspect.json_outline:inspect_json",
    "notebook": "liferaft.core.inspect.notebook:inspect_notebook",
    "text": "liferaft.core.inspect.text:inspect_text",
    "markdown": "liferaft.core.inspect.text:inspect_text",
    "python": "liferaft.core.inspect.text:inspect_text",
    "sql": "liferaft.core.inspect.text:inspect_text",
    "r": "liferaft.core.inspect.text:inspect_text",
    "image": "liferaft.core.inspect.image:inspect_image",
    "pdf": "liferaft.core.inspect.pdf:inspect_pdf",
    "archive": "liferaft.core.inspect.binary:inspect_archive",
    "other": "liferaft.core.inspect.binary:inspect_binary",
}


def _load(kind: str) -> Inspector:
    module_name, _, function = INSPECTORS.get(kind, INSPECTORS["other"]).partition(":")
    return getattr(importlib.import_module(module_name), function)  # type: ignore[no-any-return]


def inspect_file(path: Path, kind: str, *, max_rows: int = DEFAULT_ROWS, sheet: str | None = None) -> Preview:
    """Preview ``path`` as a file of ``kind`` (a kind from :mod:`liferaft.core.roles`). Never raises."""
    path = Path(path)
    try:
        st = os.stat(path)
    except OSError as exc:
        return Preview(kind, error=f"cannot read {path.name}: {exc.strerror or exc}")
    import stat as stat_module

    if not stat_module.S_ISREG(st.st_mode):
        return Preview(kind, error=f"{path.name} is not a regular file; Liferaft does not open it")
    try:
        return _load(kind)(path, max_rows=max_rows, sheet=sheet)
    except MemoryError:
        return Preview(kind, error=f"{path.name} needs more memory to preview than Liferaft allows")
    except Exception as exc:  # an inspector's bug must not take the app down: say what happened
        return Preview(kind, error=f"cannot preview {path.name}: {type(exc).__name__}: {exc}")
