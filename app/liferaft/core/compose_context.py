"""What a prompt is made of (:class:`ComposeContext`), as :func:`liferaft.core.compose.gather` reads it from the
project and :func:`liferaft.core.compose.assemble` fills a template from it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from liferaft.core import prompt_files


@dataclass(frozen=True, slots=True)
class UploadLine:
    name: str
    path: str
    """As shown, relative to the project."""
    size: int
    kind: str
    shape: str
    """e.g. "1,204,000 rows × 14 columns; columns: order_id, order_date, …" ("" when not a table)."""
    verdict: str | None
    original: str | None = None
    """The original's name when this is a prepared copy standing in for it."""


@dataclass(slots=True)
class ComposeContext:
    project: str
    uploads: list[UploadLine] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    """Names of the files in OUTPUT."""
    missing: list[str] = field(default_factory=list)
    """Outputs the restart note names that are not in OUTPUT."""
    note_sections: list[tuple[str, str, str]] = field(default_factory=list)
    """The restart note's non-empty sections: (key, heading, text)."""
    next_prompt: str = ""
    brief: str = ""
    code: list[tuple[str, str]] = field(default_factory=list)
    """(path, text) of each saved code file, in order."""
    code_cut: dict[str, int] = field(default_factory=dict)
    """Code files read only in part: path → bytes left out."""
    code_skipped: list[str] = field(default_factory=list)
    """Why some code is missing or odd (a link out of the project, unreadable, not UTF-8)."""
    note_text: str = ""
    """The restart note as it is on disk (to tell the line a secret came from)."""
    note_path: str | None = None
    problems: list[str] = field(default_factory=list)
    """Upload problems worth a warning (blocked files, too many files)."""
    upload_paths: list[Path] = field(default_factory=list)
    """Absolute paths of the files to upload, in order (for copying the list)."""
    tables: list[tuple[str, list[str]]] = field(default_factory=list)
    """(path, every column name, whole) of each table to upload: the prompt names a few, cut, and the secret gate
    scans them all (a credential used as a header must not pass because the prompt shows only part of it)."""
    code_files: list[UploadLine] = field(default_factory=list)
    """The scripts and notebooks that go with the prompt (:func:`liferaft.core.prompt_files.choose_code`), in the
    order of :attr:`code`: uploaded after the data, or inlined instead."""
    code_paths: list[Path] = field(default_factory=list)
    """Absolute paths of :attr:`code_files`."""
    splits: dict[str, SplitTable] = field(default_factory=dict)
    """Tables uploaded as the parts of a split, by the original's name."""
    order_note: str = ""
    """How the upload order was chosen, in a sentence for the prompt."""
    files_per_window: int = 0
    """The vendor's upload limit (files per window of ``window_hours``); 0 when unknown."""
    window_hours: float = 0.0
    data_too_many: bool = False
    """The data alone passes the files-per-window limit (already a problem)."""
    output_details: dict[str, Any] = field(default_factory=dict)
    """Per output name, a :class:`liferaft.core.outputs.Detail`: its description and verification targets."""


@dataclass(frozen=True, slots=True)
class SplitTable:
    """One table uploaded as parts of a split, to be put back together by the chat."""

    name: str
    """The original's name."""
    parts: tuple[str, ...]
    rows: str
    """The whole table's data rows as the prompt states them ("611,276", "≈ 611,000"), "" when unknown."""
    exact: bool


def output_key(name: str) -> str:
    """How outputs are matched by name: URL-decoded, case-insensitive, without a "(1)" download suffix, control
    characters as :func:`shown_name` shows them (the restart note names such a file in that form)."""
    return prompt_files.name_key(name)


_ROWS = re.compile(r"^(≈ )?([\d,]+) rows? × ")


def _rows_of(shape: str) -> tuple[int, bool] | None:
    """The data rows a table's shape states, and whether the count is exact; None when it states none."""
    match = _ROWS.match(shape)
    return (int(match[2].replace(",", "")), not match[1]) if match else None
