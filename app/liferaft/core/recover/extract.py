"""One conversation of a ChatGPT export, as what ran and what it made.

:func:`extract` takes the raw conversation dict (one element of ``conversations.json``) and returns a
:class:`Conversation`: the user's prompts with their times, every code cell the assistant sent to ``python`` with
its result (read from the tool reply's ``metadata.aggregate_result``: the message status says "finished" even for
a failed run), the sandbox resets (each one starts a new epoch: files made before it were lost), the uploads, and
the files the chat generated (``sandbox:/mnt/data/...`` links, paths written by code, interactive tables,
figures).

No vendor schema exists, so every key is optional: a missing or odd-typed field is skipped, never a crash. What
could not be read is said in :attr:`Conversation.problems`, one line each.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

#: Start of the tool reply that means the sandbox had been wiped (short 2023-24 form and long 2025 form).
RESET_TEXT = "Code execution state reset."
#: The longest output text kept per cell (outputs can be megabytes of printed data frames).
OUTPUT_LIMIT = 4_000
#: The longest prompt text kept.
PROMPT_LIMIT = 20_000
#: The largest code cell kept; beyond it the cell is cut and a problem says so.
CODE_LIMIT = 2_000_000

#: A bare link runs to white space or a character that cannot be in one; its trailing punctuation is trimmed after.
SANDBOX_LINK = re.compile(r"sandbox:(/mnt/data/[^\s>`\"'<]+)")
#: Where a Markdown link's target starts (``[text](`` or ``![alt](``, optionally ``<`` for one with spaces).
_MD_TARGET = re.compile(r"\]\(\s*(<?)sandbox:/mnt/data/")
#: A code span on one line (backticks paired left to right): a link in one runs to the closing backtick.
_CODE_SPAN = re.compile(r"`([^`\n]*)`")
#: What ends a bare link (GitHub's rules for autolinks): these at its end are punctuation, not the name.
_TRAILING = ".,;:!?*_~'\""
_MNT_PATH = re.compile(r"(?<![\w/])/mnt/data/[^\s\"'`)\]>,;{}*?<|]+")
_MNT_LITERAL = re.compile(r"""(?<![\w])[rRuU]?(["'])(/mnt/data/[^"'\n{}*?]+)\1""")
_JUNK = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_READS = re.compile(r"(?:read_\w+|load\w*|open_workbook|ZipFile|Image\.open|imread|listdir|glob|exists|isfile|"
                    r"isdir|walk|scandir|stat|getsize)\s*\(\s*[rRuU]?$")
_WRITES = re.compile(r"(?:to_\w+|save\w*|savefig|output|write\w*|dump|export|copy\w*|move|rename|makedirs|mkdir)"
                     r"\s*\(")

STATUS_SUCCESS = "success"
STATUS_FAILED = "failed"
STATUS_CANCELLED = "cancelled"
STATUS_TOOL_ERROR = "tool_error"
STATUS_UNKNOWN = "unknown"
STATUS_NO_RESULT = "no_result"


@dataclass
class Prompt:
    """A message the user typed (hidden system and context messages are left out)."""

    node_id: str
    text: str
    time: float | None
    abandoned: bool = False


@dataclass
class Upload:
    """A file the user attached; in the sandbox it was ``/mnt/data/<name>``."""

    name: str
    size: int | None = None
    mime_type: str | None = None
    file_id: str | None = None
    time: float | None = None
    project_file: bool = False  # on a hidden system message: a Project's or GPT's knowledge file

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "size": self.size, "mime_type": self.mime_type, "file_id": self.file_id}


@dataclass
class Figure:
    """An image a cell displayed (``file-service://`` or ``sediment://`` pointer), maybe present in the zip."""

    file_id: str
    cell: int
    width: int | None = None
    height: int | None = None


@dataclass
class CodeCell:
    """One run of Python in the sandbox. ``status`` is one of success, failed, cancelled, tool_error (the tool
    itself failed), unknown (a reply without a recorded status), no_result (no reply in the export)."""

    index: int
    node_id: str
    code: str
    time: float | None
    prompt: str | None
    status: str = STATUS_NO_RESULT
    error: str | None = None
    output: str = ""
    epoch: int = 0
    abandoned: bool = False
    reset: bool = False  # the reply was "Code execution state reset.": the cell did not run
    figures: list[Figure] = field(default_factory=list)

    @property
    def ran(self) -> bool:
        return self.status in (STATUS_SUCCESS, STATUS_UNKNOWN, STATUS_NO_RESULT)


@dataclass
class Reset:
    """The sandbox was wiped before ``cell`` ran: epoch ``epoch`` starts here."""

    node_id: str
    time: float | None
    epoch: int
    cell: int | None


@dataclass
class GeneratedFile:
    """A file the chat made. ``path`` is relative to ``/mnt/data`` (URL-decoded, sub-folders kept); ``kind`` one of
    link, code, visualization, figure; ``epoch`` the sandbox epoch it was made in; ``lost`` True when a reset
    came after it (it was gone even before the sandbox expired)."""

    path: str
    kind: str
    epoch: int = 0
    cell: int | None = None
    file_id: str | None = None
    lost: bool = False
    abandoned: bool = False

    @property
    def name(self) -> str:
        return self.path.rpartition("/")[2]

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "path": self.path, "kind": self.kind, "epoch": self.epoch, "cell": self.cell,
                "lost_in_reset": self.lost}


