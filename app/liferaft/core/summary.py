"""What the project says about the analysis: its recent activity (the newest change that was not Liferaft's own)."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from liferaft.core.roles import Role
from liferaft.core.scan import FileRecord, Inventory


class SessionState(StrEnum):
    ACTIVE = "active"
    IDLE = "idle"
    LIKELY_EXPIRED = "likely expired"
    UNKNOWN = "unknown"


#: Where `liferaft replay` writes what a rerun script makes, inside OUTPUT: ``OUTPUT/replayed/<stamp>/``.
REPLAYED_DIR = "replayed"
#: Folders Liferaft writes into, inside a role folder: saved prompts and support reports (RESTART/prompts/), what
#: an export import recovered (CODE/recovered/, OUTPUT/recovered/), what a replay made (OUTPUT/replayed/). Files
#: there say nothing about the chat.
OWN_FOLDERS: dict[Role, tuple[str, ...]] = {Role.RESTART: ("prompts",), Role.CODE: ("recovered",),
                                            Role.OUTPUT: ("recovered", REPLAYED_DIR)}


def written_by_liferaft(path: str, role_folders: Mapping[str, Role]) -> bool:
    """Whether ``path`` (relative, ``/`` separators) is in one of the folders Liferaft writes into."""
    top, _, rest = path.partition("/")
    role = role_folders.get(top)
    own = OWN_FOLDERS.get(role, ()) if role is not None else ()
    return any(rest.startswith(folder + "/") for folder in own)


def replayed(path: str, role_folders: Mapping[str, Role]) -> bool:
    """Whether ``path`` (relative, ``/`` separators) is in an OUTPUT folder's ``replayed/``: a replay's candidates,
    not the user's outputs until accepted (they never make a missing output present)."""
    top, _, rest = path.partition("/")
    return role_folders.get(top) is Role.OUTPUT and rest.startswith(REPLAYED_DIR + "/")


def user_outputs(inventory: Inventory) -> list[FileRecord]:
    """The project's outputs: its OUTPUT files, leaving out what a replay wrote under ``OUTPUT/replayed/``."""
    folders = inventory.role_folders
    return [record for record in inventory.files if record.role is Role.OUTPUT
            and not replayed(record.path, folders)]


def last_change(inventory: Inventory) -> FileRecord | None:
    """The most recently changed file, leaving out what Liferaft itself wrote (a saved prompt is no sign the
    chat was used)."""
    folders = inventory.role_folders
    return max((record for record in inventory.files if not written_by_liferaft(record.path, folders)),
               key=lambda record: record.mtime, default=None)
