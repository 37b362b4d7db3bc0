"""An opened ChatGPT export (:class:`Export`): its documents, the conversations they list, a conversation found
by id, title or place, and the assets (figures) it holds. :func:`liferaft.core.recover.sources.open_export` makes
one from whatever shape the export came in.
"""

from __future__ import annotations

import dataclasses
import json
import re
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from liferaft.core.recover.listing import (
    ArrayScanner,
    ByteStream,
    ConversationSummary,
    Span,
    looks_like_conversation,
    summarize_conversation,
    what_it_is,
)

Progress = Callable[[int, int], None]


_HTML_DATA = re.compile(rb"jsonData\s*=\s*\[")
_WRAPPER = re.compile(rb'^\s*\{\s*"conversations"\s*:\s*\[')
#: Largest single-object JSON (one conversation, or a wrapper) parsed whole.
_OBJECT_LIMIT = 1 << 30


#: What reading a member of the export may raise (RuntimeError: encrypted; NotImplementedError: compression).
_READ_ERRORS = (OSError, zipfile.BadZipFile, EOFError, ValueError, RuntimeError, NotImplementedError)
#: `@N`: the conversation at place N of the export (when ids repeat).
_POSITION = re.compile(r"@(\d{1,9})")


class ExportError(Exception):
    """The export cannot be read, or a conversation cannot be found; the message is one line."""


class AmbiguousConversation(ExportError):
    """Several conversations match what was asked for (a usage error: the message lists them)."""


@dataclass
class Document:
    """One file inside the export that holds conversations."""

    name: str
    kind: str  # "array" (conversations.json, a shard, chat.html's data), "object" (one conversation), "markdown"
    size: int
    opener: Callable[[], ByteStream]
    html: bool = False
    offset: int | None = 0  # where the JSON array starts; None until found (chat.html)
    wrapped: bool = False  # the array is the value of {"conversations": ...}