@dataclass
class Conversation:
    id: str | None
    title: str
    create_time: float | None = None
    update_time: float | None = None
    model: str | None = None
    prompts: list[Prompt] = field(default_factory=list)
    cells: list[CodeCell] = field(default_factory=list)
    resets: list[Reset] = field(default_factory=list)
    uploads: list[Upload] = field(default_factory=list)
    generated: list[GeneratedFile] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def failed_cells(self) -> list[CodeCell]:
        return [cell for cell in self.cells if cell.status in (STATUS_FAILED, STATUS_TOOL_ERROR)]

    @property
    def upload_names(self) -> set[str]:
        return {upload.name for upload in self.uploads}


# --- small readers: every key optional ----------------------------------------------------------------------


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if value == value and abs(value) != float("inf") else None


def _int(value: Any) -> int | None:
    number = _num(value)
    return int(number) if number is not None and number >= 0 else None


def clean_text(text: str) -> str:
    """``\\r\\n`` made ``\\n``, and control bytes (binary junk) made U+FFFD so the text can be written as source."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _JUNK.sub("\ufffd", text)


def text_of(content: dict[str, Any]) -> str:
    """The text of a message's content: its string parts joined (dict parts' ``text``), else ``text``."""
    parts = content.get("parts")
    if isinstance(parts, list):
        pieces = []
        for part in parts:
            if isinstance(part, str):
                pieces.append(part)
            elif isinstance(part, dict) and isinstance(part.get("text"), str):
                pieces.append(part["text"])
        if pieces:
            return "".join(pieces)
    for key in ("text", "result"):
        value = content.get(key)
        if isinstance(value, str):
            return value
    return ""


def pointer_id(url: str) -> str:
    """``file-service://file-AbC`` → ``file-AbC`` (also ``sediment://``)."""
    return url.split("://", 1)[1] if "://" in url else url


def _decode_path(raw: str) -> str | None:
    """``/mnt/data/a%20b/c.png.`` → ``a b/c.png``: relative to /mnt/data, URL-decoded, trailing punctuation off."""
    raw = raw.rstrip(".,;:!?")
    path = urllib.parse.unquote(raw).removeprefix("/mnt/data").strip("/")
    parts = [part for part in path.split("/") if part not in ("", ".")]
    if not parts or ".." in parts:
        return None
    return "/".join(parts)


def _markdown_target(text: str, start: int, angled: bool) -> int | None:
    """The end of a Markdown link's target that starts at ``start``: the ``>`` of an angled one, else the ``)``
    that balances the link's ``(`` (so ``chart_(v2).png`` stays whole), a title (`` "..."``) cut off. None when
    the link is not closed on its line."""
    if angled:
        end = text.find(">", start)
        return end if end != -1 and "\n" not in text[start:end] else None
    depth = 0
    for index in range(start, len(text)):
        char = text[index]
        if char == "\n":
            return None
        if char == "(":
            depth += 1
        elif char == ")":
            if depth == 0:
                return index
            depth -= 1
        elif char.isspace() and text[index + 1:index + 2] in ('"', "'", "("):
            return index  # [text](sandbox:/mnt/data/a.csv "title")
    return None


