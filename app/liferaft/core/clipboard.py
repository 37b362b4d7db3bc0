"""Putting text on the system clipboard, and saying exactly what happened.

pyperclip picks the platform's clipboard tool (wl-copy, xclip, xsel, pbcopy, clip.exe). Such a tool can
hang or report success without copying, so the copy runs against a deadline and is read back:

- The X11 and Wayland tools (xclip, xsel, wl-copy) fork a background process that owns the selection until
  something else takes it. pyperclip runs them with the caller's stdout and stderr, so that background
  process holds any pipe the caller inherited, and whoever waits for that pipe's end (a test runner, a
  ``subprocess.run(capture_output=True)`` around Liferaft) waits forever. For those tools the command is run
  here instead: stdout to /dev/null, stderr to a temporary file (never a pipe), a session of its own, a
  timeout, and the exit code and message checked, so a ``DISPLAY`` that points nowhere says so at once.
- Everything else goes through pyperclip's own functions, in a daemon thread the caller does not wait
  for beyond the deadline: pbcopy/pbpaste on macOS, the Win32 clipboard on Windows, clip.exe and
  powershell.exe in WSL (a longer deadline there, :data:`WSL_TIMEOUT`: powershell is slow to start).

When no native clipboard works, the caller falls back to the terminal (OSC 52), which cannot be confirmed;
see :mod:`liferaft.core.delivery`.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

#: Seconds to wait for the clipboard tool before giving up.
TIMEOUT = 2.0
#: In WSL: pyperclip copies with clip.exe and reads back with powershell.exe, whose start alone often takes
#: more than :data:`TIMEOUT` seconds.
WSL_TIMEOUT = 8.0

#: The commands run directly for the tools that fork into the background, by pyperclip's function name:
#: (copy command, read-back command).
_FORKING_TOOLS: dict[str, tuple[list[str], list[str]]] = {
    "copy_xclip": (["xclip", "-selection", "clipboard", "-in"], ["xclip", "-selection", "clipboard", "-out"]),
    "copy_xsel": (["xsel", "--clipboard", "--input"], ["xsel", "--clipboard", "--output"]),
    "copy_wl": (["wl-copy"], ["wl-paste", "--no-newline", "--type", "text"]),
}

#: Read-back attempts (a growing pause between them, within the deadline): the background process may need a
#: moment before it answers for the selection.
_READ_BACK_TRIES = 10
#: What a read-back that answered with other text says.
_NOT_KEPT = "the clipboard did not keep the text"


@dataclass(frozen=True, slots=True)
class CopyResult:
    copied: bool
    """True only when the text was read back from the clipboard."""
    detail: str
    """Why not, when it was not copied: one short phrase."""


class _ToolFailed(Exception):
    """A clipboard command failed; the message is the detail shown to the user."""


def _no_tool_detail() -> str:
    """Why pyperclip found no clipboard mechanism, as precisely as the environment tells."""
    base = "no clipboard tool works here"
    if sys.platform in ("win32", "darwin", "cygwin"):
        return base
    from liferaft.core import wsl

    if wsl.is_wsl():  # pyperclip uses Windows' programs there, whatever DISPLAY says
        return f"{base} (WSL: clip.exe and powershell.exe could not be run; is Windows interop off?)"
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        return f"{base} (no display: DISPLAY is not set, as over SSH)"
    return f"{base} (none of xclip, xsel, wl-copy is installed)"


def _display_detail(message: str) -> str:
    """A user-facing phrase for a clipboard tool's error message."""
    lowered = message.casefold()
    if "display" in lowered and ("open" in lowered or "connect" in lowered):
        return f"no X display at {os.environ.get('DISPLAY', '')!s} (DISPLAY points nowhere)"
    if "wayland" in lowered and ("connect" in lowered or "compositor" in lowered):
        return f"no Wayland display at {os.environ.get('WAYLAND_DISPLAY', '')!s} (WAYLAND_DISPLAY points nowhere)"
    line = message.strip().splitlines()[0] if message.strip() else ""
    return line[:120]


