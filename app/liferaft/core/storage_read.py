"""Reading Liferaft's own files: never blocking on a pipe (:func:`read_small_file`), at an offset without
``os.pread`` (:func:`read_at`), and as versioned JSON (:func:`load_versioned_json`).

Split from :mod:`liferaft.core.storage`, which re-exports these names.
"""

from __future__ import annotations

import _thread
import os
from pathlib import Path

# Typing-only imports; `typing` itself costs ~2 ms at start-up, which `liferaft scan` is measured on.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


_seek_lock = _thread.allocate_lock()  # _thread is built in: nothing to load at start-up


def read_at(fd: int, size: int, offset: int) -> bytes:
    """Up to ``size`` bytes of the open file ``fd`` from ``offset``, its position left where it was.

    ``os.pread`` where there is one; else (Windows) a seek and a read under one lock, the position put back
    after: safe between threads that all read ``fd`` this way, but a caller that also reads ``fd`` by its
    position meanwhile (a file object) must give this function a descriptor of its own."""
    pread = getattr(os, "pread", None)
    if pread is not None:
        data: bytes = pread(fd, size, offset)
        return data
    with _seek_lock:
        here = os.lseek(fd, 0, os.SEEK_CUR)
        try:
            os.lseek(fd, offset, os.SEEK_SET)
            return os.read(fd, size)
        finally:
            os.lseek(fd, here, os.SEEK_SET)


class NotARegularFile(OSError):
    """The path exists but is a pipe, socket, device or folder: Liferaft does not read it."""


def read_small_file(path: Path, limit: int = 4 * 1024 * 1024) -> bytes:
    """Read a small file of Liferaft's own (state, marker, ignore file) without ever blocking.

    A named pipe at that path would block a plain ``open``; here it is opened non-blocking, checked, and
    refused. Raises FileNotFoundError, :class:`NotARegularFile`, or another OSError; reads at most
    ``limit`` bytes.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        import stat

        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotARegularFile(f"{path} is not a regular file")
        chunks = []
        remaining = limit
        while remaining > 0:
            chunk = os.read(fd, min(remaining, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


class UnusableFile(Exception):
    """One of Liferaft's own files cannot be used; the message says why in a few words."""


def load_versioned_json(raw: bytes, newest: int, label: str = "version") -> tuple[dict[str, Any], int]:
    """The JSON object in ``raw`` and its ``version`` (kept in the object), for Liferaft's own versioned files.
    Raises :class:`UnusableFile` for text that is not JSON, not an object, without a valid version, or
    written by a newer Liferaft (the message then says "newer")."""
    import json

    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UnusableFile(f"it is not valid JSON ({exc.__class__.__name__})") from None
    if not isinstance(data, dict):
        raise UnusableFile("it does not hold a JSON object")
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise UnusableFile("it has no valid version number")
    if version > newest:
        raise UnusableFile(f"a newer Liferaft wrote it ({label} {version}, this one reads {newest})")
    return data, version
