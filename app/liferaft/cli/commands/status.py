"""`liferaft status [DIR]`: what would be lost if the sandbox died now; exit 0 when nothing is at risk, 1 when
something is."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from liferaft.cli.commands import DIR_HELP
from liferaft.cli.io import EXIT_AT_RISK, EXIT_OK, err, percent, printable, write_utf8
from liferaft.core.units import format_count

#: How far back `liferaft status` looks in the downloads folder for outputs: the sandbox's lifetime.
DOWNLOADS_WINDOW = 13 * 3600


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    cmd = subparsers.add_parser(
        "status", help="what is at risk now: outputs not checkpointed, outputs never saved, matching downloads")
    cmd.add_argument("dir", nargs="?", default=".", metavar="DIR", help=DIR_HELP)
    cmd.add_argument("--json", action="store_true", help="print JSON instead of a report")


def run(args: argparse.Namespace) -> int:
    from liferaft.core import checkpoints as cp
    from liferaft.core.config import load_settings
    from liferaft.core.operations import assess_risk
    from liferaft.core.project import check_folder, open_project
    from liferaft.core.risk import downloads_to_watch

    root = check_folder(Path(args.dir))
    leftovers = getattr(args, "leftovers", None)
    if leftovers is None:  # the command line sweeps before every command; called on its own, sweep here
        from liferaft.core.leftovers import sweep_leftovers

        leftovers = sweep_leftovers(root)
    project = open_project(root)
    warnings = list(project.warnings)
    settings = load_settings()
    warnings += settings.warnings
    report = assess_risk(project.root, project.inventory, downloads_dir=downloads_to_watch(settings.settings.other),
                         since=time.time() - DOWNLOADS_WINDOW)
    risk, absent_uploads = report.risk, report.missing_uploads
    warnings += risk.warnings
    for warning in warnings:
        err(f"warning: {warning}")
    if args.json:
        import json

        data = report.to_json()
        if leftovers.remaining:
            data["temp_files"] = {"count": leftovers.remaining, "bytes": leftovers.held}
        write_utf8(json.dumps(data, ensure_ascii=False) + "\n")
        return EXIT_AT_RISK if risk.at_risk else EXIT_OK
    if risk.unsaved_outputs:
        print(f"Not checkpointed ({len(risk.unsaved_outputs)}):")
        for item in risk.unsaved_outputs:
            print(f"  {printable(item.path or item.name)}  {item.reason}")
    if risk.missing_outputs:
        print(f"Missing from OUTPUT ({len(risk.missing_outputs)}):")
        for item in risk.missing_outputs:
            print(f"  {printable(item.name)}  {item.reason} (named in: {printable(', '.join(item.sources))})")
    if absent_uploads:
        print(f"Uploads not in SOURCE ({len(absent_uploads)}):")
        for upload in absent_uploads:
            print(f"  {printable(upload['name'])}  used by the chat: put it back before rerunning "
                  f"(named in: {printable(', '.join(upload['sources']))})")
    if risk.downloads:
        print(f"In Downloads ({len(risk.downloads)}):")
        for item in risk.downloads:
            print(f"  {printable(item.path or item.name)}  {item.reason}")
    if risk.checkpoints:
        print(f"{format_count(risk.checkpoints, 'checkpoint')}, the last at {risk.last_checkpoint}; a lost session "
              f"now costs about {percent(cp.rework_percent(risk.checkpoints))} of the work.")
    else:
        print("No checkpoint yet: `liferaft checkpoint -m MESSAGE` records one.")
    if not risk.at_risk:
        print("Nothing at risk: every output is saved and checkpointed.")
    if leftovers.remaining:
        from liferaft.core.units import format_size

        print(f"Liferaft's hidden temporary files hold {format_size(leftovers.held)} "
              f"({format_count(leftovers.remaining, 'file')}): a write in progress, or one stopped less than a "
              "minute ago; the next command removes them once they are a minute old.")
    return EXIT_AT_RISK if risk.at_risk else EXIT_OK
