"""The session clock: when the project was last active, and how much of the sandbox's inactivity window is left.

The chat's sandbox is destroyed after a stretch of inactivity (the vendor's figure in ``data/vendor.toml``, or
``[session] inactivity_hours`` in the user's config). Liferaft cannot see the chat, so it keeps its own log of
signs of life in ``<project>/.liferaft/activity.json``: ``folder`` (the project folder changed while the
workbench watched it) and ``chat`` (the user said they just used the chat). File modification times count too.
The newest of them starts the clock: ACTIVE for a while (``[clock] idle_after_minutes`` in ``data/triage.toml``),
then IDLE, then LIKELY EXPIRED once the window has passed; it warns when ``[clock] warn_hours_left`` remain.

The log is small (the newest :data:`MAX_EVENTS` events), written atomically, and a damaged or newer-version
file is kept aside under a backup name and reported, never a crash.
"""

from __future__ import annotations

import contextlib
import math
import threading
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from liferaft.core import storage
from liferaft.core.scan import STATE_DIRNAME
from liferaft.core.summary import SessionState

#: The triage data (in the package); the clock reads only its ``[clock]`` table.
DATA_FILE = "data/triage.toml"

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

ACTIVITY_FILENAME = "activity.json"
#: Version of the activity file this Liferaft writes.
ACTIVITY_VERSION = 1
#: The kinds of activity recorded; "file" (a modification time) is merged in, never stored.
KINDS = ("folder", "chat")
#: The log keeps this many events, the newest.
MAX_EVENTS = 200
#: One read-append-write at a time in this process (the key and the watcher may record at once).
_RECORDING = threading.Lock()
#: An event further than this in the future (a clock that was wrong, then fixed) is not trusted (seconds).
FUTURE_SLACK = 300.0


# --- Liferaft's own small JSON files ------------------------------------------------------------------------


# --- the activity log ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Activity:
    kind: str
    """"folder" or "chat"."""
    time: float
    """Seconds since the epoch."""
    detail: str = ""
    """For "folder", a path that changed."""

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind, "time": self.time}
        if self.detail:
            data["detail"] = self.detail
        return data

    @classmethod
    def from_json(cls, data: object) -> Activity | None:
        if not isinstance(data, dict):
            return None
        kind, when, detail = data.get("kind"), data.get("time"), data.get("detail", "")
        if kind not in KINDS or not isinstance(when, int | float) or isinstance(when, bool):
            return None
        if not math.isfinite(when) or when < 0:
            return None
        return cls(str(kind), float(when), detail if isinstance(detail, str) else "")


@dataclass(slots=True)
class ActivityLog:
    events: list[Activity] = field(default_factory=list)
    """Oldest first."""
    warnings: list[str] = field(default_factory=list)
    """One line each, to show the user (a damaged file kept aside, say)."""
    writable: bool = True
    """False when the file is there but could not be read or moved aside: saving would destroy it."""

    def last(self, kind: str | None = None) -> Activity | None:
        return next((event for event in reversed(self.events) if kind is None or event.kind == kind), None)


def activity_path(root: Path) -> Path:
    return Path(root) / STATE_DIRNAME / ACTIVITY_FILENAME


def load_activity(root: Path) -> ActivityLog:
    """The project's activity log; never raises (see :func:`load_own_json`)."""
    data, warnings, writable = storage.load_own_json(activity_path(root), ACTIVITY_VERSION, "activity log")
    events: list[Activity] = []
    if data is not None:
        raw = data.get("events", [])
        for item in raw if isinstance(raw, list) else []:
            event = Activity.from_json(item)
            if event is not None:  # a damaged entry loses only itself
                events.append(event)
    events.sort(key=lambda event: event.time)
    return ActivityLog(events[-MAX_EVENTS:], warnings, writable)


def save_activity(root: Path, events: Iterable[Activity]) -> None:
    """Write the newest :data:`MAX_EVENTS` events atomically (raises OSError when it cannot)."""
    kept = sorted(events, key=lambda event: event.time)[-MAX_EVENTS:]
    events_json = [event.to_json() for event in kept]
    storage.save_own_json(activity_path(root), {"version": ACTIVITY_VERSION, "events": events_json})


