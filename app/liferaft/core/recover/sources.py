"""Open a ChatGPT data export, whatever shape it came in, and read conversations and assets from it.

`open_export(path)` accepts the export's `.zip` (the classic single `conversations.json`, or the 2026 layout
with `export_manifest.json` and `conversations-NNN.json` shards), the folder it was extracted to, a
`conversations.json`, one conversation's JSON (the backend API's object, or an exporter's array of one),
`chat.html` (its `jsonData` array), or a Markdown export (read heuristically; see `markdown.py`).
It raises `ExportError` with one line that says what is wrong; problems with single items (a truncated
shard, a conversation that is not valid JSON) are collected in `Export.problems` and the rest still reads.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from liferaft.core.recover.listing import (
    ArrayScanner,
    ConversationSummary,
    Span,
    looks_like_conversation,
    summarize_conversation,
    what_it_is,
)
from liferaft.core.recover.salvage import MemberStream, salvage_members

__all__ = ["ConversationSummary", "Export", "ExportError", "open_export"]

Progress = Callable[[int, int], None]

_SHARD = re.compile(r"(?:^|/)conversations(?:-\d+)?\.json$", re.IGNORECASE)
_HTML_DATA = re.compile(rb"jsonData\s*=\s*\[")
_WRAPPER = re.compile(rb'^\s*\{\s*"conversations"\s*:\s*\[')
#: Largest single-object JSON (one conversation, or a wrapper) parsed whole.
_OBJECT_LIMIT = 1 << 30
#: Largest asset read into memory.
_ASSET_LIMIT = 512 << 20
#: What reading a member of the export may raise (RuntimeError: encrypted; NotImplementedError: compression).
_READ_ERRORS = (OSError, zipfile.BadZipFile, EOFError, ValueError, RuntimeError, NotImplementedError)
#: `@N`: the conversation at place N of the export (when ids repeat).
_POSITION = re.compile(r"@(\d{1,9})")


class ExportError(Exception):
    """The export cannot be read, or a conversation cannot be found; the message is one line."""


@dataclass
class Document:
    """One file inside the export that holds conversations."""

    name: str
    kind: str  # "array" (conversations.json, a shard, chat.html's data), "object" (one conversation), "markdown"
    size: int
    opener: Callable[[], IO[bytes]]
    html: bool = False
    offset: int | None = 0  # where the JSON array starts; None until found (chat.html)
    wrapped: bool = False  # the array is the value of {"conversations": ...}


def _is_junk(name: str) -> bool:
    parts = name.split("/")
    return "__MACOSX" in parts or parts[-1].startswith("._") or not parts[-1]


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

    def _open_array(self, doc: Document) -> IO[bytes]:
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
                from liferaft.core.recover.markdown import parse_markdown

                with doc.opener() as stream:
                    conv, problems = parse_markdown(stream.read(_OBJECT_LIMIT).decode("utf-8", "replace"),
                                                    doc.name)
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
            raise ExportError(f"{len(found)} conversations match \"{key}\": {shown}{more}; {hint}")
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


# -- opening ------------------------------------------------------------------------------------------
def open_export(path: Path) -> Export:
    """Open whatever `path` is (see the module docstring). Raises ExportError with one line."""
    path = Path(path).expanduser()
    try:
        if path.is_dir():
            return _open_folder(path)
        if not path.exists():
            raise ExportError(f"{path}: no such file or folder")
        if not path.is_file():
            raise ExportError(f"{path}: not a file or folder Liferaft can read")
        with path.open("rb") as handle:
            head = handle.read(4096)
    except PermissionError:
        raise ExportError(f"{path}: permission denied") from None
    except OSError as exc:
        raise ExportError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    suffix = path.suffix.lower()
    if head.startswith(b"PK") or suffix == ".zip":
        return _open_zip(path)
    if not head.strip():
        raise ExportError(f"{path}: the file is empty")
    if suffix in (".html", ".htm") or head.lstrip().lower().startswith((b"<!doctype", b"<html")):
        doc = Document(path.name, "array", path.stat().st_size, lambda: path.open("rb"), html=True, offset=None)
        return Export(path, "chat.html", [doc], **_folder_assets(path.parent, limit_to_export=True))
    if suffix in (".md", ".markdown", ".txt"):
        doc = Document(path.name, "markdown", path.stat().st_size, lambda: path.open("rb"))
        return Export(path, "Markdown export", [doc])
    kind, offset = _sniff_json(head)
    if not head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith((b"[", b"{")):
        raise ExportError(f"{path}: not a ChatGPT export (expected a .zip, a folder, JSON, chat.html or Markdown)")
    doc = Document(path.name, kind, path.stat().st_size, lambda: path.open("rb"), offset=offset,
                   wrapped=bool(_WRAPPER.match(head)))
    label = "conversations.json" if kind == "array" else "one conversation (JSON)"
    return Export(path, label, [doc], **_folder_assets(path.parent, limit_to_export=True))


def _documents(names: list[str], size_of: Callable[[str], int], opener: Callable[[str], Callable[[], IO[bytes]]],
               manifest: Any, problems: list[str]) -> tuple[list[Document], str]:
    shards = sorted((n for n in names if _SHARD.search(n) and not _is_junk(n)),
                    key=lambda n: (n.count("/"), n))
    if shards:
        top = min(n.count("/") for n in shards)
        shards = [n for n in shards if n.count("/") == top]
        classic = [n for n in shards if n.rsplit("/", 1)[-1].lower() == "conversations.json"]
        if classic and len(shards) > 1:
            shards = classic  # both layouts in one folder: the single file holds everything
        if manifest is not None:
            listed = {s.rsplit("/", 1)[-1] for s in _strings(manifest) if _SHARD.search(s)}
            present = {n.rsplit("/", 1)[-1] for n in shards}
            for missing in sorted(listed - present):
                problems.append(f"export_manifest.json lists {missing}, which is missing; "
                                f"its conversations cannot be listed")
        docs = [Document(n, "array", size_of(n), opener(n), offset=None) for n in shards]
        layout = "2026 shards" if any(re.search(r"-\d+\.json$", n) for n in shards) else "classic"
        return docs, layout
    html = sorted(n for n in names if n.rsplit("/", 1)[-1].lower() == "chat.html" and not _is_junk(n))
    if html:
        return [Document(html[0], "array", size_of(html[0]), opener(html[0]), html=True, offset=None)], "chat.html"
    return [], ""


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _resolve_offsets(docs: list[Document], problems: list[str]) -> list[Document]:
    """Find where each document's array starts (a shard may be a wrapper, or even one object)."""
    kept: list[Document] = []
    for doc in docs:
        if doc.html:
            kept.append(doc)
            continue
        try:
            with doc.opener() as stream:
                head = stream.read(4096)
        except _READ_ERRORS as exc:
            problems.append(f"{doc.name}: cannot be read ({_reason(exc)}); skipped")
            continue
        if not head.strip():
            problems.append(f"{doc.name}: empty; skipped")
            continue
        doc.kind, doc.offset = _sniff_json(head)
        doc.wrapped = bool(_WRAPPER.match(head))
        kept.append(doc)
    return kept