def _trim_bare(link: str) -> str:
    """A bare link without its trailing punctuation: ``.,;:!?*_~`` and quotes, and a ``)`` or ``]`` that closes
    nothing in it (``(see sandbox:/mnt/data/a.csv)``)."""
    while link:
        last = link[-1]
        unbalanced = (last == ")" and link.count(")") > link.count("(")) or \
            (last == "]" and link.count("]") > link.count("["))
        if last not in _TRAILING and not unbalanced:
            break
        link = link[:-1]
    return link


def sandbox_links(text: str) -> list[str]:
    """The ``sandbox:/mnt/data/...`` links in assistant text, decoded, in order: Markdown links (parentheses in
    the name balanced, ``<...>`` targets with spaces), links in backticks (everything up to the closing backtick,
    spaces included), and bare ones (up to white space, trailing punctuation left out)."""
    found: list[tuple[int, str]] = []
    taken: list[tuple[int, int]] = []

    def free(start: int) -> bool:
        return not any(low <= start < high for low, high in taken)

    for match in _MD_TARGET.finditer(text):
        start = match.end() - len("/mnt/data/")
        end = _markdown_target(text, start, bool(match[1]))
        if end is None:
            continue
        found.append((start, text[start:end].strip()))
        taken.append((match.start(), end + 1))
    for match in _CODE_SPAN.finditer(text):
        if "sandbox:/mnt/data/" not in match[1] or not free(match.start(1)):
            continue
        body, offset = match[1], match.start(1)
        pieces = body.split("sandbox:")  # `sandbox:/mnt/data/a b.csv` (and more than one in a span)
        at = len(pieces[0])
        for piece in pieces[1:]:
            at += len("sandbox:")
            if piece.startswith("/mnt/data/"):
                found.append((offset + at, piece.strip()))
            at += len(piece)
        taken.append((match.start(), match.end()))
    for match in SANDBOX_LINK.finditer(text):
        if free(match.start()):
            found.append((match.start(1), _trim_bare(match[1])))
    paths: list[str] = []
    for _start, raw in sorted(found):
        path = _decode_path(raw)
        if path and path not in paths:
            paths.append(path)
    return paths


def _has_extension(path: str) -> bool:
    name = path.rpartition("/")[2]
    stem, dot, ext = name.rpartition(".")
    return bool(dot and stem and ext and len(ext) <= 8 and ext.isalnum())


def written_paths(code: str, uploads: Iterable[str] = ()) -> list[str]:
    """``/mnt/data/...`` files a cell's code probably wrote: path literals that are not uploads and not only read
    (``read_csv(...)``, ``open(...)`` without a write mode), with an extension (folders are not outputs)."""
    upload_keys = {name.casefold() for name in uploads}
    found: list[str] = []
    matches = [(match.start(), match.end(), match[2]) for match in _MNT_LITERAL.finditer(code)]
    covered = [(start, end) for start, end, _text in matches]
    matches += [(match.start(), match.end(), match[0]) for match in _MNT_PATH.finditer(code)
                if not any(start <= match.start() < end for start, end in covered)]
    matches.sort()
    for start, end, text in matches:
        path = _decode_path(text.rstrip("\\"))
        if not path or not _has_extension(path) or path.casefold() in upload_keys:
            continue
        before = code[max(0, start - 60):start].rstrip("\"'")
        line = code[code.rfind("\n", 0, start) + 1:start]
        if _READS.search(before) and not _WRITES.search(before[-30:]):
            continue
        if re.search(r"\bopen\s*\(\s*[rRuU]?$", before):
            after = code[end:end + 40]
            if not re.match(r"""\s*["']?\s*,\s*(?:mode\s*=\s*)?["'][^"']*[wax]""", after):
                continue
        if "#" in line and line.lstrip().startswith("#"):
            continue
        if path not in found:
            found.append(path)
    return found


