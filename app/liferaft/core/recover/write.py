"""Write what a conversation ran and made into the project: a script, a notebook, the note, the figures.

:func:`import_conversation` is the whole import: ``CODE/recovered/<slug>.py`` (every cell in order with the prompt
it answered and its result; failed and cancelled cells kept as comments; a banner at each sandbox reset;
``/mnt/data`` paths mapped to SOURCE for uploads and OUTPUT for the rest; the sandbox-only helpers stubbed), an
optional ``.ipynb`` with the same cells, the restart note's empty sections filled (and items it lacks appended),
the figures the export holds copied into ``OUTPUT/recovered/``, and the record in ``.liferaft/recovered.json``.

Everything is built in memory first, then each file is written atomically and never over another file: the same
content already there is "unchanged" (re-importing changes nothing), different content gets a new name.
"""

from __future__ import annotations

import io
import json
import re
import time
import tokenize
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from liferaft.core import storage
from liferaft.core.recover.extract import (
    STATUS_CANCELLED,
    STATUS_FAILED,
    STATUS_NO_RESULT,
    STATUS_SUCCESS,
    STATUS_TOOL_ERROR,
    STATUS_UNKNOWN,
    CodeCell,
    Conversation,
    clean_text,
    extract,
)
from liferaft.core.roles import Role

if TYPE_CHECKING:
    from liferaft.core.scan import Inventory

#: Sub-folder of CODE and of OUTPUT that imports write into.
RECOVERED_DIR = "recovered"
#: How many cells the note's "code decisions" lists at most.
DECISIONS_LIMIT = 40


class RecoverWriteError(Exception):
    """The import cannot be done; the message is one line for the user."""


@dataclass
class ImportResult:
    conversation: Conversation
    written: list[str] = field(default_factory=list)  # project-relative paths written now
    unchanged: list[str] = field(default_factory=list)  # already there with the same content
    script: str | None = None
    notebook: str | None = None
    note: str | None = None
    figures: list[str] = field(default_factory=list)
    missing_figures: list[str] = field(default_factory=list)
    uploads_in_source: dict[str, str | None] = field(default_factory=dict)  # upload name → SOURCE path or None
    outputs_present: dict[str, bool] = field(default_factory=dict)  # generated path → in OUTPUT
    problems: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        conv = self.conversation
        return {
            "conversation": {"id": conv.id, "title": conv.title},
            "code_cells": len(conv.cells),
            "failed_cells": len(conv.failed_cells),
            "resets": len(conv.resets),
            "uploads": [{**upload.to_json(), "in_source": self.uploads_in_source.get(upload.name)}
                        for upload in conv.uploads],
            "generated_files": [{**made.to_json(), "in_output": self.outputs_present.get(made.path, False)}
                                for made in conv.generated],
            "written": self.written,
            "unchanged": self.unchanged,
            "problems": conv.problems + self.problems,
        }


# --- folders ------------------------------------------------------------------------------------------------


def role_folder(root: Path, inventory: Inventory, role: Role) -> str:
    """The folder that plays ``role`` (``SOURCE``, or ``data`` say), relative to the project; ``role.folder``
    when the project has none."""
    names = sorted(name for name, folder_role in inventory.role_folders.items() if folder_role is role)
    if role.folder in names:
        return role.folder
    return names[0] if names else role.folder


def slugify(title: str, fallback: str = "conversation") -> str:
    """``"Sales by région!"`` → ``"sales-by-region"``: a file name from a title (ASCII, at most 60 characters)."""
    import unicodedata

    ascii_text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:60].strip("-")
    return slug or re.sub(r"[^a-z0-9]+", "-", fallback.lower()).strip("-")[:60] or "conversation"


