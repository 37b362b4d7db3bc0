"""A project: an analysis folder, its inventory, and what Liferaft remembers about it."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from liferaft.core import storage
from liferaft.core.restart_note import NOTE_FILENAME, render_note
from liferaft.core.roles import FOLDER_ROLES, Role, role_for_folder
from liferaft.core.scan import Inventory, scan
from liferaft.core.state import PreparedFrom, ProjectState, load_state, peek_state, update_state


class ProjectError(Exception):
    """A project folder that cannot be used; the message is one line for the user."""


def check_folder(path: Path) -> Path:
    """Return ``path`` made absolute if it is a readable folder, else raise :class:`ProjectError`."""
    if str(path) == "":
        raise ProjectError("the folder name is empty: give a folder, or leave it out for the current one")
    path = Path(path).expanduser()
    shown = str(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        raise ProjectError(f"no such folder: {shown} (check the path, or create it with `liferaft init`)") from None
    except NotADirectoryError:
        raise ProjectError(f"not a folder: {shown}") from None
    except OSError as exc:
        raise ProjectError(f"cannot open {shown}: {exc.strerror or exc}") from None
    if not path.is_dir():
        raise ProjectError(f"{shown} is a file, not a folder: give the analysis folder that holds it")
    try:
        with os.scandir(path) as it:
            next(it, None)
    except OSError as exc:
        raise ProjectError(f"cannot read the folder {shown}: {exc.strerror or exc}") from None
    del st
    return Path(os.path.abspath(path))  # also folds "a/../b", so names and titles read right


class Project:
    """An opened project. :meth:`rescan` refreshes :attr:`inventory` from disk.

    :attr:`state` is a copy of ``.liferaft/state.json``: every change is made to the file as it is on disk at
    that moment, under its lock (:func:`liferaft.core.state.update_state`), and the copy is then replaced by
    what was saved, so what another `liferaft` saved meanwhile is neither lost nor hidden.
    """

    __slots__ = ("_generation", "inventory", "root", "state", "warnings", "writable_state")

    def __init__(self, root: Path, state: ProjectState, inventory: Inventory, warnings: list[str] | None = None,
                 writable_state: bool = True) -> None:
        self.root = root
        self.state = state
        self.inventory = inventory
        self.warnings: list[str] = warnings if warnings is not None else []
        self.writable_state = writable_state
        self._generation = 0  # bumped each time this copy of the state is replaced by one just saved

    @property
    def name(self) -> str:
        return self.root.name or str(self.root)

    def rescan(self, *, give_way: Callable[[], object] | None = None) -> Inventory:
        """Read the folder again; raises :class:`ProjectError` if the folder itself is gone or unreadable. When
        nothing changed (the same files, notes and state), the inventory on hand is kept, the same object: what
        was made of it (its checks, its prompt) still holds. ``give_way``: see :func:`scan`."""
        check_folder(self.root)
        state_before = self.state.to_json()
        self.refresh_state()
        fresh = scan(self.root, self.state.overrides, give_way=give_way)
        old = self.inventory
        if fresh.files == old.files and fresh.notes == old.notes and fresh.role_folders == old.role_folders \
                and self.state.to_json() == state_before:
            return old
        self.inventory = fresh
        return fresh

    def refresh_state(self) -> None:
        """Pick up the state as another process may have saved it (a `liferaft prepare` while the workbench
        is open). Changes nothing on disk; a state file that cannot be read or used leaves the copy as it is.
        The inventory's roles follow at the next scan."""
        if not self.writable_state:
            return
        generation = self._generation
        fresh = peek_state(self.root)
        if fresh is not None and generation == self._generation:  # not over a copy saved meanwhile
            self.state = fresh

    def _adopt(self, state: ProjectState) -> None:
        """Take ``state``, just saved, as the copy; files whose override changed (here or in another process)
        get their new role in the inventory."""
        old, new = self.state.overrides, state.overrides
        self.state = state
        self._generation += 1
        changed = {path for path in old.keys() | new.keys() if old.get(path) != new.get(path)}
        if not changed:
            return
        files = self.inventory.files
        for index, record in enumerate(files):
            if record.path in changed:
                role = new.get(record.path)
                new_role, guessed = (role, False) if role is not None else self.inventory.automatic_role(record)
                files[index] = record._replace(role=new_role, role_guessed=guessed)
        self.inventory.records_changed()

    def set_role(self, rel_path: str, role: Role | None) -> None:
        """Override a file's role (None goes back to its folder's role or a guess), save it, and update the
        inventory. Raises OSError when the state cannot be saved; nothing changes then."""
        if not self.writable_state:
            raise PermissionError("Liferaft's state file is unusable and could not be moved aside")

        def change(state: ProjectState) -> None:
            if role is None:
                state.overrides.pop(rel_path, None)
            else:
                state.overrides[rel_path] = role

        self._adopt(update_state(self.root, change))

    def record_prepared(self, original: str, action: str, files: list[str],
                        source: tuple[int, float] | None = None) -> None:
        """Remember that ``files`` (relative paths) were made from ``original`` to be uploaded instead of it.
        ``source`` is the original's (size, mtime) when the fix started (so a change during the fix shows as
        stale); default: as it is now. Files an earlier fix made from it are kept as superseded, so they are
        never uploaded beside the new ones. Raises OSError when the state cannot be saved; nothing changes then."""
        if not self.writable_state:
            raise PermissionError("Liferaft's state file is unusable and could not be moved aside")
        if source is None:
            st = os.stat(self.root / original)
            source = (st.st_size, st.st_mtime)
        size, mtime = source

        def change(state: ProjectState) -> None:
            previous = state.prepared.get(original)  # as saved now, by whichever process made it
            older: list[str] = []
            if previous is not None:
                for path in [*previous.superseded, *previous.files]:
                    if path not in files and path not in older:
                        older.append(path)
            state.prepared[original] = PreparedFrom(action, list(files), size, mtime, older)

        self._adopt(update_state(self.root, change))


