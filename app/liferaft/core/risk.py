"""What is at risk if the chat's sandbox died now: outputs not checkpointed, outputs the chat made that were
never saved here, and downloads that look like the project's outputs.

Pure functions over an inventory, the checkpoints and the restart note. The downloads folder is only listed
(one ``scandir``, no file there is opened); :func:`move_into_output` is the one thing that touches a file
there, and only the file it is given.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from liferaft.core.checkpoints import Checkpoint, diff
from liferaft.core.compose import named_outputs
from liferaft.core.compose_context import output_key
from liferaft.core.names import name_problem, portable_name
from liferaft.core.roles import Role
from liferaft.core.scan import PARTIAL_SUFFIXES, Inventory
from liferaft.core.summary import user_outputs

if TYPE_CHECKING:
    from typing import Any

    from liferaft.core.restart_note import RestartNote

MISSING_REASON = "generated in the chat, not saved here: ask for it again"
#: Kinds of download that look like an analysis output (data, charts, reports), by extension.
DOWNLOAD_EXTENSIONS = frozenset({".csv", ".xlsx", ".png", ".jpg", ".jpeg", ".svg", ".pdf", ".html", ".json",
                                 ".parquet"})
#: The folder name made for outputs when the project has no OUTPUT folder.
OUTPUT_FOLDER = "OUTPUT"


class RiskItem(NamedTuple):
    """One thing at risk. ``path``: relative to the project for unsaved outputs, absolute for downloads, None
    for missing outputs; ``name`` the file name; ``reason`` one line; ``sources`` where a missing output is
    named (``restart note``...); ``matches`` the missing output a download stands for, if any."""

    path: str | None
    name: str
    reason: str
    sources: tuple[str, ...] = ()
    matches: str | None = None
    size: int | None = None
    mtime: float | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"path": self.path, "name": self.name, "reason": self.reason}
        if self.sources:
            data["sources"] = list(self.sources)
        if self.size is not None:
            data["matches"] = self.matches
            data["size"] = self.size
            data["mtime"] = self.mtime
        return data


class Risk:
    """The at-risk state of a project (see :func:`at_risk`)."""

    __slots__ = ("_unsaved_paths", "checkpoints", "downloads", "last_checkpoint", "missing_outputs",
                 "unsaved_outputs", "warnings")

    def __init__(self, unsaved_outputs: list[RiskItem], missing_outputs: list[RiskItem], downloads: list[RiskItem],
                 checkpoints: int, last_checkpoint: str | None, warnings: list[str] | None = None) -> None:
        self.unsaved_outputs = unsaved_outputs
        self.missing_outputs = missing_outputs
        self.downloads = downloads
        self.checkpoints = checkpoints
        self.last_checkpoint = last_checkpoint
        self.warnings: list[str] = warnings if warnings is not None else []
        self._unsaved_paths: frozenset[str] | None = None

    @property
    def unsaved_paths(self) -> frozenset[str]:
        """The paths of :attr:`unsaved_outputs`, made once (a burst can leave tens of thousands: the thread that
        assessed the risk makes them, so the screen showing it only looks them up)."""
        if self._unsaved_paths is None:
            self._unsaved_paths = frozenset(item.path for item in self.unsaved_outputs if item.path)
        return self._unsaved_paths

    @property
    def at_risk(self) -> bool:
        return bool(self.unsaved_outputs or self.missing_outputs or self.downloads)

    def to_json(self) -> dict[str, Any]:
        return {"unsaved_outputs": [item.to_json() for item in self.unsaved_outputs],
                "missing_outputs": [item.to_json() for item in self.missing_outputs],
                "downloads": [item.to_json() for item in self.downloads],
                "checkpoints": self.checkpoints, "last_checkpoint": self.last_checkpoint}


def at_risk(root: Path, inventory: Inventory, checkpoints: list[Checkpoint], note: RestartNote | None, *,
            downloads_dir: Path | None = None, since: float | None = None,
            linked_outputs: Iterable[str | tuple[str, str]] = ()) -> Risk:
    """What is at risk now.

    - ``unsaved_outputs``: OUTPUT files new or changed (size, mtime) since the last checkpoint; all of them
      when there is none.
    - ``missing_outputs``: names the restart note's "Generated outputs" section lists, and ``linked_outputs``
      (names, or (name, where it came from) pairs, e.g. links in a chat export), that are not in OUTPUT:
      matched URL-decoded, case-insensitively, ignoring a ``(1)`` duplicate suffix.
    - ``downloads``: regular files at the top of ``downloads_dir`` (None: not looked at) modified after
      ``since`` that match a missing output's name, or that are a data/chart/report kind (only when ``since``
      is given: otherwise every old CSV there would be offered). Partial downloads and hidden files are skipped.
    """
    warnings: list[str] = []
    outputs = user_outputs(inventory)  # a replay's files (OUTPUT/replayed/) are no outputs until accepted
    last = checkpoints[-1] if checkpoints else None
    unsaved: list[RiskItem] = []
    if last is None:
        unsaved = [RiskItem(record.path, record.name, "no checkpoint yet") for record in outputs]
    else:
        output_inventory = Inventory(inventory.root, outputs)
        changes = diff(last, output_inventory)
        for path in changes.added:
            unsaved.append(RiskItem(path, path.rpartition("/")[2], "new since the last checkpoint"))
        for path in changes.changed:
            unsaved.append(RiskItem(path, path.rpartition("/")[2], "changed since the last checkpoint"))
        unsaved.sort(key=lambda item: item.path or "")
    present = {output_key(record.name) for record in outputs}
    named = {item.key: item for item in generated_outputs(note, linked_outputs) if item.key not in present}
    missing = [RiskItem(None, item.name, MISSING_REASON, item.sources) for item in named.values()]
    downloads: list[RiskItem] = []
    if downloads_dir is not None:
        downloads, problem = list_downloads(Path(downloads_dir), {key: item.name for key, item in named.items()},
                                            since)
        if problem:
            warnings.append(problem)
    return Risk(unsaved, missing, downloads, len(checkpoints), last.iso_time if last is not None else None, warnings)


class GeneratedOutput(NamedTuple):
    """An output the chat made, as the restart note or a chat export names it (see :func:`generated_outputs`)."""

    key: str
    """:func:`~liferaft.core.compose_context.output_key` of its name: how it is matched with OUTPUT's files."""
    name: str
    """Its file name, URL-decoded."""
    path: str
    """Where it was written, as first named: the path within ``/mnt/data`` a chat export gives (folders kept,
    URL-decoded), or the note's name."""
    sources: tuple[str, ...]
    """Where it is named: ``restart note``, ``chat export: <title>``..."""


