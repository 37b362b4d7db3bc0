"""Commands for the user's shell, on each platform.

- :func:`quote_arg` and :func:`command_line`: a command Liferaft prints for the user to type or paste. On
  Windows it is written for cmd.exe and PowerShell alike (double quotes: neither reads ``'…'`` as quoting),
  elsewhere for a POSIX shell (:func:`shlex.quote`).

``platform`` is ``sys.platform`` when not given (read when called, so a test can fake it).
"""

from __future__ import annotations

import re
import shlex
import sys
from collections.abc import Iterable

#: Characters that make cmd.exe or PowerShell read an argument as more than one word, or as something else
#: (a redirection, a pipe, a variable, a comment, an array, a script block...). Inside double quotes both take
#: them as they are, except ``%VAR%`` (cmd.exe) and ``$name`` and the backtick (PowerShell), which no quoting
#: shares; Windows paths seldom hold them.
_WINDOWS_SPECIAL = re.compile(r"[\s\"&|<>^()%!,;=$'`@{}\[\]#]")


def _platform(platform: str | None) -> str:
    return sys.platform if platform is None else platform


def quote_arg(text: str, platform: str | None = None) -> str:
    """``text`` as one argument in a command the user types: as it is when it is safe bare, else quoted for
    this platform's shells."""
    if _platform(platform) != "win32":
        return shlex.quote(text)
    if text and not _WINDOWS_SPECIAL.search(text):
        return text
    # subprocess.list2cmdline's rules, quoting whenever a shell could misread the text: backslashes are
    # literal except before a '"', where they are doubled (and the '"' escaped), and before the closing quote.
    pieces: list[str] = ['"']
    backslashes = 0
    for char in text:
        if char == "\\":
            backslashes += 1
            continue
        if char == '"':
            pieces.append("\\" * (backslashes * 2 + 1) + '"')
        else:
            pieces.append("\\" * backslashes + char)
        backslashes = 0
    pieces.append("\\" * (backslashes * 2) + '"')
    return "".join(pieces)


def command_line(args: Iterable[str], platform: str | None = None) -> str:
    """The command ``args`` as one line for the user's shell (see :func:`quote_arg`)."""
    return " ".join(quote_arg(arg, platform) for arg in args)

