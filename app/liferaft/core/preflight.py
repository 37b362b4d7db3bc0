"""Upload pre-flight: which files a new chat will refuse or misread, and what to do about each.

For every file a verdict (ok / warn / block) and the problems found, each with a plain reason and a concrete
fix; for the whole set, the problems of uploading it all (more files than one upload window allows, a very
large total). The limits come from the vendor data file (:func:`liferaft.core.vendor.upload_limits`), with the
``[limits]`` of the user's config applied (:func:`liferaft.core.config.configured_limits`). Tables and
workbooks are looked into with the preview inspectors, which read only a bounded sample; text files are
counted in tokens by :mod:`liferaft.core.tokens` (exact when the tokenizer data is on this machine, never
fetched here). Nothing here ever writes to a file, and a file that cannot be read becomes a problem, never an
exception.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from liferaft.core import tokens as token_count
from liferaft.core.preflight_names import confusing_name, suggest_name
from liferaft.core.shell import quote_arg
from liferaft.core.units import format_count, format_size
from liferaft.core.vendor import UploadLimits, upload_limits

if TYPE_CHECKING:
    from liferaft.core.inspect import Preview

OK = "ok"
WARN = "warn"
BLOCK = "block"
#: Set-level only: worth knowing, but nothing to fix (does not make the exit code 1).
NOTE = "note"
_RANK = {OK: 0, NOTE: 0, WARN: 1, BLOCK: 2}
#: Problems that mean the file could not be looked into at all: no fixer can work on it either.
UNREADABLE_CODES = frozenset({"unreadable", "not_a_file", "outside_link", "password", "zip_bomb", "old_excel"})

MB = 1000 * 1000
#: Within this fraction below a limit, a file is warned about.
NEAR = 0.10
#: Wider tables than this are hard for a chat to read in one go.
WIDE_COLUMNS = 200
#: Text-like kinds whose size is limited in tokens.
TEXT_KINDS = frozenset({"text", "markdown", "json", "python", "sql", "r", "notebook"})
TABLE_KINDS = frozenset({"csv", "tsv", "xlsx"})
#: The delimiter a table of each kind is expected to have.
_EXPECTED_DELIMITER = {"csv": "comma", "tsv": "tab"}

# What the inspectors' notes say, matched by a stable part of their wording (tests pin each one).
_CSV_NOTES: tuple[tuple[str, str, str, str], ...] = (
    ("an empty header row", "blank_header",
     "the first line is blank (an empty header row): the chat may take it as the column names",
     "delete the blank line(s) above the header, or tell the chat to skip them"),
    ("have no name", "unnamed_columns",
     "some columns have no name: the chat will see them as \"Unnamed: N\"",
     "give every column a name in the header row"),
    ("duplicate column names", "duplicate_columns",
     "some column names repeat: the chat will rename them name.1, name.2…",
     "give each column its own name in the header row"),
    ("ragged rows", "ragged_rows",
     "some rows do not have as many fields as the header: values may land in the wrong column",
     "check the rows for stray delimiters or missing quotes, or tell the chat how to read them"),
    ("is never closed", "open_quote",
     "a quote is opened and never closed: everything after it reads as one cell",
     "close the quote in the original program and export again"),
    ("no delimiter found", "one_column",
     "no delimiter found: the file reads as a single column",
     "export it again as CSV with commas between the columns"),
    ("only a header", "no_rows",
     "only a header: the file has no data rows",
     "export the data again, or leave this file out"),
    ("no header and no rows", "no_rows",
     "no header and no rows: the file holds only blank lines or delimiters",
     "export the data again, or leave this file out"),
    ("above the header (the first:", "title_lines",
     "title lines above the header: a chat would take the first for the column names (the columns unnamed, the "
     "titles counted as rows)",
     "write a copy without them"),
    ("the header spans 2 rows", "multi_row_header",
     "the header spans 2 rows: a chat would take the first for the column names and the second, names or units, "
     "for a row of data",
     "tell the chat the header is 2 rows (pandas: header=[0, 1]), or merge them into one row in the original "
     "program and export again"),
    ("not by a comma, semicolon, tab or pipe", "space_separated",
     "the columns are separated by spaces, not by a delimiter: a chat's CSV reader sees one column",
     "tell the chat to read it with sep=r'\\s+' (pandas), or export it again as CSV"),
    ("columns in fixed positions", "fixed_width",
     "the columns sit in fixed positions, lined up by spaces, with no delimiter: a chat's CSV reader sees one column "
     "(split at spaces, a value holding a space becomes two)",
     "tell the chat to read it with pandas.read_fwf, or export it again as CSV"),
    ("quoted with ' (not", "single_quotes",
     "cells are quoted with ' instead of \": a chat reading it as a usual CSV splits the cells that hold a "
     "delimiter (ragged rows)",
     "tell the chat to read it with quotechar=\"'\", or export it again with \" quotes"),
    ("stray NUL byte", "nul_bytes",
     "stray NUL bytes (\\x00) in the text: a chat's reader may stop at them or keep them in a cell",
     "write a copy without them"),
    ("are not valid", "bad_bytes",
     "some bytes do not fit the file's encoding: they will come out as �",
     "re-encode it to UTF-8 from the program that made it"),
)
_XLSX_NOTES: tuple[tuple[str, str, str, str], ...] = (
    ("the column names are from row", "blank_header",
     "the first row(s) of the sheet are blank: the chat may take a blank row as the column names",
     "delete the blank rows above the header, or export the table to CSV"),
    ("with no saved value", "formulas_without_values",
     "some formulas have no saved result: the chat will see empty cells",
     "open the workbook in Excel and save it, so the results are stored"),
)


@dataclass(frozen=True, slots=True)
class Problem:
    code: str
    message: str
    fix: str
    severity: str = WARN

    def to_json(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message, "fix": self.fix}


@dataclass(frozen=True, slots=True)
class FileCheck:
    path: str
    """As shown: relative to the project root when inside it."""
    kind: str
    size: int
    tokens: int | None
    tokens_exact: bool
    problems: tuple[Problem, ...] = ()
    suggested_name: str | None = None

    @property
    def verdict(self) -> str:
        return max((p.severity for p in self.problems), key=_RANK.__getitem__, default=OK)

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "kind": self.kind, "size": self.size, "tokens": self.tokens,
                "tokens_exact": self.tokens_exact, "verdict": self.verdict,
                "problems": [problem.to_json() for problem in self.problems]}


@dataclass(frozen=True, slots=True)
class CheckReport:
    files: tuple[FileCheck, ...]
    problems: tuple[Problem, ...] = ()
    """About the whole set (more files than one upload window allows)."""
    limits: UploadLimits | None = field(default=None, compare=False)
    replaced: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Originals a new chat gets as prepared files instead (shown path → the prepared files' shown paths).
    They are listed with their own verdict but do not count: their prepared files are checked instead."""
    left_out: dict[str, str] = field(default_factory=dict)
    """Prepared files that are not uploaded (a step on the way to another, an older copy): shown path → why."""
    stale: dict[str, str] = field(default_factory=dict)
    """Originals uploaded as they are although they were prepared: shown path → why the copies are not used."""

    @property
    def uploaded(self) -> tuple[FileCheck, ...]:
        """The files a new chat gets: all but the replaced originals and the prepared files left out."""
        return tuple(check for check in self.files if check.path not in self.replaced
                     and check.path not in self.left_out)

    @property
    def total_size(self) -> int:
        return sum(check.size for check in self.uploaded)

    @property
    def summary(self) -> dict[str, int]:
        counts = {OK: 0, WARN: 0, BLOCK: 0}
        for check in self.uploaded:
            counts[check.verdict] += 1
        return counts

    @property
    def clean(self) -> bool:
        """Nothing warned or blocked (a set-level note does not count)."""
        return all(problem.severity == NOTE for problem in self.problems) and all(
            check.verdict == OK for check in self.uploaded)

    def to_json(self) -> dict[str, Any]:
        files = []
        for check in self.files:
            entry = check.to_json()
            if check.path in self.replaced:
                entry["replaced_by"] = list(self.replaced[check.path])
            if check.path in self.left_out:
                entry["left_out"] = self.left_out[check.path]
            if check.path in self.stale:
                entry["stale"] = self.stale[check.path]
            files.append(entry)
        data: dict[str, Any] = {"files": files,
                                "problems": [problem.to_json() for problem in self.problems],
                                "summary": {**self.summary, "total_size": self.total_size,
                                            "prepared": len(self.replaced)}}
        if self.limits is not None:
            data["limits"] = self.limits.to_json()
        return data


