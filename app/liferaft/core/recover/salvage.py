"""Read the members of a zip whose end is missing (a download that stopped half-way).

The central directory sits at the end of a zip, so `zipfile` refuses a cut one. The members are still there
one after another, each behind a local header: they are found from the start, and read (inflated) as streams.
"""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")


@dataclass(frozen=True)
class Member:
    name: str
    data_offset: int
    method: int
    compressed: int | None  # None when the header does not say (sizes in a trailing descriptor)
    size: int | None
    complete: bool


def salvage_members(path: Path) -> list[Member]:
    members: list[Member] = []
    total = path.stat().st_size
    with path.open("rb") as handle:
        offset = 0
        while offset + LOCAL_HEADER.size <= total:
            handle.seek(offset)
            header = handle.read(LOCAL_HEADER.size)
            if len(header) < LOCAL_HEADER.size:
                break
            sig, _, flags, method, _, _, _, csize, usize, name_len, extra_len = LOCAL_HEADER.unpack(header)
            if sig != b"PK\x03\x04":
                break
            name = handle.read(name_len).decode("utf-8" if flags & 0x800 else "cp437", "replace")
            data_offset = offset + LOCAL_HEADER.size + name_len + extra_len
            known = not (flags & 0x08) and csize != 0xFFFFFFFF
            complete = known and data_offset + csize <= total
            members.append(Member(name, data_offset, method, csize if known else None, usize if known else None,
                                   complete))
            if not known or not complete:
                break  # without its size the next header cannot be found; and nothing follows a cut member
            offset = data_offset + csize
    return members


class MemberStream(io.RawIOBase):
    """A member of a salvaged zip, decompressed as it is read; seeking forward reads and drops."""

    def __init__(self, path: Path, member: Member) -> None:
        self._path, self._member = path, member
        self._restart()

    def _restart(self) -> None:
        self._raw = self._path.open("rb")
        self._raw.seek(self._member.data_offset)
        self._left = self._member.compressed if self._member.compressed is not None else None
        self._inflate = zlib.decompressobj(-15) if self._member.method == 8 else None
        self._pending = b""
        self._pos = 0
        self._done = False

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, pos: int, whence: int = 0) -> int:
        if whence != 0:
            raise OSError("only absolute seeks")
        if pos < self._pos:
            self._raw.close()
            self._restart()
        while self._pos < pos:
            if not self.read(min(pos - self._pos, 1 << 20)):
                break
        return self._pos

    def read(self, size: int = -1) -> bytes:
        want = size if size is not None and size >= 0 else 1 << 62
        while len(self._pending) < want and not self._done:
            step = 1 << 20 if self._left is None else min(1 << 20, self._left)
            chunk = self._raw.read(step) if step else b""
            if self._left is not None:
                self._left -= len(chunk)
            if not chunk:
                self._done = True
                if self._inflate is not None:
                    self._pending += self._inflate.flush()
                break
            if self._inflate is None:
                self._pending += chunk
                continue
            try:
                self._pending += self._inflate.decompress(chunk)
            except zlib.error:
                self._done = True
            if self._inflate.eof:
                self._done = True
        out, self._pending = self._pending[:want], self._pending[want:]
        self._pos += len(out)
        return out

    def close(self) -> None:
        self._raw.close()
        super().close()