class Export:
    """An opened export. Use as a context manager, or call `close()`, to release the zip."""

    def __init__(self, path: Path, kind: str, documents: list[Document], *, assets: dict[str, Callable[[], bytes]]
                 | None = None, asset_names: dict[str, str] | None = None, problems: list[str] | None = None,
                 closer: Callable[[], None] | None = None) -> None:
        self.path = path
        self.kind = kind
        """What it is, in words: "zip export", "zip export (2026 shards)", "export folder", "conversations.json"..."""
        self.documents = documents
        self.problems: list[str] = list(problems or [])
        """Per-item problems found so far (opening, listing, loading), one line each."""
        self._assets = assets or {}
        self._by_base: dict[str, str] | None = None
        self._asset_names = asset_names or {}
        self._closer = closer
        self._summaries: list[ConversationSummary] | None = None
        self._entries: dict[int, tuple[int, int, Span | None]] = {}  # position -> (document, ordinal, span)
        self._id_counts: Counter[str] | None = None
        self._parsed: dict[int, list[dict[str, Any]]] = {}

    def __enter__(self) -> Export:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._closer:
            self._closer()
            self._closer = None

    @property
    def total_bytes(self) -> int:
        return sum(doc.size for doc in self.documents)

    # -- listing -------------------------------------------------------------------------------------
    def conversations(self, progress: Progress | None = None) -> Iterator[ConversationSummary]:
        """Every conversation's summary, in the export's order, in one streaming pass.

        `progress(done, total)` is called after each block read (bytes of the conversation files)."""
        summaries: list[ConversationSummary] = []
        total, done = self.total_bytes, 0
        self._entries, self._id_counts = {}, None
        for number, doc in enumerate(self.documents):
            for ordinal, (summary, span) in enumerate(self._list_document(number, doc, done, total, progress), 1):
                summary = dataclasses.replace(summary, position=len(summaries) + 1)
                self._entries[summary.position] = (number, ordinal, span)
                summaries.append(summary)
                yield summary
            done += doc.size
            if progress:
                progress(done, total)
        self._summaries = summaries

    def key_for(self, summary: ConversationSummary) -> str:
        """What `load` takes to find exactly this conversation: its id, or `@N` (its place) when ids repeat."""
        if self._id_counts is None:
            self._id_counts = Counter(s.id for s in self._summaries or [])
        if self._id_counts.get(summary.id, 0) > 1 and summary.position:
            return f"@{summary.position}"
        return summary.id

    def _list_document(self, number: int, doc: Document, done: int, total: int,
                       progress: Progress | None) -> Iterator[tuple[ConversationSummary, Span | None]]:
        if doc.kind == "array":
            try:
                stream = self._open_array(doc)
            except _READ_ERRORS as exc:
                self.problems.append(f"{doc.name}: cannot be read ({_reason(exc)}); skipped")
                return
            scanner = ArrayScanner(stream, doc.name, start=doc.offset or 0, total=doc.size - (doc.offset or 0),
                                   done_before=done, grand_total=total, progress=progress, html=doc.html,
                                   wrapped=doc.wrapped)
            try:
                yield from scanner
            except _READ_ERRORS as exc:
                self.problems.append(f"{doc.name}: reading stopped half-way ({_reason(exc)}); "
                                     f"the conversations before that point are listed")
            finally:
                stream.close()
                self.problems.extend(scanner.problems)
            return
        for ordinal, conv in enumerate(self._objects(number, doc), 1):
            yield summarize_conversation(conv, ordinal, doc.name), None

    def _open_array(self, doc: Document) -> ByteStream:
        if doc.offset is None:
            doc.offset = _find_html_data(doc)
        stream = doc.opener()
        if doc.offset:
            stream.seek(doc.offset)
        return stream

    def _objects(self, number: int, doc: Document) -> list[dict[str, Any]]:
        """The conversations of a document parsed whole (one conversation, a wrapper, Markdown); parsed once."""
        if number in self._parsed:
            return self._parsed[number]
        found: list[dict[str, Any]] = []
        try:
            if doc.kind == "markdown":
                from liferaft.core.recover.markdown import embedded_conversations, parse_markdown

                with doc.opener() as stream:
                    text = stream.read(_OBJECT_LIMIT).decode("utf-8", "replace")
                embedded, problems = embedded_conversations(text, doc.name)
                self.problems.extend(problems)
                if embedded is not None:  # a wrapper: the raw JSON in a fenced block is the real source
                    found = embedded
                else:
                    conv, problems = parse_markdown(text, doc.name)
                    self.problems.extend(problems)
                    found = [conv] if conv else []
            else:
                if doc.size > _OBJECT_LIMIT:
                    raise ExportError(f"{doc.name} is too big to read as one conversation")
                with doc.opener() as stream:
                    data = json.loads(stream.read())
                items = data.get("conversations") if isinstance(data, dict) and "mapping" not in data else None
                if isinstance(data, list):
                    items = data
                if isinstance(items, list):
                    for place, item in enumerate(items, 1):
                        if looks_like_conversation(item):
                            found.append(item)
                        else:
                            self.problems.append(f"{doc.name}: item {place} is not a ChatGPT conversation "
                                                 f"({what_it_is(item)}); skipped")
                elif looks_like_conversation(data):
                    found = [data]
                else:
                    self.problems.append(f"{doc.name}: not a ChatGPT conversation (it has no messages, title or "
                                         "times of one); skipped")
        except (RuntimeError, NotImplementedError) as exc:
            self.problems.append(f"{doc.name}: cannot be read ({_reason(exc)}); skipped")
        except (OSError, zipfile.BadZipFile, EOFError) as exc:
            self.problems.append(f"{doc.name}: cannot be read ({_reason(exc)}); skipped")
        except ValueError as exc:
            self.problems.append(f"{doc.name}: not valid JSON ({_reason(exc)}); skipped")
        except ExportError as exc:
            self.problems.append(str(exc))
        found = [normalize(c) for c in found]
        self._parsed[number] = found
        return found

    # -- loading one ----------------------------------------------------------------------------------
    def load(self, conversation_id_or_title: str) -> dict[str, Any]:
        """The raw conversation (a dict) whose id or title matches; only that conversation is parsed.

        Matching, in order: the exact id, a unique id prefix (6+ characters), the exact title (any case),
        a title that contains the text (when only one does). Raises ExportError when none or several match."""
        key = conversation_id_or_title.strip()
        if not key:
            raise ExportError("say which conversation: its id or its title")
        summaries = self._summaries
        if summaries is None:
            summaries = []
            for summary in self.conversations():
                summaries.append(summary)
                if summary.id == key:
                    return self._load_summary(summary)
        chosen = match_conversation(key, summaries)
        return self._load_summary(chosen)

    def _load_summary(self, summary: ConversationSummary) -> dict[str, Any]:
        entry = self._entries.get(summary.position)
        if entry is not None:
            number, ordinal, span = entry
        else:  # a summary made elsewhere: find its document by name
            number = next(i for i, d in enumerate(self.documents) if d.name == summary.document)
            ordinal, span = 0, None
        doc = self.documents[number]
        if doc.kind != "array" or span is None or span.start < 0:
            objects = self._objects(number, doc) if doc.kind != "array" else self._parse_whole(doc)
            if doc.kind != "array" and 0 < ordinal <= len(objects):
                return objects[ordinal - 1]
            for place, conv in enumerate(objects, 1):
                if summarize_conversation(conv, place, doc.name).id == summary.id:
                    return conv
            raise ExportError(f"conversation {summary.id} could not be read again from {doc.name}")
        try:
            with doc.opener() as stream:
                stream.seek(span.start)
                data = stream.read(span.end - span.start)
        except _READ_ERRORS as exc:
            raise ExportError(f"{doc.name} cannot be read ({_reason(exc)})") from None
        text = data.decode("utf-8", "replace")
        decoder = json.JSONDecoder()
        i, n = 0, len(text)
        while i < n:
            while i < n and text[i] in " \t\r\n,":
                i += 1
            if i >= n:
                break
            try:
                obj, i = decoder.raw_decode(text, i)
            except ValueError as exc:
                raise ExportError(f"\"{summary.title}\" is damaged in {doc.name}: not valid JSON "
                                  f"({_reason(exc)})") from None
            if isinstance(obj, dict) and (obj.get("id") or obj.get("conversation_id") or summary.id) == summary.id:
                return normalize(obj)
        raise ExportError(f"conversation {summary.id} could not be read again from {doc.name}")

    def _parse_whole(self, doc: Document) -> list[dict[str, Any]]:
        """Slow path for conversations found without a span: stream the array's items one by one."""
        import ijson

        out: list[dict[str, Any]] = []
        try:
            stream = self._open_array(doc)
            with stream:
                for item in ijson.items(stream, "item", use_float=True):
                    if isinstance(item, dict):
                        out.append(normalize(item))
        except (*_READ_ERRORS, ijson.JSONError):
            pass
        return out

    # -- assets ---------------------------------------------------------------------------------------
    def asset_name(self, name_or_file_id: str) -> str | None:
        """The name inside the export of the asset a pointer or a name stands for, or None."""
        key = _asset_key(name_or_file_id)
        if not key:
            return None
        if key in self._assets:
            return key
        by_base = self._assets_by_base()
        if key in by_base:
            return by_base[key]
        for stored, display in self._asset_names.items():  # 2026: "<id>.dat" -> its original name
            if display == key or display.rsplit("/", 1)[-1] == key:
                base = stored.rsplit("/", 1)[-1]
                if base in by_base:
                    return by_base[base]
        matches = [name for base, name in by_base.items()
                   if base.startswith(key) and base[len(key):len(key) + 1] in ("-", "_", ".")]
        return min(matches, key=len) if matches else None

    def _assets_by_base(self) -> dict[str, str]:
        """The assets by their base name (the first in the export's order for a name seen twice), built once."""
        if self._by_base is None:
            by_base: dict[str, str] = {}
            for name in self._assets:
                by_base.setdefault(name.rsplit("/", 1)[-1], name)
            self._by_base = by_base
        return self._by_base

    def asset(self, name_or_file_id: str) -> bytes | None:
        """The bytes of an asset (an upload or a figure) in the export, found by `file-service://` or
        `sediment://` pointer, file id or name; None when the export does not hold it (that is normal)."""
        name = self.asset_name(name_or_file_id)
        if name is None:
            return None
        try:
            return self._assets[name]()
        except _READ_ERRORS as exc:
            self.problems.append(f"{name}: cannot be read from the export ({_reason(exc)})")
            return None

    def asset_display_name(self, stored: str) -> str | None:
        """The original name the 2026 name map gives a stored asset (`<id>.dat`), if any."""
        return self._asset_names.get(stored) or self._asset_names.get(stored.rsplit("/", 1)[-1])