# --- checks ----------------------------------------------------------------------------------------------


def _mb(limit_mb: float) -> str:
    return f"{limit_mb:g} MB"


def prepare_command(shown: str | None, option: str) -> str:
    """The `liferaft prepare` call that writes the fixed copy (run from the project folder)."""
    return f"liferaft prepare {quote_arg(shown) if shown else 'FILE'} {option}"


#: A `liferaft prepare FILE ` call in a fix, FILE as :func:`liferaft.core.shell.quote_arg` writes it.
_PREPARE_CALL = re.compile(r"liferaft prepare ((?:'[^']*'|\"[^\"]*\"|[^\s'\"])+) ")


def with_folder(report: CheckReport, folder: str) -> CheckReport:
    """``report`` with the project folder in every `liferaft prepare` call of its fixes, so that each works
    from any folder (``folder``: as it should be typed, best absolute)."""
    where = quote_arg(folder)

    def fixed(problem: Problem) -> Problem:
        fix = _PREPARE_CALL.sub(lambda match: f"liferaft prepare {match.group(1)} {where} ", problem.fix)
        return problem if fix == problem.fix else dataclasses.replace(problem, fix=fix)

    files = tuple(dataclasses.replace(check, problems=tuple(map(fixed, check.problems))) for check in report.files)
    return dataclasses.replace(report, files=files, problems=tuple(map(fixed, report.problems)))


