"""Write what a conversation ran and made into the project: a script, a notebook, the note, the figures.

:func:`import_conversation` is the whole import: ``CODE/recovered/<slug>.py`` (every cell in order with the prompt
it answered and its result; failed and cancelled cells kept as comments; a banner at each sandbox reset;
``/mnt/data`` paths mapped to SOURCE for uploads and OUTPUT for the rest; the sandbox-only helpers stubbed), an
optional ``.ipynb`` with the same cells, the restart note's empty sections filled (and items it lacks appended),
the figures the export holds copied into ``OUTPUT/recovered/``, and the record in ``.liferaft/recovered.json``.

Everything is built in memory and every target checked first (its folder can be made, its name is free or holds
the same bytes), then each file is written atomically and never over another file: the same content already there
is "unchanged" (re-importing changes nothing), different content gets a new name. A write that still fails takes
back what this import created (and the note it changed): nothing is left half-way.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import time
import tokenize
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from liferaft.core import storage
from liferaft.core.compose import output_key
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
    anything else to OUTPUT. The folder itself, ``/mnt/data``, becomes the script's ``MNT_DATA``, which makes the
    same choice at run time for each name joined to it."""

    def __init__(self, uploads: dict[str, str | None]) -> None:
        self.uploads = {name.casefold(): (name, where) for name, where in uploads.items()}

    def in_source(self) -> dict[str, str]:
        """Each upload's name (case-folded) and its path within SOURCE, for the script's ``MNT_DATA``."""
        return {key: where or name for key, (name, where) in sorted(self.uploads.items())}

    def expression(self, value: str) -> str:
        rest = value.removeprefix("/mnt/data").strip("/")
        slash = value.endswith("/") and bool(rest)
        if not rest:
            return "MNT_DATA"
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


#: Calls that take the sandbox folder as their first argument: ``Path("/mnt/data")`` (and its pathlib kin) becomes
#: ``MNT_DATA``, ``os.path.join("/mnt/data", ...)`` becomes ``mnt_data_path(...)``: both find uploads in SOURCE.
_PATH_CALLS = frozenset({"Path", "PurePath", "PosixPath", "PurePosixPath"})
_JOIN_MODULES = frozenset({"path", "osp", "posixpath"})


def _folder_call(sig: list[tokenize.TokenInfo], at: int) -> tuple[int, int, str] | None:
    """When the string token ``sig[at]`` (the bare ``/mnt/data``) is the first argument of ``Path(...)`` or
    ``os.path.join(...)``: the indexes of the first and last tokens to replace and the replacement."""
    if at < 2 or sig[at - 1].string != "(" or sig[at - 2].type != tokenize.NAME:
        return None
    first = at - 2
    names = [sig[first].string]
    while first >= 2 and sig[first - 1].string == "." and sig[first - 2].type == tokenize.NAME:
        first -= 2
        names.insert(0, sig[first].string)
    if first >= 1 and sig[first - 1].string == ".":
        return None  # something.else.Path(...): not pathlib's
    following = sig[at + 1].string if at + 1 < len(sig) else ""
    if following not in (")", ","):
        return None
    if names[-1] in _PATH_CALLS and (len(names) == 1 or names[-2] == "pathlib"):
        return first, at + 1, "MNT_DATA" if following == ")" else "MNT_DATA.joinpath("
    if names[-1] == "join" and (len(names) == 1 or names[-2] in _JOIN_MODULES):
        return first, at + 1, "mnt_data_path()" if following == ")" else "mnt_data_path("
    return None


def map_paths(code: str, paths: PathMap) -> str:
    """``code`` with its string literals that start with ``/mnt/data`` rewritten to project paths
    (``str(SOURCE / "sales.csv")``; the bare folder ``MNT_DATA``, ``Path("/mnt/data")`` too, and
    ``os.path.join("/mnt/data", name)`` ``mnt_data_path(name)``), by tokens; a cell that does not tokenize gets a
    plain text replace of quoted literals instead."""
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

    def offset(position: tuple[int, int]) -> int:
        return offsets[position[0] - 1] + position[1]

    sig = [token for token in tokens if token.type not in (tokenize.NL, tokenize.COMMENT)]
    edits: list[tuple[int, int, str]] = []
    for at, token in enumerate(sig):
        if token.type != tokenize.STRING or "/mnt/data" not in token.string:
            continue
        new = _rewrite_token(token.string, paths)
        if new is None:
            continue
        call = _folder_call(sig, at) if new == "MNT_DATA" else None
        if call is not None:
            first, last, new = call
            end = offset(sig[last].end)
            after = sig[last + 1] if last + 1 < len(sig) else None
            if new.endswith("(") and after is not None and after.start[0] == sig[last].end[0]:
                end = offset(after.start)  # "Path('/mnt/data', 'a')" → "MNT_DATA.joinpath('a')", no space left
            edits.append((offset(sig[first].start), end, new))
            continue
        edits.append((offset(token.start), offset(token.end), new))
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


