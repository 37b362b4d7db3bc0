"""List the conversations of an export in one streaming pass, without parsing them.

A real export is one JSON array of hundreds of MB; `json.load` of it takes seconds and about 8x its size in
memory. The listing needs only a few facts per conversation, so it reads the bytes in blocks and relies on one
property of JSON: inside a string every quote is escaped, so the bytes `"mapping":` followed by `{` can only be
the key itself. Each conversation has one such key. Around it, the conversation's own fields (title, times,
model, id...) are parsed exactly: the text from the object's `{` to the mapping, and from the mapping's end to
the object's `}`, with the mapping replaced by `{}`. Inside the mapping, the code cells, uploads and file
links are counted by pattern. Every boundary is checked by parsing; a conversation whose boundaries do not
check out is parsed in full instead (slow but exact), and one that cannot be parsed becomes a problem, not an
error. So does an item of the array that is not a conversation (null, a string, a list...): the items around it
are still listed separately. Each conversation's byte span is kept, so loading it later parses that one only.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol, Self
from urllib.parse import unquote

#: Block size of each read; a conversation larger than this just makes the buffer grow.
BLOCK = 8 << 20

_ANCHOR = re.compile(rb'"mapping":\s*\{')
#: A call that ran code in the sandbox: Python, or a shell step (``container.exec``).
_PYTHON_CALL = re.compile(rb'"recipient":\s*"(?:python|container\.exec)"')
_ATTACHMENTS = re.compile(rb'"attachments":\s*\[')
_MODEL = re.compile(rb'"model_slug":\s*"([^"\\]{1,80})"')
#: A message with two children or more: an edit or a regeneration forked the conversation there.
_FORK = re.compile(rb'"children":\s*\[\s*"[^"]*"\s*,')
#: sandbox:/mnt/data/... links, in any text (Markdown links, bare, in backticks); stops at a quote or an escape.
SANDBOX_LINK = re.compile(rb'sandbox:/mnt/data/((?:[^\s)\]>`"\'\\<]|\\u[0-9a-fA-F]{4}(?<!u0022))+)')
_WS = b" \t\r\n"

Progress = Callable[[int, int], None]


class ByteStream(Protocol):
    """What the export reader needs of an opened document: a binary file (``IO[bytes]``) or a member of a
    salvaged zip (:class:`~liferaft.core.recover.salvage.MemberStream`)."""

    def read(self, size: int = -1, /) -> bytes: ...

    def seek(self, offset: int, whence: int = 0, /) -> int: ...

    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None, /) -> None: ...


@dataclass(frozen=True)
class ConversationSummary:
    """One conversation as the listing shows it. Times are epoch seconds (or None)."""

    id: str
    """The conversation's id, or `#N` (its position, from 1) when it has none."""
    title: str
    create_time: float | None
    update_time: float | None
    model: str | None
    code_cells: int
    """Python calls the assistant made, on every branch."""
    files: int
    """Distinct uploaded files and sandbox:/mnt/data links."""
    problems: tuple[str, ...] = ()
    uploads: tuple[str, ...] = ()
    generated: tuple[str, ...] = ()
    document: str = ""
    """The file inside the export that holds it (e.g. `conversations-002.json`)."""
    position: int = 0
    """Its place in the export, from 1, across all its files (set by the export; 0 when unknown)."""
    branch_cells: int | None = None
    """Python calls on the branch the chat showed last: the cells the import takes without ``--all-branches``
    (the others ran on branches abandoned by an edit); None when they could not be told apart."""

    @property
    def shown_cells(self) -> int:
        """:attr:`branch_cells`, or :attr:`code_cells` when unknown."""
        return self.code_cells if self.branch_cells is None else self.branch_cells

    @property
    def sort_time(self) -> float:
        return self.update_time or self.create_time or 0.0


@dataclass(frozen=True)
class Span:
    """Where a conversation's bytes are in its document (offsets from the document's first byte)."""

    start: int
    end: int


