"""The command line's parser and dispatch: `liferaft [DIR]` opens the workbench; sub-commands do each pane's
work headlessly, one module each in :mod:`liferaft.cli.commands`.

Exit codes (:mod:`liferaft.cli.io`): 0 success, 1 a command that ran but failed, 2 a usage error or an unusable
folder. Errors are one line on stderr, never a traceback (set LIFERAFT_DEBUG=1 to see one).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from liferaft import __version__
from liferaft.cli.commands import (
    check,
    checkpoint,
    demo,
    diagnose,
    import_,
    init,
    note,
    open_,
    prepare,
    prompt,
    replay,
    scan,
    status,
)
from liferaft.cli.io import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_SIGNAL_BASE,
    EXIT_USAGE,
    UsageError,
    err,
    tolerate_narrow_encodings,
)
from liferaft.cli.signals import Interrupted, handle_stop_signals, restore_signals
from liferaft.core.project import ProjectError

# Typing-only imports; `typing` itself costs ~2 ms at start-up, which `liferaft scan` is measured on.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, NoReturn

#: The sub-commands, in the order `liferaft --help` lists them: each with ``add_parser`` and ``run``.
_COMMANDS = {
    "open": open_, "init": init, "demo": demo, "scan": scan, "check": check, "prepare": prepare, "note": note,
    "prompt": prompt, "checkpoint": checkpoint, "status": status, "diagnose": diagnose, "import": import_,
    "replay": replay,
}
COMMANDS = tuple(_COMMANDS)

#: What runs each sub-command (a test may put its own in).
HANDLERS: dict[str, Callable[[argparse.Namespace], int]] = {name: module.run for name, module in _COMMANDS.items()}


def _help_formatter(prog: str) -> argparse.HelpFormatter:
    # argparse's default formatter imports shutil just to learn the width; os answers the same question.
    try:
        width = os.get_terminal_size(sys.stdout.fileno()).columns
    except (OSError, ValueError):
        width = int(os.environ.get("COLUMNS", "0") or 0) or 80
    return argparse.HelpFormatter(prog, width=max(40, min(width, 100)) - 2)


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _help_formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="liferaft",
        description=(
            "A terminal workbench for long ChatGPT data analyses: it keeps the project folder, the restart "
            "note and the rerun prompt ready for when the chat's sandbox expires."
        ),
        epilog="Run `liferaft COMMAND --help` for a command's options. `liferaft DIR` is `liferaft open DIR`.",
    )
    parser.add_argument("--version", action="version", version=f"liferaft {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for module in _COMMANDS.values():
        module.add_parser(subparsers)
    return parser


def _normalise_argv(argv: list[str]) -> list[str]:
    """Make `open` the default command: `liferaft`, `liferaft DIR`, `liferaft DIR --flag`."""
    if argv and argv[0] in ("-h", "--help", "--version"):
        return argv
    first_positional = next((arg for arg in argv if not arg.startswith("-")), None)
    if first_positional == "check":
        return check.normalise_argv(argv)
    if first_positional in COMMANDS:
        return argv
    return ["open", *argv]


def _project_folder(args: argparse.Namespace) -> Path | None:
    """The project folder the command works on, for the sweep of stale temporary files; None when it takes none
    (the workbench sweeps when it opens, the demo tidies its own folder)."""
    command = args.command
    if command in ("open", "demo"):
        return None
    if (command == "scan" and args.inspect is not None) or (command == "check" and args.fetch_tokenizer) \
            or (command in ("prompt", "import") and args.list):
        return None
    folder = args.into if command == "import" else getattr(args, "dir", None)
    return Path(folder).expanduser() if folder else None


def _sweep_leftovers(args: argparse.Namespace) -> None:
    """Remove the temporary files a killed Liferaft left in the project (older than a minute); what remains is
    kept on ``args.leftovers`` for `status`. Never fails the command."""
    folder = _project_folder(args)
    if folder is None or not folder.is_dir():
        return
    also = []
    if args.command == "prepare" and args.file.strip():
        file = Path(args.file).expanduser()
        also.append((file if file.is_absolute() else folder / file).parent / "prepared")
    try:
        from liferaft.core.leftovers import sweep_leftovers

        args.leftovers = sweep_leftovers(folder, also=also)
    except Exception:  # tidying up must never stand in the way of the command
        if os.environ.get("LIFERAFT_DEBUG"):
            raise


def main(argv: Sequence[str] | None = None, *, open_workbench: Callable[..., int] | None = None) -> int:
    """The command line; returns the exit code. ``open_workbench`` runs the workbench for `liferaft DIR` and
    `liferaft demo` (the CLI never imports the TUI itself: the `liferaft` command, :mod:`liferaft._launch`,
    hands it in); without it those two say the workbench cannot open from here."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    tolerate_narrow_encodings()
    previous = handle_stop_signals()
    try:
        args = _build_parser().parse_args(_normalise_argv(args_list))
        if getattr(args, "dir", None) == "":
            raise UsageError("the folder name is empty: give a folder, or leave it out for the current one")
        if args.command in ("open", "demo"):
            restore_signals(previous)  # the workbench has its own way out, and restores the terminal
        _sweep_leftovers(args)
        args.open_workbench = open_workbench
        return HANDLERS[args.command](args)
    except UsageError as exc:
        err(str(exc))
        return EXIT_USAGE
    except ProjectError as exc:
        err(str(exc))
        return EXIT_USAGE
    except KeyboardInterrupt as exc:
        import contextlib

        with contextlib.suppress(OSError):  # the terminal is gone (SIGHUP): nobody to tell
            err("interrupted")
        return EXIT_SIGNAL_BASE + exc.signum if isinstance(exc, Interrupted) else EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`liferaft scan | head`): not an error worth a message.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except OSError as exc:
        if os.environ.get("LIFERAFT_DEBUG"):
            raise
        where = f" ({exc.filename})" if exc.filename else ""
        err(f"{exc.strerror or exc}{where}")
        return EXIT_FAILED
    except Exception as exc:  # the last line of defence: one line, not a traceback
        if os.environ.get("LIFERAFT_DEBUG"):
            raise
        err(f"unexpected error: {exc.__class__.__name__}: {exc} (set LIFERAFT_DEBUG=1 for details; please report it)")
        return EXIT_FAILED
    finally:
        try:
            _restore_when_done(previous)
        except KeyboardInterrupt:  # it fired as the call began, before the function's own guard (seen in CI)
            _restore_when_done(previous)


def _restore_when_done(previous: dict[int, Any]) -> None:
    """Put the signal handlers back once the command is over. A stop signal held back while the command was in
    lock code can fire here, after the command has finished: it is too late to stop anything, so the command's
    own result stands (it used to escape as a traceback)."""
    for _attempt in range(5):
        try:
            restore_signals(previous)
            return
        except KeyboardInterrupt:
            continue
