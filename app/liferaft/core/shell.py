"""Commands for the user's shell, and the user's editor, on each platform.

- :func:`quote_arg` and :func:`command_line`: a command Liferaft prints for the user to type or paste. On
  Windows it is written for cmd.exe and PowerShell alike (double quotes: neither reads ``'…'`` as quoting),
  elsewhere for a POSIX shell (:func:`shlex.quote`).
- :func:`editor_command`: the argument list that runs $VISUAL or $EDITOR (or this platform's fallback), its
  program resolved to a full path so that a ``.cmd``/``.bat`` editor such as VS Code's ``code`` starts on
  Windows too.

``platform`` is ``sys.platform`` when not given (read when called, so a test can fake it).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import sys
from collections.abc import Callable, Iterable, Mapping

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


# --- the user's editor -------------------------------------------------------------------------------------


class EditorError(Exception):
    """The editor cannot be run; its text is one line for the user."""


def _fallbacks(platform: str) -> tuple[str, ...]:
    return ("notepad",) if platform == "win32" else ("nano", "vi")


def _split(value: str, platform: str) -> list[str]:
    """$EDITOR's words. On Windows backslashes are path separators, not escapes, and double quotes group a path
    with spaces (``"C:\\Program Files\\Notepad++\\notepad++.exe" -multiInst``)."""
    if platform != "win32":
        return shlex.split(value)
    words = shlex.split(value, posix=False)
    return [word[1:-1] if len(word) >= 2 and word[0] == word[-1] == '"' else word for word in words]


def editor_command(environ: Mapping[str, str] | None = None, platform: str | None = None,
                   which: Callable[[str], str | None] | None = None) -> list[str]:
    """The argument list that runs the user's editor (the file to edit goes after it): $VISUAL, else $EDITOR
    (either may hold arguments), else notepad on Windows, nano then vi elsewhere. The program is resolved
    to its full path, which Windows needs to run a ``.cmd`` or ``.bat`` editor. Raises :class:`EditorError`
    when none can be run."""
    environ = os.environ if environ is None else environ
    platform = _platform(platform)
    which = shutil.which if which is None else which
    for variable in ("VISUAL", "EDITOR"):
        value = environ.get(variable, "").strip()
        if not value:
            continue
        try:
            command = _split(value, platform)
        except ValueError:
            raise EditorError(f"${variable} is not a command Liferaft can run: {value}") from None
        if not command or not command[0]:
            continue
        found = which(command[0])
        if found is None:
            raise EditorError(f"the editor in ${variable} was not found: {command[0]} (set $VISUAL or $EDITOR to "
                              "an editor that is installed)")
        return [found, *command[1:]]
    fallbacks = _fallbacks(platform)
    for fallback in fallbacks:
        found = which(fallback)
        if found is not None:
            return [found]
    named = " nor ".join(fallbacks) if len(fallbacks) > 1 else fallbacks[0]
    raise EditorError(f"no editor found: set $VISUAL or $EDITOR ({'neither ' if len(fallbacks) > 1 else ''}"
                      f"{named} {'is' if len(fallbacks) > 1 else 'is not'} installed)")
