"""Output, errors and exit codes for the command line: the one place each of them is spelled.

Errors are one line on stderr, ``liferaft: ...``, never a traceback (set LIFERAFT_DEBUG=1 to see one). JSON goes
out as UTF-8 whatever the locale says. Nothing here imports the rest of the command line (``liferaft.cli``), and
nothing heavy: `liferaft scan --json` loads this module, and is measured on its start-up time.
"""

from __future__ import annotations

import contextlib
import stat
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

# Typing-only imports; `typing` itself costs ~2 ms at start-up, which `liferaft scan` is measured on.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# --- exit codes ------------------------------------------------------------------------------------------

#: The command did what was asked (`status`: nothing at risk; `diagnose`: something matched).
EXIT_OK = 0
#: The command ran but failed (or found what it reports with a non-zero code: see the two below).
EXIT_FAILED = 1
#: `liferaft status`: something is at risk.
EXIT_AT_RISK = 1
#: `liferaft diagnose`: nothing matched the text.
EXIT_NO_MATCH = 1
#: A usage error, or a folder that cannot be used.
EXIT_USAGE = 2
#: Ctrl-C; a stop signal N exits with ``EXIT_SIGNAL_BASE + N`` (as a shell reports it).
EXIT_INTERRUPTED = 130
EXIT_SIGNAL_BASE = 128


class UsageError(Exception):
    """Bad arguments: reported in one line with exit code 2."""


# --- text on the terminal --------------------------------------------------------------------------------


def printable(text: str) -> str:
    """``text`` on one line and inert: line breaks, control characters (terminal escape sequences), bidi
    overrides and bytes that are not UTF-8 are shown escaped (:func:`liferaft.core.scan.shown_name`)."""
    from liferaft.core.scan import shown_name

    return shown_name(text)


def tolerate_narrow_encodings() -> None:
    """On a terminal or a file whose encoding cannot show every character (a Windows console in cp1252 or cp437,
    a legacy locale, PYTHONIOENCODING=ascii), a character it lacks is shown as "?" instead of ending the command
    with an encoding error. UTF-8, UTF-16 and UTF-32 streams are left as they are."""
    for stream in (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "").replace("_", "")
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is None or encoding.startswith(("utf8", "utf16", "utf32")):
            continue
        with contextlib.suppress(ValueError, OSError):  # a stream that cannot change now: it stays as it is
            reconfigure(errors="replace")


def err(message: str) -> None:
    """One line on stderr, ``liferaft: MESSAGE``: an error, a warning or a note for the user."""
    one_line = printable(" ".join(message.split("\n")))  # a file name's control characters shown, not obeyed
    try:
        print(f"liferaft: {one_line}", file=sys.stderr)
    except UnicodeEncodeError:  # a stderr that cannot show every character
        print(f"liferaft: {one_line.encode('ascii', 'backslashreplace').decode()}", file=sys.stderr)


def warn_all(warnings: Sequence[str]) -> None:
    for warning in warnings:
        err(f"warning: {warning}")


def write_utf8(text: str) -> None:
    """JSON goes out as UTF-8 whatever the locale says (the README promises UTF-8 JSON)."""
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:
        sys.stdout.write(text)
        return
    sys.stdout.flush()
    buffer.write(text.encode("utf-8"))
    buffer.flush()


def percent(value: float) -> str:
    return f"{value:.0f} %"


# --- arguments -------------------------------------------------------------------------------------------


def require_regular_file(path: Path, shown: str, folder_hint: str = "") -> None:
    """Usage errors for a FILE argument that is missing, a folder, or a pipe/socket/device (never opened)."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise UsageError(f"no such file: {shown}") from None
    except OSError as exc:
        raise UsageError(f"cannot open {shown}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(st.st_mode):
        raise UsageError(f"{shown} is a folder, not a file{folder_hint}")
    if not stat.S_ISREG(st.st_mode):
        raise UsageError(f"{shown} is not a regular file (a pipe, socket or device): Liferaft does not open it")


# --- progress --------------------------------------------------------------------------------------------


class StderrProgress:
    """Progress of long work on stderr (``done``, ``total`` in bytes), only once it has taken a second: in place
    on a terminal; when stderr is not one, a line every ``piped_every`` seconds, or nothing when that is None."""

    def __init__(self, label: str, *, piped_every: float | None = None) -> None:
        import time

        self._clock = time.monotonic
        self.label = label
        self.start = self._clock()
        self.last = 0.0
        self.tty = sys.stderr.isatty()
        self.piped_every = piped_every
        self.shown = False

    def __call__(self, done: Any = None, total: Any = None, *_rest: Any) -> None:
        now = self._clock()
        if not self.tty and self.piped_every is None:
            return
        if now - self.start < 1.0 or now - self.last < (0.2 if self.tty else self.piped_every or 0):
            return
        self.last = now
        if isinstance(done, int | float) and isinstance(total, int | float) and total > 0:
            from liferaft.core.units import format_size

            text = f"{self.label}: {100 * done / total:.0f} % ({format_size(int(done))} of {format_size(int(total))})"
        else:
            text = f"{self.label}…"
        if self.tty:
            print(f"\r{text}\033[K", end="", file=sys.stderr, flush=True)
        else:
            print(text, file=sys.stderr, flush=True)
        self.shown = True

    def finish(self) -> None:
        if self.shown and self.tty:
            print("\r\033[K", end="", file=sys.stderr, flush=True)
        self.shown = False


def progress_printer(label: str) -> Callable[[int, int], None]:
    """Print a line on stderr at every tenth of the work, for work big enough to wait for."""
    state = {"step": 0}

    def report(done: int, total: int) -> None:
        if total < 20_000_000 and label != "rows":
            return
        step = min(10, done * 10 // max(total, 1))
        if step > state["step"] and step < 10:
            state["step"] = step
            print(f"liferaft: {step * 10} % ({done:,} of {total:,} {label})", file=sys.stderr, flush=True)

    return report