def _open_zip(path: Path) -> Export:
    try:
        archive = zipfile.ZipFile(path)
        infos = [i for i in archive.infolist() if not i.is_dir()]
    except zipfile.BadZipFile:
        return _open_salvaged_zip(path)
    except OSError as exc:
        raise ExportError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    by_name = {i.filename: i for i in infos}
    problems: list[str] = []

    def opener(name: str) -> Callable[[], IO[bytes]]:
        return lambda: archive.open(by_name[name])

    manifest = None
    manifest_name = next((n for n in by_name if n.rsplit("/", 1)[-1] == "export_manifest.json"), None)
    if manifest_name:
        try:
            manifest = json.loads(archive.read(manifest_name))
        except _READ_ERRORS:
            problems.append("export_manifest.json: not valid JSON; the shards are read anyway")
    docs, layout = _documents(list(by_name), lambda n: by_name[n].file_size, opener, manifest, problems)
    if any(by_name[doc.name].flag_bits & 0x1 for doc in docs):
        archive.close()
        raise ExportError(f"{path}: the zip is password-protected; extract it with its password and import the "
                          "folder instead")
    docs = _resolve_offsets(docs, problems)
    if not docs:
        archive.close()
        if problems:
            raise ExportError(f"{path}: {problems[0]}")
        raise ExportError(f"{path}: no conversations.json or chat.html inside; is it a ChatGPT data export?")
    assets: dict[str, Callable[[], bytes]] = {}
    for name, info in by_name.items():
        if _is_junk(name) or name.endswith((".json", ".html")):
            continue
        if info.file_size <= _ASSET_LIMIT and not info.flag_bits & 0x1:
            assets[name] = (lambda n: lambda: archive.read(n))(name)
    names_map = _asset_name_map(lambda n: archive.read(n), by_name)
    kind = "zip export (2026 shards)" if layout == "2026 shards" else "zip export"
    return Export(path, kind, docs, assets=assets, asset_names=names_map, problems=problems, closer=archive.close)


