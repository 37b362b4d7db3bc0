"""Liferaft's own state for one project: a small versioned JSON file in ``.liferaft/``.

The file is Liferaft's, never the user's. It is written atomically. A file that cannot be read, or that a
newer Liferaft wrote, is moved aside under a backup name (so nothing is lost) and a fresh state is used;
the caller gets a one-line warning to show.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from liferaft.core import storage
from liferaft.core.roles import Role
from liferaft.core.scan import STATE_DIRNAME

# Typing-only imports; `typing` itself costs ~2 ms at start-up, which `liferaft scan` is measured on.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

STATE_FILENAME = "state.json"
#: Version of the state file this Liferaft writes. Bump it with a migration in :func:`_migrate`.
STATE_VERSION = 1


class PreparedFrom:
    """Files a fixer made from one original: ``action`` (split, utf8, comma, sheet, drop_columns, name),
    the files written (relative paths, in upload order), and the original's size and mtime when they were
    made (a changed original makes them stale)."""

    __slots__ = ("action", "files", "source_mtime", "source_size", "superseded")

    def __init__(self, action: str, files: list[str], source_size: int, source_mtime: float,
                 superseded: list[str] | None = None) -> None:
        self.action = action
        self.files = files
        self.source_size = source_size
        self.source_mtime = source_mtime
        self.superseded: list[str] = superseded if superseded is not None else []
        """Files made from the same original by earlier fixes: never uploaded beside the current ones."""

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"action": self.action, "files": list(self.files), "source_size": self.source_size,
                                "source_mtime": self.source_mtime}
        if self.superseded:
            data["superseded"] = list(self.superseded)
        return data

    @classmethod
    def from_json(cls, data: object) -> PreparedFrom | None:
        if not isinstance(data, dict):
            return None
        action, files = data.get("action"), data.get("files")
        size, mtime = data.get("source_size"), data.get("source_mtime")
        if not isinstance(action, str) or not isinstance(files, list) or not all(isinstance(f, str) for f in files):
            return None
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            return None
        if not isinstance(mtime, int | float) or isinstance(mtime, bool) or not math.isfinite(mtime):
            return None
        superseded = data.get("superseded", [])
        if not isinstance(superseded, list) or not all(isinstance(f, str) for f in superseded):
            superseded = []
        return cls(action, list(files), size, float(mtime), list(superseded))


class ProjectState:
    """What Liferaft remembers about a project between runs: ``overrides`` are the roles the user chose
    for files, by relative path; ``prepared`` the upload-ready files made from an original, by the original's
    relative path; ``extra`` holds keys this version does not know, kept so they survive a save.
    """

    __slots__ = ("extra", "overrides", "prepared")

    def __init__(self, overrides: dict[str, Role] | None = None, extra: dict[str, Any] | None = None,
                 prepared: dict[str, PreparedFrom] | None = None) -> None:
        self.overrides: dict[str, Role] = overrides if overrides is not None else {}
        self.prepared: dict[str, PreparedFrom] = prepared if prepared is not None else {}
        self.extra: dict[str, Any] = extra if extra is not None else {}

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = dict(self.extra)
        data["version"] = STATE_VERSION
        data["overrides"] = {path: role.value for path, role in sorted(self.overrides.items())}
        if self.prepared:
            data["prepared"] = {path: record.to_json() for path, record in sorted(self.prepared.items())}
        return data


class LoadedState:
    """A loaded state, the warnings to show, and whether it may be saved (False when an unusable state
    file could not be moved aside: saving would destroy it)."""

    __slots__ = ("state", "warnings", "writable")

    def __init__(self, state: ProjectState, warnings: list[str] | None = None, writable: bool = True) -> None:
        self.state = state
        self.warnings: list[str] = warnings if warnings is not None else []
        self.writable = writable


def state_dir(root: Path) -> Path:
    return Path(root) / STATE_DIRNAME


def state_path(root: Path) -> Path:
    return state_dir(root) / STATE_FILENAME


_Unusable = storage.UnusableFile


def _parse(raw: bytes) -> ProjectState:
    data, version = storage.load_versioned_json(raw, STATE_VERSION, "state version")
    data = _migrate(data, version)
    overrides: dict[str, Role] = {}
    raw_overrides = data.pop("overrides", {})
    if not isinstance(raw_overrides, dict):
        raise _Unusable("its role overrides are not a mapping")
    for path, value in raw_overrides.items():
        try:
            overrides[str(path)] = Role(value)
        except ValueError:
            raise _Unusable(f"it names an unknown role {value!r}") from None
    data.pop("version", None)
    prepared: dict[str, PreparedFrom] = {}
    raw_prepared = data.pop("prepared", {})
    if isinstance(raw_prepared, dict):
        for path, value in raw_prepared.items():
            record = PreparedFrom.from_json(value)
            if record is not None:  # a damaged entry only loses that entry: the files themselves stay
                prepared[str(path)] = record
    return ProjectState(overrides=overrides, extra=data, prepared=prepared)


def _migrate(data: dict[str, Any], version: int) -> dict[str, Any]:
    """Bring an older state file up to :data:`STATE_VERSION` (there is only version 1 so far)."""
    return data


def load_state(root: Path) -> LoadedState:
    """Read the project's state; never raises for a bad file (see the module docstring)."""
    path = state_path(root)
    storage.sweep_temp_files(path.parent)
    try:
        raw = storage.read_small_file(path)
    except FileNotFoundError:
        return LoadedState(ProjectState())
    except storage.NotARegularFile:
        return LoadedState(
            ProjectState(),
            [f"{STATE_DIRNAME}/{STATE_FILENAME} is not a regular file; settings will not be saved"],
            writable=False,
        )
    except OSError as exc:
        return LoadedState(
            ProjectState(),
            [f"cannot read {STATE_DIRNAME}/{STATE_FILENAME} ({exc.strerror or exc}); using defaults for now"],
        )
    try:
        return LoadedState(_parse(raw))
    except _Unusable as problem:
        try:
            backup = storage.move_aside(path, problem)
        except OSError as exc:
            return LoadedState(
                ProjectState(),
                [f"{STATE_DIRNAME}/{STATE_FILENAME} is unusable: {problem}; could not move it aside "
                 f"({exc.strerror or exc}), so changes will not be saved"],
                writable=False,
            )
        rel_backup = f"{STATE_DIRNAME}/{backup.name}"
        return LoadedState(
            ProjectState(),
            [f"{STATE_DIRNAME}/{STATE_FILENAME} was unusable: {problem}. "
             f"It is kept as {rel_backup}; starting with fresh settings"],
        )