def _size_problems(kind: str, size: int, limits: UploadLimits, shown: str | None = None) -> list[Problem]:
    rules: list[tuple[float, str, str]] = [(limits.hard_limit_mb, "any file", "")]
    if kind in TABLE_KINDS:
        rules.append((limits.spreadsheet_mb, "CSV files and spreadsheets (about; it depends on row size)",
                      "spreadsheet"))
    elif kind == "image":
        rules.append((limits.image_mb, "images", "image"))
    # The tightest limit decides.
    limit_mb, what, which = min(rules, key=lambda rule: rule[0])
    limit = limit_mb * MB
    if size > limit:
        return [Problem("too_big", f"too big to upload: {format_size(size)}, over the {_mb(limit_mb)} limit for "
                        f"{what}", _too_big_fix(kind, size, limit_mb, which, shown), BLOCK)]
    if size > limit * (1 - NEAR):
        return [Problem("near_size_limit", f"close to the limit: {format_size(size)} of the {_mb(limit_mb)} "
                        f"allowed for {what}; the upload may be refused",
                        _too_big_fix(kind, size, limit_mb, which, shown), WARN)]
    return []


def _too_big_fix(kind: str, size: int, limit_mb: float, which: str, shown: str | None = None) -> str:
    part_mb = max(1, math.floor(limit_mb * (1 - NEAR)))
    parts = max(2, math.ceil(size / (part_mb * MB)))
    if kind in ("csv", "tsv"):
        return (f"split it into {parts} parts of at most {part_mb} MB, each with the header row: "
                f"{prepare_command(shown, f'--split-mb {part_mb}')}")
    if kind == "xlsx":
        return (f"export the sheet you need to CSV: {prepare_command(shown, '--sheet NAME')} (and split that if it "
                "is still too big)")
    if which == "image":
        return "save a smaller copy (fewer pixels, or JPEG instead of PNG) and upload that"
    return f"split it into {parts} parts of at most {part_mb} MB, or upload only the part you need"


def _token_problems(tokens: int, limits: UploadLimits, how: str = token_count.ESTIMATE) -> list[Problem]:
    """Problems of a text's token count; ``how`` says how it was counted (exact, or an estimate and why)."""
    limit = limits.text_tokens
    counted = f"{tokens:,} tokens, {how}," if how == token_count.EXACT else f"about {tokens:,} tokens ({how}),"
    if tokens > limit:
        return [Problem("too_many_tokens", f"too long to upload: {counted} over the {limit:,}-token limit for text "
                        "and documents", "split it into parts, or upload only the part you need", BLOCK)]
    if tokens > limit * (1 - NEAR):
        return [Problem("near_token_limit", f"close to the limit: {counted} of the {limit:,} allowed for text and "
                        "documents", "split it into parts if the upload is refused")]
    return []


def _fact(preview: Preview, label: str) -> str | None:
    return next((value for name, value in preview.facts if name == label), None)


def _note_problems(notes: Iterable[str], table: Sequence[tuple[str, str, str, str]]) -> list[Problem]:
    found: dict[str, Problem] = {}
    for note in notes:
        for needle, code, message, fix in table:
            if needle in note and code not in found:
                found[code] = Problem(code, message, fix)
    return list(found.values())