def sniff_extension(data: bytes) -> str | None:
    """An image's or document's real type from its first bytes: ``png``, ``jpg``, ``gif``, ``webp``, ``pdf``,
    ``svg``; None for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data.startswith(b"%PDF"):
        return "pdf"
    head = data[:512].lstrip().lower()
    if head.startswith(b"<svg") or (head.startswith(b"<?xml") and b"<svg" in head):
        return "svg"
    return None


# --- the script ---------------------------------------------------------------------------------------------

_MAGIC = re.compile(r"^(\s*)([!%].*)$", re.MULTILINE)
_QUOTED_MNT = re.compile(r"""(?<![\w])(["'])(/mnt/data(?:/[^"'\n]*)?)\1""")


def _when(seconds: float | None) -> str:
    if seconds is None:
        return ""
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(seconds))


def _one_line(text: str, limit: int = 100) -> str:
    line = " ".join(clean_text(text).split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


class PathMap:
    """Where a ``/mnt/data/...`` path goes in the project: an upload to SOURCE (where it is, when SOURCE has it),
    anything else to OUTPUT."""

    def __init__(self, uploads: dict[str, str | None]) -> None:
        self.uploads = {name.casefold(): (name, where) for name, where in uploads.items()}

    def expression(self, value: str) -> str:
        rest = value.removeprefix("/mnt/data").strip("/")
        slash = value.endswith("/") and bool(rest)
        if not rest:
            return "str(OUTPUT)" + (' + "/"' if value.endswith("/") else "")
        found = self.uploads.get(rest.casefold())
        if found is not None:
            name, where = found
            base, rel = "SOURCE", where or name
        else:
            base, rel = "OUTPUT", rest
        expression = f"str({base} / {json.dumps(rel, ensure_ascii=False)})"
        return f"({expression} + \"/\")" if slash else expression


def _rewrite_token(token: str, paths: PathMap) -> str | None:
    match = re.match(r"([A-Za-z]*)('''|\"\"\"|'|\")", token)
    if not match:
        return None
    prefix = match[1].lower()
    quote = match[2]
    body = token[len(match[0]):len(token) - len(quote)]
    if "b" in prefix:
        return None
    if "f" in prefix:
        if not body.startswith("/mnt/data"):
            return None
        rest = body.removeprefix("/mnt/data")
        if rest and not rest.startswith("/"):
            return None
        literal = rest.lstrip("/").split("{", 1)[0]
        first = literal.split("/", 1)[0] if "/" in literal else ""
        base = "SOURCE" if first and first.casefold() in paths.uploads else "OUTPUT"
        return f"{match[1]}{quote}{{{base}}}{rest}{quote}"
    import ast

    try:
        value = ast.literal_eval(token)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    if not isinstance(value, str) or not (value == "/mnt/data" or value.startswith("/mnt/data/")):
        return None
    return paths.expression(value)


def map_paths(code: str, paths: PathMap) -> str:
    """``code`` with its string literals that start with ``/mnt/data`` rewritten to project paths
    (``str(SOURCE / "sales.csv")``), by tokens; a cell that does not tokenize gets a plain text replace of
    quoted literals instead."""
    if "/mnt/data" not in code:
        return code
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(code).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return _QUOTED_MNT.sub(lambda match: paths.expression(match[2]), code)
    lines = code.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    edits: list[tuple[int, int, str]] = []
    for token in tokens:
        if token.type != tokenize.STRING or "/mnt/data" not in token.string:
            continue
        new = _rewrite_token(token.string, paths)
        if new is None:
            continue
        start = offsets[token.start[0] - 1] + token.start[1]
        end = offsets[token.end[0] - 1] + token.end[1]
        edits.append((start, end, new))
    for start, end, new in reversed(edits):
        code = code[:start] + new + code[end:]
    return code


def _commented(code: str) -> str:
    return "\n".join(f"# {line}" if line.strip() else "#" for line in code.rstrip("\n").split("\n"))


def _status_line(cell: CodeCell) -> str:
    if cell.reset:
        return "did not run: the sandbox had been reset"
    return {
        STATUS_SUCCESS: "ran fine",
        STATUS_FAILED: f"failed: {_one_line(cell.error or 'an error', 200)}",
        STATUS_CANCELLED: f"cancelled: {_one_line(cell.error or 'it did not finish', 200)}",
        STATUS_TOOL_ERROR: f"the sandbox failed to run it: {_one_line(cell.error or 'tool error', 200)}",
        STATUS_UNKNOWN: "ran (its result was not recorded)",
        STATUS_NO_RESULT: "no result in the export",
    }.get(cell.status, cell.status)


def cell_source(cell: CodeCell, paths: PathMap) -> tuple[str, bool]:
    """The cell's code as it goes in the script, and whether it is live (not commented out)."""
    code = cell.code.strip("\n")
    code = _MAGIC.sub(lambda m: f"{m[1]}# IPython only, not run here: {m[2]}", code)
    code = map_paths(code, paths)
    if not cell.ran:
        return _commented(code), False
    try:
        compile(code + "\n", f"cell {cell.index}", "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as exc:
        reason = getattr(exc, "msg", None) or str(exc)
        return f"# Not valid Python here ({_one_line(reason, 80)}): kept as a comment.\n{_commented(code)}", False
    return code, True


def _stub_source(source_rel: str, output_rel: str, depth: int, anchor: str = "Path(__file__).resolve()") -> str:
    return f'''import os
import re
import sys
import types
from pathlib import Path

PROJECT = {anchor}.parents[{depth}]
SOURCE = PROJECT / {json.dumps(source_rel)}  # the uploads: put the chat's files here
OUTPUT = PROJECT / {json.dumps(output_rel)}  # where the chat's /mnt/data outputs go
OUTPUT.mkdir(parents=True, exist_ok=True)
os.environ.setdefault("MPLBACKEND", "Agg")  # charts are saved, never shown in a window


def display(*objects, **_options):
    """IPython's display(): printed here."""
    for obj in objects:
        print(obj)


def display_dataframe_to_user(name, dataframe, *_args, **_options):
    """The sandbox's interactive table: saved in OUTPUT as a CSV here."""
    safe = re.sub(r'[\\\\/:*?"<>|\\x00-\\x1f]+', "-", str(name)).strip(" .-") or "table"
    path = OUTPUT / (safe[:120] + ".csv" if not safe.lower().endswith(".csv") else safe[:124])
    dataframe.to_csv(path, index=type(dataframe.index).__name__ != "RangeIndex")
    print(f"table {{name!r}} saved as {{path}}")
    return dataframe


def _no_op(*_args, **_options):
    return None


def _save_figures(names):
    """The charts a cell showed in the chat, saved in OUTPUT under the names the import gave them (never over a
    file: a copy from the export stays), then closed, as the notebook did after each cell."""
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is None:
        return
    for number, name in zip(pyplot.get_fignums(), names):
        path = OUTPUT / name
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            pyplot.figure(number).savefig(path)
    pyplot.close("all")


# The sandbox's helper modules do not exist here: stand-ins that save tables instead of showing them.
for _module in ("ace_tools", "caas_jupyter_tools", "ace_tools_open"):
    _stub = types.ModuleType(_module)
    _stub.display_dataframe_to_user = display_dataframe_to_user
    _stub.display_chart_to_user = _no_op
    _stub.display_matplotlib_image_to_user = _no_op
    sys.modules[_module] = _stub
'''


_BANNER = "# " + "=" * 100


def _folders_made(conv: Conversation, paths: PathMap) -> list[str]:
    """OUTPUT sub-folders the chat's code wrote into: made up front, as the sandbox had them."""
    folders = []
    for made in conv.generated:
        folder = made.path.rpartition("/")[0]
        if made.kind in ("code", "link") and folder and folder not in folders and \
                folder.casefold() not in paths.uploads:
            folders.append(folder)
    return folders


def render_script(conv: Conversation, paths: PathMap, *, source_rel: str, output_rel: str, depth: int,
                  export_name: str, figures: dict[int, list[str]] | None = None) -> str:
    """The recovered script's text (deterministic: the same conversation and project give the same bytes)."""
    title = _docstring_safe(conv.title)
    counts = f"{len(conv.cells)} cells, {len(conv.failed_cells)} failed, {len(conv.resets)} sandbox resets"
    out = [
        f'"""Recovered by Liferaft from the ChatGPT conversation "{title}" ({counts}).',
        "",
        f"Conversation id: {_docstring_safe(conv.id or 'unknown')}; export: {_docstring_safe(export_name)}.",
        "Every cell the chat ran is here in order, each after the prompt it answered and its result. Cells that",
        "failed or were cancelled stay as comments. Paths under the sandbox's /mnt/data/ now point into this",
        "project: uploads to SOURCE, everything else the chat wrote to OUTPUT. Run it with Python from anywhere;",
        "it stops at the first cell that needs a file you have not put back.",
        '"""',
        "",
        _stub_source(source_rel, output_rel, depth),
    ]
    folders = _folders_made(conv, paths)
    if folders:
        out += ["# The sub-folders of /mnt/data the chat wrote into.",
                f"for _folder in {json.dumps(folders, ensure_ascii=False)}:",
                "    (OUTPUT / _folder).mkdir(parents=True, exist_ok=True)"]
    shown_epoch = 0
    for cell in conv.cells:
        if cell.epoch > shown_epoch:
            shown_epoch = cell.epoch
            reset = next((item for item in conv.resets if item.epoch == cell.epoch), None)
            when = f" ({_when(reset.time)})" if reset and reset.time else ""
            out += ["", _BANNER,
                    f"# SANDBOX RESET{when}: the chat's sandbox was wiped here. Variables and every file made above",
                    "# were lost; the cells below started again from nothing.", _BANNER]
        source, live = cell_source(cell, paths)
        header = f"# %% Cell {cell.index}"
        if cell.time:
            header += f" · {_when(cell.time)}"
        if cell.abandoned:
            header += " · abandoned branch (the prompt was edited afterwards; it ran, and may have written files)"
        out += ["", "", header]
        if cell.prompt:
            out.append(f"# Prompt: {_one_line(cell.prompt, 110)}")
        out.append(f"# Result: {_status_line(cell)}")
        if not live and cell.ran:
            out.append("# (not run by this script)")
        out.append(source if source.strip() else "pass  # the cell was empty")
        if live and figures and figures.get(cell.index):
            out.append(f"_save_figures({json.dumps(figures[cell.index], ensure_ascii=False)})  # its charts")
    out.append("")
    return "\n".join(out)


def _docstring_safe(text: str) -> str:
    """``text`` on one line, fit for the script's docstring: no control characters, quotes or backslashes."""
    return _one_line(text, 200).replace('"', "'").replace("\\", "/")


def render_notebook(conv: Conversation, paths: PathMap, *, source_rel: str, output_rel: str, depth: int) -> str:
    """The same cells as an nbformat 4.5 notebook (JSON written here: the format is small and stable, and
    `nbformat` would be a dependency for one ``json.dumps``)."""
    # Jupyter runs a notebook in its own folder: the project is found from there.
    preamble = _stub_source(source_rel, output_rel, depth - 1, anchor="Path.cwd().resolve()")

    def lines(text: str) -> list[str]:
        parts = text.split("\n")
        return [part + "\n" for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])

    cells: list[dict[str, Any]] = [
        {"cell_type": "markdown", "id": "title", "metadata": {},
         "source": lines(f"# {conv.title}\n\nRecovered by Liferaft from a ChatGPT export; run it from the "
                         "folder it is in.")},
        {"cell_type": "code", "id": "setup", "metadata": {}, "execution_count": None, "outputs": [],
         "source": lines(preamble.rstrip("\n"))},
    ]
    for cell in conv.cells:
        source, _live = cell_source(cell, paths)
        note = [f"**Cell {cell.index}**: {_status_line(cell)}"]
        if cell.prompt:
            note.append(f"> {_one_line(cell.prompt, 300)}")
        if cell.reset:
            note.insert(0, "### Sandbox reset: everything made above was lost here")
        if cell.abandoned:
            note.append("*(abandoned branch)*")
        cells.append({"cell_type": "markdown", "id": f"cell-{cell.index}-note", "metadata": {},
                      "source": lines("\n\n".join(note))})
        cells.append({"cell_type": "code", "id": f"cell-{cell.index}", "metadata": {}, "execution_count": None,
                      "outputs": [], "source": lines(source)})
    notebook = {"cells": cells, "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python",
                                                            "name": "python3"},
                                             "language_info": {"name": "python"}},
                "nbformat": 4, "nbformat_minor": 5}
    return json.dumps(notebook, ensure_ascii=False, indent=1) + "\n"


