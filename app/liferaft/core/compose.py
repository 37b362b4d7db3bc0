"""The prompt composer: the exact text a new chat needs, from a template and what the project knows.

Two steps, so that the preview can follow every keystroke:

* :func:`gather` reads what the prompt is made of (the upload plan with each file's shape, the restart
  note, the outputs, the saved code). It opens files: run it off the UI thread, once per change of the
  folder.
* :func:`assemble` fills a template from that context, within a token budget. It is pure string work
  (a few milliseconds for 50 files and 200 KB of code), and so is the secret scan that follows it.

Templates are Markdown files with a small header (``name``, ``title``, ``about``) and ``{{placeholders}}``:
the bundled ones in ``core/data/templates/``, and the user's own in ``<config>/templates/`` (a user template
with a bundled template's name replaces it).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from liferaft.core import prompt_files
from liferaft.core.outbound import Gated as Gated
from liferaft.core.outbound import Release as Release
from liferaft.core.outbound import gate as gate
from liferaft.core.outbound import release as release
from liferaft.core.prompt_files import MAX_CODE_FILES as MAX_CODE_FILES
from liferaft.core.roles import Role
from liferaft.core.scan import Inventory, shown_lines, shown_name, shown_name_noted
from liferaft.core.units import format_count, format_size
from liferaft.core.uploads import UploadPlan

#: Placeholders a template may use.
PLACEHOLDERS = ("project", "brief", "uploads", "note", "outputs", "output", "code", "code_hint", "note_request",
                "date")
#: The template used when none is named.
DEFAULT_TEMPLATE = "rerun"
#: The token budget when the user sets none: what a chat message comfortably takes.
DEFAULT_BUDGET = 20_000
#: Code files read at most (bytes each): a bigger one is cut, and the prompt says so.
MAX_CODE_BYTES = 1_000_000
#: Notebooks are read up to this much (embedded images make them big); their code is then held to MAX_CODE_BYTES.
MAX_NOTEBOOK_BYTES = 32_000_000
#: Code kinds that can go inline.
CODE_KINDS = frozenset({"python", "sql", "r", "notebook", "text"})
#: Columns named per table in the upload list.
SHOWN_COLUMNS = 8

_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")
#: What an output's name may end with: a name like "e.g" or "v1.2" is not a file.
OUTPUT_EXTENSIONS = frozenset({
    "csv", "tsv", "txt", "json", "jsonl", "xlsx", "xls", "parquet", "feather", "pkl", "pickle", "png", "jpg",
    "jpeg", "gif", "svg", "webp", "pdf", "html", "htm", "md", "docx", "pptx", "zip", "py", "ipynb", "sql", "r",
})
_FILE_NAME = re.compile(r"(?<![\w\-.%])[\w\-.%]+\.([A-Za-z0-9]{1,8})(?![\w\-])")
_QUOTED_NAME = re.compile(r"`([^`\n]+\.([A-Za-z0-9]{1,8}))`")


class TemplateError(Exception):
    """A template that cannot be used; the message is one line for the user."""


@dataclass(frozen=True, slots=True)
class Template:
    name: str
    title: str
    about: str
    body: str
    source: str
    """"bundled", or the user template's path."""


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


@dataclass(slots=True)
class ComposedPrompt:
    text: str
    template: Template
    tokens: int
    tokens_exact: bool
    budget: int
    warnings: list[str] = field(default_factory=list)
    cut: list[str] = field(default_factory=list)
    """What was left out to fit the budget, in words ("the last 120 lines of CODE/analysis.py")."""
    upload_paths: list[Path] = field(default_factory=list)
    """Absolute paths of the files this prompt asks to upload, in its order (the data, then the code unless it
    is inline)."""
    unavailable: list[str] = field(default_factory=list)
    """File names the text mentions that the chat will not have (neither uploaded, inlined nor an output)."""

    @property
    def chars(self) -> int:
        return len(self.text)


# --- templates -------------------------------------------------------------------------------------------


def _parse_template(text: str, source: str, fallback_name: str) -> Template:
    text = text.removeprefix("\ufeff").replace("\r\n", "\n")
    header: dict[str, str] = {}
    body = text
    if text.startswith("---\n"):
        end = text.find("\n---\n", 4)
        if end < 0:
            raise TemplateError(f"{source}: the header opened by --- is never closed")
        for line in text[4:end].splitlines():
            key, colon, value = line.partition(":")
            if colon:
                header[key.strip().lower()] = value.strip()
        body = text[end + 5:]
    name = header.get("name") or fallback_name
    if not re.fullmatch(r"[a-z0-9][a-z0-9_\-]*", name):
        raise TemplateError(f"{source}: the name {name!r} must be lower-case letters, digits, - and _")
    unknown = sorted({match[1] for match in _PLACEHOLDER.finditer(body)} - set(PLACEHOLDERS))
    if unknown:
        raise TemplateError(f"{source}: unknown placeholder {{{{{unknown[0]}}}}}; known: "
                            + ", ".join(PLACEHOLDERS))
    return Template(name, header.get("title") or name, header.get("about", ""), body, source)