def _office_container_problem(path: Path) -> Problem | None:
    """A workbook that is an OLE2 compound file: encrypted (password-protected) .xlsx, or the old .xls format."""
    from liferaft.core.inspect.workbook import OLE_MAGIC, ole_stream_names

    try:
        with open(path, "rb") as handle:
            if handle.read(len(OLE_MAGIC)) != OLE_MAGIC:
                return None
            names = ole_stream_names(handle)
    except OSError:
        return None  # the inspector says why
    if "EncryptedPackage" in names or "EncryptionInfo" in names:
        return Problem("password", "password-protected: the chat cannot open it", "save a copy without a password",
                       BLOCK)
    if "Workbook" in names or "Book" in names:
        return Problem("old_excel", "the old Excel format (.xls): the chat may fail to open it, and Liferaft "
                       "cannot look inside to check it", "save it as .xlsx in Excel, or export the sheet as CSV")
    return None


def _read_problem(error: str) -> Problem:
    if "zip bomb" in error:
        return Problem("zip_bomb", f"cannot read: {error}",
                       "if you trust the file, open it in Excel and export the sheet you need as CSV", BLOCK)
    if "too large to preview" in error:
        return Problem("unreadable", f"cannot read: {error}", "export the sheet you need as CSV in Excel", BLOCK)
    return Problem("unreadable", f"cannot read: {error}", "export the file again from the program that made it",
                   BLOCK)


_HEADER_ROW = re.compile(r"the column names are from row (\d+)")


def _second_table_row(preview: Preview) -> int | None:
    """The sheet row where data starts again after blank rows, in the rows read (several tables in one sheet)."""
    header = next((int(match[1]) for note in preview.notes if (match := _HEADER_ROW.search(note))), 1)
    seen_blank = False
    for offset, row in enumerate(preview.rows):
        if not any(cell.strip() for cell in row):
            seen_blank = True
        elif seen_blank:
            return header + 1 + offset
    return None


def _table_problems(path: Path, kind: str, shown: str | None = None) -> tuple[list[Problem], Preview | None]:
    """Problems a look inside a CSV, TSV or XLSX finds, and the preview (None when it could not be read)."""
    from liferaft.core.inspect import inspect_file

    if kind == "xlsx" and (container := _office_container_problem(path)) is not None:
        return [container], None
    preview = inspect_file(path, kind)
    if preview.error:
        return [_read_problem(preview.error)], None
    problems: list[Problem] = []
    if kind in ("csv", "tsv"):
        encoding = _fact(preview, "encoding")
        if encoding and not encoding.startswith("utf-8"):
            guess = "looks like" if "guess" in encoding else "is"
            name = encoding.split(" (")[0]
            problems.append(Problem("encoding", f"not UTF-8: the text {guess} {name}, so accents and symbols may "
                                    "come out garbled",
                                    f"write a UTF-8 copy: {prepare_command(shown, '--utf8')} "
                                    "(or Save As → CSV UTF-8)"))
        delimiter = _fact(preview, "delimiter")
        expected = _EXPECTED_DELIMITER[kind]
        if delimiter and delimiter not in (expected, "space") and not delimiter.startswith("none"):
            if kind == "csv":
                fix = (f"write a copy with commas: {prepare_command(shown, '--comma')} (UTF-8 too), or tell the "
                       f"chat the delimiter is a {delimiter}")
            else:
                fix = f"save it with tabs between the columns, or tell the chat the delimiter is a {delimiter}"
            problems.append(Problem("delimiter", f"the columns are separated by a {delimiter}, not a {expected}: "
                                    "the chat may read each row as one column", fix))
        for problem in _note_problems(preview.notes, _CSV_NOTES):
            if problem.code == "blank_header" and kind == "csv":
                # The comma-separated copy leaves the blank lines above the header out.
                problem = Problem(problem.code, problem.message, "write a copy without them: "
                                  f"{prepare_command(shown, '--comma')}, or delete them in the original program")
            elif problem.code == "title_lines":
                lines = next((note.split(" title line", 1)[0] for note in preview.notes
                              if "above the header (the first:" in note), "")
                what = "1 title line" if lines == "1" else f"{lines} title lines"
                problem = Problem(problem.code, problem.message.replace("title lines", what, 1),
                                  f"{problem.fix}: {prepare_command(shown, f'--skip-rows {lines}')}, or tell the "
                                  f"chat to skip the first {lines} line(s)")
            elif problem.code == "nul_bytes":
                count = next((note.split(" stray", 1)[0] for note in preview.notes if "stray NUL byte" in note), "")
                problem = Problem(problem.code, f"{count} {problem.message}".strip(),
                                  f"{problem.fix}: {prepare_command(shown, '--strip-nul')}")
            problems.append(problem)
        width = _fact(preview, "columns")
        if width and width.replace(",", "").isdigit() and int(width.replace(",", "")) > WIDE_COLUMNS:
            problems.append(Problem("wide", f"very wide: {width} columns; the chat will struggle to keep track "
                                    "of them", "upload only the columns you need"))
    else:
        if len(preview.sheets) > 1:
            listed = ", ".join(preview.sheets[:5]) + ("…" if len(preview.sheets) > 5 else "")
            problems.append(Problem("several_sheets", f"{len(preview.sheets)} sheets ({listed}): the chat may "
                                    "read only the first",
                                    f"export the sheet you need to CSV: {prepare_command(shown, '--sheet NAME')}"))
        problems += _note_problems(preview.notes, _XLSX_NOTES)
        sparse = next((note for note in preview.notes if note.startswith("sparse and very wide")), None)
        if sparse is not None:
            problems.append(Problem("sparse_wide", f"{sparse}: exported or read as it stands, every row would "
                                    "carry thousands of empty cells",
                                    f"export it to CSV: {prepare_command(shown, '--sheet NAME')} writes only the "
                                    "columns that hold data (or delete the stray cells in Excel)"))
        second = _second_table_row(preview)
        if second is not None:
            sheet = f"{preview.sheet}: " if preview.sheet else ""
            problems.append(Problem("several_tables", f"several tables in one sheet ({sheet}after a blank row, more "
                                    f"data starts at row {second}): the chat will read them as one table",
                                    "put each table on its own sheet or export each to CSV"))
    return problems, preview