# --- writing, never over a file -----------------------------------------------------------------------------


def _place(folder: Path, stem: str, ext: str, data: bytes) -> tuple[Path, bool]:
    """Write ``data`` as ``folder/stem.ext`` (or ``stem-2.ext``…, the first name free or holding the same bytes);
    returns the path and whether it was written (False: already there)."""
    n = 1
    while True:
        name = f"{stem}.{ext}" if n == 1 else f"{stem}-{n}.{ext}"
        path = folder / name
        try:
            if path.is_file() and not path.is_symlink() and path.stat().st_size == len(data) and \
                    path.read_bytes() == data:
                return path, False
        except OSError:
            pass
        if not path.exists() and not path.is_symlink():
            folder.mkdir(parents=True, exist_ok=True)
            try:
                storage.write_bytes(path, data, overwrite=False)
            except FileExistsError:
                n += 1
                continue
            return path, True
        n += 1


def _rel(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()


# --- the note -----------------------------------------------------------------------------------------------


def _append_items(note: Any, key: str, items: list[tuple[str, str]]) -> None:
    """Fill section ``key`` with ``items`` (match text, line) when it is empty; otherwise append the lines whose
    match text it does not mention yet, after what the user wrote (which stays byte for byte)."""
    if not items:
        return
    section = note.section(key)
    current = note.get(key)
    if not current:
        note.set(key, "\n".join(line for _match, line in items))
        return
    if key in ("files", "outputs"):
        # By file name, as the rest of Liferaft matches outputs: "by_region.png" is not "revenue_by_region.png".
        from liferaft.core.compose import named_outputs, output_key

        names = {output_key(name) for name in named_outputs(current)}
        names |= {output_key(name.rpartition("/")[2]) for name in named_outputs(current)}
        new = [line for match, line in items if output_key(match) not in names]
    else:
        known = current.casefold()
        new = [line for match, line in items if match.casefold() not in known]
    if not new or section is None:
        return
    nl = "\r\n" if "\r\n" in section.body else "\n"
    body = section.body
    stripped = body.rstrip("\r\n")
    tail = body[len(stripped):] or nl
    section.body = stripped + nl + nl.join(new) + tail


def _decision(cell: CodeCell) -> str | None:
    """What a cell did, in a few words: its first comment, else its first statement that is not an import."""
    lines = [line.strip() for line in cell.code.splitlines() if line.strip()]
    comment = next((line.lstrip("#").strip() for line in lines if line.startswith("#") and line.lstrip("#").strip()),
                   None)
    if comment:
        return _one_line(comment, 100)
    code = [line for line in lines if not line.startswith("#")]
    statement = next((line for line in code if not line.startswith(("import ", "from "))), code[0] if code else None)
    return _one_line(statement, 100) if statement else None


def prefill_from(note: Any, conv: Conversation, result: ImportResult, figure_names: dict[str, str]) -> Any:
    """``note`` with what the conversation says: files used, generated outputs, code decisions, next prompt."""
    from liferaft.core.units import format_size

    filled = note.copy()
    files = []
    for upload in conv.uploads:
        where = result.uploads_in_source.get(upload.name)
        size = f", {format_size(upload.size)}" if upload.size is not None else ""
        state = f"in {where}" if where else "not in SOURCE yet: put it back before rerunning"
        label = "project file" if upload.project_file else "uploaded to the chat"
        files.append((upload.name, f"- `{upload.name}` — {label}{size}; {state}"))
    _append_items(filled, "files", files)
    outputs = []
    for made in conv.generated:
        name = figure_names.get(made.path, made.path)
        present = result.outputs_present.get(made.path, False)
        if made.kind == "figure":
            state = "copied from the export into OUTPUT" if present else "a chart the export does not hold"
        elif present:
            state = "saved in OUTPUT"
        else:
            state = "made in the chat, not saved here"
            if made.lost:
                state += " (lost in a sandbox reset)"
        outputs.append((name.rpartition("/")[2], f"- `{name}` — {state}"))
    _append_items(filled, "outputs", outputs)
    decisions = []
    for cell in conv.cells:
        if cell.status != STATUS_SUCCESS or cell.abandoned:
            continue
        what = _decision(cell)
        if what:
            decisions.append((what, f"- Cell {cell.index}: {what}"))
        if len(decisions) >= DECISIONS_LIMIT:
            break
    _append_items(filled, "decisions", decisions)
    active_prompts = [prompt for prompt in conv.prompts if not prompt.abandoned and prompt.text]
    if active_prompts and not filled.get("next_prompt"):
        filled.set("next_prompt", active_prompts[-1].text)
    return filled


# --- the import ---------------------------------------------------------------------------------------------


def _find_in(inventory: Inventory, role: Role, name: str) -> str | None:
    from liferaft.core.compose import output_key

    key = output_key(name)
    matches = sorted(record.path for record in inventory.files if record.role is role
                     and output_key(record.name) == key)
    return matches[0] if matches else None


def _within(folder: str, path: str) -> str:
    return path[len(folder) + 1:] if path.startswith(folder + "/") else path


def import_conversation(root: Path, export: Any, conv_id: str, *, all_branches: bool = False,
                        notebook: bool = False, inventory: Inventory | None = None) -> ImportResult:
    """Import conversation ``conv_id`` (an id or a title) of ``export`` (an opened export, or a path to one) into
    the project at ``root``. Raises the export's ``ExportError`` when it cannot be read or the conversation is not
    there, :class:`RecoverWriteError` when the project cannot be written."""
    from liferaft.core.recover import sources

    if isinstance(export, (str, Path)):
        export = sources.open_export(Path(export))
    raw = export.load(conv_id)
    export_name = getattr(export, "path", None)
    export_name = Path(export_name).name if export_name else "a ChatGPT export"
    return import_raw(root, raw, asset=getattr(export, "asset", None), export_name=export_name,
                      all_branches=all_branches, notebook=notebook, inventory=inventory,
                      export_path=str(getattr(export, "path", "") or ""))


def import_raw(root: Path, raw: Any, *, asset: Any = None, export_name: str = "a ChatGPT export",
               export_path: str = "", all_branches: bool = False, notebook: bool = False,
               inventory: Inventory | None = None) -> ImportResult:
    """:func:`import_conversation` for a conversation already loaded (a raw dict); ``asset(file_id)`` gives a
    figure's bytes or None."""
    from liferaft.core.recover import record
    from liferaft.core.restart_note import NoteError, load_note, new_note, save_note, write_note
    from liferaft.core.risk import output_folder
    from liferaft.core.scan import scan

    root = Path(root)
    if inventory is None:
        from liferaft.core.project import open_project

        inventory = open_project(root).inventory
    conv = extract(raw, all_branches=all_branches)
    result = ImportResult(conv)
    source_rel = role_folder(root, inventory, Role.SOURCE)
    code_rel = role_folder(root, inventory, Role.CODE)
    output_dir = output_folder(root, inventory)
    output_rel = _rel(root, output_dir)
    slug = slugify(conv.title, conv.id or "conversation")

    # Uploads: where SOURCE has them.
    for upload in conv.uploads:
        found = _find_in(inventory, Role.SOURCE, upload.name)
        result.uploads_in_source[upload.name] = found
    known: dict[str, str | None] = {name: (_within(source_rel, where) if where else None)
                                    for name, where in result.uploads_in_source.items()}
    if not conv.uploads:  # an export that does not name the uploads (Markdown): SOURCE's files stand for them
        for item in inventory.files:
            if item.role is Role.SOURCE:
                known.setdefault(item.name, _within(source_rel, item.path))
    paths = PathMap(known)

    # Figures: the bytes the export holds, named by conversation and cell, type from the bytes.
    figure_names: dict[str, str] = {}
    figure_data: list[tuple[str, str, bytes]] = []
    per_cell: dict[int, int] = {}
    for figure in conv.figures:
        per_cell[figure.cell] = per_cell.get(figure.cell, 0) + 1
        stem = f"{slug}-cell{figure.cell:02d}-{per_cell[figure.cell]}"
        data = None
        if asset is not None:
            try:
                data = asset(figure.file_id)
            except Exception as exc:  # an asset that cannot be read is one problem, not a failed import
                result.problems.append(f"figure {figure.file_id} could not be read from the export: {exc}")
        if data:
            ext = sniff_extension(data) or "png"
            figure_data.append((figure.file_id, stem, data))
            figure_names[figure.file_id] = f"{RECOVERED_DIR}/{stem}.{ext}"
        else:
            figure_names[figure.file_id] = f"{RECOVERED_DIR}/{stem}.png"
            result.missing_figures.append(figure.file_id)

    # Build everything first.
    depth = len(Path(code_rel).parts) + 1
    by_cell: dict[int, list[str]] = {}
    for figure in conv.figures:
        by_cell.setdefault(figure.cell, []).append(figure_names[figure.file_id])
    script = render_script(conv, paths, source_rel=source_rel, output_rel=output_rel, depth=depth,
                           export_name=export_name, figures=by_cell)
    notebook_text = render_notebook(conv, paths, source_rel=source_rel, output_rel=output_rel, depth=depth) \
        if notebook else None

    def written(path: Path, fresh: bool) -> str:
        rel = _rel(root, path)
        (result.written if fresh else result.unchanged).append(rel)
        return rel

    try:
        code_dir = root / code_rel / RECOVERED_DIR
        if conv.cells:
            path, fresh = _place(code_dir, slug, "py", script.encode("utf-8"))
            result.script = written(path, fresh)
            if notebook_text is not None:
                path, fresh = _place(code_dir, Path(result.script).stem, "ipynb", notebook_text.encode("utf-8"))
                result.notebook = written(path, fresh)
        for file_id, stem, data in figure_data:
            ext = figure_names[file_id].rpartition(".")[2]
            path, fresh = _place(output_dir / RECOVERED_DIR, stem, ext, data)
            figure_names[file_id] = _within(output_rel, written(path, fresh))
            result.figures.append(_rel(root, path))
    except OSError as exc:
        raise RecoverWriteError(f"cannot write into {root}: {exc.strerror or exc}") from None

    # What OUTPUT holds now (the figures just copied included).
    if result.written:
        inventory = scan(root, _overrides(root))
    for made in conv.generated:
        if made.kind == "figure":
            made.path = figure_names.get(made.path, made.path)
            result.outputs_present[made.path] = made.file_id not in result.missing_figures
        else:
            result.outputs_present[made.path] = _find_in(inventory, Role.OUTPUT, made.name) is not None
    figure_names = {made.path: made.path for made in conv.generated}

    # The restart note.
    try:
        note, _record = load_note(root, inventory)
        before = write_note(note) if note is not None else None
        if note is None:
            note = new_note(root.name or str(root))
        filled = prefill_from(note, conv, result, figure_names)
        if write_note(filled) != before:
            path = save_note(root, inventory, filled)
            result.note = written(path, True)
        else:
            from liferaft.core.restart_note import note_path

            result.note = written(note_path(root, inventory), False)
    except NoteError as exc:
        result.problems.append(f"the restart note was not filled: {exc}")

    # The record the at-risk check reads.
    entry = {
        "conversation": {"id": conv.id, "title": conv.title},
        "export": export_path,
        "imported_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "all_branches": all_branches,
        "uploads": [{**upload.to_json(), "project_file": upload.project_file} for upload in conv.uploads],
        "generated": [made.to_json() for made in conv.generated],
        "written": sorted(set(result.written + result.unchanged) - {result.note or ""}),
    }
    try:
        changed, warnings = record.record_import(root, entry)
        result.problems += warnings
        if changed:
            result.written.append(_rel(root, record.recovered_path(root)))
    except OSError as exc:
        result.problems.append(f"the import could not be recorded in .liferaft/: {exc.strerror or exc}")
    return result


def _overrides(root: Path) -> dict[str, Role]:
    from liferaft.core.state import load_state

    return load_state(root).state.overrides