def bundled_templates() -> dict[str, Template]:
    folder = resources.files("liferaft.core").joinpath("data/templates")
    found: dict[str, Template] = {}
    for entry in sorted(folder.iterdir(), key=lambda item: item.name):
        if entry.name.endswith(".md"):
            template = _parse_template(entry.read_text(encoding="utf-8"), "bundled", entry.name[:-3])
            found[template.name] = template
    return found


def user_templates_dir() -> Path:
    from liferaft.core.config import config_dir

    return config_dir() / "templates"


def load_templates(folder: Path | None = None) -> tuple[dict[str, Template], list[str]]:
    """Every template by name, bundled first (in their order), then the user's; and one-line warnings for
    user templates that cannot be used (they are skipped)."""
    templates = dict(sorted(bundled_templates().items(), key=lambda item: _ORDER.get(item[0], 99)))
    warnings: list[str] = []
    folder = folder or user_templates_dir()
    try:
        entries = sorted(folder.glob("*.md"))
    except OSError:
        entries = []
    for path in entries:
        from liferaft.core.storage import read_small_file

        try:
            text = read_small_file(path, 256 * 1024).decode("utf-8")
            template = _parse_template(text, str(path), path.stem.lower())
        except (OSError, UnicodeDecodeError) as exc:
            warnings.append(f"{path}: cannot read it ({getattr(exc, 'strerror', None) or exc}); skipped")
            continue
        except TemplateError as exc:
            warnings.append(f"{exc}; skipped")
            continue
        templates[template.name] = template
    return templates, warnings


_ORDER = {"rerun": 0, "regenerate": 1, "brief": 2, "note": 3}


# --- gathering -------------------------------------------------------------------------------------------


#: Shapes already read, by (file, size, modification time): the composer gathers again at each change in the
#: folder, and reading a 60 MB table's rows each time would cost it ~60 ms for nothing.
_shapes: dict[tuple[str, str, int, int], tuple[str, list[str]]] = {}
_SHAPES_KEPT = 512


def _shape(root: Path, path: str, kind: str) -> tuple[str, list[str]]:
    """The table's shape as the prompt says it, and every one of its column names, whole (for the secret gate)."""
    if kind not in ("csv", "tsv", "xlsx", "parquet"):
        return "", []
    try:
        st = (root / path).stat()
    except OSError:
        return "", []
    key = (str(root / path), kind, st.st_size, st.st_mtime_ns)
    known = _shapes.get(key)
    if known is not None:
        return known[0], list(known[1])
    found = _read_shape(root, path, kind)
    if len(_shapes) >= _SHAPES_KEPT:
        _shapes.clear()
    _shapes[key] = found
    return found[0], list(found[1])


def _read_shape(root: Path, path: str, kind: str) -> tuple[str, list[str]]:
    from liferaft.core.inspect import inspect_file

    preview = inspect_file(root / path, kind, max_rows=0)
    if preview.error:
        return "", []
    facts = dict(preview.facts)
    rows = facts.get("rows", "")
    width = facts.get("columns") or (str(len(preview.columns)) if preview.columns else "")
    parts = []
    if rows and width:
        parts.append(f"{rows} {'row' if rows == '1' else 'rows'} × {width} {'column' if width == '1' else 'columns'}")
    names = [column.name for column in preview.columns if column.name]
    if names:
        # Shown on the table's one line: a line break in a column name must not start a line of the prompt.
        shown = ", ".join(map(shown_name, names[:SHOWN_COLUMNS])) + (", …" if len(names) > SHOWN_COLUMNS else "")
        parts.append(f"columns: {shown}")
    if preview.sheet is not None and len(preview.sheets) > 1:
        parts.append(f"sheet {shown_name(preview.sheet)} of {len(preview.sheets)}")
    whole = names
    if kind in ("csv", "tsv") and (any(name.endswith("…") for name in names)
                                   or (width and width.replace(",", "") != str(len(preview.columns)))):
        whole = _header_names(root / path, kind) or names  # the preview cuts long names, and keeps 500
    return "; ".join(parts), whole


#: How much of a CSV is read for its header row (the preview reads as much, and stops there too).
HEADER_BYTES = 1 << 20


