"""JSON, JSON Lines and Jupyter notebooks: an outline of the structure, never the whole file in memory.

JSON up to :data:`LOAD_LIMIT` is parsed with the json module (exact lengths, and a syntax error's line and
column); larger files are streamed with ijson, keeping only a bounded skeleton (the first items of each
array, the first keys of each object) and stopping after :data:`STREAM_BYTES`. An array of objects, or JSON
Lines of objects, is also shown as a table. Notebooks are streamed too: cell sources are kept, outputs are
only counted and named.
"""

from __future__ import annotations

import codecs
import json
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any, BinaryIO

from liferaft.core.inspect import DEFAULT_ROWS, DEFAULT_TEXT_BYTES, Column, Preview
from liferaft.core.inspect import text as textio
from liferaft.core.inspect.delimited import infer_type
from liferaft.core.units import format_size

#: Files up to this size are parsed whole with the json module; larger ones are streamed.
LOAD_LIMIT = 20_000_000
#: How much of a large JSON file is streamed for its outline.
STREAM_BYTES = 4_000_000
#: How long streaming may take (large JSON, notebooks) before it stops and says so.
STREAM_SECONDS = 2.0
#: Items kept per nested array, keys kept per object, levels kept.
NESTED_ITEMS = 3
MAX_KEYS = 200
MAX_DEPTH = 12
#: Items of an array whose keys and types are summarised.
SCAN_ITEMS = 1000
#: Characters kept of a string value.
MAX_STRING = 300
#: How much outline or notebook text a preview carries.
MAX_TEXT = 4 * DEFAULT_TEXT_BYTES
#: A JSON Lines line longer than this is skipped in the preview.
MAX_LINE = 1 << 20

_JSONL_SUFFIXES = (".jsonl", ".ndjson")


# --- a bounded skeleton of a JSON value --------------------------------------------------------------


@dataclass(slots=True)
class _Obj:
    items: dict[str, Any] = field(default_factory=dict)
    length: int = 0
    complete: bool = False


@dataclass(slots=True)
class _Arr:
    items: list[Any] = field(default_factory=list)
    length: int = 0
    complete: bool = False
    estimated: int | None = None
    """For a top-level array not read to the end: its length scaled to the file's size."""
    kinds: Counter[str] = field(default_factory=Counter)
    """JSON types of the first :data:`SCAN_ITEMS` items."""
    keys: dict[str, Counter[str]] = field(default_factory=dict)
    """For items that are objects: each key's value types, over the first :data:`SCAN_ITEMS` items."""

    @property
    def scanned(self) -> int:
        return sum(self.kinds.values())


