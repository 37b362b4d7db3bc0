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


#: Folders Liferaft writes into, inside a role folder: saved prompts and support reports (RESTART/prompts/), what
#: an export import recovered (CODE/recovered/, OUTPUT/recovered/). Files there say nothing about the chat.
OWN_FOLDERS: dict[Role, str] = {Role.RESTART: "prompts", Role.CODE: "recovered", Role.OUTPUT: "recovered"}


def written_by_liferaft(path: str, role_folders: Mapping[str, Role]) -> bool:
    """Whether ``path`` (relative, ``/`` separators) is in one of the folders Liferaft writes into."""
    top, _, rest = path.partition("/")
    role = role_folders.get(top)
    own = OWN_FOLDERS.get(role) if role is not None else None
    return own is not None and rest.startswith(own + "/")


def last_change(inventory: Inventory) -> FileRecord | None:
    """The most recently changed file, leaving out what Liferaft itself wrote (a saved prompt is no sign the
    chat was used)."""
    folders = inventory.role_folders
    return max((record for record in inventory.files if not written_by_liferaft(record.path, folders)),
               key=lambda record: record.mtime, default=None)
