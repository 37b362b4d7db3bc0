"""Text files (plain text, markdown, code): the first part of the file, decoded, with a line count.

Also home to what every text-like inspector shares: reading a bounded head of a file, telling its encoding
(a byte-order mark, then strict UTF-8, then a guess) and counting its lines in constant memory within a
time budget.
"""

from __future__ import annotations

import codecs
import os
import re
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

from liferaft.core.inspect import DEFAULT_TEXT_BYTES, Preview
from liferaft.core.roles import control_count, few_nuls, kind_from_name, sniff_kind, western_text
from liferaft.core.units import format_size

#: How long a line count may take before it stops and extrapolates from the bytes it has read.
COUNT_SECONDS = 0.4
#: The size of each read while counting lines (the only memory the count uses).
COUNT_CHUNK = 1 << 20
#: How many bytes the encoding guesser (charset-normalizer) is given.
GUESS_BYTES = 256 * 1024

_TEXT_FORMATS = {"markdown": "markdown", "python": "python", "sql": "sql", "r": "r"}

# Byte-order marks, longest first: UTF-32-LE's starts with UTF-16-LE's.
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

_LOOKS_LIKE = {
    "pdf": "a PDF document",
    "image": "an image",
    "parquet": "a Parquet file",
    "archive": "a ZIP or compressed archive (an .xlsx workbook is a ZIP too)",
}

_HIGH_BYTES = bytes(range(128, 256))
_LONG_RUN = re.compile(r"[^\x00-\x7f]{3,}")
#: Below this many bytes beyond ASCII, a statistical guess has too little to go on: Western is preferred.
THIN_EVIDENCE = 64


class NotText(Exception):
    """The bytes are not text in any encoding Liferaft knows; the message says why, for the user."""


@dataclass(frozen=True, slots=True)
class Decoded:
    """A file's head, decoded."""

    text: str
    codec: str
    """The Python codec that decodes it: "utf-8", "utf-16-le", "cp1252"..."""
    label: str
    """How to show the encoding: "utf-8", "utf-8 (BOM)", "latin-1 (guessed)"."""
    bom: int = 0
    """Length in bytes of the byte-order mark, if any."""
    guessed: bool = False
    replaced: bool = False
    """Some bytes did not fit the guessed encoding and were replaced by "�"."""
    nul_bytes: int = 0
    """Stray NUL bytes in the bytes decoded: left out of :attr:`text` (a text file does not hold them)."""

    @property
    def newline(self) -> bytes:
        """A line feed in this encoding, for counting lines without decoding."""
        return "\n".encode(self.codec)


@dataclass(frozen=True, slots=True)
class Head:
    """The first bytes of a file."""

    data: bytes
    size: int
    """The whole file's size."""

    @property
    def complete(self) -> bool:
        return len(self.data) >= self.size


@dataclass(frozen=True, slots=True)
class LineCount:
    count: int
    """Line breaks counted, or extrapolated when :attr:`estimated`."""
    estimated: bool
    bytes_read: int


def read_head(path: Path, limit: int) -> Head:
    """Up to ``limit`` bytes from the start of ``path``, and the file's size. Raises OSError."""
    with open(path, "rb") as handle:
        size = _size(handle)
        data = handle.read(limit)
    return Head(data, max(size, len(data)))


def _size(handle: BinaryIO) -> int:
    return os.fstat(handle.fileno()).st_size


def _codec_label(codec: str) -> str:
    name = codecs.lookup(codec).name
    return {"iso8859-1": "latin-1", "ascii": "utf-8"}.get(name, name)


def _utf16_without_bom(data: bytes) -> str | None:
    """'utf-16-le'/'utf-16-be' when the bytes look like UTF-16 text with no byte-order mark."""
    window = data[:4096]
    pairs = len(window) // 2
    if pairs < 2:
        return None
    even = window[0 : pairs * 2 : 2].count(0)
    odd = window[1 : pairs * 2 : 2].count(0)
    if odd >= 0.7 * pairs and even <= 0.05 * pairs:
        return "utf-16-le"
    if even >= 0.7 * pairs and odd <= 0.05 * pairs:
        return "utf-16-be"
    return None


def _decode(data: bytes, codec: str, complete: bool, errors: str = "strict") -> str:
    # Incremental, so that a character cut at the end of a partial read is left out rather than an error.
    return codecs.getincrementaldecoder(codec)(errors=errors).decode(data, final=complete)