# --- the tree -----------------------------------------------------------------------------------------------


def _message(node: Any) -> dict[str, Any]:
    return _dict(_dict(node).get("message"))


def _time(node: Any) -> float | None:
    return _num(_message(node).get("create_time"))


def active_path(mapping: dict[str, Any], current: Any, problems: list[str]) -> list[str]:
    """The node ids of the branch the chat showed last, root first: from ``current`` up the ``parent`` chain.
    A missing or dangling ``current`` falls back to the newest leaf; a cycle stops the walk."""
    node_id = current if isinstance(current, str) and current in mapping else None
    if node_id is None:
        leaves = [key for key, node in mapping.items() if not _list(_dict(node).get("children"))]
        if not leaves:
            leaves = list(mapping)
        if leaves:
            node_id = max(leaves, key=lambda key: (_time(mapping[key]) or 0.0, key))
            if current is not None:
                problems.append("its current message is not in the conversation: the newest branch was used")
    path: list[str] = []
    seen: set[str] = set()
    while isinstance(node_id, str) and node_id in mapping and node_id not in seen:
        seen.add(node_id)
        path.append(node_id)
        node_id = _dict(mapping[node_id]).get("parent")
    if isinstance(node_id, str) and node_id in seen:
        problems.append("its messages form a loop: the walk stopped where it repeats")
    path.reverse()
    return path


def all_nodes(mapping: dict[str, Any], active: list[str]) -> list[str]:
    """Every node, in the order things happened: depth first from the roots (children by time), then sorted by
    time, a node without a time taking its parent's. Cycles are guarded."""
    order: dict[str, int] = {}
    effective: dict[str, float] = {}
    kids_of: dict[str, list[str]] = {}
    for key, node in mapping.items():
        listed = [kid for kid in _list(_dict(node).get("children")) if isinstance(kid, str) and kid in mapping]
        kids_of.setdefault(key, []).extend(listed)
    for key, node in mapping.items():  # a child that names its parent, but that its parent does not list
        parent = _dict(node).get("parent")
        if isinstance(parent, str) and parent in mapping and key not in kids_of[parent]:
            kids_of[parent].append(key)
    roots = [key for key, node in mapping.items()
             if not isinstance(_dict(node).get("parent"), str) or _dict(node).get("parent") not in mapping]
    stack: list[tuple[str, float]] = [(key, 0.0) for key in reversed(roots)]
    pending = iter(mapping)  # nodes only reachable inside a cycle have no root: visited afterwards
    while True:
        while stack:
            key, inherited = stack.pop()
            if key in order:
                continue
            order[key] = len(order)
            effective[key] = _time(mapping[key]) or inherited
            kids = sorted(set(kids_of.get(key, ())), key=lambda kid: (_time(mapping[kid]) or 0.0, kid))
            for kid in reversed(kids):
                if kid not in order:
                    stack.append((kid, effective[key]))
        rest = next((key for key in pending if key not in order), None)
        if rest is None:
            break
        stack.append((rest, 0.0))
    return sorted(order, key=lambda key: (effective[key], order[key]))


# --- extraction ---------------------------------------------------------------------------------------------


def _is_hidden(message: dict[str, Any]) -> bool:
    metadata = _dict(message.get("metadata"))
    return bool(metadata.get("is_visually_hidden_from_conversation")) or \
        _str(_dict(message.get("content")).get("content_type")) in ("user_editable_context", "model_editable_context")


def _uploads_of(message: dict[str, Any], project_file: bool) -> Iterator[Upload]:
    for item in _list(_dict(message.get("metadata")).get("attachments")):
        item = _dict(item)
        name = _str(item.get("name"))
        if not name or not name.strip():
            continue
        name = clean_text(name).strip().rpartition("/")[2] if "/mnt/data/" not in name else \
            (_decode_path(name[name.index("/mnt/data/"):]) or name)
        mime = _str(item.get("mime_type")) or _str(item.get("mimeType")) or None
        yield Upload(name, _int(item.get("size")), mime, _str(item.get("id")), _num(message.get("create_time")),
                     project_file)


