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

import math
import re
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from liferaft.core.outbound import Gated as Gated
from liferaft.core.outbound import Release as Release
from liferaft.core.outbound import gate as gate
from liferaft.core.outbound import release as release
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
_DUPLICATE = re.compile(r"\s*\(\d+\)(?=\.[^.]+$)")


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


def _shape(root: Path, path: str, kind: str) -> tuple[str, list[str]]:
    """The table's shape as the prompt says it, and every one of its column names, whole (for the secret gate)."""
    if kind not in ("csv", "tsv", "xlsx", "parquet"):
        return "", []
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
        shown = ", ".join(names[:SHOWN_COLUMNS]) + (", …" if len(names) > SHOWN_COLUMNS else "")
        parts.append(f"columns: {shown}")
    if preview.sheet is not None and len(preview.sheets) > 1:
        parts.append(f"sheet {preview.sheet} of {len(preview.sheets)}")
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
    name = shown_name(urllib.parse.unquote(name).strip()).rpartition("/")[2]
    return _DUPLICATE.sub("", name).casefold()


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
           cancelled: Callable[[], bool] | None = None) -> ComposeContext:
    """Everything a prompt is made of. Reads files (tables' headers, the note, the code): not on the UI thread."""
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
    for record in sorted(groups[Role.CODE], key=lambda r: r.path):
        if record.kind not in CODE_KINDS:
            continue
        if "outside_root" in record.flags:
            context.ctx.code_skipped.append(f"{record.display_path} is a link out of the project: not included")
            continue
        context.add_code(root / record.path, record.display_path, record.size)
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
    return context.ctx


class ContextBuilder:
    """Collects a :class:`ComposeContext`; reads code files in bounded pieces."""

    def __init__(self, root: Path, name: str) -> None:
        self.root = root
        self.ctx = ComposeContext(name)

    def add_upload(self, line: UploadLine, path: Path) -> None:
        self.ctx.uploads.append(line)
        self.ctx.upload_paths.append(path)

    def add_code(self, path: Path, shown: str, size: int) -> None:
        from liferaft.core.storage import read_small_file

        notebook = path.suffix.lower() == ".ipynb"
        limit = MAX_NOTEBOOK_BYTES if notebook else MAX_CODE_BYTES
        try:
            raw = read_small_file(path, limit)
        except OSError as exc:
            self.ctx.code_skipped.append(f"{shown} cannot be read ({getattr(exc, 'strerror', None) or exc}): "
                                         "not included")
            return
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("utf-8", errors="replace")
            self.ctx.code_skipped.append(f"{shown} is not UTF-8: its odd characters show as �")
        text = text.replace("\r\n", "\n")
        if notebook:
            code = _notebook_code(text)
            if code is None:
                self.ctx.code_skipped.append(f"{shown} is not a notebook Liferaft can read: not included")
                return
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
            parts.append("".join(source) if isinstance(source, list) else str(source))
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


def _upload_lines(context: ComposeContext) -> str:
    if not context.uploads:
        return "(no files: the analysis folder has nothing in SOURCE/)"
    lines = []
    for number, line in enumerate(context.uploads, 1):
        facts = [format_size(line.size)]
        if line.shape:
            facts.append(line.shape)
        text = f"{number}. {shown_name_noted(line.name)} ({'; '.join(facts)})"
        if line.original:
            text += f", prepared from {shown_name_noted(line.original)}"
        lines.append(text)
    return "\n".join(lines)


#: Outputs named one by one in a prompt; past this the rest are counted (a chat cannot use a list of 10,000).
OUTPUTS_LISTED = 60


def _output_lines(context: ComposeContext, *, missing_only: bool = False) -> str:
    names = [] if missing_only else list(context.outputs)
    lines = [f"   - {shown_name_noted(name)}" for name in names[:OUTPUTS_LISTED]]
    if len(names) > OUTPUTS_LISTED:
        lines.append(f"   - and {len(names) - OUTPUTS_LISTED:,} more files like these in OUTPUT/")
    if context.missing:
        present = {output_key(name) for name in context.outputs}
        missing = [name for name in context.missing if output_key(name) not in present]
        for name in missing[:OUTPUTS_LISTED]:
            lines.append(f"   - {shown_name_noted(name)} (made in the earlier chat, never saved)")
        if len(missing) > OUTPUTS_LISTED:
            lines.append(f"   - and {len(missing) - OUTPUTS_LISTED:,} more made in the earlier chat, never saved")
    if not lines:
        return "   - every chart, table and file the analysis produces"
    return "\n".join(lines)


def _note_text(context: ComposeContext) -> str:
    if not context.note_sections:
        return "(no restart note yet: work from the files and tell me what you assume)"
    parts = [f"### {heading}\n\n{text}" for _key, heading, text in context.note_sections]
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
    """Fill ``template`` from ``context``. With ``include_code`` the saved code goes inline, cut (and the cut
    named in the prompt) when the whole would pass ``budget`` tokens."""
    values: dict[str, str] = {
        "project": context.project,
        "brief": (f"About the project ({context.project}): {context.brief}" if context.brief
                  else f"The project: {context.project}."),
        "uploads": _upload_lines(context),
        "note": _note_text(context),
        "outputs": _output_lines(context),
        "output": shown_name(output or (context.missing[0] if context.missing else
                                        context.outputs[0] if context.outputs else "the output")),
        "code_hint": "",
        "code": "",
        "note_request": note_request,
        "date": date,
    }
    warnings: list[str] = []
    takes_code = any(match[1] == "code" for match in _PLACEHOLDER.finditer(template.body))
    code = [(path, text) for path, text in context.code] if include_code and takes_code else []
    if include_code and code:
        values["code_hint"] = ", using the code below as the reference"
    base = _tidy(_fill(template.body, values))
    base_tokens, _ = count_tokens(base)
    text, cut = base, []
    if code:
        # Fit by measuring, not guessing: the room shrinks by what the last try overshot.
        room = budget - base_tokens
        for _ in range(8):
            section, cut = _code_section(code, context, room, budget)
            text = _tidy(_fill(template.body, {**values, "code": section}))
            tokens, _exact = count_tokens(text)
            if tokens <= budget or room <= 0:
                break
            room -= tokens - budget + 20
    tokens, exact = count_tokens(text)
    if tokens > budget:
        if base_tokens > budget:
            warnings.append(f"{tokens:,} tokens: over the budget of {budget:,} even without the code; shorten the "
                            "restart note or raise the budget")
        else:
            warnings.append(f"{tokens:,} tokens: over the budget of {budget:,}")
    if not context.note_sections and template.name != "note":
        warnings.append("the restart note is empty: a new chat gets only the file list")
    warnings += context.problems
    if include_code:
        if not takes_code:
            warnings.append(f"the {template.title.lower()} template has no place for code: none included")
        warnings += context.code_skipped
    if cut:
        warnings.append("cut to fit the token budget: " + "; ".join(cut))
    warnings = [shown_name(warning) for warning in warnings]
    return ComposedPrompt(text, template, tokens, exact, budget, warnings, [shown_name(part) for part in cut])


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
