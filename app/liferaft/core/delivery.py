"""Delivering a prompt: onto the clipboard if at all possible, and always into a saved file.

One key copies the assembled prompt. The routes, in order:

1. the native clipboard (:func:`liferaft.core.clipboard.copy_native`: pyperclip's tool, with a timeout, read back);
2. the terminal, by OSC 52, when there is no native clipboard (over SSH, say) and the text is at most
   :data:`OSC52_MAX` bytes: the terminal never answers, so this "cannot be confirmed";
3. in every case, a copy saved atomically as ``RESTART/prompts/<YYYYmmdd-HHMMSS>-<template>.md``.

All three are exits: the text is a :class:`liferaft.core.outbound.Release`, what the secret gate cleared. A plain
string is gated here (and redacted) before any route sees it, and nothing leaves when the gate cannot run.

:func:`deliver` returns a :class:`Delivery` whose ``message`` says exactly which of these happened, in one
line. It never raises for an OSError and never waits on anything without a timeout. Pure: no Textual here;
the TUI passes ``App.copy_to_clipboard`` (through ``call_from_thread``) as ``terminal``, the CLI passes
:func:`osc52_to_tty`.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

from liferaft.core import clipboard
from liferaft.core.clipboard import CopyResult
from liferaft.core.names import portable_name
from liferaft.core.outbound import Release, released
from liferaft.core.roles import Role, role_for_folder
from liferaft.core.storage import atomic_writer, sweep_temp_files

#: The largest text, in bytes of UTF-8, sent to the terminal by OSC 52. tmux silently drops a sequence of
#: more than 1 MiB of base64 (about 786 KB of text), and other terminals cap it lower or differently (some
#: by a few hundred KB, GNU screen and older VTE far less); a sequence that large also stalls a slow SSH
#: link. 100 KB of text is about 134 KB of base64: well inside every cap we know, and several times a
#: long rerun prompt (typically 2-30 KB).
OSC52_MAX = 100_000

#: Seconds :func:`osc52_to_tty` waits for a terminal that does not take its input.
TTY_TIMEOUT = 1.0

#: The subfolder of the RESTART folder that holds saved prompts.
PROMPTS = "prompts"
#: Saved prompts kept in the prompts folder; older ones move to its ``old/`` subfolder (never deleted).
KEEP_PROMPTS = 20
#: The subfolder of the prompts folder older saved prompts move to.
OLD = "old"
#: The name :func:`save_prompt` gives a prompt: ``<YYYYmmdd>-<HHMMSS>-<template slug>[-N].md``.
SAVED_NAME = re.compile(r"^(\d{8}-\d{6})-[a-z0-9-]+\.md$")
#: Liferaft's record of the prompts it saved (their names, one a line), in the project's ``.liferaft/``: only
#: these are ever moved to ``old/``. A name alone cannot tell: a user's own ``20260301-120000-my-copy.md`` is
#: named just like one.
SAVED_RECORD = "saved-prompts.txt"

_MAX_SUFFIX = 9999


@dataclass(frozen=True, slots=True)
class Delivery:
    how: str
    """"copied" (native clipboard, read back), "terminal" (sent by OSC 52, unconfirmed), "saved" (no clipboard
    at all, only the file) or "failed" (no clipboard and the file could not be saved either)."""
    saved: Path | None
    """The saved copy (None only if saving failed)."""
    message: str
    """The exact one-line notification."""
    warning: str = ""
    """Why a route failed: the native clipboard, the terminal, or saving. Empty when all went well."""
    notice: str = ""
    """``message`` short enough for one line of a notification: where the text went, with the folder of the
    saved copy but not its file name (``Copied; a copy is in RESTART/prompts/.``)."""

    @property
    def severity(self) -> str:
        """How to show ``message``: "information", "warning" or "error" (Textual's notify severities)."""
        if self.how == "failed":
            return "error"
        if self.how == "copied" and self.saved is not None:
            return "information"
        return "warning"


def prompts_folder(root: Path, role_folders: Mapping[str, Role]) -> Path:
    """Where prompts are saved: the project's RESTART folder (whatever it is called) / ``prompts``.

    A RESTART folder that is itself called ``prompts`` is used as it is. With no RESTART folder the answer
    is ``RESTART/prompts`` (created by :func:`save_prompt`, not here).
    """
    root = Path(root)
    names = [name for name, role in role_folders.items() if role is Role.RESTART]
    if not names:  # the inventory may predate the folder: look once at the top level
        try:
            names = [entry.name for entry in os.scandir(root)
                     if role_for_folder(entry.name) is Role.RESTART and entry.is_dir(follow_symlinks=False)]
        except OSError:
            names = []
    # The canonical name first, then a stable order.
    names.sort(key=lambda name: (name.casefold() != Role.RESTART.value, name.casefold() == PROMPTS, name))
    for name in names:
        folder = root / name
        if folder.is_dir() and not folder.is_symlink():
            return folder if name.casefold() == PROMPTS else folder / PROMPTS
    return root / Role.RESTART.folder / PROMPTS


def _slug(template: str) -> str:
    import unicodedata

    ascii_name = unicodedata.normalize("NFKD", template).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:40].strip("-")
    return portable_name(slug or "prompt", "prompt")  # after a time stamp already, but one rule for every name


