"""Write what a conversation ran and made into the project: a script, a notebook, the note, the figures.

:func:`import_conversation` is the whole import: ``CODE/recovered/<slug>.py`` (every cell in order with the prompt
it answered and its result; failed and cancelled cells kept as comments; a banner at each sandbox reset;
``/mnt/data`` paths mapped to SOURCE for uploads and OUTPUT for the rest; the sandbox-only helpers stubbed), an
optional ``.ipynb`` with the same cells, each canvas at its last state (code in ``CODE/recovered/``, prose in
RESTART as Markdown, named after its title), the restart note's empty sections filled (and items it lacks appended),
the figures the export holds copied into ``OUTPUT/recovered/``, and the record in ``.liferaft/recovered.json``.

Everything is built in memory and every target checked first (its folder can be made, its name is free or holds
the same bytes), then each file is written atomically and never over another file: the same content already there
is "unchanged" (re-importing changes nothing), different content gets a new name. A write that still fails takes
back what this import created (and the note it changed): nothing is left half-way.

The script and notebook are rendered by :mod:`.render`; the targets are checked and written by :mod:`.targets`.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from liferaft.core import storage
from liferaft.core.compose_context import output_key
from liferaft.core.names import portable_name
from liferaft.core.recover.conversation import STATUS_SUCCESS, CodeCell, Conversation
from liferaft.core.recover.extract import extract
from liferaft.core.recover.render import PathMap, _one_line, render_notebook, render_script
from liferaft.core.recover.render import cell_source as cell_source
from liferaft.core.recover.render import map_paths as map_paths
from liferaft.core.recover.targets import (
    RecoverWriteError,
    _check_folder,
    _make_folders,
    _note_refusal,
    _plan_file,
    _refused,
    _rel,
    _shown,
    _Target,
    _undo,
)
from liferaft.core.recover.uploads import ambiguous_names, copy_key, find_upload
from liferaft.core.roles import Role

if TYPE_CHECKING:
    from liferaft.core.recover.export import Export
    from liferaft.core.restart_note import RestartNote
    from liferaft.core.scan import Inventory

#: Sub-folder of CODE and of OUTPUT that imports write into.
RECOVERED_DIR = "recovered"


@dataclass
class ImportResult:
    conversation: Conversation
    written: list[str] = field(default_factory=list)  # project-relative paths written now
    unchanged: list[str] = field(default_factory=list)  # already there with the same content
    script: str | None = None
    notebook: str | None = None
    note: str | None = None
    figures: list[str] = field(default_factory=list)
    canvases: list[str] = field(default_factory=list)  # where each of conversation.canvases went, in order
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
            "canvases": [{**canvas.to_json(), "path": path}
                         for canvas, path in zip(conv.canvases, self.canvases, strict=False)],
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
    """``"Sales by région!"`` → ``"sales-by-region"``: a file name from a title (ASCII, at most 61 characters),
    valid everywhere (:func:`liferaft.core.names.portable_name`)."""
    import unicodedata

    ascii_text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:60].strip("-")
    slug = slug or re.sub(r"[^a-z0-9]+", "-", fallback.lower()).strip("-")[:60] or "conversation"
    return portable_name(slug)  # "con" (a title "Con") is a device name on Windows: "con_"


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


# --- the note -----------------------------------------------------------------------------------------------

#: How many cells the note's "code decisions" lists at most.
DECISIONS_LIMIT = 40


def _append_items(note: RestartNote, key: str, items: list[tuple[str, str]]) -> None:
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
        from liferaft.core.compose import named_outputs

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


def prefill_from(note: RestartNote, conv: Conversation, result: ImportResult,
                 figure_names: dict[str, str]) -> RestartNote:
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


def _names_in(inventory: Inventory, role: Role) -> dict[str, str]:
    """The files of ``role`` by matching name (see :func:`liferaft.core.compose.output_key`): the first path
    in sort order when several match."""
    found: dict[str, str] = {}
    for record in sorted((r for r in inventory.files if r.role is role), key=lambda r: r.path):
        found.setdefault(output_key(record.name), record.path)
    return found


def _within(folder: str, path: str) -> str:
    return path[len(folder) + 1:] if path.startswith(folder + "/") else path


def import_conversation(root: Path, export: Export | str | Path, conv_id: str, *, all_branches: bool = False,
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


@dataclass(slots=True)
class _ImportPlan:
    """What an import will write, built in memory before anything is checked or written."""

    root: Path
    inventory: Inventory
    conv: Conversation
    result: ImportResult
    output_dir: Path
    output_rel: str
    code_dir: Path
    slug: str
    script: str
    notebook_text: str | None
    figure_names: dict[str, str]
    """Figure file id → its path in OUTPUT (as planned, then as checked)."""
    figure_data: list[tuple[str, str, bytes]]
    """(file id, file stem, bytes) of each figure the export holds."""
    canvas_files: list[tuple[Path, str, str, bytes]] = field(default_factory=list)
    """(folder, file stem, extension, bytes) of each canvas: code in CODE/recovered, prose in RESTART."""
    targets: list[_Target] = field(default_factory=list)
    record_path: Path | None = None
    note_text: str | None = None
    note_file: Path | None = None
    filled: Any = None
    """The restart note as it will be saved."""


def import_raw(root: Path, raw: Any, *, asset: Any = None, export_name: str = "a ChatGPT export",
               export_path: str = "", all_branches: bool = False, notebook: bool = False,
               inventory: Inventory | None = None) -> ImportResult:
    """:func:`import_conversation` for a conversation already loaded (a raw dict); ``asset(file_id)`` gives a
    figure's bytes or None. Three steps: plan (everything built in memory), check (every target, before any file
    is written), apply (the writes, each atomic, taken back on a failure)."""
    root = Path(root)
    if inventory is None:
        from liferaft.core.project import open_project

        inventory = open_project(root).inventory
    plan = _plan_import(root, raw, inventory, asset=asset, export_name=export_name, all_branches=all_branches,
                        notebook=notebook)
    _check_import(plan)
    return _apply_import(plan, export_path=export_path, all_branches=all_branches)


def _plan_import(root: Path, raw: Any, inventory: Inventory, *, asset: Any, export_name: str, all_branches: bool,
                 notebook: bool) -> _ImportPlan:
    """Extract the conversation and build the script, the notebook and the figures' names, in memory."""
    from liferaft.core.risk import output_folder

    conv = extract(raw, all_branches=all_branches)
    result = ImportResult(conv)
    source_rel = role_folder(root, inventory, Role.SOURCE)
    code_rel = role_folder(root, inventory, Role.CODE)
    output_dir = output_folder(root, inventory)
    output_rel = _rel(root, output_dir)
    slug = slugify(conv.title, conv.id or "conversation")

    # Uploads: where SOURCE has them (by name and size: `data(2).csv` is not `data.csv`).
    in_source = [(record.name, record.size, record.path)
                 for record in sorted((r for r in inventory.files if r.role is Role.SOURCE), key=lambda r: r.path)]
    ambiguous = ambiguous_names(upload.name for upload in conv.uploads)
    for upload in conv.uploads:
        result.uploads_in_source[upload.name] = find_upload(upload.name, upload.size, in_source,
                                                            ambiguous=copy_key(upload.name) in ambiguous)
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
    plan = _ImportPlan(root, inventory, conv, result, output_dir, output_rel, root / code_rel / RECOVERED_DIR, slug,
                       script, notebook_text, figure_names, figure_data)
    plan.canvas_files = _canvas_files(root, inventory, conv, plan.code_dir)
    return plan


