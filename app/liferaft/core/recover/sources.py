"""Open a ChatGPT data export, whatever shape it came in, and read conversations and assets from it.

`open_export(path)` accepts the export's `.zip` (the classic single `conversations.json`, or the 2026 layout
with `export_manifest.json` and `conversations-NNN.json` shards), the folder it was extracted to, a
`conversations.json`, one conversation's JSON (the backend API's object, or an exporter's array of one),
`chat.html` (its `jsonData` array), or a Markdown export (the raw JSON it wraps in a fenced block, else read
heuristically; see `markdown.py`).
It raises `ExportError` with one line that says what is wrong; problems with single items (a truncated
shard, a conversation that is not valid JSON) are collected in `Export.problems` and the rest still reads.
"""

from __future__ import annotations

import json
import os
import re
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from liferaft.core.recover.export import _READ_ERRORS, _WRAPPER, Document, Export, ExportError, _reason, _sniff_json
from liferaft.core.recover.export import AmbiguousConversation as AmbiguousConversation
from liferaft.core.recover.export import Progress as Progress
from liferaft.core.recover.export import match_conversation as match_conversation
from liferaft.core.recover.export import normalize as normalize
from liferaft.core.recover.listing import ByteStream, ConversationSummary
from liferaft.core.recover.salvage import MemberStream, salvage_members

__all__ = ["AmbiguousConversation", "ConversationSummary", "Export", "ExportError", "open_export"]

_SHARD = re.compile(r"(?:^|/)conversations(?:-\d+)?\.json$", re.IGNORECASE)
#: Largest asset read into memory.
_ASSET_LIMIT = 512 << 20


def _is_junk(name: str) -> bool:
    parts = name.split("/")
    return "__MACOSX" in parts or parts[-1].startswith("._") or not parts[-1]


# -- opening ------------------------------------------------------------------------------------------


def open_export(path: Path) -> Export:
    """Open whatever `path` is (see the module docstring). Raises ExportError with one line."""
    path = Path(path).expanduser()
    try:
        if path.is_dir():
            return _open_folder(path)
        if not path.exists():
            raise ExportError(f"{path}: no such file or folder")
        if not path.is_file():
            raise ExportError(f"{path}: not a file or folder Liferaft can read")
        with path.open("rb") as handle:
            head = handle.read(4096)
    except PermissionError:
        raise ExportError(f"{path}: permission denied") from None
    except OSError as exc:
        raise ExportError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    suffix = path.suffix.lower()
    if head.startswith(b"PK") or suffix == ".zip":
        return _open_zip(path)
    if not head.strip():
        raise ExportError(f"{path}: the file is empty")
    if suffix in (".html", ".htm") or head.lstrip().lower().startswith((b"<!doctype", b"<html")):
        doc = Document(path.name, "array", path.stat().st_size, lambda: path.open("rb"), html=True, offset=None)
        return Export(path, "chat.html", [doc], **_folder_assets(path.parent, limit_to_export=True))
    if suffix in (".md", ".markdown", ".txt"):
        doc = Document(path.name, "markdown", path.stat().st_size, lambda: path.open("rb"))
        return Export(path, "Markdown export", [doc])
    kind, offset = _sniff_json(head)
    if not head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith((b"[", b"{")):
        raise ExportError(f"{path}: not a ChatGPT export (expected a .zip, a folder, JSON, chat.html or Markdown)")
    doc = Document(path.name, kind, path.stat().st_size, lambda: path.open("rb"), offset=offset,
                   wrapped=bool(_WRAPPER.match(head)))
    label = "conversations.json" if kind == "array" else "one conversation (JSON)"
    return Export(path, label, [doc], **_folder_assets(path.parent, limit_to_export=True))