def _stub_source(source_rel: str, output_rel: str, depth: int, anchor: str = "Path(__file__).resolve()",
                 uploads: dict[str, str] | None = None) -> str:
    return f'''import fnmatch
import os
import re
import sys
import types
from pathlib import Path

PROJECT = {anchor}.parents[{depth}]
SOURCE = PROJECT / {json.dumps(source_rel)}  # the uploads: put the chat's files here
OUTPUT = PROJECT / {json.dumps(output_rel)}  # where the chat's /mnt/data outputs go
OUTPUT.mkdir(parents=True, exist_ok=True)
os.environ.setdefault("MPLBACKEND", "Agg")  # charts are saved, never shown in a window
# The chat's uploads (name in lower case: where it is in SOURCE), for the sandbox folder /mnt/data below.
_MNT_UPLOADS = {json.dumps(uploads or {}, ensure_ascii=False, sort_keys=True)}


def _mnt_data(*names):
    """The sandbox path /mnt/data/NAME here: the upload in SOURCE when NAME is one the chat had, else OUTPUT/NAME."""
    path = Path(*[os.fspath(name) for name in names])
    if path.is_absolute():
        return path
    found = _MNT_UPLOADS.get(path.as_posix().casefold())
    return SOURCE / found if found is not None else OUTPUT / path


def mnt_data_path(*names):
    """os.path.join() of /mnt/data and names, here: the upload in SOURCE, or the path in OUTPUT, as a string."""
    return str(_mnt_data(*names))


class _MntData:
    """The sandbox folder /mnt/data (and Path of it) here: a name joined to it is found in SOURCE when it is
    one of the chat's uploads, else in OUTPUT; used as a folder (to list, make, or as text) it is OUTPUT."""

    def __truediv__(self, name):
        return _mnt_data(name)

    def joinpath(self, *names):
        return _mnt_data(*names)

    def __add__(self, text):  # the folder as text + a name
        return str(_mnt_data(str(text).lstrip("/")))

    def _uploads(self):
        return [SOURCE / where for where in sorted(set(_MNT_UPLOADS.values())) if (SOURCE / where).is_file()]

    def iterdir(self):
        yield from self._uploads()
        if OUTPUT.is_dir():
            yield from OUTPUT.iterdir()

    def glob(self, pattern):
        if "/" not in pattern:
            yield from (path for path in self._uploads() if fnmatch.fnmatch(path.name, pattern))
        yield from OUTPUT.glob(pattern)

    def __getattr__(self, name):
        return getattr(OUTPUT, name)

    def __fspath__(self):
        return str(OUTPUT)

    def __str__(self):
        return str(OUTPUT)

    def __format__(self, spec):
        return format(str(OUTPUT), spec)

    def __repr__(self):
        return "MNT_DATA"

    def __eq__(self, other):
        try:
            return os.fspath(other) == str(OUTPUT)
        except TypeError:
            return NotImplemented

    def __hash__(self):
        return hash(str(OUTPUT))


MNT_DATA = _MntData()


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
        _stub_source(source_rel, output_rel, depth, uploads=paths.in_source()),
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
    preamble = _stub_source(source_rel, output_rel, depth - 1, anchor="Path.cwd().resolve()",
                            uploads=paths.in_source())

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


@dataclass
class _Target:
    """A file the import will write (``fresh``), or finds already there with the same bytes."""

    path: Path
    data: bytes
    fresh: bool


def _shown(root: Path, path: Path) -> str:
    from liferaft.core.scan import display_name

    try:
        return display_name(path.relative_to(root).as_posix())
    except ValueError:
        return display_name(str(path))


def _refused(root: Path, path: Path, reason: str) -> RecoverWriteError:
    return RecoverWriteError(f"cannot write {_shown(root, path)} in {root}: {reason}; nothing was written")


def _check_folder(root: Path, folder: Path, target: Path) -> None:
    """:class:`RecoverWriteError` naming the path in the way when ``folder`` (for ``target``) cannot be made or
    written into: a file where a folder must be, a folder Liferaft may not write into."""
    import os

    probe = folder
    while True:
        try:
            os.stat(probe)
        except FileNotFoundError:
            if probe.parent == probe:
                raise _refused(root, target, f"{_shown(root, probe)} does not exist") from None
            probe = probe.parent
            continue
        except NotADirectoryError:
            probe = probe.parent  # a file further up: found on the way up
            continue
        except OSError as exc:
            raise _refused(root, target, f"{_shown(root, probe)}: {exc.strerror or exc}") from None
        if not probe.is_dir():
            raise _refused(root, target, f"{_shown(root, probe)} is a file, not a folder")
        if not os.access(probe, os.W_OK | os.X_OK):
            raise _refused(root, target, f"{_shown(root, probe)} is not writable")
        return


def _plan_file(root: Path, folder: Path, stem: str, ext: str, data: bytes, taken: set[Path]) -> _Target:
    """Where ``data`` goes: ``folder/stem.ext`` (or ``stem-2.ext``…), the first name that is free or holds the same
    bytes. Nothing is written; :class:`RecoverWriteError` when the folder cannot be made or written into."""
    import os

    _check_folder(root, folder, folder / f"{stem}.{ext}")
    n = 1
    while True:
        path = folder / (f"{stem}.{ext}" if n == 1 else f"{stem}-{n}.{ext}")
        n += 1
        if path in taken:
            continue
        if not os.path.lexists(path):
            taken.add(path)
            return _Target(path, data, True)
        try:
            if path.is_file() and not path.is_symlink() and path.stat().st_size == len(data) and \
                    path.read_bytes() == data:
                taken.add(path)
                return _Target(path, data, False)
        except OSError:
            pass


def _make_folders(folder: Path, made: list[Path]) -> None:
    """Make ``folder`` and its missing parents, adding each one made to ``made`` (to remove on a failure)."""
    missing = []
    probe = folder
    while not probe.exists() and probe.parent != probe:
        missing.append(probe)
        probe = probe.parent
    for path in reversed(missing):
        try:
            path.mkdir()
        except FileExistsError:
            if not path.is_dir():
                raise
            continue  # made by someone else meanwhile: not ours to remove
        made.append(path)


def _undo(created: list[Path], folders: list[Path], restore: tuple[Path, bytes] | None) -> list[str]:
    """Take back what a failed import wrote: the files it created (only those), the folders it made (when empty),
    the note it changed (its old bytes back). Returns what could not be undone."""
    left = []
    for path in reversed(created):
        try:
            path.unlink()
        except FileNotFoundError:
            pass
        except OSError:
            left.append(str(path))
    if restore is not None:
        try:
            storage.write_bytes(*restore)
        except OSError:
            left.append(str(restore[0]))
    for folder in reversed(folders):
        with contextlib.suppress(OSError):  # not empty: something else is in it now
            folder.rmdir()
    return left


def _note_refusal(root: Path, inventory: Inventory) -> str | None:
    """Why Liferaft will not write the restart note (a link, something that is not a file in its place, a file
    where its folder goes), as ``save_note`` would say it, before anything is written; None when it can."""
    import os
    import stat

    from liferaft.core.restart_note import find_note, note_path

    record_ = find_note(inventory)
    path = note_path(root, inventory)
    shown = _shown(root, path)
    if record_ is not None and ("symlink" in record_.flags or "outside_root" in record_.flags):
        return f"{shown} is a link: Liferaft does not write through it; edit the note it points to"
    try:
        mode = os.lstat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        mode = None
    except OSError as exc:
        return f"cannot use {shown}: {exc.strerror or exc}"
    if mode is not None and not stat.S_ISREG(mode):
        return f"{shown} is not a regular file: Liferaft does not write it"
    try:
        _check_folder(root, path.parent, path)
    except RecoverWriteError:
        return f"{_shown(root, path.parent)} cannot be made a folder: the restart note cannot be written there"
    return None


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


def _names_in(inventory: Inventory, role: Role) -> dict[str, str]:
    """The files of ``role`` by matching name (see :func:`liferaft.core.compose.output_key`): the first path
    in sort order when several match."""
    found: dict[str, str] = {}
    for record in sorted((r for r in inventory.files if r.role is role), key=lambda r: r.path):
        found.setdefault(output_key(record.name), record.path)
    return found


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
    from liferaft.core.restart_note import NoteError, load_note, new_note, note_path, save_note, write_note
    from liferaft.core.risk import output_folder

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
    in_source = _names_in(inventory, Role.SOURCE)
    for upload in conv.uploads:
        result.uploads_in_source[upload.name] = in_source.get(output_key(upload.name))
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

    # Every target checked before any file is written: folders that can be made, names free or identical.
    taken: set[Path] = set()
    targets: list[_Target] = []
    code_dir = root / code_rel / RECOVERED_DIR
    if conv.cells:
        script_target = _plan_file(root, code_dir, slug, "py", script.encode("utf-8"), taken)
        targets.append(script_target)
        result.script = _rel(root, script_target.path)
        if notebook_text is not None:
            target = _plan_file(root, code_dir, script_target.path.stem, "ipynb", notebook_text.encode("utf-8"),
                                taken)
            targets.append(target)
            result.notebook = _rel(root, target.path)
    for file_id, stem, data in figure_data:
        ext = figure_names[file_id].rpartition(".")[2]
        target = _plan_file(root, output_dir / RECOVERED_DIR, stem, ext, data, taken)
        targets.append(target)
        figure_names[file_id] = _within(output_rel, _rel(root, target.path))
        result.figures.append(_rel(root, target.path))
    record_path = record.recovered_path(root)
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
    figure_names = {made.path: made.path for made in conv.generated}

    # The restart note, filled in memory.
    note_text: str | None = None
    note_file: Path | None = None
    try:
        note, _record = load_note(root, inventory)
        before = write_note(note) if note is not None else None
        if note is None:
            note = new_note(root.name or str(root))
        filled = prefill_from(note, conv, result, figure_names)
        note_file = note_path(root, inventory)
        if write_note(filled) != before:
            refusal = _note_refusal(root, inventory)
            if refusal:
                result.problems.append(f"the restart note was not filled: {refusal}")
                note_file = None
            else:
                note_text = write_note(filled)
    except NoteError as exc:
        result.problems.append(f"the restart note was not filled: {exc}")
        note_file = None

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
            saved = save_note(root, inventory, filled)
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
