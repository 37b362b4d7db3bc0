"""`liferaft diagnose`: placeholder, being written."""

from __future__ import annotations

import argparse


def add_parser(commands: argparse._SubParsersAction, dir_help: str) -> None:  # type: ignore[type-arg]
    commands.add_parser("diagnose", help="(being written)")


def run(args: argparse.Namespace) -> int:
    return 2