def record_activity(root: Path, kind: str, now: float, detail: str = "", *, min_gap: float = 0.0) -> ActivityLog:
    """Add one event of ``kind`` at ``now`` to the log and save it; return the log as saved.

    With ``min_gap``, nothing is written when the newest event of that kind is less than ``min_gap`` seconds
    old (the watcher reports bursts). Raises ValueError for an unknown kind, OSError when the log cannot be
    written (including a damaged one that could not be moved aside); the log's warnings say what happened
    to a damaged file that could.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown activity kind {kind!r} (known: {', '.join(KINDS)})")
    with _RECORDING, storage.locked(activity_path(root)):  # another process may be recording too
        return _record(root, kind, now, detail, min_gap)


def _record(root: Path, kind: str, now: float, detail: str, min_gap: float) -> ActivityLog:
    log = load_activity(root)
    if not log.writable:
        raise OSError(log.warnings[0] if log.warnings else "the activity log cannot be written")
    last = log.last(kind)
    if min_gap and last is not None and 0 <= now - last.time < min_gap:
        return log
    log.events.append(Activity(kind, float(now), detail))
    log.events.sort(key=lambda event: event.time)
    del log.events[:-MAX_EVENTS]
    save_activity(root, log.events)
    return log


# --- the window ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SessionWindow:
    hours: float
    """Hours of inactivity after which the sandbox is destroyed."""
    source: str
    """Where the figure comes from: the vendor data (with its date) or the user's config."""


def session_window(settings_other: Mapping[str, Any] | None = None, where: str = "config") -> tuple[SessionWindow,
                                                                                                    list[str]]:
    """The inactivity window: the vendor's, or ``[session] inactivity_hours`` from the config (``settings_other``
    is :attr:`Settings.other`), and a one-line warning for a value refused."""
    from liferaft.core.vendor import session_facts, show_number

    facts = session_facts()
    vendor = SessionWindow(facts.inactivity_hours, f"vendor data, checked {facts.checked}")
    table = (settings_other or {}).get("session")
    if table is None:
        return vendor, []
    if not isinstance(table, Mapping):
        return vendor, [f"{where}: [session] must be a table; using the vendor's {show_number(vendor.hours)} h"]
    value = table.get("inactivity_hours")
    if value is None:
        return vendor, []
    number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
    if number is None or not math.isfinite(number) or not 0 < number <= 24 * 30:
        return vendor, [f"{where}: session.inactivity_hours must be a number of hours above 0 (at most 720), not "
                        f"{value!r}; using the vendor's {show_number(vendor.hours)} h"]
    return SessionWindow(float(number), "your config"), []


# --- the clock ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SessionClock:
    """Where the project stands against the window at ``now``."""

    state: SessionState
    window_hours: float
    now: float
    last_time: float | None
    """When the project was last active; None when nothing says (no events, no files)."""
    last_kind: str | None = None
    """What said so: "chat", "folder" or "file"."""
    last_detail: str = ""
    """The path that changed, for "folder" and "file"."""
    active_hours: float = 0.5
    """How long after the last activity it still counts as ACTIVE."""
    warn_hours_left: float = 3.0
    """From this many hours left on, :attr:`warning` says to download the outputs."""

    @property
    def idle_hours(self) -> float | None:
        if self.last_time is None:
            return None
        return max(0.0, (self.now - self.last_time) / 3600)

    @property
    def used_fraction(self) -> float:
        """How much of the window has passed, 0..1."""
        idle = self.idle_hours
        return 0.0 if idle is None else max(0.0, min(1.0, idle / self.window_hours))

    @property
    def remaining_hours(self) -> float | None:
        idle = self.idle_hours
        return None if idle is None else max(0.0, self.window_hours - idle)

    @property
    def idle_from(self) -> float | None:
        """When it turns (or turned) IDLE."""
        return None if self.last_time is None else self.last_time + min(self.active_hours, self.window_hours) * 3600

    @property
    def expires_at(self) -> float | None:
        """When it turns (or turned) LIKELY EXPIRED."""
        return None if self.last_time is None else self.last_time + self.window_hours * 3600

    @property
    def near_end(self) -> bool:
        left = self.remaining_hours
        return self.state is SessionState.IDLE and left is not None and left <= self.warn_hours_left

    @property
    def warning(self) -> str:
        """What to do about it now, or "" when nothing needs doing."""
        if self.state is SessionState.LIKELY_EXPIRED:
            return ("The chat's sandbox is probably gone: its files, variables and links with it. Re-upload the "
                    "files and paste the rerun prompt.")
        if self.near_end:
            left = self.remaining_hours or 0.0
            return f"About {_hours(left)} left: download your outputs now and save the prompt."
        return ""

    def last_said(self) -> str:
        """What the last sign of life was, in a few words."""
        if self.last_kind == "chat":
            return "you said you used the chat"
        if self.last_kind == "folder":
            return f"the folder changed ({self.last_detail})" if self.last_detail else "the folder changed"
        if self.last_kind == "file":
            return f"{self.last_detail} was saved" if self.last_detail else "a file was saved"
        return "nothing yet"

    def to_json(self) -> dict[str, Any]:
        return {"state": self.state.value, "window_hours": self.window_hours, "last_active": self.last_time,
                "last_kind": self.last_kind, "last_detail": self.last_detail or None,
                "idle_hours": None if self.idle_hours is None else round(self.idle_hours, 3),
                "used_fraction": round(self.used_fraction, 4), "warning": self.warning or None}