def decode_head(data: bytes, complete: bool) -> Decoded:
    """Decode the start of a file (``complete`` when ``data`` is the whole file). Raises :class:`NotText`.

    A few stray NUL bytes in text (see :func:`~liferaft.core.roles.few_nuls`) do not make it binary: they are
    left out of the text and counted in :attr:`Decoded.nul_bytes`."""
    for bom, _codec in _BOMS:
        if data.startswith(bom) and bom not in (codecs.BOM_UTF8,):
            return _decode_head(data, complete)  # UTF-16/32: their zero bytes are part of the characters
    if _utf16_without_bom(data):
        return _decode_head(data, complete)
    nuls = data.count(0)
    if not nuls:
        return _decode_head(data, complete)
    if not few_nuls(data) or sniff_kind(data[:512]) in _LOOKS_LIKE:
        raise NotText(f"it contains NUL bytes, as binary files do ({nuls:,} of the first {len(data):,} bytes, the "
                      f"first at byte {data.index(0):,})")
    decoded = _decode_head(data.replace(b"\x00", b""), complete)
    return replace(decoded, nul_bytes=nuls)


def _decode_head(data: bytes, complete: bool) -> Decoded:
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                text = _decode(data[len(bom) :], codec, complete)
            except UnicodeDecodeError as exc:
                raise NotText(f"it starts with a {_codec_label(codec)} byte-order mark but is not valid "
                              f"{_codec_label(codec)} (byte {exc.start + len(bom):,})") from None
            return Decoded(text, codec, f"{_codec_label(codec)} (BOM)", bom=len(bom))
    looks = sniff_kind(data[:512])
    if looks in _LOOKS_LIKE:
        raise NotText(f"it starts like {_LOOKS_LIKE[looks]}")
    utf16 = _utf16_without_bom(data)
    if utf16:
        try:
            text = _decode(data, utf16, complete)
        except UnicodeDecodeError:
            pass
        else:
            _check_controls(text)
            return Decoded(text, utf16, f"{utf16} (guessed)", guessed=True)
    if b"\x00" in data:
        raise NotText(f"it contains NUL bytes, as binary files do (the first at byte {data.index(0):,})")
    try:
        text = _decode(data, "utf-8", complete)
    except UnicodeDecodeError:
        pass
    else:
        _check_controls(text)
        return Decoded(text, "utf-8", "utf-8")
    # UTF-8 with a few stray bytes (a file pasted together from two sources) is UTF-8: its valid accented
    # letters outnumber the bad bytes, where a legacy encoding read as UTF-8 has hardly any valid ones.
    text = _decode(data, "utf-8", complete, errors="replace")
    bad = text.count("\ufffd")
    accented = len(text) - len(text.encode("ascii", "ignore")) - bad
    if accented > bad:
        _check_controls(text)
        return Decoded(text, "utf-8", "utf-8 (with invalid bytes)", replaced=True)
    return _guess(data, complete)


def _guess(data: bytes, complete: bool) -> Decoded:
    from charset_normalizer import from_bytes  # deferred: only files that are not UTF-8 pay for it

    sample = data[:GUESS_BYTES]
    # A few accented letters are too little for a statistical guess (a tiny latin-1 file came out as johab or
    # cp1250): when they read as Western text, Western it is, which is what Excel on a Western Windows writes.
    codec = _western(data, complete) if _non_ascii(sample) < THIN_EVIDENCE else None
    if codec is None:
        results = from_bytes(sample)
        best = results.best()
        if best is None:
            # No code page fits it statistically (Western text with bytes 0x80-0x9F, say): whether it is text is
            # told from the shape of the whole sample read as Western, not from which bytes it holds.
            codec = western_text(data[:GUESS_BYTES], complete and len(data) <= GUESS_BYTES)
            if codec is None:
                raise NotText("it is not UTF-8 and no other text encoding fits it")
            text = _decode(data, codec, complete, errors="replace")
            _check_controls(text)
            return Decoded(text, codec, f"{_codec_label(codec)} (guessed)", guessed=True)
        codec = best.encoding
        # On a short sample several code pages tie (cp1250 and cp1252 for French, say): prefer the Western one.
        tied = {match.encoding for match in results
                if match.chaos <= best.chaos and match.coherence >= best.coherence}
        codec = next((western for western in ("cp1252", "latin_1", "iso8859_15") if western in tied), codec)
        if not _keeps_structure(sample, codec):
            # A reading that swallows line breaks or delimiters (a multi-byte code page taking ";" as half of a
            # character, EBCDIC) would change the table itself: take the next that keeps them, else latin-1.
            codec = next((match.encoding for match in results if _keeps_structure(sample, match.encoding)),
                         _western(data, complete) or "latin-1")
    text = _decode(data, codec, complete, errors="replace")
    # Short samples often fit several Western code pages equally; name the common one when it reads the same.
    for common in ("latin-1", "cp1252"):
        if codecs.lookup(codec).name != codecs.lookup(common).name:
            try:
                if _decode(data, common, complete) == text:
                    codec = common
                    break
            except UnicodeDecodeError:
                continue
    _check_controls(text)
    return Decoded(text, codec, f"{_codec_label(codec)} (guessed)", guessed=True, replaced="\ufffd" in text)


