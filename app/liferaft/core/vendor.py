"""The vendor's published figures (sandbox lifetime, upload limits), read from data, not hard-coded."""

from __future__ import annotations

import dataclasses
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any


@dataclass(frozen=True, slots=True)
class SessionFacts:
    inactivity_hours: float
    source: str
    checked: str


@cache
def _data() -> dict[str, dict[str, object]]:
    text = resources.files("liferaft.core").joinpath("data/vendor.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def session_facts() -> SessionFacts:
    session = _data()["session"]
    return SessionFacts(
        inactivity_hours=float(session["inactivity_hours"]),  # type: ignore[arg-type]
        source=str(session["source"]),
        checked=str(session["checked"]),
    )


@dataclass(frozen=True, slots=True)
class UploadLimits:
    """The vendor's per-file and per-window upload limits. Sizes are in decimal megabytes (10**6 bytes)."""

    hard_limit_mb: float
    spreadsheet_mb: float
    image_mb: float
    text_tokens: int
    files_per_window: int
    window_hours: float
    source: str
    checked: str
    overridden: frozenset[str] = frozenset()
    """The limits (by name, as in :data:`LIMIT_NAMES`) taken from the user's config instead of the vendor data."""

    def values(self) -> dict[str, float | int]:
        return {name: getattr(self, name) for name in LIMIT_NAMES}

    def origin(self, name: str) -> str:
        """Where a limit comes from: the vendor data (with the date it was checked) or the user's config."""
        return "your config" if name in self.overridden else f"vendor data, checked {self.checked}"

    def to_json(self) -> dict[str, dict[str, object]]:
        return {name: {"value": value, "source": self.origin(name)} for name, value in self.values().items()}


#: The limits a user's config may override, in the order they are shown.
LIMIT_NAMES = ("hard_limit_mb", "spreadsheet_mb", "image_mb", "text_tokens", "files_per_window", "window_hours")
#: Limits that count things, so must be whole numbers.
_WHOLE = frozenset({"text_tokens", "files_per_window"})


def override_limits(limits: UploadLimits, table: object, where: str = "config") -> tuple[UploadLimits, list[str]]:
    """``limits`` with the values of a ``[limits]`` table applied, and a one-line warning per value refused.

    A value must be a number above 0 (a whole one for counts); anything else, and any name that is not a limit,
    is reported and the vendor figure kept.
    """
    if table is None:
        return limits, []
    if not isinstance(table, Mapping):
        return limits, [f"{where}: [limits] must be a table; using the vendor figures"]
    warnings: list[str] = []
    changes: dict[str, Any] = {}  # a number per field name, checked above
    for name, value in table.items():
        if name not in LIMIT_NAMES:
            known = ", ".join(LIMIT_NAMES)
            warnings.append(f"{where}: limits.{name} is not a limit Liferaft knows (it knows {known}); ignored")
            continue
        keep = f"using {show_number(getattr(limits, name))}"
        number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
        if number is None or not math.isfinite(number) or number <= 0:
            warnings.append(f"{where}: limits.{name} must be a number above 0, not {value!r}; {keep}")
            continue
        if name in _WHOLE:
            if number != int(number):
                warnings.append(f"{where}: limits.{name} must be a whole number, not {value!r}; {keep}")
                continue
            changes[name] = int(number)
        else:
            changes[name] = float(number)
    if not changes:
        return limits, warnings
    return dataclasses.replace(limits, **changes, overridden=limits.overridden | frozenset(changes)), warnings


def show_number(value: float) -> str:
    """A limit as a user writes it: 50, 0.5, 2000000 (never 2e+06)."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def upload_limits() -> UploadLimits:
    uploads = _data()["uploads"]
    return UploadLimits(
        hard_limit_mb=float(uploads["hard_limit_mb"]),  # type: ignore[arg-type]
        spreadsheet_mb=float(uploads["spreadsheet_mb"]),  # type: ignore[arg-type]
        image_mb=float(uploads["image_mb"]),  # type: ignore[arg-type]
        text_tokens=int(uploads["text_tokens"]),  # type: ignore[call-overload]
        files_per_window=int(uploads["files_per_window"]),  # type: ignore[call-overload]
        window_hours=float(uploads["window_hours"]),  # type: ignore[arg-type]
        source=str(uploads["source"]),
        checked=str(uploads["checked"]),
    )