def match_conversation(key: str, summaries: list[ConversationSummary]) -> ConversationSummary:
    """The one summary `key` names (see `Export.load`); ExportError listing candidates otherwise."""
    folded = key.casefold()
    place = _POSITION.fullmatch(key)
    for test in (
        lambda s: s.id == key,
        lambda s: place is not None and s.position == int(place.group(1)),
        lambda s: len(key) >= 6 and s.id.startswith(key),
        lambda s: s.title.casefold() == folded,
        lambda s: folded in s.title.casefold(),
    ):
        found = [s for s in summaries if test(s)]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            found.sort(key=lambda s: s.sort_time, reverse=True)
            repeated = len({s.id for s in found}) < len(found)
            shown = "; ".join((f"@{s.position} " if repeated and s.position else "") + f"{s.id} \"{s.title}\""
                              for s in found[:5])
            more = f" and {len(found) - 5} more" if len(found) > 5 else ""
            hint = "give its id, or its @number where ids repeat" if repeated else "give its id"
            raise AmbiguousConversation(f"{len(found)} conversations match \"{key}\": {shown}{more}; {hint}")
    raise ExportError(f"no conversation matches \"{key}\" among {len(summaries)}; "
                      f"use --list to see their ids and titles")


def normalize(conv: dict[str, Any]) -> dict[str, Any]:
    """Small fixes that make every shape look like an export conversation: a shared page's
    `linear_conversation` becomes a `mapping`; `conversation_id` stands in for a missing `id`."""
    if not isinstance(conv.get("mapping"), dict) and isinstance(conv.get("linear_conversation"), list):
        mapping: dict[str, Any] = {}
        previous = None
        for node in conv["linear_conversation"]:
            if not isinstance(node, dict):
                continue
            nid = str(node.get("id") or (node.get("message") or {}).get("id") or f"node-{len(mapping)}")
            mapping[nid] = {**node, "id": nid, "parent": node.get("parent", previous), "children": []}
            previous = nid
        for nid, node in mapping.items():
            parent = mapping.get(node.get("parent") or "")
            if parent is not None:
                parent["children"].append(nid)
        conv = {**conv, "mapping": mapping}
        conv.setdefault("current_node", previous)
    if not conv.get("id") and conv.get("conversation_id"):
        conv = {**conv, "id": conv["conversation_id"]}
    return conv


