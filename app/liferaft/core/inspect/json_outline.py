"""JSON and JSON Lines: an outline of the structure, never the whole file in memory.

JSON up to :data:`LOAD_LIMIT` is parsed with the json module (exact lengths, and a syntax error's line and
column); larger files are streamed with ijson, keeping only a bounded skeleton (the first items of each
array, the first keys of each object) and stopping after :data:`STREAM_BYTES`. An array of objects, or JSON
Lines of objects, is also shown as a table.
"""

from __future__ import annotations

import codecs
import json
import time
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any

from liferaft.core.inspect import DEFAULT_ROWS, Column, Preview
from liferaft.core.inspect import text as textio
from liferaft.core.inspect.delimited import infer_type
from liferaft.core.inspect.json_reading import (
    LOAD_LIMIT,
    MAX_TEXT,
    STREAM_SECONDS,
    BoundedReader,
    cut,
    syntax_error,
)
from liferaft.core.inspect.json_skeleton import (
    NESTED_ITEMS,
    SCAN_ITEMS,
    JsonArray,
    JsonObject,
    json_type,
    note_item,
    skeleton,
    skeleton_from_events,
)
from liferaft.core.units import format_count, format_size

#: How much of a large JSON file is streamed for its outline.
STREAM_BYTES = 4_000_000
#: A JSON Lines line longer than this is skipped in the preview.
MAX_LINE = 1 << 20

_JSONL_SUFFIXES = (".jsonl", ".ndjson")


# --- rendering --------------------------------------------------------------------------------------


def _array_length(array: JsonArray) -> str:
    if array.complete:
        return format_count(array.length, "item")
    if array.estimated is not None:
        return f"{textio.approx(array.estimated)} items"
    return f"at least {format_count(array.length, 'item')}"


def _item_kinds(array: JsonArray) -> str:
    if not array.kinds:
        return ""
    plural = {"object": "objects", "array": "arrays", "string": "strings", "integer": "integers",
              "number": "numbers", "boolean": "booleans", "null": "nulls"}
    if len(array.kinds) == 1:
        return " of " + plural[next(iter(array.kinds))]
    return " (" + ", ".join(f"{name} ×{times:,}" for name, times in array.kinds.most_common()) + ")"


def _describe(node: Any) -> str:
    if isinstance(node, JsonObject):
        keys = format_count(node.length, "key")
        return f"object · {keys}" if node.complete else f"object · at least {keys}"
    if isinstance(node, JsonArray):
        return f"array · {_array_length(node)}{_item_kinds(node)}"
    if node is None:
        return "null"
    name = json_type(node)
    shown = json.dumps(node, ensure_ascii=False) if not isinstance(node, str) else json.dumps(cut(node, 60),
                                                                                              ensure_ascii=False)
    return f"{name} {shown}"


def _outline(node: Any, indent: int, depth: int, out: list[str]) -> None:
    pad = "  " * indent
    if len(out) > 400:
        return
    if isinstance(node, JsonObject):
        for key, child in node.items.items():
            out.append(f"{pad}{json.dumps(key, ensure_ascii=False)}: {_describe(child)}")
            if isinstance(child, JsonObject | JsonArray) and depth < 4:
                _outline(child, indent + 1, depth + 1, out)
        if node.length > len(node.items):
            out.append(f"{pad}… {format_count(node.length - len(node.items), 'more key')}")
    elif isinstance(node, JsonArray):
        if node.keys:
            scanned = node.scanned
            out.append(f"{pad}keys of the items (in the first {scanned:,}):")
            for key, types in node.keys.items():
                seen = sum(types.values())
                where = "" if seen >= node.kinds.get("object", 0) else f"  (in {seen:,})"
                joined = " | ".join(name for name, _ in types.most_common())
                out.append(f"{pad}  {json.dumps(key, ensure_ascii=False)}: {joined}{where}")
        elif node.items and isinstance(node.items[0], JsonObject | JsonArray) and depth < 4:
            out.append(f"{pad}[0]: {_describe(node.items[0])}")
            _outline(node.items[0], indent + 1, depth + 1, out)


def _plain(node: Any) -> Any:
    """The skeleton as plain values for json.dumps, with markers where it was cut."""
    if isinstance(node, JsonObject):
        value = {key: _plain(child) for key, child in node.items.items()}
        if node.length > len(node.items) or not node.complete:
            value["…"] = f"{node.length - len(node.items):,} more keys" if node.complete else "not read to the end"
        return value
    if isinstance(node, JsonArray):
        items = [_plain(child) for child in node.items]
        if node.length > len(node.items) or not node.complete:
            items.append(f"… {_array_length(node)} in all")
        return items
    return node


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return cut(value)
    return cut(json.dumps(_plain(value), ensure_ascii=False))


def _table(array: JsonArray, max_rows: int) -> tuple[tuple[Column, ...], tuple[tuple[str, ...], ...]]:
    """Columns and rows for an array whose items are (mostly) objects."""
    objects = array.kinds.get("object", 0)
    if not array.keys or objects < 0.9 * max(array.scanned, 1):
        return (), ()
    names = list(array.keys)
    items = [item for item in array.items if isinstance(item, JsonObject)]
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
    if what == "JSON Lines" and isinstance(root, JsonArray):
        out = [f"JSON Lines · {_array_length(root).replace('item', 'record')}{_item_kinds(root)}"]
    else:
        out = [_describe(root)]
    _outline(root, 1, 0, out)
    if isinstance(root, JsonArray) and root.items:
        shown = root.items[:3]
        out += ["", f"first {format_count(len(shown), 'item' if what == 'JSON' else 'record')}:"]
        out += [json.dumps(_plain(item), indent=2, ensure_ascii=False) for item in shown]
    elif isinstance(root, JsonObject):
        out += ["", json.dumps(_plain(root), indent=2, ensure_ascii=False)]
    text = "\n".join(out)
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + "\n… (cut)"


# --- JSON and JSON Lines -----------------------------------------------------------------------------


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
            return Preview("json", facts=tuple(facts), error=syntax_error(exc))
        except RecursionError:
            return Preview("json", facts=tuple(facts), error="nested too deeply to outline")
        root = skeleton(value, keep=max(max_rows, NESTED_ITEMS))
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
        reader = BoundedReader(handle, STREAM_BYTES, decoded.codec, time.perf_counter() + STREAM_SECONDS)
        events = _Events(ijson.parse(reader), ijson.JSONError)
        root, complete = skeleton_from_events(events, keep=max(max_rows, NESTED_ITEMS))
    if events.error is not None and not reader.exhausted:
        first_line = str(events.error).splitlines()[0][:200] if str(events.error) else "it ends too early"
        raise _BadJSON(f"not valid JSON: {first_line} (in the first {format_size(reader.consumed)})")
    if not complete:
        notes.append(f"outline from the first {format_size(reader.consumed)} of {format_size(size)}: lengths "
                     "are at least what was read")
        if isinstance(root, JsonArray) and reader.consumed:
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
    if isinstance(root, JsonArray):
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
    array = JsonArray()
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
            array.items.append(skeleton(value))
        if array.length <= SCAN_ITEMS:
            note_item(array, value)
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
