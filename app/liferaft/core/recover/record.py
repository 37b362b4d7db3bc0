"""What was imported from chat exports, kept in ``<project>/.liferaft/recovered.json``.

One entry per conversation (re-importing it replaces its entry): its id and title, the export it came from, the
uploads it used and the files it generated, and what the import wrote. :func:`linked_outputs` turns the generated
files into the at-risk check's missing outputs (those not in OUTPUT), and :func:`missing_uploads` lists the
uploads SOURCE lacks. A damaged or newer file is kept aside under a backup name and reported, never a crash.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from liferaft.core import storage
from liferaft.core.scan import STATE_DIRNAME

if TYPE_CHECKING:
    from liferaft.core.scan import Inventory

RECOVERED_FILENAME = "recovered.json"
RECOVERED_VERSION = 1
#: The largest record read (it holds names only: a few KB per conversation).
FILE_LIMIT = 64 * 1024 * 1024


def recovered_path(root: Path) -> Path:
    return Path(root) / STATE_DIRNAME / RECOVERED_FILENAME


def load_imports(root: Path, *, keep_aside: bool = True) -> tuple[list[dict[str, Any]], list[str]]:
    """The recorded imports, oldest first, and one-line warnings. A damaged or newer file is moved aside (when
    ``keep_aside``) and reported; it never raises."""
    path = recovered_path(root)
    shown = f"{STATE_DIRNAME}/{RECOVERED_FILENAME}"
    try:
        raw = storage.read_small_file(path, FILE_LIMIT + 1)
    except FileNotFoundError:
        return [], []
    except OSError as exc:
        return [], [f"cannot read {shown} ({exc.strerror or exc}): what chat exports made is not shown"]
    try:
        if len(raw) > FILE_LIMIT:
            raise storage.UnusableFile("it is larger than 64 MB")
        data, _version = storage.load_versioned_json(raw, RECOVERED_VERSION)
        imports = data.get("imports")
        if not isinstance(imports, list):
            raise storage.UnusableFile("its imports are not a list")
    except storage.UnusableFile as problem:
        if not keep_aside:
            return [], [f"{shown} is unusable: {problem}"]
        try:
            backup = storage.move_aside(path, problem)
        except OSError as exc:
            return [], [f"{shown} is unusable: {problem}; could not move it aside ({exc.strerror or exc})"]
        return [], [f"{shown} was unusable: {problem}. It is kept as {STATE_DIRNAME}/{backup.name}"]
    return [item for item in imports if isinstance(item, dict)], []


def _entry_key(entry: dict[str, Any]) -> tuple[str, str]:
    conversation = entry.get("conversation")
    if not isinstance(conversation, dict):
        conversation = {}
    return str(conversation.get("id") or ""), str(conversation.get("title") or "")


def record_import(root: Path, entry: dict[str, Any]) -> tuple[bool, list[str]]:
    """Add or replace ``entry`` (keyed by its conversation id, or title without one); atomically. Returns whether
    the file changed (an identical entry, apart from its time, is left as it is) and warnings."""
    with storage.locked(recovered_path(root)):  # read again under the lock: another import may be saving
        return _record_import(root, entry)


def _record_import(root: Path, entry: dict[str, Any]) -> tuple[bool, list[str]]:
    imports, warnings = load_imports(root)
    key = _entry_key(entry)
    same = [item for item in imports if _entry_key(item) == key]
    if same:
        old = {k: v for k, v in same[-1].items() if k != "imported_at"}
        if old == {k: v for k, v in entry.items() if k != "imported_at"}:
            return False, warnings
    kept = [item for item in imports if _entry_key(item) != key] + [entry]
    path = recovered_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"version": RECOVERED_VERSION, "imports": kept}, ensure_ascii=True, indent=1) + "\n"
    storage.write_text(path, text)
    return True, warnings


def _source_of(entry: dict[str, Any]) -> str:
    _id, title = _entry_key(entry)
    return f"chat export: {title or _id or 'a conversation'}"


def linked_outputs(root: Path, imports: list[dict[str, Any]] | None = None) -> list[tuple[str, str]]:
    """Every file an imported conversation generated, as (path within /mnt/data, "chat export: <title>") pairs,
    for :func:`liferaft.core.risk.at_risk` (which keeps those OUTPUT lacks). Never raises; a damaged record
    gives nothing (the import command reports it). ``imports``: the record as already read."""
    if imports is None:
        imports, _warnings = load_imports(root, keep_aside=False)
    pairs: list[tuple[str, str]] = []
    for entry in imports:
        source = _source_of(entry)
        for item in entry.get("generated") or []:
            if isinstance(item, dict) and isinstance(item.get("path"), str) and item["path"]:
                pairs.append((item["path"], source))
    return pairs


def missing_uploads(root: Path, inventory: Inventory,
                    imports: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """The uploads of imported conversations that SOURCE lacks: ``{"name", "size", "sources"}`` each, in import
    order. An upload is in SOURCE under its own name (URL-decoded, any case), or under a name that differs only
    by a ``(n)`` copy suffix when the size is the same (see :mod:`liferaft.core.recover.uploads`):
    ``Untitled document(2).pdf`` is another file than ``Untitled document.pdf``. Two uploads are one entry when
    they are the same file. ``imports``: the record as read."""
    from liferaft.core.recover.uploads import ambiguous_names, copy_key, exact_key, find_upload, same_file
    from liferaft.core.roles import Role

    present = [(record.name, record.size, True) for record in inventory.files if record.role is Role.SOURCE]
    if imports is None:
        imports, _warnings = load_imports(root, keep_aside=False)
    items: list[tuple[dict[str, Any], str]] = []
    for entry in imports:
        source = _source_of(entry)
        for item in entry.get("uploads") or []:
            if isinstance(item, dict) and isinstance(item.get("name"), str) and exact_key(item["name"]) \
                    and not item.get("project_file"):
                items.append((item, source))
    ambiguous = ambiguous_names(item["name"] for item, _source in items)
    missing: list[dict[str, Any]] = []
    for item, source in items:
        name, size = item["name"], _size(item.get("size"))
        unsure = copy_key(name) in ambiguous
        if find_upload(name, size, present, ambiguous=unsure):
            continue
        found = next((known for known in missing
                      if same_file(name, size, known["name"], known["size"], ambiguous=unsure)), None)
        if found is None:
            found = {"name": name, "size": size, "sources": []}
            missing.append(found)
        if source not in found["sources"]:
            found["sources"].append(source)
    return missing


def _size(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None
