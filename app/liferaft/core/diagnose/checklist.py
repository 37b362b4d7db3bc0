"""The quick-fix checklist's ticks, per project, in ``<project>/.liferaft/checklist.json``.

The steps themselves (their ids, words and order, lowest effort first) are knowledge, in ``data/triage.toml``;
this module only remembers which ones the user ticked, and when. Ticks of steps the data no longer has are
kept in the file (a newer Liferaft may know them), and ignored.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from liferaft.core import storage
from liferaft.core.scan import STATE_DIRNAME
from liferaft.core.storage import load_own_json, save_own_json

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

CHECKLIST_FILENAME = "checklist.json"
CHECKLIST_VERSION = 1


@dataclass(frozen=True, slots=True)
class Tick:
    ticked: bool
    time: float
    """When it was ticked or unticked, seconds since the epoch."""


@dataclass(slots=True)
class ChecklistState:
    ticks: dict[str, Tick] = field(default_factory=dict)
    """By step id."""
    warnings: list[str] = field(default_factory=list)
    writable: bool = True
    """False when the file is there but unusable and could not be moved aside."""

    def is_ticked(self, step_id: str) -> bool:
        tick = self.ticks.get(step_id)
        return tick is not None and tick.ticked

    def ticked_at(self, step_id: str) -> float | None:
        tick = self.ticks.get(step_id)
        return tick.time if tick is not None and tick.ticked else None

    def done(self, step_ids: Iterable[str]) -> int:
        return sum(1 for step_id in step_ids if self.is_ticked(step_id))

    def next_step(self, step_ids: Iterable[str]) -> str | None:
        """The first step (in the order given: lowest effort first) not ticked yet."""
        return next((step_id for step_id in step_ids if not self.is_ticked(step_id)), None)

    def to_json(self) -> dict[str, Any]:
        return {"version": CHECKLIST_VERSION,
                "ticks": {step_id: {"ticked": tick.ticked, "time": tick.time}
                          for step_id, tick in sorted(self.ticks.items())}}


def checklist_path(root: Path) -> Path:
    return Path(root) / STATE_DIRNAME / CHECKLIST_FILENAME


def load_checklist(root: Path) -> ChecklistState:
    """The project's ticks; never raises (a damaged file is kept aside and reported in ``warnings``)."""
    data, warnings, writable = load_own_json(checklist_path(root), CHECKLIST_VERSION, "checklist")
    ticks: dict[str, Tick] = {}
    raw = data.get("ticks", {}) if data is not None else {}
    for step_id, value in (raw.items() if isinstance(raw, dict) else ()):
        if not isinstance(value, dict):
            continue
        ticked, when = value.get("ticked"), value.get("time")
        if isinstance(ticked, bool) and isinstance(when, int | float) and not isinstance(when, bool) \
                and math.isfinite(when):
            ticks[str(step_id)] = Tick(ticked, float(when))
    return ChecklistState(ticks, warnings, writable)


def _save(root: Path, state: ChecklistState) -> None:
    if not state.writable:
        raise OSError(state.warnings[0] if state.warnings else f"{STATE_DIRNAME}/{CHECKLIST_FILENAME} cannot be "
                      "written")
    save_own_json(checklist_path(root), state.to_json())


def set_tick(root: Path, step_id: str, ticked: bool, now: float) -> ChecklistState:
    """Tick (or untick) one step at ``now`` and save; return the state as saved. Raises OSError when it cannot
    be saved."""
    with storage.locked(checklist_path(root)):  # read again under the lock: another process may have ticked
        state = load_checklist(root)
        state.ticks[step_id] = Tick(bool(ticked), float(now))
        _save(root, state)
    return state


def clear_ticks(root: Path, step_ids: Iterable[str], now: float) -> ChecklistState:
    """Untick ``step_ids`` (a new problem starts the list again) and save. Raises OSError when it cannot."""
    with storage.locked(checklist_path(root)):
        state = load_checklist(root)
        for step_id in step_ids:
            if state.is_ticked(step_id):
                state.ticks[step_id] = Tick(False, float(now))
        _save(root, state)
    return state
