"""`liferaft [open] [DIR]`: the workbench on DIR (the default command); `--reveal` shows DIR (or a file) in the
file manager instead, as the workbench's `e` does."""

from __future__ import annotations

import argparse
from pathlib import Path

from liferaft.cli.commands import DIR_HELP
from liferaft.cli.io import EXIT_FAILED, EXIT_OK, UsageError, err, printable


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    cmd = subparsers.add_parser("open", help="open the workbench on DIR (the default command)")
    cmd.add_argument("dir", nargs="?", default=".", metavar="DIR", help=DIR_HELP)
    # For CI and benchmarks: quit as soon as the first frame is drawn; --headless draws to no terminal.
    cmd.add_argument("--first-frame-exit", action="store_true", help=argparse.SUPPRESS)
    cmd.add_argument("--headless", action="store_true", help=argparse.SUPPRESS)
    cmd.add_argument("--poll", action="store_true",
                     help="watch the folder by polling (for network drives, WSL's /mnt/c, Docker mounts)")
    cmd.add_argument("--reveal", action="store_true",
                     help="show DIR (or a file, given as DIR) in the file manager instead of opening the workbench")


def run(args: argparse.Namespace) -> int:
    from liferaft.core.project import ProjectLoader, check_folder

    if getattr(args, "reveal", False):
        return _reveal(Path(args.dir))
    root = check_folder(Path(args.dir))
    opener = args.open_workbench
    if opener is None:
        raise UsageError("the workbench opens from the `liferaft` command; this entry point runs sub-commands only")
    from liferaft.core.pace import give_way

    # It scans while Textual is imported (~0.15 s), and keeps out of the way of the first keys if it is slow.
    loader = ProjectLoader(root, give_way=give_way)
    return int(opener(root, first_frame_exit=args.first_frame_exit, headless=args.headless, loader=loader,
                      watch=not args.first_frame_exit, poll=args.poll))


def _reveal(target: Path) -> int:
    from liferaft.core.operations import reveal

    if not target.exists():
        raise UsageError(f"{target} does not exist")
    done = reveal(target.absolute())
    if not done.opened:
        err(f"cannot open a file manager here ({done.problem}); the folder is {printable(str(done.folder))}")
        return EXIT_FAILED
    print(f"Opened {printable(str(done.folder))} in the file manager.")
    return EXIT_OK
