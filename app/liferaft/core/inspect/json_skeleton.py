"""A bounded skeleton of a JSON value: the first items of each array, the first keys of each object, a
summary of the items' types and keys, and lengths; built from a parsed value or from ijson's events.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from liferaft.core.inspect.json_reading import cut

#: Items kept per nested array, keys kept per object, levels kept.
NESTED_ITEMS = 3
MAX_KEYS = 200
MAX_DEPTH = 12
#: Items of an array whose keys and types are summarised.
SCAN_ITEMS = 1000


@dataclass(slots=True)
class JsonObject:
    items: dict[str, Any] = field(default_factory=dict)
    length: int = 0
    complete: bool = False


@dataclass(slots=True)
class JsonArray:
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


def json_type(value: Any) -> str:
    if isinstance(value, JsonObject | dict):
        return "object"
    if isinstance(value, JsonArray | list):
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


def note_item(array: JsonArray, item: Any) -> None:
    """Count one item's type (and its keys' types) into ``array``'s summary."""
    array.kinds[json_type(item)] += 1
    if isinstance(item, dict):
        for key, value in item.items():
            _note_key(array, key, json_type(value))


def _note_key(array: JsonArray, key: str, type_name: str) -> None:
    counter = array.keys.get(key)
    if counter is None:
        if len(array.keys) >= MAX_KEYS:
            return
        counter = array.keys[key] = Counter()
    counter[type_name] += 1


def skeleton(value: Any, keep: int = NESTED_ITEMS, depth: int = 0) -> Any:
    """A parsed value cut down to a bounded skeleton."""
    if isinstance(value, dict):
        node = JsonObject(length=len(value), complete=True)
        if depth < MAX_DEPTH:
            kept = islice(value.items(), MAX_KEYS)
            node.items = {key: skeleton(item, NESTED_ITEMS, depth + 1) for key, item in kept}
        return node
    if isinstance(value, list):
        array = JsonArray(length=len(value), complete=True)
        if depth < MAX_DEPTH:
            array.items = [skeleton(item, NESTED_ITEMS, depth + 1) for item in value[:keep]]
        for item in value[:SCAN_ITEMS]:
            note_item(array, item)
        return array
    if isinstance(value, str):
        return cut(value)
    return value




@dataclass(slots=True)
class _Frame:
    is_array: bool
    node: JsonObject | JsonArray | None
    key: str | None = None
    length: int = 0
    summary: JsonArray | None = None
    """The array this object is an item of, whose key summary it feeds."""


def skeleton_from_events(events: Iterable[tuple[str, str, Any]], keep: int) -> tuple[Any, bool]:
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
                value = cut(value)
        store = parent is None or (
            parent.node is not None and len(stack) < MAX_DEPTH and _has_room(parent, keep, stack)
        )
        node: Any = value
        if is_container:
            node = (JsonObject() if event == "start_map" else JsonArray()) if store else None
        if parent is not None:
            parent.length += 1
            if isinstance(parent.node, JsonArray):
                parent.node.length = parent.length
                if parent.length <= SCAN_ITEMS:
                    parent.node.kinds[type_name] += 1
                if store:
                    parent.node.items.append(node)
            elif isinstance(parent.node, JsonObject):
                parent.node.length = parent.length
                if store:
                    parent.node.items[parent.key or ""] = node
            if parent.summary is not None and parent.key is not None:
                _note_key(parent.summary, parent.key, type_name)
        else:
            root = node
        if is_container:
            summary = None
            if (event == "start_map" and parent is not None and isinstance(parent.node, JsonArray)
                    and parent.length <= SCAN_ITEMS):
                summary = parent.node
            stack.append(_Frame(event == "start_array", node, summary=summary))
        elif parent is None:
            return root, True
    return root, False


def _has_room(parent: _Frame, keep: int, stack: list[_Frame]) -> bool:
    node = parent.node
    if isinstance(node, JsonArray):
        return len(node.items) < (keep if len(stack) == 1 else NESTED_ITEMS)
    return isinstance(node, JsonObject) and len(node.items) < MAX_KEYS