def _reason(exc: BaseException) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at line {exc.lineno} column {exc.colno}"
    if isinstance(exc, zipfile.BadZipFile | EOFError):
        return "the zip is damaged or incomplete"
    if isinstance(exc, OSError):
        return exc.strerror or exc.__class__.__name__
    if isinstance(exc, RuntimeError) and "encrypted" in str(exc):
        return "it is password-protected"
    return str(exc).splitlines()[0][:160] if str(exc) else exc.__class__.__name__


def _asset_key(value: str) -> str:
    value = value.strip()
    if value.startswith("{"):  # a fileservice2 value: a JSON string holding the url
        try:
            value = str(json.loads(value).get("url") or "")
        except (ValueError, AttributeError):
            return ""
    for scheme in ("file-service://", "sediment://"):
        if value.startswith(scheme):
            value = value[len(scheme):]
    return value.rsplit("/", 1)[-1]


def _find_html_data(doc: Document) -> int:
    """The offset of the `[` that starts chat.html's `jsonData` array."""
    with doc.opener() as stream:
        base, tail = 0, b""
        while True:
            block = stream.read(1 << 20)
            if not block:
                raise ValueError("it holds no jsonData array: not a ChatGPT chat.html")
            data = tail + block
            match = _HTML_DATA.search(data)
            if match:
                return base - len(tail) + match.end() - 1
            tail = data[-64:]
            base += len(block)


def _sniff_json(head: bytes) -> tuple[str, int]:
    """("array", offset of "[") or ("object", 0) from the first bytes of a JSON file."""
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"["):
        return "array", len(head) - len(stripped)
    match = _WRAPPER.match(head)
    if match:
        return "array", match.end() - 1
    return "object", 0