def _non_ascii(data: bytes) -> int:
    return len(data) - len(data.translate(None, _HIGH_BYTES))


#: The characters that give a table its shape: a reading of the bytes must keep every one of them.
STRUCTURE = b"\n\r\t,;"


def _keeps_structure(data: bytes, codec: str) -> bool:
    """Whether reading ``data`` as ``codec`` keeps its line breaks, tabs, commas and semicolons as they are."""
    try:
        text = _decode(data, codec, False, errors="replace")
    except LookupError:
        return False
    return all(text.count(chr(byte)) == data.count(byte) for byte in STRUCTURE)


def _western(data: bytes, complete: bool) -> str | None:
    """"cp1252" (or "latin-1", when a byte cp1252 leaves undefined is there) when ``data`` reads as Western
    text in it: the letters beyond ASCII mostly alone between ASCII ones (ä, é, ß in words), not in long runs,
    as Cyrillic or Greek would come out."""
    whole = complete and len(data) <= GUESS_BYTES
    codec = "cp1252"
    try:
        text = _decode(data[:GUESS_BYTES], codec, whole)
    except UnicodeDecodeError:
        # A byte cp1252 leaves undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D): latin-1 reads every byte.
        codec = "latin-1"
        text = _decode(data[:GUESS_BYTES], codec, whole)
    in_runs = sum(len(run) for run in _LONG_RUN.findall(text))
    beyond = len(text) - len(text.encode("ascii", "ignore"))
    return codec if beyond and in_runs * 2 < beyond else None


