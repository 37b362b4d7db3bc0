"""The message to send to the vendor's support when nothing on the quick-fix checklist worked.

Support asks for the same things every time: when it happened (with the time zone), on what (system, browser),
the exact error wording, how far it reaches (one chat, every chat, one browser, every device), a request ID if
one was shown, and the account's email. :func:`build_report` writes them up from what Liferaft knows and what
the user adds; :func:`save_report` keeps a copy under RESTART/ (never over a file). Copying goes through
:func:`liferaft.core.delivery.deliver`, like the composer's prompt, with :data:`REPORT_TEMPLATE` as its name.
"""

from __future__ import annotations

import platform
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from liferaft import __version__

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from liferaft.core.roles import Role

#: The name the saved copy carries: ``RESTART/prompts/<date>-<time>-support-report.md``.
REPORT_TEMPLATE = "support-report"

#: How far the problem reaches, by id, in the words the report uses. Order: narrowest first.
SCOPES: dict[str, str] = {
    "one_chat": "only in one chat (other chats work)",
    "all_chats": "in every chat I try",
    "one_browser": "only in one browser (another browser or the app works)",
    "every_device": "on every device and browser I try",
}
#: The same, short, for a picker.
SCOPE_LABELS: dict[str, str] = {
    "one_chat": "one chat",
    "all_chats": "all chats",
    "one_browser": "one browser",
    "every_device": "every device",
}


@dataclass(frozen=True, slots=True)
class Environment:
    """Where Liferaft runs: what support asks about the machine."""

    now: float
    system: str
    python: str
    app: str
    textual: str | None

    @property
    def timestamp(self) -> str:
        """``2026-03-02 12:00:00 UTC (UTC+00:00)``: local time, its zone's name and offset."""
        local = time.localtime(self.now)
        offset = time.strftime("%z", local)
        offset = f"{offset[:3]}:{offset[3:]}" if len(offset) == 5 else offset
        return f"{time.strftime('%Y-%m-%d %H:%M:%S', local)} {time.strftime('%Z', local)} (UTC{offset})"

    def versions(self) -> str:
        parts = [f"Python {self.python}", f"Liferaft {self.app}"]
        if self.textual:
            parts.append(f"Textual {self.textual}")
        return ", ".join(parts)


def environment(now: float) -> Environment:
    """The machine's facts at ``now`` (no Textual import: its version is read from the installed metadata)."""
    from importlib import metadata

    try:
        textual: str | None = metadata.version("textual")
    except metadata.PackageNotFoundError:
        textual = None
    system = f"{platform.system() or sys.platform} {platform.release()}".strip()
    if sys.platform == "darwin" and platform.mac_ver()[0]:
        system = f"macOS {platform.mac_ver()[0]}"
    return Environment(now, system, platform.python_version(), __version__, textual)


@dataclass(slots=True)
class SupportDetails:
    """What the user tells the report (everything optional; :meth:`missing` says what support will ask for)."""

    error_text: str = ""
    """The exact message from the browser, as pasted."""
    scope: str | None = None
    """A key of :data:`SCOPES`."""
    request_id: str = ""
    browser: str = ""
    """The browser or app, with its version if known."""
    email: str = ""
    """The account's email (default: ``[diagnose] account_email`` in the config)."""
    symptom: str = ""
    """What Liferaft's diagnosis made of it (a symptom's title)."""
    tried: list[str] = field(default_factory=list)
    """The checklist steps already done, in order."""
    status: str = ""
    """What the vendor's status page said, if it was checked."""
    notes: str = ""
    """What the user was doing, in their words."""
    screenshot: bool = False
    """Whether a screenshot goes with the message."""

    def missing(self) -> list[str]:
        """What support will ask for that is not filled in yet, in a few words each."""
        gaps = []
        if not self.error_text.strip():
            gaps.append("the exact error text")
        if self.scope not in SCOPES:
            gaps.append("where it happens (one chat, all chats, one browser, every device)")
        if not self.email.strip():
            gaps.append("your account's email")
        if not self.browser.strip():
            gaps.append("your browser or app")
        if not self.screenshot:
            gaps.append("a screenshot")
        return gaps