def _canvas_files(root: Path, inventory: Inventory, conv: Conversation, code_dir: Path
                  ) -> list[tuple[Path, str, str, bytes]]:
    """Each canvas as a file named after its title: code in ``CODE/recovered/`` (extension from its language),
    prose in RESTART as Markdown (never under the restart note's name)."""
    from liferaft.core.restart_note import note_path

    restart_dir = root / role_folder(root, inventory, Role.RESTART)
    note_stem = note_path(root, inventory).stem.casefold()
    files: list[tuple[Path, str, str, bytes]] = []
    for canvas in conv.canvases:
        stem = slugify(canvas.stem, "canvas")
        text = canvas.content if canvas.content.endswith("\n") or not canvas.content else canvas.content + "\n"
        if canvas.is_code:
            files.append((code_dir, stem, canvas.extension, text.encode("utf-8")))
        else:
            if stem.casefold() == note_stem:
                stem += "-canvas"
            files.append((restart_dir, stem, "md", text.encode("utf-8")))
    return files


def _check_import(plan: _ImportPlan) -> None:
    """Check every target before any file is written (folders that can be made, names free or identical), then
    fill the restart note in memory. Raises :class:`RecoverWriteError` when a target cannot be written."""
    from liferaft.core.recover import record
    from liferaft.core.restart_note import NoteError, load_note, new_note, note_path, write_note

    root, inventory, conv, result = plan.root, plan.inventory, plan.conv, plan.result
    figure_names, output_dir, targets = plan.figure_names, plan.output_dir, plan.targets
    taken: set[Path] = set()
    if conv.cells:
        script_target = _plan_file(root, plan.code_dir, plan.slug, "py", plan.script.encode("utf-8"), taken)
        targets.append(script_target)
        result.script = _rel(root, script_target.path)
        if plan.notebook_text is not None:
            target = _plan_file(root, plan.code_dir, script_target.path.stem, "ipynb",
                                plan.notebook_text.encode("utf-8"), taken)
            targets.append(target)
            result.notebook = _rel(root, target.path)
    for folder, stem, ext, data in plan.canvas_files:
        target = _plan_file(root, folder, stem, ext, data, taken)
        targets.append(target)
        result.canvases.append(_rel(root, target.path))
    for file_id, stem, data in plan.figure_data:
        ext = figure_names[file_id].rpartition(".")[2]
        target = _plan_file(root, output_dir / RECOVERED_DIR, stem, ext, data, taken)
        targets.append(target)
        figure_names[file_id] = _within(plan.output_rel, _rel(root, target.path))
        result.figures.append(_rel(root, target.path))
    record_path = plan.record_path = record.recovered_path(root)
    _check_folder(root, record_path.parent, record_path)
    if os.path.lexists(record_path) and (record_path.is_symlink() or not record_path.is_file()):
        raise _refused(root, record_path, "it is not a regular file")

    # What OUTPUT holds once the figures are copied.
    copied = {output_key(target.path.name) for target in targets if target.path.is_relative_to(output_dir)}
    in_output = _names_in(inventory, Role.OUTPUT)
    for made in conv.generated:
        if made.kind == "figure":
            made.path = figure_names.get(made.path, made.path)
            result.outputs_present[made.path] = made.file_id not in result.missing_figures
        else:
            result.outputs_present[made.path] = output_key(made.name) in in_output or output_key(made.name) in copied
    outputs = {made.path: made.path for made in conv.generated}

    # The restart note, filled in memory.
    try:
        note, _record = load_note(root, inventory)
        before = write_note(note) if note is not None else None
        if note is None:
            note = new_note(root.name or str(root))
        plan.filled = prefill_from(note, conv, result, outputs)
        plan.note_file = note_path(root, inventory)
        if write_note(plan.filled) != before:
            refusal = _note_refusal(root, inventory)
            if refusal:
                result.problems.append(f"the restart note was not filled: {refusal}")
                plan.note_file = None
            else:
                plan.note_text = write_note(plan.filled)
    except NoteError as exc:
        result.problems.append(f"the restart note was not filled: {exc}")
        plan.note_file = None