def _type_name(value: Any) -> str:
    if isinstance(value, _Obj | dict):
        return "object"
    if isinstance(value, _Arr | list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return "null"


def _cut(value: str, limit: int = MAX_STRING) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _note_item(array: _Arr, item: Any) -> None:
    """Count one item's type (and its keys' types) into ``array``'s summary."""
    array.kinds[_type_name(item)] += 1
    if isinstance(item, dict):
        for key, value in item.items():
            _note_key(array, key, _type_name(value))


def _note_key(array: _Arr, key: str, type_name: str) -> None:
    counter = array.keys.get(key)
    if counter is None:
        if len(array.keys) >= MAX_KEYS:
            return
        counter = array.keys[key] = Counter()
    counter[type_name] += 1


def _skeleton(value: Any, keep: int = NESTED_ITEMS, depth: int = 0) -> Any:
    """A parsed value cut down to a bounded skeleton."""
    if isinstance(value, dict):
        node = _Obj(length=len(value), complete=True)
        if depth < MAX_DEPTH:
            kept = islice(value.items(), MAX_KEYS)
            node.items = {key: _skeleton(item, NESTED_ITEMS, depth + 1) for key, item in kept}
        return node
    if isinstance(value, list):
        array = _Arr(length=len(value), complete=True)
        if depth < MAX_DEPTH:
            array.items = [_skeleton(item, NESTED_ITEMS, depth + 1) for item in value[:keep]]
        for item in value[:SCAN_ITEMS]:
            _note_item(array, item)
        return array
    if isinstance(value, str):
        return _cut(value)
    return value


class _Reader:
    """A file's bytes for ijson: from an offset, at most ``limit`` of them, recoded to UTF-8 when needed."""

    def __init__(self, handle: BinaryIO, limit: int, codec: str, deadline: float) -> None:
        self.handle = handle
        self.left = limit
        self.deadline = deadline
        self.decoder = None if codec == "utf-8" else codecs.getincrementaldecoder(codec)("replace")
        self.exhausted = False
        self.consumed = 0

    def read(self, size: int = -1) -> bytes:
        while True:
            if self.left <= 0 or time.perf_counter() > self.deadline:
                self.exhausted = True
                return b""
            want = self.left if size < 0 else min(size, self.left)
            data = self.handle.read(want)
            self.left -= len(data)
            self.consumed += len(data)
            if self.decoder is None:
                return data
            recoded = self.decoder.decode(data, final=not data).encode("utf-8")
            if recoded or not data:
                return recoded


@dataclass(slots=True)
class _Frame:
    is_array: bool
    node: _Obj | _Arr | None
    key: str | None = None
    length: int = 0
    summary: _Arr | None = None
    """The array this object is an item of, whose key summary it feeds."""


def _build(events: Iterable[tuple[str, str, Any]], keep: int) -> tuple[Any, bool]:
    """A skeleton from ijson events; True when the value was read to its end."""
    stack: list[_Frame] = []
    root: Any = None
    for _prefix, event, value in events:
        if event == "map_key":
            stack[-1].key = value
            continue
        if event in ("end_map", "end_array"):
            frame = stack.pop()
            if frame.node is not None:
                frame.node.complete = True
                frame.node.length = frame.length
            if not stack:
                return root, True
            continue
        parent = stack[-1] if stack else None
        is_container = event in ("start_map", "start_array")
        if event == "start_map":
            type_name = "object"
        elif event == "start_array":
            type_name = "array"
        elif event == "number":
            type_name = "integer" if isinstance(value, int) else "number"
            value = int(value) if isinstance(value, int) else float(value)
        else:
            type_name = {"string": "string", "boolean": "boolean", "null": "null"}[event]
            if event == "string":
                value = _cut(value)
        store = parent is None or (
            parent.node is not None and len(stack) < MAX_DEPTH and _has_room(parent, keep, stack)
        )
        node: Any = value
        if is_container:
            node = (_Obj() if event == "start_map" else _Arr()) if store else None
        if parent is not None:
            parent.length += 1
            if isinstance(parent.node, _Arr):
                parent.node.length = parent.length
                if parent.length <= SCAN_ITEMS:
                    parent.node.kinds[type_name] += 1
                if store:
                    parent.node.items.append(node)
            elif isinstance(parent.node, _Obj):
                parent.node.length = parent.length
                if store:
                    parent.node.items[parent.key or ""] = node
            if parent.summary is not None and parent.key is not None:
                _note_key(parent.summary, parent.key, type_name)
        else:
            root = node
        if is_container:
            summary = None
            if (event == "start_map" and parent is not None and isinstance(parent.node, _Arr)
                    and parent.length <= SCAN_ITEMS):
                summary = parent.node
            stack.append(_Frame(event == "start_array", node, summary=summary))
        elif parent is None:
            return root, True
    return root, False


def _has_room(parent: _Frame, keep: int, stack: list[_Frame]) -> bool:
    node = parent.node
    if isinstance(node, _Arr):
        return len(node.items) < (keep if len(stack) == 1 else NESTED_ITEMS)
    return isinstance(node, _Obj) and len(node.items) < MAX_KEYS


# --- rendering --------------------------------------------------------------------------------------


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def _array_length(array: _Arr) -> str:
    if array.complete:
        return _count(array.length, "item")
    if array.estimated is not None:
        return f"{textio.approx(array.estimated)} items"
    return f"at least {_count(array.length, 'item')}"


def _item_kinds(array: _Arr) -> str:
    if not array.kinds:
        return ""
    plural = {"object": "objects", "array": "arrays", "string": "strings", "integer": "integers",
              "number": "numbers", "boolean": "booleans", "null": "nulls"}
    if len(array.kinds) == 1:
        return " of " + plural[next(iter(array.kinds))]
    return " (" + ", ".join(f"{name} ×{times:,}" for name, times in array.kinds.most_common()) + ")"


def _describe(node: Any) -> str:
    if isinstance(node, _Obj):
        keys = _count(node.length, "key")
        return f"object · {keys}" if node.complete else f"object · at least {keys}"
    if isinstance(node, _Arr):
        return f"array · {_array_length(node)}{_item_kinds(node)}"
    if node is None:
        return "null"
    name = _type_name(node)
    shown = json.dumps(node, ensure_ascii=False) if not isinstance(node, str) else json.dumps(_cut(node, 60),
                                                                                              ensure_ascii=False)
    return f"{name} {shown}"


def _outline(node: Any, indent: int, depth: int, out: list[str]) -> None:
    pad = "  " * indent
    if len(out) > 400:
        return
    if isinstance(node, _Obj):
        for key, child in node.items.items():
            out.append(f"{pad}{json.dumps(key, ensure_ascii=False)}: {_describe(child)}")
            if isinstance(child, _Obj | _Arr) and depth < 4:
                _outline(child, indent + 1, depth + 1, out)
        if node.length > len(node.items):
            out.append(f"{pad}… {_count(node.length - len(node.items), 'more key')}")
    elif isinstance(node, _Arr):
        if node.keys:
            scanned = node.scanned
            out.append(f"{pad}keys of the items (in the first {scanned:,}):")
            for key, types in node.keys.items():
                seen = sum(types.values())
                where = "" if seen >= node.kinds.get("object", 0) else f"  (in {seen:,})"
                joined = " | ".join(name for name, _ in types.most_common())
                out.append(f"{pad}  {json.dumps(key, ensure_ascii=False)}: {joined}{where}")
        elif node.items and isinstance(node.items[0], _Obj | _Arr) and depth < 4:
            out.append(f"{pad}[0]: {_describe(node.items[0])}")
            _outline(node.items[0], indent + 1, depth + 1, out)


def _plain(node: Any) -> Any:
    """The skeleton as plain values for json.dumps, with markers where it was cut."""
    if isinstance(node, _Obj):
        value = {key: _plain(child) for key, child in node.items.items()}
        if node.length > len(node.items) or not node.complete:
            value["…"] = f"{node.length - len(node.items):,} more keys" if node.complete else "not read to the end"
        return value
    if isinstance(node, _Arr):
        items = [_plain(child) for child in node.items]
        if node.length > len(node.items) or not node.complete:
            items.append(f"… {_array_length(node)} in all")
        return items
    return node


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return _cut(value)
    return _cut(json.dumps(_plain(value), ensure_ascii=False))


def _table(array: _Arr, max_rows: int) -> tuple[tuple[Column, ...], tuple[tuple[str, ...], ...]]:
    """Columns and rows for an array whose items are (mostly) objects."""
    objects = array.kinds.get("object", 0)
    if not array.keys or objects < 0.9 * max(array.scanned, 1):
        return (), ()
    names = list(array.keys)
    items = [item for item in array.items if isinstance(item, _Obj)]
    columns = []
    for name in names:
        types = array.keys[name]
        present = {kind for kind in types if kind != "null"}
        nulls = objects - sum(times for kind, times in types.items() if kind != "null")
        if not present:
            column_type = "empty"
        elif present == {"integer"}:
            column_type = "integer"
        elif present <= {"integer", "number"}:
            column_type = "decimal"
        elif present == {"boolean"}:
            column_type = "boolean"
        elif present == {"string"}:
            strings = [item.items.get(name) for item in items]
            inferred = infer_type(value for value in strings if isinstance(value, str)).type
            column_type = inferred if inferred in ("date", "datetime") else "text"
        else:
            column_type = "text"
        columns.append(Column(name, column_type, max(nulls, 0)))
    rows = tuple(tuple(_cell(item.items.get(name)) for name in names) for item in items[:max_rows])
    return tuple(columns), rows


def _render(root: Any, what: str) -> str:
    if what == "JSON Lines" and isinstance(root, _Arr):
        out = [f"JSON Lines · {_array_length(root).replace('item', 'record')}{_item_kinds(root)}"]
    else:
        out = [_describe(root)]
    _outline(root, 1, 0, out)
    if isinstance(root, _Arr) and root.items:
        shown = root.items[:3]
        out += ["", f"first {_count(len(shown), 'item' if what == 'JSON' else 'record')}:"]
        out += [json.dumps(_plain(item), indent=2, ensure_ascii=False) for item in shown]
    elif isinstance(root, _Obj):
        out += ["", json.dumps(_plain(root), indent=2, ensure_ascii=False)]
    text = "\n".join(out)
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + "\n… (cut)"


# --- JSON and JSON Lines -----------------------------------------------------------------------------


def _json_error(exc: json.JSONDecodeError, what: str = "JSON") -> str:
    return f"not valid {what}: {exc.msg} (line {exc.lineno:,}, column {exc.colno:,})"


def _looks_like_lines(text: str) -> bool:
    """Two or more lines that each hold a whole JSON object or array."""
    lines = [line for line in islice(text.splitlines(), 0, 50) if line.strip()]
    if len(lines) < 2:
        return False
    for line in lines[:2]:
        stripped = line.strip()
        if not stripped.startswith(("{", "[")):
            return False
        try:
            json.loads(stripped)
        except ValueError:
            return False
    return True


def inspect_json(path: Path, *, max_rows: int = DEFAULT_ROWS, sheet: str | None = None) -> Preview:
    """An outline of a JSON or JSON Lines file (types, keys, lengths, the first items); arrays of objects also
    as a table."""
    del sheet
    path = Path(path)
    try:
        head = textio.read_head(path, 65536)
        if not head.complete and head.size <= LOAD_LIMIT:
            head = textio.read_head(path, LOAD_LIMIT)
    except OSError as exc:
        return Preview("json", error=f"cannot read {path.name}: {exc.strerror or exc}")
    facts: list[tuple[str, str]] = [("size", format_size(head.size))]
    if head.size == 0:
        return Preview("json", facts=tuple(facts), notes=("the file is empty",))
    try:
        decoded = textio.decode_head(head.data, head.complete)
    except textio.NotText as exc:
        return Preview("json", facts=tuple(facts), error=f"this does not look like text: {exc}")
    lines_format = path.name.lower().endswith(_JSONL_SUFFIXES) or _looks_like_lines(decoded.text[:MAX_LINE])
    if lines_format:
        return _inspect_lines(path, head, decoded, facts, max_rows)
    if head.complete:
        try:
            value = json.loads(decoded.text)
        except json.JSONDecodeError as exc:
            return Preview("json", facts=tuple(facts), error=_json_error(exc))
        except RecursionError:
            return Preview("json", facts=tuple(facts), error="nested too deeply to outline")
        root = _skeleton(value, keep=max(max_rows, NESTED_ITEMS))
        del value
        notes: list[str] = []
    else:
        try:
            root, notes = _stream(path, decoded, max_rows)
        except _BadJSON as exc:
            return Preview("json", facts=tuple(facts), error=str(exc))
    return _json_preview(root, facts, decoded, notes, max_rows, "JSON")


class _BadJSON(Exception):
    pass


def _stream(path: Path, decoded: textio.Decoded, max_rows: int) -> tuple[Any, list[str]]:
    import ijson  # deferred: only JSON too large to load pays for it

    notes: list[str] = []
    with open(path, "rb") as handle:
        size = textio._size(handle)
        handle.seek(decoded.bom)
        reader = _Reader(handle, STREAM_BYTES, decoded.codec, time.perf_counter() + STREAM_SECONDS)
        events = _Events(ijson.parse(reader), ijson.JSONError)
        root, complete = _build(events, keep=max(max_rows, NESTED_ITEMS))
    if events.error is not None and not reader.exhausted:
        first_line = str(events.error).splitlines()[0][:200] if str(events.error) else "it ends too early"
        raise _BadJSON(f"not valid JSON: {first_line} (in the first {format_size(reader.consumed)})")
    if not complete:
        notes.append(f"outline from the first {format_size(reader.consumed)} of {format_size(size)}: lengths "
                     "are at least what was read")
        if isinstance(root, _Arr) and reader.consumed:
            root.estimated = max(root.length, round(root.length * size / reader.consumed))
            notes.append("the number of items is an estimate, scaled from the part read")
    return root, notes


class _Events:
    """ijson's events until the first error, which is kept rather than raised."""

    def __init__(self, events: Iterator[tuple[str, str, Any]], error_type: type[Exception]) -> None:
        self.events = events
        self.error_type = error_type
        self.error: Exception | None = None

    def __iter__(self) -> Iterator[tuple[str, str, Any]]:
        try:
            yield from self.events
        except self.error_type as exc:
            self.error = exc


def _json_preview(root: Any, facts: list[tuple[str, str]], decoded: textio.Decoded, notes: list[str],
                  max_rows: int, what: str) -> Preview:
    facts = [*facts, ("format", what)]
    if what == "JSON":
        facts.append(("top level", _describe(root) if root is not None else "nothing"))
    columns: tuple[Column, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()
    if isinstance(root, _Arr):
        columns, rows = _table(root, max_rows)
        label = "records" if what == "JSON Lines" else "items"
        facts.append((label, _array_length(root).removesuffix(" items").removesuffix(" item")))
    facts.append(("encoding", decoded.label))
    notes = [*notes, *textio.encoding_notes(decoded)]
    text = _render(root, what) if root is not None else ""
    return Preview("json", facts=tuple(facts), columns=columns, rows=rows, text=text, text_format="text",
                   notes=tuple(notes))


def _inspect_lines(path: Path, head: textio.Head, decoded: textio.Decoded, facts: list[tuple[str, str]],
                   max_rows: int) -> Preview:
    """JSON Lines: one value per line. Small files are read whole; large ones only their first lines."""
    array = _Arr()
    notes: list[str] = []
    keep = max(max_rows, NESTED_ITEMS)
    number = 0

    def take(line: str, number: int) -> str | None:
        stripped = line.strip()
        if not stripped:
            return None
        try:
            value = json.loads(stripped)
        except json.JSONDecodeError as exc:
            return f"not valid JSON Lines: {exc.msg} (line {number:,}, column {exc.colno:,})"
        array.length += 1
        if len(array.items) < keep:
            array.items.append(_skeleton(value))
        if array.length <= SCAN_ITEMS:
            _note_item(array, value)
        return None

    if head.complete:
        for number, line in enumerate(decoded.text.splitlines(), start=1):
            problem = take(line, number)
            if problem:
                return Preview("json", facts=tuple(facts), error=problem)
        array.complete = True
    else:
        deadline = time.perf_counter() + STREAM_SECONDS
        with open(path, "rb") as handle:
            handle.seek(decoded.bom)
            decoder = codecs.getincrementaldecoder(decoded.codec)("replace")
            read = 0
            while array.length < SCAN_ITEMS and read < STREAM_BYTES and time.perf_counter() < deadline:
                raw = handle.readline(MAX_LINE)
                if not raw:
                    break
                read += len(raw)
                number += 1
                if not raw.endswith(b"\n") and len(raw) >= MAX_LINE:
                    while raw and not raw.endswith(b"\n"):  # skip the rest of an over-long line
                        raw = handle.readline(MAX_LINE)
                    notes.append(f"line {number:,} is longer than {format_size(MAX_LINE)}: left out")
                    continue
                problem = take(decoder.decode(raw), number)
                if problem:
                    return Preview("json", facts=tuple(facts), error=problem)
        try:
            counted = textio.count_lines(path, decoded.newline)
        except OSError as exc:
            notes.append(f"could not count the lines: {exc.strerror or exc}")
        else:
            lines = counted.count
            if not counted.estimated and not textio.ends_with(path, decoded.newline):
                lines += 1
            if counted.estimated or array.length < number:
                # Scale by the share of the lines read that held a record (blank lines do not).
                share = array.length / number if number else 1
                array.estimated = max(array.length, round(lines * share))
                notes.append(f"the number of records is estimated from the line breaks in the first "
                             f"{format_size(counted.bytes_read)}")
            else:
                array.length, array.complete = max(lines, array.length), True
                notes.append("records counted by line breaks past the first lines")
    return _json_preview(array, facts, decoded, notes, max_rows, "JSON Lines")


# --- notebooks ---------------------------------------------------------------------------------------


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
                output[leaf] = _cut(value, 200)
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
        return f"error: {output.get('ename', '?')}: {_cut(output.get('evalue', ''), 120)}".rstrip(": ")
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
            reader = _Reader(handle, 1 << 62, decoded.codec, float("inf"))
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
            return _json_error(decode_error)
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
    facts.append(("outputs", f"{_count(len(with_output), 'cell')} with output · {_count(errors, 'error')} · "
                             f"{_count(images, 'image')}"))
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
        notes.append(f"{_count(errors, 'cell')} ended in an error")

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