def _run(command: list[str], deadline: float, limit: float, *, stdin: bytes | None, read: bool) -> bytes:
    """Run a clipboard command without ever waiting on a pipe a background child could hold.

    Returns its stdout when ``read`` (a read command does not fork, so a pipe is safe there), else b"".
    Raises :class:`_ToolFailed` on a timeout, a missing command or a non-zero exit.
    """
    import signal
    import subprocess
    import tempfile

    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise _ToolFailed(f"the clipboard tool did not answer within {limit:g} s")
    name = command[0]
    with tempfile.TemporaryFile() as errors:
        try:
            process = subprocess.Popen(
                command,
                stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                stdout=subprocess.PIPE if read else subprocess.DEVNULL,
                stderr=errors,
                close_fds=True,
                start_new_session=True,  # a Ctrl-C in the terminal does not reach the selection owner
            )
        except OSError as exc:
            raise _ToolFailed(f"{name} could not be started ({exc.strerror or exc})") from None
        try:
            out, _ = process.communicate(stdin, timeout=remaining)
        except subprocess.TimeoutExpired:
            # Kill the whole session: a half-started tool must not linger.
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except (OSError, AttributeError):  # no process groups on Windows
                process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired, OSError, ValueError):
                process.communicate(timeout=0.5)
            raise _ToolFailed(f"{name} did not answer within {limit:g} s") from None
        except OSError as exc:  # e.g. a broken pipe when the tool exits before reading its input
            process.kill()
            process.wait()
            errors.seek(0)
            message = errors.read(4096).decode("utf-8", "replace")
            raise _ToolFailed(_display_detail(message) or f"{name} failed ({exc.strerror or exc})") from None
        if process.returncode != 0:
            errors.seek(0)
            message = errors.read(4096).decode("utf-8", "replace")
            raise _ToolFailed(_display_detail(message) or f"{name} failed (exit code {process.returncode})")
    return out or b""


def _copy_with_tool(text: str, copy_cmd: list[str], paste_cmd: list[str], deadline: float, limit: float) -> CopyResult:
    data = text.encode("utf-8")
    try:
        _run(copy_cmd, deadline, limit, stdin=data, read=False)
    except _ToolFailed as exc:
        return CopyResult(False, str(exc))
    detail = _NOT_KEPT
    for attempt in range(_READ_BACK_TRIES):
        try:
            if _run(paste_cmd, deadline, limit, stdin=None, read=True) == data:
                return CopyResult(True, "")
            detail = _NOT_KEPT
        except _ToolFailed as exc:
            # Until the copy's background process owns the selection, reading it fails ("target STRING not
            # available" from xclip): on a busy machine that takes a moment, so it is tried again.
            detail = str(exc)
        pause = min(0.05 * (attempt + 1), 0.25)
        if attempt + 1 >= _READ_BACK_TRIES or time.monotonic() + pause >= deadline:
            break
        time.sleep(pause)
    return CopyResult(False, detail)


def _copy_with_functions(text: str, copy: Callable[[str], object], paste: Callable[[], object]) -> CopyResult:
    try:
        copy(text)
        back = paste()
    except Exception:  # pyperclip raises its own types, and the tools' OSErrors; their names mean nothing to a user
        return CopyResult(False, _no_tool_detail())
    if back == text:
        return CopyResult(True, "")
    return CopyResult(False, _NOT_KEPT)


def _attempt(text: str, deadline: float, limit: float) -> CopyResult:
    try:
        import pyperclip
    except ImportError:
        return CopyResult(False, _no_tool_detail())
    determine = getattr(pyperclip, "determine_clipboard", None)
    if determine is None:  # not the real pyperclip (a stand-in): use what it offers
        return _copy_with_functions(text, pyperclip.copy, pyperclip.paste)
    try:
        copy, paste = determine()
    except Exception:
        return CopyResult(False, _no_tool_detail())
    commands = _FORKING_TOOLS.get(getattr(copy, "__name__", ""))
    if commands is not None:
        return _copy_with_tool(text, commands[0], commands[1], deadline, limit)
    return _copy_with_functions(text, copy, paste)


def default_timeout() -> float:
    """The deadline for a copy and its read-back here: :data:`WSL_TIMEOUT` in WSL, else :data:`TIMEOUT`."""
    from liferaft.core import wsl

    return WSL_TIMEOUT if wsl.is_wsl() else TIMEOUT


def copy_native(text: str, timeout: float | None = None) -> CopyResult:
    """Copy ``text`` to the system clipboard and read it back; never takes much longer than ``timeout`` (None:
    :func:`default_timeout`).

    Never raises: every failure is a :class:`CopyResult` whose ``detail`` says why in one phrase.
    """
    if timeout is None:
        timeout = default_timeout()
    outcome: list[CopyResult] = []
    deadline = time.monotonic() + timeout

    def attempt() -> None:
        try:
            outcome.append(_attempt(text, deadline, timeout))
        except Exception as exc:  # a bug here must still not leave the caller without an answer
            outcome.append(CopyResult(False, f"the clipboard failed ({type(exc).__name__})"))

    worker = threading.Thread(target=attempt, name="liferaft-clipboard", daemon=True)
    worker.start()
    # A little grace past the deadline, so a tool killed at the deadline reports its own detail.
    worker.join(timeout + 0.25)
    if not outcome:
        return CopyResult(False, f"the clipboard tool did not answer within {timeout:g} s")
    return outcome[0]
