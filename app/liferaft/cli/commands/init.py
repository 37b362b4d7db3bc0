"""`liferaft init [DIR]`: the project's folders and a restart-note template; nothing is ever overwritten."""

from __future__ import annotations

import argparse
from pathlib import Path

from liferaft.cli.io import EXIT_OK


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    cmd = subparsers.add_parser(
        "init", help="create SOURCE/ CODE/ OUTPUT/ RESTART/ and a restart-note template (never overwrites)"
    )
    cmd.add_argument("dir", nargs="?", default=".", metavar="DIR", help="the folder to set up (created if missing)")


def run(args: argparse.Namespace) -> int:
    from liferaft.core.project import init_project

    result = init_project(Path(args.dir))
    for item in result.created:
        print(f"created  {item}")
    for item in result.kept:
        print(f"kept     {item} (already there)")
    if not result.created:
        print("Nothing to do: the project is already set up.")
    return EXIT_OK
