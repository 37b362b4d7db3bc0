"""One project's session clock as a front end keeps it while it runs (the workbench): the inactivity window
(read once from the config), the activity log as last read or written, and the newest file of each scan.

The panes and screens only show what :meth:`SessionTracker.clock` says; the command line reads the same things
once (:func:`liferaft.core.diagnose.clock.project_clock`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from liferaft.core.diagnose.clock import (
    ActivityLog,
    SessionClock,
    SessionWindow,
    load_activity,
    session_clock,
    session_window,
)

if TYPE_CHECKING:
    from liferaft.core.scan import FileRecord, Inventory

#: Says a warning: (title, one line) — "Settings" for the window, "Session clock" for the activity log.
Warn = Callable[[str, str], None]


class SessionTracker:
    """The session clock's inputs for one running front end. Not thread-safe: use it from one thread."""

    def __init__(self, settings_other: Mapping[str, Any] | None = None, *, where: str = "config",
                 warn: Warn | None = None) -> None:
        self._settings_other = settings_other
        self._where = where
        self._warn = warn
        self._window: SessionWindow | None = None
        self._root: Path | None = None
        self.activity: ActivityLog | None = None
        """The project's activity log as last read or written; None until the first clock."""
        # (of which inventory, its newest file), for the last two: the one on show and the one a scan just made,
        # both asked for while a burst of files is shown (one alone, each evicted the other: every file looked
        # at again on the UI thread, per redraw).
        self._newest: list[tuple[Inventory, FileRecord | None]] = []

    def _say(self, title: str, warnings: list[str]) -> None:
        if self._warn is not None:
            for warning in warnings:
                self._warn(title, warning)

    @property
    def window(self) -> SessionWindow:
        """The inactivity window: the vendor's, or ``[session] inactivity_hours`` from the config (read once)."""
        if self._window is None:
            self._window, warnings = session_window(self._settings_other, self._where)
            self._say("Settings", warnings)
        return self._window

    def set_activity(self, log: ActivityLog) -> None:
        """The log as just written (by "I just used the chat", or the watcher)."""
        self.activity = log

    def _load_activity(self, root: Path) -> ActivityLog:
        if self.activity is None or self._root != root:
            self._root = root
            self.activity = load_activity(root)
            self._say("Session clock", list(self.activity.warnings))
        return self.activity

    def newest_change(self, inventory: Inventory) -> FileRecord | None:
        """The file of ``inventory`` changed last (see :func:`liferaft.core.summary.last_change`), found once per
        scan, not per redraw: it looks at every file. Safe to call first from the thread that scanned, so the
        thread showing the clock finds it made."""
        from liferaft.core.summary import last_change

        for known, newest in list(self._newest):
            if known is inventory:
                return newest
        found = last_change(inventory)
        self._newest = [*self._newest[-1:], (inventory, found)]
        return found

    def clock(self, inventory: Inventory | None, now: float) -> SessionClock:
        """The session clock for the project ``inventory`` lists (None: nothing known yet) at ``now``."""
        if inventory is None:
            return session_clock((), now, self.window.hours)
        newest = self.newest_change(inventory)
        log = self._load_activity(inventory.root)
        return session_clock(log.events, now, self.window.hours,
                             (newest.mtime, newest.path) if newest is not None else None)


__all__ = ["SessionTracker", "Warn"]
