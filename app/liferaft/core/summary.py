"""What the project says about the analysis: recent activity, the files a new chat needs, and a summary
that can be pasted into a new chat."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from liferaft.core.restart_note import NOTE_FILENAME
from liferaft.core.roles import Role
from liferaft.core.scan import FileRecord, Inventory
from liferaft.core.units import format_age, format_size


class SessionState(StrEnum):
    ACTIVE = "active"
    IDLE = "idle"
    LIKELY_EXPIRED = "likely expired"
    UNKNOWN = "unknown"


#: Below this much idle time the session counts as active (hours).
ACTIVE_HOURS = 1.0


@dataclass(frozen=True, slots=True)
class SessionEstimate:
    state: SessionState
    idle_hours: float | None
    """Hours since the newest change in the project folder; None for an empty project."""
    window_hours: float
    """The vendor's inactivity window after which the sandbox is destroyed."""

    @property
    def used_fraction(self) -> float:
        """How much of the window has passed, 0..1."""
        if self.idle_hours is None:
            return 0.0
        return max(0.0, min(1.0, self.idle_hours / self.window_hours))


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


def estimate_session(inventory: Inventory, now: float, window_hours: float) -> SessionEstimate:
    """Guess the chat sandbox's state from the folder's activity: work saved here means the chat was used.

    This is an estimate from the folder alone; the chat may have been used without saving anything.
    """
    newest = last_change(inventory)
    if newest is None:
        return SessionEstimate(SessionState.UNKNOWN, None, window_hours)
    idle = max(0.0, (now - newest.mtime) / 3600)
    if idle < ACTIVE_HOURS:
        state = SessionState.ACTIVE
    elif idle < window_hours:
        state = SessionState.IDLE
    else:
        state = SessionState.LIKELY_EXPIRED
    return SessionEstimate(state, idle, window_hours)


def upload_list(inventory: Inventory) -> list[FileRecord]:
    """The files a new chat needs, in the order to upload them: SOURCE files, largest last (so a failure
    on a big file does not hold up the small ones)."""
    return sorted(inventory.by_role()[Role.SOURCE], key=lambda record: (record.size, record.path))


def project_brief(name: str, inventory: Inventory, now: float, uploads: list[FileRecord] | None = None) -> str:
    """A plain-text summary of the project for a new chat: what to upload (``uploads``, default the SOURCE
    files), what was produced, where the restart note is."""
    groups = inventory.by_role()
    lines = [f"Project: {name}", ""]
    sources = upload_list(inventory) if uploads is None else uploads
    lines.append("Files to upload (original data):" if sources else "Files to upload: none found in SOURCE/.")
    lines += [f"- {record.name} ({format_size(record.size)}, {record.kind})" for record in sources]
    outputs = groups[Role.OUTPUT]
    lines += ["", "Outputs produced so far:" if outputs else "Outputs produced so far: none saved in OUTPUT/."]
    lines += [f"- {record.name} (saved {format_age(record.mtime, now)})" for record in outputs]
    code = groups[Role.CODE]
    if code:
        lines += ["", "Saved code:"] + [f"- {record.path}" for record in code]
    notes = [record for record in groups[Role.RESTART] if record.name == NOTE_FILENAME]
    lines += ["", f"Restart note: {notes[0].path}" if notes else "Restart note: none yet (liferaft init makes one)."]
    return "\n".join(lines) + "\n"