def save_prompt(root: Path, role_folders: Mapping[str, Role], text: str | Release, template: str,
                now: float) -> Path:
    """Save ``text`` atomically as ``<prompts folder>/<YYYYmmdd-HHMMSS>-<template>.md`` (local time); return the path.

    ``text`` as the secret gate released it; a plain string is gated (and redacted) first. Never overwrites: a name
    already taken gets ``-2``, ``-3``... Creates the folder when missing. Raises OSError when the file cannot be
    written (nothing is left behind then), and SecretScannerUnavailable when the gate cannot run (nothing written).
    """
    data = released(text).text.encode("utf-8")
    folder = prompts_folder(root, role_folders)
    stem = f"{time.strftime('%Y%m%d-%H%M%S', time.localtime(now))}-{_slug(template)}"
    folder.mkdir(parents=True, exist_ok=True)
    sweep_temp_files(folder)  # what an interrupted save left behind
    for number in range(1, _MAX_SUFFIX + 1):
        path = folder / (f"{stem}.md" if number == 1 else f"{stem}-{number}.md")
        try:
            with atomic_writer(path, overwrite=False) as handle:
                handle.write(data)
        except FileExistsError:
            continue
        _record_and_retire(root, folder, path.name)
        return path
    raise FileExistsError(f"{folder / stem}: every name up to -{_MAX_SUFFIX} is taken")


def _saved_order(name: str) -> tuple[str, int, str]:
    """Oldest first: by the time in the name, then the ``-2``, ``-3`` a save in the same second got."""
    number = re.search(r"-(\d{1,4})\.md$", name)
    return name[:15], int(number.group(1)) if number else 1, name


def _record_path(root: Path) -> Path:
    from liferaft.core.scan import STATE_DIRNAME

    return Path(root) / STATE_DIRNAME / SAVED_RECORD


def saved_record(root: Path) -> list[str]:
    """The names of the prompts Liferaft saved that were still in the prompts folder when it last looked."""
    from liferaft.core import storage

    try:
        raw = storage.read_small_file(_record_path(root), limit=1024 * 1024)
    except OSError:
        return []
    return [name for name in raw.decode("utf-8", "replace").splitlines() if SAVED_NAME.match(name)]


def _record_and_retire(root: Path, folder: Path, name: str) -> None:
    """Add ``name`` to the record of prompts Liferaft saved, move the oldest of them to ``old/``, and keep in the
    record only those still in ``folder``. One project's workbenches and commands take turns (a lock), so two
    never move the same prompt. Never raises for an OSError: the prompt is saved either way."""
    from liferaft.core import storage

    record = _record_path(root)
    try:
        with storage.locked(record):
            names = list(dict.fromkeys([*saved_record(root), name]))
            retire_old_prompts(folder, own=names)
            left = [entry for entry in names if os.path.isfile(folder / entry)]
            storage.write_text(record, "".join(f"{entry}\n" for entry in left))
    except OSError:
        pass


