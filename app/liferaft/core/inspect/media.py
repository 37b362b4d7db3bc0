"""Images, PDFs, archives and other binary files: what they are, from their headers, never their whole content.

Images are opened with Pillow, which reads only the header until pixels are asked for (they never are). PDFs
are opened with pypdf from an open file (it seeks; it does not load the file). Archives are listed from their
directory (zip) or their first megabytes (tar, gzip, bz2, xz); nothing is ever extracted.
"""

from __future__ import annotations

import io
import re
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from liferaft.core.inspect import DEFAULT_ROWS, DEFAULT_TEXT_BYTES, Preview
from liferaft.core.units import format_count, format_size

#: Frames of an animated image are counted only in files up to this size (counting walks the whole file).
MAX_FRAME_SCAN_BYTES = 64 * 1024 * 1024
#: Archives are listed from at most this many (compressed) bytes.
MAX_ARCHIVE_READ = 16 * 1024 * 1024
#: How many entries of an archive are listed by name.
MAX_LISTED = 50
#: A plain tar is walked for at most this many entries.
MAX_TAR_MEMBERS = 100_000
#: How many bytes the hex dump of an unknown file shows.
HEX_BYTES = 256
#: How much of an SVG is read for its size.
SVG_HEAD = 4096

_SVG_ROOT = re.compile(r"<svg\b([^>]*)>", re.IGNORECASE | re.DOTALL)
_ATTRIBUTE = re.compile(r"""([A-Za-z_][\w:.-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_BOMB_PIXELS = re.compile(r"\((\d+) pixels\)")
_MODES = {
    "1": "1-bit black and white", "L": "greyscale", "LA": "greyscale with transparency", "P": "palette",
    "PA": "palette with transparency", "RGB": "RGB", "RGBA": "RGB with transparency", "CMYK": "CMYK (print)",
    "YCbCr": "YCbCr", "I": "32-bit integer greyscale", "I;16": "16-bit greyscale", "F": "32-bit float greyscale",
}
_ORIENTATIONS = {
    2: "mirrored", 3: "upside down (rotated 180°)", 4: "mirrored and upside down",
    5: "mirrored and rotated 90°", 6: "rotated 90° (shown turned clockwise)", 7: "mirrored and rotated 270°",
    8: "rotated 270° (shown turned anticlockwise)",
}
_PAPER = {(595, 842): "A4", (612, 792): "US Letter", (612, 1008): "US Legal", (842, 1191): "A3", (420, 595): "A5"}
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


# --- images -----------------------------------------------------------------------------------------------------


def inspect_image(path: Path, *, max_rows: int = DEFAULT_ROWS, sheet: str | None = None) -> Preview:
    """Format, size in pixels, colour mode, frames and orientation, from the image's header. Never raises."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            head = fh.read(SVG_HEAD)
            size = fh.seek(0, 2)
            fh.seek(max(0, size - 4096))
            tail = fh.read()
    except OSError as exc:
        return Preview("image", error=f"cannot read {path.name}: {exc.strerror or exc}")
    if not head:
        return Preview("image", error=f"{path.name} is empty (0 bytes); save or download the image again")
    if path.suffix.lower() == ".svg" or _looks_like_svg(head):
        return _inspect_svg(path, head, size)
    import warnings

    try:
        with warnings.catch_warnings():
            # Pillow warns (DecompressionBombWarning) about huge images: a note says so instead.
            warnings.simplefilter("ignore")
            return _inspect_raster(path, tail, size)
    except MemoryError:
        raise
    except Exception as exc:
        return Preview("image", error=_image_error(path, head, exc))


def _looks_like_svg(head: bytes) -> bool:
    start = head.lstrip()[:5].lower()
    return start.startswith((b"<svg", b"<?xml", b"<!--", b"<!doc")) and b"<svg" in head.lower()


def _inspect_raster(path: Path, tail: bytes, size: int) -> Preview:
    from PIL import Image

    notes: list[str] = []
    with Image.open(path) as image:
        width, height = image.size
        facts: list[tuple[str, str]] = [("format", str(image.format or "unknown"))]
        facts.append(("dimensions", f"{width:,} × {height:,} px"))
        facts.append(("colours", _MODES.get(image.mode, image.mode)))
        frames = _frames(image, size)
        if frames is not None and (frames > 1 or image.format == "GIF"):
            facts.append(("frames", f"{frames:,}"))
        elif frames is None:
            notes.append("animated; frames not counted in a file this large")
        dpi = image.info.get("dpi")
        if isinstance(dpi, tuple) and len(dpi) == 2 and dpi[0]:
            facts.append(("resolution", f"{round(float(dpi[0]))} dpi"))
        orientation = _orientation(image)
        if orientation:
            facts.append(("orientation", orientation))
        limit = Image.MAX_IMAGE_PIXELS
        if limit and width * height > limit:  # Pillow warned (DecompressionBombWarning): harmless, no pixels read
            notes.append(f"a very large image ({width * height / 1e6:,.0f} megapixels): it may be slow to open")
        cut = _cut_short(str(image.format), tail)
        if cut:
            notes.append(cut)
    return Preview("image", facts=tuple(facts), notes=tuple(notes))


def _frames(image: Any, size: int) -> int | None:
    """How many frames (1 for a still image); None when counting would mean walking a very large file."""
    if not getattr(image, "is_animated", False):
        return 1
    if size > MAX_FRAME_SCAN_BYTES and image.format in ("GIF", "TIFF"):
        return None
    try:
        return int(image.n_frames)
    except Exception:
        return None


def _orientation(image: Any) -> str | None:
    """The EXIF orientation when it is not the normal one, read only where it is already in the header."""
    if image.format not in ("JPEG", "MPO", "TIFF", "WEBP") and "exif" not in image.info:
        return None  # PNG's getexif() may decode the image to find a late eXIf chunk
    try:
        value = image.getexif().get(0x0112)
    except Exception:
        return None
    return _ORIENTATIONS.get(value) if isinstance(value, int) else None


def _cut_short(image_format: str, tail: bytes) -> str | None:
    """A note when the file does not end the way a complete image of its format ends."""
    end = tail.rstrip(b"\x00")
    complete = {
        "PNG": lambda: b"IEND" in tail[-16:],
        "JPEG": lambda: end.endswith(b"\xff\xd9") or b"\xff\xd9" in tail[-64:],
        "GIF": lambda: end.endswith(b";"),
    }.get(image_format)
    if complete is None or complete():
        return None
    return "the file does not end the way a complete image does: it is probably cut short; save or download it again"


def _image_error(path: Path, head: bytes, exc: Exception) -> str:
    from PIL import Image, UnidentifiedImageError

    if isinstance(exc, Image.DecompressionBombError):
        match = _BOMB_PIXELS.search(str(exc))
        pixels = f" {int(match.group(1)):,} pixels" if match else " an enormous number of pixels"
        return (f"{path.name} claims{pixels}, far beyond any real chart or photo; Liferaft will not open it "
                "(it may be a decompression bomb)")
    if isinstance(exc, UnidentifiedImageError):
        from liferaft.core.roles import sniff_kind

        kind = sniff_kind(head)
        if kind != "image":
            what = {"text": "text", "json": "JSON text", "pdf": "a PDF", "archive": "an archive"}.get(kind)
            looks = f" (it looks like {what})" if what else ""
            return f"{path.name} is not an image Liferaft can read{looks}; check that it is the right file"
        return f"{path.name} is damaged or cut short, or in a format Liferaft cannot read; save or download it again"
    return f"{path.name} is damaged or cut short ({_one_line(exc)}); save or download it again"


def _inspect_svg(path: Path, head: bytes, size: int) -> Preview:
    """An SVG's size from its root element, found by a regex on the first 4 KB (no XML parser, no entities)."""
    facts: list[tuple[str, str]] = [("format", "SVG (vector drawing)")]
    notes: list[str] = []
    sample = head.decode("utf-8", "replace")
    match = _SVG_ROOT.search(sample)
    if match is None:
        notes.append("no <svg> element in the first 4 KB")
    else:
        attributes = {m.group(1).lower(): (m.group(2) if m.group(2) is not None else m.group(3))
                      for m in _ATTRIBUTE.finditer(match.group(1))}
        width, height = attributes.get("width"), attributes.get("height")
        if width and height:
            facts.append(("dimensions", f"{width} × {height}"))
        if attributes.get("viewbox"):
            facts.append(("view box", " ".join(attributes["viewbox"].split())))
    if "<!ENTITY" in sample:
        notes.append("it declares XML entities (Liferaft does not expand them)")
    try:
        with open(path, "rb") as fh:
            data = fh.read(DEFAULT_TEXT_BYTES)
    except OSError as exc:
        return Preview("image", error=f"cannot read {path.name}: {exc.strerror or exc}")
    if size > len(data):
        notes.append(f"showing the first {format_size(len(data))} of {format_size(size)}")
    return Preview("image", facts=tuple(facts), text=data.decode("utf-8", "replace"), text_format="xml",
                   notes=tuple(notes))


# --- PDF ----------------------------------------------------------------------------------------------------------


def inspect_pdf(path: Path, *, max_rows: int = DEFAULT_ROWS, sheet: str | None = None) -> Preview:
    """Pages, title, author, producer, encryption and version of a PDF. Never raises."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            head = fh.read(1024)
            size = fh.seek(0, 2)
            fh.seek(max(0, size - 2048))
            tail = fh.read()
            if not head:
                return Preview("pdf", error=f"{path.name} is empty (0 bytes); save or download it again")
            if b"%PDF-" not in head:
                return Preview("pdf", error=_not_pdf(path, head))
            fh.seek(0)
            return _read_pdf(path, fh, head, tail)
    except OSError as exc:
        return Preview("pdf", error=f"cannot read {path.name}: {exc.strerror or exc}")


def _not_pdf(path: Path, head: bytes) -> str:
    from liferaft.core.roles import sniff_kind

    kind = sniff_kind(head)
    what = {"text": "text", "json": "JSON text", "image": "an image", "archive": "an archive"}.get(kind)
    if head.lstrip().lower().startswith((b"<!doctype html", b"<html")):
        what = "a web page (HTML), perhaps an error page saved instead of the file"
    looks = f" (it looks like {what})" if what else ""
    return f"{path.name} is not a PDF{looks}; check that it is the right file or download it again"


def _read_pdf(path: Path, fh: IO[bytes], head: bytes, tail: bytes) -> Preview:
    import warnings

    notes: list[str] = []
    facts: list[tuple[str, str]] = []
    version = re.search(rb"%PDF-(\d+\.\d+)", head)
    with warnings.catch_warnings(), _pypdf_messages() as messages:
        warnings.simplefilter("ignore")
        try:
            from pypdf import PdfReader

            reader = PdfReader(fh, strict=False)
        except MemoryError:
            raise
        except Exception as exc:
            what = "cut short (it has no end-of-file marker)" if b"%%EOF" not in tail else f"damaged ({_one_line(exc)})"
            return Preview("pdf", error=f"{path.name} is {what}; save or download it again")
        encrypted = bool(_attempt(lambda: reader.is_encrypted, False))
        locked = False
        encryption = "no"
        if encrypted:
            # Many PDFs are encrypted with an empty password only to restrict printing or copying.
            locked, encryption = _try_empty_password(reader)
        pages = _attempt(lambda: len(reader.pages), None)
        facts.append(("pages", f"{pages:,}" if isinstance(pages, int) else "unknown"))
        if not locked:
            meta = _attempt(lambda: reader.metadata, None)
            for label, key in (("title", "/Title"), ("author", "/Author"), ("producer", "/Producer"),
                               ("created with", "/Creator")):
                value = _attempt(lambda key=key: meta.get(key) if meta else None, None)
                text = " ".join(str(value).split()) if value is not None else ""
                if text:
                    facts.append((label, text[:200]))
            created = _attempt(lambda: meta.creation_date if meta else None, None)
            if isinstance(created, datetime):
                facts.append(("created", created.isoformat(sep=" ", timespec="minutes")))
            paper = _attempt(lambda: _paper(reader.pages[0].mediabox) if pages else None, None)
            if paper:
                facts.append(("page size", paper))
        facts.append(("encrypted", encryption))
        header = _attempt(lambda: reader.pdf_header, "")
        shown = header.removeprefix("%PDF-") if isinstance(header, str) and header else None
        if shown is None and version:
            shown = version.group(1).decode()
        if shown:
            facts.append(("PDF version", shown))
    if b"%%EOF" not in tail:
        notes.append("no end-of-file marker: the PDF is probably cut short; save or download it again")
    if messages:
        notes.append(f"the PDF has structural problems ({messages[0]})")
    if pages is None:
        notes.append("the page count could not be read")
    return Preview("pdf", facts=tuple(facts), notes=tuple(notes))


def _try_empty_password(reader: Any) -> tuple[bool, str]:
    """(whether the content stays locked, the "encrypted" fact) after trying the empty password."""
    from pypdf.errors import DependencyError

    try:
        opened = bool(reader.decrypt(""))
    except DependencyError:  # AES needs the optional `cryptography` package
        return True, "yes (AES; Liferaft cannot tell whether a password is needed)"
    except MemoryError:
        raise
    except Exception:
        opened = False
    return (False, "yes (no password needed)") if opened else (True, "yes, a password is needed to read it")


def _paper(box: Any) -> str:
    width, height = float(box.width), float(box.height)
    key = (round(min(width, height)), round(max(width, height)))
    name = next((label for (w, h), label in _PAPER.items() if abs(w - key[0]) <= 2 and abs(h - key[1]) <= 2), None)
    millimetres = f"{width * 25.4 / 72:.0f} × {height * 25.4 / 72:.0f} mm"
    orientation = " landscape" if width > height else ""
    return f"{name}{orientation} ({millimetres})" if name else millimetres


def _attempt(read: Any, default: Any) -> Any:
    try:
        return read()
    except MemoryError:
        raise
    except Exception:
        return default


@contextmanager
def _pypdf_messages() -> Iterator[list[str]]:
    """Collect what pypdf logs about a damaged file (instead of letting it reach the terminal)."""
    import logging

    messages: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if len(messages) < 5:
                messages.append(_one_line(Exception(record.getMessage())))

    logger = logging.getLogger("pypdf")
    handler = Collect(logging.WARNING)
    propagate = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield messages
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


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
            problem = _one_line(exc)
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


def _one_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    text = lines[0] if lines else type(exc).__name__
    return text if len(text) <= 200 else text[:199] + "…"