def _apply_import(plan: _ImportPlan, *, export_path: str, all_branches: bool) -> ImportResult:
    """Write the checked targets, the note and the record, each atomically; on a failure what this import created
    is removed and the note put back (:class:`RecoverWriteError`)."""
    from liferaft.core.recover import record
    from liferaft.core.restart_note import NoteError, save_note

    root, conv, result, targets = plan.root, plan.conv, plan.result, plan.targets
    note_text, note_file, record_path = plan.note_text, plan.note_file, plan.record_path
    assert record_path is not None  # set by _check_import
    # The record the at-risk check reads.
    entry = {
        "conversation": {"id": conv.id, "title": conv.title},
        "export": export_path,
        "imported_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "all_branches": all_branches,
        "uploads": [{**upload.to_json(), "project_file": upload.project_file} for upload in conv.uploads],
        "generated": [made.to_json() for made in conv.generated],
        "written": sorted(_rel(root, target.path) for target in targets),
    }

    # Now the writes, each atomic; on a failure what this import created is removed and the note put back.
    created: list[Path] = []
    folders: list[Path] = []
    restore: tuple[Path, bytes] | None = None
    current = root
    try:
        for target in targets:
            current = target.path
            if target.fresh:
                _make_folders(target.path.parent, folders)
                storage.write_bytes(target.path, target.data, overwrite=False)
                created.append(target.path)
        if note_text is not None and note_file is not None:
            current = note_file
            old = note_file.read_bytes() if note_file.is_file() else None
            _make_folders(note_file.parent, folders)
            saved = save_note(root, plan.inventory, plan.filled)
            if old is None:
                created.append(saved)
            else:
                restore = (saved, old)
        current = record_path
        _make_folders(record_path.parent, folders)
        changed, warnings = record.record_import(root, entry)
    except (OSError, NoteError) as exc:
        left = _undo(created, folders, restore)
        if isinstance(exc, FileExistsError):
            reason = "a file of that name appeared meanwhile"
        elif isinstance(exc, NoteError):
            reason = str(exc)
        else:
            reason = exc.strerror or str(exc)
        undone = f"; could not remove {', '.join(left)}" if left else "; what it had written was removed"
        raise RecoverWriteError(f"cannot write {_shown(root, current)} in {root}: {reason}{undone}") from None

    for target in targets:
        (result.written if target.fresh else result.unchanged).append(_rel(root, target.path))
    if note_file is not None:
        result.note = _rel(root, note_file)
        (result.written if note_text is not None else result.unchanged).append(result.note)
    result.problems += warnings
    if changed:
        result.written.append(_rel(root, record_path))
    return result