def _check_controls(text: str) -> None:
    sample = text[:65536]
    if not sample:
        return
    controls = control_count(sample)
    if controls > max(2, len(sample) // 200):
        raise NotText("it is full of control characters, as binary files are")


def encoding_notes(decoded: Decoded) -> list[str]:
    """What a user rereading the file in pandas needs to know about its encoding."""
    notes: list[str] = []
    if decoded.codec != "utf-8":
        # With a byte-order mark, "utf-16" (not "utf-16-le") reads the mark instead of keeping it as text.
        codec = decoded.codec.removesuffix("-le").removesuffix("-be") if decoded.bom else decoded.codec
        how = " (the encoding is a guess)" if decoded.guessed else ""
        notes.append(f"not UTF-8{how}: read it with encoding={codec!r}")
    if decoded.replaced:
        notes.append(f"some bytes are not valid {decoded.label.split(' (')[0]}: they are shown as �")
    if decoded.nul_bytes:
        plural = "s" if decoded.nul_bytes != 1 else ""
        notes.append(f"{decoded.nul_bytes:,} stray NUL byte{plural} (\\x00) in the bytes read: left out here; a copy "
                     "without them is one fix away")
    return notes


def count_lines(path: Path, newline: bytes = b"\n", *, seconds: float | None = None) -> LineCount:
    """Count ``newline`` in the whole file in fixed-size chunks; past ``seconds``, stop and extrapolate.

    Constant memory. Raises OSError.
    """
    budget = COUNT_SECONDS if seconds is None else seconds
    chunk = max(COUNT_CHUNK - COUNT_CHUNK % 4, 4)  # a multiple of 4: UTF-16/32 line breaks never straddle
    buffer = bytearray(chunk)
    view = memoryview(buffer)
    count = 0
    total = 0
    start = time.perf_counter()
    with open(path, "rb", buffering=0) as handle:
        size = _size(handle)
        if hasattr(os, "posix_fadvise"):  # read ahead harder: the whole file is read once, in order
            os.posix_fadvise(handle.fileno(), 0, 0, os.POSIX_FADV_SEQUENTIAL)
        while True:
            got = handle.readinto(buffer)
            if not got:
                return LineCount(count, False, total)
            count += buffer.count(newline) if got == chunk else bytes(view[:got]).count(newline)
            total += got
            if time.perf_counter() - start > budget and total < size:
                # Read on or stop? Stop, and scale what we counted to the whole size.
                return LineCount(round(count * size / total), True, total)


def outside_quotes(data: bytes, newline: bytes, inside: bool = False) -> tuple[int, bool]:
    """The ``newline`` bytes in ``data`` that are not inside a ``"``-quoted cell, and whether ``data`` ends inside
    one, ``inside`` telling whether it starts there. A doubled quote (an escaped one) opens and closes at once, so
    it leaves the count right; a stray quote in an unquoted cell would not (the caller checks on a sample)."""
    pieces = data.split(b'"')
    first = 1 if inside else 0
    count = sum(piece.count(newline) for piece in pieces[first::2])
    return count, inside != ((len(pieces) - 1) % 2 == 1)


def count_records(path: Path, newline: bytes = b"\n", *, start: int = 0,
                  seconds: float | None = None) -> LineCount:
    """Count ``newline`` outside ``"``-quoted cells from byte ``start`` of a file in an ASCII-compatible encoding
    (the records of a CSV, not its lines), in fixed-size chunks; past ``seconds``, stop and extrapolate.

    Constant memory. Raises OSError.
    """
    budget = COUNT_SECONDS if seconds is None else seconds
    count = 0
    total = 0
    inside = False
    begin = time.perf_counter()
    with open(path, "rb") as handle:
        size = _size(handle) - start
        handle.seek(start)
        while True:
            chunk = handle.read(COUNT_CHUNK)
            if not chunk:
                return LineCount(count, False, total)
            found, inside = outside_quotes(chunk, newline, inside)
            count += found
            total += len(chunk)
            if time.perf_counter() - begin > budget and total < size:
                return LineCount(round(count * size / total), True, total)


def ends_with(path: Path, suffix: bytes) -> bool:
    """Whether the file's last bytes are ``suffix``. Raises OSError."""
    with open(path, "rb") as handle:
        size = _size(handle)
        if size < len(suffix):
            return False
        handle.seek(size - len(suffix))
        return handle.read(len(suffix)) == suffix


def approx(count: int) -> str:
    """An estimate, rounded to three significant figures: ``'≈ 1,200,000'``."""
    if count >= 1000:
        digits = len(str(count)) - 3
        count = round(count, -digits)
    return f"≈ {count:,}"


def line_endings(text: str) -> str:
    """ "LF", "CRLF", "CR", "none", or "mixed (…)" for the line breaks in ``text``."""
    crlf = text.count("\r\n")
    lf = text.count("\n") - crlf
    cr = text.count("\r") - crlf
    found = [name for name, number in (("LF", lf), ("CRLF", crlf), ("CR", cr)) if number]
    if not found:
        return "none"
    if len(found) == 1:
        return found[0]
    return "mixed (" + ", ".join(found) + ")"


def text_kind(path: Path) -> str:
    kind = kind_from_name(path.name)
    return kind if kind in ("text", "markdown", "python", "sql", "r") else "text"


def inspect_text(path: Path, *, max_rows: int = 50, sheet: str | None = None) -> Preview:
    """The first 64 KB of a text file (cut at a line break), its encoding and its number of lines."""
    del max_rows, sheet
    path = Path(path)
    kind = text_kind(path)
    text_format = _TEXT_FORMATS.get(kind, "text")
    try:
        head = read_head(path, DEFAULT_TEXT_BYTES)
    except OSError as exc:
        return Preview(kind, error=f"cannot read {path.name}: {exc.strerror or exc}")
    facts: list[tuple[str, str]] = [("size", format_size(head.size))]
    if head.size == 0:
        return Preview(kind, facts=(*facts, ("lines", "0")), text="", text_format=text_format,
                       notes=("the file is empty",))
    try:
        decoded = decode_head(head.data, head.complete)
    except NotText as exc:
        return Preview(kind, facts=tuple(facts), error=f"this does not look like text: {exc}")
    text = decoded.text
    notes: list[str] = []
    if not head.complete:
        cut = max(text.rfind("\n"), text.rfind("\r"))
        if cut > 0:
            text = text[: cut + 1]
        notes.append(f"showing the first {DEFAULT_TEXT_BYTES // 1024} KB of {format_size(head.size)}")
    endings = line_endings(text)
    if head.complete:
        breaks = text.count("\n") + text.count("\r") - text.count("\r\n")
        unterminated = 1 if text and not text.endswith(("\n", "\r")) else 0
        lines = f"{breaks + unterminated:,}"
    else:
        newline = "\r".encode(decoded.codec) if endings == "CR" else decoded.newline
        try:
            counted = count_lines(path, newline)
            last_line_open = not counted.estimated and not ends_with(path, newline)
        except OSError as exc:
            lines = "?"
            notes.append(f"could not count the lines: {exc.strerror or exc}")
        else:
            if counted.estimated:
                lines = approx(counted.count)
                notes.append(f"the line count is an estimate from the first {format_size(counted.bytes_read)}")
            else:
                lines = f"{counted.count + last_line_open:,}"
    facts += [("lines", lines), ("encoding", decoded.label), ("line endings", endings)]
    notes += encoding_notes(decoded)
    return Preview(kind, facts=tuple(facts), text=text, text_format=text_format, notes=tuple(notes))