def generated_outputs(note: RestartNote | None,
                      linked_outputs: Iterable[str | tuple[str, str]] = ()) -> list[GeneratedOutput]:
    """Every output the restart note's "Generated outputs" section and ``linked_outputs`` (names, or (name, where
    it came from) pairs) name, once each (matched by :func:`output_key`), in order: the list :func:`at_risk` keeps
    those OUTPUT lacks of."""
    named: dict[str, tuple[str, str, list[str]]] = {}

    def add(name: str, source: str) -> None:
        key = output_key(name)
        if not key:
            return
        _shown, _path, sources = named.setdefault(key, (_decoded(name), _decoded_path(name), []))
        if source not in sources:
            sources.append(source)

    if note is not None:
        for name in named_outputs(note.get("outputs")):
            add(name, "restart note")
    for item in linked_outputs:
        name, source = (item, "chat export") if isinstance(item, str) else item
        add(name, source)
    return [GeneratedOutput(key, shown, path, tuple(sources)) for key, (shown, path, sources) in named.items()]


def _decoded_path(name: str) -> str:
    import urllib.parse

    path = urllib.parse.unquote(name).strip().replace("\\", "/")
    for prefix in ("sandbox:", "/mnt/data/", "mnt/data/"):
        path = path.removeprefix(prefix)
    return "/".join(part for part in path.split("/") if part not in ("", ".", ".."))


def _decoded(name: str) -> str:
    import urllib.parse

    return urllib.parse.unquote(name).strip().rpartition("/")[2]


