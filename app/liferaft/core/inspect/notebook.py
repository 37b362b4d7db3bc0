"""Jupyter notebooks: the kernel, cell counts, and every cell's source in order, never the whole file in memory.

Notebooks are always streamed with ijson (one may hold hundreds of MB of embedded images): cell sources are
kept, outputs are only counted and named. nbformat 4 and nbformat 3 (worksheets) are both read.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from liferaft.core.inspect import DEFAULT_ROWS, Preview
from liferaft.core.inspect import text as textio
from liferaft.core.inspect.json_reading import (
    LOAD_LIMIT,
    MAX_TEXT,
    STREAM_SECONDS,
    BoundedReader,
    cut,
    syntax_error,
)
from liferaft.core.units import format_count, format_size


@dataclass(slots=True)
class _Cell:
    kind: str = "code"
    source: list[str] = field(default_factory=list)
    execution_count: int | None = None
    outputs: list[dict[str, Any]] = field(default_factory=list)


@dataclass(slots=True)
class _Notebook:
    cells: list[_Cell] = field(default_factory=list)
    meta: dict[str, str] = field(default_factory=dict)


_META_PREFIXES = {
    "metadata.kernelspec.display_name": "kernel",
    "metadata.kernelspec.name": "kernel_name",
    "metadata.kernelspec.language": "kernel_language",
    "metadata.language_info.name": "language",
    "metadata.language_info.version": "language_version",
    "nbformat": "nbformat",
    "nbformat_minor": "nbformat_minor",
}


def _read_notebook(events: Iterable[tuple[str, str, Any]], deadline: float) -> tuple[_Notebook, bool]:
    """Cells and metadata from ijson events (nbformat 4, and 3's worksheets); True when read to the end."""
    notebook = _Notebook()
    cell: _Cell | None = None
    output: dict[str, Any] | None = None
    for index, (prefix, event, value) in enumerate(events):
        if index % 4096 == 0 and time.perf_counter() > deadline:
            return notebook, False
        if prefix.startswith("worksheets.item.cells.item"):  # nbformat 3
            prefix = "cells.item" + prefix[len("worksheets.item.cells.item"):]
            prefix = prefix.replace("cells.item.input", "cells.item.source").replace(
                "cells.item.prompt_number", "cells.item.execution_count")
        if not prefix.startswith("cells.item"):
            if prefix in _META_PREFIXES and event in ("string", "number"):
                notebook.meta[_META_PREFIXES[prefix]] = str(value)
            continue
        if prefix == "cells.item":
            if event == "start_map":
                cell = _Cell()
                notebook.cells.append(cell)
            continue
        if cell is None:
            continue
        if prefix == "cells.item.cell_type" and event == "string":
            cell.kind = value
        elif prefix in ("cells.item.source", "cells.item.source.item") and event == "string":
            cell.source.append(value)
        elif prefix == "cells.item.execution_count" and event == "number":
            cell.execution_count = int(value)
        elif prefix == "cells.item.outputs.item":
            if event == "start_map":
                output = {"mimes": []}
                cell.outputs.append(output)
        elif output is not None and prefix.startswith("cells.item.outputs.item."):
            leaf = prefix[len("cells.item.outputs.item."):]
            if leaf in ("output_type", "name", "ename", "evalue") and event == "string":
                output[leaf] = cut(value, 200)
            elif leaf == "data" and event == "map_key":
                output["mimes"].append(value)
            elif leaf == "png" and event in ("string", "start_array"):  # nbformat 3 put images at the top
                output["mimes"].append("image/png")
    return notebook, True


def _describe_output(output: dict[str, Any]) -> str:
    kind = output.get("output_type", "output")
    if kind == "stream":
        return f"{output.get('name', 'stream')} text"
    if kind in ("error", "pyerr"):
        return f"error: {output.get('ename', '?')}: {cut(output.get('evalue', ''), 120)}".rstrip(": ")
    mimes: list[str] = output.get("mimes", [])
    for preferred in ("image/png", "image/jpeg", "image/svg+xml", "text/html", "application/json", "text/plain"):
        if preferred in mimes:
            return {"text/html": "HTML (a table?)", "text/plain": "text"}.get(preferred, preferred)
    return mimes[0] if mimes else kind


def inspect_notebook(path: Path, *, max_rows: int = DEFAULT_ROWS, sheet: str | None = None) -> Preview:
    """A Jupyter notebook's kernel, cell counts, and every cell's source in order (outputs only named)."""
    del max_rows, sheet
    import ijson  # a notebook may be hundreds of MB of embedded images: always stream it

    path = Path(path)
    try:
        head = textio.read_head(path, 4096)
    except OSError as exc:
        return Preview("notebook", error=f"cannot read {path.name}: {exc.strerror or exc}")
    facts: list[tuple[str, str]] = [("size", format_size(head.size))]
    if head.size == 0:
        return Preview("notebook", facts=tuple(facts), notes=("the file is empty",))
    try:
        decoded = textio.decode_head(head.data, head.complete)
    except textio.NotText as exc:
        return Preview("notebook", facts=tuple(facts), error=f"this does not look like text: {exc}")
    try:
        with open(path, "rb") as handle:
            handle.seek(decoded.bom)
            reader = BoundedReader(handle, 1 << 62, decoded.codec, float("inf"))
            notebook, complete = _read_notebook(ijson.parse(reader), time.perf_counter() + STREAM_SECONDS * 5)
    except ijson.JSONError as exc:
        return Preview("notebook", facts=tuple(facts), error=_notebook_syntax_error(path, head.size, exc))
    except OSError as exc:
        return Preview("notebook", facts=tuple(facts), error=f"cannot read {path.name}: {exc.strerror or exc}")
    if complete and not notebook.cells and "nbformat" not in notebook.meta:
        return Preview("notebook", facts=tuple(facts),
                       error="this is JSON but not a Jupyter notebook: it has no cells and no nbformat")
    return _notebook_preview(notebook, complete, facts)


def _notebook_syntax_error(path: Path, size: int, exc: Exception) -> str:
    """The line and column of a syntax error (from the json module when the file is small enough)."""
    if size <= LOAD_LIMIT:
        try:
            json.loads(path.read_bytes())
        except json.JSONDecodeError as decode_error:
            return syntax_error(decode_error)
        except (OSError, ValueError):
            pass
    return f"not valid JSON: {str(exc).splitlines()[0][:200]}"


def _notebook_preview(notebook: _Notebook, complete: bool, facts: list[tuple[str, str]]) -> Preview:
    meta = notebook.meta
    counts = Counter(cell.kind for cell in notebook.cells)
    language = (meta.get("language") or meta.get("kernel_language") or "").lower()
    kernel = meta.get("kernel") or meta.get("kernel_name")
    if kernel:
        facts.append(("kernel", kernel))
    if language:
        facts.append(("language", f"{language} {meta.get('language_version', '')}".strip()))
    cell_parts = [f"{counts.get('code', 0):,} code", f"{counts.get('markdown', 0):,} markdown"]
    cell_parts += [f"{times:,} {kind}" for kind, times in counts.items() if kind not in ("code", "markdown")]
    facts.append(("cells", " · ".join(cell_parts)))
    with_output = [cell for cell in notebook.cells if cell.outputs]
    descriptions = [_describe_output(output) for cell in notebook.cells for output in cell.outputs]
    errors = sum(1 for text in descriptions if text.startswith("error"))
    images = sum(1 for text in descriptions if text.startswith("image/"))
    facts.append(("outputs", f"{format_count(len(with_output), 'cell')} with output · "
                             f"{format_count(errors, 'error')} · {format_count(images, 'image')}"))
    if "nbformat" in meta:
        facts.append(("nbformat", ".".join(filter(None, (meta["nbformat"], meta.get("nbformat_minor"))))))

    notes: list[str] = []
    if not complete:
        notes.append(f"stopped reading after {STREAM_SECONDS * 5:g} s: showing the first {len(notebook.cells):,} "
                     "cells")
    executed = [cell.execution_count for cell in notebook.cells if cell.kind == "code" and cell.execution_count]
    if counts.get("code") and not executed:
        notes.append("no code cell has been run (no execution counts)")
    elif executed != sorted(executed):
        notes.append("the cells were run out of order (the In [n] numbers are not increasing): rerun top to "
                     "bottom to check")
    if errors:
        notes.append(f"{format_count(errors, 'cell')} ended in an error")

    parts: list[str] = []
    size = 0
    for number, cell in enumerate(notebook.cells, start=1):
        source = "".join(cell.source).rstrip("\n")
        if cell.kind == "code":
            count = cell.execution_count if cell.execution_count is not None else " "
            block = f"# In [{count}]:\n{source}"
            if cell.outputs:
                block += "\n# → " + "; ".join(_describe_output(output) for output in cell.outputs[:6])
                if len(cell.outputs) > 6:
                    block += f"; … {len(cell.outputs) - 6} more"
        else:
            commented = "\n".join(f"# {line}".rstrip() for line in source.splitlines())
            block = f"# [{cell.kind}]\n{commented}"
        size += len(block)
        if size > MAX_TEXT:
            notes.append(f"showing the first {number - 1:,} of {len(notebook.cells):,} cells "
                         f"({MAX_TEXT // 1024} KB of source)")
            break
        parts.append(block)
    text_format = language if language in ("python", "r", "julia", "sql", "scala") else "python"
    return Preview("notebook", facts=tuple(facts), text="\n\n".join(parts) + ("\n" if parts else ""),
                   text_format=text_format, notes=tuple(notes))
