"""Putting text on the system clipboard, and saying exactly what happened.

pyperclip drives the platform's clipboard tool (wl-copy, xclip, xsel, pbcopy, clip.exe). Such a tool can
hang (xclip keeps a process around) or report success without copying (a DISPLAY that points nowhere), so
the copy runs with a timeout and is read back. When no native clipboard works, the caller falls back to
the terminal (OSC 52), which cannot be confirmed.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

#: Seconds to wait for the clipboard tool before giving up.
TIMEOUT = 2.0


@dataclass(frozen=True, slots=True)
class CopyResult:
    copied: bool
    """True only when the text was read back from the clipboard."""
    detail: str
    """Why not, when it was not copied: one short phrase."""


def copy_native(text: str, timeout: float = TIMEOUT) -> CopyResult:
    outcome: list[CopyResult] = []

    def attempt() -> None:
        try:
            import pyperclip

            pyperclip.copy(text)
            back = pyperclip.paste()
        except Exception as exc:  # pyperclip raises its own types, and the tools' OSErrors
            del exc  # pyperclip's own exception names mean nothing to a user
            outcome.append(CopyResult(False, "no clipboard tool works here (none installed, or no display)"))
            return
        if back == text:
            outcome.append(CopyResult(True, ""))
        else:
            outcome.append(CopyResult(False, "the clipboard did not keep the text"))

    worker = threading.Thread(target=attempt, name="liferaft-clipboard", daemon=True)
    worker.start()
    worker.join(timeout)
    if not outcome:
        return CopyResult(False, f"the clipboard tool did not answer within {timeout:g} s")
    return outcome[0]