def _header_names(path: Path, kind: str) -> list[str]:
    """The header row of a CSV or TSV as it is in the file: every name, none cut ([] when it cannot be read)."""
    import csv
    import io

    from liferaft.core.inspect import text as textio
    from liferaft.core.inspect.delimited import sniff_delimiter

    try:
        head = textio.read_head(path, HEADER_BYTES)
        text = textio.decode_head(head.data, head.complete).text
    except (OSError, textio.NotText):
        return []
    preferred = "\t" if kind == "tsv" else ","
    delimiter = sniff_delimiter(text, preferred) or preferred
    if csv.field_size_limit() < len(text) + 1:
        csv.field_size_limit(len(text) + 1)
    try:
        for fields in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"', strict=False):
            if any(cell.strip() for cell in fields):
                return fields
    except csv.Error:
        return []
    return []


def output_key(name: str) -> str:
    """How outputs are matched by name: URL-decoded, case-insensitive, without a "(1)" download suffix, control
    characters as :func:`shown_name` shows them (the restart note names such a file in that form)."""
    return prompt_files.name_key(name)


def named_outputs(text: str) -> list[str]:
    """File names in the restart note's "generated outputs" section, in order: every name on every line
    (a name with spaces only in backticks), with an extension an output has."""
    found: list[str] = []
    for line in text.splitlines():
        names = [match[1] for match in _QUOTED_NAME.finditer(line) if match[2].lower() in OUTPUT_EXTENSIONS]
        rest = _QUOTED_NAME.sub(" ", line)
        names += [match[0] for match in _FILE_NAME.finditer(rest) if match[1].lower() in OUTPUT_EXTENSIONS]
        for name in names:
            name = name.strip().strip("'\"")
            if name and name not in found:
                found.append(name)
    return found


def gather(root: Path, inventory: Inventory, plan: UploadPlan, *, name: str | None = None,
           cancelled: Callable[[], bool] | None = None, targets_wait: float | None = None) -> ComposeContext:
    """Everything a prompt is made of. Reads files (tables' headers, the note, the code): not on the UI thread.

    Each output's verification targets are waited for up to ``targets_wait`` seconds (None: until computed; they
    are cached per file, so only the first gather after a change waits); past it the prompt says they are being
    computed, and :func:`liferaft.core.verify.on_ready` tells when to gather again."""
    from liferaft.core.restart_note import load_note

    root = Path(root)
    context = ContextBuilder(root, name or root.name or str(root))
    for item in plan.items:
        if cancelled is not None and cancelled():
            break
        record = item.record
        original = item.original.rpartition("/")[2] if item.original else None
        shape, columns = _shape(root, record.path, record.kind)
        context.add_upload(UploadLine(record.name, record.display_path, record.size, record.kind, shape,
                                      item.check.verdict if item.check else None, original), root / record.path)
        if columns:
            context.ctx.tables.append((record.display_path, columns))
    groups = inventory.by_role()
    context.ctx.outputs = [record.name for record in sorted(groups[Role.OUTPUT], key=lambda r: r.path)]
    try:
        note, record = load_note(root, inventory)
    except OSError as exc:  # NoteError: say so, rather than pass it off as an empty note
        note, record = None, None
        context.ctx.problems.append(f"the restart note cannot be used: {exc}")
    if note is not None and record is not None:
        context.ctx.note_path = record.display_path
        from liferaft.core.restart_note import write_note

        context.ctx.note_text = write_note(note)
        from liferaft.core.restart_note import SECTIONS

        headings = {section.key: section.heading for section in SECTIONS}
        for section in note.sections:
            text = section.text
            if not text or section.key in ("brief", "next_prompt"):
                continue
            context.ctx.note_sections.append((section.key or "", section.heading or headings.get(section.key, ""),
                                              text))
        context.ctx.brief = note.get("brief")
        context.ctx.next_prompt = note.get("next_prompt")
        present = {output_key(record.name) for record in groups[Role.OUTPUT]}
        context.ctx.missing = [name for name in named_outputs(note.get("outputs"))
                               if output_key(name) not in present]
    chosen, capped = prompt_files.choose_code(
        [record for record in groups[Role.CODE] if record.kind in CODE_KINDS],
        context.ctx.note_text if note is not None else "")
    if capped:
        context.ctx.problems.append(capped)
    for record in chosen:
        if "outside_root" in record.flags:
            context.ctx.code_skipped.append(f"{record.display_path} is a link out of the project: not included")
            continue
        if context.add_code(root / record.path, record.display_path, record.size):
            context.ctx.code_files.append(UploadLine(record.name, record.display_path, record.size, record.kind,
                                                     CODE_LABELS.get(record.kind, "text"), None))
            context.ctx.code_paths.append(root / record.path)
    _join_splits(context.ctx, plan)
    _order_uploads(context.ctx, note.get("files") if note is not None else "")
    from liferaft.core.preflight import default_limits

    limits = default_limits()
    context.ctx.files_per_window, context.ctx.window_hours = limits.files_per_window, limits.window_hours
    context.ctx.data_too_many = any(problem.code == "too_many_files" for problem in plan.problems)
    if plan.checks:
        blocked = [item.record.name for item in plan.items if item.check and item.check.verdict == "block"]
        if blocked:
            verb = "will not upload as it is" if len(blocked) == 1 else "will not upload as they are"
            context.ctx.problems.append(f"{format_count(len(blocked), 'file')} {verb}: "
                                        + ", ".join(blocked[:3]) + (" …" if len(blocked) > 3 else "")
                                        + " (p in the project pane prepares a fixed copy)")
    incomplete = {path: why for path, why in plan.incomplete.items() if path not in plan.left_out}
    if incomplete:
        first, why = next(iter(incomplete.items()))
        context.ctx.problems.append(
            f"{format_count(len(incomplete), 'part')} of a split that is not complete left out of the upload "
            f"list ({first.rpartition('/')[2]}: {why}): run the split again, then delete the old parts")
    context.ctx.problems += [problem.message for problem in plan.problems]
    from liferaft.core.outputs import details

    context.ctx.output_details = details(root, sorted(groups[Role.OUTPUT], key=lambda r: r.path), context.ctx.missing,
                                         note.get("outputs") if note is not None else "", context.ctx.code,
                                         wait=targets_wait)
    return context.ctx