def _error_of(result: dict[str, Any], text: str) -> str:
    exception = _dict(result.get("in_kernel_exception")) or _dict(result.get("system_exception"))
    name = _str(exception.get("name"))
    args = [str(arg) for arg in _list(exception.get("args")) if isinstance(arg, (str, int, float))]
    if not name:
        for jupyter in _list(result.get("jupyter_messages")):
            jupyter = _dict(jupyter)
            if jupyter.get("msg_type") == "error":
                content = _dict(jupyter.get("content"))
                name = _str(content.get("ename"))
                value = _str(content.get("evalue"))
                args = [value] if value else []
                break
    if result.get("timeout_triggered") and not name:
        return "the run timed out"
    if name:
        message = "; ".join(args)
        return clean_text(f"{name}: {message}" if message else name)[:500]
    lines = [line for line in clean_text(text).splitlines() if line.strip()]
    status = _str(result.get("status")) or "failed"
    return (lines[-1][:500] if lines else status.replace("_", " "))


def _figures_of(result: dict[str, Any], cell: int) -> list[Figure]:
    found: dict[str, Figure] = {}
    for item in _list(result.get("messages")):
        item = _dict(item)
        url = _str(item.get("image_url"))
        if item.get("message_type") == "image" and url:
            file_id = pointer_id(url)
            found.setdefault(file_id, Figure(file_id, cell, _int(item.get("width")), _int(item.get("height"))))
    for jupyter in _list(result.get("jupyter_messages")):
        data = _dict(_dict(_dict(jupyter).get("content")).get("data"))
        for key, value in data.items():
            if not isinstance(key, str) or not key.startswith("image/vnd.openai.fileservice") or not isinstance(
                    value, str):
                continue
            url, width, height = value, None, None
            if value.lstrip().startswith("{"):
                import json

                try:
                    parsed = _dict(json.loads(value))
                except ValueError:
                    parsed = {}
                url = _str(parsed.get("url")) or ""
                width, height = _int(parsed.get("image_width")), _int(parsed.get("image_height"))
            if url:
                file_id = pointer_id(url)
                found.setdefault(file_id, Figure(file_id, cell, width, height))
    return list(found.values())


def _output_text(result: dict[str, Any], content: dict[str, Any]) -> str:
    text = text_of(content)
    if not text:
        pieces = [_str(_dict(item).get("text")) or "" for item in _list(result.get("messages"))]
        text = "".join(pieces) + (_str(result.get("final_expression_output")) or "")
    return text


def _title(conversation: dict[str, Any]) -> str:
    title = _str(conversation.get("title"))
    title = " ".join(clean_text(title).split()) if title else ""
    return title or "Untitled conversation"


def extract(conversation: Any, *, all_branches: bool = False) -> Conversation:
    """The conversation ``conversation`` (a raw dict) as a :class:`Conversation`. Never raises for bad data."""
    conversation = _dict(conversation)
    problems: list[str] = []
    conv_id = _str(conversation.get("id")) or _str(conversation.get("conversation_id"))
    result = Conversation(conv_id, _title(conversation), _num(conversation.get("create_time")),
                          _num(conversation.get("update_time")), _str(conversation.get("default_model_slug")),
                          problems=problems)
    mapping = conversation.get("mapping")
    if not isinstance(mapping, dict):
        linear = _list(conversation.get("linear_conversation"))
        mapping = {}
        previous = None
        for position, node in enumerate(linear):
            node = _dict(node)
            key = _str(node.get("id")) or f"node-{position}"
            mapping[key] = {"id": key, "parent": previous, "children": [], "message": node.get("message")}
            if previous is not None:
                mapping[previous]["children"].append(key)
            previous = key
        if not mapping:
            problems.append("it holds no messages")
            return result
    mapping = {key: node for key, node in mapping.items() if isinstance(key, str)}
    active = active_path(mapping, conversation.get("current_node"), problems)
    on_branch = set(active)
    order = all_nodes(mapping, active) if all_branches else active
    _walk(result, mapping, order, on_branch)
    return result


