"""`liferaft [open] [DIR]`: the workbench on DIR (the default command)."""

from __future__ import annotations

import argparse
from pathlib import Path

from liferaft.cli.commands import DIR_HELP
from liferaft.cli.io import UsageError


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    cmd = subparsers.add_parser("open", help="open the workbench on DIR (the default command)")
    cmd.add_argument("dir", nargs="?", default=".", metavar="DIR", help=DIR_HELP)
    # For CI and benchmarks: quit as soon as the first frame is drawn; --headless draws to no terminal.
    cmd.add_argument("--first-frame-exit", action="store_true", help=argparse.SUPPRESS)
    cmd.add_argument("--headless", action="store_true", help=argparse.SUPPRESS)
    cmd.add_argument("--poll", action="store_true",
                     help="watch the folder by polling (for network drives, WSL's /mnt/c, Docker mounts)")


def run(args: argparse.Namespace) -> int:
    from liferaft.core.project import ProjectLoader, check_folder

    root = check_folder(Path(args.dir))
    opener = args.open_workbench
    if opener is None:
        raise UsageError("the workbench opens from the `liferaft` command; this entry point runs sub-commands only")
    loader = ProjectLoader(root)  # scans while Textual is imported (~0.15 s)
    return int(opener(root, first_frame_exit=args.first_frame_exit, headless=args.headless, loader=loader,
                      watch=not args.first_frame_exit, poll=args.poll))
