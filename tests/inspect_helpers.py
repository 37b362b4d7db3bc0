"""Helpers shared by the inspector tests: look at a file and check the promises every inspector makes."""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable, Iterable
from pathlib import Path

from liferaft.core.inspect import Preview


def digest(path: Path) -> tuple[str, float]:
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime


def look(inspector: Callable[..., Preview], path: Path, **options: object) -> Preview:
    """Inspect ``path``; assert the file is untouched and any error is one line saying what to do."""
    before = digest(path)
    preview = inspector(path, **options)
    assert digest(path) == before, "inspecting must never change the file"
    assert isinstance(preview, Preview)
    if preview.error is not None:
        assert preview.error.strip() and "\n" not in preview.error, preview.error
        assert len(preview.error) < 300, preview.error
    for note in preview.notes:
        assert note and "\n" not in note, note
    return preview


def facts(preview: Preview) -> dict[str, str]:
    return dict(preview.facts)


def compound_file(names: Iterable[str]) -> bytes:
    """A minimal OLE2 compound file (the container of .xls and of encrypted .xlsx) with these empty streams."""
    entries = [("Root Entry", 5), *((name, 2) for name in names)]
    per_sector = 4
    dir_sectors = (len(entries) + per_sector - 1) // per_sector
    header = bytearray(512)
    header[:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 0x18, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<III", header, 0x2C, 1, 1, 0)  # one FAT sector; the directory starts at sector 1
    struct.pack_into("<IIIII", header, 0x38, 4096, 0xFFFFFFFE, 0, 0xFFFFFFFE, 0)
    struct.pack_into("<109I", header, 0x4C, 0, *([0xFFFFFFFF] * 108))
    fat = [0xFFFFFFFD] + [n + 2 for n in range(dir_sectors - 1)] + [0xFFFFFFFE]
    fat += [0xFFFFFFFF] * (128 - len(fat))
    directory = bytearray()
    for name, kind in entries:
        entry = bytearray(128)
        encoded = name.encode("utf-16-le") + b"\x00\x00"
        entry[: len(encoded)] = encoded
        struct.pack_into("<HB", entry, 0x40, len(encoded), kind)
        struct.pack_into("<III", entry, 0x44, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF)
        directory += entry
    directory += b"\x00" * (dir_sectors * 512 - len(directory))
    return bytes(header) + struct.pack("<128I", *fat) + bytes(directory)