def _asset_name_map(read: Callable[[str], bytes], names: Any) -> dict[str, str]:
    name = next((n for n in names if n.rsplit("/", 1)[-1] == "conversation_asset_file_names.json"), None)
    if not name:
        return {}
    try:
        data = json.loads(read(name))
    except _READ_ERRORS:
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _open_folder(path: Path) -> Export:
    files: dict[str, Path] = {}
    for root, dirs, names in os.walk(path):
        rel_root = Path(root).relative_to(path)
        if len(rel_root.parts) >= 3:
            dirs[:] = []
        dirs[:] = [d for d in dirs if d != "__MACOSX" and not d.startswith(".")]
        for name in names:
            full = Path(root) / name
            if full.is_file() and not full.is_symlink():
                files[(rel_root / name).as_posix()] = full
    problems: list[str] = []
    manifest = None
    manifest_name = next((n for n in files if n.rsplit("/", 1)[-1] == "export_manifest.json"), None)
    if manifest_name:
        try:
            manifest = json.loads(files[manifest_name].read_bytes())
        except (ValueError, OSError):
            problems.append("export_manifest.json: not valid JSON; the shards are read anyway")
    docs, layout = _documents(list(files), lambda n: files[n].stat().st_size,
                              lambda n: (lambda: files[n].open("rb")), manifest, problems)
    docs = _resolve_offsets(docs, problems)
    if not docs:
        raise ExportError(f"{path}: no conversations.json or chat.html in this folder; is it a ChatGPT export?")
    assets = {name: (lambda p: lambda: p.read_bytes())(full) for name, full in files.items()
              if not name.endswith((".json", ".html")) and full.stat().st_size <= _ASSET_LIMIT}
    names_map = _asset_name_map(lambda n: files[n].read_bytes(), files)
    kind = "export folder (2026 shards)" if layout == "2026 shards" else "export folder"
    return Export(path, kind, docs, assets=assets, asset_names=names_map, problems=problems)


def _folder_assets(folder: Path, *, limit_to_export: bool) -> dict[str, Any]:
    """Assets beside a lone conversations.json or chat.html: only files named like export assets."""
    assets: dict[str, Callable[[], bytes]] = {}
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return {"assets": assets}
    for entry in entries:
        name = entry.name
        if limit_to_export and not (name.startswith(("file-", "file_")) or name.endswith(".dat")):
            continue
        try:
            if entry.is_file(follow_symlinks=False) and entry.stat().st_size <= _ASSET_LIMIT:
                assets[name] = (lambda p: lambda: Path(p).read_bytes())(entry.path)
        except OSError:
            continue
    return {"assets": assets}


def find_recent_export(folder: Path | None, *, look_at: int = 12) -> Path | None:
    """The newest `.zip` in `folder` (a downloads folder) that holds a ChatGPT export, or None.

    Only the newest `look_at` zips are opened, and only their list of names is read."""
    if folder is None:
        return None
    try:
        zips = [entry for entry in os.scandir(folder) if entry.name.lower().endswith(".zip")
                and entry.is_file(follow_symlinks=False)]
        zips.sort(key=lambda entry: entry.stat().st_mtime, reverse=True)
    except OSError:
        return None
    for entry in zips[:look_at]:
        try:
            with zipfile.ZipFile(entry.path) as archive:
                names = archive.namelist()
        except (OSError, zipfile.BadZipFile, ValueError):
            continue
        if any(_SHARD.search(n) or n.rsplit("/", 1)[-1].lower() == "chat.html" for n in names if not _is_junk(n)):
            return Path(entry.path)
    return None


# -- a zip cut short (see salvage.py) -------------------------------------------------------------------
def _open_salvaged_zip(path: Path) -> Export:
    try:
        members = [m for m in salvage_members(path) if m.method in (0, 8) and not m.name.endswith("/")]
    except OSError as exc:
        raise ExportError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if not members:
        raise ExportError(f"{path}: the zip is damaged or incomplete (download the export again)")
    by_name = {m.name: m for m in members}
    cut = [m.name for m in members if not m.complete]
    problems = [f"{path.name}: the zip is incomplete (the download stopped?); read what its first "
                f"{len(members)} file(s) hold" + (f", {cut[0]} only in part" if cut else "")
                + "; download the export again to get everything"]

    def opener(name: str) -> Callable[[], IO[bytes]]:
        return lambda: MemberStream(path, by_name[name])

    def size_of(name: str) -> int:
        member = by_name[name]
        return member.size if member.size is not None and member.complete else path.stat().st_size

    docs, layout = _documents(list(by_name), size_of, opener, None, problems)
    docs = _resolve_offsets(docs, problems)
    if not docs:
        raise ExportError(f"{path}: the zip is incomplete and the part that arrived holds no conversations "
                          "(download the export again)")
    assets = {name: (lambda n: lambda: opener(n)().read(_ASSET_LIMIT))(name) for name, m in by_name.items()
              if m.complete and not _is_junk(name) and not name.endswith((".json", ".html"))}
    kind = "incomplete zip export (2026 shards)" if layout == "2026 shards" else "incomplete zip export"
    return Export(path, kind, docs, assets=assets, problems=problems)
