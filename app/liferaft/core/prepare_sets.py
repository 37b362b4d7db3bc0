"""The list of a split's parts (``prepared/.liferaft/<name>.parts.json``), and whether a part on disk belongs to
a complete, unchanged set.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from liferaft.core import storage
from liferaft.core.prepare_common import PREPARED

#: The folder, inside ``prepared/``, that holds the lists of parts (skipped by scans, like the project's own).
MANIFEST_DIR = ".liferaft"
#: ``<base><suffix>.parts.json``: the list of the parts ``<base>.partN<suffix>`` of one split.
MANIFEST_SUFFIX = ".parts.json"
MANIFEST_VERSION = 1
#: ``<base><suffix>.parts.pending``: written (durably) before a split puts its first part in place, removed once
#: the list is written. Parts with neither beside them are the user's own files named like parts, not a split.
PENDING_SUFFIX = ".parts.pending"
_PART_NAME = re.compile(r"(?s)(?P<base>.+)\.part(?P<number>[0-9]+)(?P<suffix>\.(?i:csv|tsv|txt))\Z")
_set_cache: dict[tuple[str, str, str], tuple[Any, Any, Any, dict[str, int] | str | None]] = {}


def looks_like_part(path: Path) -> bool:
    """Whether ``path`` is named like a part of a split (``NAME.partN.csv``) in a ``prepared/`` folder."""
    path = Path(path)
    return path.parent.name == PREPARED and _PART_NAME.match(path.name) is not None


def manifest_path(path: Path) -> Path | None:
    """Where the list of the parts of the split ``path`` belongs to is, or None when it is not named as a part."""
    path = Path(path)
    match = _PART_NAME.match(path.name)
    if match is None:
        return None
    return path.parent / MANIFEST_DIR / f"{match['base']}{match['suffix']}{MANIFEST_SUFFIX}"


def pending_path(path: Path) -> Path | None:
    """Where the mark of a split still putting the parts of ``path``'s set in place is (None: not a part name)."""
    manifest = manifest_path(path)
    return None if manifest is None else _pending_beside(manifest)


def _pending_beside(manifest: Path) -> Path:
    return manifest.with_name(manifest.name[:-len(MANIFEST_SUFFIX)] + PENDING_SUFFIX)


def split_original(path: Path) -> Path | None:
    """The original the part ``path`` was most likely split from (``../NAME.csv`` beside ``prepared/``, the
    ``-2``… of a later split taken off), when it is there; else None."""
    match = _PART_NAME.match(Path(path).name)
    if match is None:
        return None
    base = match["base"]
    for stem in (base, re.sub(r"-[0-9]+\Z", "", base)):
        candidate = Path(path).parent.parent / f"{stem}{match['suffix']}"
        if os.path.isfile(candidate):
            return candidate
    return None


def _signature(path: Path) -> Any:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def _read_set(folder: Path, base: str, suffix: str, manifest: Path, pending: Path) -> dict[str, int] | str | None:
    """The parts the split's list names, with their sizes, when the folder holds exactly those at those sizes;
    else why not (one line); None when no split of Liferaft's made these names (no list, no split under way)."""
    import json

    shown = f"{PREPARED}/{MANIFEST_DIR}/{manifest.name}"
    try:
        raw = storage.read_small_file(manifest)
    except FileNotFoundError:
        if not os.path.lexists(pending):  # files of the user's own, named like parts
            return None
        return "the split that made it did not finish (there is no list of its parts)"
    except OSError as exc:
        return f"its list of parts ({shown}) cannot be read: {exc.strerror or exc}"
    try:
        data = json.loads(raw.decode("utf-8"))
        listed = {str(part["name"]): int(part["size"]) for part in data["parts"]}
        if not listed or any(size < 0 for size in listed.values()) or len(listed) != len(data["parts"]):
            raise ValueError
    except (ValueError, TypeError, KeyError, UnicodeDecodeError):
        return f"its list of parts ({shown}) is damaged"
    pattern = re.compile(re.escape(base) + r"\.part[0-9]+" + re.escape(suffix) + r"\Z", re.DOTALL)
    try:
        present = {name for name in os.listdir(folder) if pattern.match(name)}
    except OSError as exc:
        return f"{PREPARED}/ cannot be read: {exc.strerror or exc}"
    extra = sorted(present - listed.keys())
    if extra:
        return f"{extra[0]} is not one of the {len(listed)} parts the split wrote"
    for number, (name, size) in enumerate(listed.items(), start=1):
        try:
            st = os.stat(folder / name)
        except OSError:
            return f"part {number} of {len(listed)} ({name}) is missing"
        if st.st_size != size:
            return f"{name} is {st.st_size:,} bytes, but the split wrote {size:,}"
    return listed


def split_part_problem(path: Path, size: int | None = None) -> str | None:
    """Why the file ``path``, named as a part of a split in ``prepared/``, must not be uploaded as one: the split
    did not finish (no list of its parts), or the parts there do not match the list (one missing, one extra,
    one of another size). None when it is not named as a part, or belongs to a complete set.

    The list of a set is read once per change of the folder or the list; the part's own size is checked on
    every call.
    """
    path = Path(path)
    if not looks_like_part(path):
        return None
    manifest = manifest_path(path)
    assert manifest is not None
    match = _PART_NAME.match(path.name)
    assert match is not None
    folder = path.parent
    key = (os.fspath(folder), match["base"], match["suffix"])
    pending = _pending_beside(manifest)
    signature = (_signature(folder), _signature(manifest), _signature(pending))
    cached = _set_cache.get(key)
    if cached is not None and cached[:3] == signature:
        result = cached[3]
    else:
        result = _read_set(folder, match["base"], match["suffix"], manifest, pending)
        if len(_set_cache) > 256:
            _set_cache.clear()
        _set_cache[key] = (*signature, result)
    if result is None or isinstance(result, str):
        return result
    if size is None:
        try:
            size = os.stat(path).st_size
        except OSError as exc:
            return f"it cannot be read: {exc.strerror or exc}"
    expected = result.get(path.name)
    if expected is None:
        return f"{path.name} is not one of the {len(result)} parts the split wrote"
    if size != expected:
        return f"{path.name} is {size:,} bytes, but the split wrote {expected:,}"
    return None


@dataclass(frozen=True, slots=True)
class SplitSet:
    """What the list of a split's parts says: the table they were cut from, the parts in order, and the table's
    data rows (None when the split could not count them cheaply, or an older Liferaft wrote the list)."""

    source: str
    parts: tuple[str, ...]
    rows: int | None


def read_split_set(part: Path) -> SplitSet | None:
    """The list of the parts the part ``part`` belongs to, or None when it is not a part or the list cannot be
    read (:func:`split_part_problem` says why; a part in an unusable set is never uploaded anyway)."""
    import json

    manifest = manifest_path(Path(part))
    if manifest is None:
        return None
    try:
        data = json.loads(storage.read_small_file(manifest).decode("utf-8"))
        parts = tuple(str(entry["name"]) for entry in data["parts"])
        source = str(data.get("source") or "")
        rows = data.get("rows")
    except (OSError, ValueError, TypeError, KeyError, UnicodeDecodeError):
        return None
    if not isinstance(rows, int) or isinstance(rows, bool) or rows < 0:
        rows = None
    return SplitSet(source, parts, rows)