def _hours(hours: float) -> str:
    if hours < 1:
        return f"{max(1, round(hours * 60))} min"
    return f"{hours:.1f} h"


@dataclass(frozen=True, slots=True)
class ClockSettings:
    idle_after_minutes: float
    warn_hours_left: float


def clock_settings(data: Mapping[str, Any]) -> ClockSettings:
    """The ``[clock]`` table of the parsed triage data."""
    clock_table = data.get("clock", {})
    if not isinstance(clock_table, Mapping):
        raise ValueError("[clock] must be a table")
    numbers = {}
    for key, default in (("idle_after_minutes", 30), ("warn_hours_left", 3)):
        value = clock_table.get(key, default)
        if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
            raise ValueError(f"clock.{key} must be a number of at least 0")
        numbers[key] = float(value)
    return ClockSettings(**numbers)


@cache
def load_clock_settings() -> ClockSettings:
    """Only the session clock's rules: the workbench draws the clock in its first frame, and the rest of the
    knowledge (symptoms, patterns) is not needed until a diagnosis (~30 ms to read and check)."""
    import re

    text = resources.files("liferaft.core").joinpath(DATA_FILE).read_text(encoding="utf-8")
    # The [clock] table alone is read (the file is ~1,300 lines; the first frame waits for this); the whole
    # file when the table cannot be cut out cleanly.
    head = re.search(r"(?m)^\[clock\][ \t]*$", text)
    if head is not None:
        tail = re.search(r"(?m)^\[", text[head.end():])
        section = text[head.start():head.end() + (tail.start() if tail else len(text))]
        with contextlib.suppress(tomllib.TOMLDecodeError, ValueError):
            return clock_settings(tomllib.loads(section))
    try:
        return clock_settings(tomllib.loads(text))
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"not valid TOML: {exc}") from None


def clock_rules() -> tuple[float, float]:
    """(hours it stays ACTIVE, hours left when it warns), from ``[clock]`` in the triage data."""
    rules = load_clock_settings()
    return rules.idle_after_minutes / 60, rules.warn_hours_left


def session_clock(events: Iterable[Activity], now: float, window_hours: float,
                  newest_file: tuple[float, str] | None = None, *, active_hours: float | None = None,
                  warn_hours_left: float | None = None) -> SessionClock:
    """The clock at ``now`` from the logged ``events`` and the newest file's ``(mtime, path)``; the two rules
    default to :func:`clock_rules`.

    Events far in the future (beyond :data:`FUTURE_SLACK`) are ignored: a clock set wrong once must not keep
    the session ACTIVE for ever. A file's time in the future counts as now.
    """
    if window_hours <= 0:
        raise ValueError("the window must be longer than 0 hours")
    if active_hours is None or warn_hours_left is None:
        default_active, default_warn = clock_rules()
        active_hours = default_active if active_hours is None else active_hours
        warn_hours_left = default_warn if warn_hours_left is None else warn_hours_left
    rules: dict[str, Any] = {"active_hours": active_hours, "warn_hours_left": warn_hours_left}
    candidates: list[tuple[float, str, str]] = [
        (event.time, event.kind, event.detail) for event in events if event.time <= now + FUTURE_SLACK]
    if newest_file is not None:
        candidates.append((newest_file[0], "file", newest_file[1]))
    if not candidates:
        return SessionClock(SessionState.UNKNOWN, window_hours, now, None, **rules)
    # The newest wins; on a tie, what the user said beats what the folder shows.
    rank = {"chat": 2, "folder": 1, "file": 0}
    when, kind, detail = max(candidates, key=lambda c: (min(c[0], now), rank.get(c[1], 0)))
    when = min(when, now)
    idle = (now - when) / 3600
    if idle < min(active_hours, window_hours):
        state = SessionState.ACTIVE
    elif idle < window_hours:
        state = SessionState.IDLE
    else:
        state = SessionState.LIKELY_EXPIRED
    return SessionClock(state, window_hours, now, when, kind, detail, **rules)


def project_clock(root: Path, now: float, window_hours: float,
                  newest_file: tuple[float, str] | None = None) -> tuple[SessionClock, list[str]]:
    """The clock for the project at ``root`` (its activity log read now), and the log's warnings."""
    log = load_activity(root)
    return session_clock(log.events, now, window_hours, newest_file), log.warnings