@dataclass
class _Open:
    start: int  # absolute offset of the object's "{"
    anchor: int  # absolute offset of "mapping":
    head: dict[str, Any]
    head_bytes: bytes
    suspect: bool = False  # an anchor inside it was not understood: check it by parsing when it closes
    checks: int = 0  # anchors inside it that were checked by parsing (and were nested after all)


#: Anchors inside one conversation checked by parsing it; past this it is only parsed when it closes.
_MAX_CHECKS = 8
#: Keys of which a JSON object needs one to be taken for a conversation.
CONVERSATION_KEYS = ("mapping", "linear_conversation", "current_node", "title", "create_time", "update_time",
                     "conversation_id")


def looks_like_conversation(value: Any) -> bool:
    """An object with at least one of a conversation's own fields (`{}` or a user record is not one)."""
    return isinstance(value, dict) and any(key in value for key in CONVERSATION_KEYS)


def what_it_is(value: Any) -> str:
    """A value that is not a conversation, in words: "null", "a string", "a list"..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object without a conversation's fields"


@dataclass
class _Region:
    """Bytes of the array parsed item by item (the slow path): what was found, and where parsing stopped."""

    items: list[tuple[Any, int, int]]  # (value, start, end) in bytes from the region's first byte
    error: ValueError | None = None
    error_at_end: bool = False  # the error is where the data stops: cut short (or a nested anchor)
    closed: bool = False  # the array's "]" was reached



def _loads(data: bytes) -> Any:
    try:
        return json.loads(data)
    except UnicodeDecodeError:
        return json.loads(data.decode("utf-8", "replace"))


def _skip_ws_back(buf: bytes | bytearray, i: int) -> int:
    while i >= 0 and buf[i] in _WS:
        i -= 1
    return i


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                return None
        return None
    return float(value)


def _text(value: Any, limit: int = 300) -> str:
    if not isinstance(value, str):
        return ""
    cleaned = "".join(ch if ch.isprintable() else " " for ch in value[:limit]).strip()
    return cleaned


def summary_from_fields(fields: dict[str, Any], mapping_region: bytes, ordinal: int, document: str,
                        problems: tuple[str, ...] = ()) -> ConversationSummary:
    """Build a summary from the conversation's own fields and the bytes of its mapping."""
    cid = _text(fields.get("id")) or _text(fields.get("conversation_id")) or f"#{ordinal}"
    model = _text(fields.get("default_model_slug"), 80) or None
    if not model:
        slugs = _MODEL.findall(mapping_region)
        if slugs:
            model = slugs[-1].decode("utf-8", "replace")
    uploads = _upload_names(mapping_region)
    generated = _links(mapping_region)
    upload_set = set(uploads)
    files = len(upload_set) + sum(1 for g in generated if g not in upload_set)
    calls = len(_PYTHON_CALL.findall(mapping_region))
    return ConversationSummary(
        id=cid, title=_text(fields.get("title")) or "(untitled)", create_time=_number(fields.get("create_time")),
        update_time=_number(fields.get("update_time")), model=model,
        code_cells=calls, files=files, problems=problems,
        uploads=tuple(uploads), generated=tuple(generated), document=document,
        branch_cells=_branch_calls(fields.get("current_node"), mapping_region, calls),
    )


def _branch_calls(current: Any, region: bytes, calls: int) -> int | None:
    """The python calls on the branch the chat showed last (from ``current`` up its parents), of the ``calls``
    in the mapping's bytes. Without a fork (a message with two children) and with ``current`` a leaf, that is
    all of them, read from the bytes; otherwise the mapping is parsed (rare: only chats edited or regenerated).
    None when it cannot be parsed."""
    if not calls:
        return 0
    if isinstance(current, str) and not _FORK.search(region):
        quoted = json.dumps(current).encode("utf-8")
        if quoted in region and b'"parent": ' + quoted not in region and b'"parent":' + quoted not in region:
            return calls  # a chain, and its current message is its last (no message names it as its parent)
    start = region.find(b"{")
    try:
        mapping = _loads(region[start:]) if start >= 0 else None
    except ValueError:
        return None
    if not isinstance(mapping, dict):
        return None
    from liferaft.core.recover.extract import _CALL_RECIPIENTS, active_path

    count = 0
    for key in active_path(mapping, current, []):
        message = mapping[key].get("message") if isinstance(mapping[key], dict) else None
        recipient = message.get("recipient") if isinstance(message, dict) else None
        if isinstance(recipient, str) and recipient in _CALL_RECIPIENTS:
            count += 1
    return count