#: How a code file is described in the upload list.
CODE_LABELS = {"python": "Python script", "notebook": "Jupyter notebook", "sql": "SQL", "r": "R script",
               "text": "text"}
_ROWS = re.compile(r"^(≈ )?([\d,]+) rows? × ")


def _rows_of(shape: str) -> tuple[int, bool] | None:
    """The data rows a table's shape states, and whether the count is exact; None when it states none."""
    match = _ROWS.match(shape)
    return (int(match[2].replace(",", "")), not match[1]) if match else None


def _join_splits(ctx: ComposeContext, plan: UploadPlan) -> None:
    """Fill ``ctx.splits``: each table uploaded as the parts of a split, with the whole table's row count (from the
    list of parts the split wrote, else the parts' own counts added up)."""
    runs: list[list[int]] = []
    for index, line in enumerate(ctx.uploads):
        if line.original is None or ".part" not in line.name.lower():
            continue
        if runs and runs[-1][-1] == index - 1 and ctx.uploads[runs[-1][0]].original == line.original:
            runs[-1].append(index)
        else:
            runs.append([index])
    if not runs:
        return
    from liferaft.core.inspect.text import approx
    from liferaft.core.prepare import looks_like_part, read_split_set

    for run in runs:
        lines = [ctx.uploads[index] for index in run]
        paths = [ctx.upload_paths[index] for index in run]
        if not all(looks_like_part(path) for path in paths):
            continue
        found = read_split_set(paths[0])
        if found is not None and found.rows is not None and list(found.parts) == [line.name for line in lines]:
            rows, exact = f"{found.rows:,}", True
        else:
            counts = [_rows_of(line.shape) for line in lines]
            rows, exact = "", False
            if all(count is not None for count in counts):
                total = sum(count[0] for count in counts if count is not None)
                exact = all(count[1] for count in counts if count is not None)
                rows = f"{total:,}" if exact else approx(total)
        original = lines[0].original or ""
        ctx.splits[lines[0].path] = SplitTable(original, tuple(line.name for line in lines), rows, exact)


def _order_uploads(ctx: ComposeContext, note_files: str) -> None:
    """Put the uploads in the order the analysis reads them (:func:`liferaft.core.prompt_files.upload_order`); a
    prepared original's files stay together, in their own order."""
    groups: list[list[int]] = []
    for index, line in enumerate(ctx.uploads):
        if groups and line.original is not None and ctx.uploads[groups[-1][-1]].original == line.original:
            groups[-1].append(index)
        else:
            groups.append([index])
    names = []
    for group in groups:
        first = ctx.uploads[group[0]]
        names.append(([first.original] if first.original else []) + [ctx.uploads[index].name for index in group])
    order, ctx.order_note = prompt_files.upload_order(names, note_files, ctx.code)
    flat = [index for group in order for index in groups[group]]
    ctx.uploads = [ctx.uploads[index] for index in flat]
    ctx.upload_paths = [ctx.upload_paths[index] for index in flat]


