"""Read a Markdown export of a conversation, when it still holds the code (a stretch: JSON is the real source).

Markdown exporters differ, and several drop the executed code. Recognised: convoviz-style headings (`# User`,
`# Assistant`, `# Me`, `# ChatGPT`, `# Tool`, `### Code Interpreter...`), `#### You:` / `#### ChatGPT:` /
`#### Plugin (python):` (pionxzh), `### User (date)` / `### Assistant (date)` / `### Tool (date)`, and
`You said:` / `ChatGPT said:` copies. Python code is taken from ```` ```python ```` fences (or bare code under a
code-interpreter heading) in the assistant's turns. The result is a conversation dict shaped like the export's,
so the same extraction reads it. When no code is found, a problem says so plainly.

Some Markdown files are only a wrapper: a heading or a few lines, then the conversation's raw JSON in a
```` ```json ```` fence (one conversation, or an array of them). `embedded_conversations` reads that JSON, which
holds everything the export does; the heuristics above are for Markdown that has no such block.
"""

from __future__ import annotations

import json
import re
from typing import Any

_ROLE = re.compile(
    r"^(?:#{1,4}\s*(?P<h>You|User|Me|ChatGPT|Assistant|Tool|Plugin \(python\))\s*(?:\((?P<when>[^)]*)\))?:?\s*$"
    r"|(?P<said>You|ChatGPT) said:\s*$)",
    re.IGNORECASE | re.MULTILINE)
_FENCE = re.compile(r"^```(?P<lang>[\w+-]*)[^\n]*\n(?P<body>.*?)^```\s*$", re.MULTILINE | re.DOTALL)
_TITLE = re.compile(r"^#\s+(?!User\b|Me\b|ChatGPT\b|Assistant\b|Tool\b)(.+)$", re.MULTILINE)
_CODE_LANGS = {"python", "py", "python3", ""}
#: The opening line of a fence that may hold JSON: ```json, ```JSON, ```jsonc or a bare ```.
_JSON_FENCE = re.compile(r"^(?:```|~~~)[ \t]*(?:json\w*)?[ \t]*\n", re.IGNORECASE | re.MULTILINE)


def embedded_conversations(text: str, name: str) -> tuple[list[dict[str, Any]] | None, list[str]]:
    """(conversations, problems). The conversations are those held as raw JSON in the first fenced block that
    has any, or None when no fenced block holds one. A block holds one when its JSON is a conversation (an
    object with a `mapping` or a `linear_conversation`), an array of them, or `{"conversations": [...]}`.
    A block that starts like one but is not valid JSON is named in a problem."""
    decoder = json.JSONDecoder()
    damaged: list[str] = []
    for fence in _JSON_FENCE.finditer(text):
        start = fence.end()
        while start < len(text) and text[start] in " \t\r\n":
            start += 1
        if start >= len(text) or text[start] not in "[{":
            continue
        try:
            data, _ = decoder.raw_decode(text, start)
        except json.JSONDecodeError as exc:
            if '"mapping"' in text[start:start + (1 << 20)]:
                line = text.count("\n", 0, fence.start()) + 1
                damaged.append(f"{name}: the conversation's JSON in the fenced block at line {line} is damaged "
                               f"({exc.msg}, line {exc.lineno} of the file); it is read as Markdown instead")
            continue
        if isinstance(data, dict) and isinstance(data.get("conversations"), list):
            data = data["conversations"]
        items = data if isinstance(data, list) else [data]
        found = [item for item in items if isinstance(item, dict)
                 and isinstance(item.get("mapping") or item.get("linear_conversation"), dict | list)]
        if found:
            return found, []
    return None, damaged[:1]


def parse_markdown(text: str, name: str) -> tuple[dict[str, Any] | None, list[str]]:
    """(conversation, problems). The conversation is None when the text holds no recognisable turns."""
    text = text.replace("\r\n", "\n")
    turns: list[tuple[str, str]] = []
    marks = list(_ROLE.finditer(text))
    for i, mark in enumerate(marks):
        label = (mark.group("h") or mark.group("said") or "").lower()
        body = text[mark.end():marks[i + 1].start() if i + 1 < len(marks) else len(text)]
        role = "user" if label in ("you", "user", "me") else "tool" if label.startswith(("tool", "plugin")) \
            else "assistant"
        turns.append((role, body.strip("\n")))
    if not turns:
        return None, [f"{name}: no chat turns found; it does not look like a conversation export"]
    title_match = _TITLE.search(text[:marks[0].start()] if marks else text)
    title = title_match.group(1).strip() if title_match else name.rsplit(".", 1)[0]
    mapping: dict[str, Any] = {"root": {"id": "root", "parent": None, "children": [], "message": None}}
    parent = "root"
    cells = 0

    def add(message: dict[str, Any]) -> None:
        nonlocal parent
        nid = f"md-{len(mapping):04d}"
        mapping[nid] = {"id": nid, "parent": parent, "children": [], "message": {"id": nid, **message}}
        mapping[parent]["children"].append(nid)
        parent = nid

    for role, body in turns:
        if role == "user":
            add({"author": {"role": "user"}, "content": {"content_type": "text", "parts": [body]}})
            continue
        if role == "tool":
            add({"author": {"role": "tool", "name": "python"},
                 "content": {"content_type": "execution_output", "text": _strip_fences(body)}})
            continue
        code_blocks = [m for m in _FENCE.finditer(body) if m.group("lang").lower() in _CODE_LANGS
                       and _looks_like_python(m.group("body"))]
        interpreter = "code interpreter" in body[:200].lower()
        if interpreter and code_blocks:
            for block in code_blocks:
                add({"author": {"role": "assistant"}, "recipient": "python",
                     "content": {"content_type": "code", "language": "unknown", "text": block.group("body")}})
                cells += 1
            continue
        if interpreter and not code_blocks:
            bare = re.sub(r"^#+ .*$", "", body, flags=re.MULTILINE).strip()
            if _looks_like_python(bare):
                add({"author": {"role": "assistant"}, "recipient": "python",
                     "content": {"content_type": "code", "language": "unknown", "text": bare}})
                cells += 1
                continue
        add({"author": {"role": "assistant"}, "recipient": "all", "content": {"content_type": "text",
                                                                             "parts": [body]}})
    problems: list[str] = []
    if not cells:
        problems.append(f"{name}: this Markdown export holds no executed code (the exporter left it out); "
                        "export your data as JSON from ChatGPT to recover the cells")
    conv = {"id": "markdown-" + re.sub(r"[^\w-]+", "-", name).strip("-").lower(), "title": title,
            "mapping": mapping, "current_node": parent, "source_format": "markdown"}
    return conv, problems


def _strip_fences(text: str) -> str:
    return re.sub(r"^```[^\n]*\n|^```\s*$", "", text, flags=re.MULTILINE).strip("\n")


def _looks_like_python(code: str) -> bool:
    return bool(re.search(r"^\s*(import |from \w+ import|[\w.\[\]'\"]+\s*=|print\(|def |for |plt\.|df\b)", code,
                          re.MULTILINE))