def _upload_names(region: bytes) -> list[str]:
    names: list[str] = []
    decoder = json.JSONDecoder()
    for match in _ATTACHMENTS.finditer(region):
        start = match.end() - 1
        for window in (4096, 1 << 16, 1 << 22):
            text = region[start:start + window].decode("utf-8", "replace")
            try:
                items, _ = decoder.raw_decode(text)
            except ValueError:
                continue
            break
        else:
            continue
        for item in items if isinstance(items, list) else []:
            name = item.get("name") if isinstance(item, dict) else None
            if isinstance(name, str) and name and name not in names:
                names.append(name)
    return names


def _links(region: bytes) -> list[str]:
    found: list[str] = []
    for match in SANDBOX_LINK.finditer(region):
        raw = match.group(1).decode("utf-8", "replace")
        if "\\u" in raw:  # an export written with ASCII escapes
            with contextlib.suppress(ValueError):
                raw = json.loads(f'"{raw}"')
        path = unquote(raw).rstrip(".,;:!?")
        if path and path not in found:
            found.append(path)
    return found


def summarize_conversation(conv: dict[str, Any], ordinal: int, document: str = "",
                           problems: tuple[str, ...] = ()) -> ConversationSummary:
    """The summary of an already parsed conversation (single-conversation files, and the slow path)."""
    mapping = conv.get("mapping")
    region = json.dumps(mapping, ensure_ascii=False).encode("utf-8") if mapping is not None else b""
    fields = {key: value for key, value in conv.items() if key != "mapping"}
    if mapping is None:
        problems = (*problems, "it has no messages (no mapping)")
    return summary_from_fields(fields, region, ordinal, document, problems)


def _cut_short(exc: ValueError, text: str, stripped: int) -> bool:
    """Whether a parse error is where the text stops (more data would have gone on) rather than a wrong byte."""
    pos = getattr(exc, "pos", None)
    msg = getattr(exc, "msg", "")
    if pos is None or pos >= stripped or msg.startswith("Unterminated string"):
        return True
    rest = text[pos:stripped]
    return len(rest) < 6 and any(word.startswith(rest) for word in ("true", "false", "null"))


