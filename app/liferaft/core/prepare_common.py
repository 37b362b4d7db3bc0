"""What every fixer shares: the errors, the result, the ``prepared/`` folder next to the original and the checks
made before a byte is read or written, free names, and the start of a file read to tell its encoding.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from liferaft.core.storage import atomic_writer

if TYPE_CHECKING:
    from liferaft.core.inspect.text import Decoded

#: Decimal megabytes, as the upload limits are given.
MB = 1000 * 1000
#: The size of each read while streaming.
CHUNK = 4 << 20
#: The folder the prepared files go in, next to the original.
PREPARED = "prepared"
#: How far the encoding and delimiter are told from (as the preview does).
HEAD_BYTES = 1 << 20


#: The longest cell, and the longest line, the CSV fixers read (in characters): memory stays bounded.
MAX_CELL = 16 * MB
MAX_LINE = 32 * MB

Progress = Callable[[int, int], None]
"""Called with (work done, total work) as a fixer goes; the units are bytes (rows for a sheet)."""


class PrepareError(Exception):
    """The fixer could not do its work; the message says why in one line."""


class PrepareUsage(PrepareError):
    """The request does not fit the file (no such sheet, no such column); the message lists what there is."""


@dataclass(frozen=True, slots=True)
class Written:
    path: Path
    size: int
    rows: int | None = None
    """Data rows written (not counting the header), when known."""


@dataclass(frozen=True, slots=True)
class Prepared:
    written: tuple[Written, ...]
    notes: tuple[str, ...] = ()


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_NOT_TEXT = re.compile(r"[\ud800-\udfff]")  # bytes that were not UTF-8 (os.fsdecode's escapes), lone surrogates


def _check_source(path: Path) -> int:
    """The size of ``path``, after making sure it is a regular file (a pipe is never opened)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            raise PrepareUsage(f"{path} is a link whose target does not exist") from None
        raise PrepareUsage(f"no such file: {path}") from None
    except OSError as exc:
        raise PrepareError(f"cannot read {path.name}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(st.st_mode):
        raise PrepareUsage(f"{path} is a folder, not a file")
    if not stat.S_ISREG(st.st_mode):
        raise PrepareUsage(f"{path} is not a regular file (a pipe, socket or device): Liferaft does not open it")
    if st.st_size == 0:
        raise PrepareError(f"{path.name} is empty: there is nothing to prepare")
    return st.st_size


def prepared_folder(path: Path) -> Path:
    """``prepared/`` next to ``path``. Raises :class:`PrepareError` when something other than a real folder
    stands there (a link would send the copies out of the project, a file cannot hold them)."""
    folder = Path(path).parent / PREPARED
    try:
        st = os.lstat(folder)
    except FileNotFoundError:
        return folder
    except OSError as exc:
        raise PrepareError(f"cannot use {folder}: {exc.strerror or exc}") from None
    if stat.S_ISLNK(st.st_mode):
        raise PrepareError(f"{folder} is a link: Liferaft writes prepared files only into a real folder there "
                           "(move the link away and run it again)")
    if not stat.S_ISDIR(st.st_mode):
        raise PrepareError(f"{folder} is a file, not a folder: move it away and run it again")
    return folder


def _check_destination(path: Path) -> None:
    """Refuse, before anything is read, a ``prepared/`` folder next to ``path`` that cannot be written in (or,
    when it does not exist yet, a folder it cannot be created in): a read-only folder or one not the user's."""
    folder = prepared_folder(path)
    where = folder if os.path.isdir(folder) else folder.parent
    effective = os.access in os.supports_effective_ids
    if os.access(where, os.W_OK | os.X_OK, effective_ids=effective):
        return
    if where == folder:
        raise PrepareError(f"cannot write in {folder}: the folder is read-only or not yours (nothing was written)")
    raise PrepareError(f"cannot create {folder}: {where} is read-only or not yours (nothing was written)")


def free_name(folder: Path, stem: str, tail: str) -> Path:
    """``folder/stem+tail``, or ``stem-2+tail``, ``stem-3+tail``… the first that does not exist, each made a name
    valid everywhere (:func:`liferaft.core.names.portable_name`, the stem cut when it is too long)."""
    from liferaft.core.names import portable_name

    number = 1
    while True:
        end = tail if number == 1 else f"-{number}{tail}"
        candidate = folder / portable_name(f"{stem}{end}", keep=len(end))
        if not os.path.lexists(candidate):
            return candidate
        number += 1


def _split_name(path: Path) -> tuple[str, str]:
    suffix = path.suffix if path.suffix.lower() in (".csv", ".tsv", ".txt") else ".csv"
    stem = path.name[: -len(path.suffix)] if path.suffix else path.name
    return _clean_stem(stem), suffix


#: The longest stem of a prepared file's name: room is left for what is added after it (``-2.part0001.utf8.csv``).
STEM_LIMIT = 200


def _clean_stem(stem: str) -> str:
    """``stem`` for a prepared file's name: a line break, a control character or a byte that is not UTF-8 (in
    the original's name) becomes ``_``, so that the copy has a name a chat, and a shell, can take; and it is made
    valid everywhere (:func:`liferaft.core.names.portable_name`: ``CON`` -> ``CON_``, ``a:b`` -> ``a_b``), at
    most :data:`STEM_LIMIT` bytes."""
    from liferaft.core.names import portable_name

    return portable_name(_NOT_TEXT.sub("_", _CONTROL.sub("_", stem)), "file", limit=STEM_LIMIT)


@contextlib.contextmanager
def _new_file(path: Path) -> Iterator[BinaryIO]:
    try:
        with atomic_writer(path, overwrite=False) as handle:
            yield handle
    except FileExistsError:
        raise PrepareError(f"{path.name} appeared in {path.parent} while it was being written; run it again") \
            from None


def _head(path: Path) -> Decoded:
    """The start of ``path``, decoded as the preview decodes it."""
    from liferaft.core.inspect import text as textio

    head = textio.read_head(path, HEAD_BYTES)
    try:
        return textio.decode_head(head.data, head.complete)
    except textio.NotText as exc:
        raise PrepareError(f"{path.name} does not look like text: {exc}") from None


@contextlib.contextmanager
def _tidy(folder: Path) -> Iterator[None]:
    """On failure, remove ``folder`` again if this call created it and it is still empty."""
    existed = os.path.lexists(folder)
    try:
        yield
    except BaseException:
        if not existed:
            with contextlib.suppress(OSError):
                os.rmdir(folder)  # only ever succeeds on an empty folder
        raise
