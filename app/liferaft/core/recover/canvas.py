"""Canvas documents (ChatGPT's "canvas", the `canmore` tool) replayed to their last state.

In an export a canvas is only tool calls: the assistant sends ``canmore.create_textdoc`` a JSON string
``{"name", "type", "content"}`` (``type`` is ``"document"`` or ``"code/<language>"``) and ``canmore.update_textdoc``
``{"updates": [{"pattern", "multiple", "replacement"}]}``: each pattern a Python regular expression, each
replacement expanded against its match (``\\1`` refers to a group). The tool's reply (the next message) names the
canvas in ``metadata.canvas`` (``textdoc_id``, ``title`` as the UI showed it, ``textdoc_type``, ``version``), and
says ``is_failure`` when ChatGPT could not apply an update either.

:func:`replay` walks the branch shown last, in order, and applies each update to the canvas it names (or, without
a reply, the one changed last). An update is applied whole or not at all: one that cannot be applied (its JSON is
damaged or cut off, a pattern is not a valid expression or is not found) leaves the canvas as it was, and a problem
says so. An update ChatGPT itself refused changed nothing there either, so it is skipped without a problem.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

# The chat's own patterns are applied with a time limit: Python's re has none, and a pattern that backtracks for
# ever on the canvas's text would stall the import (see pyproject's note on regex).
import regex

#: Seconds one update's pattern may take to match before the update is given up (the canvas keeps its last state).
PATTERN_TIMEOUT_S = 2.0

CREATE = "canmore.create_textdoc"
UPDATE = "canmore.update_textdoc"

#: File extension per canvas code language (``code/<language>``); others are ``.txt``.
CODE_EXTENSIONS = {
    "python": "py", "javascript": "js", "typescript": "ts", "react": "jsx", "html": "html", "css": "css",
    "java": "java", "cpp": "cpp", "c": "c", "csharp": "cs", "go": "go", "rust": "rs", "ruby": "rb", "php": "php",
    "powershell": "ps1", "bash": "sh", "shell": "sh", "sh": "sh", "zsh": "sh", "sql": "sql", "r": "R",
    "swift": "swift", "kotlin": "kt", "scala": "scala", "json": "json", "yaml": "yaml", "toml": "toml",
    "markdown": "md", "latex": "tex", "lua": "lua", "perl": "pl", "dart": "dart", "matlab": "m", "julia": "jl",
    "vba": "bas", "xml": "xml",
}
#: The extensions a canvas title may already end with (dropped from its file's stem).
_TITLE_EXTENSIONS = frozenset(CODE_EXTENSIONS.values()) | {"md", "txt"}


@dataclass
class Canvas:
    """One canvas document as it was after the last update that could be applied."""

    title: str
    doc_type: str  # "document", "code/python"...
    content: str
    textdoc_id: str | None = None
    node: str = ""  # the node of the create call
    applied: int = 0  # updates applied
    skipped: list[str] = field(default_factory=list)  # updates that could not be applied, one line each
    refused: int = 0  # updates ChatGPT itself reported as failed (nothing changed there either)

    @property
    def is_code(self) -> bool:
        return self.doc_type.startswith("code/")

    @property
    def extension(self) -> str:
        if not self.is_code:
            return "md"
        return CODE_EXTENSIONS.get(self.doc_type.partition("/")[2].strip().lower(), "txt")

    @property
    def stem(self) -> str:
        """The title without an extension it may already carry (``"report.py"`` → ``"report"``)."""
        base, dot, ext = self.title.rpartition(".")
        if dot and base and ext.lower() in _TITLE_EXTENSIONS:
            return base
        return self.title

    def to_json(self) -> dict[str, Any]:
        return {"title": self.title, "type": self.doc_type, "updates_applied": self.applied,
                "updates_skipped": len(self.skipped)}


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _payload_text(content: dict[str, Any]) -> str:
    text = content.get("text")
    if isinstance(text, str):
        return text
    parts = content.get("parts")
    if isinstance(parts, list):
        return "".join(part for part in parts if isinstance(part, str))
    return ""


def _payload(content: dict[str, Any]) -> dict[str, Any] | None:
    try:
        data = json.loads(_payload_text(content), strict=False)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def apply_updates(text: str, updates: Any) -> tuple[str | None, str]:
    """``text`` after every update of ``updates`` (a list of ``{"pattern", "multiple", "replacement"}``), or
    (None, why) when one cannot be applied: then none is."""
    if not isinstance(updates, list) or not updates:
        return None, "it holds no updates"
    for number, update in enumerate(updates, 1):
        update = _dict(update)
        pattern, replacement = update.get("pattern"), update.get("replacement")
        where = f"update {number}" if len(updates) > 1 else "its pattern"
        if not isinstance(pattern, str) or not isinstance(replacement, str):
            return None, f"{where} has no pattern or replacement"
        try:
            expression = regex.compile(pattern, regex.DOTALL | regex.VERSION0)
        except (regex.error, ValueError, OverflowError) as exc:
            return None, f"{where} is not a valid regular expression ({exc})"
        try:
            matches = list(expression.finditer(text, timeout=PATTERN_TIMEOUT_S))
        except TimeoutError:
            return None, (f"{where} took over {PATTERN_TIMEOUT_S:g} s to match (a pattern that can run for ever on "
                          "this text)")
        pieces: list[str] = []
        last = 0
        found = False
        for match in matches:
            if found and match.start() == match.end() == last:
                continue  # the empty match right after a whole-text match (".*") is not a second place
            found = True
            if expression.groups:
                try:
                    new = match.expand(replacement)
                except (regex.error, IndexError, ValueError):
                    new = replacement
            else:
                new = replacement
            pieces.append(text[last:match.start()])
            pieces.append(new)
            last = match.end()
            if not update.get("multiple"):
                break
        if not found:
            shown = pattern if len(pattern) <= 40 else pattern[:37] + "..."
            return None, f"{where} ({shown!r}) is not found in the canvas"
        pieces.append(text[last:])
        text = "".join(pieces)
    return text, ""


def replay(mapping: dict[str, Any], path: list[str], when: Any = None) -> tuple[list[Canvas], list[str]]:
    """The canvases created on ``path`` (node ids in order) at their last state, and one-line problems.
    ``when(node_id)`` names a message's time for the problems ("2025-08-01 10:02"), or None."""
    canvases: list[Canvas] = []
    problems: list[str] = []
    by_id: dict[str, Canvas] = {}
    current: Canvas | None = None
    broken: set[str] = set()  # textdoc ids whose create could not be read

    def message(key: str) -> dict[str, Any]:
        return _dict(_dict(mapping.get(key)).get("message"))

    def at(key: str) -> str:
        shown = when(key) if when else None
        return f" ({shown})" if shown else ""

    for position, key in enumerate(path):
        msg = message(key)
        recipient = msg.get("recipient")
        if _dict(msg.get("author")).get("role") != "assistant" or recipient not in (CREATE, UPDATE):
            continue
        reply: dict[str, Any] = {}
        if position + 1 < len(path):
            following = message(path[position + 1])
            name = _dict(following.get("author")).get("name")
            if _dict(following.get("author")).get("role") == "tool" and isinstance(name, str) \
                    and name.startswith("canmore."):
                reply = following
        info = _dict(_dict(reply.get("metadata")).get("canvas"))
        textdoc_id = info.get("textdoc_id") if isinstance(info.get("textdoc_id"), str) else None
        payload = _payload(_dict(msg.get("content")))
        if recipient == CREATE:
            if payload is None or not isinstance(payload.get("content"), str):
                title = info.get("title") if isinstance(info.get("title"), str) else "a canvas"
                problems.append(f"canvas \"{title}\"{at(key)}: its JSON in the export is damaged or cut off; "
                                "it could not be recovered")
                if textdoc_id:
                    broken.add(textdoc_id)
                current = None
                continue
            title = next((t.strip() for t in (info.get("title"), payload.get("name"))
                          if isinstance(t, str) and t.strip()), "Canvas")
            doc_type = next((t.strip() for t in (payload.get("type"), info.get("textdoc_type"))
                             if isinstance(t, str) and t.strip()), "document")
            current = Canvas(title, doc_type, payload["content"], textdoc_id, key)
            canvases.append(current)
            if textdoc_id:
                by_id[textdoc_id] = current
            continue
        target = by_id.get(textdoc_id) if textdoc_id else current
        if target is None:
            if textdoc_id not in broken:
                problems.append(f"a canvas update{at(key)} names no canvas this conversation created; skipped")
            continue
        current = target
        if info.get("is_failure") is True or _dict(reply.get("content")).get("content_type") == "system_error":
            target.refused += 1
            continue
        if payload is None:
            why = "its JSON in the export is damaged or cut off"
            new: str | None = None
        else:
            new, why = apply_updates(target.content, payload.get("updates"))
        if new is None:
            number = target.applied + len(target.skipped) + target.refused + 1
            line = f"update {number}{at(key)} could not be applied: {why}"
            target.skipped.append(line)
            problems.append(f"canvas \"{target.title}\": {line}; kept as it was before it")
            continue
        target.content = new
        target.applied += 1
    return canvases, problems