class ArrayScanner:
    """Scan one JSON array of conversations from a binary stream (see the module docstring)."""

    def __init__(self, stream: ByteStream, document: str, *, start: int = 0, total: int = 0, done_before: int = 0,
                 grand_total: int = 0, progress: Progress | None = None, html: bool = False,
                 wrapped: bool = False) -> None:
        self.stream = stream
        self.document = document
        self.base = start  # absolute offset of buf[0]
        self.total = total
        self.done_before = done_before
        self.grand_total = grand_total or total
        self.progress = progress
        self.html = html
        self.wrapped = wrapped
        self.problems: list[str] = []
        self.spans: dict[str, Span] = {}
        self.count = 0  # conversations found
        self.items = 0  # items of the array seen (conversations, and what is not one)
        self.read_bytes = 0

    # -- the pass ------------------------------------------------------------------------------------
    def __iter__(self) -> Iterator[tuple[ConversationSummary, Span]]:
        buf = bytearray()
        search = 0  # index in buf where the anchor search resumes
        current: _Open | None = None
        first = True
        eof = False
        while not eof:
            chunk = self.stream.read(BLOCK)
            self.read_bytes += len(chunk)
            if self.progress:
                self.progress(self.done_before + min(self.read_bytes, self.total or self.read_bytes),
                              self.grand_total)
            if not chunk:
                eof = True
            else:
                buf += chunk
            limit = len(buf) if eof else max(0, len(buf) - 64)
            for match in _ANCHOR.finditer(buf, search, limit):
                a = match.start()
                if a and buf[a - 1] == 0x5C:  # a backslash: inside a string after all
                    continue
                lo = (current.anchor - self.base + 10) if current else 0
                head = self._head(buf, a, lo, first)
                if head is None:  # a "mapping" key deeper inside a message, or a conversation with damaged fields
                    if current is not None:
                        current.suspect = True
                    continue
                start, sep, fields = head
                if current is not None:
                    end = _skip_ws_back(buf, sep - 1)
                    if end >= 0 and buf[end] == 0x7D:  # "}": the previous item is an object
                        closed = self._close(buf, current, end + 1)
                    elif current.checks < _MAX_CHECKS:  # items that are not conversations, or a nested key
                        closed = self._close(buf, current, sep, parse=True)
                    else:
                        current.suspect, closed = True, None
                    if closed is None:
                        continue  # the anchor is inside the open conversation after all
                    yield from closed
                elif bytes(buf[:sep]).strip(b" \t\r\n[,"):  # something before the first one
                    before = self._parse(bytes(buf[:sep]), opening=True)
                    if before.error is not None and before.error_at_end:
                        continue  # the anchor is inside an item that is still open: not a conversation
                    yield from self._commit(before, self.base)
                current = _Open(self.base + start, self.base + a, fields, bytes(buf[start:a]))
                first = False
            search = max(search, limit)
            # Drop what no open conversation needs.
            keep = (current.start - self.base) if current else 0  # before the first: keep it all
            if keep > 0:
                del buf[:keep]
                self.base += keep
                search -= keep
        if current is not None:
            array_end = self._array_end(buf, current)
            s = current.start - self.base
            if array_end is None:  # not the expected ending: read the rest item by item to say what it is
                yield from self._commit(self._parse(bytes(buf[s:])), current.start, final=True,
                                        title=_text(current.head.get("title"), 80))
            else:
                last = self._close(buf, current, array_end)
                if last is None:
                    yield from self._commit(self._parse(bytes(buf[s:])), current.start, final=True)
                else:
                    yield from last
        elif self.count == 0 and not self.problems and bytes(buf).strip(b"[] \t\r\n;"):
            yield from self._commit(self._parse(bytes(buf), opening=True), self.base, final=True)

    def _head(self, buf: bytearray, a: int, lo: int, first: bool) -> tuple[int, int, dict[str, Any]] | None:
        """The "{" that opens the conversation whose mapping key is at `a`, its separator, and its fields."""
        pos = a
        for _ in range(8):
            p = buf.rfind(b"{", lo, pos)
            if p < 0:
                return None
            q = _skip_ws_back(buf, p - 1)
            if q >= 0 and buf[q] in (b"[," if first else b","):
                try:
                    fields = _loads(bytes(buf[p:a]) + b'"mapping": {}}')
                except ValueError:
                    fields = None
                if isinstance(fields, dict):
                    return p, q, fields
            pos = p
        return None

    def _close(self, buf: bytearray, conv: _Open, end: int,
               parse: bool = False) -> list[tuple[ConversationSummary, Span]] | None:
        """The items from conv.start to buf index `end` (exclusive): the conversation, and anything after it
        up to the next one. None when `end` turns out to be inside the conversation (a nested "mapping" key)."""
        s, a = conv.start - self.base, conv.anchor - self.base
        if not parse and not conv.suspect:
            mapping_end, fields = self._tail(buf, conv, a, end)
            if fields is not None:
                self.count += 1
                self.items += 1
                summary = summary_from_fields(fields, bytes(buf[a:mapping_end]), self.count, self.document)
                span = Span(conv.start, self.base + end)
                self.spans[summary.id] = span
                return [(summary, span)]
        region = self._parse(bytes(buf[s:end]))
        if region.error is not None and region.error_at_end:
            conv.checks += 1
            return None  # an item (the conversation, or one after it) goes on past `end`: a nested anchor
        return list(self._commit(region, conv.start))

    def _tail(self, buf: bytearray, conv: _Open, a: int, end: int) -> tuple[int, dict[str, Any] | None]:
        prefix = conv.head_bytes + b'"mapping": {}'
        pos = end - 1  # the object's own "}"
        best: tuple[int, dict[str, Any]] | None = None
        misses = 0
        for _ in range(24):
            c = buf.rfind(b"}", a, pos)
            if c < 0:
                break
            try:
                fields = _loads(prefix + bytes(buf[c + 1:end]))
            except ValueError:
                fields = None
            if isinstance(fields, dict):
                best, misses = (c + 1, fields), 0
            elif best is not None:
                misses += 1
                if misses >= 3:
                    break
            pos = c
        return best if best else (end, None)

    def _array_end(self, buf: bytearray, conv: _Open) -> int | None:
        """Where the last conversation ends: the "}" before the array's "]"; None when the data stops first."""
        a = conv.anchor - self.base
        if self.html:  # the array is followed by ";" (or the script's end) in chat.html
            match = re.compile(rb"\}\s*\]\s*(?:;|</script)").search(buf, a)
            return match.start() + 1 if match else None
        i = _skip_ws_back(buf, len(buf) - 1)
        if i >= 0 and buf[i] == 0x7D and self.wrapped:  # {"conversations": [...]}
            i = _skip_ws_back(buf, i - 1)
        if i < 0 or buf[i] != 0x5D:  # "]"
            return None
        i = _skip_ws_back(buf, i - 1)
        return i + 1 if i > a and buf[i] == 0x7D else None

    # -- the slow path: parse item by item -------------------------------------------------------------
    @staticmethod
    def _parse(data: bytes, *, opening: bool = False) -> _Region:
        """Parse the array's items in `data` one by one, up to the array's "]" or the first error.

        `opening`: the data starts with the array's "[". Offsets are exact bytes (invalid UTF-8 is kept as
        surrogates while parsing, so that each such byte counts one)."""
        text = data.decode("utf-8", "surrogateescape")
        ascii_only = text.isascii()
        decoder = json.JSONDecoder()
        region = _Region([])
        n, stripped = len(text), len(text.rstrip())
        i = counted = byte = 0  # byte: the offset in `data` of text[counted]

        def offset(k: int) -> int:
            nonlocal counted, byte
            if ascii_only:
                return k
            byte += len(text[counted:k].encode("utf-8", "surrogateescape"))
            counted = k
            return byte

        if opening:
            while i < n and text[i] in " \t\r\n\ufeff":
                i += 1
            if i < n and text[i] == "[":
                i += 1
        while True:
            while i < n and text[i] in " \t\r\n,":
                i += 1
            if i >= n:
                break
            if text[i] == "]":
                region.closed = True
                break
            try:
                value, j = decoder.raw_decode(text, i)
            except ValueError as exc:
                region.error = exc
                region.error_at_end = _cut_short(exc, text, stripped)
                break
            region.items.append((value, offset(i), offset(j)))
            i = j
        return region

    def _commit(self, region: _Region, origin: int, *, final: bool = False,
                title: str = "") -> Iterator[tuple[ConversationSummary, Span]]:
        """Emit the conversations of a parsed region (at absolute offset `origin`) and note what is not one."""
        for value, start, end in region.items:
            self.items += 1
            if not looks_like_conversation(value):
                self.problems.append(f"{self.document}: item {self.items} of the array is not a ChatGPT "
                                     f"conversation ({what_it_is(value)}); skipped")
                continue
            self.count += 1
            span = Span(origin + start, origin + end)
            summary = summarize_conversation(value, self.count, self.document)
            self.spans[summary.id] = span
            yield summary, span
        if region.error is not None:
            self.items += 1
            exc = region.error
            if final and region.error_at_end:
                name = f", \"{title}\"" if title and not region.items else ""
                self.problems.append(f"{self.document}: it ends in the middle of item {self.items}{name} "
                                     "(the file is truncated); the items before it are listed")
            else:
                reason = getattr(exc, "msg", None) or str(exc).splitlines()[0][:120]
                self.problems.append(f"{self.document}: item {self.items} of the array is not valid JSON "
                                     f"({reason}); skipped")
        elif final and not region.closed and not self.html:
            self.problems.append(f"{self.document}: the array of conversations is not closed "
                                 "(the file is truncated?); every complete one is listed")
