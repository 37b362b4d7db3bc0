"""Which file holds an upload of the chat: matched by name and size.

A browser saves a second download of ``data.csv`` as ``data (1).csv``, so a name that differs only by a
``(n)`` copy suffix may be the same file. It may also be another file: people upload ``Untitled document.pdf``,
``Untitled document(2).pdf`` and ``Untitled document(3).pdf``, three documents the script opens one by one (in
real exports such pairs had different sizes every time). So the name must be the same (URL-decoded, any case),
or differ only by that suffix, on either side, with the same size. When the chat did not record the upload's
size, the suffix is set aside only when no other upload of the chat has the same name without it.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterable, Sequence
from typing import TypeVar

from liferaft.core.names import match_key
from liferaft.core.scan import shown_name

T = TypeVar("T")

_COPY = re.compile(r"\s*\(\d+\)(?=\.[^.]+$|$)")


def exact_key(name: str) -> str:
    """The name as uploads are matched exactly: its last part, URL-decoded, control characters shown,
    case-insensitive, in either Unicode form (NFC or NFD, as macOS writes names)."""
    return match_key(shown_name(urllib.parse.unquote(name).strip()).rpartition("/")[2])


def copy_key(name: str) -> str:
    """:func:`exact_key` without a ``(n)`` copy suffix (``data (1).csv`` → ``data.csv``)."""
    return _COPY.sub("", exact_key(name))


def ambiguous_names(names: Iterable[str]) -> set[str]:
    """The copy keys that several distinct upload names share (``a.pdf`` and ``a(2).pdf``)."""
    seen: dict[str, set[str]] = {}
    for name in names:
        seen.setdefault(copy_key(name), set()).add(exact_key(name))
    return {key for key, exact in seen.items() if len(exact) > 1}


def same_file(name: str, size: int | None, other_name: str, other_size: int | None, *,
              ambiguous: bool = False) -> bool:
    """Whether an upload (``name``, ``size``) and a file (``other_name``, ``other_size``) are the same file: the
    same name; or names that differ by a ``(n)`` suffix and the same size (an unknown upload size counts only
    when the name is not ``ambiguous``: no other upload shares it without the suffix)."""
    if exact_key(name) == exact_key(other_name):
        return True
    if copy_key(name) != copy_key(other_name):
        return False
    if size is not None and other_size is not None:
        return size == other_size
    return size is None and not ambiguous


def find_upload(name: str, size: int | None, files: Sequence[tuple[str, int | None, T]], *,
                ambiguous: bool = False) -> T | None:
    """The value of the first of ``files`` ((name, size, value) each) that holds the upload: one of the same
    name first, else a copy of the same size (see :func:`same_file`); None when none does."""
    key = exact_key(name)
    for other, _size, value in files:
        if exact_key(other) == key:
            return value
    for other, other_size, value in files:
        if same_file(name, size, other, other_size, ambiguous=ambiguous):
            return value
    return None
