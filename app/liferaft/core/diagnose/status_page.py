"""An optional look at the vendor's public status page (a Statuspage-style ``summary.json``).

:func:`check_status` never raises and never waits longer than its timeout: offline, refused, slow, an HTTP
error, a page that is not JSON or not a summary all give state ``unknown`` with the reason, and the advice to
look at the page yourself. Only ``http`` and ``https`` URLs are fetched. It runs only when asked (a key in the
workbench); nothing calls it on its own, and the tests use a local server.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

#: The states a check ends in, best first.
STATES = ("up", "degraded", "down", "unknown")
#: A summary is a few KB; anything this large is not one.
MAX_BYTES = 2_000_000

_INDICATORS = {"none": "up", "minor": "degraded", "maintenance": "degraded", "major": "down", "critical": "down"}
_COMPONENT_STATES = {
    "operational": "up",
    "degraded_performance": "degraded",
    "partial_outage": "degraded",
    "under_maintenance": "degraded",
    "major_outage": "down",
}
_DONE = {"resolved", "postmortem", "completed"}


@dataclass(frozen=True, slots=True)
class StatusReport:
    state: str
    """``up``, ``degraded``, ``down`` or ``unknown``."""
    description: str
    """The page's own one-line summary ("All Systems Operational"), or what Liferaft could tell."""
    incidents: list[str] = field(default_factory=list)
    """Active incidents (and maintenance in progress), as "name (impact, status)"."""
    reason: str = ""
    """Why the state is ``unknown`` (timed out, refused, not JSON…); empty otherwise."""
    checked_at: float = 0.0
    """When the check ended, seconds since the epoch."""
    components: list[str] = field(default_factory=list)
    """Components that matter to a data-analysis chat and are not operational, as "name: status"."""
    url: str = ""

    @property
    def known(self) -> bool:
        return self.state != "unknown"

    def summary(self, page: str = "") -> str:
        """One line for a notification or the CLI."""
        where = page or self.url
        if self.state == "unknown":
            return f"unknown: check the status page yourself ({where}); {self.reason}"
        text = f"{self.state}: {self.description}"
        if self.incidents:
            text += f"; {len(self.incidents)} incident{'s' if len(self.incidents) != 1 else ''}: " + \
                "; ".join(self.incidents)
        return text

    def to_json(self) -> dict[str, object]:
        return {"state": self.state, "description": self.description, "incidents": list(self.incidents),
                "components": list(self.components), "reason": self.reason, "checked_at": self.checked_at,
                "url": self.url}


def _unknown(url: str, reason: str) -> StatusReport:
    return StatusReport(state="unknown", description="the status page could not be read", reason=reason,
                        checked_at=time.time(), url=url)


