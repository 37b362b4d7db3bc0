"""What each output is, in words a new chat can act on: from the restart note, from the line of code that writes
it, or from the file itself.

The code is read as text, statement by statement (a statement may span lines while brackets are open), never run
and never parsed as Python, so a script that no longer parses, a notebook with magics or an R script all work.
A statement writes an output when it names the file (a string literal whose last path part is the name, or a
template such as ``f"chart_{region}.png"`` that fits it) and calls a writer (``savefig``, ``to_csv``, ``ggsave``,
``write.csv``, ``open(..., "w")``...), or when it puts the name in a variable that a later writer uses
(``chart_file = "x.png"`` … ``plt.savefig(chart_file)``). For a figure, the plotting statements just before the
writer say what it shows; for a table, the object written.

Pure string work: a few milliseconds for 200 KB of code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from liferaft.core.names import match_key

if TYPE_CHECKING:
    from liferaft.core.scan import FileRecord
    from liferaft.core.verify_targets import Targets

#: Calls that write a file, by name (Python and R).
_WRITERS = (
    "savefig", "to_csv", "to_excel", "to_parquet", "to_json", "to_feather", "to_pickle", "to_html", "to_markdown",
    "to_latex", "to_stata", "to_hdf", "to_xml", "to_file", "write_image", "write_html", "write_csv", "write_parquet",
    "write_excel", "write_json", "write_ipc", "imwrite", "imsave", "savetxt", "savez", "savez_compressed",
    "ExcelWriter", "PdfPages", "write_text", "write_bytes", "copyfile", "copy", "save", "dump", "export",
    "ggsave", "write.csv", "write.csv2", "write.table", "write_tsv", "write_delim", "write.xlsx", "write_xlsx",
    "saveRDS", "saveWidget", "fwrite", "writeLines", "png", "pdf", "jpeg", "svg", "tiff", "bmp", "dev.copy",
    "dev.print", "savePlot", "sink",
)
_WRITER_CALL = re.compile(r"(?<![\w.])(?:[\w.]+\.)?(" + "|".join(re.escape(w) for w in sorted(_WRITERS, key=len,
                                                                                               reverse=True))
                          + r")\s*\(")
_OPEN_WRITE = re.compile(r"(?<![\w.])(?:open|io\.open|codecs\.open|file)\s*\((?:[^()]|\([^()]*\))*?"
                         r"['\"][wax]b?\+?['\"]")
#: R graphics devices: opened with the file name, drawn on, closed by dev.off().
_DEVICES = frozenset({"png", "pdf", "jpeg", "svg", "tiff", "bmp"})
#: Statements that draw on a figure (what a saved chart shows).
_PLOT_CALL = re.compile(
    r"\.(?:plot|bar|barh|scatter|hist|hist2d|boxplot|violinplot|pie|imshow|pcolormesh|contourf?|fill_between|"
    r"errorbar|step|stem|stackplot|hexbin|area|line|kde|heatmap|matshow)\s*\(|"
    r"(?<![\w.])sns\.\w*(?:plot|map)\s*\(|(?<![\w.])(?:px|go)\.\w+\s*\(|(?<![\w.])(?:ggplot|geom_\w+|plot|barplot|hist|boxplot|heatmap|pheatmap|"
    r"Heatmap|image|lines|points|matplot|pairs|corrplot)\s*\(")
#: Statements that start or end a figure: plotting statements before them belong to another figure.
_FIGURE_BOUNDARY = re.compile(r"\b(?:savefig|close|clf|show|figure|subplots|dev\.off|ggsave)\s*\(")
_STRING = re.compile(r"""(?P<prefix>(?<![\w])[rRbBuUfF]{1,2})?(?P<quote>'''|\"\"\"|'|")"""
                     r"""(?P<body>(?:\\.|(?!(?P=quote)).)*?)"""
                     r"""(?P=quote)""", re.DOTALL)
_ASSIGNED = re.compile(r"^\s*([A-Za-z_][\w.]*)\s*(?:=|<-|:=)(?!=)")
_R_ASSIGNED_RIGHT = re.compile(r"->\s*([A-Za-z_][\w.]*)\s*$")
#: A call that reads a file (pandas, polars, R, open): a name in it is an input, not an output.
_READ_CALL = re.compile(r"(?<![\w])(?:read_\w+|read\.\w+|fread|scan_\w+|load|loadtxt|genfromtxt|open)\s*\(")
_TEMPLATE_HOLE = re.compile(r"\{[^{}]*\}|%[-+ #0]*\d*(?:\.\d+)?[sdifr]")
_NOTEBOOK_CELL = "# %%"
#: How far (in statements) a name held in a variable is followed to the writer that uses it.
FOLLOW_STATEMENTS = 60
#: Plotting statements quoted before a figure's writer.
PLOT_STATEMENTS = 2
#: A statement quoted in a description is cut to this many characters.
QUOTE_CHARS = 90


@dataclass(frozen=True, slots=True)
class Writer:
    """The statement that writes an output."""

    path: str
    """The code file, as shown (relative to the project)."""
    line: int
    """1-based line of the writing call (in a notebook: of its code cells joined, see :attr:`cell`)."""
    call: str
    """The writer's name: ``savefig``, ``to_csv``, ``ggsave``..."""
    statement: str
    """The writing statement, on one line, cut to :data:`QUOTE_CHARS`."""
    written: str = ""
    """What it writes: the object before ``.to_csv``, the ``plot =`` of ``ggsave``... ("" when not told)."""
    drawn: tuple[str, ...] = ()
    """For a figure: the plotting statements just before the writer, on one line each."""
    cell: int | None = None
    """For a notebook: the 1-based number of the code cell."""
    via: str = ""
    """The variable that carries the name, when the writer uses one (``chart_file``)."""

    def describe(self) -> str:
        where = f"{self.path} cell {self.cell}" if self.cell is not None else f"{self.path} line {self.line}"
        parts = [code_span(quote) for quote in self.drawn]
        if self.call in _DEVICES:
            parts.insert(0, code_span(self.statement))  # an R device is opened first, then drawn on
        else:
            parts.append(code_span(self.statement))
        text = f"written by {where}: " + " then ".join(parts)
        if self.written and not self.drawn and self.written not in self.statement[:len(self.written) + 1]:
            text += f" (writes {self.written})"
        return text


def code_span(text: str) -> str:
    """``text`` as Markdown inline code: fenced by one backtick more than its longest run of them (a statement that
    writes ``"res`ult.csv"`` must not end the span early), padded with a space when it starts or ends with one."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


@dataclass(frozen=True, slots=True)
class _Statement:
    text: str
    line: int
    """1-based line where the statement starts."""
    end_line: int
    pieces: tuple[str, ...] = ()
    """The kept text of each of its lines, from :attr:`line` on."""


# --- statements --------------------------------------------------------------------------------------------


def _statements(code: str) -> list[_Statement]:
    """Logical statements: lines joined while brackets or a triple-quoted string are open; comments dropped."""
    out: list[_Statement] = []
    buffer: list[str] = []
    start = 0
    depth = 0
    in_triple: str | None = None
    for number, raw in enumerate(code.split("\n"), 1):
        line = raw
        if not buffer:
            start = number
        index = 0
        kept: list[str] = []
        quote: str | None = None
        while index < len(line):
            char = line[index]
            if in_triple is not None:
                end = line.find(in_triple, index)
                if end < 0:
                    kept.append(line[index:])
                    index = len(line)
                    break
                kept.append(line[index:end + 3])
                index = end + 3
                in_triple = None
                continue
            if quote is not None:
                kept.append(char)
                if char == "\\" and index + 1 < len(line):
                    kept.append(line[index + 1])
                    index += 2
                    continue
                if char == quote:
                    quote = None
                index += 1
                continue
            if line.startswith(('"""', "'''"), index):
                in_triple = line[index:index + 3]
                kept.append(in_triple)
                index += 3
                continue
            if char in "\"'":
                quote = char
            elif char == "#":
                break
            elif char in "([{":
                depth += 1
            elif char in ")]}":
                depth = max(0, depth - 1)
            kept.append(char)
            index += 1
        text = "".join(kept).rstrip()
        if text.strip() or buffer:
            buffer.append(text)
        continuing = depth > 0 or in_triple is not None or text.endswith(("\\", ",", "+", "%>%", "|>"))
        if buffer and not continuing:
            joined = " ".join(part.strip() for part in buffer if part.strip())
            if joined:
                out.append(_Statement(joined, start, number, tuple(buffer)))
            buffer = []
            depth = 0
        if len(buffer) > 200:  # an unclosed bracket: do not swallow the rest of the file
            joined = " ".join(part.strip() for part in buffer if part.strip())
            out.append(_Statement(joined, start, number, tuple(buffer)))
            buffer, depth, in_triple = [], 0, None
    if buffer:
        joined = " ".join(part.strip() for part in buffer if part.strip())
        if joined:
            out.append(_Statement(joined, start, start + len(buffer) - 1, tuple(buffer)))
    return out


def _literals(text: str) -> list[tuple[str, bool]]:
    """String literals in a statement: (body, is a template) for f-strings and "{}"/"%s" formats."""
    found = []
    for match in _STRING.finditer(text):
        body = match["body"]
        if not body:
            continue
        template = "f" in (match["prefix"] or "").lower() or bool(_TEMPLATE_HOLE.search(body))
        found.append((body, template))
    return found


def _last_part(path: str) -> str:
    return re.split(r"[\\/]", path.strip())[-1]


def _template_regex(body: str) -> re.Pattern[str] | None:
    """A template's last path part as a regex: holes match any run of name characters. None when it has no fixed
    text besides the extension (``"{}.csv"`` fits every CSV)."""
    last = re.split(r"[\\/]", body)[-1]
    pieces = _TEMPLATE_HOLE.split(last)
    fixed = "".join(pieces)
    if not _TEMPLATE_HOLE.search(last):
        return None
    stem = fixed.rsplit(".", 1)[0] if "." in fixed else fixed
    if len(stem.strip("_-. ")) < 2:
        return None
    return re.compile(r"[^/\\]*?".join(re.escape(piece) for piece in pieces) + r"\Z", re.IGNORECASE)


def _concatenated(text: str) -> list[str]:
    """Names built by joining literals, with the parts between them unknown: ``paste0("./out/", "FigS1", ".png")``
    gives ``FigS1.png``; ``"dir/" + name + ".png"`` gives a template."""
    found = []
    for call in re.finditer(r"\b(?:paste0|paste|file\.path|os\.path\.join|str_c|glue)\s*\(", text):
        depth, index = 1, call.end()
        while index < len(text) and depth:
            depth += {"(": 1, ")": -1}.get(text[index], 0)
            index += 1
        inside = text[call.end():index - 1]
        parts = [body for body, _template in _literals(inside)]
        if len(parts) >= 2 and "sep" not in inside:
            found.append("".join(_last_part(part) if number == 0 else part for number, part in enumerate(parts))
                         if call[0].startswith("paste0") else parts[-1])
        elif parts and call[0].startswith(("os.path.join", "file.path")):
            found.append(parts[-1])
    return found


# --- finding the writer ------------------------------------------------------------------------------------


@dataclass(slots=True)
class _CodeFile:
    path: str
    statements: list[_Statement]
    cell_starts: list[int]
    """Lines where notebook cells start (empty for a plain file)."""


def _index(code: Iterable[tuple[str, str]]) -> list[_CodeFile]:
    files = []
    for path, text in code:
        cell_starts: list[int] = []
        if path.lower().endswith(".ipynb"):
            cell_starts = [1] + [number + 1 for number, line in enumerate(text.split("\n"), 1)
                                 if line.strip() == _NOTEBOOK_CELL]
        files.append(_CodeFile(path, _statements(text), cell_starts))
    return files


def _names_in(statement: _Statement) -> list[tuple[str, re.Pattern[str] | None]]:
    """(literal last part, template regex or None) for every file-like literal in the statement."""
    names: list[tuple[str, re.Pattern[str] | None]] = []
    for body, template in _literals(statement.text):
        if template:
            names.append((body, _template_regex(body)))
        else:
            names.append((_last_part(body), None))
    names += [(_last_part(name), None) for name in _concatenated(statement.text)]
    concatenation = re.findall(r"""["']([^"'\n]*)["']\s*\+\s*[\w.\[\]()]+\s*\+\s*["']([^"'\n]*)["']""", statement.text)
    for head, tail in concatenation:
        last = _last_part(head)
        pattern = re.compile(re.escape(last) + r"[^/\\]*?" + re.escape(tail) + r"\Z", re.IGNORECASE)
        names.append((last + "{}" + tail, pattern))
    return names


def _fits(name: str, literal: str, pattern: re.Pattern[str] | None) -> bool:
    if pattern is not None:
        return bool(pattern.match(name))
    return match_key(literal) == match_key(name)


def _writer_in(text: str) -> str | None:
    if _OPEN_WRITE.search(text):
        return "open"
    match = _WRITER_CALL.search(text)
    return match[1] if match else None


def _short(text: str, limit: int = QUOTE_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _written_object(text: str, call: str) -> str:
    """What a writer writes: the object before ``.to_csv(``, the first argument of ``write.csv(``, the ``plot =``
    of ``ggsave``."""
    match = re.search(r"([A-Za-z_][\w.\[\]'\"]*)\s*\.\s*" + re.escape(call) + r"\s*\(", text)
    if match and call.startswith("to_"):
        return match[1]
    plot = re.search(r"\bplot\s*=\s*([A-Za-z_][\w.]*)", text)
    if plot:
        return plot[1]
    if call in ("write.csv", "write.csv2", "write.table", "write_csv", "write_tsv", "write_delim", "write.xlsx",
                "write_xlsx", "saveRDS", "fwrite", "write_parquet"):
        first = re.search(re.escape(call) + r"\s*\(\s*([A-Za-z_][\w.$]*)", text)
        if first:
            return first[1]
    return ""


def _drawn_before(statements: Sequence[_Statement], index: int) -> tuple[str, ...]:
    """Plotting statements just before statement ``index``, back to the previous figure boundary."""
    drawn: list[str] = []
    for back in range(index - 1, max(-1, index - 40), -1):
        text = statements[back].text
        if _PLOT_CALL.search(text) and not _writer_in(text):
            drawn.append(_short(text))
        if _FIGURE_BOUNDARY.search(text) and not re.search(r"\b(?:figure|subplots)\s*\(", text):
            break
        if re.search(r"\b(?:figure|subplots)\s*\(", text):
            break
    plots = [text for text in reversed(drawn)]
    return tuple(plots[-PLOT_STATEMENTS:])


def _device_drawing(statements: Sequence[_Statement], index: int) -> tuple[str, ...]:
    """For an R graphics device (``png("x.png")``): what is drawn until ``dev.off()``."""
    drawn = []
    for after in statements[index + 1:index + 40]:
        if re.search(r"\bdev\.off\s*\(", after.text):
            break
        drawn.append(_short(after.text))
    return tuple(drawn[:PLOT_STATEMENTS])


def find_writers(code: Iterable[tuple[str, str]], names: Iterable[str]) -> dict[str, Writer]:
    """For each output name, the last statement in the code that writes it (files in the order given)."""
    files = _index(code)
    wanted = list(dict.fromkeys(names))
    found: dict[str, Writer] = {}
    for file in files:
        for index, statement in enumerate(file.statements):
            literals = _names_in(statement)
            if not literals:
                continue
            writer: Writer | None = None
            looked = False  # the statement's writer, found once for all the names it fits
            for name in wanted:
                if not any(_fits(name, literal, pattern) for literal, pattern in literals):
                    continue
                if not looked:
                    writer, looked = _writer_for(file, index, statement), True
                if writer is not None:
                    found[name] = writer
    return found


def _writer_for(file: _CodeFile, index: int, statement: _Statement) -> Writer | None:
    call = _writer_in(statement.text)
    if call is not None:
        return _make(file, index, call, "")
    holder = _ASSIGNED.match(statement.text) or _R_ASSIGNED_RIGHT.search(statement.text)
    if holder is None or _READ_CALL.search(statement.text):
        return None  # `data = pd.read_csv("….csv")`: the variable holds what was read, not a name to write to
    variable = holder[1]
    uses = re.compile(r"(?<![\w.])" + re.escape(variable) + r"(?![\w])")
    for later in range(index + 1, min(len(file.statements), index + 1 + FOLLOW_STATEMENTS)):
        text = file.statements[later].text
        assigned = _ASSIGNED.match(text)
        if assigned and assigned[1] == variable:
            return None  # the variable now holds something else
        if uses.search(text):
            call = _writer_in(text)
            if call is not None:
                return _make(file, later, call, variable)
    return None


def _make(file: _CodeFile, index: int, call: str, via: str) -> Writer:
    statement = file.statements[index]
    line = _line_of(statement, call)  # in a statement spanning several lines, the one the call is named on
    if call in _DEVICES:
        drawn = _device_drawing(file.statements, index)
    elif call in ("savefig", "ggsave", "write_image", "write_html", "imsave", "savePlot", "dev.copy", "dev.print",
                  "PdfPages"):
        drawn = _drawn_before(file.statements, index) if not re.search(r"\bplot\s*=", statement.text) else ()
    else:
        drawn = ()
    cell = None
    if file.cell_starts:
        cell = sum(1 for start in file.cell_starts if start <= line)
    return Writer(file.path, line, call, _short(statement.text), _written_object(statement.text, call), drawn, cell,
                  via)


def _line_of(statement: _Statement, call: str) -> int:
    """The line (within the statement's span) on which ``call`` is named."""
    for offset, piece in enumerate(statement.pieces):
        if re.search(r"(?<![\w])" + re.escape(call) + r"\s*\(", piece) or (call == "open" and "open" in piece):
            return statement.line + offset
    return statement.line


# --- descriptions ------------------------------------------------------------------------------------------


_NOTE_SEPARATOR = re.compile(r"^\s*(?:[-—–:=]+|\(|is|shows|holds)\s*", re.IGNORECASE)


def note_descriptions(outputs_text: str) -> dict[str, str]:
    """What the restart note's *Generated outputs* says of each name: the rest of its line ("— bar chart of…")."""
    described: dict[str, str] = {}
    for line in outputs_text.splitlines():
        body = line.strip().lstrip("-*•").strip()
        for match in re.finditer(r"`([^`\n]+)`|([\w\-.%]+\.[A-Za-z0-9]{1,8})(?![\w\-])", body):
            name = match[1] or match[2]
            rest = _NOTE_SEPARATOR.sub("", body[match.end():].strip(" `"), count=1).strip()
            rest = rest.rstrip(")") if rest.count(")") > rest.count("(") else rest
            if rest and match_key(name) not in described:
                described[match_key(name)] = _short(rest, 160)
            break
    return described


def describe(name: str, *, note: str = "", writer: Writer | None = None, from_file: str = "") -> str:
    """One line: the note's words, then the code that writes it; the file's own facts only when neither says."""
    parts = []
    if note:
        parts.append(note.rstrip("."))
    if writer is not None:
        parts.append(writer.describe())
    if not parts and from_file:
        parts.append(from_file)
    return "; ".join(parts)


# --- the outputs of a project ------------------------------------------------------------------------------

#: Outputs described and given targets, each of those in OUTPUT and of those missing (the prompt lists as many).
DESCRIBED = 60


@dataclass(frozen=True, slots=True)
class Detail:
    """What the prompt says of one output beside its name."""

    description: str = ""
    targets: str = ""
    """The numbers to check a regenerated copy against, "could not compute: …", or "" (a missing output)."""
    pending: bool = False
    """The targets are still being computed (off the caller's thread)."""


def _from_file(kind: str, targets: Targets | None) -> str:
    if targets is not None and not targets.error:
        if targets.names:
            shown = ", ".join(targets.names[:8]) + (", …" if len(targets.names) > 8 else "")
            return f"a table with the columns {shown}"
        if targets.sheets:
            return "a workbook with the sheets " + ", ".join(name for name, _rows, _cols in targets.sheets[:8])
    return {"csv": "a table", "tsv": "a table", "xlsx": "a workbook", "image": "an image", "parquet": "a Parquet "
            "table", "pdf": "a PDF document", "json": "a JSON file", "markdown": "a text report",
            "text": "a text file"}.get(kind, "")


def details(root: Path, records: Sequence[FileRecord], missing: Sequence[str], note_outputs: str,
            code: Sequence[tuple[str, str]], *, wait: float | None = None) -> dict[str, Detail]:
    """Per output name: its description (the note, else the code that writes it, else the file) and, for the files
    in OUTPUT, its verification targets (:mod:`liferaft.core.verify`), waited for up to ``wait`` seconds each
    (None: until computed; they are cached, so only the first prompt after a change waits).

    ``records`` are the OUTPUT files' scan records (``name``, ``path``, ``kind``); ``missing`` the names the note
    gives that OUTPUT lacks."""
    from liferaft.core import verify
    from liferaft.core.scan import shown_name

    base = Path(root)
    present = list(records)[:DESCRIBED]
    absent = list(missing)[:DESCRIBED]
    names = [record.name for record in present] + absent
    writers = find_writers(code, names)
    noted = note_descriptions(note_outputs)
    found: dict[str, Detail] = {}
    for record in present:
        name = record.name
        kind = record.kind
        targets = None
        text = ""
        pending = False
        if verify.supported(kind):
            targets = verify.targets_for(base / record.path, kind, wait=wait)
            if targets is None:
                pending, text = True, "still being computed"
            else:
                text = targets.text()
        note = noted.get(match_key(name), "")
        writer = writers.get(name)
        # One line each: a column or file name with a line break in it must not break the prompt's list.
        found[name] = Detail(shown_name(describe(name, note=note, writer=writer,
                                                 from_file="" if note or writer else _from_file(kind, targets))),
                             shown_name(text), pending)
    for name in absent:
        found[name] = Detail(shown_name(describe(name, note=noted.get(match_key(name), ""), writer=writers.get(name))))
    return found
