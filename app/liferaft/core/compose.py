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

This module gathers; the templates (:mod:`.compose_templates`), the context (:mod:`.compose_context`) and the
assembling (:mod:`.compose_assemble`) live beside it, and their public names are importable from here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from liferaft.core import prompt_files
from liferaft.core.compose_assemble import DEFAULT_BUDGET as DEFAULT_BUDGET
from liferaft.core.compose_assemble import OUTPUTS_LISTED as OUTPUTS_LISTED
from liferaft.core.compose_assemble import OWN_WORDS as OWN_WORDS
from liferaft.core.compose_assemble import ComposedPrompt as ComposedPrompt
from liferaft.core.compose_assemble import assemble as assemble
from liferaft.core.compose_assemble import available_names as available_names
from liferaft.core.compose_assemble import count_tokens as count_tokens
from liferaft.core.compose_assemble import uploaded_code_secrets as uploaded_code_secrets
from liferaft.core.compose_context import ComposeContext, SplitTable, UploadLine, _rows_of, output_key
from liferaft.core.compose_templates import DEFAULT_TEMPLATE as DEFAULT_TEMPLATE
from liferaft.core.compose_templates import PLACEHOLDERS as PLACEHOLDERS
from liferaft.core.compose_templates import Template as Template
from liferaft.core.compose_templates import TemplateError as TemplateError
from liferaft.core.compose_templates import bundled_templates as bundled_templates
from liferaft.core.compose_templates import load_templates as load_templates
from liferaft.core.compose_templates import user_templates_dir as user_templates_dir
from liferaft.core.outbound import Gated as Gated
from liferaft.core.outbound import Release as Release
from liferaft.core.outbound import gate as gate
from liferaft.core.outbound import release as release
from liferaft.core.prompt_files import MAX_CODE_FILES as MAX_CODE_FILES
from liferaft.core.roles import Role
from liferaft.core.scan import Inventory, shown_name
from liferaft.core.units import format_count, format_size
from liferaft.core.uploads import UploadPlan

#: Code files read at most (bytes each): a bigger one is cut, and the prompt says so.
MAX_CODE_BYTES = 1_000_000
#: Notebooks are read up to this much (embedded images make them big); their code is then held to MAX_CODE_BYTES.
MAX_NOTEBOOK_BYTES = 32_000_000
#: Code kinds that can go inline.
CODE_KINDS = frozenset({"python", "sql", "r", "notebook", "text"})
#: Columns named per table in the upload list.
SHOWN_COLUMNS = 8

#: What an output's name may end with: a name like "e.g" or "v1.2" is not a file.
OUTPUT_EXTENSIONS = frozenset({
    "csv", "tsv", "txt", "json", "jsonl", "xlsx", "xls", "parquet", "feather", "pkl", "pickle", "png", "jpg",
    "jpeg", "gif", "svg", "webp", "pdf", "html", "htm", "md", "docx", "pptx", "zip", "py", "ipynb", "sql", "r",
})
_FILE_NAME = re.compile(r"(?<![\w\-.%])[\w\-.%]+\.([A-Za-z0-9]{1,8})(?![\w\-])")
_QUOTED_NAME = re.compile(r"`([^`\n]+\.([A-Za-z0-9]{1,8}))`")


# --- templates -------------------------------------------------------------------------------------------


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
    from liferaft.core.summary import user_outputs

    outputs = sorted(user_outputs(inventory), key=lambda r: r.path)  # a replay's files are not outputs yet
    context.ctx.outputs = [record.name for record in outputs]
    try:
        note, note_record = load_note(root, inventory)
    except OSError as exc:  # NoteError: say so, rather than pass it off as an empty note
        note, note_record = None, None
        context.ctx.problems.append(f"the restart note cannot be used: {exc}")
    if note is not None and note_record is not None:
        context.ctx.note_path = note_record.display_path
        from liferaft.core.restart_note import write_note

        context.ctx.note_text = write_note(note)
        from liferaft.core.restart_note import SECTIONS

        headings = {section.key: section.heading for section in SECTIONS}
        for section in note.sections:
            text = section.text
            if not text or section.key in ("brief", "next_prompt"):
                continue
            context.ctx.note_sections.append((section.key or "", section.heading or headings.get(section.key or "", ""),
                                              text))
        context.ctx.brief = note.get("brief")
        context.ctx.next_prompt = note.get("next_prompt")
        present = {output_key(record.name) for record in outputs}
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

    context.ctx.output_details = details(root, outputs, context.ctx.missing,
                                         note.get("outputs") if note is not None else "", context.ctx.code,
                                         wait=targets_wait)
    return context.ctx


#: How a code file is described in the upload list.
CODE_LABELS = {"python": "Python script", "notebook": "Jupyter notebook", "sql": "SQL", "r": "R script",
               "text": "text"}


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


