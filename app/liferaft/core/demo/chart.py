"""OUTPUT/revenue_by_region.png: a minimal PNG encoder (8-bit RGB, no filtering) and a bar chart."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence

#: Bar colours (matplotlib's tab10, the colours CODE/analysis.py uses), one per region.
_COLOURS: tuple[bytes, ...] = (
    bytes((31, 119, 180)),
    bytes((255, 127, 14)),
    bytes((44, 160, 44)),
    bytes((214, 39, 40)),
    bytes((148, 103, 189)),
)


def _png(width: int, height: int, rows: Sequence[bytes | bytearray]) -> bytes:
    """Encode ``height`` rows of ``width`` RGB pixels as a PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB, deflate, no interlace
    pixels = b"".join(b"\x00" + bytes(row) for row in rows)  # filter type 0 (none) on every row
    body = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(pixels, 9)) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


def bar_chart(values: Sequence[int], width: int = 640, height: int = 400) -> bytes:
    """A bar chart of ``values`` (one coloured bar each) with axes and light gridlines, as a PNG."""
    canvas = [bytearray(b"\xff" * (3 * width)) for _ in range(height)]

    def fill(x0: int, y0: int, x1: int, y1: int, colour: bytes) -> None:
        for y in range(y0, y1):
            canvas[y][3 * x0 : 3 * x1] = colour * (x1 - x0)

    left, right, top, bottom = 70, width - 30, 30, height - 50
    grid, axis = bytes((225, 225, 225)), bytes((40, 40, 40))
    for step in range(1, 6):
        y = bottom - (bottom - top) * step // 5
        fill(left, y, right, y + 1, grid)
        fill(left - 6, y, left, y + 1, axis)  # tick
    highest = max(max(values), 1) * 1.1
    slot = (right - left) // len(values)
    bar = slot * 3 // 5
    for index, value in enumerate(values):
        x0 = left + index * slot + (slot - bar) // 2
        bar_top = bottom - round((bottom - top) * max(value, 0) / highest)
        fill(x0, bar_top, x0 + bar, bottom, _COLOURS[index % len(_COLOURS)])
        fill(x0 + bar // 2, bottom, x0 + bar // 2 + 1, bottom + 6, axis)  # tick
    fill(left - 1, top, left + 1, bottom + 1, axis)
    fill(left - 1, bottom, right, bottom + 2, axis)
    return _png(width, height, canvas)
