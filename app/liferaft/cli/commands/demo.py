"""`liferaft demo [DIR]`: write the demo project and open it; run again, it opens the demo as you left it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from liferaft.cli.io import EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError, err, printable

# Typing-only imports; `typing` itself costs ~2 ms at start-up, which `liferaft scan` is measured on.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    cmd = subparsers.add_parser(
        "demo", help="write the demo project and open it; run again, it opens the demo as you left it")
    cmd.add_argument(
        "dir", nargs="?", default=None, metavar="DIR",
        help="where to write it (default: a folder in your user data directory); an existing demo there is "
        "opened as it is",
    )
    cmd.add_argument("--no-open", action="store_true", help="write the demo but do not open the workbench")
    cmd.add_argument("--reset", action="store_true",
                     help="rewrite the demo's own files (your edits to them are lost; nothing else is touched); "
                     "it lists them and asks first")
    cmd.add_argument("--yes", action="store_true", help="with --reset: do not ask (needed when not on a terminal)")


def run(args: argparse.Namespace) -> int:
    from liferaft.core.demo import DemoError, demo_status, write_demo

    target = Path(args.dir).expanduser() if args.dir else _default_demo_dir()
    if args.yes and not args.reset:
        raise UsageError("--yes only goes with --reset")
    shown = printable(str(target))

    def progress(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    try:
        status = demo_status(target, edits=args.reset) if target.is_dir() else None  # hashing: only for --reset
        if status is None:
            result = write_demo(target, progress=progress)
            print(f"Demo project written: {printable(str(result.root))}")
        elif not args.reset:
            if status.missing:
                write_demo(target, progress=progress, missing_only=True)
                print(f"Demo project at {shown}: wrote back its missing "
                      f"{'file' if len(status.missing) == 1 else 'files'} {', '.join(status.missing)}; "
                      "everything else is as you left it.")
            else:
                print(f"Demo project at {shown}: opening it as you left it "
                      f"(`liferaft demo{_demo_dir_arg(args)} --reset` rewrites its files).")
        else:
            if not _confirm_reset(target, status, args):
                print("Nothing replaced.")
                return EXIT_FAILED
            write_demo(target, progress=progress)
            print(f"Demo project reset: {shown}")
    except DemoError as exc:
        err(str(exc))
        return EXIT_USAGE
    if args.no_open:
        return EXIT_OK
    if args.open_workbench is None:
        from liferaft.core.shell import quote_arg

        print(f"Open it with: liferaft {quote_arg(shown)}")
        return EXIT_OK
    return int(args.open_workbench(target, watch=True))


def _default_demo_dir() -> Path:
    import platformdirs

    return platformdirs.user_data_path("liferaft", appauthor=False) / "demo"


def _demo_dir_arg(args: argparse.Namespace) -> str:
    if not args.dir:
        return ""
    from liferaft.core.shell import quote_arg

    return " " + quote_arg(printable(args.dir))


def _confirm_reset(target: Path, status: Any, args: argparse.Namespace) -> bool:
    """Say what `demo --reset` replaces (and what it keeps), then ask; without a terminal --yes is needed."""
    changed = status.changed
    edited = [name for name in status.present if changed is not None and name in changed]
    if not args.yes and not sys.stdin.isatty():
        what = f", {len(edited)} of them changed by you ({', '.join(edited)})" if edited else ""
        raise UsageError(f"--reset would replace the demo's {len(status.present)} files in {printable(str(target))}"
                         f"{what}: add --yes to do it without a terminal (nothing changed)")
    print(f"--reset rewrites the demo's own files in {printable(str(target))}:")
    for name in status.present:
        note = "  (changed since the demo wrote it: your edits are lost)" if name in edited else ""
        print(f"  {name}{note}")
    for name in status.missing:
        print(f"  {name}  (missing: written again)")
    if changed is None:
        print("Liferaft cannot tell which of them you changed (this demo was written by an older version).")
    prepared = sorted({str(Path(name).parent / "prepared") for name in status.present
                       if (target / Path(name).parent / "prepared").is_dir()})
    kept = "Everything else stays as it is: your own files, .liferaft/ (checkpoints, roles, the session clock)"
    print(kept + (f", and the copies in {', '.join(prepared)} (out of date once the originals are rewritten: "
                  "prepare them again)." if prepared else "."))
    if args.yes:
        return True
    try:
        answer = input("Replace them? [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")
