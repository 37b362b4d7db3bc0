"""The secret gate every text passes on its way out of Liferaft, and the one place its decision is made.

The exits: ``liferaft prompt`` (stdout, ``--out FILE``, ``--copy``), the workbench's ctrl+y for every template
(rerun, regenerate, brief, note), the support report, and :func:`liferaft.core.delivery.deliver` behind the last
three (the native clipboard, OSC 52 through the terminal, the saved copy in RESTART/prompts/). Each front end
calls :func:`release` (or :func:`gate` then :meth:`Gated.release`, when the user is asked first) and lets out only
:attr:`Release.text`. :func:`liferaft.core.delivery.deliver` and :func:`~liferaft.core.delivery.save_prompt` take
a :class:`Release`; given a plain string they gate it themselves and redact, so a front end that forgets cannot
let an unchecked text out.

What the gate does to a text (a composed prompt, a support report):

1. It scans the text as it will leave, and every text it was built from, whole, before anything was cut or
   formatted: the saved code (before the budget cut it), the restart note, every source table's full list of
   column names (before the upload list cut them to a few, and long ones with ``…``), the file names.
2. Every secret found, in the text or in a source, is looked for in the text: wherever a piece of it of
   :data:`PIECE` characters or more shows up (a key cut by ``…``, the lines of a private key the budget cut
   short, a name that holds a token) that piece is a finding too.
3. A finding is clipped to the segment it starts in: fence lines (```` ``` ````), the composer's file headers
   (``### CODE/step.py``) and the prompt's headings are boundaries, so a private key with a malformed END line
   never swallows the fence and the next file, and no redaction removes the prompt's structure.
4. A finding is widened to the whole token around it (the run of ``[A-Za-z0-9_\\-+/=.~]``, within its segment,
   never across whitespace or quotes; never leftward over ``=``, which ends a name), so no tail of a value a rule
   matched only in part (``glpat-`` and 20 of its 58 characters) is left behind.

Findings never hold a value, only where it is and a mask. Pure Python and the detection library: no UI here.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from liferaft.core.compose_context import ComposeContext

__all__ = ["PIECE", "Gated", "Release", "Source", "gate", "release", "released", "sources"]

#: The shortest piece of a secret that is redacted wherever it shows up in an outgoing text.
PIECE = 8
_GRAM = 4
#: Every piece of PIECE characters holds a _GRAM-character gram that starts at a multiple of _STRIDE.
_STRIDE = PIECE - _GRAM + 1
_CHUNKS = re.compile(rf"(?s)(.{{{_GRAM}}}).{{0,{_STRIDE - _GRAM}}}")
#: Offsets kept per gram of the secrets (a value like "aaaaaaaa…" would otherwise list each one).
_MAX_OFFSETS = 32

_TOKEN_CHARS = r"A-Za-z0-9_\-+/=.~"
_RUN_RIGHT = re.compile(f"[{_TOKEN_CHARS}]*")
_TOKEN_RUN = re.compile(f"[{_TOKEN_CHARS}]+")
_RUN_LEFT = re.compile(r"[A-Za-z0-9_\-+/.~]*")  # leftward: "=" ends a name (KEY=value), it does not start a value
#: Lines that are the prompt's structure: fences, and (outside fenced code) Markdown headings.
_STRUCTURE = re.compile(r"^(?:`{3,}|~{3,}|#{1,6}(?:[ \t]|$))[^\n]*", re.MULTILINE)
#: A PEM armour line names the kind of key; it is not secret, and it shows up in code that reads keys.
_ARMOUR = re.compile(r"-----(?:BEGIN|END)[A-Z0-9 ]*-----")


@dataclass(frozen=True, slots=True)
class Release:
    """A text cleared to leave: what to let out, and what the gate found in it."""

    text: str
    """Exactly what may leave: redacted, unless the user chose to keep the secrets."""
    findings: tuple[Any, ...] = ()
    """:class:`liferaft.core.secrets.Finding`, masked, each with ``source`` set."""
    kept: bool = False
    """True when secrets were found and left in (``--allow-secrets``)."""

    @property
    def redacted(self) -> int:
        """How many findings were replaced by ``[REDACTED: …]`` markers."""
        return 0 if self.kept else len(self.findings)

    def lines(self) -> list[str]:
        return _lines(self.findings)


@dataclass(slots=True)
class Gated:
    """A text after the secret gate, before the decision: the findings (masked), each with where it came from."""

    findings: list[Any] = field(default_factory=list)
    """:class:`liferaft.core.secrets.Finding`, with ``source`` set to "FILE, line N" (or "the prompt, line N")."""
    text: str = ""
    """The text that was scanned."""

    def redact(self, text: str | None = None) -> str:
        """The text (or ``text``, the same one) with each finding replaced by ``[REDACTED: <kind>]``."""
        from liferaft.core.secrets import redact

        return redact(self.text if text is None else text, self.findings)

    def lines(self) -> list[str]:
        """One line per finding, never the value: "OpenAI API key sk-p…(51)…Q3xA in CODE/analysis.py, line 12"."""
        return _lines(self.findings)

    def release(self, *, keep_secrets: bool = False) -> Release:
        """What may leave: the text redacted, or as it is when there is nothing to redact or ``keep_secrets``."""
        if not self.findings:
            return Release(self.text)
        if keep_secrets:
            return Release(self.text, tuple(self.findings), kept=True)
        return Release(self.redact(), tuple(self.findings))


def release(text: str, context: ComposeContext | None = None, *, keep_secrets: bool = False) -> Release:
    """Gate ``text`` (built from ``context``, when it is a composed prompt) and decide: the one call an exit makes.

    Raises :class:`liferaft.core.secrets.SecretScannerUnavailable` when the scan cannot run: nothing may leave."""
    return gate(text, context).release(keep_secrets=keep_secrets)


def released(item: str | Release) -> Release:
    """``item`` when it has been through the gate; a plain string is gated now, and redacted."""
    return item if isinstance(item, Release) else release(item)


def _lines(findings: Sequence[Any]) -> list[str]:
    return [f"{finding.kind} {finding.masked} in {finding.source}" for finding in findings]


# --- what a prompt is built from ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Source:
    """A text a prompt is built from, whole."""

    text: str
    segments: str
    """How a finding in it is bounded: "code" (the whole text), "lines" (one item a line: its line), "markdown"
    (the restart note: its fences and headings, as in a prompt)."""
    name: str = ""
    unit: str = "line"
    """What a line of it is ("line", "column"); "" when the name alone says where."""
    labels: tuple[str, ...] = ()
    """Where each line came from, when the lines come from several places (every table's column names)."""

    def where(self, line: int) -> str:
        if self.labels:
            return self.labels[min(line, len(self.labels)) - 1]
        return f"{self.name}, {self.unit} {line}" if self.unit else self.name


def sources(context: ComposeContext | None) -> list[Source]:
    """The texts a prompt is built from, whole: the saved code, every column name of every table (one a line, in
    one text: one scan for them all), the file names, then the restart note."""
    if context is None:
        return []
    found = [Source(text, "code", path) for path, text in context.code]
    columns: list[str] = []
    labels: list[str] = []
    for path, names in context.tables:
        for number, name in enumerate(names, 1):
            columns.append(name.replace("\r", " ").replace("\n", " "))
            labels.append(f"{path}, column {number}")
    if columns:
        found.append(Source("\n".join(columns), "lines", unit="column", labels=tuple(labels)))
    names = [context.project]
    for upload in context.uploads:
        names += [upload.name, upload.path, upload.original or ""]
    names += [*context.outputs, *context.missing]
    found.append(Source("\n".join(name for name in names if name), "lines", "the file names", ""))
    if context.note_path and context.note_text:
        found.append(Source(context.note_text, "markdown", context.note_path))
    return found


def _token_columns(body: str) -> list[Any]:
    """The column names (one a line) that are generated keys, not names: a table whose first row holds a
    credential and was read as its header (see :func:`liferaft.core.secrets.token_like`)."""
    from liferaft.core.secrets import Finding, mask, token_like

    found = []
    start = 0
    for number, name in enumerate(body.split("\n"), 1):
        if token_like(name):
            lead = len(name) - len(name.lstrip())
            value = name.strip()
            found.append(Finding("generated key used as a column name", number, start + lead,
                                 start + lead + len(value), mask(value)))
        start += len(name) + 1
    return found


def _locate(value: str, found: Sequence[Source], prompt_line: int) -> str:
    """Where a secret found in the text came from: the source it was copied from, else its line in the text."""
    for source in found:
        index = source.text.find(value)
        if index >= 0:
            return source.where(source.text.count("\n", 0, index) + 1)
    return f"the prompt, line {prompt_line}"


# --- the gate ------------------------------------------------------------------------------------------------


def gate(text: str, context: ComposeContext | None = None) -> Gated:
    """Scan ``text`` for credentials (offline), and every text it was built from (see the module docstring).

    Raises :class:`liferaft.core.secrets.SecretScannerUnavailable` when the scan cannot run."""
    from liferaft.core.secrets import Finding, mask, scan_text

    found_sources = sources(context)
    hits = scan_text(text)
    structure = _structure(text) if hits else []  # else only needed once a piece of a source's secret is found
    starts = [start for start, _end in structure]
    spans: list[list[Any]] = []  # [start, end, kind, where (None: find it)], each within its segment
    values: list[tuple[str, str, str]] = []  # (a piece of a secret to look for, its kind, where it came from)
    for hit in hits:
        low, high = _segment(text, hit.start, structure, starts)
        start, end = max(hit.start, low), min(hit.end, high)
        if start < end:
            spans.append([start, end, hit.kind, None])
            values += [(piece, hit.kind, "") for piece, _offset in _value_pieces(text[start:end])]
    for source in found_sources:
        body = source.text
        if not body:
            continue
        body_structure = _structure(body) if source.segments == "markdown" else []
        body_starts = [start for start, _end in body_structure]
        for hit in [*scan_text(body), *(_token_columns(body) if source.unit == "column" else ())]:
            if source.segments == "lines":
                low = body.rfind("\n", 0, hit.start) + 1
                high = body.find("\n", hit.start)
                high = len(body) if high < 0 else high
            else:
                low, high = _segment(body, hit.start, body_structure, body_starts)
            start, end = max(hit.start, low), min(hit.end, high)
            first_line = body.count("\n", 0, start) + 1
            for piece, offset in _value_pieces(body[start:end]):
                values.append((piece, hit.kind, source.where(first_line + offset)))
    for start, end, index in _pieces(text, [value for value, _kind, _where_ in values]):
        _value, kind, where = values[index]
        spans.append([start, end, kind, where or None])
    if not spans:
        return Gated([], text)
    if not hits:
        structure = _structure(text)
        starts = [start for start, _end in structure]

    shaped: list[list[Any]] = []
    for start, end, kind, where in spans:
        low, high = _segment(text, start, structure, starts)
        start, end = max(start, low), min(end, high)
        if start >= end:
            continue
        start, end = _widen(text, start, end, low, high)
        shaped.append([start, end, kind, where])
    shaped.sort(key=lambda span: (span[0], -span[1]))
    merged: list[list[Any]] = []
    for span in shaped:
        if merged and span[0] < merged[-1][1]:  # overlapping: one redaction over both, named by the first
            last = merged[-1]
            last[1] = max(last[1], span[1])
            last[3] = last[3] or span[3]
        else:
            merged.append(span)
    findings = []
    for start, end, kind, where in merged:
        value = text[start:end]
        line = text.count("\n", 0, start) + 1
        if where is None:
            where = _locate(value, found_sources, line)
        findings.append(Finding(kind=kind, line=line, start=start, end=end, masked=mask(value), source=where))
    return Gated(findings, text)


def _value_pieces(value: str) -> list[tuple[str, int]]:
    """The parts of a secret's value to look for elsewhere, each with its offset in lines: the value itself when
    it is one line; else its lines that are all token characters (a private key's body, not its armour, nor the
    code a key with a broken END line ran on into). PEM armour and escaped line breaks split a part; parts
    shorter than PIECE are left out."""
    lines = value.split("\n")
    kept = []
    for offset, line in enumerate(lines):
        for part in _ARMOUR.sub("\n", line.replace("\\n", "\n")).split("\n"):
            part = part.strip()
            if len(part) >= PIECE and (len(lines) == 1 or _TOKEN_RUN.fullmatch(part)):
                kept.append((part, offset))
    return kept


def _pieces(text: str, values: Sequence[str]) -> list[tuple[int, int, int]]:
    """(start, end, index in ``values``) of every run of PIECE or more characters of ``text`` that is a piece of one
    of ``values``.

    A piece of PIECE characters holds a gram of _GRAM characters at an offset of ``text`` that is a multiple of
    _STRIDE, so only those grams are looked up (a regex cuts them out in C); each hit is then grown both ways by
    comparing slices."""
    grams: dict[str, list[tuple[int, int]]] = {}
    for index, value in enumerate(values):
        for offset in range(len(value) - _GRAM + 1):
            places = grams.setdefault(value[offset : offset + _GRAM], [])
            if len(places) < _MAX_OFFSETS:
                places.append((index, offset))
    if not grams:
        return []
    chunks = _CHUNKS.findall(text)
    # The offsets whose gram is one of the secrets', picked in C (a loop here would cost milliseconds).
    hits = list(itertools.compress(itertools.count(0, _STRIDE), map(grams.__contains__, chunks)))
    found: list[tuple[int, int, int]] = []
    reach = 0
    for position in hits:
        if position + _GRAM <= reach:
            continue  # inside a piece already found
        places = grams[text[position : position + _GRAM]]
        for index, offset in places:
            value = values[index]
            right = _same_forward(text, position, value, offset)
            left = _same_backward(text, position, value, offset)
            if left + right >= PIECE:
                found.append((position - left, position + right, index))
                reach = max(reach, position + right)
    return found


def _same_forward(text: str, at: int, value: str, offset: int) -> int:
    """How many characters of ``text`` from ``at`` equal those of ``value`` from ``offset``."""
    low, high = 0, min(len(text) - at, len(value) - offset)
    while low < high:
        middle = (low + high + 1) // 2
        if text[at : at + middle] == value[offset : offset + middle]:
            low = middle
        else:
            high = middle - 1
    return low


def _same_backward(text: str, at: int, value: str, offset: int) -> int:
    """How many characters of ``text`` before ``at`` equal those of ``value`` before ``offset``."""
    low, high = 0, min(at, offset)
    while low < high:
        middle = (low + high + 1) // 2
        if text[at - middle : at] == value[offset - middle : offset]:
            low = middle
        else:
            high = middle - 1
    return low


def _structure(text: str) -> list[tuple[int, int]]:
    """(start, end) of each line that is the text's structure: every fence line, and each heading outside fenced
    code (a ``# comment`` inside a code block is code)."""
    lines: list[tuple[int, int]] = []
    fence = ""  # the open fence's marker ("```", "````", "~~~"), "" outside a code block
    for match in _STRUCTURE.finditer(text):
        line = match.group()
        if line[0] in "`~":
            marker = line[: len(line) - len(line.lstrip(line[0]))]
            if not fence:
                fence = marker
            elif marker[0] == fence[0] and len(marker) >= len(fence) and not line[len(marker) :].strip():
                fence = ""
        elif fence:
            continue
        lines.append((match.start(), match.end()))
    return lines


def _segment(text: str, at: int, structure: list[tuple[int, int]], starts: list[int]) -> tuple[int, int]:
    """The (start, end) of the segment ``at`` lies in: a structure line, or the text between two of them (the line
    break before the next one included, so a redaction never joins the text to a fence)."""
    index = bisect.bisect_right(starts, at) - 1
    if index >= 0 and at < structure[index][1]:
        return structure[index]
    low = structure[index][1] + 1 if index >= 0 else 0
    high = structure[index + 1][0] - 1 if index + 1 < len(structure) else len(text)
    return low, max(low, high)


def _widen(text: str, start: int, end: int, low: int, high: int) -> tuple[int, int]:
    """``start``-``end`` grown to the whole token around it, within ``low``-``high``."""
    wide_end = _RUN_RIGHT.match(text, end, high).end()  # type: ignore[union-attr]
    while wide_end > end and text[wide_end - 1] == ".":  # a sentence's full stop is not the token's
        wide_end -= 1
    wide_start = start
    while wide_start > low:  # leftward by windows, read backwards: a regex only matches forwards
        window = text[max(low, wide_start - 256) : wide_start]
        run = _RUN_LEFT.match(window[::-1]).end()  # type: ignore[union-attr]
        wide_start -= run
        if run < len(window):
            break
    return wide_start, wide_end