def _walk(result: Conversation, mapping: dict[str, Any], order: list[str], on_branch: set[str]) -> None:
    problems = result.problems
    cells_by_node: dict[str, CodeCell] = {}
    pending: list[CodeCell] = []  # calls still waiting for their reply, newest last
    prompts: dict[str, str] = {}  # per node: the text of the prompt it answers (its nearest user ancestor)

    def prompt_of(key: str) -> str:
        chain: list[str] = []
        seen: set[str] = set()
        node_id: Any = key
        found = ""
        while isinstance(node_id, str) and node_id in mapping and node_id not in seen:
            if node_id in prompts:
                found = prompts[node_id]
                break
            seen.add(node_id)
            chain.append(node_id)
            message = _message(mapping[node_id])
            if _str(_dict(message.get("author")).get("role")) == "user" and not _is_hidden(message):
                text = clean_text(text_of(_dict(message.get("content")))).strip()
                if text:
                    found = text
                    break
            node_id = _dict(mapping[node_id]).get("parent")
        for node_id in chain:
            prompts[node_id] = found
        return found

    epoch = 0
    unknown: set[str] = set()
    upload_keys: set[str] = set()
    link_keys: set[str] = set()
    for key in order:
        node = _dict(mapping.get(key))
        message = _message(node)
        parent = _str(node.get("parent"))
        abandoned = key not in on_branch
        if not message:
            continue
        author = _dict(message.get("author"))
        role = _str(author.get("role"))
        content = _dict(message.get("content"))
        content_type = _str(content.get("content_type")) or ""
        created = _num(message.get("create_time"))
        if role in ("user", "system"):
            for upload in _uploads_of(message, role == "system"):
                if upload.name.casefold() not in upload_keys:
                    upload_keys.add(upload.name.casefold())
                    result.uploads.append(upload)
        if role == "user":
            if _is_hidden(message):
                continue
            text = clean_text(text_of(content)).strip()
            if content_type not in ("text", "multimodal_text", "") and not text:
                continue
            if text or _list(_dict(message.get("metadata")).get("attachments")):
                result.prompts.append(Prompt(key, text[:PROMPT_LIMIT], created, abandoned))
            continue
        if role == "assistant" and _str(message.get("recipient")) == "python":
            code = clean_text(text_of(content))
            if len(code) > CODE_LIMIT:
                problems.append(f"a code cell of {len(code):,} characters was cut to {CODE_LIMIT:,}")
                code = code[:CODE_LIMIT]
            cell = CodeCell(len(result.cells) + 1, key, code, created, prompt_of(key) or None, epoch=epoch,
                            abandoned=abandoned)
            result.cells.append(cell)
            cells_by_node[key] = cell
            pending.append(cell)
            continue
        if role == "tool" and _is_python_reply(author, content_type, parent, cells_by_node):
            metadata = _dict(message.get("metadata"))
            cell = cells_by_node.get(parent or "") or cells_by_node.get(_str(metadata.get("parent_id")) or "")
            if cell is None:
                cell = pending[-1] if pending else None
            aggregate = _dict(metadata.get("aggregate_result"))
            text = _output_text(aggregate, content)
            if cell is None:
                ran = _str(aggregate.get("code"))
                if not ran and not text.startswith(RESET_TEXT):
                    continue
                cell = CodeCell(len(result.cells) + 1, key, clean_text(ran or ""), created, prompt_of(key) or None,
                                epoch=epoch, abandoned=abandoned)
                result.cells.append(cell)
            elif cell.status != STATUS_NO_RESULT:
                # A continued output (one tool reply chained to another): add its text.
                cell.output = (cell.output + clean_text(text))[:OUTPUT_LIMIT]
                cells_by_node[key] = cell
                continue
            cells_by_node[key] = cell
            if cell in pending:
                pending.remove(cell)
            if not cell.code.strip() and _str(aggregate.get("code")):
                cell.code = clean_text(aggregate["code"])
            cell.output = clean_text(text)[:OUTPUT_LIMIT]
            status = _str(aggregate.get("status"))
            if text.lstrip().startswith(RESET_TEXT):
                epoch += 1
                cell.status, cell.reset, cell.epoch = STATUS_CANCELLED, True, epoch
                result.resets.append(Reset(key, created, epoch, cell.index))
                for made in result.generated:
                    if made.epoch < epoch:
                        made.lost = True
            elif content_type == "system_error":
                name = _str(content.get("name")) or "tool error"
                detail = clean_text(text).strip().splitlines()
                cell.status = STATUS_TOOL_ERROR
                cell.error = f"{name}: {detail[0][:300]}" if detail else name
            elif status == "success":
                cell.status = STATUS_SUCCESS
            elif status == "cancelled":
                cell.status = STATUS_CANCELLED
                cell.error = "cancelled before it finished"
            elif status and status.startswith("failed"):
                cell.status = STATUS_FAILED
                cell.error = _error_of(aggregate, text)
            elif status is None and not aggregate:
                cell.status = STATUS_UNKNOWN
            else:
                cell.status = STATUS_UNKNOWN
            figures = _figures_of(aggregate, cell.index)
            for figure in figures:
                if all(other.file_id != figure.file_id for other in cell.figures):
                    cell.figures.append(figure)
                    result.figures.append(figure)
                    result.generated.append(GeneratedFile(figure.file_id, "figure", cell.epoch, cell.index,
                                                          figure.file_id, abandoned=abandoned))
            for item in _list(metadata.get("ada_visualizations")):
                item = _dict(item)
                title = _str(item.get("title"))
                name = visualization_name(title or _str(item.get("file_id")) or "table")
                if name.casefold() not in link_keys:
                    link_keys.add(name.casefold())
                    result.generated.append(GeneratedFile(name, "visualization", cell.epoch, cell.index,
                                                          _str(item.get("file_id")), abandoned=abandoned))
            if cell.status in (STATUS_SUCCESS, STATUS_UNKNOWN):
                names = result.upload_names
                for path in written_paths(cell.code, names) + written_paths(
                        _str(aggregate.get("final_expression_output")) or "", names):
                    _add_generated(result, link_keys, path, "code", cell.epoch, cell.index, abandoned)
            continue
        if role == "assistant":
            text = text_of(content)
            if text and "sandbox:" in text:
                for path in sandbox_links(text):
                    if path.casefold() in upload_keys:
                        continue
                    _add_generated(result, link_keys, path, "link", epoch, None, abandoned)
            if content_type and content_type not in _KNOWN_TYPES and content_type not in unknown:
                unknown.add(content_type)
            continue
        if content_type and content_type not in _KNOWN_TYPES and content_type not in unknown:
            unknown.add(content_type)
    if unknown:
        problems.append("messages of a kind Liferaft does not know were skipped: " + ", ".join(sorted(unknown)))


