"""Archives and other binary files: what they are, from their headers, never their whole content.

Archives are listed from their directory (zip) or their first megabytes (tar, gzip, bz2, xz); nothing is ever
extracted. Any other file gets a guess at what it is and a hex dump of its first bytes.
"""

from __future__ import annotations

import io
import re
import struct
from pathlib import Path
from typing import IO, Any

from liferaft.core.inspect import DEFAULT_ROWS, Preview
from liferaft.core.inspect.error_text import one_line
from liferaft.core.units import format_count, format_size

#: Archives are listed from at most this many (compressed) bytes.
MAX_ARCHIVE_READ = 16 * 1024 * 1024
#: How many entries of an archive are listed by name.
MAX_LISTED = 50
#: A plain tar is walked for at most this many entries.
MAX_TAR_MEMBERS = 100_000
#: How many bytes the hex dump of an unknown file shows.
HEX_BYTES = 256

# First bytes of files a data-analysis session leaves behind, for the "looks like" of an unknown file.
_SIGNATURES: tuple[tuple[int, bytes, str], ...] = (
    (0, b"SQLite format 3\x00", "an SQLite database"),
    (8, b"DUCK", "a DuckDB database"),
    (0, b"\x93NUMPY", "a NumPy array (.npy)"),
    (0, b"ARROW1", "an Arrow / Feather file"),
    (0, b"\x89HDF\r\n\x1a\n", "an HDF5 file (.h5)"),
    (0, b"Obj\x01", "an Avro file"),
    (0, b"ORC", "an ORC file"),
    (0, b"RDX2\n", "an R data file (.RData)"),
    (0, b"RDX3\n", "an R data file (.RData)"),
    (0, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Office file (.xls, .doc, .ppt) or a password-protected one"),
    (0, b"PK\x03\x04", "a zip archive (or an Office document: .xlsx, .docx, .pptx)"),
    (0, b"{\\rtf", "an RTF document"),
    (0, b"\x7fELF", "a Linux program"),
    (0, b"MZ", "a Windows program"),
    (0, b"Rar!\x1a\x07", "a RAR archive"),
    (4, b"ftyp", "an MP4 / MOV / HEIC media file"),
)
_PICKLE = re.compile(rb"\x80[\x02-\x05]")


# --- archives -------------------------------------------------------------------------------------------------


def inspect_archive(path: Path, *, max_rows: int = DEFAULT_ROWS, sheet: str | None = None) -> Preview:
    """What an archive holds, from its directory or its first megabytes; nothing is extracted. Never raises."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
            size = fh.seek(0, 2)
            if not head:
                return Preview("archive", error=f"{path.name} is empty (0 bytes); download or create it again")
            fh.seek(0)
            if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
                return _zip(path, fh)
            if head.startswith((b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00")):
                return _compressed(path, fh, head, size)
            if head[257:262] == b"ustar" or path.suffix.lower() == ".tar":
                return _tar(path, fh, "tar", compressed=False)
            if head.startswith(b"7z\xbc\xaf\x27\x1c"):
                return Preview("archive", facts=(("format", "7-Zip"),),
                               notes=("Liferaft does not look inside 7z archives; 7-Zip or The Unarchiver can list "
                                      "them",))
            if head.startswith(b"Rar!\x1a\x07"):
                return Preview("archive", facts=(("format", "RAR"),),
                               notes=("Liferaft does not look inside RAR archives",))
            return Preview("archive", error=f"{path.name} is not an archive Liferaft recognises "
                                            f"(it looks like {_looks_like(head)}); check that it is the right file")
    except OSError as exc:
        return Preview("archive", error=f"cannot read {path.name}: {exc.strerror or exc}")


def _zip(path: Path, fh: IO[bytes]) -> Preview:
    import zipfile

    try:
        archive = zipfile.ZipFile(fh)
    except (zipfile.BadZipFile, EOFError, ValueError, struct.error):
        return Preview("archive", error=f"{path.name} is damaged or cut short (its zip directory is missing); "
                                        "download or create it again")
    with archive:
        infos = archive.infolist()
    files = [info for info in infos if not info.is_dir()]
    folders = len(infos) - len(files)
    unpacked = sum(info.file_size for info in files)
    packed = sum(info.compress_size for info in files)
    facts: list[tuple[str, str]] = [("format", "zip"), ("entries", format_count(len(files), "file"))]
    if folders:
        facts[-1] = ("entries", f"{format_count(len(files), 'file')}, {format_count(folders, 'folder')}")
    facts.append(("unpacked size", format_size(unpacked)))
    notes: list[str] = []
    locked = sum(1 for info in files if info.flag_bits & 1)
    if locked:
        notes.append(f"{format_count(locked, 'file')} {'is' if locked == 1 else 'are'} password-protected")
    names = {info.filename for info in infos}
    if "[Content_Types].xml" in names:
        office = ("an Excel workbook" if any(n.startswith("xl/") for n in names) else
                  "a Word document" if any(n.startswith("word/") for n in names) else
                  "a PowerPoint deck" if any(n.startswith("ppt/") for n in names) else "an Office document")
        notes.append(f"this is {office} with a .zip name: give it its own extension (.xlsx, .docx...) to preview it")
    if unpacked > 1_000_000_000 and unpacked > 100 * max(packed, 1):
        notes.append(f"it expands {unpacked / max(packed, 1):,.0f} times, to {format_size(unpacked)}: unpack it "
                     "with care (it may be a zip bomb)")
    listing = [f"{format_size(info.file_size):>9}  {info.filename}" for info in infos[:MAX_LISTED]]
    if len(infos) > MAX_LISTED:
        listing.append(f"… and {len(infos) - MAX_LISTED:,} more")
    return Preview("archive", facts=tuple(facts), text="\n".join(listing), text_format="text", notes=tuple(notes))


def _compressed(path: Path, fh: IO[bytes], head: bytes, size: int) -> Preview:
    """A gzip, bzip2 or xz file: a compressed tar is listed; a single compressed file is sniffed."""
    fmt = "gzip" if head.startswith(b"\x1f\x8b") else "bzip2" if head.startswith(b"BZh") else "xz"
    inner = _first_bytes(fh, fmt)
    if inner is not None and inner[257:262] == b"ustar":
        fh.seek(0)
        return _tar(path, fh, f"tar + {fmt}", compressed=True)
    facts: list[tuple[str, str]] = [("format", f"{fmt} (one compressed file)")]
    notes: list[str] = []
    if fmt == "gzip":
        original = _gzip_name(head)
        if original:
            facts.append(("original name", original))
        if size >= 18:
            fh.seek(size - 4)
            unpacked = struct.unpack("<I", fh.read(4))[0]
            # The trailer holds the size modulo 4 GiB, and only the last member's in a multi-member file.
            approximate = "≈ " if size > 1 << 32 else ""
            facts.append(("unpacked size", approximate + format_size(unpacked)))
    if inner is None:
        return Preview("archive", facts=tuple(facts),
                       error=f"{path.name} is damaged: its {fmt} data cannot be decompressed; download it again")
    from liferaft.core.roles import sniff_kind

    kind = sniff_kind(inner)
    facts.append(("holds", _looks_like(inner) if kind in ("other", "archive") else kind))
    text = None
    if kind in ("text", "json"):
        text = inner.decode("utf-8", "replace")
        notes.append(f"showing the first {format_size(len(inner))} unpacked")
    return Preview("archive", facts=tuple(facts), text=text, text_format="text" if text else None,
                   notes=tuple(notes))


def _first_bytes(fh: IO[bytes], fmt: str, want: int = 4096) -> bytes | None:
    """The first ``want`` bytes of the decompressed stream (bounded input and output); None if damaged."""
    import bz2
    import lzma
    import zlib

    decompressor: Any
    if fmt == "gzip":
        decompressor = zlib.decompressobj(wbits=31)
    elif fmt == "bzip2":
        decompressor = bz2.BZ2Decompressor()
    else:
        decompressor = lzma.LZMADecompressor()
    fh.seek(0)
    out = b""
    read = 0
    try:
        while len(out) < want and read < MAX_ARCHIVE_READ:
            chunk = fh.read(64 * 1024)
            if not chunk:
                break
            read += len(chunk)
            if fmt == "gzip":
                out += decompressor.decompress(chunk, want - len(out))
            else:
                out += decompressor.decompress(chunk, max_length=want - len(out))
            if getattr(decompressor, "eof", False):
                break
    except (zlib.error, OSError, EOFError, lzma.LZMAError, ValueError):
        return out or None
    if not out and not getattr(decompressor, "eof", False):
        return None  # nothing came out and the stream did not end: cut short or not really compressed
    return out


def _gzip_name(head: bytes) -> str | None:
    """The original file name stored in a gzip header (FNAME), if any."""
    if len(head) < 10 or not head[3] & 0x08:
        return None
    offset = 10
    if head[3] & 0x04:  # FEXTRA
        if len(head) < 12:
            return None
        offset += 2 + struct.unpack_from("<H", head, 10)[0]
    end = head.find(b"\x00", offset)
    if end < 0:
        return None
    return head[offset:end].decode("latin-1")[:200] or None


class _Capped(io.RawIOBase):
    """A read-only view of a file that ends after ``limit`` bytes, so a listing cannot read on forever."""

    def __init__(self, fh: IO[bytes], limit: int) -> None:
        self._fh = fh
        self._left = limit
        self.capped = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._left <= 0:
            self.capped = True
            return 0
        view = memoryview(buffer)[: self._left]
        count = self._fh.readinto(view)  # type: ignore[attr-defined]
        self._left -= count or 0
        return count or 0


def _tar(path: Path, fh: IO[bytes], fmt: str, *, compressed: bool) -> Preview:
    """Walk a tar's headers: a plain tar by seeking (cheap), a compressed one as a stream within a byte budget."""
    import tarfile

    capped: _Capped | None = None
    listing: list[str] = []
    files = folders = 0
    unpacked = 0
    finished = True
    problem: str | None = None
    try:
        source: IO[bytes] = fh
        if compressed:
            capped = _Capped(fh, MAX_ARCHIVE_READ)
            source = io.BufferedReader(capped)
        with tarfile.open(fileobj=source, mode="r|*" if compressed else "r:") as archive:
            for count, member in enumerate(archive, start=1):
                if member.isdir():
                    folders += 1
                else:
                    files += 1
                    unpacked += member.size
                if len(listing) < MAX_LISTED:
                    listing.append(f"{format_size(member.size) if not member.isdir() else '':>9}  {member.name}")
                if count >= MAX_TAR_MEMBERS:
                    finished = False
                    break
    except (tarfile.TarError, EOFError, OSError, ValueError, struct.error) as exc:
        finished = False
        if not (capped is not None and capped.capped):
            problem = one_line(exc)
    if capped is not None and capped.capped:
        finished = False
    if problem and not files and not folders:
        return Preview("archive", facts=(("format", fmt),),
                       error=f"{path.name} is damaged or cut short ({problem}); download or create it again")
    prefix = "" if finished else "at least "
    entries = f"{prefix}{format_count(files, 'file')}"
    if folders:
        entries += f", {format_count(folders, 'folder')}"
    facts: list[tuple[str, str]] = [("format", fmt), ("entries", entries),
                                    ("unpacked size", prefix + format_size(unpacked))]
    notes: list[str] = []
    if problem:
        notes.append(f"the archive is damaged or cut short after {format_count(files + folders, 'entry')} "
                     f"({problem})")
    elif not finished:
        budget = format_size(MAX_ARCHIVE_READ) if capped is not None and capped.capped else None
        notes.append(f"listed from the first {budget} of the archive only" if budget else
                     f"listing stopped after {MAX_TAR_MEMBERS:,} entries")
    total = files + folders
    if total > MAX_LISTED:
        listing.append(f"… and {prefix}{total - MAX_LISTED:,} more")
    return Preview("archive", facts=tuple(facts), text="\n".join(listing), text_format="text", notes=tuple(notes))


# --- anything else ------------------------------------------------------------------------------------------------


def inspect_binary(path: Path, *, max_rows: int = DEFAULT_ROWS, sheet: str | None = None) -> Preview:
    """Size, a guess at what the file is, and a hex dump of its first bytes. Never raises."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
            size = fh.seek(0, 2)
    except OSError as exc:
        return Preview("other", error=f"cannot read {path.name}: {exc.strerror or exc}")
    facts: list[tuple[str, str]] = [("size", f"{format_size(size)} ({size:,} bytes)")]
    if not head:
        return Preview("other", facts=tuple(facts), notes=("the file is empty",))
    looks = _looks_like(head)
    facts.append(("looks like", looks))
    notes: list[str] = []
    from liferaft.core.roles import sniff_kind

    kind = sniff_kind(head)
    if kind in ("pdf", "image", "parquet", "json", "text"):
        label = {"pdf": ".pdf", "image": "an image extension (.png, .jpg)", "parquet": ".parquet", "json": ".json",
                 "text": ".txt (or .csv)"}[kind]
        notes.append(f"it looks like {looks}: give it {label} to preview it properly")
    elif "pickle" in looks:
        notes.append("never load a pickle you do not trust: unpickling runs code")
    return Preview("other", facts=tuple(facts), text=hex_dump(head[:HEX_BYTES]), text_format="text",
                   notes=tuple(notes))


def hex_dump(data: bytes, width: int = 16) -> str:
    """``xxd``-style lines: offset, bytes in hex (two groups of eight), and the printable characters."""
    lines = []
    for offset in range(0, len(data), width):
        chunk = data[offset : offset + width]
        hexes = " ".join(f"{byte:02x}" for byte in chunk[:8])
        if len(chunk) > 8:
            hexes += "  " + " ".join(f"{byte:02x}" for byte in chunk[8:])
        printable = "".join(chr(byte) if 32 <= byte < 127 else "." for byte in chunk)
        lines.append(f"{offset:08x}  {hexes:<{width * 3}}  |{printable}|")
    return "\n".join(lines)


def _looks_like(head: bytes) -> str:
    for offset, magic, label in _SIGNATURES:
        if head[offset : offset + len(magic)] == magic:
            return label
    if _PICKLE.match(head):
        return "a Python pickle"
    from liferaft.core.roles import sniff_kind

    return {
        "pdf": "a PDF", "image": "an image", "parquet": "a Parquet file", "archive": "a compressed archive",
        "json": "JSON text", "text": "text",
    }.get(sniff_kind(head), "binary data of an unknown kind")