def retire_old_prompts(folder: Path, keep: int = KEEP_PROMPTS, *, own: Collection[str]) -> list[Path]:
    """Move all but the newest ``keep`` saved prompts of ``folder`` into ``folder/old/``; return where they went.

    Only the prompts named in ``own`` (those :func:`save_prompt` saved, by its record) are counted and moved: a
    file of your own there stays, even one named like a saved prompt.
    Each move is atomic and never over a file (a hard link, then the old name removed; a taken name in ``old/``
    gets ``-2``, ``-3``…), so a prompt is never lost or overwritten; nothing is ever deleted. A move that fails
    leaves the prompt where it was. Never raises for an OSError.
    """
    from liferaft.core import storage

    folder = Path(folder)
    try:
        with os.scandir(folder) as entries:
            own = set(own)
            saved = [entry.name for entry in entries
                     if entry.name in own and SAVED_NAME.match(entry.name) and entry.is_file(follow_symlinks=False)]
    except OSError:
        return []
    if len(saved) <= keep:
        return []
    saved.sort(key=_saved_order)
    old = folder / OLD
    try:
        old.mkdir(exist_ok=True)
    except OSError:
        return []
    if old.is_symlink() or not old.is_dir():
        return []
    moved: list[Path] = []
    for name in saved[: len(saved) - keep]:
        stem = name[:-3]
        for number in range(1, _MAX_SUFFIX + 1):
            target = old / (name if number == 1 else f"{stem}-{number}.md")
            try:
                storage.publish(folder / name, target)
            except FileExistsError:
                continue
            except OSError:
                break  # left where it is: a prompt too many in the folder is better than one lost
            moved.append(target)
            break
    if moved:
        storage.fsync_dir(old)
        storage.fsync_dir(folder)
    return moved


def is_saved_prompt(path: str, folder: str) -> bool:
    """Whether ``path`` (relative, with ``/``) is a prompt :func:`save_prompt` saved in ``folder`` (the prompts
    folder, relative) or moved into its ``old/``."""
    parent, _, name = path.rpartition("/")
    return parent in (folder, f"{folder}/{OLD}") and SAVED_NAME.match(name) is not None


def osc52_to_tty(text: str, *, timeout: float = TTY_TIMEOUT, tty: str = "/dev/tty") -> bool:
    """Send ``text`` to the controlling terminal's clipboard by OSC 52 (``ESC ] 52 ; c ; <base64> BEL``).

    Returns False when there is no terminal (no controlling tty, Windows), when the terminal does not take
    the bytes within ``timeout``, or when the text is over :data:`OSC52_MAX`. True means only "written":
    the terminal never confirms. Inside tmux the plain sequence reaches tmux's buffer (and, from there, the
    outer terminal) when tmux has ``set-clipboard on``.
    """
    import base64

    data = text.encode("utf-8")
    if len(data) > OSC52_MAX:
        return False
    sequence = b"\x1b]52;c;" + base64.b64encode(data) + b"\x07"
    flags = os.O_WRONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(tty, flags)
    except OSError:
        return False
    try:
        import select

        deadline = time.monotonic() + timeout
        view = memoryview(sequence)
        while view:
            try:
                written = os.write(fd, view)
            except (BlockingIOError, InterruptedError):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                try:
                    select.select([], [fd], [], min(remaining, 0.1))
                except (OSError, ValueError):
                    return False
                continue
            except OSError:
                return False
            view = view[written:]
        return True
    finally:
        os.close(fd)


def _shown(root: Path, path: Path) -> str:
    try:
        return Path(path).relative_to(root).as_posix()
    except ValueError:
        return str(path)


def _os_reason(exc: OSError) -> str:
    reason = exc.strerror or str(exc) or type(exc).__name__
    return reason[:1].lower() + reason[1:]


def _characters(text: str) -> str:
    count = len(text)
    return f"{count:,} character" + ("" if count == 1 else "s")


def terminal_clipboard_caveat(environ: Mapping[str, str] | None = None) -> str:
    """Why a copy sent to this terminal by OSC 52 will not reach the clipboard, when the terminal is known to
    ignore it ("" otherwise): Apple's Terminal.app takes no clipboard requests from programs."""
    import os

    environ = os.environ if environ is None else environ
    if environ.get("TERM_PROGRAM") == "Apple_Terminal" and not environ.get("TMUX"):
        return ("macOS Terminal ignores a program's clipboard requests (OSC 52), so it is not on your clipboard: "
                "paste from the saved copy, or use a terminal that accepts them (iTerm2, with "
                "'Applications in terminal may access clipboard' on)")
    return ""