class ContextBuilder:
    """Collects a :class:`ComposeContext`; reads code files in bounded pieces."""

    def __init__(self, root: Path, name: str) -> None:
        self.root = root
        self.ctx = ComposeContext(name)

    def add_upload(self, line: UploadLine, path: Path) -> None:
        self.ctx.uploads.append(line)
        self.ctx.upload_paths.append(path)

    def add_code(self, path: Path, shown: str, size: int) -> bool:
        """Read a code file into :attr:`ComposeContext.code`; False when it cannot be used (the reason is added to
        :attr:`ComposeContext.code_skipped`)."""
        from liferaft.core.storage import read_small_file

        notebook = path.suffix.lower() == ".ipynb"
        limit = MAX_NOTEBOOK_BYTES if notebook else MAX_CODE_BYTES
        try:
            raw = read_small_file(path, limit)
        except OSError as exc:
            self.ctx.code_skipped.append(f"{shown} cannot be read ({getattr(exc, 'strerror', None) or exc}): "
                                         "not included")
            return False
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("utf-8", errors="replace")
            self.ctx.code_skipped.append(f"{shown} is not UTF-8: its odd characters show as �")
        text = text.replace("\r\n", "\n")
        if notebook:
            code = _notebook_code(text)
            if code is None:
                why = (f"is bigger than {format_size(MAX_NOTEBOOK_BYTES)} (its saved outputs?): clear its outputs "
                       "and save it again" if size > len(raw) else "is not a notebook Liferaft can read")
                self.ctx.code_skipped.append(f"{shown} {why}: not included")
                return False
            text = code
        left_out = max(0, size - len(raw)) if not notebook else 0
        if len(text.encode("utf-8")) > MAX_CODE_BYTES:
            text = text.encode("utf-8")[:MAX_CODE_BYTES].decode("utf-8", errors="ignore")
            left_out = max(left_out, 1)
        if left_out:
            # Cut at a line end: a secret cut in half would slip past the scan.
            text = text[: text.rfind("\n") + 1] if "\n" in text else ""
            self.ctx.code_cut[shown] = max(left_out, size - len(text.encode("utf-8")))
        self.ctx.code.append((shown, text))
        return True


def _notebook_code(text: str) -> str | None:
    """The code cells of a notebook, separated by cell markers, or None when it is not a notebook."""
    import json

    try:
        data = json.loads(text)
    except ValueError:
        return None
    cells = data.get("cells") if isinstance(data, dict) else None
    if not isinstance(cells, list):
        return None
    parts = []
    for cell in cells:
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            source = cell.get("source", "")
            if isinstance(source, list):  # lines; anything else in the list (a damaged notebook) is skipped
                source = "".join(line for line in source if isinstance(line, str))
            parts.append(source if isinstance(source, str) else "")
    return "\n\n# %%\n".join(parts)


# --- assembling ------------------------------------------------------------------------------------------


def count_tokens(text: str) -> tuple[int, bool]:
    """Tokens in ``text``: exact when the tokenizer data is on this machine, else size ÷ 4 (UTF-8 bytes)."""
    from liferaft.core import tokens

    found = tokens.encoding() if tokens.data_file() is not None else None
    if found is not None:
        exact = tokens.count_text(found, text, seconds=0.5)
        if exact is not None:
            return exact, True
    return math.ceil(len(text.encode("utf-8", errors="replace")) / 4), False


def _upload_lines(context: ComposeContext, code_inline: bool = False) -> str:
    code = [] if code_inline else context.code_files
    if not context.uploads and not code:
        return "(no files: the analysis folder has nothing in SOURCE/)"
    lines = [] if context.uploads else ["(no data: the analysis folder has nothing in SOURCE/)"]
    number = 0
    index = 0
    while index < len(context.uploads):
        line = context.uploads[index]
        number += 1
        split = context.splits.get(line.path)
        if split is not None:
            parts = context.uploads[index:index + len(split.parts)]
            lines.append(_split_lines(number, split, parts))
            index += len(parts)
            continue
        index += 1
        facts = [format_size(line.size)]
        if line.shape:
            facts.append(line.shape)
        text = f"{number}. {shown_name_noted(line.name)} ({'; '.join(facts)})"
        if line.original:
            text += f", prepared from {shown_name_noted(line.original)}"
        lines.append(text)
    for line in code:
        number += 1
        lines.append(f"{number}. {shown_name_noted(line.name)} ({format_size(line.size)}; {line.shape})")
    said = [context.order_note] if context.order_note else []
    if code and context.uploads:
        said.append("The code comes after the data.")
    return "\n".join(lines) + ("\n\n" + " ".join(said) if said else "")


def _split_lines(number: int, split: SplitTable, parts: list[UploadLine]) -> str:
    """One table uploaded as parts: the parts, and how to put them back together."""
    shape = _ROWS.sub(f"{split.rows} rows × " if split.rows else "", parts[0].shape, count=1)
    facts = [f"{format_size(sum(part.size for part in parts))} in all"] + ([shape] if shape else [])
    lines = [f"{number}. {shown_name_noted(split.name)}, uploaded as {len(parts)} parts ({'; '.join(facts)}):"]
    for part in parts:
        counted = _rows_of(part.shape)
        rows = "" if counted is None else f"; {'' if counted[1] else '≈ '}{counted[0]:,} rows"
        lines.append(f"   - {shown_name_noted(part.name)} ({format_size(part.size)}{rows})")
    if split.rows and split.exact:
        check = f"check that it has {split.rows} rows"
    elif split.rows:
        check = f"check that it has about {split.rows.removeprefix('≈ ')} rows (an estimate)"
    else:
        check = "check that no row was lost or doubled"
    lines.append(f"   Put these parts back together first: read them in this order and concatenate them into one "
                 f"table, {shown_name(split.name)} (each part starts with the same header row: keep it once), then "
                 f"{check}.")
    return "\n".join(lines)


