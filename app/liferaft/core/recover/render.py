"""A conversation's code cells as a script or a notebook that runs on this machine: every cell in order with the
prompt it answered and its result, failed and cancelled cells kept as comments, a banner at each sandbox reset,
``/mnt/data`` paths mapped to SOURCE for uploads and OUTPUT for the rest, the sandbox-only helpers stubbed
(the preamble is ``core/data/recovered_preamble.py.tmpl``). Shell steps (the chat's ``container.exec`` calls) keep
their place among the cells but never run by themselves: in the script each is a commented ``subprocess.run``
(run from the project folder), in the notebook a ``%%bash`` cell that exits before its first command; their
``/mnt/data`` paths point into the project as the Python cells' do.
"""

from __future__ import annotations

import functools
import io
import json
import re
import time
import tokenize
from typing import Any

from liferaft.core.recover.conversation import (
    STATUS_CANCELLED,
    STATUS_FAILED,
    STATUS_NO_RESULT,
    STATUS_SUCCESS,
    STATUS_TOOL_ERROR,
    STATUS_UNKNOWN,
    CodeCell,
    Conversation,
)
from liferaft.core.recover.extract import clean_text

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
        if first and first.casefold() in paths.uploads:
            return f"{match[1]}{quote}{{SOURCE}}{rest}{quote}"
        if "{" in rest:  # a name computed when it runs: an upload's is found in SOURCE then, any other in OUTPUT
            return f"mnt_data_path({match[1]}{quote}{rest.lstrip('/')}{quote})"
        return f"{match[1]}{quote}{{OUTPUT}}{rest}{quote}"
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
    if names[-1] == "listdir" and following == ")" and (len(names) == 1 or names[-2] == "os"):
        return first, at + 1, "mnt_data_listdir()"
    return None


#: Pattern calls whose first argument may be a ``/mnt/data/*.csv`` pattern: become ``mnt_data_glob(...)``, which
#: finds the uploads in SOURCE as well as the outputs in OUTPUT.
_GLOB_CALLS = frozenset({"glob", "iglob"})


def _glob_call(sig: list[tokenize.TokenInfo], at: int, value: str) -> tuple[int, int, str] | None:
    """When the string token ``sig[at]`` (``value``, a ``/mnt/data/`` pattern) is the first argument of
    ``glob.glob(...)`` or ``glob.iglob(...)``: the tokens to replace (the call's name through the string) and the
    replacement, the pattern now relative to the sandbox folder."""
    rest = value.removeprefix("/mnt/data/")
    if rest == value or not any(char in rest for char in "*?[") or at < 2 or sig[at - 1].string != "(":
        return None
    name = sig[at - 2]
    if name.type != tokenize.NAME or name.string not in _GLOB_CALLS:
        return None
    first = at - 2
    if first >= 2 and sig[first - 1].string == ".":
        if sig[first - 2].string != "glob" or (first >= 3 and sig[first - 3].string == "."):
            return None  # Path(...).glob(...) and other objects' glob: not the module's
        first -= 2
    return first, at, f"mnt_data_{name.string}({json.dumps(rest, ensure_ascii=False)}"


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
        if new.startswith("str(OUTPUT / "):  # a pattern given to glob: the uploads match too
            import ast

            pattern = _glob_call(sig, at, ast.literal_eval(token.string))
            if pattern is not None:
                first, last, new = pattern
                edits.append((offset(sig[first].start), offset(sig[last].end), new))
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


#: A ``/mnt/data`` path in a shell command: quoted (to its closing quote: it may hold spaces) or bare (to the next
#: space or shell operator).
_SHELL_MNT = re.compile(r"""(?P<q>['"])(?P<quoted>/mnt/data(?:/[^'"\n]*)?)(?P=q)"""
                        r"""|(?<![\w./-])(?P<bare>/mnt/data(?:/[^\s'"`;|&<>()]*)?)""")


def map_shell_paths(text: str, paths: PathMap, *, source: str, output: str, escape_braces: bool = False) -> str:
    """``text`` (a shell command) with its ``/mnt/data`` paths under ``source`` for an upload (where SOURCE has
    it) and ``output`` for anything else (the bare folder too), as the Python cells map them. With
    ``escape_braces`` the rest of the text has its braces doubled, for an f-string whose ``source`` and
    ``output`` are ``{SOURCE}`` and ``{OUTPUT}``."""
    def project_path(value: str) -> str:
        rest = value.removeprefix("/mnt/data").strip("/")
        if not rest:
            return output
        first, _, tail = rest.partition("/")
        found = paths.uploads.get(rest.casefold())
        if found is not None:
            return f"{source}/{found[1] or found[0]}"
        found = paths.uploads.get(first.casefold()) if tail else None
        if found is not None:  # inside an uploaded folder's name: rare, kept with it
            return f"{source}/{found[1] or found[0]}/{tail}"
        return f"{output}/{rest}" + ("/" if value.endswith("/") else "")

    def gap(piece: str) -> str:
        return piece.replace("{", "{{").replace("}", "}}") if escape_braces else piece

    pieces: list[str] = []
    done = 0
    for match in _SHELL_MNT.finditer(text):
        pieces.append(gap(text[done:match.start()]))
        if match["quoted"] is not None:
            quote = gap(match["q"])
            pieces.append(f"{quote}{project_path(match['quoted'])}{quote}")
        else:
            pieces.append(project_path(match["bare"]))
        done = match.end()
    pieces.append(gap(text[done:]))
    return "".join(pieces)