def _name_problem(name: str, suggested: str | None) -> Problem | None:
    reason = confusing_name(name)
    if reason is None:
        return None
    if suggested:
        fix = f"rename it to say what it holds, e.g. {suggested} (from its columns)"
    else:
        fix = "rename it to say what it holds (what, where, when), e.g. sales_eu_2025.csv"
    return Problem("name", f"the name {reason}: a new chat cannot tell what it is", fix)


_ODD_NAME = re.compile(r"[\x00-\x1f\x7f]|[\udc80-\udcff]")


def default_limits() -> UploadLimits:
    """The vendor's limits with the user's ``[limits]`` applied (its warnings are for the caller that shows them)."""
    from liferaft.core.config import configured_limits

    try:
        return configured_limits()[0]
    except Exception:  # a config that cannot be used never stops a check
        return upload_limits()


def check_file(path: Path, shown: str | None = None, kind: str | None = None, *,
               limits: UploadLimits | None = None, flags: Sequence[str] = (),
               budget: token_count.Budget | None = None) -> FileCheck:
    """Check one file. Never raises: a file that cannot be read is a ``block`` with the reason.

    ``budget`` shares the time for exact token counts between the files of one check.
    """
    limits = limits or default_limits()
    path = Path(path)
    shown = shown if shown is not None else str(path)
    name = path.name
    problems: list[Problem] = []
    if _ODD_NAME.search(name) or "odd_name" in flags:
        problems.append(Problem("odd_name", "the name has a line break or characters that are not valid text",
                                "rename it with letters, digits, - and _ only"))
    if kind is None:
        from liferaft.core.roles import kind_from_name

        kind = kind_from_name(name)  # from the name only: the file may not be safe to open
    try:
        st = os.stat(path)
    except OSError as exc:
        reason = "it is a link whose target does not exist" if os.path.islink(path) else (exc.strerror or str(exc))
        return FileCheck(shown, kind or "other", 0, None, False, (*problems, Problem(
            "unreadable", f"cannot read: {reason}", "put the real file in its place", BLOCK)))
    if not stat.S_ISREG(st.st_mode):
        what = "a folder" if stat.S_ISDIR(st.st_mode) else "not a regular file (a pipe, socket or device)"
        return FileCheck(shown, kind or "other", 0, None, False, (*problems, Problem(
            "not_a_file", f"cannot read: {what}; Liferaft does not open it", "upload a regular file instead",
            BLOCK)))
    size = st.st_size
    if kind is None:
        kind = _kind(path)
    if "outside_root" in flags:
        problems.append(Problem("outside_link", "a link to a file outside the project: Liferaft does not read it",
                                "copy the file itself into SOURCE/"))
        return FileCheck(shown, kind, size, None, False, tuple(problems))
    split_problem = _split_part_problem(path, size, shown)
    if split_problem is not None:
        problems.append(split_problem)
    problems += _size_problems(kind, size, limits, shown)
    tokens: int | None = None
    exact = False
    if kind in TEXT_KINDS:
        counted = token_count.count_file(path, size, budget=budget)
        tokens, exact = counted.tokens, counted.exact
        problems += _token_problems(tokens, limits, counted.how)
    preview = None
    if size == 0:
        problems.append(Problem("empty", "the file is empty: there is nothing for the chat to read",
                                "export the data again, or leave this file out"))
    elif kind in TABLE_KINDS:
        found, preview = _table_problems(path, kind, shown)
        problems += found
    extension = ("." + name.rsplit(".", 1)[1].lower()) if "." in name.strip(".") else ""
    suggested = suggest_name(preview, extension)
    name_problem = _name_problem(name, suggested)
    if name_problem is not None:
        problems.append(name_problem)
    else:
        suggested = None
    return FileCheck(shown, kind, size, tokens, exact, tuple(problems), suggested)


