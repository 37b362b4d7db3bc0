"""`liferaft checkpoint [DIR]`: record a checkpoint (every file's size, time and content hash, plus the restart
note) and say what it bought; `--list` and `--diff A B` show them."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from liferaft.cli.commands import DIR_HELP
from liferaft.cli.io import EXIT_FAILED, EXIT_OK, StderrProgress, UsageError, err, percent, printable
from liferaft.core.units import format_count


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    cmd = subparsers.add_parser(
        "checkpoint", help="record a checkpoint: every file's size, time and content hash, and the restart note")
    cmd.add_argument("dir", nargs="?", default=".", metavar="DIR", help=DIR_HELP)
    cmd.add_argument("-m", "--message", default="", metavar="MESSAGE", help="what this step was (e.g. 'cleaning')")
    action = cmd.add_mutually_exclusive_group()
    action.add_argument("--list", action="store_true", help="list the checkpoints instead")
    action.add_argument("--diff", nargs=2, type=int, metavar=("A", "B"),
                        help="show what changed between checkpoints A and B (by number, see --list)")


def run(args: argparse.Namespace) -> int:
    from liferaft.core import checkpoints as cp
    from liferaft.core.operations import checkpoint_project
    from liferaft.core.project import check_folder, open_project

    root = check_folder(Path(args.dir))
    if args.list or args.diff:
        checkpoints, warnings = cp.load_checkpoints(root)
        for warning in warnings:
            err(f"warning: {warning}")
        if args.list:
            if not checkpoints:
                print("No checkpoints yet: `liferaft checkpoint -m MESSAGE` records one.")
                return EXIT_OK
            for checkpoint in checkpoints:
                message = f"  {printable(checkpoint.message)}" if checkpoint.message else ""
                print(f"{checkpoint.number:>3}  {checkpoint.iso_time}  {format_count(len(checkpoint.files), 'file')}"
                      f"{message}")
            print(f"A lost session now costs about {percent(cp.rework_percent(len(checkpoints)))} of the work.")
            return EXIT_OK
        by_number = {checkpoint.number: checkpoint for checkpoint in checkpoints}
        a, b = args.diff
        for number in (a, b):
            if number not in by_number:
                known = ", ".join(str(n) for n in by_number) or "none yet"
                raise UsageError(f"no checkpoint {number}; there are: {known}")
        changes = cp.diff(by_number[a], by_number[b], by_hash=True)
        if not changes:
            print(f"Nothing changed between checkpoints {a} and {b}.")
            return EXIT_OK
        for label, paths in (("added  ", changes.added), ("removed", changes.removed), ("changed", changes.changed)):
            for path in paths:
                print(f"{label}  {printable(path)}")
        print(f"{format_count(changes.count, 'file')} changed between checkpoints {a} and {b}.")
        return EXIT_OK
    project = open_project(root)
    for warning in project.warnings:
        err(f"warning: {warning}")
    progress = StderrProgress("hashing", piped_every=5.0)
    try:
        outcome = checkpoint_project(project.root, project.inventory, args.message, now=time.time(),
                                     progress=progress)
    except cp.CheckpointError as exc:
        progress.finish()
        err(f"no checkpoint saved: {exc}")
        return EXIT_FAILED
    progress.finish()
    checkpoint = outcome.checkpoint
    for warning in checkpoint.warnings:
        err(f"warning: {warning}")
    for path, why in checkpoint.skipped.items():
        err(f"not in the checkpoint: {printable(path)} ({why})")
    for path in checkpoint.changing:
        err(f"{printable(path)} was changing while it was read: recorded without a hash (checkpoint again when it "
             "is done)")
    print(outcome.message)
    return EXIT_OK