def _shell_body(argv: list[str]) -> str:
    """The script a ``bash -lc SCRIPT`` runs, else the command as one shell line."""
    import shlex

    if len(argv) == 3 and argv[0].rpartition("/")[2] in ("bash", "sh", "zsh") and argv[1].startswith("-") and \
            argv[1].endswith("c"):
        return argv[2]
    return shlex.join(argv)


def shell_step_lines(cell: CodeCell, paths: PathMap) -> list[str]:
    """A shell step as the script keeps it: its command to read, then the ``subprocess.run`` that would run it
    (its ``/mnt/data`` paths now absolute paths in SOURCE or OUTPUT, an f-string), both commented: it never runs
    by itself."""
    if cell.argv is None:
        return ["# Shell step (ran in the chat's sandbox; its command could not be read, kept as the export has it):",
                _commented(cell.code.strip("\n") or "(empty)")]
    argv = [clean_text(arg) for arg in cell.argv]
    shown = [map_shell_paths(arg, paths, source="{SOURCE}", output="{OUTPUT}") for arg in argv]
    lines = ["# Shell step (ran in the chat's sandbox; not run here: read it, then uncomment the call to run it):"]
    lines += [f"#     {line}".rstrip() for line in _shell_body(shown).strip("\n").split("\n")]
    literals = []
    for arg, mapped in zip(argv, shown, strict=True):
        if mapped == arg:
            literals.append(json.dumps(arg, ensure_ascii=False))
        else:
            escaped = map_shell_paths(arg, paths, source="{SOURCE}", output="{OUTPUT}", escape_braces=True)
            literals.append("f" + json.dumps(escaped, ensure_ascii=False))
    lines.append(f"# subprocess.run([{', '.join(literals)}], cwd=PROJECT, check=True)")
    return lines


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


#: The preamble of a recovered script or notebook (the project's folders, the sandbox's /mnt/data mapped to them,
#: stand-ins for the sandbox's helper modules), in ``core/data``; ``@name@`` marks what is filled in.
PREAMBLE_FILE = "data/recovered_preamble.py.tmpl"
_PREAMBLE_SLOT = re.compile(r"@(anchor|depth|source|output|uploads)@")


@functools.cache
def _preamble_template() -> str:
    from importlib import resources

    return resources.files("liferaft.core").joinpath(PREAMBLE_FILE).read_text(encoding="utf-8")


def _stub_source(source_rel: str, output_rel: str, depth: int, anchor: str = "Path(__file__).resolve()",
                 uploads: dict[str, str] | None = None) -> str:
    values = {"anchor": anchor, "depth": str(depth), "source": json.dumps(source_rel), "output": json.dumps(output_rel),
              "uploads": json.dumps(uploads or {}, ensure_ascii=False, sort_keys=True)}
    return _PREAMBLE_SLOT.sub(lambda slot: values[slot.group(1)], _preamble_template())


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


def _counted(number: int, thing: str) -> str:
    return f"{number} {thing}" if number == 1 else f"{number} {thing}s"


def _cell_counts(conv: Conversation) -> str:
    """The cells, those that failed, those that did not run (cancelled, or lost to a reset) and the resets."""
    failed = {id(cell) for cell in conv.failed_cells}
    not_run = sum(1 for cell in conv.cells if id(cell) not in failed
                  and (cell.reset or cell.status == STATUS_CANCELLED))
    parts = [_counted(len(conv.cells), "cell"), f"{len(failed)} failed"]
    if not_run:
        parts.append(f"{not_run} did not run")
    parts.append(_counted(len(conv.resets), "sandbox reset"))
    return ", ".join(parts)