def _split_part_problem(path: Path, size: int, shown: str) -> Problem | None:
    """A ``block`` for a part of a split (``prepared/NAME.partN.csv``) whose set is not the one the split wrote:
    the split never finished (killed on the way), or a part is missing, extra or of another size."""
    if path.parent.name != "prepared" or ".part" not in path.name.lower():
        return None  # the common case, without importing the fixers
    from liferaft.core.prepare import looks_like_part, split_part_problem

    if not looks_like_part(path):
        return None
    why = split_part_problem(path, size)
    return None if why is None else incomplete_split(path, shown, why)


def incomplete_split(path: Path, shown: str, why: str) -> Problem:
    """The ``block`` of a part of a split that is not a complete set (``why`` says how), with its fix."""
    from liferaft.core.prepare import split_original

    original = split_original(path)
    folder = shown.rpartition("/")[0].rpartition("/")[0]
    named = quote_arg(f"{folder}/{original.name}" if folder else original.name) if original else "ORIGINAL"
    return Problem("incomplete_split", f"not a complete set of parts: {why}",
                   f"run the split again (liferaft prepare {named} --split-mb N) and upload the new parts; delete "
                   "these ones", BLOCK)


def _kind(path: Path) -> str:
    from liferaft.core.roles import kind_from_name, sniff_kind

    kind = kind_from_name(path.name)
    if kind is not None:
        return kind
    try:
        with open(path, "rb") as handle:
            return sniff_kind(handle.read(512))
    except OSError:
        return "other"


def set_problems(files: Sequence[FileCheck], limits: UploadLimits) -> tuple[Problem, ...]:
    """Problems of uploading the whole set: more files than one upload window takes, and a very large total."""
    problems: list[Problem] = []
    if len(files) > limits.files_per_window:
        problems.append(Problem("too_many_files", f"{len(files)} files: more than the {limits.files_per_window} a "
                                f"chat accepts in {limits.window_hours:g} hours",
                                f"upload the files the work needs first, the rest after {limits.window_hours:g} "
                                "hours, or zip related files together"))
    total = sum(check.size for check in files)
    if len(files) > 1 and total > limits.hard_limit_mb * MB:
        problems.append(Problem("total_size", f"together the files come to {format_size(total)}, more than the "
                                f"{_mb(limits.hard_limit_mb)} allowed for any single file: uploading them all "
                                "takes long, and the chat works slowly on that much data",
                                "upload only what the next step of the work needs, and drop columns or rows you "
                                "do not need", NOTE))
    return tuple(problems)


def check_paths(paths: Iterable[tuple[Path, str]], *, limits: UploadLimits | None = None) -> CheckReport:
    """Check files given as (path, shown name)."""
    limits = limits or default_limits()
    budget = token_count.Budget()
    files = tuple(check_file(path, shown, limits=limits, budget=budget) for path, shown in paths)
    return CheckReport(files, set_problems(files, limits), limits)


def summary_line(report: CheckReport) -> str:
    counts = report.summary
    line = (f"{format_count(len(report.uploaded), 'file')} to upload · {format_size(report.total_size)}: "
            f"{counts[OK]} ok, {counts[WARN]} to look at, {counts[BLOCK]} blocked")
    if report.replaced:
        line += f" ({format_count(len(report.replaced), 'original')} replaced by prepared copies)"
    return line
