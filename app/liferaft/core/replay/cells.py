"""The cells a replay runs, read from a script or a notebook.

- A script Liferaft recovered (or any script with ``# %%`` / ``# In[ ]:`` markers) is cut at its markers; what
  comes before the first marker (a recovered script's preamble) is the *setup* cell. A recovered cell's
  "In the chat it printed:" comment is kept as what the chat showed, to set beside the new output; a shell step
  (its ``subprocess.run`` kept as a comment) becomes a cell that runs that call.
- A plain script is cut into its top-level paragraphs: statements separated by a blank line, a statement that
  spans blank lines (a function, a class) kept whole. A script that does not parse is one cell.
- A notebook's code cells are its cells; a cell's recorded outputs are what the chat showed.

Cells are numbered from 1 in the order they run; the setup cell, when there is one, is number 0.
"""

from __future__ import annotations

import ast
import itertools
import json
import re
from dataclasses import dataclass
from pathlib import Path

#: A cell marker in a script: VS Code / Jupytext ``# %%`` and the ``# In[3]:`` of a notebook saved as a script.
_MARKER = re.compile(r"^#\s*(?:%%|In\s*\[[ \d]*\]\s*:)(?P<rest>.*)$")
_SHELL_CALL = re.compile(r"^#\s(subprocess\.run\(.*\)\s*)$")
_CHAT_SAID = "# In the chat it printed:"


class CellsError(ValueError):
    """The input cannot be read as cells; the message says why, in one line."""


@dataclass(frozen=True, slots=True)
class Cell:
    number: int
    """Its place in the replay: 0 for the setup, then 1, 2…"""
    code: str
    label: str
    """How the source names it: "Cell 7" for a recovered cell, "lines 12-30" for a paragraph of a script."""
    line: int
    """Its first line in the source file (1-based)."""
    chat_output: str = ""
    """What the chat showed when it ran this cell, when the source recorded it."""
    shell: bool = False
    """A shell step the chat ran: its command runs here through ``subprocess`` (same isolation)."""

    @property
    def first_line(self) -> str:
        """The first line of its code that says something (not blank, not a comment), for progress lines."""
        for text in self.code.splitlines():
            stripped = text.strip()
            if stripped and not stripped.startswith("#"):
                return stripped
        return self.code.strip().splitlines()[0] if self.code.strip() else ""


def _chat_output(lines: list[str]) -> tuple[list[str], str]:
    """A recovered cell's lines without its trailing "In the chat it printed:" block, and that block's text."""
    for at in range(len(lines) - 1, -1, -1):
        if lines[at].strip() == _CHAT_SAID:
            said = [line[4:] if line.startswith("#   ") else line.lstrip("#").strip() for line in lines[at + 1:]]
            return lines[:at], "\n".join(said).strip("\n")
    return lines, ""


def _marked_cells(lines: list[str], markers: list[int]) -> list[Cell]:
    cells: list[Cell] = []
    setup = "\n".join(lines[:markers[0]]).strip("\n")
    if setup.strip():
        cells.append(Cell(0, setup + "\n", "setup", 1))
    bounds = [*markers, len(lines)]
    for at, (start, end) in enumerate(itertools.pairwise(bounds), start=1):
        head = lines[start]
        rest = _MARKER.match(head)
        label_text = (rest["rest"] if rest else "").strip(" ·")
        label = label_text.split("·")[0].strip() or f"cell {at}"
        body, said = _chat_output(lines[start + 1:end])
        shell = "shell step" in head
        code = "\n".join(body).strip("\n")
        if shell:
            calls = [m[1] for m in map(_SHELL_CALL.match, body) if m]
            code = code + "\n" + "\n".join(calls) if calls else code
        cells.append(Cell(at, code + "\n", label, start + 1, said, shell))
    return cells


def _paragraphs(text: str) -> list[Cell]:
    """A plain script's top-level paragraphs, as cells."""
    lines = text.split("\n")
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return [Cell(1, text, "the whole script", 1)] if text.strip() else []
    groups: list[tuple[int, int]] = []  # (first line, last line), 1-based, inclusive
    for node in tree.body:
        first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
        last = node.end_lineno or node.lineno
        # Comments straight above a statement belong to it.
        while first > 1 and lines[first - 2].lstrip().startswith("#"):
            first -= 1
        if groups and not any(not line.strip() for line in lines[groups[-1][1]:first - 1]):
            groups[-1] = (groups[-1][0], last)
        else:
            groups.append((first, last))
    cells = []
    for number, (first, last) in enumerate(groups, start=1):
        code = "\n".join(lines[first - 1:last]).strip("\n")
        label = f"line {first}" if first == last else f"lines {first}-{last}"
        cells.append(Cell(number, code + "\n", label, first))
    return cells


def script_cells(text: str) -> list[Cell]:
    """A script's cells (see the module's docstring)."""
    lines = text.split("\n")
    markers = [at for at, line in enumerate(lines) if _MARKER.match(line)]
    return _marked_cells(lines, markers) if markers else _paragraphs(text)


def _text(value: object) -> str:
    if isinstance(value, list):
        return "".join(str(part) for part in value)
    return value if isinstance(value, str) else ""


def _recorded_output(outputs: object) -> str:
    said = []
    for output in outputs if isinstance(outputs, list) else []:
        if not isinstance(output, dict):
            continue
        kind = output.get("output_type")
        if kind == "stream":
            said.append(_text(output.get("text")))
        elif kind in ("execute_result", "display_data"):
            data = output.get("data")
            if isinstance(data, dict) and "text/plain" in data:
                said.append(_text(data["text/plain"]))
            elif isinstance(data, dict) and "image/png" in data:
                said.append("[an image]")
        elif kind == "error":
            said.append(f"{output.get('ename', 'Error')}: {output.get('evalue', '')}")
    return "\n".join(part.rstrip("\n") for part in said).strip("\n")


def notebook_cells(text: str) -> list[Cell]:
    """A notebook's code cells (nbformat 4). Raises :class:`CellsError` when it is not one."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise CellsError(f"not a notebook: it is not JSON ({exc})") from None
    raw = data.get("cells") if isinstance(data, dict) else None
    if not isinstance(raw, list):
        raise CellsError("not a notebook: it has no list of cells (nbformat 4 is read)")
    cells: list[Cell] = []
    for at, cell in enumerate(raw, start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        code = _text(cell.get("source"))
        if not code.strip():
            continue
        cell_id = str(cell.get("id") or "")
        number = 0 if cell_id == "setup" else len([c for c in cells if c.number]) + 1
        shell = code.lstrip().startswith("%%bash")
        label = "setup" if number == 0 else f"notebook cell {at}"
        cells.append(Cell(number, code.rstrip("\n") + "\n", label, at, _recorded_output(cell.get("outputs")), shell))
    return cells


def load_cells(path: Path) -> list[Cell]:
    """The cells of a script or a notebook file. Raises :class:`CellsError` (one line) when it cannot be read."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise CellsError(f"{path.name} is not UTF-8 text: save it as UTF-8 and try again") from None
    except OSError as exc:
        raise CellsError(f"cannot read {path.name}: {exc.strerror or exc}") from None
    cells = notebook_cells(text) if path.suffix.lower() == ".ipynb" else script_cells(text)
    if not [cell for cell in cells if cell.number]:
        raise CellsError(f"{path.name} has no code to run")
    return cells
