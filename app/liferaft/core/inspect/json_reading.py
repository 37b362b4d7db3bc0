"""Reading JSON within a budget, for the JSON outline and the notebook inspectors: the limits they share, a
bounded byte feed for ijson, and one-line syntax errors.
"""

from __future__ import annotations

import codecs
import json
import time
from typing import BinaryIO

from liferaft.core.inspect import DEFAULT_TEXT_BYTES

#: Files up to this size are parsed whole with the json module; larger ones are streamed.
LOAD_LIMIT = 20_000_000
#: How long streaming may take (large JSON, notebooks) before it stops and says so.
STREAM_SECONDS = 2.0
#: Characters kept of a string value.
MAX_STRING = 300
#: How much outline or notebook text a preview carries.
MAX_TEXT = 4 * DEFAULT_TEXT_BYTES


def cut(value: str, limit: int = MAX_STRING) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


class BoundedReader:
    """A file's bytes for ijson: from an offset, at most ``limit`` of them, recoded to UTF-8 when needed."""

    def __init__(self, handle: BinaryIO, limit: int, codec: str, deadline: float) -> None:
        self.handle = handle
        self.left = limit
        self.deadline = deadline
        self.decoder = None if codec == "utf-8" else codecs.getincrementaldecoder(codec)("replace")
        self.exhausted = False
        self.consumed = 0

    def read(self, size: int = -1) -> bytes:
        while True:
            if self.left <= 0 or time.perf_counter() > self.deadline:
                self.exhausted = True
                return b""
            want = self.left if size < 0 else min(size, self.left)
            data = self.handle.read(want)
            self.left -= len(data)
            self.consumed += len(data)
            if self.decoder is None:
                return data
            recoded = self.decoder.decode(data, final=not data).encode("utf-8")
            if recoded or not data:
                return recoded


def syntax_error(exc: json.JSONDecodeError, what: str = "JSON") -> str:
    return f"not valid {what}: {exc.msg} (line {exc.lineno:,}, column {exc.colno:,})"