def record_prepared(root: Path, original: Path, action: str, written: list[Path],
                    source: tuple[int, float] | None = None) -> str | None:
    """Remember prepared files for the project holding ``original`` (the CLI's way in). Returns a warning
    when the state could not be saved (the files are written all the same), else None."""
    try:
        project = Project(root, ProjectState(), Inventory(root))  # the state is read under its lock when saved
        base = Path(os.path.abspath(root))
        rel = Path(os.path.abspath(original)).relative_to(base).as_posix()
        files = [Path(os.path.abspath(path)).relative_to(base).as_posix() for path in written]
        project.record_prepared(rel, action, files, source)
    except (OSError, ValueError) as exc:
        return f"could not remember the prepared files in {root}/.liferaft ({exc}); the composer will list them " \
               "as separate files"
    return None


class ProjectLoader:
    """Opens a project in a background thread, so the scan overlaps whatever the caller does meanwhile
    (the workbench starts the scan before it imports Textual)."""

    def __init__(self, path: Path, *, give_way: Callable[[], object] | None = None) -> None:
        import threading

        self.path = Path(path)
        self._give_way = give_way
        self._result: Project | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="liferaft-open", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._result = open_project(self.path, give_way=self._give_way)
            self._result.inventory.grouped()  # made here, not on the UI thread that shows it
        except BaseException as exc:  # handed to the caller of result()
            self._error = exc

    @property
    def done(self) -> bool:
        return not self._thread.is_alive()

    def result(self) -> Project:
        """Wait for the project; raises what opening it raised (:class:`ProjectError` for a bad folder)."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result


def open_project(path: Path, *, give_way: Callable[[], object] | None = None) -> Project:
    """Open the folder at ``path``: validate it, load the state, scan it (``give_way``: see :func:`scan`).
    Raises :class:`ProjectError`."""
    root = check_folder(path)
    loaded = load_state(root)
    inventory = scan(root, loaded.state.overrides, give_way=give_way)
    return Project(root, loaded.state, inventory, list(loaded.warnings), loaded.writable)


class InitResult:
    """What `liferaft init` created and what it found already there."""

    __slots__ = ("created", "kept")

    def __init__(self) -> None:
        self.created: list[str] = []
        self.kept: list[str] = []


def init_project(path: Path, title: str | None = None) -> InitResult:
    """Create the four role folders and a restart-note template, never overwriting anything.

    A folder that already plays a role under another name (``data/`` for SOURCE, say) is kept and no
    second folder is made for that role. A missing ``path`` is created if its parent exists.
    """
    if str(path) == "":
        raise ProjectError("the folder name is empty: give a folder, or leave it out for the current one")
    path = Path(os.path.abspath(Path(path).expanduser()))
    made: list[Path] = []  # the folders this call created, taken back (when still empty) if it fails
    try:
        return _init_project(path, title, made)
    except BaseException:
        import contextlib

        for folder in reversed(made):
            with contextlib.suppress(OSError):
                os.rmdir(folder)  # only ever succeeds on an empty folder
        raise


def _init_project(path: Path, title: str | None, made: list[Path]) -> InitResult:
    result = InitResult()
    if not path.exists():
        if not path.parent.is_dir():
            raise ProjectError(f"cannot create {path}: its parent folder does not exist")
        try:
            path.mkdir()
        except OSError as exc:
            raise ProjectError(f"cannot create {path}: {exc.strerror or exc}") from None
        made.append(path)
        result.created.append(str(path) + "/")
    root = check_folder(path)
    existing: dict[Role, str] = {}
    for entry in sorted(os.scandir(root), key=lambda e: e.name):
        # A link to a folder counts: the user set it up that way on purpose.
        if entry.is_dir():
            role = role_for_folder(entry.name)
            if role is not None:
                existing.setdefault(role, entry.name)
    for role in FOLDER_ROLES:
        if role not in existing and os.path.lexists(root / role.folder):
            raise ProjectError(
                f"{root / role.folder} exists but is not a folder; rename it, then run `liferaft init` again "
                "(nothing was created)"
            )
    try:
        for role in FOLDER_ROLES:
            if role in existing:
                result.kept.append(existing[role] + "/")
                continue
            (root / role.folder).mkdir()
            made.append(root / role.folder)
            existing[role] = role.folder
            result.created.append(role.folder + "/")
        note = root / existing[Role.RESTART] / NOTE_FILENAME
        rel_note = f"{existing[Role.RESTART]}/{NOTE_FILENAME}"
        if os.path.lexists(note):
            result.kept.append(rel_note)
        else:
            storage.write_text(note, render_note(title or root.name), overwrite=False)
            result.created.append(rel_note)
    except FileExistsError as exc:
        raise ProjectError(f"{exc.filename or exc} appeared while initialising; nothing was overwritten") from None
    except OSError as exc:
        undone = " (the folders it had made are removed again)" if made else ""
        raise ProjectError(f"cannot write in {root}: {exc.strerror or exc}{undone}") from None
    return result