def _read(url: str, timeout: float, deadline: float) -> bytes:
    """The body at ``url``; each socket operation waits at most ``timeout``, and reading stops at ``deadline``."""
    import urllib.request  # deferred: the workbench starts faster without it, and most sessions never check

    request = urllib.request.Request(url, headers={"Accept": "application/json", "User-Agent": "liferaft"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        chunks: list[bytes] = []
        size = 0
        while True:
            if deadline - time.monotonic() <= 0:
                raise TimeoutError
            chunk = response.read1(65536)  # returns what one read gives: the deadline is checked often
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > MAX_BYTES:
                raise ValueError("the answer is too large to be a status summary")
            chunks.append(chunk)


def _fetch(url: str, timeout: float) -> bytes:
    """The body at ``url`` within one overall deadline covering the connection, the headers and the body.

    The fetch runs in a daemon thread and the caller stops waiting once ``timeout`` has passed: a server that
    trickles its headers a byte a second cannot hold the check (a socket timeout alone restarts on every byte).
    The abandoned thread ends by itself at its own socket timeout or deadline.
    """
    import threading

    deadline = time.monotonic() + timeout
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["body"] = _read(url, timeout, deadline)
        except BaseException as exc:  # handed to the caller, which sorts it into a reason
            outcome["error"] = exc

    worker = threading.Thread(target=run, name="liferaft-status-check", daemon=True)
    worker.start()
    worker.join(max(0.0, deadline - time.monotonic()))
    if worker.is_alive() or not outcome:
        raise TimeoutError
    error = outcome.get("error")
    if isinstance(error, BaseException):
        raise error
    body = outcome.get("body")
    return body if isinstance(body, bytes) else b""


def _worse(a: str, b: str) -> str:
    return a if STATES.index(a) >= STATES.index(b) else b


def parse_summary(data: Any, components_of_interest: Sequence[str] = (), url: str = "") -> StatusReport:
    """A :class:`StatusReport` from a parsed Statuspage ``summary.json``; ``unknown`` if it is not one."""
    if not isinstance(data, Mapping):
        return _unknown(url, "the status page did not answer with a summary")
    status = data.get("status")
    indicator = status.get("indicator") if isinstance(status, Mapping) else None
    description = status.get("description") if isinstance(status, Mapping) else None
    components = data.get("components")
    if not isinstance(indicator, str) and not isinstance(components, list):
        return _unknown(url, "the status page's answer has no status indicator or components")
    state = _INDICATORS.get(indicator, "unknown") if isinstance(indicator, str) else "unknown"

    troubled: list[str] = []
    seen_component = False
    words = [word.lower() for word in components_of_interest]
    for component in components if isinstance(components, list) else []:
        if not isinstance(component, Mapping):
            continue
        name, comp_status = component.get("name"), component.get("status")
        if not isinstance(name, str) or not isinstance(comp_status, str):
            continue
        if words and not any(word in name.lower() for word in words):
            continue
        seen_component = True
        comp_state = _COMPONENT_STATES.get(comp_status, "unknown")
        if comp_state in ("degraded", "down"):
            troubled.append(f"{name}: {comp_status.replace('_', ' ')}")
            state = comp_state if state == "unknown" else _worse(state, comp_state)
    if state == "unknown" and seen_component:
        state = "up"
    if state == "unknown":
        return _unknown(url, f"the status page's indicator {indicator!r} is not one Liferaft knows")

    incidents: list[str] = []
    for key in ("incidents", "scheduled_maintenances"):
        items = data.get(key)
        for incident in items if isinstance(items, list) else []:
            if not isinstance(incident, Mapping) or not isinstance(incident.get("name"), str):
                continue
            inc_status = str(incident.get("status") or "")
            if inc_status in _DONE or (key == "scheduled_maintenances" and inc_status != "in_progress"):
                continue
            details = ", ".join(str(part).replace("_", " ") for part in (incident.get("impact"), inc_status)
                                if part and part != "none")
            incidents.append(f"{incident['name']} ({details})" if details else str(incident["name"]))
    if incidents and state == "up":
        state = "degraded"
    if not isinstance(description, str) or not description.strip():
        description = {"up": "all systems operational", "degraded": "some systems degraded",
                       "down": "a major outage"}[state]
    return StatusReport(state=state, description=description.strip(), incidents=incidents,
                        checked_at=time.time(), components=troubled, url=url)


def check_status(url: str, timeout: float = 3.0, components: Sequence[str] = ()) -> StatusReport:
    """Fetch and read the status summary at ``url`` within ``timeout`` seconds. Never raises.

    ``components`` (lower-case words) narrows the components that count to those whose name holds one;
    empty means all of them.
    """
    import json
    import socket
    import urllib.error

    try:
        if not isinstance(url, str) or not url.lower().startswith(("http://", "https://")):
            return _unknown(str(url), "the status URL is not an http(s) address")
        try:
            body = _fetch(url, max(0.1, float(timeout)))
        except urllib.error.HTTPError as exc:
            return _unknown(url, f"the status page answered HTTP {exc.code}")
        except TimeoutError:
            return _unknown(url, f"no answer within {timeout:g} s")
        except urllib.error.URLError as exc:
            why = exc.reason
            if isinstance(why, TimeoutError | socket.timeout):
                return _unknown(url, f"no answer within {timeout:g} s")
            if isinstance(why, ConnectionRefusedError):
                return _unknown(url, "the connection was refused")
            if isinstance(why, socket.gaierror):
                return _unknown(url, "the address could not be found (offline?)")
            return _unknown(url, f"it could not be reached: {getattr(why, 'strerror', None) or why}")
        except ConnectionError as exc:
            return _unknown(url, f"the connection failed: {exc.strerror or type(exc).__name__}")
        except OSError as exc:
            return _unknown(url, f"it could not be reached: {exc.strerror or exc}")
        except ValueError as exc:
            return _unknown(url, str(exc))
        try:
            data = json.loads(body.decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return _unknown(url, "the status page's answer is not JSON")
        return parse_summary(data, components, url)
    except Exception as exc:  # a status check must never take the app down
        return _unknown(str(url), f"the check failed: {type(exc).__name__}")