#: Outputs named one by one in a prompt; past this the rest are counted (a chat cannot use a list of 10,000).
OUTPUTS_LISTED = 60


def _output_lines(context: ComposeContext, *, missing_only: bool = False) -> str:
    names = [] if missing_only else list(context.outputs)
    lines = [_output_line(context, name) for name in names[:OUTPUTS_LISTED]]
    if len(names) > OUTPUTS_LISTED:
        lines.append(f"   - and {len(names) - OUTPUTS_LISTED:,} more files like these in OUTPUT/")
    if context.missing:
        present = {output_key(name) for name in context.outputs}
        missing = [name for name in context.missing if output_key(name) not in present]
        for name in missing[:OUTPUTS_LISTED]:
            lines.append(_output_line(context, name, " (made in the earlier chat, never saved)"))
        if len(missing) > OUTPUTS_LISTED:
            lines.append(f"   - and {len(missing) - OUTPUTS_LISTED:,} more made in the earlier chat, never saved")
    if not lines:
        return "   - every chart, table and file the analysis produces"
    if any(detail.targets and not detail.targets.startswith("could not") and not detail.pending
           for name, detail in context.output_details.items() if name in names[:OUTPUTS_LISTED]):
        lines.append("   For each output with numbers to check, report what your copy gives beside them and say "
                     "which differ and why.")
    return "\n".join(lines)


def _output_line(context: ComposeContext, name: str, suffix: str = "") -> str:
    """One output: its name, what it is (:mod:`liferaft.core.outputs`), and the numbers to check it against."""
    line = f"   - {shown_name_noted(name)}{suffix}"
    detail = context.output_details.get(name)
    if detail is None:
        return line
    if detail.description:
        line += f": {detail.description}"
    if detail.targets:
        line += f"\n     Numbers to check: {detail.targets}"
    return line


#: The heading the note's "Next prompt if the session expires" goes under: it leads the note, as the user wrote it.
OWN_WORDS = "In my own words"


def _note_text(context: ComposeContext, *, with_brief: bool = False) -> str:
    """The restart note's sections: its next prompt first (quoted: the user's own words), then the brief when the
    template has no place of its own for it, then the rest in the note's order."""
    parts = []
    if context.next_prompt:
        quoted = "\n".join(f"> {line}".rstrip() for line in context.next_prompt.splitlines())
        parts.append(f"### {OWN_WORDS}\n\n{quoted}")
    if with_brief and context.brief:
        parts.append(f"### Project brief\n\n{context.brief}")
    parts += [f"### {heading}\n\n{text}" for _key, heading, text in context.note_sections]
    if not parts and context.brief:  # the brief went to its own place: the note holds nothing else
        return "(my restart note holds only the project brief: work from it and the files, and tell me what " \
               "you assume)"
    if not parts:
        return "(no restart note yet: work from the files and tell me what you assume)"
    return "\n\n".join(parts)


def _code_block(path: str, text: str, cut_bytes: int = 0) -> str:
    fence = "```"
    while fence in text:
        fence += "`"
    language = {".py": "python", ".sql": "sql", ".r": "r", ".ipynb": "python"}.get(
        Path(path).suffix.lower(), "")
    path = shown_name(path)
    block = f"### {path}\n\n{fence}{language}\n{text.rstrip()}\n{fence}"
    if cut_bytes:
        block += f"\n\n(The last {format_size(cut_bytes)} of {path} are not included.)"
    return block