def list_downloads(folder: Path, missing: dict[str, str], since: float | None) -> tuple[list[RiskItem], str | None]:
    """The files at the top of the downloads ``folder`` that look like this project's outputs (see
    :func:`at_risk`; ``missing`` maps the missing outputs' keys to their names), matches first, newest first;
    and a warning when the folder cannot be read."""
    try:
        with os.scandir(folder) as it:
            entries = list(it)
    except FileNotFoundError:
        from liferaft.core import wsl

        if wsl.is_wsl():  # the browser is Windows': its Downloads folder was not found either
            return [], (f"the downloads folder {folder} does not exist, and Windows' Downloads folder was not found "
                        f"under {wsl.WINDOWS_USERS}: downloads are not looked at (name the folder to watch with "
                        "[watch] downloads in config.toml)")
        return [], f"the downloads folder {folder} does not exist: not looked at"
    except NotADirectoryError:
        return [], f"the downloads folder {folder} is not a folder: not looked at"
    except OSError as exc:
        return [], f"cannot read the downloads folder {folder}: {exc.strerror or exc}"
    found: list[RiskItem] = []
    for entry in entries:
        name = entry.name
        if name.startswith((".", "~$")) or name.endswith(PARTIAL_SUFFIXES):
            continue
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if since is not None and st.st_mtime <= since:
            continue
        match = missing.get(output_key(name))
        if match is not None:
            reason = f"looks like the missing output {match}: move it into OUTPUT/"
        elif since is not None and os.path.splitext(name)[1].lower() in DOWNLOAD_EXTENSIONS:
            reason = "downloaded while the project was open, and looks like an output: move it into OUTPUT/?"
        else:
            continue
        found.append(RiskItem(entry.path, name, reason, matches=match, size=st.st_size, mtime=st.st_mtime))
    found.sort(key=lambda item: (item.matches is None, -(item.mtime or 0.0), item.name))
    return found, None


def downloads_folder(other_settings: dict[str, Any] | None = None) -> tuple[Path | None, bool]:
    """The downloads folder to watch: ``[watch] downloads = "..."`` in config.toml, ``false`` for none, else
    the system's (platformdirs); in WSL without a Linux one, Windows' (:func:`liferaft.core.wsl.windows_downloads`:
    the browser is Windows'). Returns (folder or None, whether it was configured)."""
    watch = (other_settings or {}).get("watch")
    value = watch.get("downloads") if isinstance(watch, dict) else None
    if value is False:
        return None, True
    if isinstance(value, str) and value.strip():
        return Path(value.strip()).expanduser(), True
    import platformdirs

    from liferaft.core import wsl

    folder = platformdirs.user_downloads_path()
    if not folder.is_dir() and wsl.is_wsl():
        return wsl.windows_downloads() or folder, False
    return folder, False


def downloads_to_watch(other_settings: dict[str, Any] | None = None) -> Path | None:
    """The downloads folder to look in (see :func:`downloads_folder`), or None: none is configured and this
    machine has none (nothing to say then), or ``[watch] downloads = false``. A configured folder is returned
    even when it is missing, so that :func:`list_downloads` says so; so is a missing one in WSL, where the
    browser's downloads are usually in Windows' folder and not finding that is worth a word."""
    from liferaft.core import wsl

    folder, configured = downloads_folder(other_settings)
    if folder is not None and not configured and not folder.is_dir() and not wsl.is_wsl():
        return None
    return folder


def downloads_seen(folder: Path) -> frozenset[tuple[str, int]]:
    """The names and modification times (ns) at the top of the downloads ``folder``, hidden files left out;
    nothing is opened. Compared between two looks, it says whether anything arrived or changed there."""
    seen: set[tuple[str, int]] = set()
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                with contextlib.suppress(OSError):  # gone while listed: it is simply not there
                    seen.add((entry.name, entry.stat(follow_symlinks=False).st_mtime_ns))
    except OSError:
        pass
    return frozenset(seen)


# --- moving a download in -------------------------------------------------------------------------------


class MoveError(OSError):
    """A download that cannot be moved in; the message is one line."""


def output_folder(root: Path, inventory: Inventory) -> Path:
    """The project's OUTPUT role folder (as found on disk), or ``root/OUTPUT`` when it has none."""
    names = sorted(name for name, role in inventory.role_folders.items() if role is Role.OUTPUT)
    if OUTPUT_FOLDER in names:
        return Path(root) / OUTPUT_FOLDER
    return Path(root) / (names[0] if names else OUTPUT_FOLDER)


def _candidates(name: str) -> Iterable[str]:
    yield name
    stem, ext = os.path.splitext(name)
    if not stem:
        stem, ext = name, ""
    n = 2
    while True:
        yield f"{stem}-{n}{ext}"
        n += 1