def account_email(settings_other: Mapping[str, Any] | None, where: str = "config") -> tuple[str, list[str]]:
    """``[diagnose] account_email`` from the config, and a warning when it is there but not an email address."""
    table = (settings_other or {}).get("diagnose")
    if not isinstance(table, Mapping):
        return "", [] if table is None else [f"{where}: [diagnose] must be a table; no account email"]
    value = table.get("account_email")
    if value is None:
        return "", []
    if not isinstance(value, str) or not looks_like_email(value.strip()):
        return "", [f"{where}: diagnose.account_email must be an email address, not {value!r}; left out"]
    return value.strip(), []


def looks_like_email(text: str) -> bool:
    name, at, domain = text.partition("@")
    return bool(at and name and "." in domain.strip(".") and not any(c.isspace() for c in text))


def _single_line(text: str) -> str:
    return " ".join(text.split())


def _quoted(text: str) -> list[str]:
    """The pasted error as a quote, its lines and wording exactly as given (only the trailing blank lines go)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").rstrip().split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    return [f"> {line}".rstrip() for line in lines]


def build_report(details: SupportDetails, env: Environment) -> str:
    """The support message, as plain text, ready to paste into the vendor's help form or an email."""
    what = _single_line(details.symptom) or "an error"
    if what[:1].isupper() and not what[1:2].isupper():  # "The chat says…" reads "the chat says…" after a colon
        what = what[0].lower() + what[1:]
    scope = SCOPE_LABELS.get(details.scope or "")
    subject = f"ChatGPT data analysis: {what}" + (f" ({scope})" if scope else "")
    lines = [f"Subject: {subject}", "", "Hello,", "",
             "I hit a problem in a ChatGPT data-analysis chat that I could not fix on my side.", ""]
    lines.append("The exact message:")
    lines += _quoted(details.error_text) if details.error_text.strip() else ["> (no message shown)"]
    lines += ["", f"When: {env.timestamp}"]
    lines.append(f"Where it happens: {SCOPES[details.scope]}" if details.scope in SCOPES else
                 "Where it happens: (not checked yet)")
    lines.append(f"Browser or app: {_single_line(details.browser)}" if details.browser.strip() else
                 "Browser or app: (not given)")
    lines.append(f"Request ID: {_single_line(details.request_id)}" if details.request_id.strip() else
                 "Request ID: none shown")
    lines.append(f"Account: {details.email.strip()}" if details.email.strip() else "Account: (add your email)")
    if details.status.strip():
        lines.append(f"Status page when I checked: {_single_line(details.status)}")
    if details.tried:
        lines += ["", "What I already tried:"] + [f"- {_single_line(step)}" for step in details.tried]
    if details.notes.strip():
        lines += ["", "What I was doing:", details.notes.strip()]
    if details.screenshot:
        lines += ["", "A screenshot of the error is attached."]
    lines += ["", f"System: {env.system} ({env.versions()})", "", "Thank you."]
    from liferaft.core.scan import shown_lines

    # A pasted error naming a file can hold its control characters: they are shown, not obeyed, when copied.
    return shown_lines("\n".join(lines)) + "\n"


def tried_steps(step_texts: Sequence[tuple[str, str]], ticked: set[str] | frozenset[str]) -> list[str]:
    """The checklist's ticked steps' words, in checklist order (``step_texts`` is ``(id, text)`` pairs)."""
    return [text for step_id, text in step_texts if step_id in ticked]


def save_report(root: Path, role_folders: Mapping[str, Role], text: str, now: float) -> Path:
    """Save ``text`` as ``<RESTART>/prompts/<date>-<time>-support-report.md`` (never over a file: ``-2``...), through
    the secret gate (redacted) like every copy. Raises OSError when it cannot be written."""
    from liferaft.core.delivery import save_prompt

    return save_prompt(root, role_folders, text, REPORT_TEMPLATE, now)