def assemble(template: Template, context: ComposeContext, *, include_code: bool = False,
             budget: int = DEFAULT_BUDGET, output: str | None = None, date: str = "",
             note_request: str = "") -> ComposedPrompt:
    """Fill ``template`` from ``context``. The code goes to the upload list, after the data, and the prompt asks
    the chat to run it; with ``include_code`` it goes inline instead, cut (and the cut named in the prompt) when
    the whole would pass ``budget`` tokens."""
    used = {match[1] for match in _PLACEHOLDER.finditer(template.body)}
    takes_code = "code" in used
    inline = include_code and takes_code
    values: dict[str, str] = {
        "project": context.project,
        "brief": (f"About the project ({context.project}): {context.brief}" if context.brief
                  else f"The project: {context.project}."),
        "uploads": _upload_lines(context, inline),
        "note": _note_text(context, with_brief="brief" not in used),
        "outputs": _output_lines(context),
        "output": shown_name(output or (context.missing[0] if context.missing else
                                        context.outputs[0] if context.outputs else "the output")),
        "code_hint": "",
        "code": "",
        "note_request": note_request,
        "date": date,
    }
    warnings: list[str] = []
    code = [(path, text) for path, text in context.code] if inline else []
    values["code_hint"] = _code_hint(context, inline)
    base = _tidy(_fill(template.body, values))
    left_out = _sections_left_out(context, used)
    if left_out:
        base = base.rstrip("\n") + "\n\n" + left_out + "\n"
    base_tokens, _ = count_tokens(base)
    text, cut = base, []
    if code:
        # Fit by measuring, not guessing: the room shrinks by what the last try overshot.
        room = budget - base_tokens
        for _ in range(8):
            section, cut = _code_section(code, context, room, budget)
            text = _tidy(_fill(template.body, {**values, "code": section}))
            if left_out:
                text = text.rstrip("\n") + "\n\n" + left_out + "\n"
            tokens, _exact = count_tokens(text)
            if tokens <= budget or room <= 0:
                break
            room -= tokens - budget + 20
    available = [*(line.name for line in context.uploads), *(line.original for line in context.uploads
                                                               if line.original),
                 *(line.name for line in context.code_files), *context.outputs, *context.missing,
                 *([output] if output else [])]
    if template.name == "note":
        unavailable = []
    elif code and not cut:  # the code whole: its names are scanned once, not on every keystroke
        unavailable = prompt_files.names_not_available(base, available, [body for _path, body in code])
    else:
        unavailable = prompt_files.names_not_available(text, available)
    if unavailable:
        text = _say_not_attached(text, values["uploads"], unavailable)
    tokens, exact = count_tokens(text)
    if tokens > budget:
        if base_tokens > budget:
            warnings.append(f"{tokens:,} tokens: over the budget of {budget:,} even without the code; shorten the "
                            "restart note or raise the budget")
        else:
            warnings.append(f"{tokens:,} tokens: over the budget of {budget:,}")
    if not context.note_sections and not context.next_prompt and not context.brief and template.name != "note":
        warnings.append("the restart note is empty: a new chat gets only the file list")
    if unavailable:
        warnings.append(f"the prompt names {format_count(len(unavailable), 'file')} the chat will not have "
                        f"(not uploaded, inline or an output to make): {', '.join(unavailable[:5])}"
                        + (" …" if len(unavailable) > 5 else "") + "; put "
                        + ("it" if len(unavailable) == 1 else "them") + " in SOURCE/, or take "
                        + ("it" if len(unavailable) == 1 else "them") + " out of the restart note")
    warnings += context.problems
    uploads = list(context.upload_paths) + ([] if inline else list(context.code_paths))
    if (context.files_per_window and not context.data_too_many and len(uploads) > context.files_per_window):
        warnings.append(f"{len(uploads)} files to upload with the code: more than the {context.files_per_window} a "
                        f"chat accepts in {context.window_hours:g} hours; upload the data first, or put the code "
                        "inline (i)")
    if include_code and not takes_code:
        warnings.append(f"the {template.title.lower()} template has no place for code: it is in the upload list")
    warnings += [why for why in context.code_skipped if inline or "odd characters" not in why]
    if cut:
        warnings.append("cut to fit the token budget: " + "; ".join(cut))
    warnings = [shown_name(warning) for warning in warnings]
    return ComposedPrompt(text, template, tokens, exact, budget, warnings, [shown_name(part) for part in cut],
                          uploads, unavailable)


def _code_hint(context: ComposeContext, inline: bool) -> str:
    """How step 3 of the rerun asks for the code to be used: run the attached scripts, or read the code below."""
    if not context.code_files:
        return ""
    where = ""
    if any(("SOURCE" in text or "OUTPUT" in text) and _PROJECT_FOLDERS.search(text) for _path, text in context.code):
        where = (" (it was written for my project folder, with the data in SOURCE/ and the results in OUTPUT/: "
                 "point those paths at /mnt/data/ first)")
    if inline:
        return ", using the code below as the reference" + where
    names = [shown_name(line.name) for line in context.code_files]
    if len(names) == 1:
        return f" by running the attached {names[0]}" + where
    return (f" by running the attached code in the order listed ({', '.join(names[:-1])}, then {names[-1]})"
            + where)