def move_into_output(root: Path, inventory: Inventory, download_path: Path, *, name: str | None = None,
                     notes: list[str] | None = None) -> Path:
    """Move ``download_path`` into the project's OUTPUT folder (made if missing) and return where it went.

    Never overwrites: a taken name gets ``-2``, ``-3``… before the extension. On the same filesystem it is a
    hard link then an unlink (atomic, and never over an existing file); across filesystems, or where hard links
    are refused (FAT, exFAT, some network shares: whatever the error), it is copied to a temporary file, fsynced,
    put in place, and only then is the source removed. Refuses anything that is not a regular file (a link, a
    folder, a pipe). ``name`` gives it another name in OUTPUT. The name written is valid everywhere
    (:func:`liferaft.core.names.portable_name`: ``Q1:Q2.png`` becomes ``Q1_Q2.png``, never an NTFS stream); when
    it had to change, one line saying so is added to ``notes``. Raises :class:`MoveError`.
    """
    source = Path(download_path)
    try:
        st = os.lstat(source)
    except FileNotFoundError:
        raise MoveError(f"{source} is gone") from None
    except OSError as exc:
        raise MoveError(f"cannot read {source}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(st.st_mode):
        raise MoveError(f"{source} is not a regular file (a link, a folder or a pipe): not moved")
    asked = name or source.name
    if name and ("/" in name or "\\" in name or not name.strip(" .")):  # a path on some system, or no name
        raise MoveError(f"{name!r} is not a file name")
    target_name = portable_name(asked)
    problem = name_problem(asked)
    if problem and notes is not None:
        notes.append(f"written as {target_name} ({asked} would not work everywhere: {problem})")
    folder = output_folder(root, inventory)
    from liferaft.core import storage

    try:  # Windows without long paths: refused before anything is made
        storage.check_path_length(folder / target_name, temp_in_folder=False)
    except storage.PathTooLong as exc:
        raise MoveError(str(exc)) from None
    try:
        folder.mkdir(exist_ok=True)
    except OSError as exc:
        raise MoveError(f"cannot create {folder}: {exc.strerror or exc}") from None
    if not folder.is_dir():
        raise MoveError(f"{folder} is not a folder")
    try:
        return _link_in(source, folder, target_name)
    except _NoLink:
        return _copy_in(source, folder, target_name, st)


class _NoLink(Exception):
    pass


def _link_in(source: Path, folder: Path, name: str) -> Path:
    from liferaft.core import storage

    for candidate in _candidates(name):
        target = folder / candidate
        try:
            storage.check_path_length(target, temp_in_folder=False)  # "-2" made it longer
        except storage.PathTooLong as exc:
            raise MoveError(str(exc)) from None
        try:
            os.link(source, target, follow_symlinks=False)
        except FileExistsError:
            continue
        except OSError:  # no hard links here (another filesystem; FAT, exFAT or a share: EINVAL and others)
            raise _NoLink from None
        storage.fsync_dir(folder)
        try:
            os.unlink(source)
        except OSError as exc:  # the file is safely in OUTPUT; the download stays where it was too
            raise MoveError(f"copied into {target}, but could not remove {source}: {exc.strerror or exc}") from None
        storage.fsync_dir(source.parent)
        return target
    raise AssertionError("unreachable")


def _copy_in(source: Path, folder: Path, name: str, st: os.stat_result) -> Path:
    import shutil

    from liferaft.core import storage

    fd, tmp = storage.new_temp_file(folder)
    try:
        with os.fdopen(fd, "wb") as out, open(source, "rb") as src:
            shutil.copyfileobj(src, out, 1 << 20)
            out.flush()
            os.fsync(out.fileno())
        with contextlib.suppress(OSError):
            os.utime(tmp, ns=(st.st_atime_ns, st.st_mtime_ns))
        for candidate in _candidates(name):
            target = folder / candidate
            try:
                storage.publish(tmp, target)
            except FileExistsError:
                continue
            break
        storage.fsync_dir(folder)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise MoveError(f"cannot copy {source.name} into {folder.name}/: {exc.strerror or exc}") from None
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    try:
        os.unlink(source)
    except OSError as exc:
        raise MoveError(f"copied into {target}, but could not remove {source}: {exc.strerror or exc}") from None
    return target
