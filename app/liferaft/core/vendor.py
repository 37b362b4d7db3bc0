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