def save_state(root: Path, state: ProjectState) -> None:
    """Write the project's state atomically (raises OSError if the folder is not writable).

    This overwrites whatever another process saved meanwhile: to change the state, use :func:`update_state`.
    """
    # ASCII escapes keep names with undecodable bytes (surrogate escapes) intact through a round trip.
    text = json.dumps(state.to_json(), indent=2, ensure_ascii=True) + "\n"
    storage.write_text(state_path(root), text)


def update_state(root: Path, change: Callable[[ProjectState], object]) -> ProjectState:
    """Apply ``change`` to the state as it is on disk now and save it; return the state as saved.

    The file is read again and written under the state lock (:func:`liferaft.core.storage.locked`), so changes
    made meanwhile by another `liferaft` (twelve `prepare` at once, a CLI run while the workbench is open) are
    kept: a caller never writes back a copy it read earlier. Raises OSError when it cannot be saved
    (PermissionError when an unusable state file could not be moved aside); nothing is written then.
    """
    with storage.locked(state_path(root)):
        loaded = load_state(root)
        if not loaded.writable:
            raise PermissionError(loaded.warnings[0] if loaded.warnings else
                                  f"{STATE_DIRNAME}/{STATE_FILENAME} cannot be written")
        change(loaded.state)
        save_state(root, loaded.state)
    return loaded.state


def peek_state(root: Path) -> ProjectState | None:
    """The state on disk now (empty when there is no file), or None when it cannot be read or used. Unlike
    :func:`load_state` it changes nothing (an unusable file is left where it is): for refreshing a copy."""
    try:
        return _parse(storage.read_small_file(state_path(root)))
    except FileNotFoundError:
        return ProjectState()
    except (OSError, _Unusable):
        return None
