"""Images, raster and SVG: what they are, from their headers, never their pixels.

Raster images are opened with Pillow, which reads only the header until pixels are asked for (they never
are). An SVG's size is read from its root element with a regex (no XML parser, so no entities are expanded).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from liferaft.core.inspect import DEFAULT_ROWS, DEFAULT_TEXT_BYTES, Preview
from liferaft.core.inspect.error_text import one_line
from liferaft.core.units import format_size

#: Frames of an animated image are counted only in files up to this size (counting walks the whole file).
MAX_FRAME_SCAN_BYTES = 64 * 1024 * 1024
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
    return f"{path.name} is damaged or cut short ({one_line(exc)}); save or download it again"


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