def uploaded_code_secrets(prompt: ComposedPrompt, context: ComposeContext) -> list[str]:
    """Warnings for credentials in the code files ``prompt`` asks to upload: they leave this machine as they are
    (the secret gate only redacts what goes inline). Each file is scanned once and remembered. Raises
    :class:`liferaft.core.secrets.SecretScannerUnavailable` when the scanner cannot run."""
    uploaded = set(prompt.upload_paths)
    warnings = []
    for path, (shown, text) in zip(context.code_paths, context.code, strict=False):
        if path not in uploaded:
            continue
        found = _code_findings(text)
        if found:
            line, kind = found[0]
            more = f" and {len(found) - 1} more" if len(found) > 1 else ""
            warnings.append(f"{shown_name(shown)}, line {line}: a possible {kind}{more} in code that goes in the "
                            "upload list as it is: take it out of the file, or put the code inline (i, "
                            "--include-code), where it is redacted")
    return warnings


@functools.lru_cache(maxsize=64)
def _code_findings(text: str) -> tuple[tuple[int, str], ...]:
    from liferaft.core.secrets import scan_text

    return tuple((finding.line, str(finding.kind)) for finding in scan_text(text))


#: Code that names the project's folders: it must be pointed at /mnt/data/ to run in the chat.
_PROJECT_FOLDERS = re.compile(r"\b(?:SOURCE|OUTPUT)\b")


def _sections_left_out(context: ComposeContext, used: set[str]) -> str:
    """The sentence that names the restart note's sections a template has no place for ("" when it carries them
    all, or asks for a note)."""
    if "note_request" in used or "note" in used:
        return ""
    from liferaft.core.restart_note import SECTIONS

    next_heading = next((section.heading for section in SECTIONS if section.key == "next_prompt"), OWN_WORDS)
    headings = ([next_heading] if context.next_prompt else []) + [heading for _key, heading, _text
                                                                  in context.note_sections]
    if context.brief and "brief" not in used:
        headings.insert(0, "Project brief")
    if not headings:
        return ""
    return (f"(Not in this message: my restart note's {', '.join(headings)}: this template has no place for "
            f"{'it' if len(headings) == 1 else 'them'}.)")


def _say_not_attached(text: str, uploads: str, names: list[str]) -> str:
    """``text`` with a line after the upload list (at the end without one) that says which of the files it names
    the chat will not have, so that it does not look for them."""
    shown = ", ".join(shown_name(name) for name in names)
    it, they = ("it", "It is") if len(names) == 1 else ("them", "They are")
    line = (f"Mentioned in this message but not attached: {shown}. {they} not in this chat: do not look for {it}, "
            f"and tell me if the work needs {it}.")
    anchor = text.find(uploads) if uploads else -1
    if anchor < 0:
        return text.rstrip("\n") + "\n\n" + line + "\n"
    end = anchor + len(uploads)
    return text[:end] + "\n\n" + line + text[end:]


def _tidy(text: str) -> str:
    # Names, and anything else the note or the code holds, made inert: the prompt is printed and copied.
    return shown_lines(re.sub(r"\n{3,}", "\n\n", text).strip()) + "\n"


def _code_section(code: list[tuple[str, str]], context: ComposeContext, room: int,
                  budget: int) -> tuple[str, list[str]]:
    """The code section within ``room`` tokens, and what was left out (in words)."""
    reserve = 60 + 12 * len(code)  # the heading and the sentence that names what was cut
    room -= reserve
    blocks: list[str] = []
    cut: list[str] = []
    for index, (path, body) in enumerate(code):
        block = _code_block(path, body, context.code_cut.get(path, 0))
        block_tokens, _ = count_tokens(block)
        if block_tokens <= room:
            blocks.append(block)
            room -= block_tokens
            continue
        kept = _cut_to(body, room * 4 - 200) if room > 100 else ""
        lines_left = body.count("\n") + 1 - (kept.count("\n") + 1 if kept else 0)
        if kept:
            blocks.append(_code_block(path, kept) + f"\n\n(The last {lines_left:,} lines of {path} are cut "
                          f"to keep this message within {budget:,} tokens.)")
            cut.append(f"the last {lines_left:,} lines of {path}")
        else:
            cut.append(f"{path} ({body.count(chr(10)) + 1:,} lines)")
        cut += [later for later, _ in code[index + 1:]]
        break
    section = "\n\n## The code from the earlier session\n\n" + "\n\n".join(blocks) if blocks else ""
    if cut:
        section += "\n\nLeft out to fit the token budget: " + "; ".join(cut) + ". Ask me for it if you need it."
    return section, cut


def _fill(body: str, values: Mapping[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda match: values.get(match[1], match[0]), body)


def _cut_to(text: str, size: int) -> str:
    """The start of ``text``, at most ``size`` bytes of UTF-8 (what the estimate counts), ending at a line end."""
    if size <= 0:
        return ""
    head = text.encode("utf-8")[:size].decode("utf-8", errors="ignore")
    end = head.rfind("\n")
    return head[:end] if end > 0 else ""
