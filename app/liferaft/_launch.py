"""The `liferaft` command's first step, before anything else is imported.

The workbench runs for hours and may watch tens of thousands of files come and go. Python's own small-object
allocator keeps a 1 MiB arena as long as one object in it lives, so after such a burst a few thousand
long-lived objects (render caches, notes) pin most of the memory the burst used: 50,000 files written and
removed left the workbench at ~1.8× its memory before. On the C library's ``malloc`` (glibc), the same burst
settles within ~1.2× once Liferaft asks it to trim (:mod:`liferaft.core.memory`). Python reads that choice
(``PYTHONMALLOC``) only when it starts, so on Linux with glibc the workbench commands start Python once more
with it set: one more interpreter start (~20 ms), before any module of Liferaft is loaded.

Every other command runs at once. ``LIFERAFT_PYTHONMALLOC=keep`` turns this off; a ``PYTHONMALLOC`` already set
is always kept.
"""

from __future__ import annotations

import os
import sys

# Typing-only imports: this module runs before anything else, and `typing` costs start-up time.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

#: Commands that are not the workbench (the first word that is not an option); anything else opens it.
_OTHER_COMMANDS = frozenset(
    {"init", "scan", "check", "prepare", "note", "prompt", "checkpoint", "status", "diagnose", "import", "replay"}
)
_MARK = "LIFERAFT_PYTHONMALLOC"


def _opens_the_workbench(argv: list[str]) -> bool:
    if any(arg in ("-h", "--help", "--version", "--reveal") for arg in argv):
        return False
    first = next((arg for arg in argv if not arg.startswith("-")), None)
    return first not in _OTHER_COMMANDS


def _glibc() -> bool:
    try:
        return bool(os.confstr("CS_GNU_LIBC_VERSION"))
    except (AttributeError, ValueError, OSError):  # not a glibc system (musl, macOS, Windows)
        return False


def relaunch_args(argv: list[str], environ: dict[str, str] | os._Environ[str]) -> list[str] | None:
    """The command line to start again on the C allocator, or None to go on in this process."""
    if not sys.platform.startswith("linux") or "PYTHONMALLOC" in environ or environ.get(_MARK) == "keep":
        return None
    if not _opens_the_workbench(argv) or not _glibc():
        return None
    original = list(getattr(sys, "orig_argv", []) or [])
    if len(original) < 2 or not sys.executable:
        return None
    return [sys.executable, *original[1:]]


def main() -> int:
    """Entry point of the `liferaft` console script."""
    args = relaunch_args(sys.argv[1:], os.environ)
    if args is not None:
        # Two arenas at most: the workbench's worker threads would each get one, and free pages scattered over
        # many arenas are what trimming gives back least well.
        env = dict(os.environ, PYTHONMALLOC="malloc", **{_MARK: "keep"})
        env.setdefault("MALLOC_ARENA_MAX", "2")
        try:
            sys.stdout.flush()
            os.execve(sys.executable, args, env)
        except OSError:
            pass  # cannot start it again: run here, on Python's allocator
    from liferaft.cli import main as cli_main

    return cli_main(open_workbench=open_workbench)


def open_workbench(root: Path, **options: Any) -> int:
    """Run the workbench (the CLI's `liferaft DIR` and `liferaft demo` call this: the CLI never imports the TUI)."""
    from liferaft.tui.app import run_app

    code = run_app(root, **options)
    # The terminal is restored and every file Liferaft writes is written when it is written: leave now. A worker
    # still busy (an upload check of a large project, a scan) has nothing left to report, and tearing down the
    # objects of a 200,000-file project takes longer than the user should wait after ctrl+q.
    import contextlib

    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError, AttributeError):
            stream.flush()
    os._exit(code)
