"""The vendor's published figures (sandbox lifetime, upload limits), read from data, not hard-coded."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources


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