def deliver(text: str | Release, *, what: str, root: Path, role_folders: Mapping[str, Role], template: str,
            now: float, terminal: Callable[[str], object] | None,
            native: Callable[[str], CopyResult] | None = None,
            environ: Mapping[str, str] | None = None) -> Delivery:
    """Copy ``text`` (described as ``what``, e.g. "the rerun prompt") by the best route and save a copy.

    ``text`` is what :func:`liferaft.core.outbound.release` let out; a plain string is gated here first, and
    redacted (when the gate cannot run, nothing is copied or saved: "failed"). ``terminal`` sends an OSC 52
    sequence (None: there is no terminal to ask); a sender that returns ``False`` says it could not. ``native``
    defaults to :func:`liferaft.core.clipboard.copy_native`, looked up at each call (so a test that patches the
    module reaches it). Never raises for an OSError; returns within the native clipboard's timeout plus the
    terminal sender's.
    """
    from liferaft.core.secrets import SecretScannerUnavailable

    root = Path(root)
    try:
        cleared = released(text)
    except SecretScannerUnavailable as exc:  # fail closed: an unchecked text never leaves
        return Delivery("failed", None, f"Did not copy or save {what}: the secret check could not run.", str(exc),
                        "Not copied or saved: the secret check could not run.")
    text = cleared.text
    size = _characters(text)
    warnings: list[str] = []

    # The saved copy first: whatever the clipboard does next, the text is safe.
    saved: Path | None = None
    save_error = ""
    try:
        saved = save_prompt(root, role_folders, cleared, template, now)
    except (OSError, ValueError, OverflowError) as exc:  # the last two: a ``now`` time.localtime refuses
        folder = _shown(root, prompts_folder(root, role_folders))
        save_error = f"{_os_reason(exc) if isinstance(exc, OSError) else 'bad timestamp'} ({folder})"
        warnings.append(f"could not save a copy: {save_error}")
    shown = _shown(root, saved) if saved is not None else ""

    try:
        result = (native or clipboard.copy_native)(text)
    except Exception as exc:  # a native route must never take the delivery down with it
        result = CopyResult(False, f"the clipboard failed ({type(exc).__name__})")
    where = f"a copy is in {_shown(root, saved.parent)}/." if saved is not None else "no copy was saved."
    if result.copied:
        tail = f"saved as {shown}." if saved is not None else f"not saved: {save_error}."
        return Delivery("copied", saved, f"Copied {what} ({size}) to the clipboard; {tail}", "; ".join(warnings),
                        f"On the clipboard; {where}")
    warnings.insert(0, f"no native clipboard: {result.detail}")

    too_long = False
    sent = False
    if terminal is not None:
        if len(text.encode("utf-8")) > OSC52_MAX:
            too_long = True
            warnings.insert(1, f"over {OSC52_MAX:,} bytes, too long for the terminal's clipboard")
        else:
            try:
                sent = terminal(text) is not False
            except Exception as exc:  # the app may be closing; a tty may vanish
                warnings.insert(1, f"the terminal could not be reached ({type(exc).__name__})")
            else:
                if not sent:
                    warnings.insert(1, "no terminal to send it to")

    caveat = terminal_clipboard_caveat(environ) if sent else ""
    if caveat:
        warnings.insert(0, caveat)
    warning = "; ".join(warnings)
    if sent:
        tail = f"saved as {shown}." if saved is not None else f"not saved: {save_error}."
        return Delivery("terminal", saved, f"Sent {what} ({size}) to the terminal (cannot be confirmed); {tail}",
                        warning, f"Sent to the terminal's clipboard (unconfirmed); {where}")
    subject = what[:1].upper() + what[1:]
    if saved is None:
        reason = "too long for the terminal's clipboard" if too_long else "no clipboard available"
        return Delivery("failed", None, f"Could not copy or save {what} ({size}): {reason}; not saved: {save_error}.",
                        warning, f"Not copied ({reason}) and not saved: {save_error}.")
    if too_long:
        return Delivery("saved", saved, f"{subject} ({size}) is too long for the terminal's clipboard: saved as "
                        f"{shown} (no clipboard available).", warning,
                        f"Too long for the terminal's clipboard: saved in {_shown(root, saved.parent)}/.")
    return Delivery("saved", saved, f"Saved {what} ({size}) to {shown} (no clipboard available).", warning,
                    f"No clipboard here: saved in {_shown(root, saved.parent)}/.")