def _documents(names: list[str], size_of: Callable[[str], int], opener: Callable[[str], Callable[[], ByteStream]],
               manifest: Any, problems: list[str]) -> tuple[list[Document], str]:
    shards = sorted((n for n in names if _SHARD.search(n) and not _is_junk(n)),
                    key=lambda n: (n.count("/"), n))
    if shards:
        top = min(n.count("/") for n in shards)
        shards = [n for n in shards if n.count("/") == top]
        classic = [n for n in shards if n.rsplit("/", 1)[-1].lower() == "conversations.json"]
        if classic and len(shards) > 1:
            shards = classic  # both layouts in one folder: the single file holds everything
        if manifest is not None:
            listed = {s.rsplit("/", 1)[-1] for s in _strings(manifest) if _SHARD.search(s)}
            present = {n.rsplit("/", 1)[-1] for n in shards}
            for missing in sorted(listed - present):
                problems.append(f"export_manifest.json lists {missing}, which is missing; "
                                f"its conversations cannot be listed")
        docs = [Document(n, "array", size_of(n), opener(n), offset=None) for n in shards]
        layout = "2026 shards" if any(re.search(r"-\d+\.json$", n) for n in shards) else "classic"
        return docs, layout
    html = sorted(n for n in names if n.rsplit("/", 1)[-1].lower() == "chat.html" and not _is_junk(n))
    if html:
        return [Document(html[0], "array", size_of(html[0]), opener(html[0]), html=True, offset=None)], "chat.html"
    return [], ""


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _resolve_offsets(docs: list[Document], problems: list[str]) -> list[Document]:
    """Find where each document's array starts (a shard may be a wrapper, or even one object)."""
    kept: list[Document] = []
    for doc in docs:
        if doc.html:
            kept.append(doc)
            continue
        try:
            with doc.opener() as stream:
                head = stream.read(4096)
        except _READ_ERRORS as exc:
            problems.append(f"{doc.name}: cannot be read ({_reason(exc)}); skipped")
            continue
        if not head.strip():
            problems.append(f"{doc.name}: empty; skipped")
            continue
        doc.kind, doc.offset = _sniff_json(head)
        doc.wrapped = bool(_WRAPPER.match(head))
        kept.append(doc)
    return kept


def _open_zip(path: Path) -> Export:
    try:
        archive = zipfile.ZipFile(path)
        infos = [i for i in archive.infolist() if not i.is_dir()]
    except zipfile.BadZipFile:
        return _open_salvaged_zip(path)
    except OSError as exc:
        raise ExportError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    by_name = {i.filename: i for i in infos}
    problems: list[str] = []

    def opener(name: str) -> Callable[[], ByteStream]:
        return lambda: archive.open(by_name[name])

    manifest = None
    manifest_name = next((n for n in by_name if n.rsplit("/", 1)[-1] == "export_manifest.json"), None)
    if manifest_name:
        try:
            manifest = json.loads(archive.read(manifest_name))
        except _READ_ERRORS:
            problems.append("export_manifest.json: not valid JSON; the shards are read anyway")
    docs, layout = _documents(list(by_name), lambda n: by_name[n].file_size, opener, manifest, problems)
    if any(by_name[doc.name].flag_bits & 0x1 for doc in docs):
        archive.close()
        raise ExportError(f"{path}: the zip is password-protected; extract it with its password and import the "
                          "folder instead")
    docs = _resolve_offsets(docs, problems)
    if not docs:
        archive.close()
        if problems:
            raise ExportError(f"{path}: {problems[0]}")
        raise ExportError(f"{path}: no conversations.json or chat.html inside; is it a ChatGPT data export?")
    assets: dict[str, Callable[[], bytes]] = {}
    for name, info in by_name.items():
        if _is_junk(name) or name.endswith((".json", ".html")):
            continue
        if info.file_size <= _ASSET_LIMIT and not info.flag_bits & 0x1:
            assets[name] = (lambda n: lambda: archive.read(n))(name)
    names_map = _asset_name_map(lambda n: archive.read(n), by_name)
    kind = "zip export (2026 shards)" if layout == "2026 shards" else "zip export"
    return Export(path, kind, docs, assets=assets, asset_names=names_map, problems=problems, closer=archive.close)