def render_script(conv: Conversation, paths: PathMap, *, source_rel: str, output_rel: str, depth: int,
                  export_name: str, figures: dict[int, list[str]] | None = None) -> str:
    """The recovered script's text (deterministic: the same conversation and project give the same bytes)."""
    title = _docstring_safe(conv.title)
    counts = _cell_counts(conv)
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
    if any(cell.shell for cell in conv.cells):
        out += ["import subprocess  # for the chat's shell steps below: each stays a comment until you uncomment it"]
    shown_epoch = 0
    for cell in conv.cells:
        if cell.epoch > shown_epoch:
            shown_epoch = cell.epoch
            reset = next((item for item in conv.resets if item.epoch == cell.epoch), None)
            when = f" ({_when(reset.time)})" if reset and reset.time else ""
            out += ["", _BANNER,
                    f"# SANDBOX RESET{when}: the chat's sandbox was wiped here. Variables and every file made above",
                    "# were lost; the cells below started again from nothing.", _BANNER]
        header = f"# %% Cell {cell.index}"
        if cell.time:
            header += f" · {_when(cell.time)}"
        if cell.shell:
            header += " · shell step"
        if cell.abandoned:
            header += " · abandoned branch (the prompt was edited afterwards; it ran, and may have written files)"
        out += ["", "", header]
        if cell.prompt:
            out.append(f"# Prompt: {_one_line(cell.prompt, 110)}")
        out.append(f"# Result: {_status_line(cell)}")
        if cell.shell:
            out += shell_step_lines(cell, paths)
            out += _seen_in_the_chat(cell)
            continue
        source, live = cell_source(cell, paths)
        if not live and cell.ran:
            out.append("# (not run by this script)")
        out.append(source if source.strip() else "pass  # the cell was empty")
        if live and figures and figures.get(cell.index):
            out.append(f"_save_figures({json.dumps(figures[cell.index], ensure_ascii=False)})  # its charts")
        out += _seen_in_the_chat(cell)
    out.append("")
    return "\n".join(out)


#: What a cell printed or returned in the chat is kept after it in the script, up to this many lines.
OUTPUT_LINES_SHOWN = 8


def _output_lines(cell: CodeCell) -> list[str]:
    """The cell's output as the chat recorded it, line by line, each line cleaned (no control characters)."""
    return [" ".join(clean_text(line).split()) for line in cell.output.strip("\n").split("\n")] \
        if cell.output.strip() else []


def _seen_in_the_chat(cell: CodeCell) -> list[str]:
    """Comment lines after a cell: what it printed or returned in the chat, to compare a rerun with."""
    lines = _output_lines(cell)
    if not lines:
        return []
    shown = [f"#   {line[:117] + '…' if len(line) > 118 else line}".rstrip() for line in lines[:OUTPUT_LINES_SHOWN]]
    more = len(lines) - OUTPUT_LINES_SHOWN
    if more > 0:
        shown.append(f"#   … ({more:,} more line{'s' if more != 1 else ''})")
    return ["# In the chat it printed:", *shown]


def _shell_cell_source(cell: CodeCell, paths: PathMap, *, source_rel: str, output_rel: str, depth: int) -> str:
    """A shell step as a notebook cell: ``%%bash``, a guard that exits before the first command (it never runs
    by itself), then the command run from the project folder (the notebook runs in its own)."""

    head = ["%%bash",
            "# A shell step the chat ran in its sandbox, run from the project folder, its /mnt/data paths now",
            "# SOURCE/... (uploads) and OUTPUT/... there. It does not run by itself: read it, then delete the",
            "# 'exit 0' line to run it.",
            "exit 0"]
    if cell.argv is None:
        return "\n".join([*head, "# Its command could not be read; as the export has it:",
                          _commented(cell.code.strip("\n") or "(empty)")])
    argv = [map_shell_paths(clean_text(arg), paths, source=source_rel, output=output_rel) for arg in cell.argv]
    return "\n".join([*head, "cd " + "/".join([".."] * depth) + "  # the project folder",
                      _shell_body(argv).strip("\n")])


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
        if cell.shell:
            source = _shell_cell_source(cell, paths, source_rel=source_rel, output_rel=output_rel, depth=depth)
        else:
            source, _live = cell_source(cell, paths)
        kind = " (shell step)" if cell.shell else ""
        note = [f"**Cell {cell.index}**{kind}: {_status_line(cell)}"]
        if cell.prompt:
            note.append(f"> {_one_line(cell.prompt, 300)}")
        if cell.reset:
            note.insert(0, "### Sandbox reset: everything made above was lost here")
        if cell.abandoned:
            note.append("*(abandoned branch)*")
        cells.append({"cell_type": "markdown", "id": f"cell-{cell.index}-note", "metadata": {},
                      "source": lines("\n\n".join(note))})
        outputs: list[dict[str, Any]] = []
        if cell.output.strip():  # what the chat saw, kept as the cell's output to compare a rerun with
            outputs.append({"output_type": "stream", "name": "stdout", "text": lines(clean_text(cell.output))})
        cells.append({"cell_type": "code", "id": f"cell-{cell.index}", "metadata": {}, "execution_count": None,
                      "outputs": outputs, "source": lines(source)})
    notebook = {"cells": cells, "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python",
                                                            "name": "python3"},
                                             "language_info": {"name": "python"}},
                "nbformat": 4, "nbformat_minor": 5}
    return json.dumps(notebook, ensure_ascii=False, indent=1) + "\n"