def _is_python_reply(author: dict[str, Any], content_type: str, parent: str | None,
                     cells: dict[str, CodeCell]) -> bool:
    """A tool message answering a python call: named python, or unnamed but an execution output or a tool error
    hanging off a call."""
    name = _str(author.get("name"))
    if name == "python":
        return True
    return name is None and content_type in ("execution_output", "system_error") and (parent or "") in cells


def _add_generated(result: Conversation, keys: set[str], path: str, kind: str, epoch: int, cell: int | None,
                   abandoned: bool) -> None:
    key = path.casefold()
    if key in keys:
        # Already known: written again by code in a newer epoch, it was made again (a link proves nothing).
        for made in result.generated:
            if kind == "code" and made.path.casefold() == key and made.epoch < epoch:
                made.epoch, made.lost = epoch, False
        return
    keys.add(key)
    result.generated.append(GeneratedFile(path, kind, epoch, cell, abandoned=abandoned))


def visualization_name(title: str) -> str:
    """The CSV an interactive table (``display_dataframe_to_user``) becomes: its title, made a file name."""
    safe = re.sub(r"[\\/:*?\"<>|\x00-\x1f]+", "-", clean_text(title)).strip(" .-") or "table"
    return safe[:120] + ".csv" if not safe.lower().endswith(".csv") else safe[:124]


_KNOWN_TYPES = frozenset({
    "text", "multimodal_text", "code", "execution_output", "system_error", "tether_browsing_display",
    "tether_quote", "thoughts", "reasoning_recap", "user_editable_context", "model_editable_context",
    "computer_output", "citable_code_output", "sonic_webpage",
})