def _asset_name_map(read: Callable[[str], bytes], names: Any) -> dict[str, str]:
    name = next((n for n in names if n.rsplit("/", 1)[-1] == "conversation_asset_file_names.json"), None)
    if not name:
        return {}
    try:
        data = json.loads(read(name))
    except _READ_ERRORS:
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _open_folder(path: Path) -> Export:
    files: dict[str, Path] = {}
    for root, dirs, names in os.walk(path):
        rel_root = Path(root).relative_to(path)
        if len(rel_root.parts) >= 3:
            dirs[:] = []
        dirs[:] = [d for d in dirs if d != "__MACOSX" and not d.startswith(".")]
        for name in names:
            full = Path(root) / name
            if full.is_file() and not full.is_symlink():
                files[(rel_root / name).as_posix()] = full
    problems: list[str] = []
    manifest = None
    manifest_name = next((n for n in files if n.rsplit("/", 1)[-1] == "export_manifest.json"), None)
    if manifest_name:
        try:
            manifest = json.loads(files[manifest_name].read_bytes())
        except (ValueError, OSError):
            problems.append("export_manifest.json: not valid JSON; the shards are read anyway")
    docs, layout = _documents(list(files), lambda n: files[n].stat().st_size,
                              lambda n: (lambda: files[n].open("rb")), manifest, problems)
    docs = _resolve_offsets(docs, problems)
    if not docs:
        raise ExportError(f"{path}: no conversations.json or chat.html in this folder; is it a ChatGPT export?")
    assets = {name: (lambda p: lambda: p.read_bytes())(full) for name, full in files.items()
              if not name.endswith((".json", ".html")) and full.stat().st_size <= _ASSET_LIMIT}
    names_map = _asset_name_map(lambda n: files[n].read_bytes(), files)
    kind = "export folder (2026 shards)" if layout == "2026 shards" else "export folder"
    return Export(path, kind, docs, assets=assets, asset_names=names_map, problems=problems)


def _folder_assets(folder: Path, *, limit_to_export: bool) -> dict[str, Any]:
    """Assets beside a lone conversations.json or chat.html: only files named like export assets."""
    assets: dict[str, Callable[[], bytes]] = {}
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return {"assets": assets}
    for entry in entries:
        name = entry.name
        if limit_to_export and not (name.startswith(("file-", "file_")) or name.endswith(".dat")):
            continue
        try:
            if entry.is_file(follow_symlinks=False) and entry.stat().st_size <= _ASSET_LIMIT:
                assets[name] = (lambda p: lambda: Path(p).read_bytes())(entry.path)
        except OSError:
            continue
    return {"assets": assets}


def find_recent_export(folder: Path | None, *, look_at: int = 12) -> Path | None:
    """The newest `.zip` in `folder` (a downloads folder) that holds a ChatGPT export, or None.

    Only the newest `look_at` zips are opened, and only their list of names is read."""
    if folder is None:
        return None
    try:
        zips = [entry for entry in os.scandir(folder) if entry.name.lower().endswith(".zip")
                and entry.is_file(follow_symlinks=False)]
        zips.sort(key=lambda entry: entry.stat().st_mtime, reverse=True)
    except OSError:
        return None
    for entry in zips[:look_at]:
        try:
            with zipfile.ZipFile(entry.path) as archive:
                names = archive.namelist()
        except (OSError, zipfile.BadZipFile, ValueError):
            continue
        if any(_SHARD.search(n) or n.rsplit("/", 1)[-1].lower() == "chat.html" for n in names if not _is_junk(n)):
            return Path(entry.path)
    return None


# -- a zip cut short (see salvage.py) -------------------------------------------------------------------
def _open_salvaged_zip(path: Path) -> Export:
    try:
        members = [m for m in salvage_members(path) if m.method in (0, 8) and not m.name.endswith("/")]
    except OSError as exc:
        raise ExportError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if not members:
        raise ExportError(f"{path}: the zip is damaged or incomplete (download the export again)")
    by_name = {m.name: m for m in members}
    cut = [m.name for m in members if not m.complete]
    problems = [f"{path.name}: the zip is incomplete (the download stopped?); read what its first "
                f"{len(members)} file(s) hold" + (f", {cut[0]} only in part" if cut else "")
                + "; download the export again to get everything"]

    def opener(name: str) -> Callable[[], ByteStream]:
        return lambda: MemberStream(path, by_name[name])

    def size_of(name: str) -> int:
        member = by_name[name]
        return member.size if member.size is not None and member.complete else path.stat().st_size

    docs, layout = _documents(list(by_name), size_of, opener, None, problems)
    docs = _resolve_offsets(docs, problems)
    if not docs:
        raise ExportError(f"{path}: the zip is incomplete and the part that arrived holds no conversations "
                          "(download the export again)")
    assets = {name: (lambda n: lambda: opener(n)().read(_ASSET_LIMIT))(name) for name, m in by_name.items()
              if m.complete and not _is_junk(name) and not name.endswith((".json", ".html"))}
    kind = "incomplete zip export (2026 shards)" if layout == "2026 shards" else "incomplete zip export"
    return Export(path, kind, docs, assets=assets, problems=problems)
